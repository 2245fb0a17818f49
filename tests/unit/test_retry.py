"""Retry with jitter: exponential, capped, spread per message, yet known exactly for one message."""

from __future__ import annotations

import hashlib
from datetime import timedelta

import pytest

from adapters.notify.base import LogSettings
from engine.errors import ValidationError
from engine.outbox import Channel, dispatch
from engine.runtime import Retry
from engine.testing import DEFAULT_START, ManualClock, memory_engine


def test_without_jitter_the_delay_doubles_up_to_the_cap() -> None:
    """60 s, 120 s, 240 s, ... and never above max_seconds (here 300 s from the 4th failure on)."""
    retry = Retry(max_attempts=9, base_seconds=60, max_seconds=300)
    assert [retry.delay(n, "kntc-portal-1") for n in range(1, 6)] == [60.0, 120.0, 240.0, 300.0, 300.0]


def test_jitter_keeps_each_delay_in_its_window_and_is_the_same_for_the_same_message() -> None:
    """jitter 0.2: the n-th delay lies in [0.8 d, 1.2 d]; asking again for the same key gives the same."""
    retry = Retry(max_attempts=9, base_seconds=30, max_seconds=3600, jitter=0.2)
    for key in (f"kntc-portal-{i}" for i in range(200)):
        for attempts, plain in ((1, 30.0), (2, 60.0), (3, 120.0), (7, 1920.0), (8, 3600.0), (9, 3600.0)):
            got = retry.delay(attempts, key)
            assert plain * 0.8 <= got <= plain * 1.2, (key, attempts, got)
            assert retry.delay(attempts, key) == got


def test_jitter_spreads_the_retries_of_messages_that_failed_together() -> None:
    """200 messages failing at once do not come back at one instant: both halves of the window are used."""
    retry = Retry(base_seconds=60, jitter=0.25)
    delays = [retry.delay(1, f"kntc-portal-{i}") for i in range(200)]
    assert len(set(delays)) == 200
    assert sum(d < 60 for d in delays) > 50 and sum(d > 60 for d in delays) > 50
    assert min(delays) < 50 and max(delays) > 70  # the window is [45, 75]


def test_the_jitter_factor_is_blake2b_of_attempts_and_salt() -> None:
    """The documented derivation, recomputed here: 53 bits of BLAKE2b-64 of "attempts:salt" -> [0, 1)."""
    digest = hashlib.blake2b(b"3:kntc-portal-42", digest_size=8).digest()
    unit = (int.from_bytes(digest, "big") >> 11) / 2.0 ** 53
    # 3rd failure: 10 * 2**2 = 40 s, times 1 + 0.5 * (2 * unit - 1)
    assert Retry(base_seconds=10, jitter=0.5).delay(3, "kntc-portal-42") == 40.0 * (1 + 0.5 * (2 * unit - 1))


@pytest.mark.parametrize("jitter", [-0.1, 1.0, 1.5])
def test_a_jitter_outside_zero_to_one_is_refused(jitter: float) -> None:
    with pytest.raises(ValidationError, match=r"^jitter: must be at least 0 and below 1"):
        Retry(jitter=jitter)


def test_channel_settings_carry_their_jitter_into_the_retry_policy() -> None:
    settings = LogSettings(id="log", kind="log", max_attempts=4, backoff_seconds=5, max_backoff_seconds=50,
                           jitter=0.3)
    assert settings.retry() == Retry(max_attempts=4, base_seconds=5, max_seconds=50, jitter=0.3)


def test_a_channel_with_its_own_policy_uses_it_instead_of_the_runtime_one() -> None:
    """The runtime allows 5 attempts 60 s apart; the channel's own policy: 2 attempts, 10 s apart, dead after."""
    clock = ManualClock(DEFAULT_START)
    eng = memory_engine(clock)
    rt = eng.runtime
    with rt.store.transaction() as tx:
        tx.enqueue("portal", "roster_gap", None, {"day": "02/03/2026"}, rt.now())

    def down(_message: object) -> None:
        raise ConnectionRefusedError("refused")

    channel = Channel("portal", down, retry=Retry(max_attempts=2, base_seconds=10))
    assert dispatch(rt, channel, holder="t").failed == 1
    with rt.store.reader() as tx:
        [pending] = tx.outbox(channel="portal")
    assert pending.next_attempt_at == rt.now() + timedelta(seconds=10)  # the channel's 10 s, not the runtime's 60
    clock.advance(timedelta(seconds=10))
    assert dispatch(rt, channel, holder="t").dead == 1

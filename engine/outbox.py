"""Delivering the outbox: each channel leased to one daemon, each message retried, never a stall.

A channel gets two kinds of traffic: the messages reactions queued for it (``Enqueue``), and, for
a channel that follows the feed (the ``log`` channel), every feed event after its cursor. Before
delivering, a daemon leases the channel (holder, until) in the database, so several daemons never
deliver the same message on one channel twice; the lease is renewed as delivery goes and given
back at the end. A delivery that raises is recorded (attempts, last error, next try with a
backoff) and delivery goes on with the next message; a feed event whose delivery raised becomes
a queued message of its own, so the feed cursor never waits for it. After the last attempt a
message is dead: listed by ``kntc outbox --status dead``, re-queued by ``kntc outbox retry ID``.

Guarantee: once per channel while the lease holds; at least once across crashes (a crash after a
delivery and before its commit delivers again, with the same idempotency key).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

from engine.errors import NotFound, ValidationError
from engine.logs import describe, get_logger
from engine.model import Event, OutboxMessage
from engine.runtime import Retry, Runtime

__all__ = ["Channel", "DispatchReport", "dispatch", "list_messages", "requeue"]

log = get_logger("outbox")
Deliver = Callable[[OutboxMessage], None]
#: Feed events delivered between two commits of the cursor (and renewals of the lease).
FEED_CHUNK = 50


@dataclass(frozen=True, slots=True)
class Channel:
    """An outbox channel: its name, how it delivers one message, whether it follows the feed.

    ``retry``: the channel's own retry policy (its settings' backoff, jitter and attempts); None:
    the runtime's. The jitter of a message's retries is salted with its idempotency key.
    """

    name: str
    deliver: Deliver
    follows_feed: bool = False
    retry: Retry | None = None


@dataclass(frozen=True, slots=True)
class DispatchReport:
    """What one dispatch of a channel did (``leased`` False: another daemon holds the channel)."""

    channel: str
    leased: bool
    delivered: int = 0
    failed: int = 0
    dead: int = 0


def feed_message(channel: str, event: Event) -> OutboxMessage:
    """A feed event as a message of ``channel`` (its key is stable: the channel and the seq)."""
    return OutboxMessage(id=-event.seq, channel=channel, kind=event.type, case_id=event.case_id,
                         data={**event.data, "seq": event.seq, "at": event.at.isoformat()}, status="pending",
                         attempts=0, last_error=None, next_attempt_at=None, created_at=event.at,
                         idempotency_key=f"kntc-{channel}-feed-{event.seq}")


def dispatch(rt: Runtime, channel: Channel, *, holder: str, lease_seconds: float = 60.0,
             limit: int = 500) -> DispatchReport:
    """Deliver what is due on ``channel`` if this ``holder`` gets its lease; see the module docstring."""
    lease = timedelta(seconds=lease_seconds)

    def renew() -> bool:
        now = rt.now()
        with rt.store.transaction() as tx:
            return tx.acquire_channel(channel.name, holder, now, now + lease)

    if not renew():
        return DispatchReport(channel.name, leased=False)
    delivered = failed = dead = 0
    try:
        now = rt.now()
        with rt.store.reader() as tx:
            due = tx.outbox(channel=channel.name, status="pending", due_at=now, limit=limit)
        for message in due:
            ok, is_dead, still_ours = _deliver_queued(rt, channel, message, holder, lease)
            delivered, failed, dead = delivered + ok, failed + (not ok), dead + is_dead
            if not still_ours:  # the lease passed to another daemon (a delivery outlasted it): stop here
                return DispatchReport(channel.name, leased=True, delivered=delivered, failed=failed, dead=dead)
        if channel.follows_feed:
            ok_feed, failed_feed = _deliver_feed(rt, channel, holder, lease, limit)
            delivered, failed = delivered + ok_feed, failed + failed_feed
    finally:
        with rt.store.transaction() as tx:
            tx.release_channel(channel.name, holder)
    return DispatchReport(channel.name, leased=True, delivered=delivered, failed=failed, dead=dead)


def _deliver_queued(rt: Runtime, channel: Channel, message: OutboxMessage, holder: str,
                    lease: timedelta) -> tuple[bool, bool, bool]:
    error = None
    try:
        channel.deliver(message)
    except Exception as exc:
        error = describe(exc)
    now = rt.now()
    attempts = message.attempts + (error is not None)
    retry = channel.retry or rt.retry
    is_dead = error is not None and retry.dead(attempts)
    with rt.store.transaction() as tx:
        still_ours = tx.acquire_channel(channel.name, holder, now, now + lease)
        if error is None:
            tx.update_message(message.id, status="sent", attempts=attempts, last_error=message.last_error,
                              next_attempt_at=None, sent_at=now)
        else:
            retry_at = None if is_dead else now + timedelta(seconds=retry.delay(attempts, message.key))
            tx.update_message(message.id, status="dead" if is_dead else "pending", attempts=attempts,
                              last_error=error, next_attempt_at=retry_at, sent_at=None)
    if error is not None:
        log.error("delivery_dead" if is_dead else "delivery_failed", channel=channel.name, message=message.id,
                  kind=message.kind, case_id=message.case_id, attempts=attempts, error=error)
    return error is None, is_dead, still_ours


def _deliver_feed(rt: Runtime, channel: Channel, holder: str, lease: timedelta, limit: int) -> tuple[int, int]:
    with rt.store.reader() as tx:
        events = tx.events(tx.outbox_cursor(channel.name), limit)
    delivered = failed = 0
    retry = channel.retry or rt.retry
    for start in range(0, len(events), FEED_CHUNK):
        chunk = events[start:start + FEED_CHUNK]
        failures: list[tuple[Event, str]] = []
        for event in chunk:
            try:
                channel.deliver(feed_message(channel.name, event))
                delivered += 1
            except Exception as exc:
                failures.append((event, describe(exc)))
        now = rt.now()
        with rt.store.transaction() as tx:
            for event, error in failures:  # retried as a queued message (same key): the cursor moves on
                message = feed_message(channel.name, event)
                tx.enqueue(channel.name, message.kind, message.case_id, message.data, now, attempts=1,
                           last_error=error, next_attempt_at=now + timedelta(seconds=retry.delay(1, message.key)),
                           key=message.key)
            tx.set_outbox_cursor(channel.name, chunk[-1].seq)
            still_ours = tx.acquire_channel(channel.name, holder, now, now + lease)
        for event, error in failures:
            log.error("delivery_failed", channel=channel.name, seq=event.seq, kind=event.type,
                      case_id=event.case_id, attempts=1, error=error)
        failed += len(failures)
        if not still_ours:  # the lease passed to another daemon: it goes on from the cursor
            break
    return delivered, failed


def list_messages(rt: Runtime, status: str | None = None, limit: int = 100) -> list[OutboxMessage]:
    """Outbox messages (all, or ``pending`` / ``sent`` / ``dead``), oldest first."""
    if status is not None and status not in ("pending", "sent", "dead"):
        raise ValidationError("status", f"must be pending, sent or dead, got {status!r}")
    with rt.store.reader() as tx:
        return tx.outbox(status=status, limit=limit)


def requeue(rt: Runtime, message_id: int) -> OutboxMessage:
    """Put a dead (or pending) message back in line, due now, its attempts counted from zero."""
    with rt.store.transaction() as tx:
        found = next((m for m in tx.outbox(limit=1, message_id=message_id)), None)
        if found is None:
            raise NotFound("outbox message", str(message_id))
        if found.status == "sent":
            raise ValidationError("id", f"message {message_id} was delivered already")
        tx.update_message(message_id, status="pending", attempts=0, last_error=found.last_error,
                          next_attempt_at=rt.now(), sent_at=None)
    return found

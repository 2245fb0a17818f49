"""``kntc outbox``: an operator sees a dead message with its error and queues it again (a real process)."""

from __future__ import annotations

import json
import os
import subprocess
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from adapters.bootstrap import build
from adapters.config import Settings
from engine.outbox import Channel, dispatch
from engine.runtime import Retry
from engine.service import Engine
from engine.testing import ManualClock
from tests.integration.test_cli import KNTC, ROOT, TIMEOUT

pytestmark = pytest.mark.slow
TZ = ZoneInfo("Asia/Ho_Chi_Minh")


def kntc(url: str, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "KNTC_DATABASE_URL": url}
    return subprocess.run([*KNTC, *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=TIMEOUT,
                          check=False)


def test_a_dead_message_is_listed_with_its_error_and_can_be_queued_again(tmp_path: Path, settings: Settings) -> None:
    """After its last failed try a message shows as dead with the error; `outbox retry ID` makes it pending."""
    url = f"sqlite:///{tmp_path / 'kntc.db'}"
    clock = ManualClock(datetime(2026, 3, 2, 9, 0, tzinfo=TZ))
    built = build(settings, database_url=url, clock=clock)
    rt = built.runtime
    engine = Engine(store=rt.store, workflows=rt.workflows, calendar=rt.calendar, clock=clock,
                    retry=Retry(max_attempts=1))
    with rt.store.transaction() as tx:
        tx.enqueue("mail", "crowded_case", None, {"group": 7}, clock.now())

    def down(_message: object) -> None:
        raise ConnectionRefusedError("127.0.0.1:2525 refused")

    assert dispatch(engine.runtime, Channel("mail", down), holder="test").dead == 1
    built.close()
    listed = kntc(url, "outbox", "--status", "dead")
    assert listed.returncode == 0, listed.stderr
    assert listed.stdout.split()[:5] == ["1", "dead", "mail", "crowded_case", "-"]
    assert "last error: ConnectionRefusedError: 127.0.0.1:2525 refused" in listed.stdout
    retried = kntc(url, "outbox", "retry", "1", "--json")
    assert retried.returncode == 0, retried.stderr
    assert json.loads(retried.stdout) == {"id": 1, "status": "pending"}
    [row] = [json.loads(line) for line in kntc(url, "outbox", "--json").stdout.splitlines()]
    assert (row["status"], row["attempts"]) == ("pending", 0)
    missing = kntc(url, "outbox", "retry", "99")
    assert (missing.returncode, missing.stderr.strip()) == (1, "kntc: error: unknown outbox message: '99'")

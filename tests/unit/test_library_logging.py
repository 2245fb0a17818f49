"""Library manners (DESIGN.md §2): embedded in a portal, kntc prints nothing; its log lines go to stdlib logging."""

from __future__ import annotations

import logging
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest

from engine.logs import get_logger
from engine.testing import memory_engine

ROOT = Path(__file__).resolve().parents[2]

PORTAL = """
from datetime import timedelta
from engine.testing import memory_engine
eng = memory_engine()
case = eng.open_case("complaint", received_at=eng.clock.now(), petitioners=[{"name": "A"}],
                     respondent="R", subject="S")
eng.clock.advance(timedelta(days=40))
report = eng.tick()
assert report.events > 0, report
"""


def test_a_host_that_configures_nothing_sees_nothing_on_stdout(tmp_path: Path) -> None:
    """A fresh process opening a case and ticking through warnings and overdue notices writes nothing at all."""
    done = subprocess.run([sys.executable, "-c", PORTAL], cwd=tmp_path, capture_output=True, text=True,
                          timeout=120, check=False, env={"PYTHONPATH": str(ROOT), "KNTC_CACHE_DIR": str(tmp_path)})
    assert done.returncode == 0, done.stderr
    assert done.stdout == ""
    assert done.stderr == ""


def test_log_lines_reach_the_hosts_stdlib_handler(capfd: pytest.CaptureFixture[str],
                                                   caplog: pytest.LogCaptureFixture) -> None:
    """With a handler on the ``kntc`` logger, the tick's info line arrives as a stdlib record with its fields."""
    eng = memory_engine(workflows=ROOT / "workflows")
    eng.open_case("complaint", received_at=eng.clock.now(), petitioners=[{"name": "A"}], respondent="R",
                  subject="S")
    eng.clock.advance(timedelta(days=40))
    with caplog.at_level(logging.INFO, logger="kntc"):
        eng.tick()
        get_logger("portal_test").info("hello", case_count=1)
    ticks = [r for r in caplog.records if r.name == "kntc.tick"]
    assert ticks and ticks[0].getMessage().startswith("tick ")
    assert ticks[0].kntc_fields["events"] > 0  # type: ignore[attr-defined]
    hello = [r for r in caplog.records if r.name == "kntc.portal_test"]
    assert hello[0].getMessage() == "hello case_count=1"
    assert capfd.readouterr().out == ""

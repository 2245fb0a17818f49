"""``kntc identity reveal`` and ``kntc secrets rotate|new-key`` as a user runs them (a real process, SQLite).

A director's reveal prints the denouncer; a clerk's is one ``kntc: error:`` line naming the role,
without the name; both are in ``kntc case history``. ``secrets rotate`` after a new key is put first
re-seals every party (progress on stderr), a second run has nothing to do, and the old key can go.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from adapters.secrets import ENV, PartyCipher, generate_key
from engine.testing import ManualClock
from tests.integration.cli_runner import kntc, ok, refused

DENOUNCER = {"name": "Vũ Thị Thanh Xuânqz", "id_number": "031299006677"}


def seeded(tmp_path: Path, settings: Any, clock: ManualClock, count: int = 1) -> tuple[Path, list[str]]:
    """A SQLite file with ``count`` denunciations by the denouncer."""
    from adapters.bootstrap import build
    db = tmp_path / "kntc.db"
    eng = build(settings, database_url=f"sqlite:///{db}", clock=clock)
    try:
        ids = [eng.open_case("denunciation", received_at=clock.now(), petitioners=[DENOUNCER],
                             respondent="UBND xã B", subject="Tố cáo").id for _ in range(count)]
    finally:
        eng.close()
    return db, ids


def test_reveal_prints_for_a_director_and_refuses_a_clerk(tmp_path: Path, settings: Any, clock: ManualClock,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(ENV, generate_key())
    db, (case_id,) = seeded(tmp_path, settings, clock)
    shown = ok(kntc(db, "identity", "reveal", case_id, "--reason", "xác minh", "--actor", "gd-1", "--role", "director"))
    assert shown.splitlines() == [f"1. name={DENOUNCER['name']}  id_number={DENOUNCER['id_number']}"]
    as_json = ok(kntc(db, "identity", "reveal", case_id, "--reason", "lần hai", "--actor", "gd-1", "--role",
                      "director", "--json"))
    assert json.loads(as_json) == DENOUNCER
    line = refused(kntc(db, "identity", "reveal", case_id, "--reason", "tò mò", "--actor", "cb-2", "--role", "clerk"))
    assert "'clerk' may not reveal" in line and DENOUNCER["name"] not in line
    history = ok(kntc(db, "case", "history", case_id))
    assert [ln.split()[2] for ln in history.splitlines()] == [
        "opened:", "identity.revealed:", "identity.revealed:", "identity.reveal_refused:"]
    assert DENOUNCER["name"] not in history and "tò mò" in history
    missing = refused(kntc(db, "identity", "reveal", case_id, "--actor", "gd-1", "--role", "director"))
    assert "--reason" in missing


def test_rotate_reseals_every_party_with_the_first_key(tmp_path: Path, settings: Any, clock: ManualClock,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    old = generate_key()
    monkeypatch.setenv(ENV, old)
    db, ids = seeded(tmp_path, settings, clock, count=3)
    new = ok(kntc(db, "secrets", "new-key")).strip()
    PartyCipher([new])  # a Fernet key
    monkeypatch.setenv(ENV, f"{new},{old}")
    run = kntc(db, "secrets", "rotate", "--page", "2")
    assert ok(run).strip() == "3 of 3 parties re-sealed with the first key"
    assert "2 parties seen, 2 re-sealed" in run.stderr and "3 parties seen, 3 re-sealed" in run.stderr
    assert json.loads(ok(kntc(db, "secrets", "rotate", "--json"))) == {"parties": 3, "resealed": 0}
    monkeypatch.setenv(ENV, new)
    for case_id in ids:
        shown = ok(kntc(db, "identity", "reveal", case_id, "--reason", "kết luận", "--actor", "gd-1", "--role",
                        "director", "--json"))
        assert json.loads(shown) == DENOUNCER
    monkeypatch.setenv(ENV, "not-a-key")
    assert refused(kntc(db, "secrets", "rotate")) == (f"kntc: error: {ENV}: key 1 is not a Fernet key (44 characters "
                                                      "of url-safe base64; `kntc secrets new-key` makes one)")

"""Revealing a denouncer's identity (``Engine.reveal_identity``), on every store; where the key comes from.

A denunciation's parties are returned to the roles its workflow's ``reveal_roles`` names
(head_of_unit, director), and the reveal is in the history (who, when, why) and the feed (who,
when); any other role is refused with NotAllowedError, and the refusal is recorded too. A
complaint's complainant is revealed to no role. ``get`` never carries a name. The key: a SQLite
file without ``KNTC_SECRET_KEY`` gets a key file beside it (0600, one warning, when made);
PostgreSQL without it opens no case with parties.
"""

from __future__ import annotations

import logging
import stat
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from adapters.secrets import ENV, generate_key, key_file_for, rotate_parties
from engine.errors import ConfigError, NotAllowedError, NotFound, ValidationError
from engine.service import Engine
from engine.testing import ManualClock

DENOUNCER = {"name": "Lê Thị Quỳnh Hoa", "id_number": "001190034567", "address": "12 Hàng Bạc, Hoàn Kiếm",
             "phone": "0912000111"}
WITNESS = {"name": "Phạm Văn Đức"}


@pytest.fixture(autouse=True)
def _key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(ENV, generate_key())


def denunciation(eng: Engine, clock: ManualClock, parties: list[dict[str, Any]] | None = None) -> str:
    case = eng.open_case("denunciation", received_at=clock.now(), petitioners=parties or [DENOUNCER, WITNESS],
                         respondent="Chủ tịch UBND xã A", subject="Tố cáo sai phạm đất đai", channel="post")
    return case.id


def test_an_allowed_role_gets_the_parties_and_the_reveal_is_recorded(engine: Engine, clock: ManualClock) -> None:
    case_id = denunciation(engine, clock)
    clock.advance(timedelta(hours=2))
    assert engine.reveal_identity(case_id, "truong-phong-1", "head_of_unit", "xác minh nội dung") == [
        DENOUNCER, WITNESS]
    *_, last = engine.history(case_id)
    assert (last.event, last.actor, last.role, last.payload) == (
        "identity.revealed", "truong-phong-1", "head_of_unit", {"reason": "xác minh nội dung"})
    assert last.at == clock.now() and last.source == last.target == "received"
    (event,) = [e for e in engine.events() if e.type == "identity.revealed"]
    assert (event.case_id, event.data) == (case_id, {"actor": "truong-phong-1", "role": "head_of_unit", "version": 2})
    assert engine.get(case_id).version == 2 and engine.verify_audit().ok
    assert engine.reveal_identity(case_id, "giam-doc", "director", "kết luận") == [DENOUNCER, WITNESS]


def test_another_role_is_refused_and_the_refusal_is_recorded(engine: Engine, clock: ManualClock) -> None:
    case_id = denunciation(engine, clock)
    with pytest.raises(NotAllowedError) as refused:
        engine.reveal_identity(case_id, "can-bo-3", "clerk", "tò mò")
    assert refused.value.why == "role" and refused.value.allowed == ["head_of_unit", "director"]
    assert "clerk" in str(refused.value) and DENOUNCER["name"] not in str(refused.value)
    *_, last = engine.history(case_id)
    assert (last.event, last.actor, last.role, last.payload) == (
        "identity.reveal_refused", "can-bo-3", "clerk", {"reason": "tò mò"})
    assert [e.data for e in engine.events() if e.type == "identity.reveal_refused"] == [
        {"actor": "can-bo-3", "role": "clerk", "version": 2}]
    assert not [e for e in engine.events() if e.type == "identity.revealed"]


def test_a_complaints_complainant_is_revealed_to_no_role(engine: Engine, clock: ManualClock) -> None:
    case = engine.open_case("complaint", received_at=clock.now(), petitioners=[DENOUNCER], respondent="UBND xã A",
                            subject="Khiếu nại quyết định thu hồi đất")
    with pytest.raises(NotAllowedError, match="no confidential_parties"):
        engine.reveal_identity(case.id, "giam-doc", "director", "xem")
    assert engine.history(case.id)[-1].event == "identity.reveal_refused"


def test_bad_arguments_name_their_field_and_record_nothing(engine: Engine, clock: ManualClock) -> None:
    case_id = denunciation(engine, clock)
    for kwargs, field in (({"actor": ""}, "actor"), ({"role": " "}, "role"), ({"reason": ""}, "reason"),
                          ({"reason": "x" * 1001}, "reason")):
        arguments = {"actor": "giam-doc", "role": "director", "reason": "kết luận", **kwargs}
        with pytest.raises(ValidationError) as bad:
            engine.reveal_identity(case_id, **arguments)
        assert bad.value.field == field
    with pytest.raises(NotFound):
        engine.reveal_identity("no-such-case", "giam-doc", "director", "kết luận")
    assert [h.event for h in engine.history(case_id)] == ["opened"]


def test_get_never_carries_a_party(engine: Engine, clock: ManualClock) -> None:
    case = engine.get(denunciation(engine, clock))
    assert case.petitioner_count == 2
    assert DENOUNCER["name"] not in repr(case) and DENOUNCER["id_number"] not in repr(case)


def test_postgres_without_a_key_opens_no_case_with_parties(pg_url: str, settings: Any, clock: ManualClock,
                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    from adapters.bootstrap import build
    monkeypatch.delenv(ENV)
    eng = build(settings, database_url=pg_url, clock=clock)
    try:
        with pytest.raises(ConfigError, match=f"^{ENV} is not set: PostgreSQL stores no identity"):
            denunciation(eng, clock)
        assert eng.events() == []  # nothing written
    finally:
        eng.close()


def test_sqlite_without_a_key_makes_a_private_key_file_once(tmp_path: Path, settings: Any, clock: ManualClock,
                                                            monkeypatch: pytest.MonkeyPatch,
                                                            caplog: pytest.LogCaptureFixture) -> None:
    from adapters.bootstrap import build
    monkeypatch.delenv(ENV)
    db = tmp_path / "kntc.db"
    with caplog.at_level(logging.WARNING, logger="kntc"):
        for _ in range(2):  # a second process (a new store) reads the same file, without a warning
            eng = build(settings, database_url=f"sqlite:///{db}", clock=clock)
            try:
                case_id = denunciation(eng, clock)
                assert eng.reveal_identity(case_id, "giam-doc", "director", "kết luận") == [DENOUNCER, WITNESS]
            finally:
                eng.close()
    key_file = key_file_for(db)
    assert key_file == tmp_path / "kntc.db.key"
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING and r.name == "kntc.secrets"]
    assert len(warnings) == 1 and str(key_file) in warnings[0].getMessage()
    assert key_file.read_text().strip() not in caplog.text


def test_a_rotated_key_reads_every_party_and_the_old_key_can_go(tmp_path: Path, settings: Any, clock: ManualClock,
                                                                monkeypatch: pytest.MonkeyPatch) -> None:
    from adapters.bootstrap import build
    url = f"sqlite:///{tmp_path / 'kntc.db'}"
    old, new = generate_key(), generate_key()
    monkeypatch.setenv(ENV, old)
    eng = build(settings, database_url=url, clock=clock)
    case_ids = [denunciation(eng, clock, [{"name": f"Người {i}"}, {"name": f"Nhân chứng {i}"}]) for i in range(5)]
    eng.close()

    monkeypatch.setenv(ENV, f"{new},{old}")
    eng = build(settings, database_url=url, clock=clock)
    seen: list[tuple[int, int]] = []
    assert rotate_parties(eng.runtime.store, page=3, progress=lambda s, r: seen.append((s, r))) == (10, 10)  # type: ignore[arg-type]
    assert seen == [(3, 3), (6, 6), (9, 9), (10, 10)]
    assert rotate_parties(eng.runtime.store, page=3) == (10, 0)  # type: ignore[arg-type]  # done: nothing again
    eng.close()

    monkeypatch.setenv(ENV, new)  # the old key dropped
    eng = build(settings, database_url=url, clock=clock)
    try:
        for i, case_id in enumerate(case_ids):
            assert eng.reveal_identity(case_id, "giam-doc", "director", "kết luận") == [
                {"name": f"Người {i}"}, {"name": f"Nhân chứng {i}"}]
    finally:
        eng.close()
    monkeypatch.setenv(ENV, generate_key())  # a key that never sealed them: one line naming the variable
    eng = build(settings, database_url=url, clock=clock)
    try:
        with pytest.raises(ConfigError, match=f"^{ENV}: no key decrypts a stored identity"):
            eng.reveal_identity(case_ids[0], "giam-doc", "director", "kết luận")
    finally:
        eng.close()


def test_a_malformed_key_is_one_line_naming_the_variable(tmp_path: Path, settings: Any, clock: ManualClock,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    from adapters.bootstrap import build
    monkeypatch.setenv(ENV, f"{generate_key()},not-a-key")
    eng = build(settings, database_url=f"sqlite:///{tmp_path / 'kntc.db'}", clock=clock)
    try:
        with pytest.raises(ConfigError, match=f"^{ENV}: key 2 is not a Fernet key"):
            denunciation(eng, clock)
        assert eng.events() == []
    finally:
        eng.close()

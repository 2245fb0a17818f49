"""Every line logged inside a command carries its case_id; no citizen's data reaches a log line (issue 13, §8)."""

from __future__ import annotations

import json
import logging
import unicodedata
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from datetime import UTC, timedelta
from pathlib import Path
from typing import Any

import pytest

from adapters.cli.common import LogFormatter
from engine.logs import get_logger
from engine.reactors import ANY, Effect, FireEvent, Reaction
from engine.service import Engine
from engine.testing import ManualClock, memory_engine
from tests.integration.cli_runner import kntc, ok
from tests.integration.engines import with_reactors

ROOT = Path(__file__).resolve().parents[2]
host = get_logger("host")

# One citizen nobody else is: each value must appear in no log line, in any spelling.
NAME = "Phùng Thị Quỳnh Nhữ Xêvy"
ID_NUMBER = "079304008642"  # CCCD, 12 digits
PHONE = "0986 421 357"
EMAIL = "quynh.nhu.xevy@thu-dien-tu.vn"
ADDRESS = "Số 7 ngõ Quỳnh Nhữ, phường Xêvy"
SECRETS = (NAME, ID_NUMBER, PHONE, PHONE.replace(" ", ""), EMAIL, ADDRESS)


def careless(reaction: Reaction) -> Iterable[Effect]:
    """A host reactor that logs everything it is given at DEBUG: the event, the whole case, its history."""
    case_id = reaction.event.case_id
    history = reaction.tx.history(case_id) if case_id is not None else []
    host.debug("seen", kind=reaction.event.type, data=reaction.event.data, reaction=reaction, history=history,
               remark=f"gọi {PHONE} hoặc {EMAIL}, CCCD {ID_NUMBER}")
    return ()


@pytest.fixture
def eng() -> Engine:
    return with_reactors(memory_engine(workflows=ROOT / "workflows"), {ANY: [careless]})


@contextmanager
def captured(caplog: pytest.LogCaptureFixture) -> Iterator[list[logging.LogRecord]]:
    """kntc's records at DEBUG while the ``with`` runs (only those)."""
    caplog.clear()
    records: list[logging.LogRecord] = []
    with caplog.at_level(logging.DEBUG, logger="kntc"):
        yield records
        records.extend(r for r in caplog.records if r.name.startswith("kntc"))


def _open(eng: Engine, **overrides: Any) -> str:
    args: dict[str, Any] = {"received_at": eng.clock.now(), "respondent": "UBND phường", "subject": "Đất đai",
                            "petitioners": [{"name": "A"}]}
    args.update(overrides)
    return eng.open_case("complaint", **args).id


def _case_ids(records: list[logging.LogRecord]) -> list[Any]:
    return [getattr(r, "kntc_fields", {}).get("case_id") for r in records]


def test_every_line_of_open_and_fire_carries_the_case_id(eng: Engine, caplog: pytest.LogCaptureFixture) -> None:
    """open_case and fire: the engine's and the host reactor's lines, every one with the case's id."""
    with captured(caplog) as opening:
        case_id = _open(eng)
    with captured(caplog) as firing:
        eng.fire(case_id, "accept", actor="tt01", role="inspector")
    for records in (opening, firing):
        assert {"kntc.pipeline", "kntc.host"} <= {r.name for r in records}
        assert _case_ids(records) == [case_id] * len(records)
    assert get_logger("host").name == "kntc.host"


def test_a_reaction_on_another_case_logs_with_that_cases_id(caplog: pytest.LogCaptureFixture) -> None:
    """A reaction that fires on a second case: the lines of that nested command carry the second id."""
    base = memory_engine(workflows=ROOT / "workflows")
    other = _open(base)
    def follow(reaction: Reaction) -> Iterable[Effect]:
        if reaction.event.data.get("event") == "accept" and reaction.event.case_id != other:
            yield FireEvent(case_id=other, event="transfer", payload={"to_body": "UBND tỉnh"}, actor="tt01",
                            role="inspector")
    eng = with_reactors(base, {"case.transitioned": [follow], ANY: [careless]})
    first = _open(eng)
    with captured(caplog) as records:
        eng.fire(first, "accept", actor="tt01", role="inspector")
    assert eng.get(other).state == "transferred"
    seen = {(r.kntc_fields["case_id"], r.kntc_fields.get("kind")) for r in records  # type: ignore[attr-defined]
            if r.name == "kntc.host"}
    assert (first, "case.transitioned") in seen and (other, "case.transitioned") in seen
    assert set(_case_ids(records)) == {first, other}


def test_a_ticks_rungs_log_with_their_case(eng: Engine, caplog: pytest.LogCaptureFixture) -> None:
    """The daemon's tick: every line inside a rung (recorded, reacted) names the case it moved."""
    case_id = _open(eng)
    assert isinstance(eng.clock, ManualClock)
    eng.clock.advance(timedelta(days=40))  # the acceptance clock (10 working days) is long overdue
    with captured(caplog) as records:
        report = eng.tick()
    assert report.events > 0
    inside = [r for r in records if r.name in ("kntc.pipeline", "kntc.host")]
    assert inside and _case_ids(inside) == [case_id] * len(inside)
    assert any(r.name == "kntc.tick" for r in records)  # the tick's own summary: outside any case


def _spellings(secret: str) -> set[str]:
    forms = {unicodedata.normalize(form, secret) for form in ("NFC", "NFD")}
    return forms | {json.dumps(form)[1:-1] for form in forms} | {json.dumps(form, ensure_ascii=False)[1:-1]
                                                                 for form in forms}


def _rendered(records: list[logging.LogRecord]) -> str:
    out = []
    for record in records:
        out += [record.getMessage(), json.dumps(getattr(record, "kntc_fields", {}), default=str)]
        out += [LogFormatter(fmt, UTC).format(record) for fmt in ("json", "console")]
    return "\n".join(out)


def test_no_citizens_data_in_any_line_at_debug(eng: Engine, caplog: pytest.LogCaptureFixture) -> None:
    """Name, id number, phone, e-mail, address through open_case and fire payloads: zero hits, any spelling."""
    party = {"name": unicodedata.normalize("NFD", NAME), "id_number": ID_NUMBER, "phone": PHONE, "email": EMAIL,
             "address": ADDRESS}
    with captured(caplog) as records:
        case_id = _open(eng, petitioners=[party], subject=f"{NAME} khiếu nại",
                        content=f"Tôi là {NAME}, CCCD {ID_NUMBER}, ĐT {PHONE}, {EMAIL}, ở {ADDRESS}",
                        respondent=f"Ông {NAME}")
        host.debug("opened_for", petitioners=[party], case_id=case_id)  # the host logs what it sent
        eng.fire(case_id, "reject", actor="tt01", role="inspector",
                 payload={"reason": f"{NAME} ({ID_NUMBER}, {PHONE}, {EMAIL}) rút đơn"})
    text = _rendered(records)
    assert len(records) >= 5 and "[redacted]" in text
    hits = {secret for secret in SECRETS for spelling in _spellings(secret) if spelling in text}
    assert hits == set()


def test_the_cli_at_debug_logs_json_lines_without_citizens_data(tmp_path: Path) -> None:
    """`kntc case open` and `case fire` with logging json/debug: stderr is JSON lines naming the case, no data."""
    shipped = (ROOT / "config.yaml").read_text(encoding="utf-8")
    config = tmp_path / "config.yaml"
    config.write_text(shipped.replace("workflows_dir: workflows", f"workflows_dir: {ROOT / 'workflows'}")
                      .replace("  format: console", "  format: json").replace("  level: info", "  level: debug"),
                      encoding="utf-8")
    db = tmp_path / "k.db"
    opened = kntc(db, "-c", str(config), "case", "open", "complaint", "--subject", f"{NAME} khiếu nại",
                  "--petitioner", NAME, "--content", f"ĐT {PHONE}, {EMAIL}, CCCD {ID_NUMBER}", "--json")
    case_id = json.loads(ok(opened))["id"]
    fired = kntc(db, "-c", str(config), "case", "fire", case_id, "reject", "--actor", "tt01", "--role", "inspector",
                 "--payload", json.dumps({"reason": f"{NAME} {PHONE}"}))
    ok(fired)
    lines = [json.loads(line) for run in (opened, fired) for line in run.stderr.splitlines()]
    recorded = [line for line in lines if line["event"] == "case_recorded"]
    assert len(recorded) == 2 and {line["case_id"] for line in recorded} == {case_id}
    err = opened.stderr + fired.stderr
    assert {s for s in SECRETS for spelling in _spellings(s) if spelling in err} == set()

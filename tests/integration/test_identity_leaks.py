"""A denouncer's (and a complainant's, a petitioner's) name and id number appear nowhere but in a reveal.

One season on the shipped configuration (its periods, groups and escalation rules on): a
denunciation, a complaint and a petition with unique petitioners, mistakes that name a party's
field, seventy days of ticks (warnings, overdue notices, notifications routed to the officers and
rendered), a reveal refused and one allowed, the quarter's report. Then every surface is searched
for the names and id numbers, in every Unicode normal form, any case, and JSON-escaped: the feed,
the histories, every log line at debug level, the error messages, the outbox and the rendered
notifications, the report in every format, the CLI's output (cases, history, events, outbox,
report and schedule exports, the graph) and the raw bytes of the SQLite file (or a ``pg_dump`` of
the PostgreSQL schema). Zero hits; the only place they are read is the reveal's return value.
"""

from __future__ import annotations

import io
import json
import logging
import subprocess
import unicodedata
import zipfile
from datetime import date, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import pytest

from adapters.secrets import ENV, generate_key
from engine.errors import KntcError, ValidationError
from engine.service import Engine
from engine.testing import ManualClock
from tests.conftest import shipped_settings
from tests.integration.cli_runner import kntc, ok

# unique names, with the letters whose NFC and NFD forms differ (ặ, ữ, ỳ, Đ keeps its form)
DENOUNCER = {"name": "Đặng Thị Hữu Quỳnhxv", "id_number": "079305004213", "address": "Ngõ Zqxw 17, Ba Đình",
             "phone": "0987650321", "email": "quynhxv.dang@example.vn"}
COMPLAINANT = {"name": "Trương Văn Nhượngkw", "id_number": "001088007654"}
PETITIONER = {"name": "Hoàng Thị Yếnpj", "id_number": "036197002468"}
PARTIES = (DENOUNCER, COMPLAINANT, PETITIONER)
NEEDLES = (*(p[k] for p in PARTIES for k in ("name", "id_number")), DENOUNCER["address"], DENOUNCER["phone"],
           DENOUNCER["email"])


def forms(needle: str) -> set[str]:
    """``needle`` in every normal form and JSON-escaped (lower- and upper-case hex), all casefolded."""
    found: set[str] = set()
    for form in ("NFC", "NFD", "NFKC", "NFKD"):
        text = unicodedata.normalize(form, needle)
        escaped = json.dumps(text)[1:-1]
        found |= {text.casefold(), escaped.casefold(), escaped.upper().casefold()}
    return found


def hits(haystack: str | bytes) -> list[str]:
    """The needles found in ``haystack`` (text, or bytes read as UTF-8, UTF-16 and Latin-1)."""
    if isinstance(haystack, bytes):
        texts = [haystack.decode("utf-8", "ignore"), haystack.decode("utf-16-le", "ignore"),
                 haystack[1:].decode("utf-16-le", "ignore"), haystack.decode("latin-1")]
    else:
        texts = [haystack]
    folded = [unicodedata.normalize("NFC", t).casefold() for t in texts] + [t.casefold() for t in texts]
    return sorted({n for n in NEEDLES for f in forms(n) for t in folded if f in t})


def test_the_search_finds_each_form() -> None:
    """The detector is not blind: NFD, upper case, JSON escapes and UTF-16 bytes are all hits."""
    name = DENOUNCER["name"]
    assert hits(unicodedata.normalize("NFD", name).upper()) == [name]
    assert hits(json.dumps({"n": name})) == [name]
    assert hits(json.dumps({"n": unicodedata.normalize("NFD", name)}).upper()) == [name]
    assert hits(b"\x00" + name.encode("utf-16-le")) == [name]
    assert hits(f"x{COMPLAINANT['id_number']}y".encode()) == [COMPLAINANT["id_number"]]
    assert hits("Đặng Thị Hữu Quỳnh") == []


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def database(request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv(ENV, generate_key())
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'kntc.db'}"
    return str(request.getfixturevalue("pg_url"))


def season(eng: Engine, clock: ManualClock, surfaces: dict[str, Any]) -> list[str]:
    """Open, mistake, tick, route, render, refuse, reveal; what each surface showed goes into ``surfaces``."""
    from adapters.channels import renderer, router
    from adapters.notify.log import LOG_CHANNEL
    from engine.outbox import dispatch
    from engine.routing import route

    settings = shipped_settings()
    common: dict[str, Any] = {"received_at": clock.now(), "respondent": "Chủ tịch UBND xã An Khánh", "channel": "post"}
    ids = [eng.open_case("denunciation", petitioners=[DENOUNCER], subject="Tố cáo sai phạm đất đai", **common).id,
           eng.open_case("complaint", petitioners=[COMPLAINANT], subject="Khiếu nại quyết định thu hồi đất",
                         **common).id,
           eng.open_case("petition", petitioners=[PETITIONER], subject="Kiến nghị sửa đường", **common).id]
    errors: list[str] = []
    for bad in ({**DENOUNCER, "id_number": DENOUNCER["id_number"] * 3}, {**DENOUNCER, "nickname": DENOUNCER["name"]},
                {**DENOUNCER, "name": DENOUNCER["name"] * 20}, {**DENOUNCER, "phone": 12}):
        with pytest.raises(ValidationError) as refused:
            eng.open_case("denunciation", petitioners=[bad], subject="Tố cáo", **common)
        errors.append(str(refused.value))
    routing, directory_of = router(settings)
    render = renderer(settings)
    rendered: list[str] = []
    for _ in range(14):
        clock.advance(timedelta(days=5))
        eng.tick()
        route(eng.runtime, routing, directory_of, holder="leaks")
        dispatch(eng.runtime, LOG_CHANNEL, holder="leaks")
    with eng.runtime.store.reader() as tx:
        messages = tx.outbox(limit=10_000)
    for message in messages:
        if "to" in message.data:  # an officer's message, as a channel would send it
            done = render.render(message)
            rendered.append(f"{done.subject}\n{done.body}")
    try:
        eng.reveal_identity(ids[0], "can-bo-3", "clerk", "tò mò")
    except KntcError as exc:
        errors.append(str(exc))
    try:
        eng.reveal_identity(ids[1], "giam-doc", "director", "xem")
    except KntcError as exc:
        errors.append(str(exc))
    surfaces["errors"] = errors
    surfaces["outbox"] = [(m.channel, m.kind, m.case_id, m.data, m.last_error) for m in messages]
    surfaces["notifications"] = rendered
    assert len(errors) == 6 and rendered, "the season made the mistakes and the notifications it should"
    return ids


def test_no_surface_shows_a_party(database: str, settings: Any, clock: ManualClock, tmp_path: Path,
                                  caplog: pytest.LogCaptureFixture) -> None:
    from adapters.bootstrap import build
    from adapters.reports.writers import csv_text, json_text, write_report

    surfaces: dict[str, Any] = {}
    with caplog.at_level(logging.DEBUG):
        eng = build(shipped_settings(), database_url=database, clock=clock)
        try:
            ids = season(eng, clock, surfaces)
            revealed = eng.reveal_identity(ids[0], "giam-doc", "director", "kết luận xác minh")
            surfaces["feed"] = [(e.type, e.case_id, e.data) for e in eng.events(limit=10_000)]
            surfaces["history"] = [eng.history(i) for i in ids]
            surfaces["cases"] = [eng.get(i) for i in ids]
            report = eng.report(date(2026, 3, 1), date(2026, 6, 30))
            surfaces["report"] = [csv_text(report), json_text(report), repr(report)]
            xlsx = write_report(report, tmp_path / "report.xlsx")
            with zipfile.ZipFile(io.BytesIO(xlsx.read_bytes())) as book:
                surfaces["xlsx"] = [book.read(n) for n in book.namelist()]
        finally:
            eng.close()
    assert revealed == [DENOUNCER]  # the one way out: the reveal's value (not searched)
    assert "identity.revealed" in [h.event for h in surfaces["history"][0]]
    surfaces["logs"] = [(r.name, r.getMessage(), getattr(r, "kntc_fields", None), r.exc_text) for r in caplog.records]
    assert any(r.levelno == logging.DEBUG or r.levelno == logging.INFO for r in caplog.records)

    if database.startswith("sqlite"):
        db = Path(database.removeprefix("sqlite:///"))
        cli = [("case", "show", i, "--json") for i in ids] + [("case", "history", i, "--json") for i in ids] + [
            ("events", "--json", "--limit", "10000"), ("outbox", "--json"), ("graph", "denunciation"),
            ("report", "--from", "2026-03-01", "--to", "2026-06-30", "--format", "json"),
            ("report", "--from", "2026-03-01", "--to", "2026-06-30", "--format", "csv"),
            ("schedule", "--format", "json", "--from", "2026-03-01"), ("schedule", "--format", "ics", "--from",
                                                                       "2026-03-01")]
        outputs = []
        for args in cli:
            run = kntc(db, *args)
            outputs.append(f"{' '.join(args)}\n{ok(run)}\n{run.stderr}")
        surfaces["cli"] = outputs
        surfaces["raw"] = [f.read_bytes() for f in sorted(db.parent.glob("kntc.db*")) if not f.name.endswith(".key")]
    else:
        base, schema = database.split("?options=-csearch_path%3D")
        dump = subprocess.run(["/usr/bin/pg_dump", "--data-only", "--schema", unquote(schema), "-d", base],
                              capture_output=True, timeout=120, check=False)
        assert dump.returncode == 0, dump.stderr
        assert b"kntc_parties" in dump.stdout and b"sealed" in dump.stdout  # the dump holds the sealed parties
        surfaces["raw"] = [dump.stdout]

    found = {name: hits(value if isinstance(value, bytes) else repr(value) + json.dumps(value, default=repr))
             for name, values in surfaces.items() for value in (values if isinstance(values, list) else [values])
             if hits(value if isinstance(value, bytes) else repr(value) + json.dumps(value, default=repr))}
    assert found == {}

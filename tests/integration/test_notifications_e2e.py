"""From an event to an officer's mailbox: rule -> router -> SMTP, with the people of config.yaml.

A local SMTP server (aiosmtpd, 127.0.0.1, started and stopped here) receives what the daemon
sends. The shipped people (config.yaml): gd01 director (van_phong), tp01 head of unit
(thanh_tra); a case names no unit, so notifications.default_unit (thanh_tra) is its unit.
"""

from __future__ import annotations

import email
import email.policy
from collections.abc import Iterator
from datetime import timedelta
from email.message import EmailMessage
from pathlib import Path

import pytest

from adapters.bootstrap import build
from adapters.channels import build_channels, router
from adapters.config import Settings
from adapters.daemon import Daemon
from adapters.notify.smtp import SmtpSettings
from adapters.notify.templates import TemplateText
from adapters.notify_config import NotificationSettings
from engine.escalation import Rule
from engine.outbox import requeue
from engine.service import Engine
from engine.testing import ManualClock
from tests.conftest import shipped_settings
from tests.integration.smtp_server import Inbox, serve

#: a name no template, message or log may ever show (the denouncer's)
DENOUNCER = "Hoàng Thị Bí Mật Zyx"
SUBJECT = "[KNTC] Đơn tố cáo mới: hồ sơ {{ case.id }}"
BODY = ("Kính gửi {{ to.name }},\n{{ case.kind_label }} nhận ngày {{ case.received_on }}, "
        "trạng thái {{ case.state_label }}.\n{{ org }}\n")


def mails(server: Inbox) -> list[tuple[list[str], bytes]]:
    """What the server accepted: (envelope recipients, raw message) each."""
    return [(list(e.rcpt_tos), bytes(e.original_content or b"")) for e in server.received]


@pytest.fixture
def inbox() -> Iterator[tuple[Inbox, int]]:
    with serve(Inbox()) as running:
        yield running


def mail_settings(settings: Settings, port: int, roles: list[str]) -> Settings:
    rule = Rule.model_validate({"id": "denunciation_received", "on": "case.opened",
                                "when": "case.kind == 'denunciation'",
                                "then": [{"notify": {"roles": roles, "template": "denunciation_received"}}]})
    return settings.model_copy(update={
        "channels": [SmtpSettings(id="email", kind="smtp", host="127.0.0.1", port=port, sender="kntc@so.example",
                                  security="none", max_attempts=3)],
        "notifications": NotificationSettings(default_channels=["email"], default_unit="thanh_tra"),
        "templates": {"denunciation_received": TemplateText(subject=SUBJECT, body=BODY)},
        "escalation": settings.escalation.model_copy(update={"rules": [rule]})})


def daemon_of(settings: Settings, tmp_path: Path, clock: ManualClock) -> tuple[Engine, Daemon]:
    eng = build(settings, database_url=f"sqlite:///{tmp_path / 'kntc.db'}", clock=clock)
    return eng, Daemon(eng, tick_seconds=60, channels=build_channels(settings, environ={}), router=router(settings),
                       holder="test")


def denounce(eng: Engine, clock: ManualClock) -> str:
    case = eng.open_case("denunciation", received_at=clock.now(),
                         petitioners=[{"name": DENOUNCER, "id_number": "079912345678", "address": "Đà Lạt"}],
                         respondent="Cán bộ địa chính xã", subject="Tố cáo sai phạm",
                         content=f"Tôi là {DENOUNCER}, tố cáo việc cấp giấy sai.")
    return case.id


def parsed(raw: bytes) -> EmailMessage:
    message = email.message_from_bytes(raw, policy=email.policy.default)
    assert isinstance(message, EmailMessage)
    return message


def everything_stored(eng: Engine) -> str:
    with eng.runtime.store.reader() as tx:
        return repr([m.data for m in tx.outbox(limit=1000)]) + repr([e.data for e in tx.events(0, 1000)])


def test_the_head_of_unit_and_the_director_get_one_readable_mail_without_the_denouncer(
        settings: Settings, inbox: tuple[Inbox, int], tmp_path: Path, clock: ManualClock) -> None:
    server, port = inbox
    eng, daemon = daemon_of(mail_settings(settings, port, ["head_of_unit", "director"]), tmp_path, clock)
    case_id = denounce(eng, clock)
    daemon.run_once()
    daemon.run_once()  # nothing twice
    assert sorted(rcpt for rcpts, _ in mails(server) for rcpt in rcpts) == [
        "gd01@so-khcn.example", "tp01@so-khcn.example"]
    for rcpts, raw in mails(server):
        message = parsed(raw)
        assert message["Subject"] == f"[KNTC] Đơn tố cáo mới: hồ sơ {case_id}"
        text = message.get_content()
        # 02/03/2026: the fixtures' Monday
        assert "nhận ngày 02/03/2026" in text and ("Lê Thị Trưởng" in text) == (rcpts == ["tp01@so-khcn.example"])
        assert DENOUNCER not in text and DENOUNCER.encode() not in raw and b"079912345678" not in raw
    assert DENOUNCER not in everything_stored(eng)


def test_a_role_nobody_holds_is_retried_then_dead_and_delivered_once_people_exist(
        settings: Settings, inbox: tuple[Inbox, int], tmp_path: Path, clock: ManualClock) -> None:
    server, port = inbox
    eng, daemon = daemon_of(mail_settings(settings, port, ["inspector"]), tmp_path, clock)
    without = settings.model_copy(update={"people": [p for p in settings.people if "inspector" not in p.roles]})
    daemon.router = router(mail_settings(without, port, ["inspector"]))
    denounce(eng, clock)
    for _ in range(eng.runtime.retry.max_attempts):
        daemon.run_once()
        clock.advance(timedelta(hours=7))  # past the longest backoff (6 h)
    with eng.runtime.store.reader() as tx:
        (dead,) = tx.outbox(status="dead", limit=10)
    assert dead.channel == "notify" and "nobody holds role 'inspector' in unit 'thanh_tra'" in (dead.last_error or "")
    assert mails(server) == []
    daemon.router = router(mail_settings(settings, port, ["inspector"]))  # tt01 is an inspector
    requeue(eng.runtime, dead.id)
    daemon.run_once()
    assert [rcpts for rcpts, _ in mails(server)] == [["tt01@so-khcn.example"]]


def test_a_crowded_complaint_before_the_election_reaches_both_heads_with_the_shipped_templates(
        inbox: tuple[Inbox, int], tmp_path: Path, clock: ManualClock) -> None:
    """The shipped config as is (period, groups, rules): the phase tells the head, the rule the director."""
    server, port = inbox
    shipped = shipped_settings()
    configured = shipped.model_copy(update={
        "channels": [SmtpSettings(id="email", kind="smtp", host="127.0.0.1", port=port, sender="kntc@so.example",
                                  security="none")],
        "notifications": NotificationSettings(default_channels=["email"], default_unit="thanh_tra"),
        "roster": shipped.roster.model_copy(update={"check": False}),
        "reception": shipped.reception.model_copy(update={"month_check": False})})
    eng, daemon = daemon_of(configured, tmp_path, clock)
    # Monday 02/03/2026 lies in the phase `before` (05/01..14/03/2026): five signatories make it crowded
    case = eng.open_case("complaint", received_at=clock.now(), respondent="UBND xã Lộc An",
                         petitioners=[{"name": f"{DENOUNCER} {i}"} for i in range(5)],
                         subject="Bồi thường đất", content="Chúng tôi khiếu nại việc bồi thường đất.")
    daemon.run_once()
    subjects = sorted((rcpt, parsed(raw)["Subject"]) for rcpts, raw in mails(server) for rcpt in rcpts)
    daily = [(rcpt, subject) for rcpt, subject in subjects if subject.startswith("[KNTC] Báo cáo ngày")]
    assert sorted(set(subjects) - set(daily)) == sorted([
        ("tp01@so-khcn.example", f"[KNTC] Điểm nóng đông người trong thời gian bầu cử: hồ sơ {case.id}"),
        ("gd01@so-khcn.example", f"[KNTC] Phát hiện vụ việc đông người: hồ sơ {case.id}")])
    # the first run catches up the daily reports of the last 7 days of `before`: Mon 23/02 .. Sun 01/03/2026
    assert len(daily) == 2 * 7 and ("tp01@so-khcn.example",
                                    "[KNTC] Báo cáo ngày 01/03/2026: tiếp nhận 0, giải quyết 0, quá hạn 0") in daily
    with eng.runtime.store.reader() as tx:
        assert tx.outbox(status="dead", limit=10) == [] and tx.outbox(status="pending", limit=10) == []
    assert all(DENOUNCER.encode() not in raw for _, raw in mails(server))

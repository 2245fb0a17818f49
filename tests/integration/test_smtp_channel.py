"""The smtp channel against a real SMTP server on 127.0.0.1 (aiosmtpd): what arrives, what is refused, retried, dead.

The server is aiosmtpd's ``Controller`` on a free port, started and stopped by the fixture; its
handler keeps each envelope (or refuses it, as a test says). The store is a SQLite file; time moves
only with the ManualClock (the next try is due at a moment the test computes).
"""

from __future__ import annotations

import shutil
import ssl
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest

from adapters.bootstrap import build
from adapters.config import Settings
from adapters.notify.smtp import SmtpSettings, smtp_channel, smtp_credentials
from adapters.notify.templates import Renderer, shipped_templates
from engine.errors import ConfigError, DefinitionError, DeliveryError
from engine.loader import read_yaml, validate_located
from engine.model import OutboxMessage
from engine.outbox import Channel, dispatch
from engine.service import Engine
from engine.testing import ManualClock
from tests.integration.smtp_server import Inbox, free_port, serve

ORG = "Sở Khoa học và Công nghệ"
ENV = {"KNTC_SMTP_USER": "kntc-mailer", "KNTC_SMTP_PASSWORD": "pw-for-tests-only"}
#: a notification shaped like the router's: ids, types, dates, the officer's name and address
DATA: dict[str, Any] = {
    "to": {"id": "tp01", "name": "Lê Thị Trưởng", "role": "head_of_unit", "unit": "thanh_tra",
           "email": "tp01@so.gov.vn"},
    "case": {"id": "c-123", "kind": "complaint", "kind_label": "Khiếu nại", "state": "verifying",
             "state_label": "Đang xác minh", "priority": "urgent", "channel": "post", "received_on": "02/03/2026",
             "flags": ["crowded"], "deadlines": [{"name": "resolution", "due_on": "01/04/2026", "status": "running"}]},
    "event": "hotspot.detected", "rule": "hot_spot_in_election", "type": "crowded", "hot_spot": "hs-7",
    "case_id": "c-123", "role": "head_of_unit",
}
SUBJECT = "[KNTC] Phát hiện vụ việc đông người: hồ sơ c-123"
#: aiosmtpd warns of AUTH without TLS: the test server has no certificate, and listens on 127.0.0.1 only
PLAIN_AUTH = pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS:UserWarning")


@pytest.fixture
def server() -> Iterator[tuple[Inbox, int]]:
    """An SMTP server on 127.0.0.1 without login."""
    with serve(Inbox()) as running:
        yield running


@pytest.fixture
def auth_server() -> Iterator[tuple[Inbox, int]]:
    """An SMTP server on 127.0.0.1 that requires a login (over plain text: a test has no certificate)."""
    inbox = Inbox()
    with serve(inbox, authenticator=inbox.authenticate, auth_required=True, auth_require_tls=False) as running:
        yield running


@pytest.fixture
def kntc_engine(tmp_path: Path, settings: Settings, clock: ManualClock) -> Iterator[Engine]:
    eng = build(settings, database_url=f"sqlite:///{tmp_path / 'kntc.db'}", clock=clock)
    yield eng
    eng.close()


def email_settings(port: int, **overrides: Any) -> SmtpSettings:
    fields: dict[str, Any] = {"id": "email", "kind": "smtp", "host": "127.0.0.1", "port": port,
                              "sender": "kntc@so.gov.vn", "security": "none", "max_attempts": 2,
                              "backoff_seconds": 30, "jitter": 0, "timeout_seconds": 5}
    return SmtpSettings.model_validate({**fields, **overrides})


def channel_to(port: int, *, environ: dict[str, str] | None = None, **overrides: Any) -> Channel:
    return smtp_channel(email_settings(port, **overrides), Renderer(shipped_templates(), org=ORG),
                        environ=environ or {})


def queue(eng: Engine, data: dict[str, Any] | None = None, kind: str = "hot_spot_at_once") -> None:
    rt = eng.runtime
    with rt.store.transaction() as tx:
        tx.enqueue("email", kind, "c-123", DATA if data is None else data, rt.now())


def the_message(eng: Engine) -> OutboxMessage:
    with eng.runtime.store.reader() as tx:
        [message] = tx.outbox(channel="email")
    return message


def parsed(raw: bytes) -> EmailMessage:
    mail = message_from_bytes(raw, policy=policy.default)
    assert isinstance(mail, EmailMessage)
    return mail


def test_a_message_arrives_to_the_officer_with_a_vietnamese_subject_and_a_utf8_body(
        server: tuple[Inbox, int], kntc_engine: Engine) -> None:
    inbox, port = server
    queue(kntc_engine)
    report = dispatch(kntc_engine.runtime, channel_to(port), holder="d1")
    assert (report.delivered, report.failed) == (1, 0)
    [envelope] = inbox.received
    assert envelope.rcpt_tos == ["tp01@so.gov.vn"]
    assert envelope.mail_from == "kntc@so.gov.vn"
    assert isinstance(envelope.content, bytes)
    raw_headers = envelope.content.split(b"\r\n\r\n", 1)[0]
    assert raw_headers.isascii() and b"=?utf-8?" in raw_headers  # RFC 2047: any server carries it
    mail = parsed(envelope.content)
    assert mail["Subject"] == SUBJECT
    assert mail["To"] == "tp01@so.gov.vn"
    assert mail["From"].addresses[0].addr_spec == "kntc@so.gov.vn"
    assert mail["From"].addresses[0].display_name == ORG
    sent = the_message(kntc_engine)
    assert mail["Message-ID"] == f"<{sent.key}@so.gov.vn>"
    assert mail["Date"].datetime == sent.created_at
    assert mail.get_content_type() == "text/plain" and mail.get_content_charset() == "utf-8"
    body = mail.get_content().replace("\r\n", "\n")  # the wire's line ends
    assert body.startswith("Kính gửi: Lê Thị Trưởng,\n")
    assert "Hồ sơ: c-123 (Khiếu nại), nhận ngày 02/03/2026, trạng thái: Đang xác minh." in body
    assert sent.status == "sent"


def test_a_refusing_server_leaves_the_message_pending_with_backoff_then_dead(
        server: tuple[Inbox, int], kntc_engine: Engine, clock: ManualClock) -> None:
    inbox, port = server
    inbox.refuse_data = ["550 5.7.1 Nguyễn Văn A: policy says no", "550 5.7.1 still no"]
    channel = channel_to(port)  # max_attempts 2, backoff 30 s, no jitter
    rt = kntc_engine.runtime
    queue(kntc_engine)
    first_try = clock.now()
    assert dispatch(rt, channel, holder="d1").failed == 1
    message = the_message(kntc_engine)
    assert (message.status, message.attempts) == ("pending", 1)
    assert message.next_attempt_at == first_try + timedelta(seconds=30)  # 30 * 2**0
    assert message.last_error == (f"DeliveryError: SMTP server 127.0.0.1:{port} refused message {message.key}: "
                                  f"SMTPDataError 550")
    clock.advance(timedelta(seconds=29))
    assert dispatch(rt, channel, holder="d1").failed == 0  # not due yet: the server hears nothing
    assert len(inbox.tried) == 1
    clock.advance(timedelta(seconds=1))
    assert dispatch(rt, channel, holder="d1").dead == 1
    message = the_message(kntc_engine)
    assert (message.status, message.attempts, message.next_attempt_at) == ("dead", 2, None)
    first, second = (parsed(raw) for raw in inbox.tried)
    assert first["Message-ID"] == second["Message-ID"] == f"<{message.key}@so.gov.vn>"  # a repeat is droppable
    assert inbox.received == []


def test_a_refused_recipient_or_no_address_is_a_failed_delivery(
        server: tuple[Inbox, int], kntc_engine: Engine) -> None:
    inbox, port = server
    inbox.refuse_rcpt = "550 5.1.1 mailbox unknown"
    queue(kntc_engine)
    dispatch(kntc_engine.runtime, channel_to(port), holder="d1")
    assert the_message(kntc_engine).last_error == (
        f"DeliveryError: SMTP server 127.0.0.1:{port} refused the recipient of message "
        f"{the_message(kntc_engine).key}: SMTPRecipientsRefused 550")
    delivery = channel_to(port).deliver
    nowhere = {**DATA, "to": {**DATA["to"], "email": None}}
    with pytest.raises(DeliveryError, match=r"^officer 'tp01' has no e-mail address"):
        delivery(OutboxMessage(id=9, channel="email", kind="hot_spot_at_once", case_id="c-123", data=nowhere,
                               status="pending", attempts=0, last_error=None, next_attempt_at=None,
                               created_at=kntc_engine.clock.now()))
    assert inbox.tried == []


@PLAIN_AUTH
def test_credentials_come_from_the_environment_mapping(auth_server: tuple[Inbox, int], kntc_engine: Engine) -> None:
    inbox, port = auth_server
    names = {"username_env": "KNTC_SMTP_USER", "password_env": "KNTC_SMTP_PASSWORD"}
    queue(kntc_engine)
    assert dispatch(kntc_engine.runtime, channel_to(port, environ=ENV, **names), holder="d1").delivered == 1
    assert inbox.logins == [(b"kntc-mailer", b"pw-for-tests-only")]
    assert parsed(inbox.received[0].content)["Subject"] == SUBJECT  # type: ignore[arg-type]
    queue(kntc_engine)
    wrong = {**ENV, "KNTC_SMTP_PASSWORD": "not-it"}
    assert dispatch(kntc_engine.runtime, channel_to(port, environ=wrong, **names), holder="d1").failed == 1
    with kntc_engine.runtime.store.reader() as tx:
        [failed] = tx.outbox(channel="email", status="pending")
    assert failed.last_error is not None and failed.last_error.endswith("SMTPAuthenticationError 535")
    assert "not-it" not in failed.last_error
    assert len(inbox.received) == 1


@PLAIN_AUTH
def test_without_login_an_auth_server_refuses_and_starttls_is_never_dropped(
        auth_server: tuple[Inbox, int], kntc_engine: Engine) -> None:
    inbox, port = auth_server
    queue(kntc_engine)
    dispatch(kntc_engine.runtime, channel_to(port), holder="d1")
    assert the_message(kntc_engine).last_error is not None
    assert the_message(kntc_engine).last_error.endswith("SMTPSenderRefused 530")  # type: ignore[union-attr]
    # starttls asked, the server offers none: a failed delivery, not a message sent in clear text
    with pytest.raises(DeliveryError, match=r"could not take message kntc-email-9: SMTPNotSupportedError$"):
        channel_to(port, security="starttls").deliver(OutboxMessage(
            id=9, channel="email", kind="default", case_id=None, data={**DATA, "case": None}, status="pending",
            attempts=0, last_error=None, next_attempt_at=None, created_at=kntc_engine.clock.now()))
    assert inbox.tried == []


def test_a_server_nobody_runs_is_a_failed_delivery_naming_the_error_class(kntc_engine: Engine) -> None:
    port = free_port()  # bound and closed: nobody listens
    queue(kntc_engine)
    assert dispatch(kntc_engine.runtime, channel_to(port), holder="d1").failed == 1
    assert the_message(kntc_engine).last_error == (
        f"DeliveryError: SMTP server 127.0.0.1:{port} could not take message {the_message(kntc_engine).key}: "
        f"ConnectionRefusedError")


def test_a_citizens_name_in_a_key_no_template_prints_never_reaches_the_mail(
        server: tuple[Inbox, int], kntc_engine: Engine) -> None:
    inbox, port = server
    citizen = "Hoàng Thị Độc Nhất Vô Nhị"
    data = {**DATA, "denouncer": citizen, "id_number": "079123456789",
            "case": {**DATA["case"], "petitioners": [{"name": citizen, "id_number": "079123456789"}]}}
    queue(kntc_engine, data)
    queue(kntc_engine, data, kind="complaint_overdue")
    queue(kntc_engine, data, kind="an_unknown_kind")  # the default template
    assert dispatch(kntc_engine.runtime, channel_to(port), holder="d1").delivered == 3
    assert len(inbox.received) == 3
    for envelope in inbox.received:
        assert isinstance(envelope.content, bytes)
        mail = parsed(envelope.content)
        text = str(mail["Subject"]) + mail.get_content()
        assert "Lê Thị Trưởng" in text  # the officer is named: the check below can see names
        assert citizen not in text and "079123456789" not in text
        assert b"079123456789" not in envelope.content


# ----------------------------------------------------------------------------- refused settings


def channel_yaml(**lines: str) -> str:
    fields = {"id": "email", "kind": "smtp", "host": "127.0.0.1", "port": "2525", "sender": "kntc@so.gov.vn",
              "security": "none", **lines}
    return "".join(f"{key}: {value}\n" for key, value in fields.items())


@pytest.mark.parametrize("port", ["0", "65536", "70000", "-1"])
def test_a_port_out_of_range_is_refused_at_its_line(port: str) -> None:
    with pytest.raises(DefinitionError) as refused:
        validate_located(SmtpSettings, read_yaml(channel_yaml(port=port), source="config.yaml", what="a channel"),
                         source="config.yaml")
    assert str(refused.value).startswith("config.yaml:4:1: port: ")
    assert f"must be a TCP port from 1 to 65535 (25, 465, 587...), got {port}" in str(refused.value)


@pytest.mark.parametrize(("line", "field_name"), [
    ({"sender": "not an address"}, "sender"), ({"security": "tls"}, "security"), ({"host": '""'}, "host"),
    ({"username_env": "KNTC_SMTP_USER"}, "password_env: Value error, missing: username_env is given"),
    ({"password_env": "KNTC_SMTP_PASSWORD"}, "password_env: Value error, is given without username_env")])
def test_other_bad_settings_are_refused(line: dict[str, str], field_name: str) -> None:
    with pytest.raises(DefinitionError, match=field_name):
        validate_located(SmtpSettings, read_yaml(channel_yaml(**line), source="config.yaml", what="a channel"),
                         source="config.yaml")


@pytest.mark.parametrize(("environ", "key", "variable", "state", "holds"), [
    ({}, "username_env", "KNTC_SMTP_USER", "is not set", "user name"),
    ({"KNTC_SMTP_USER": "kntc-mailer"}, "password_env", "KNTC_SMTP_PASSWORD", "is not set", "password"),
    ({"KNTC_SMTP_USER": "kntc-mailer", "KNTC_SMTP_PASSWORD": ""}, "password_env", "KNTC_SMTP_PASSWORD",
     "is empty", "password")])
def test_a_missing_credential_variable_is_refused_before_anything_is_sent(
        server: tuple[Inbox, int], environ: dict[str, str], key: str, variable: str, state: str, holds: str) -> None:
    inbox, port = server
    settings = email_settings(port, username_env="KNTC_SMTP_USER", password_env="KNTC_SMTP_PASSWORD")
    expected = f"channels.email.{key}: the environment variable {variable} {state} (it holds the SMTP {holds})"
    with pytest.raises(ConfigError) as refused:
        smtp_credentials(settings, environ)
    assert str(refused.value) == expected
    with pytest.raises(ConfigError, match=f"^channels\\.email\\.{key}: "):
        smtp_channel(settings, Renderer(shipped_templates(), org=ORG), environ=environ)
    assert smtp_credentials(settings, ENV) == ("kntc-mailer", "pw-for-tests-only")
    assert smtp_credentials(email_settings(port), {}) is None
    assert inbox.tried == []


# ----------------------------------------------------------------------------- TLS (a throwaway certificate)


@dataclass(frozen=True)
class Certificate:
    """A self-signed certificate for 127.0.0.1: the server's context, and a client's that trusts it."""

    server: ssl.SSLContext
    client: ssl.SSLContext


@pytest.fixture
def certificate(tmp_path: Path) -> Certificate:
    openssl = shutil.which("openssl")
    if openssl is None:
        pytest.skip("the TLS tests make their certificate with the openssl command, not found")
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run([openssl, "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
                    "-nodes", "-keyout", str(key), "-out", str(cert), "-days", "1", "-subj", "/CN=127.0.0.1",
                    "-addext", "subjectAltName=IP:127.0.0.1"], check=True, capture_output=True, timeout=30)
    server = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server.load_cert_chain(cert, key)
    return Certificate(server=server, client=ssl.create_default_context(cafile=str(cert)))


def test_starttls_upgrades_before_the_login_and_the_message(certificate: Certificate, kntc_engine: Engine) -> None:
    names = {"username_env": "KNTC_SMTP_USER", "password_env": "KNTC_SMTP_PASSWORD"}
    inbox = Inbox()
    with serve(inbox, tls_context=certificate.server, require_starttls=True,
               authenticator=inbox.authenticate, auth_required=True) as (_, port):
        settings = email_settings(port, security="starttls", **names)
        channel = smtp_channel(settings, Renderer(shipped_templates(), org=ORG), environ=ENV,
                               tls=certificate.client)
        queue(kntc_engine)
        assert dispatch(kntc_engine.runtime, channel, holder="d1").delivered == 1
        # without a context, the system's authorities are trusted: a self-signed server is refused
        untrusting = smtp_channel(settings, Renderer(shipped_templates(), org=ORG), environ=ENV)
        with pytest.raises(DeliveryError, match=r"SSLCertVerificationError$"):
            untrusting.deliver(the_message(kntc_engine))
    assert inbox.logins == [(b"kntc-mailer", b"pw-for-tests-only")]
    [envelope] = inbox.received
    assert isinstance(envelope.content, bytes) and parsed(envelope.content)["Subject"] == SUBJECT


def test_ssl_speaks_tls_from_the_first_byte(certificate: Certificate, kntc_engine: Engine) -> None:
    inbox = Inbox()
    with serve(inbox, ssl_context=certificate.server) as (_, port):
        channel = smtp_channel(email_settings(port, security="ssl"), Renderer(shipped_templates(), org=ORG),
                               environ={}, tls=certificate.client)
        queue(kntc_engine)
        assert dispatch(kntc_engine.runtime, channel, holder="d1").delivered == 1
        with pytest.raises(DeliveryError, match=r"could not take message kntc-email-9: "):
            # plain text to a TLS port: no greeting comes, the client gives up (after its timeout)
            channel_to(port, timeout_seconds=0.5).deliver(OutboxMessage(
                id=9, channel="email", kind="default", case_id=None, data={**DATA, "case": None}, status="pending",
                attempts=0, last_error=None, next_attempt_at=None, created_at=kntc_engine.clock.now()))
    [envelope] = inbox.received
    assert envelope.rcpt_tos == ["tp01@so.gov.vn"]

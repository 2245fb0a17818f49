"""The webhook channel against a real HTTP receiver on 127.0.0.1: signed, idempotent, retried, dead, revived.

The receiver is pytest-httpserver's, started and stopped by the fixture; the store is a SQLite file;
time moves only with the ManualClock (a retry is due at a moment the test reads and checks).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import socket
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from adapters.bootstrap import build
from adapters.config import Settings
from adapters.notify.base import close_channel
from adapters.notify.webhook import (
    WebhookDelivery,
    WebhookSettings,
    sign,
    webhook_body,
    webhook_channel,
    webhook_secret,
)
from engine.errors import ConfigError, DefinitionError
from engine.loader import read_yaml, validate_located
from engine.model import OutboxMessage
from engine.outbox import Channel, dispatch
from engine.service import Engine
from engine.testing import ManualClock
from tests.integration.cli_runner import kntc, ok

SECRET = "s3cr3t-for-tests-only"
#: a notification shaped like the router's (ids, types, dates; an officer's name, no citizen's data)
DATA: dict[str, Any] = {
    "to": {"id": "tp01", "name": "Lê Thị Trưởng", "role": "head_of_unit", "unit": "thanh_tra",
           "email": "tp01@so.gov.vn"},
    "case": {"id": "c-123", "kind": "complaint", "kind_label": "Khiếu nại", "state": "verifying",
             "priority": "urgent", "channel": "post", "received_on": "02/03/2026", "flags": ["crowded"],
             "deadlines": [{"name": "resolution", "due_on": "01/04/2026", "status": "running"}]},
    "event": "hotspot.detected",
    "rule": "hot_spot_in_election",
}


@pytest.fixture
def receiver() -> Iterator[HTTPServer]:
    """An HTTP receiver on 127.0.0.1 (a free port), stopped after the test."""
    server = HTTPServer(host="127.0.0.1", port=0, startup_timeout=10)
    server.start()
    yield server
    server.clear()
    if server.is_running():
        server.stop()


@pytest.fixture
def kntc_engine(tmp_path: Path, settings: Settings, clock: ManualClock) -> Iterator[Engine]:
    eng = build(settings, database_url=f"sqlite:///{tmp_path / 'kntc.db'}", clock=clock)
    yield eng
    eng.close()


def portal(url: str, **overrides: Any) -> WebhookSettings:
    fields: dict[str, Any] = {"id": "portal", "kind": "webhook", "url": url, "secret_env": "KNTC_WEBHOOK_SECRET",
                              "max_attempts": 5, "backoff_seconds": 30, "max_backoff_seconds": 3600,
                              "jitter": 0.2, "timeout_seconds": 5}
    return WebhookSettings.model_validate({**fields, **overrides})


def queue(eng: Engine, kind: str = "hot_spot_at_once", data: dict[str, Any] | None = None) -> None:
    rt = eng.runtime
    with rt.store.transaction() as tx:
        tx.enqueue("portal", kind, "c-123", DATA if data is None else data, rt.now())


def the_message(eng: Engine) -> OutboxMessage:
    with eng.runtime.store.reader() as tx:
        [message] = tx.outbox(channel="portal")
    return message


def answering(*statuses: int) -> Any:
    """A handler answering these statuses in turn, then 200."""
    pending = list(statuses)

    def handler(_request: Request) -> Response:
        return Response("upstream says: Nguyễn Văn A broke it", status=pending.pop(0) if pending else 200)
    return handler


def requests_made(server: HTTPServer) -> list[tuple[Request, Response]]:
    """The POSTs the receiver got (not the fixture's readiness probe)."""
    return [(request, response) for request, response in server.log if request.method == "POST"]


def test_three_refusals_then_one_delivery_with_one_key_a_valid_signature_and_growing_backoff(
        receiver: HTTPServer, kntc_engine: Engine, clock: ManualClock) -> None:
    receiver.expect_request("/kntc", method="POST").respond_with_handler(answering(500, 500, 500))
    channel = webhook_channel(portal(receiver.url_for("/kntc")), secret=SECRET)
    rt = kntc_engine.runtime
    queue(kntc_engine)
    delays: list[float] = []
    try:
        for tries in range(1, 4):
            report = dispatch(rt, channel, holder="d1")
            assert (report.delivered, report.failed, report.dead) == (0, 1, 0)
            message = the_message(kntc_engine)
            assert message.attempts == tries
            assert message.last_error == "DeliveryError: receiver answered HTTP 500"  # not the answer's body
            assert message.next_attempt_at is not None
            delays.append((message.next_attempt_at - rt.now()).total_seconds())
            clock.set(message.next_attempt_at - timedelta(seconds=1))  # one second early: not due yet
            assert dispatch(rt, channel, holder="d1") == type(report)("portal", leased=True)
            assert len(requests_made(receiver)) == tries
            clock.set(message.next_attempt_at)
        assert dispatch(rt, channel, holder="d1").delivered == 1
        assert dispatch(rt, channel, holder="d1").delivered == 0  # sent once: never again
    finally:
        close_channel(channel)
    # backoff 30 s doubling, jitter 0.2: 1st in [24, 36], 2nd in [48, 72], 3rd in [96, 144] seconds
    assert 24 <= delays[0] <= 36 and 48 <= delays[1] <= 72 and 96 <= delays[2] <= 144
    log = requests_made(receiver)
    assert [response.status_code for _, response in log] == [500, 500, 500, 200]
    assert {request.headers["Idempotency-Key"] for request, _ in log} == {"kntc-portal-1"}
    for request, _ in log:
        body = request.get_data()
        expected = "sha256=" + hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest()
        assert hmac.compare_digest(request.headers["X-Kntc-Signature"], expected)
    sent = the_message(kntc_engine)
    assert (sent.status, sent.attempts) == ("sent", 3)


def test_a_receiver_that_never_accepts_makes_the_message_dead_then_retry_delivers_it_once(
        receiver: HTTPServer, kntc_engine: Engine, clock: ManualClock, tmp_path: Path) -> None:
    broken = {"down": True}

    def handler(_request: Request) -> Response:
        return Response("no", status=503) if broken["down"] else Response("ok", status=204)

    receiver.expect_request("/kntc", method="POST").respond_with_handler(handler)
    channel = webhook_channel(portal(receiver.url_for("/kntc"), max_attempts=3), secret=SECRET)
    rt = kntc_engine.runtime
    queue(kntc_engine)
    try:
        for _ in range(2):
            assert dispatch(rt, channel, holder="d1").failed == 1
            due = the_message(kntc_engine).next_attempt_at
            assert due is not None
            clock.set(due)
        assert dispatch(rt, channel, holder="d1").dead == 1  # the 3rd failure of max_attempts: 3
        dead = the_message(kntc_engine)
        assert (dead.status, dead.attempts, dead.next_attempt_at) == ("dead", 3, None)
        assert dead.last_error == "DeliveryError: receiver answered HTTP 503"
        clock.advance(timedelta(days=1))
        assert dispatch(rt, channel, holder="d1").delivered == 0
        assert len(requests_made(receiver)) == 3
        broken["down"] = False
        assert json.loads(ok(kntc(tmp_path / "kntc.db", "outbox", "retry", str(dead.id), "--json"))) == {
            "id": dead.id, "status": "pending"}
        requeued = the_message(kntc_engine)
        assert (requeued.status, requeued.attempts) == ("pending", 0)
        assert requeued.next_attempt_at is not None
        clock.set(requeued.next_attempt_at)  # the CLI stamped its own (wall) clock: the daemon's reaches it
        assert dispatch(rt, channel, holder="d1").delivered == 1
        assert dispatch(rt, channel, holder="d1").delivered == 0
    finally:
        close_channel(channel)
    log = requests_made(receiver)
    assert [response.status_code for _, response in log] == [503, 503, 503, 204]
    assert {request.headers["Idempotency-Key"] for request, _ in log} == {"kntc-portal-1"}
    assert the_message(kntc_engine).status == "sent"


def test_the_body_carries_the_data_as_given_in_utf8_with_local_time(
        receiver: HTTPServer, kntc_engine: Engine) -> None:
    receiver.expect_request("/kntc", method="POST").respond_with_data("", status=200)
    channel = webhook_channel(portal(receiver.url_for("/kntc")), secret=SECRET)
    queue(kntc_engine, kind="complaint_overdue")
    try:
        assert dispatch(kntc_engine.runtime, channel, holder="d1").delivered == 1
    finally:
        close_channel(channel)
    [(request, _)] = requests_made(receiver)
    body = request.get_data()
    assert "Khiếu nại".encode() in body and "Lê Thị Trưởng".encode() in body  # UTF-8 as is, not \\u escapes
    # the clock's 02/03/2026 09:00 in Hà Nội (UTC+7), stored as 02:00 UTC, sent back in local time
    assert json.loads(body) == {"id": "kntc-portal-1", "kind": "complaint_overdue", "case_id": "c-123",
                                "created_at": "2026-03-02T09:00:00+07:00", "data": DATA}
    assert request.headers["Content-Type"] == "application/json; charset=utf-8"
    assert request.headers["User-Agent"] == "kntc"
    assert body == webhook_body(the_message(kntc_engine), "Asia/Ho_Chi_Minh")
    assert request.headers["X-Kntc-Signature"] == sign(SECRET, body)


def test_an_unreachable_or_silent_receiver_is_a_failed_delivery_naming_the_error_class(
        kntc_engine: Engine, clock: ManualClock) -> None:
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        closed_port = probe.getsockname()[1]
    with socket.socket() as silent:  # listens, never answers: the read times out
        silent.bind(("127.0.0.1", 0))
        silent.listen(4)
        port = silent.getsockname()[1]
        for url, timeout, error in (
                (f"http://127.0.0.1:{closed_port}/kntc", 5.0, "DeliveryError: receiver not reached (ConnectError)"),
                (f"http://127.0.0.1:{port}/kntc", 0.2, "DeliveryError: no answer within 0.2 s (ReadTimeout)")):
            channel = webhook_channel(portal(url, timeout_seconds=timeout), secret=SECRET)
            queue(kntc_engine)
            try:
                assert dispatch(kntc_engine.runtime, channel, holder="d1").failed == 1
            finally:
                close_channel(channel)
            with kntc_engine.runtime.store.reader() as tx:
                assert tx.outbox(channel="portal")[-1].last_error == error


def test_a_feed_following_webhook_gets_each_event_with_a_stable_key(
        receiver: HTTPServer, kntc_engine: Engine) -> None:
    receiver.expect_request("/kntc", method="POST").respond_with_data("", status=200)
    channel = webhook_channel(portal(receiver.url_for("/kntc"), feed=True), secret=SECRET)
    assert isinstance(channel, Channel) and channel.follows_feed
    kntc_engine.open_case("complaint", received_at=kntc_engine.clock.now(),
                          petitioners=[{"name": "Nguyễn Văn A", "id_number": "079000000001", "address": "Đà Lạt"}],
                          respondent="Phòng Quản lý đất đai", subject="Thu hồi đất", content="Khiếu nại.",
                          channel="post")
    try:
        delivered = dispatch(kntc_engine.runtime, channel, holder="d1").delivered
    finally:
        close_channel(channel)
    keys = [request.headers["Idempotency-Key"] for request, _ in requests_made(receiver)]
    assert delivered == len(keys) >= 1
    assert keys == [f"kntc-portal-feed-{i}" for i in range(1, len(keys) + 1)]


# -- a user's mistakes -------------------------------------------------------------------------------
@pytest.mark.parametrize(("url", "reason"), [
    ("ftp://127.0.0.1/kntc", "url: Value error, must be an http:// or https:// URL, got ftp://"),
    ("localhost:8080/kntc", "url: Value error, must start with http:// or https://"),
    ("/kntc", "url: Value error, must start with http:// or https://"),
    ("http:///kntc", "url: Value error, names no host (write http://HOST[:PORT]/PATH)"),
    ("http://127.0.0.1:port/kntc", "url: Value error, is not a valid URL (check the host and the port)"),
])
def test_a_url_that_is_not_http_with_a_host_is_refused_at_its_line(url: str, reason: str) -> None:
    text = f'id: portal\nkind: webhook\nurl: "{url}"\nsecret_env: KNTC_WEBHOOK_SECRET\n'
    with pytest.raises(DefinitionError) as refused:
        validate_located(WebhookSettings, read_yaml(text, source="config.yaml", what="a channel"),
                         source="config.yaml")
    assert str(refused.value) == f"config.yaml:3:1: {reason}"


def test_a_secret_env_that_is_not_a_variable_name_is_refused() -> None:
    with pytest.raises(ValueError, match="secret_env"):
        portal("http://127.0.0.1:8080/kntc", secret_env="the secret itself")


@pytest.mark.parametrize(("environ", "state"), [({}, "is not set"), ({"KNTC_WEBHOOK_SECRET": ""}, "is empty")])
def test_a_missing_secret_names_its_variable_and_builds_no_channel(environ: dict[str, str], state: str) -> None:
    settings = portal("http://127.0.0.1:8080/kntc")
    with pytest.raises(ConfigError) as refused:
        webhook_secret(settings, environ)
    assert str(refused.value) == (f"channels.portal.secret_env: the environment variable KNTC_WEBHOOK_SECRET "
                                  f"{state} (it holds the webhook's signing secret)")
    with pytest.raises(ConfigError, match=r"^channels\.portal\.secret_env: "):
        WebhookDelivery(settings, secret="")
    assert webhook_secret(settings, {"KNTC_WEBHOOK_SECRET": SECRET}) == SECRET


def test_the_signature_is_hmac_sha256_of_the_body() -> None:
    assert sign("key", b"{}") == "sha256=" + hmac.new(b"key", b"{}", hashlib.sha256).hexdigest()
    assert sign("key", b"{}") != sign("other", b"{}")
    assert webhook_body(OutboxMessage(id=7, channel="portal", kind="roster_gap", case_id=None,
                                      data={"day": "03/03/2026", "b": 1}, status="pending", attempts=0,
                                      last_error=None, next_attempt_at=None,
                                      created_at=datetime.fromisoformat("2026-03-02T17:30:00+00:00")),
                        "Asia/Ho_Chi_Minh") == (
        b'{"case_id":null,"created_at":"2026-03-03T00:30:00+07:00","data":{"b":1,"day":"03/03/2026"},'
        b'"id":"kntc-portal-7","kind":"roster_gap"}')

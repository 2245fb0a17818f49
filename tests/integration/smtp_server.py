"""A local SMTP server for tests (aiosmtpd on 127.0.0.1, a free port), and what it received."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, AuthResult, Envelope, LoginPassword, Session

__all__ = ["Inbox", "free_port", "serve"]


@dataclass
class Inbox:
    """The handler: keeps what it accepts; ``refuse_data`` / ``refuse_rcpt``: answers to give instead."""

    received: list[Envelope] = field(default_factory=list)
    tried: list[bytes] = field(default_factory=list)
    refuse_data: list[str] = field(default_factory=list)
    refuse_rcpt: str | None = None
    logins: list[tuple[bytes, bytes]] = field(default_factory=list)

    async def handle_RCPT(self, server: SMTP, session: Session, envelope: Envelope, address: str,
                          rcpt_options: list[str]) -> str:
        if self.refuse_rcpt:
            return self.refuse_rcpt
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        assert isinstance(envelope.content, bytes)
        self.tried.append(envelope.content)
        if self.refuse_data:
            return self.refuse_data.pop(0)
        self.received.append(envelope)
        return "250 Message accepted"

    def authenticate(self, server: SMTP, session: Session, envelope: Envelope, mechanism: str,
                     auth_data: Any) -> AuthResult:
        assert isinstance(auth_data, LoginPassword)
        self.logins.append((auth_data.login, auth_data.password))
        ok = (auth_data.login, auth_data.password) == (b"kntc-mailer", b"pw-for-tests-only")
        return AuthResult(success=ok, handled=False)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextmanager
def serve(inbox: Inbox, **kwargs: Any) -> Iterator[tuple[Inbox, int]]:
    """Run an aiosmtpd server for ``inbox`` on 127.0.0.1 (a free port) while the block runs."""
    port = free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port, ready_timeout=10, **kwargs)
    controller.start()
    try:
        yield inbox, port
    finally:
        controller.stop()

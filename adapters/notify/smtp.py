"""The ``smtp`` channel: each message as an e-mail to the officer, in Vietnamese, from a template (smtplib).

A ``config.yaml`` entry::

    channels:
      - {id: email, kind: smtp, host: mail.so.gov.vn, port: 587, sender: kntc@so.gov.vn,
         username_env: KNTC_SMTP_USER, password_env: KNTC_SMTP_PASSWORD, security: starttls}

``security``: ``starttls`` (the default: EHLO, STARTTLS, EHLO again; a server that does not offer
it is a failed delivery, never a clear-text one), ``ssl`` (TLS from the first byte, port 465 as a
rule) or ``none`` (a relay on the same host). The user name and password are read from the
environment variables named (both or neither), when the channel is built: a missing one is
refused then, before anything is sent.

Each message is rendered by the :class:`~adapters.notify.templates.Renderer` (its kind's template,
or ``default``) and sent to ``data["to"]["email"]``: ``From`` the sender (the body's name as the
display name), ``Subject`` the rendered subject (RFC 2047 UTF-8, so a Vietnamese subject reads as
written), a UTF-8 text body, ``Date`` the message's creation, and a ``Message-ID`` derived from the
message's idempotency key: every retry of one message carries the same one, so a receiver can drop
a repeat (delivery is at least once). One connection per delivery.

Any SMTP or network failure is a :class:`~engine.errors.DeliveryError` naming the error class and
the SMTP code, never the message's text or address; the outbox retries it with the channel's backoff
and marks it dead after ``max_attempts``.
"""

from __future__ import annotations

import hashlib
import re
import smtplib
import ssl
from collections.abc import Mapping
from email.headerregistry import Address
from email.message import EmailMessage
from email.policy import SMTP as SMTP_POLICY
from email.utils import format_datetime
from typing import Literal

from pydantic import Field, ValidationInfo, field_validator

from adapters.notify.base import ChannelSettings
from adapters.notify.templates import Rendered, Renderer
from engine.errors import ConfigError, DeliveryError
from engine.model import OutboxMessage
from engine.outbox import Channel

__all__ = ["SmtpDelivery", "SmtpSettings", "build_email", "message_id", "recipient", "smtp_channel",
           "smtp_credentials"]

_ADDRESS = re.compile(r"^[^@\s<>(),;:\"\[\]]+@[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9-]+)+$")
_ENV_NAME = r"^[A-Z_][A-Z0-9_]*$"
_SAFE_KEY = re.compile(r"^[A-Za-z0-9._-]{1,100}$")


class SmtpSettings(ChannelSettings):
    """An ``smtp`` channel: the server, the sender, the security, where the credentials are, the timeout."""

    kind: Literal["smtp"]
    host: str = Field(min_length=1, max_length=253)
    port: int
    sender: str = Field(max_length=254)
    security: Literal["none", "starttls", "ssl"] = "starttls"
    username_env: str | None = Field(default=None, pattern=_ENV_NAME, max_length=200)
    password_env: str | None = Field(default=None, pattern=_ENV_NAME, max_length=200, validate_default=True)
    timeout_seconds: float = Field(default=30.0, gt=0, le=300)

    @field_validator("host")
    @classmethod
    def _host(cls, value: str) -> str:
        if not value.strip() or any(c.isspace() for c in value) or "/" in value or "@" in value:
            raise ValueError(f"must be a host name or address (e.g. mail.so.gov.vn), got {value!r}")
        return value

    @field_validator("port")
    @classmethod
    def _port(cls, value: int) -> int:
        if not 1 <= value <= 65535:
            raise ValueError(f"must be a TCP port from 1 to 65535 (25, 465, 587...), got {value}")
        return value

    @field_validator("sender")
    @classmethod
    def _sender(cls, value: str) -> str:
        if not _ADDRESS.match(value):
            raise ValueError(f"must be an e-mail address (e.g. kntc@so.gov.vn), got {value!r}")
        return value

    @field_validator("password_env")
    @classmethod
    def _both_or_neither(cls, value: str | None, info: ValidationInfo) -> str | None:
        # on password_env (validated even when absent): the error points at the channel, or this line
        user = info.data.get("username_env")
        if user is not None and value is None:
            raise ValueError("missing: username_env is given, so name the variable holding the password too "
                             "(or neither, for a server without login)")
        if user is None and value is not None:
            raise ValueError("is given without username_env: name both variables, or neither for a server "
                             "without login")
        return value


def smtp_credentials(settings: SmtpSettings, environ: Mapping[str, str]) -> tuple[str, str] | None:
    """(user, password) from the variables the settings name, or None; ConfigError naming an unset one."""
    if settings.username_env is None or settings.password_env is None:
        return None
    values: list[str] = []
    for key, name, holds in (("username_env", settings.username_env, "user name"),
                             ("password_env", settings.password_env, "password")):
        value = environ.get(name, "")
        if not value:
            state = "is empty" if name in environ else "is not set"
            raise ConfigError(f"channels.{settings.id}.{key}: the environment variable {name} {state} "
                              f"(it holds the SMTP {holds})")
        values.append(value)
    return values[0], values[1]


def message_id(message: OutboxMessage, sender: str) -> str:
    """The ``Message-ID`` of ``message``: the same for every retry (from its idempotency key)."""
    key = message.key
    local = key if _SAFE_KEY.match(key) else hashlib.sha256(key.encode("utf-8")).hexdigest()[:40]
    return f"<{local}@{sender.rpartition('@')[2]}>"


def recipient(message: OutboxMessage) -> str:
    """The officer's e-mail address (``data["to"]["email"]``); DeliveryError naming the officer id if none."""
    to = message.data.get("to")
    officer = to.get("id") if isinstance(to, Mapping) else None
    address = to.get("email") if isinstance(to, Mapping) else None
    if not isinstance(address, str) or not address:
        raise DeliveryError(f"officer {officer!r} has no e-mail address (people: email) for message {message.key}")
    if not _ADDRESS.match(address):
        raise DeliveryError(f"officer {officer!r} has an e-mail address that is not one, for message {message.key}")
    return address


def build_email(message: OutboxMessage, rendered: Rendered, *, sender: str, org: str) -> EmailMessage:
    """The e-mail of ``message`` as rendered: From, To, Subject, Date, Message-ID, a UTF-8 text body."""
    mail = EmailMessage(policy=SMTP_POLICY)
    mail["From"] = Address(display_name=org, addr_spec=sender) if org else sender
    mail["To"] = recipient(message)
    mail["Subject"] = rendered.subject
    mail["Date"] = format_datetime(message.created_at)
    mail["Message-ID"] = message_id(message, sender)
    mail["Auto-Submitted"] = "auto-generated"  # RFC 3834: no vacation replies to the daemon
    mail.set_content(rendered.body, charset="utf-8", cte="quoted-printable")
    return mail


class SmtpDelivery:
    """Delivers one message per call: renders it, connects, (STARTTLS, logs in,) sends, disconnects."""

    def __init__(self, settings: SmtpSettings, renderer: Renderer, *, credentials: tuple[str, str] | None,
                 tls: ssl.SSLContext | None = None) -> None:
        """``tls``: the context of ``starttls`` / ``ssl`` (default: the system's trusted authorities)."""
        self.settings = settings
        self.renderer = renderer
        self._credentials = credentials
        self._tls = tls if tls is not None or settings.security == "none" else ssl.create_default_context()

    def __call__(self, message: OutboxMessage) -> None:
        """Send ``message``; DeliveryError (the error class and SMTP code only) when it is not accepted."""
        mail = build_email(message, self.renderer.render(message), sender=self.settings.sender,
                           org=self.renderer.org)
        address = str(mail["To"])
        where = f"SMTP server {self.settings.host}:{self.settings.port}"
        try:
            refused = self._send(mail, address)
        except smtplib.SMTPRecipientsRefused as exc:
            codes = sorted({str(code) for code, _ in exc.recipients.values()})
            raise DeliveryError(f"{where} refused the recipient of message {message.key}: "
                                f"SMTPRecipientsRefused {'/'.join(codes)}") from None
        except smtplib.SMTPResponseException as exc:
            raise DeliveryError(f"{where} refused message {message.key}: {type(exc).__name__} "
                                f"{exc.smtp_code}") from None
        except (smtplib.SMTPException, OSError) as exc:  # timeouts, refused connections, TLS failures
            raise DeliveryError(f"{where} could not take message {message.key}: {type(exc).__name__}") from None
        if refused:
            raise DeliveryError(f"{where} refused the recipient of message {message.key}")

    def _send(self, mail: EmailMessage, address: str) -> dict[str, tuple[int, bytes]]:
        settings = self.settings
        smtp: smtplib.SMTP
        if settings.security == "ssl":
            smtp = smtplib.SMTP_SSL(settings.host, settings.port, timeout=settings.timeout_seconds, context=self._tls)
        else:
            smtp = smtplib.SMTP(settings.host, settings.port, timeout=settings.timeout_seconds)
        with smtp:
            if settings.security == "starttls":
                smtp.ehlo()
                smtp.starttls(context=self._tls)
                smtp.ehlo()
            if self._credentials is not None:
                smtp.login(*self._credentials)
            return smtp.send_message(mail, from_addr=settings.sender, to_addrs=[address])


def smtp_channel(settings: SmtpSettings, renderer: Renderer, *, environ: Mapping[str, str],
                 tls: ssl.SSLContext | None = None) -> Channel:
    """The outbox channel of ``settings``; ConfigError (``channels.<id>.<key>: ...``) if a credential is unset."""
    delivery = SmtpDelivery(settings, renderer, credentials=smtp_credentials(settings, environ), tls=tls)
    return Channel(settings.id, delivery, retry=settings.retry())

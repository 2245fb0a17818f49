"""The ``webhook`` channel: each message POSTed as signed JSON to a receiver's URL (httpx).

A ``config.yaml`` entry::

    channels:
      - {id: portal, kind: webhook, url: "https://portal.example.vn/kntc", secret_env: KNTC_WEBHOOK_SECRET}

What the receiver gets, for each message (and, with ``feed: true``, each feed event):

* the body: canonical JSON (keys sorted, no spaces, UTF-8, non-ASCII as is) of ``{"id": key,
  "kind", "case_id", "created_at" (local time with its offset), "data"}`` (:func:`webhook_body`);
* ``Idempotency-Key``: the message's key, the same on every retry (drop a repeat by it: delivery
  is at least once);
* ``X-Kntc-Signature: sha256=<hex>``: the HMAC-SHA256 of the body's bytes under the shared secret
  (:func:`sign`); a receiver recomputes it over the raw body and compares with
  :func:`hmac.compare_digest`.

A 2xx answer is a delivery; anything else (another status, a timeout, a refused connection) raises
:class:`~engine.errors.DeliveryError` naming only the status or the error class (never the
answer's body or the message's data); the outbox retries it with the channel's backoff and jitter
and marks it dead after ``max_attempts``.

One :class:`httpx.Client` (keep-alive) serves every delivery of a channel: close it when the
daemon stops with :func:`adapters.notify.base.close_channel` (or ``channel.deliver.close()``).
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Mapping
from typing import Literal
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

import httpx
from pydantic import Field, field_validator

from adapters.notify.base import ChannelSettings
from engine.errors import ConfigError, DeliveryError
from engine.model import OutboxMessage
from engine.outbox import Channel

__all__ = ["WebhookDelivery", "WebhookSettings", "sign", "webhook_body", "webhook_channel", "webhook_secret"]

USER_AGENT = "kntc"
SIGNATURE_HEADER = "X-Kntc-Signature"


class WebhookSettings(ChannelSettings):
    """A ``webhook`` channel: where to POST, the variable holding the secret, the timeout."""

    kind: Literal["webhook"]
    url: str = Field(max_length=2000)
    secret_env: str = Field(pattern=r"^[A-Z_][A-Z0-9_]*$", max_length=200)
    timeout_seconds: float = Field(default=10.0, gt=0, le=300)
    feed: bool = False  # also deliver every feed event (like the log channel)

    @field_validator("url")
    @classmethod
    def _http_url(cls, value: str) -> str:
        # the URL may carry a token: messages name its parts, never the whole of it
        try:
            parts = urlsplit(value)
            hostname = parts.hostname
            _ = parts.port  # a port that is not a number raises here
        except ValueError:
            raise ValueError("is not a valid URL (check the host and the port)") from None
        if "://" not in value:
            raise ValueError("must start with http:// or https://")
        if parts.scheme not in ("http", "https"):
            raise ValueError(f"must be an http:// or https:// URL, got {value.split('://', 1)[0][:20]}://")
        if not hostname:
            raise ValueError(f"names no host (write {parts.scheme}://HOST[:PORT]/PATH)")
        if any(c.isspace() for c in value):
            raise ValueError("contains a space (percent-encode it as %20)")
        return value


def webhook_secret(settings: WebhookSettings, environ: Mapping[str, str]) -> str:
    """The channel's signing secret from ``environ``; ConfigError naming the variable if unset or empty."""
    secret = environ.get(settings.secret_env, "")
    if not secret:
        state = "is empty" if settings.secret_env in environ else "is not set"
        raise ConfigError(f"channels.{settings.id}.secret_env: the environment variable {settings.secret_env} "
                          f"{state} (it holds the webhook's signing secret)")
    return secret


def sign(secret: str, body: bytes) -> str:
    """The ``X-Kntc-Signature`` value of ``body``: ``sha256=`` and the hex HMAC-SHA256 under ``secret``."""
    return "sha256=" + hmac.new(secret.encode("utf-8"), body, hashlib.sha256).hexdigest()


def webhook_body(message: OutboxMessage, timezone: ZoneInfo | str) -> bytes:
    """The JSON body POSTed for ``message`` (canonical: the bytes the signature covers)."""
    zone = timezone if isinstance(timezone, ZoneInfo) else ZoneInfo(timezone)
    document = {"id": message.key, "kind": message.kind, "case_id": message.case_id,
                "created_at": message.created_at.astimezone(zone).isoformat(), "data": message.data}
    try:
        text = json.dumps(document, sort_keys=True, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
    except (TypeError, ValueError) as exc:  # the data's values are not named: they may be personal
        raise DeliveryError(f"message data cannot be sent as JSON ({type(exc).__name__})") from None
    return text.encode("utf-8")


class WebhookDelivery:
    """Delivers one message per call by POSTing it; holds the keep-alive client until :meth:`close`."""

    def __init__(self, settings: WebhookSettings, *, secret: str, timezone: str = "Asia/Ho_Chi_Minh",
                 client: httpx.Client | None = None) -> None:
        """``client``: one to use instead of a fresh one (then it stays the caller's to close)."""
        if not secret:
            raise ConfigError(f"channels.{settings.id}.secret_env: the webhook's signing secret is empty")
        self.url = settings.url
        self._secret = secret
        self._zone = ZoneInfo(timezone)
        self._timeout = httpx.Timeout(settings.timeout_seconds)
        self._owned = client is None
        self._client = client if client is not None else httpx.Client(
            timeout=self._timeout, headers={"User-Agent": USER_AGENT}, follow_redirects=False)

    def __call__(self, message: OutboxMessage) -> None:
        """POST ``message``; DeliveryError unless the receiver answers 2xx."""
        body = webhook_body(message, self._zone)
        headers = {"Content-Type": "application/json; charset=utf-8", "Idempotency-Key": message.key,
                   SIGNATURE_HEADER: sign(self._secret, body),
                   "User-Agent": USER_AGENT}
        try:
            response = self._client.post(self.url, content=body, headers=headers, timeout=self._timeout)
        except httpx.TimeoutException as exc:
            raise DeliveryError(f"no answer within {self._timeout.read:g} s ({type(exc).__name__})") from None
        except httpx.HTTPError as exc:
            raise DeliveryError(f"receiver not reached ({type(exc).__name__})") from None
        if not 200 <= response.status_code < 300:
            raise DeliveryError(f"receiver answered HTTP {response.status_code}")

    def close(self) -> None:
        """Close the client's connections (a client passed in is left to its owner); idempotent."""
        if self._owned:
            self._client.close()


def webhook_channel(settings: WebhookSettings, *, secret: str, timezone: str = "Asia/Ho_Chi_Minh",
                    client: httpx.Client | None = None) -> Channel:
    """The outbox channel of ``settings``: its retry policy, and a :class:`WebhookDelivery` to close."""
    delivery = WebhookDelivery(settings, secret=secret, timezone=timezone, client=client)
    return Channel(settings.id, delivery, follows_feed=settings.feed, retry=settings.retry())

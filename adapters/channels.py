"""The outbox channels of a configuration, built for the daemon: log, webhook, SMTP, and the router.

:func:`build_channels` reads each channel's secrets from the environment (a webhook's
``secret_env``, an SMTP server's ``username_env`` / ``password_env``) and refuses a missing one
at the channel's file:line before anything is sent. :func:`router` gives what the daemon needs
to route notifications (engine/routing.py): the routing of ``notifications:`` and the people
directory (config ``people:`` and the ``people`` table).
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Mapping
from pathlib import Path

from adapters.config import Settings
from adapters.notify.log import LOG_CHANNEL
from adapters.notify.smtp import SmtpSettings, smtp_channel
from adapters.notify.templates import Renderer, merged
from adapters.notify.webhook import WebhookSettings, webhook_channel, webhook_secret
from adapters.people_source import load_directory
from engine.errors import ConfigError, DefinitionError
from engine.loader import locate, read_yaml
from engine.outbox import Channel
from engine.people import Directory
from engine.ports import Transaction
from engine.routing import Routing

__all__ = ["build_channels", "renderer", "router"]

_WHERE = re.compile(r"^channels\.(?P<id>[a-z][a-z0-9_]*)\.(?P<key>[a-z_]+): ")


def renderer(settings: Settings) -> Renderer:
    """The templates of this configuration (shipped ones, overridden by ``templates:``), compiled."""
    return Renderer(merged(settings.templates), org=settings.organisation.name)


def build_channels(settings: Settings, *, environ: Mapping[str, str] | None = None) -> list[Channel]:
    """The configured channels (only ``log`` when none is configured); a missing secret is refused at its line."""
    env = os.environ if environ is None else environ
    channels: list[Channel] = []
    render: Renderer | None = None
    for entry in settings.channels or ():
        try:
            if isinstance(entry, WebhookSettings):
                channels.append(webhook_channel(entry, secret=webhook_secret(entry, env), timezone=settings.timezone))
            elif isinstance(entry, SmtpSettings):
                render = render or renderer(settings)
                channels.append(smtp_channel(entry, render, environ=env))
            else:
                channels.append(Channel(entry.id, LOG_CHANNEL.deliver, follows_feed=True, retry=entry.retry()))
        except ConfigError as exc:
            raise _located(exc, settings) from None
    return channels or [LOG_CHANNEL]


def router(settings: Settings) -> tuple[Routing, Callable[[Transaction], Directory]]:
    """The routing and the directory source the daemon routes notifications with."""
    return settings.notifications.routing(), lambda tx: load_directory(settings, tx)


def _located(exc: ConfigError, settings: Settings) -> ConfigError:
    match, source = _WHERE.match(str(exc)), settings.source
    if not source or match is None:
        return exc
    index = next((i for i, c in enumerate(settings.channels) if c.id == match["id"]), None)
    try:
        document = read_yaml(Path(source).read_text(encoding="utf-8"), source=str(source), what="config.yaml")
    except (OSError, UnicodeDecodeError, DefinitionError):
        return exc
    return ConfigError(str(locate(document, ("channels", index if index is not None else 0, match["key"]),
                                  str(exc), str(source))))

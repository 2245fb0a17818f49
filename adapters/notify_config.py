"""``config.yaml`` ``channels:``, ``notifications:`` and ``templates:``: how notifications reach officers.

``channels`` lists the outbox channels (``log``, ``webhook``, ``smtp``; adapters/notify/);
``notifications`` says which of them reach an officer when neither the rule nor the officer
chooses (:class:`engine.routing.Routing`); ``templates`` overrides the shipped Vietnamese
templates by message kind (adapters/notify/templates.yaml). Everything is checked when the file
is read, each problem at its file:line; secrets are read from the environment only when the
channels are built (:func:`adapters.channels.build_channels`), and a missing one is refused there.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field

from adapters.notify.base import LogSettings
from adapters.notify.smtp import SmtpSettings
from adapters.notify.templates import TemplateText, template_problems
from adapters.notify.webhook import WebhookSettings
from engine.errors import DefinitionError
from engine.escalation import DEFAULT_CHANNEL, Rule
from engine.loader import locate
from engine.routing import Routing

__all__ = ["ChannelEntry", "NotificationSettings", "channel_ids", "notification_problems"]

#: One entry of ``channels:``, told apart by ``kind``.
ChannelEntry = Annotated[LogSettings | WebhookSettings | SmtpSettings, Field(discriminator="kind")]
#: The channels of a configuration that lists none: the log.
IMPLICIT = ("log",)


class NotificationSettings(BaseModel):
    """Which channels reach an officer when neither the rule nor the officer names one."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    default_channels: list[str] = Field(default_factory=lambda: list(IMPLICIT), min_length=1)
    role_channels: dict[str, list[str]] = Field(default_factory=dict)
    #: the unit whose officers a case's notification reaches when the case names none (``fields.unit``)
    default_unit: str | None = None

    def routing(self) -> Routing:
        """The engine's routing of these settings."""
        return Routing(default_channels=tuple(self.default_channels),
                       role_channels={role: tuple(ids) for role, ids in self.role_channels.items()},
                       default_unit=self.default_unit)


def channel_ids(channels: Collection[LogSettings | WebhookSettings | SmtpSettings]) -> list[str]:
    """The ids of the configured channels (the implicit ``log`` when none is configured)."""
    return [c.id for c in channels] or list(IMPLICIT)


def notification_problems(channels: list[LogSettings | WebhookSettings | SmtpSettings],
                          notifications: NotificationSettings, templates: Mapping[str, TemplateText],
                          rules: list[Rule], units: Collection[str], roles: Collection[str], document: Any,
                          source: str) -> list[DefinitionError]:
    """Channel ids given twice or unknown, unknown units and roles, templates that do not compile; at file:line."""
    known = channel_ids(channels)
    listing = ", ".join(known)
    problems: list[DefinitionError] = []

    def at(loc: tuple[str | int, ...], message: str) -> None:
        problems.append(locate(document, loc, f"{'.'.join(map(str, loc))}: {message}", source))

    seen: set[str] = set()
    for i, channel in enumerate(channels):
        if channel.id in seen or channel.id == DEFAULT_CHANNEL:
            at(("channels", i, "id"), f"{channel.id!r} is given twice" if channel.id in seen
               else f"{DEFAULT_CHANNEL!r} is the router's own channel: choose another id")
        seen.add(channel.id)
    for j, cid in enumerate(notifications.default_channels):
        if cid not in known:
            at(("notifications", "default_channels", j), f"unknown channel {cid!r} (channels: {listing})")
    for role, ids in notifications.role_channels.items():
        if role not in roles:
            at(("notifications", "role_channels", role), f"unknown role {role!r} (organisation.roles)")
        for j, cid in enumerate(ids):
            if cid not in known:
                at(("notifications", "role_channels", role, j), f"unknown channel {cid!r} (channels: {listing})")
    unit = notifications.default_unit
    if unit is not None and unit not in units:
        at(("notifications", "default_unit"),
           f"unknown unit {unit!r} (organisation.units: {', '.join(units) or 'none'})")
    for i, rule in enumerate(rules):
        for j, action in enumerate(rule.then):
            if action.notify and action.notify.channel != DEFAULT_CHANNEL and action.notify.channel not in known:
                at(("escalation", "rules", i, "then", j, "notify", "channel"),
                   f"unknown channel {action.notify.channel!r} (channels: {listing})")
    for (kind, part), message in template_problems(templates):
        at(("templates", kind, part), message)
    return problems

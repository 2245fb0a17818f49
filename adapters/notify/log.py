"""The ``log`` channel: each feed event (and queued message) as one structured log line.

Ids and types only, never personal data. It follows the feed: every event is delivered to it.
"""

from __future__ import annotations

from engine.logs import get_logger
from engine.model import OutboxMessage
from engine.outbox import Channel

__all__ = ["LOG_CHANNEL", "log_channel"]

log = get_logger("outbox")


def log_channel(message: OutboxMessage) -> None:
    """Deliver ``message`` to the log."""
    log.info("event_delivered", seq=message.data.get("seq"), type=message.kind, case_id=message.case_id,
             deadline=message.data.get("deadline"), kind=message.data.get("kind"), key=message.key)


LOG_CHANNEL = Channel("log", log_channel, follows_feed=True)

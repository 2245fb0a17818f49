"""The ``log`` channel: each feed event as one structured log line (ids only, no personal data)."""

from __future__ import annotations

import structlog

from engine.model import Event

__all__ = ["log_channel"]

log = structlog.get_logger("kntc.outbox")


def log_channel(event: Event) -> None:
    """Deliver ``event`` to the log."""
    log.info("event_delivered", seq=event.seq, type=event.type, case_id=event.case_id,
             deadline=event.data.get("deadline"), kind=event.data.get("kind"))

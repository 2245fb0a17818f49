"""What every configured outbox channel has: its id and how a failed delivery is tried again."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from engine.outbox import Channel
from engine.runtime import Retry

__all__ = ["ChannelSettings", "LogSettings", "close_channel"]


class ChannelSettings(BaseModel):
    """A channel of ``config.yaml`` ``channels:``: its id and its retry policy.

    The n-th failed delivery of a message waits ``backoff_seconds * 2**(n-1)`` (at most
    ``max_backoff_seconds``, spread by ``jitter``); after ``max_attempts`` failures it is dead.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    max_attempts: int = Field(default=8, ge=1, le=100)
    backoff_seconds: float = Field(default=30.0, gt=0, le=86_400)
    max_backoff_seconds: float = Field(default=3_600.0, gt=0, le=7 * 86_400)
    jitter: float = Field(default=0.2, ge=0, lt=1)

    def retry(self) -> Retry:
        """The engine's retry policy of these settings."""
        return Retry(max_attempts=self.max_attempts, base_seconds=self.backoff_seconds,
                     max_seconds=self.max_backoff_seconds, jitter=self.jitter)


class LogSettings(ChannelSettings):
    """The ``log`` channel: every feed event and queued message as one log line (ids only)."""

    kind: Literal["log"]


def close_channel(channel: Channel) -> None:
    """Close what ``channel``'s delivery holds (a webhook's connections), if it holds anything."""
    close = getattr(channel.deliver, "close", None)
    if callable(close):
        close()

"""kntc's loggers: structlog over the standard library's ``logging``, configured by the host only.

Library manners: kntc never configures logging and never prints. ``get_logger("tick")`` returns a
logger whose lines go to the stdlib logger ``kntc.tick`` through structlog, so:

- a host that configures nothing sees nothing on stdout, ever; stdlib's last-resort handler
  shows WARNING and above on stderr, and info lines (one per tick, for instance) go nowhere;
- a host that wants kntc's lines installs a handler on the ``kntc`` logger (or the root) and a
  level. Each record's message reads ``event key=value ...``; the structured fields are also on
  the record, as ``record.kntc_event`` (str) and ``record.kntc_fields`` (dict), for a JSON
  formatter. Log lines carry ids and counts, never personal data.

The ``kntc`` command line installs such a handler on stderr (``adapters.cli``). structlog itself
is imported at the first line that a handler would actually receive, not at import.
"""

from __future__ import annotations

import logging
from collections.abc import MutableMapping
from typing import Any

__all__ = ["ROOT_LOGGER", "KntcLogger", "get_logger", "to_stdlib"]

#: The stdlib logger every kntc logger is a child of.
ROOT_LOGGER = "kntc"


def to_stdlib(_logger: Any, _method: str, event_dict: MutableMapping[str, Any]
              ) -> tuple[tuple[Any, ...], dict[str, Any]]:
    """structlog's last processor: the stdlib call, a readable message with the fields as ``extra``."""
    fields = dict(event_dict)
    event = str(fields.pop("event", ""))
    exc_info = fields.pop("exc_info", None)
    fields.pop("level", None)
    message = " ".join([event, *(f"{key}={value}" for key, value in fields.items())])
    kwargs: dict[str, Any] = {"extra": {"kntc_event": event, "kntc_fields": fields}}
    if exc_info:
        kwargs["exc_info"] = exc_info
    return (message,), kwargs


class KntcLogger:
    """A structlog logger bound to the stdlib logger ``kntc.<name>``, created at its first used line."""

    __slots__ = ("_bound", "_stdlib")

    def __init__(self, name: str) -> None:
        self._stdlib = logging.getLogger(f"{ROOT_LOGGER}.{name}")
        self._bound: Any = None

    @property
    def name(self) -> str:
        """The stdlib logger's name (``kntc.<name>``)."""
        return self._stdlib.name

    def _structlog(self) -> Any:
        if self._bound is None:
            import structlog  # here, not at import: most commands never log a line anyone receives
            self._bound = structlog.wrap_logger(
                self._stdlib, processors=[structlog.stdlib.filter_by_level, to_stdlib],
                wrapper_class=structlog.stdlib.BoundLogger)
        return self._bound

    def bind(self, **values: Any) -> Any:
        """A structlog ``BoundLogger`` carrying ``values`` on every line."""
        return self._structlog().bind(**values)

    def _log(self, level: int, event: str, values: dict[str, Any]) -> None:
        if self._stdlib.isEnabledFor(level):
            getattr(self._structlog(), logging.getLevelName(level).lower())(event, **values)

    def debug(self, event: str, **values: Any) -> None:
        """Log ``event`` at DEBUG."""
        self._log(logging.DEBUG, event, values)

    def info(self, event: str, **values: Any) -> None:
        """Log ``event`` at INFO."""
        self._log(logging.INFO, event, values)

    def warning(self, event: str, **values: Any) -> None:
        """Log ``event`` at WARNING."""
        self._log(logging.WARNING, event, values)

    def error(self, event: str, **values: Any) -> None:
        """Log ``event`` at ERROR."""
        self._log(logging.ERROR, event, values)

    def exception(self, event: str, **values: Any) -> None:
        """Log ``event`` at ERROR with the exception being handled."""
        self._log(logging.ERROR, event, {**values, "exc_info": True})


def get_logger(name: str) -> KntcLogger:
    """The logger ``kntc.<name>`` (e.g. ``get_logger("tick")``); cheap, safe at module level."""
    return KntcLogger(name)


def describe(exc: BaseException) -> str:
    """An exception as an operator reads it in a log or a dead item: its type and first line, short."""
    text = str(exc).strip()
    return f"{type(exc).__name__}: {text.splitlines()[0] if text else ''}"[:500]

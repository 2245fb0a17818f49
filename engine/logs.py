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

Personal data never reaches a handler: every line's fields pass through
:func:`engine.log_redaction.redact_fields` (names, id numbers, phones, e-mail addresses, in any
field, nested too) before the record is made, and :class:`RedactingFilter` does the same to any
record a handler of the host's receives (the CLI's handler has one). Inside :func:`bound` (the
pipeline binds ``case_id`` around every command it records) every line carries the bound values.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Mapping, MutableMapping
from contextlib import contextmanager
from contextvars import ContextVar
from types import MappingProxyType
from typing import Any

from engine.log_redaction import redact_fields, redact_text

__all__ = ["ROOT_LOGGER", "KntcLogger", "RedactingFilter", "bound", "bound_values", "get_logger", "line_of",
           "merge_bound", "redact", "to_stdlib"]

#: The stdlib logger every kntc logger is a child of.
ROOT_LOGGER = "kntc"

#: Values bound to every line logged in the current context (thread, task): see :func:`bound`.
_BOUND: ContextVar[Mapping[str, Any]] = ContextVar("kntc_log_bound", default=MappingProxyType({}))
#: structlog's own keys: not data, never redacted by key.
_RESERVED = ("event", "exc_info", "stack_info", "level")


@contextmanager
def bound(**values: Any) -> Iterator[None]:
    """Bind ``values`` (e.g. ``case_id=...``) to every kntc line logged inside the ``with``, nested ones too.

    An inner ``bound`` overrides the outer one's keys until it ends; values a line passes
    itself win over bound ones.
    """
    token = _BOUND.set({**_BOUND.get(), **values})
    try:
        yield
    finally:
        _BOUND.reset(token)


def bound_values() -> dict[str, Any]:
    """What :func:`bound` binds here and now (empty outside any ``with bound(...)``)."""
    return dict(_BOUND.get())


def merge_bound(_logger: Any, _method: str, event_dict: MutableMapping[str, Any]) -> MutableMapping[str, Any]:
    """structlog processor: the values bound by :func:`bound`, under those the line gives itself."""
    for key, value in _BOUND.get().items():
        event_dict.setdefault(key, value)
    return event_dict


def redact(_logger: Any, _method: str, event_dict: MutableMapping[str, Any]) -> MutableMapping[str, Any]:
    """structlog processor: personal data out of every field (:mod:`engine.log_redaction`)."""
    kept = {key: event_dict[key] for key in _RESERVED if key in event_dict}
    clean: dict[str, Any] = redact_fields({k: v for k, v in event_dict.items() if k not in kept})
    if isinstance(kept.get("event"), str):
        kept["event"] = redact_text(kept["event"])
    return {**kept, **clean}


class RedactingFilter(logging.Filter):
    """A handler's filter: every record it passes carries the bound values and no personal data.

    It redacts the structured fields (``record.kntc_fields``), the message, the exception text
    and the stack; a record from outside kntc's loggers gets the bound values too. It never drops
    a record.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        """Redact ``record`` in place; always True."""
        fields: Mapping[str, Any] | None = getattr(record, "kntc_fields", None)
        context = _BOUND.get()
        if fields is not None or context:
            record.kntc_fields = fields = redact_fields({**context, **(fields or {})})
        event = getattr(record, "kntc_event", None)
        if isinstance(event, str):  # a kntc line: its message again from its (redacted) fields, numbers intact
            record.kntc_event = event = redact_text(event)
            record.msg = line_of(event, fields or {})
        else:
            record.msg = redact_text(record.getMessage())
        record.args = None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact_text(record.exc_text)
        if record.stack_info:
            record.stack_info = redact_text(record.stack_info)
        return True


def line_of(event: str, fields: Mapping[str, Any]) -> str:
    """A line's readable message: ``event key=value ...``."""
    return " ".join([event, *(f"{key}={value}" for key, value in fields.items())])


def to_stdlib(_logger: Any, _method: str, event_dict: MutableMapping[str, Any]
              ) -> tuple[tuple[Any, ...], dict[str, Any]]:
    """structlog's last processor: the stdlib call, a readable message with the fields as ``extra``."""
    fields = dict(event_dict)
    event = str(fields.pop("event", ""))
    exc_info = fields.pop("exc_info", None)
    fields.pop("level", None)
    message = line_of(event, fields)
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
            _quiet_unless_configured()
            self._bound = structlog.wrap_logger(
                self._stdlib, processors=[structlog.stdlib.filter_by_level, merge_bound, redact, to_stdlib],
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


def _quiet_unless_configured() -> None:
    """A NullHandler on ``kntc`` (the logging HOWTO's advice for libraries): a host that configured no
    logging sees nothing on its stderr (no "last resort" handler); one that did gets every line."""
    root = logging.getLogger(ROOT_LOGGER)
    if not any(isinstance(h, logging.NullHandler) for h in root.handlers):
        root.addHandler(logging.NullHandler())


def get_logger(name: str) -> KntcLogger:
    """The logger ``kntc.<name>`` (e.g. ``get_logger("tick")``); cheap, safe at module level."""
    return KntcLogger(name)


def describe(exc: BaseException) -> str:
    """An exception as an operator reads it in a log or a dead item: its type and first line, short."""
    text = str(exc).strip()
    return f"{type(exc).__name__}: {text.splitlines()[0] if text else ''}"[:500]

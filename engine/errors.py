"""The one exception tree of kntc.

::

    KntcError                      every error kntc raises on purpose
    ├── DefinitionError            a workflow YAML is wrong (message names file:line:column)
    ├── ConfigError                config.yaml is wrong (message names the field)
    ├── ValidationError            bad input to an API call (message names the field)
    ├── NotAllowedError            an event refused: unknown, wrong state, wrong role, guard false
    ├── ConflictError              a stale ``expected_version``: someone else changed the case
    ├── NotFound (also LookupError) an unknown case id or workflow name
    ├── ConditionError             a deadline's condition could not be evaluated for this case
    ├── ReactionError              a reactor raised, or reactions looped past the depth bound
    └── StorageError               the database refused or broke (wraps the driver's error)

Each error's message is one line a clerk can act on. A call that raises changes nothing.
"""

from __future__ import annotations

__all__ = [
    "ConditionError",
    "ConfigError",
    "ConflictError",
    "DefinitionError",
    "DeliveryError",
    "KntcError",
    "NotAllowedError",
    "NotFound",
    "ReactionError",
    "StorageError",
    "ValidationError",
]


class KntcError(Exception):
    """Root of every error kntc raises on purpose."""


class DefinitionError(KntcError):
    """A workflow definition is invalid; the message starts with ``file:line:column``."""

    def __init__(self, message: str, *, source: str = "<string>", line: int = 0, column: int = 0) -> None:
        self.source, self.line, self.column = source, line, column
        self.reason = message
        super().__init__(f"{source}:{line}:{column}: {message}" if line else f"{source}: {message}")


class ConfigError(KntcError):
    """The configuration is invalid; the message names the file and the field."""


class ValidationError(KntcError, ValueError):
    """Bad input to an API call; ``field`` names the offending field."""

    def __init__(self, field: str, message: str) -> None:
        self.field = field
        super().__init__(f"{field}: {message}")


class NotAllowedError(KntcError):
    """An event that cannot fire now: the message names the state, the event and what is allowed.

    ``why`` says which check refused it: ``event`` (no such event), ``state``, ``role``, ``guard``
    or ``bound`` (an extension past the definition's limit). ``roles``: the roles that may fire
    the event in this state (a refusal for the role names them: "allowed for: ..."), empty when
    no role may.
    """

    def __init__(self, *, case_id: str, state: str, event: str, reason: str, allowed: list[str],
                 why: str = "state", roles: list[str] | None = None) -> None:
        self.case_id, self.state, self.event, self.allowed, self.why = case_id, state, event, allowed, why
        self.roles = list(roles or [])
        allowed_text = ", ".join(allowed) if allowed else "none"
        super().__init__(
            f"event {event!r} is not allowed on case {case_id} in state {state!r}: {reason} "
            f"(allowed here: {allowed_text})"
        )


class ConflictError(KntcError):
    """The case changed since the caller read it (optimistic concurrency on ``version``)."""

    def __init__(self, case_id: str, expected: int, actual: int) -> None:
        self.case_id, self.expected, self.actual = case_id, expected, actual
        super().__init__(
            f"case {case_id} is at version {actual}, not {expected}: reload it and try again"
        )


class NotFound(KntcError, LookupError):
    """An unknown case id, workflow name or other identifier."""

    def __init__(self, what: str, ident: str, hint: str = "") -> None:
        self.what, self.ident = what, ident
        super().__init__(f"unknown {what}: {ident!r}" + (f" ({hint})" if hint else ""))


class StorageError(KntcError):
    """The store failed; the driver's exception is the ``__cause__``."""


class ConditionError(KntcError):
    """A deadline condition (``when:``, a variant) failed for this case's data: a definition bug."""

    def __init__(self, workflow: str, deadline: str, expression: str, reason: str) -> None:
        self.workflow, self.deadline, self.expression = workflow, deadline, expression
        super().__init__(f"workflow {workflow!r}, deadline {deadline!r}: condition {expression!r} "
                         f"could not be evaluated ({reason})")


class ReactionError(KntcError):
    """A reactor failed on an event, or reactions went deeper than allowed; nothing was written."""


class DeliveryError(KntcError):
    """An outbox channel could not deliver a message (the receiver refused it, a timeout, no address).

    The message stays queued and is tried again with a backoff; after its last attempt it is dead.
    """

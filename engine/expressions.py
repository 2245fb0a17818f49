"""Guards and conditions: CEL (Common Expression Language) compiled once at load.

An expression sees ``fields`` (the case's data fields, every declared one present), ``payload``
(the event's payload fields), ``case`` (``state``, ``channel``, ``petitioner_count``, ``kind``),
``role`` (the acting role), ``now`` (the command's moment) and ``received_at`` (the case's receipt)
as local dates, and ``deadlines.<name>`` (``status``: running, paused, met, missed or absent;
``due_date``, null while paused or absent) for every deadline the workflow declares, and
``group.<name>`` (facts about the other cases of the case's content group: ``transferred``,
``guided``, ``terminated_on``, ``refile_by``, ``size``; :mod:`engine.group_facts`).

Dates are ISO ``'YYYY-MM-DD'`` strings in CEL, as ``type: date`` fields already are, so they
compare in calendar order: ``received_at >= date('2026-07-01')``, ``fields.dialogue_date > now``.
``date('YYYY-MM-DD')`` is a literal date, checked at load (an impossible date is a load error)
and compiled to the string; a plain ``'2026-07-01'`` also works but is not checked. CEL's own
``timestamp()`` does not compare with these names (a type error at load).

CEL has no side effects and no loops, so a definition cannot run code. Compiling checks the
syntax; :func:`compile_expression` also checks that every ``fields.x`` / ``payload.x`` /
``deadlines.x`` / ``group.x`` the expression reads is declared, so a typo is a load error, not a
guard that is silently false at run time.

Escalation rules (:mod:`engine.escalation`) see other names: :func:`compile_rule_condition`
checks a condition over ``event`` (``type``, ``data``), ``case`` (:data:`RULE_CASE_ATTRIBUTES`)
and ``phase`` (the names of the phases in force, a list: ``'before' in phase``).
"""

from __future__ import annotations

import importlib.machinery
import importlib.util
import re
import sys
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from functools import cache
from types import ModuleType
from typing import Any

__all__ = ["CASE_ATTRIBUTES", "DEADLINE_ATTRIBUTES", "DEADLINE_STATUSES", "GROUP_ATTRIBUTES", "ROOTS",
           "RULE_CASE_ATTRIBUTES", "RULE_ROOTS", "Expression", "ExpressionError", "compile_expression",
           "compile_rule_condition"]

ROOTS = frozenset({"fields", "payload", "case", "role", "now", "received_at", "deadlines", "group"})
#: What ``group.<name>`` may be (engine.group_facts computes them; kept here so that loading needs no store).
GROUP_ATTRIBUTES = frozenset({"transferred", "guided", "terminated_on", "refile_by", "size"})
DEADLINE_ATTRIBUTES = frozenset({"status", "due_date"})
#: What ``deadlines.<name>.status`` may be: a ledger's status, or ``absent`` (the clock never started).
DEADLINE_STATUSES = ("running", "paused", "met", "missed", "absent")
CASE_ATTRIBUTES = frozenset({"state", "channel", "petitioner_count", "kind"})
#: What an escalation rule's condition may read (see :func:`compile_rule_condition`).
RULE_ROOTS = frozenset({"event", "case", "phase"})
RULE_CASE_ATTRIBUTES = CASE_ATTRIBUTES | {"priority", "fields"}
EVENT_ATTRIBUTES = frozenset({"type", "data"})
_STRING = re.compile(r"'(?:[^'\\]|\\.)*'|\"(?:[^\"\\]|\\.)*\"")
_TYPE_ERRORS = ("Unsupported operation", "No such overload")
_MEMBER = re.compile(r"\b(fields|payload|case)\s*\.\s*([A-Za-z_][A-Za-z0-9_]*)")
_DEADLINE_MEMBER = re.compile(r"(?<![.\w])deadlines\s*\.\s*([A-Za-z_]\w*)(?:\s*\.\s*([A-Za-z_]\w*))?")
_GROUP_MEMBER = re.compile(r"(?<![.\w])group\s*\.\s*([A-Za-z_]\w*)")
_DATE_LITERAL = re.compile(r"(?<![.\w])date\s*\(\s*(?:'([^'\\]*)'|\"([^\"\\]*)\")\s*\)")
_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_RULE_MEMBER = re.compile(r"(?<![.\w])(event|case)\s*\.\s*([A-Za-z_][A-Za-z0-9_]*)")


@cache
def _cel() -> ModuleType:
    """The compiled CEL extension (``cel.cel``), loaded on the first compile.

    Why not ``import cel``: the package's ``__init__`` also imports ``cel.cli``, an interactive
    shell built on prompt_toolkit, rich and pygments that kntc never uses and that cost ~0.15 s of
    every CLI command. The extension is found through the package's own spec (which imports
    nothing) and registered as ``cel.cel``, so a later ``import cel`` by anyone reuses it. If the
    package is already imported, or its layout is not the one expected, plain ``import cel`` is used.
    """
    if "cel" not in sys.modules and "cel.cel" not in sys.modules:
        package = importlib.util.find_spec("cel")
        locations = list(package.submodule_search_locations or ()) if package else []
        spec = importlib.machinery.PathFinder.find_spec("cel.cel", locations) if locations else None
        if spec is not None and spec.loader is not None:
            module = importlib.util.module_from_spec(spec)
            spec.loader.exec_module(module)
            sys.modules["cel.cel"] = module
            return module
    if "cel.cel" in sys.modules:
        return sys.modules["cel.cel"]
    import cel
    return cel


class ExpressionError(ValueError):
    """An expression that does not compile or names something undeclared."""


@dataclass(frozen=True, slots=True)
class Expression:
    """A compiled CEL expression; :meth:`evaluate` returns a bool."""

    source: str
    program: Any
    roots: tuple[str, ...] = ()

    def evaluate(self, context: Mapping[str, Any]) -> bool:
        """Evaluate against ``context``; a non-bool result or a CEL error raises ExpressionError."""
        try:  # pass only the names the expression reads: converting the rest costs more than the evaluation
            result = self.program.execute({root: context[root] for root in self.roots})
        except Exception as exc:  # the CEL core raises plain TypeError/KeyError/ValueError
            raise ExpressionError(f"{self.source!r} failed: {exc}") from exc
        if not isinstance(result, bool):
            raise ExpressionError(f"{self.source!r} gave {result!r}, not true or false")
        return result


    def type_error(self, sample: Mapping[str, Any]) -> str | None:
        """Why the expression cannot work on well-typed ``sample`` data, or None if it may.

        Only CEL's type errors count ("Unsupported operation", "No such overload") and a result
        that is not a bool; an error that depends on the values (division by zero, a missing key,
        an index out of range, a bad date string) is not reported.
        """
        try:
            result = self.program.execute({root: sample[root] for root in self.roots})
        except TypeError as exc:
            text = str(exc)
            return f"type error: {text.split('. ')[0]}" if text.startswith(_TYPE_ERRORS) else None
        except Exception:  # value-dependent failures are for run time to report
            return None
        if result is None or isinstance(result, bool):
            return None
        return f"gives {type(result).__name__} {result!r}, not true or false"


def compile_expression(source: str, *, fields: Iterable[str], payload: Iterable[str] = (),
                       deadlines: Iterable[str] = ()) -> Expression:
    """Compile ``source``; raise :class:`ExpressionError` naming what is wrong.

    Also checked: every ``deadlines.<name>`` names a declared deadline (and ``.status`` or
    ``.due_date``), every ``group.<name>`` one of :data:`GROUP_ATTRIBUTES`, and every
    ``date('...')`` literal is a real ``YYYY-MM-DD`` date.
    """
    declared = {"fields": set(fields), "payload": set(payload), "case": set(CASE_ATTRIBUTES)}
    known = set(deadlines)
    for name, attribute in _DEADLINE_MEMBER.findall(_STRING.sub("''", source)):
        if name not in known:
            raise ExpressionError(f"unknown deadline {name!r} (declared: {', '.join(sorted(known)) or 'none'})")
        if attribute and attribute not in DEADLINE_ATTRIBUTES:
            raise ExpressionError(f"unknown deadline attribute {attribute!r} (known: "
                                  f"{', '.join(sorted(DEADLINE_ATTRIBUTES))})")
    for name in _GROUP_MEMBER.findall(_STRING.sub("''", source)):
        if name not in GROUP_ATTRIBUTES:
            raise ExpressionError(f"unknown group name {name!r} (known: {', '.join(sorted(GROUP_ATTRIBUTES))})")
    expression = _compile(_dates(source), ROOTS, _MEMBER, declared)
    if "date" in expression.program.functions():
        raise ExpressionError("date() takes a literal 'YYYY-MM-DD', e.g. date('2026-07-01')")
    return Expression(source=source, program=expression.program, roots=expression.roots)


def _dates(source: str) -> str:
    """``source`` with each ``date('YYYY-MM-DD')`` replaced by its ISO string; raise if one is not a date."""
    def replace(match: re.Match[str]) -> str:
        text = match.group(1) if match.group(1) is not None else match.group(2)
        try:
            if not _ISO_DATE.match(text):
                raise ValueError("not YYYY-MM-DD")
            date.fromisoformat(text)
        except ValueError as exc:
            raise ExpressionError(f"date({text!r}) is not a date: {exc}") from None
        return f"'{text}'"
    return _DATE_LITERAL.sub(replace, source)


def compile_rule_condition(source: str) -> Expression:
    """Compile an escalation rule's ``when`` over ``event``, ``case`` and ``phase``; raise ExpressionError.

    ``event.x`` must be ``type`` or ``data`` and ``case.x`` one of :data:`RULE_CASE_ATTRIBUTES`;
    what ``event.data`` holds depends on the event type and is not checked.
    """
    declared = {"event": set(EVENT_ATTRIBUTES), "case": set(RULE_CASE_ATTRIBUTES)}
    return _compile(source, RULE_ROOTS, _RULE_MEMBER, declared)


def _compile(source: str, roots: frozenset[str], member: re.Pattern[str],
             declared: Mapping[str, set[str]]) -> Expression:
    try:
        program = _cel().compile(source)
    except Exception as exc:
        first_line = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise ExpressionError(f"does not compile: {first_line}") from exc
    unknown_roots = set(program.variables()) - roots
    if unknown_roots:
        raise ExpressionError(
            f"unknown name(s) {', '.join(sorted(unknown_roots))}; an expression may read "
            f"{', '.join(sorted(roots))}")
    for root, attribute in member.findall(_STRING.sub("''", source)):
        if attribute not in declared[root]:
            known = ", ".join(sorted(declared[root])) or "none"
            raise ExpressionError(f"unknown {root} name {attribute!r} (declared: {known})")
    return Expression(source=source, program=program, roots=tuple(sorted(program.variables())))

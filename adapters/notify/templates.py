"""Notification templates: a Vietnamese subject and body per message kind, rendered in a jinja2 sandbox.

A template sees five names and nothing else (:data:`CONTEXT_NAMES`):

- ``to``: the officer addressed, ``id``, ``name``, ``role``, ``unit`` (:data:`TO_FIELDS`; never
  the e-mail address: that is the channel's business, not the text's);
- ``case``: the case's public fields (:data:`CASE_FIELDS`), or None when the event concerns no case
  (a phase change, a roster gap): templates test ``{% if case %}``;
- ``data``: the message's data (the event's ids, types and dates), with ``to`` and ``case`` as above;
- ``kind``: the message kind; ``org``: the body's name.

A kind without a template of its own uses ``default``. :func:`template_problems` checks templates
before they are used (syntax, unknown names, unknown fields of ``to`` / ``case``); a render that
still fails (a key the data lacks) is a :class:`~engine.errors.DeliveryError` naming the kind and
the jinja error, never a data value. The shipped templates are ``templates.yaml`` beside this module;
:func:`merged` lays the config's over them by kind.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any

import jinja2
from jinja2 import StrictUndefined, meta, nodes
from jinja2.sandbox import SandboxedEnvironment
from pydantic import BaseModel, ConfigDict, Field
from pydantic import ValidationError as PydanticValidationError

from engine.errors import ConfigError, DefinitionError, DeliveryError
from engine.loader import plain, read_yaml
from engine.model import OutboxMessage

__all__ = ["CASE_FIELDS", "CONTEXT_NAMES", "DEFAULT_KIND", "TO_FIELDS", "Rendered", "Renderer", "TemplateText",
           "merged", "render_context", "shipped_templates", "template_problems"]

#: The template a kind without one of its own uses.
DEFAULT_KIND = "default"
#: What a template may know of the officer addressed (not the e-mail address).
TO_FIELDS = ("id", "name", "role", "unit")
#: The case's public fields (never a petitioner's or denouncer's identity, never the letter's text).
CASE_FIELDS = ("id", "kind", "kind_label", "state", "state_label", "priority", "channel", "received_on", "flags",
               "deadlines")
#: The names a template may use.
CONTEXT_NAMES = ("to", "case", "data", "kind", "org")
PARTS = ("subject", "body")
_FIELDS_OF = {"to": TO_FIELDS, "case": CASE_FIELDS}
_SHIPPED = "templates.yaml"

Loc = tuple[str, ...]


class TemplateText(BaseModel):
    """One kind's template: a subject (rendered on one line) and a body."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    subject: str = Field(min_length=1)
    body: str = Field(min_length=1)


@dataclass(frozen=True, slots=True)
class Rendered:
    """A rendered message: its one-line subject, its body, and the template kind used."""

    subject: str
    body: str
    template: str


def _environment() -> SandboxedEnvironment:
    return SandboxedEnvironment(undefined=StrictUndefined, autoescape=False, keep_trailing_newline=True)


def _part_problem(env: SandboxedEnvironment, source: str) -> str | None:
    """Why one template part is refused, or None (the message names no config location)."""
    try:
        tree = env.parse(source)
        env.compile(source)  # unknown filters and tests are found when compiling, not parsing
    except jinja2.TemplateSyntaxError as exc:
        return f"does not compile (line {exc.lineno} of the template): {exc.message}"
    allowed = set(CONTEXT_NAMES) | set(env.globals)
    unknown = sorted(meta.find_undeclared_variables(tree) - allowed)
    if unknown:
        return (f"uses {', '.join(repr(u) for u in unknown)}: a template knows only "
                f"{', '.join(CONTEXT_NAMES)}")
    for name, field, lineno in _fields_used(tree):
        if field == "email" and name == "to":
            return (f"uses to.email (line {lineno} of the template): the address is the channel's, "
                    f"a template knows {', '.join('to.' + f for f in TO_FIELDS)}")
        if field not in _FIELDS_OF[name]:
            known = ", ".join(f"{name}.{f}" for f in _FIELDS_OF[name])
            return f"uses unknown field {name}.{field} (line {lineno} of the template): known are {known}"
    return None


def _fields_used(tree: nodes.Template) -> Iterator[tuple[str, str, int]]:
    """(name, field, line) of each ``to.x`` / ``case['x']`` (also ``data.to.x``) in the tree."""
    called = {id(call.node) for call in tree.find_all(nodes.Call)}  # case.get('x'): a method, not a field
    for node in tree.find_all((nodes.Getattr, nodes.Getitem)):
        if id(node) in called:
            continue
        if isinstance(node, nodes.Getattr):
            field: object = node.attr
        elif isinstance(node, nodes.Getitem) and isinstance(node.arg, nodes.Const):
            field = node.arg.value
        else:
            continue
        name = _checked_name(node.node)
        if name is not None and isinstance(field, str):
            yield name, field, node.lineno


def _checked_name(target: nodes.Node) -> str | None:
    """``to`` / ``case`` when ``target`` is one of them or ``data.to`` / ``data.case``, else None."""
    if isinstance(target, nodes.Name) and target.name in _FIELDS_OF:
        return target.name
    if (isinstance(target, nodes.Getattr) and isinstance(target.node, nodes.Name) and target.node.name == "data"
            and target.attr in _FIELDS_OF):
        return target.attr
    return None


def template_problems(templates: Mapping[str, TemplateText]) -> list[tuple[Loc, str]]:
    """((kind, part), why) for each template part that does not compile or uses what a template cannot know."""
    env = _environment()
    problems: list[tuple[Loc, str]] = []
    for kind, text in templates.items():
        for part in PARTS:
            problem = _part_problem(env, getattr(text, part))
            if problem is not None:
                problems.append(((kind, part), problem))
    return problems


class Renderer:
    """Renders outbox messages with templates by kind (compiled once, here)."""

    def __init__(self, templates: Mapping[str, TemplateText], org: str) -> None:
        """Compile ``templates``; a ConfigError (``templates.<kind>.<part>: why``) if one is refused.

        ``templates`` must hold ``default``: the template of a kind without one of its own.
        """
        problems = template_problems(templates)
        if problems:
            (loc, why), *_ = problems
            raise ConfigError(f"templates.{'.'.join(loc)}: {why}")
        if DEFAULT_KIND not in templates:
            raise ConfigError(f"templates.{DEFAULT_KIND}: missing (a kind without a template of its own uses it)")
        env = _environment()
        self.org = org
        self._compiled = {kind: (env.from_string(text.subject), env.from_string(text.body))
                          for kind, text in templates.items()}

    def kinds(self) -> frozenset[str]:
        """The kinds with a template of their own."""
        return frozenset(self._compiled)

    def render(self, message: OutboxMessage) -> Rendered:
        """The subject and body of ``message``; DeliveryError (kind and jinja error only) if it fails."""
        used = message.kind if message.kind in self._compiled else DEFAULT_KIND
        subject, body = self._compiled[used]
        context = render_context(message, self.org)
        try:
            subject_text, body_text = subject.render(context), body.render(context)
        except Exception as exc:  # StrictUndefined, the sandbox, a filter's TypeError: one line, no values
            reason = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
            raise DeliveryError(f"template {used!r} for kind {message.kind!r} could not be rendered: "
                                f"{type(exc).__name__}: {reason[:200]}") from None
        return Rendered(subject=" ".join(subject_text.split()), body=body_text, template=used)


def render_context(message: OutboxMessage, org: str) -> dict[str, Any]:
    """What a template sees of ``message``: ``to`` and ``case`` cut to their public fields."""
    data = dict(message.data)
    raw_to, raw_case = data.get("to"), data.get("case")
    to = {k: raw_to[k] for k in TO_FIELDS if k in raw_to} if isinstance(raw_to, Mapping) else None
    case = {k: raw_case[k] for k in CASE_FIELDS if k in raw_case} if isinstance(raw_case, Mapping) else None
    data["to"], data["case"] = to, case
    return {"to": to, "case": case, "data": data, "kind": message.kind, "org": org}


@cache
def _shipped() -> tuple[tuple[str, TemplateText], ...]:
    source = f"adapters/notify/{_SHIPPED}"
    text = resources.files("adapters.notify").joinpath(_SHIPPED).read_text(encoding="utf-8")
    try:
        document = read_yaml(text, source=source, what="the templates file")
    except DefinitionError as exc:
        raise ConfigError(str(exc)) from None
    found: list[tuple[str, TemplateText]] = []
    for kind, value in plain(document).items():
        try:
            found.append((kind, TemplateText.model_validate(value)))
        except PydanticValidationError as exc:
            line = document.lc.key(kind)[0] + 1
            raise ConfigError(f"{source}:{line}: {kind}: {exc.errors()[0]['msg']}") from None
    return tuple(found)


def shipped_templates() -> dict[str, TemplateText]:
    """The templates shipped with kntc (``adapters/notify/templates.yaml``), by kind."""
    return dict(_shipped())


def merged(overrides: Mapping[str, TemplateText]) -> dict[str, TemplateText]:
    """The shipped templates with ``overrides`` (the config's ``templates:``) in place of theirs, by kind."""
    return {**shipped_templates(), **overrides}

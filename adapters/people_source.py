"""Where the officers and the duty roster come from: config.yaml, the database, CSV and YAML files.

- :func:`load_directory`: the officers of ``config.yaml`` ``people:``, then those imported into the
  database (``kntc people import``). **A database row with the id of a configured officer replaces
  that officer** (an import is the later, deliberate word); the others are added.
- :func:`read_people_csv`: a CSV file of officers, header ``id,name,unit,roles,email,phone`` and
  optionally ``channels``; ``roles`` and ``channels`` are separated by ``;``. UTF-8, with or without
  a BOM (what a spreadsheet saves).
- :func:`read_roster`: a duty roster, CSV (header ``day,person_id`` and optionally ``place``,
  ``note``) or YAML (a mapping ``roster:`` whose items are ``{day, person | people, place, note}``).
  Days are ISO (``2026-03-15``) or Vietnamese (``15/03/2026``).

Every reader collects every problem of the file and raises one :class:`~engine.errors.ConfigError`
on one line, ``FILE:LINE: message`` for each problem (separated by ``; ``), before anything is stored. Messages name the
column and the value's kind, never a citizen's data (these files hold officers only).
"""

from __future__ import annotations

import csv
from collections.abc import Iterator, Mapping, Sequence
from datetime import date, datetime
from pathlib import Path
from typing import Any

from pydantic import ValidationError as PydanticValidationError
from ruamel.yaml.comments import CommentedMap, CommentedSeq

from adapters.config import Settings
from adapters.people_settings import PersonSettings
from engine.calendar import BusinessCalendar
from engine.errors import ConfigError, DefinitionError
from engine.loader import read_yaml
from engine.people import Directory, Person
from engine.ports import Transaction
from engine.pydantic_errors import every_problem
from engine.roster import Duty

__all__ = ["PEOPLE_COLUMNS", "ROSTER_COLUMNS", "load_directory", "parse_day", "read_people_csv", "read_roster"]

#: The columns of a people CSV: required, then optional.
PEOPLE_COLUMNS = (("id", "name", "unit", "roles", "email", "phone"), ("channels",))
#: The columns of a roster CSV: required, then optional.
ROSTER_COLUMNS = (("day", "person_id"), ("place", "note"))
_YAML_KEYS = frozenset({"day", "person", "people", "place", "note"})


def load_directory(settings: Settings, tx: Transaction) -> Directory:
    """The configured officers, then the database's (a database row replaces a configured one of its id)."""
    return Directory.of([*(p.person() for p in settings.people), *tx.people()])


def parse_day(text: str) -> date | None:
    """``2026-03-15`` or ``15/03/2026`` as a date; None when it is neither (or no such day)."""
    text = text.strip()
    for pattern in ("%Y-%m-%d", "%d/%m/%Y"):
        try:
            return datetime.strptime(text, pattern).date()
        except ValueError:
            continue
    return None


def _channel_ids(settings: Settings) -> set[str]:
    """The configured outbox channels' ids (the implicit ``log`` when none is configured)."""
    entries: Sequence[Any] = settings.channels
    ids = {str(c["id"] if isinstance(c, Mapping) else getattr(c, "id", "")) for c in entries}
    return ids or {"log"}


def _split(value: str | None) -> list[str]:
    return [part.strip() for part in (value or "").split(";") if part.strip()]


def _raise(problems: Sequence[str]) -> None:
    if problems:
        raise ConfigError("; ".join(problems))


def _rows(path: Path, columns: tuple[tuple[str, ...], tuple[str, ...]],
          problems: list[str]) -> Iterator[tuple[int, dict[str, str]]]:
    """The data rows of a CSV file with their line, after checking its header (problems appended)."""
    source = str(path)
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{source}: cannot read the file ({type(exc).__name__}: it must be UTF-8 text)") from None
    reader = csv.reader(text.splitlines(keepends=True))
    header = [h.strip() for h in next(reader, [])]
    required, optional = columns
    missing = [c for c in required if c not in header]
    unknown = [c for c in header if c not in required + optional]
    if not header:
        problems.append(f"{source}:1: the file is empty (header: {','.join(required)})")
        return
    if missing or unknown:
        problems += [f"{source}:1: missing column {c!r} (header: {','.join(required)})" for c in missing]
        problems += [f"{source}:1: unknown column {c!r} (known: {', '.join(required + optional)})" for c in unknown]
        return
    for values in reader:
        line = reader.line_num
        if not any(v.strip() for v in values):
            continue  # a blank line
        if len(values) != len(header):
            problems.append(f"{source}:{line}: {len(values)} fields where the header has {len(header)}")
            continue
        yield line, {name: value.strip() for name, value in zip(header, values, strict=True)}


def read_people_csv(path: Path, settings: Settings) -> list[Person]:
    """The officers of a CSV file, checked against ``organisation`` and ``channels`` (ConfigError: every problem)."""
    source, problems, people = str(path), list[str](), list[Person]()
    units = {u.id for u in settings.organisation.units}
    roles, channels = set(settings.organisation.roles), _channel_ids(settings)
    seen: dict[str, int] = {}
    for line, row in _rows(path, PEOPLE_COLUMNS, problems):
        where = f"{source}:{line}"
        entry = {"id": row["id"], "name": row["name"], "unit": row["unit"], "roles": _split(row["roles"]),
                 "email": row["email"] or None, "phone": row["phone"] or None,
                 "channels": _split(row.get("channels"))}
        try:
            person = PersonSettings.model_validate(entry).person()
        except PydanticValidationError as exc:
            problems += [f"{where}: {loc[0] if loc else 'row'}: {message}"
                         for loc, message in every_problem(exc.errors())]
            continue
        row_problems = []
        if person.id in seen:
            row_problems.append(f"{where}: id: {person.id!r} is given twice (first at line {seen[person.id]})")
        if person.unit not in units:
            row_problems.append(f"{where}: unit: unknown unit {person.unit!r} "
                                f"(organisation.units: {', '.join(sorted(units)) or 'none'})")
        row_problems += [f"{where}: roles: unknown role {r!r} (organisation.roles: {', '.join(sorted(roles))})"
                         for r in person.roles if r not in roles]
        row_problems += [f"{where}: channels: unknown channel {c!r} (channels: {', '.join(sorted(channels)) or 'none'})"
                         for c in person.channels if c not in channels]
        seen.setdefault(person.id, line)
        problems += row_problems
        if not row_problems:
            people.append(person)
    _raise(problems)
    return people


class _RosterCheck:
    """What every roster entry is checked against, and the problems found so far."""

    def __init__(self, source: str, directory: Directory, calendar: BusinessCalendar) -> None:
        self.source, self.directory, self.calendar = source, directory, calendar
        self.problems: list[str] = []
        self.seen: dict[tuple[date, str], int] = {}

    def day(self, value: Any, line: int) -> date | None:
        found = parse_day(value) if isinstance(value, str) else None
        if found is None:
            self.problems.append(f"{self.source}:{line}: day: {value!r} is not a date (2026-03-15 or 15/03/2026)")
        elif not self.calendar.first_year <= found.year <= self.calendar.last_year:
            self.problems.append(f"{self.source}:{line}: day: {found.isoformat()} lies outside the calendar's "
                                 f"years {self.calendar.first_year}..{self.calendar.last_year}")
            return None
        return found

    def duty(self, day: date | None, person_id: Any, place: Any, note: Any, line: int) -> Duty | None:
        where = f"{self.source}:{line}"
        if not isinstance(person_id, str) or not person_id.strip():
            self.problems.append(f"{where}: person: an officer's id is needed")
            return None
        person_id = person_id.strip()
        if self.directory.get(person_id) is None:
            self.problems.append(f"{where}: person: unknown officer {person_id!r} (config.yaml people: or "
                                 "kntc people import)")
            return None
        if day is None:
            return None
        if (day, person_id) in self.seen:
            self.problems.append(f"{where}: {person_id!r} is on duty on {day.isoformat()} twice "
                                 f"(first at line {self.seen[day, person_id]})")
            return None
        self.seen[day, person_id] = line
        text = [str(v).strip() or None if v is not None else None for v in (place, note)]
        return Duty(day, person_id, text[0], text[1])


def read_roster(path: Path, settings: Settings, directory: Directory, calendar: BusinessCalendar) -> list[Duty]:
    """The duties of a roster file (``.csv``, or ``.yaml``/``.yml``), by day then person (ConfigError: every problem).

    ``settings`` is the configuration the file is read under (kept for the readers' symmetry);
    officers must be in ``directory``, days within ``calendar``'s years.
    """
    del settings  # the officers come through ``directory``
    check = _RosterCheck(str(path), directory, calendar)
    duties: list[Duty | None]
    if path.suffix.lower() == ".csv":
        duties = [check.duty(check.day(row["day"], line), row["person_id"], row.get("place"), row.get("note"), line)
                  for line, row in _rows(path, ROSTER_COLUMNS, check.problems)]
    elif path.suffix.lower() in (".yaml", ".yml"):
        duties = _yaml_duties(path, check)
    else:
        raise ConfigError(f"{path}: a roster is a .csv, .yaml or .yml file")
    _raise(check.problems)
    found = [d for d in duties if d is not None]
    if not found:
        raise ConfigError(f"{path}: the roster names no duty")
    return sorted(found, key=lambda d: (d.day, d.person_id))


def _yaml_duties(path: Path, check: _RosterCheck) -> list[Duty | None]:
    """The duties of a YAML roster: ``roster:`` a list of ``{day, person | people, place, note}``."""
    source = str(path)
    try:
        document = read_yaml(path.read_text(encoding="utf-8-sig"), source=source, what="a roster")
    except DefinitionError as exc:
        raise ConfigError(str(exc)) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{source}: cannot read the file ({type(exc).__name__}: it must be UTF-8 text)") from None
    items = document.get("roster")
    if not isinstance(items, CommentedSeq):
        line = document.lc.key("roster")[0] + 1 if "roster" in document else 1
        raise ConfigError(f"{source}:{line}: roster: a list of {{day, person | people, place, note}} is needed")
    duties: list[Duty | None] = []
    for i, item in enumerate(items):
        line = items.lc.item(i)[0] + 1
        if not isinstance(item, CommentedMap):
            check.problems.append(f"{source}:{line}: roster.{i}: a mapping {{day, person | people, place}} is needed")
            continue
        duties += _yaml_item(item, i, line, check)
    return duties


def _yaml_item(item: Mapping[str, Any], i: int, line: int, check: _RosterCheck) -> list[Duty | None]:
    """The duties of one YAML roster entry (one per person)."""
    def at(key: str) -> int:
        return int(item.lc.key(key)[0]) + 1 if isinstance(item, CommentedMap) and key in item else line

    unknown = [k for k in item if k not in _YAML_KEYS]
    check.problems += [f"{check.source}:{at(str(k))}: roster.{i}.{k}: unknown key (known: "
                       f"{', '.join(sorted(_YAML_KEYS))})" for k in unknown]
    if ("person" in item) == ("people" in item):
        check.problems.append(f"{check.source}:{line}: roster.{i}: give either person or people")
        return []
    people = [item["person"]] if "person" in item else item["people"]
    if not isinstance(people, list) or not people:
        check.problems.append(f"{check.source}:{at('people')}: roster.{i}.people: a list of officers' ids is needed")
        return []
    day = check.day(item.get("day"), at("day"))
    where = at("person" if "person" in item else "people")
    return [check.duty(day, p, item.get("place"), item.get("note"), where) for p in people]

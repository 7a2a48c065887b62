"""The official PRC working-day calendar: chinesecalendar's data plus an office's override file.

chinesecalendar carries the State Council's holiday notices (国务院办公厅关于某年部分节假日安排的
通知) up to the year its release knows. When a new notice is published before the package is
updated, an office adds that year to the override file (``rules/calendar.yaml``); an override for a
year chinesecalendar already knows replaces that year's data entirely.

A year's schedule holds the dates *of that calendar year*. When a notice moves days of the previous
December (e.g. the 2019 notice made 2018-12-29 a working day and 2018-12-30/31 holidays), those
dates belong to the previous year's schedule.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

from chinese_calendar import constants

from decisions.calendar.core import WorkCalendar
from decisions.errors import DefinitionError, Problem

if TYPE_CHECKING:  # the loading package imports this one
    from decisions.loading.schema import Structure

__all__ = [
    "DEFAULT_UPDATE_FILE",
    "MAX_HOLIDAY_RANGE_DAYS",
    "YearSchedule",
    "load_calendar",
    "load_override_file",
    "official_calendar",
    "parse_override",
]

DEFAULT_UPDATE_FILE = "rules/calendar.yaml"
MAX_HOLIDAY_RANGE_DAYS = 15
"""The longest holiday block an override may list (the longest ever was 10 days, 2020 春节)."""

_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}\Z")


@dataclass(frozen=True)
class YearSchedule:
    """The official holiday schedule of one calendar year."""

    year: int
    source: str
    holidays: Mapping[date, str]
    workdays: Mapping[date, str]


# -- chinesecalendar ----------------------------------------------------------------------------


@functools.cache
def _chinesecalendar_data() -> tuple[dict[date, str], dict[date, str], frozenset[int]]:
    """chinesecalendar's holidays and make-up days with bilingual names, and the years it knows."""
    chinese = {member.value: member.chinese for member in constants.Holiday}

    def english(value: object) -> str:
        return str(getattr(value, "value", value))

    holidays: dict[date, str] = {}
    for day, value in constants.holidays.items():
        en = english(value)
        holidays[day] = f"{chinese[en]} {en}" if en in chinese else en
    workdays: dict[date, str] = {}
    for day, value in constants.workdays.items():
        en = english(value)
        workdays[day] = f"{chinese[en]}调休 {en} make-up day" if en in chinese else en
    # Every year has at least 元旦, so a year with no holiday entry is a year the data lacks.
    known = frozenset(day.year for day in holidays)
    return holidays, workdays, known


def official_calendar(
    override: Mapping[int, YearSchedule] | None = None,
    update_file: str = DEFAULT_UPDATE_FILE,
) -> WorkCalendar:
    """The working-day calendar: chinesecalendar's years, then each override year added/replaced."""
    base_holidays, base_workdays, base_years = _chinesecalendar_data()
    replaced = set(override or {})
    holidays = {d: n for d, n in base_holidays.items() if d.year not in replaced}
    workdays = {d: n for d, n in base_workdays.items() if d.year not in replaced}
    for year, schedule in (override or {}).items():
        if schedule.year != year:
            raise ValueError(f"override keyed {year} holds the schedule of {schedule.year}")
        stray = sorted(d for d in (*schedule.holidays, *schedule.workdays) if d.year != year)
        if stray:
            raise ValueError(f"the {year} override lists dates of other years: {stray}")
        holidays.update(schedule.holidays)
        workdays.update(schedule.workdays)
    return WorkCalendar(
        holidays=holidays,
        workdays=workdays,
        known_years=base_years | replaced,
        update_file=update_file,
    )


def load_override_file(path: Path, *, display: str | None = None) -> dict[int, YearSchedule]:
    """Read and validate an override file. Raises `DefinitionError` listing every problem."""
    # Imported here: the package decisions.loading itself imports decisions.calendar.
    from decisions.loading.yamlsafe import load_yaml_file

    document = load_yaml_file(path, display=display)
    return parse_override(document.data, file=document.file, line_of=document.line_of)


def load_calendar(path: Path, *, display: str | None = None) -> WorkCalendar:
    """The official calendar with the override file at ``path`` applied (and named in errors)."""
    override = load_override_file(path, display=display)
    return official_calendar(override, update_file=display or str(path))


# -- validation of the override file -----------------------------------------------------------

_TOP_KEYS = ("years",)
_YEAR_KEYS = ("source", "holidays", "workdays")
_HOLIDAY_KEYS = ("name", "from", "to")
_WORKDAY_KEYS = ("name", "date")
_WEEKDAY_NAMES = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")

KeyPath = tuple[str | int, ...]


def _type_name(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "a mapping"
    return type(value).__name__


@dataclass(frozen=True)
class _Loc:
    """A place in the document: the key path for ``line_of`` and its text for the message."""

    path: KeyPath = ()
    text: str = ""

    def key(self, key: str | int) -> _Loc:
        return _Loc((*self.path, key), f"{self.text}.{key}" if self.text else str(key))

    def index(self, i: int) -> _Loc:
        return _Loc((*self.path, i), f"{self.text}[{i}]")


class _Parser:
    """The meaning of an override file whose structure was checked against its schema: a malformed
    value the schema reported (``covers``) is skipped here without a second message."""

    def __init__(self, file: str, line_of: Callable[[KeyPath], int | None], covers: Callable[[KeyPath], bool]) -> None:
        self.file = file
        self.line_of = line_of
        self.covers = covers
        self.problems: list[Problem] = []

    def problem(self, loc: _Loc, message: str) -> None:
        self.problems.append(Problem(self.file, self.line_of(loc.path), loc.text, message))

    def shape(self, loc: _Loc, message: str, about: _Loc | None = None) -> None:
        """A structural problem, unless the schema reported one at ``about`` (or ``loc``) or above."""
        if not self.covers((about or loc).path):
            self.problem(loc, message)

    def mapping(self, value: object, loc: _Loc, allowed: tuple[str, ...]) -> dict[str, object] | None:
        """``value`` as a mapping with only ``allowed`` keys (unknown keys: reported, dropped)."""
        if not isinstance(value, dict):
            self.shape(loc, f"expected a mapping with keys {', '.join(allowed)}, got {_type_name(value)}")
            return None
        out: dict[str, object] = {}
        for key, item in value.items():
            if key in allowed:
                out[str(key)] = item
            else:
                self.shape(loc.key(key), f"unknown key {key!r} (allowed: {', '.join(allowed)})")
        return out

    def text(self, value: object, loc: _Loc, what: str) -> str | None:
        if not isinstance(value, str) or not value.strip():
            self.shape(loc, f"{what} must be a non-empty string, got {_type_name(value)}")
            return None
        return value.strip()

    def day(self, value: object, loc: _Loc, year: int) -> date | None:
        """A date written YYYY-MM-DD, inside ``year``."""
        if isinstance(value, date):
            parsed: date | None = value
        elif isinstance(value, str) and _ISO_DATE.match(value.strip()):
            try:
                parsed = date.fromisoformat(value.strip())
            except ValueError:
                parsed = None
        else:
            parsed = None
        if parsed is None:
            shown = repr(value) if isinstance(value, str) else _type_name(value)
            self.shape(loc, f"expected a date written YYYY-MM-DD, got {shown}")
            return None
        if parsed.year != year:
            self.problem(
                loc,
                f"{parsed.isoformat()} is outside the year {year}: list it under year {parsed.year}",
            )
            return None
        return parsed

    def document(self, data: object) -> dict[int, YearSchedule]:
        root = self.mapping(data, _Loc(), _TOP_KEYS)
        if root is None:
            return {}
        if "years" not in root:
            self.shape(_Loc(), "missing key 'years' (write `years: {}` when there is no override)", _Loc().key("years"))
            return {}
        years_loc = _Loc().key("years")
        years = root["years"]
        if years is None:
            return {}
        if not isinstance(years, dict):
            self.shape(years_loc, f"expected a mapping of year -> schedule, got {_type_name(years)}")
            return {}
        out: dict[int, YearSchedule] = {}
        for key, entry in years.items():
            loc = years_loc.key(key)
            if not isinstance(key, int) or isinstance(key, bool) or not 1 <= key <= 9999:
                self.problem(loc, f"a year must be written as a plain number like 2027, got {key!r}")
                continue
            schedule = self.year(key, entry, loc)
            if schedule is not None:
                out[key] = schedule
        return out

    def year(self, year: int, entry: object, loc: _Loc) -> YearSchedule | None:
        fields = self.mapping(entry, loc, _YEAR_KEYS)
        if fields is None:
            return None
        ok = True
        source: str | None = None
        if "source" in fields:
            source = self.text(fields["source"], loc.key("source"), "source")
        else:
            self.shape(loc, "missing key 'source' (the notice's title and number, 通知标题及文号)", loc.key("source"))
        if source is None:
            ok = False

        holidays: dict[date, str] = {}
        seen_holiday: dict[date, str] = {}  # date -> where it was listed
        if "holidays" not in fields:
            self.shape(loc, "missing key 'holidays'", loc.key("holidays"))
            ok = False
        else:
            ok &= self.holidays(year, fields["holidays"], loc.key("holidays"), holidays, seen_holiday)

        workdays: dict[date, str] = {}
        if "workdays" in fields and fields["workdays"] is not None:
            ok &= self.workdays(year, fields["workdays"], loc.key("workdays"), workdays, seen_holiday)

        if not ok or source is None:
            return None
        return YearSchedule(year=year, source=source, holidays=holidays, workdays=workdays)

    def holidays(
        self,
        year: int,
        value: object,
        loc: _Loc,
        out: dict[date, str],
        seen: dict[date, str],
    ) -> bool:
        if not isinstance(value, list) or not value:
            self.shape(loc, f"expected a non-empty list of holidays, got {_type_name(value)}")
            return False
        ok = True
        for i, item in enumerate(value):
            item_loc = loc.index(i)
            fields = self.mapping(item, item_loc, _HOLIDAY_KEYS)
            if fields is None:
                ok = False
                continue
            missing = [k for k in _HOLIDAY_KEYS if k not in fields]
            for key in missing:
                self.shape(item_loc, f"missing key {key!r}", item_loc.key(key))
            name = self.text(fields["name"], item_loc.key("name"), "name") if "name" in fields else None
            first = self.day(fields["from"], item_loc.key("from"), year) if "from" in fields else None
            last = self.day(fields["to"], item_loc.key("to"), year) if "to" in fields else None
            if name is None or first is None or last is None:
                ok = False
                continue
            if first > last:
                self.problem(item_loc.key("to"), f"'to' ({last}) is before 'from' ({first})")
                ok = False
                continue
            span = (last - first).days + 1
            if span > MAX_HOLIDAY_RANGE_DAYS:
                self.problem(
                    item_loc,
                    f"a holiday block of {span} days ({first}..{last}) is longer than "
                    f"{MAX_HOLIDAY_RANGE_DAYS} days: check the dates",
                )
                ok = False
                continue
            day = first
            while day <= last:
                if day in seen:
                    self.problem(item_loc, f"{day} is already listed as a holiday at {seen[day]}")
                    ok = False
                else:
                    seen[day] = item_loc.text
                    out[day] = name
                day += timedelta(days=1)
        return ok

    def workdays(
        self,
        year: int,
        value: object,
        loc: _Loc,
        out: dict[date, str],
        holidays: dict[date, str],
    ) -> bool:
        if not isinstance(value, list):
            self.shape(loc, f"expected a list of make-up working days, got {_type_name(value)}")
            return False
        ok = True
        seen: dict[date, str] = {}
        for i, item in enumerate(value):
            item_loc = loc.index(i)
            fields = self.mapping(item, item_loc, _WORKDAY_KEYS)
            if fields is None:
                ok = False
                continue
            for key in _WORKDAY_KEYS:
                if key not in fields:
                    self.shape(item_loc, f"missing key {key!r}", item_loc.key(key))
            name = self.text(fields["name"], item_loc.key("name"), "name") if "name" in fields else None
            day = self.day(fields["date"], item_loc.key("date"), year) if "date" in fields else None
            if name is None or day is None:
                ok = False
                continue
            day_loc = item_loc.key("date")
            item_ok = True
            if day.weekday() < 5:
                self.problem(
                    day_loc,
                    f"{day} is a {_WEEKDAY_NAMES[day.weekday()]}: a make-up working day (调休上班) "
                    "must be a Saturday or Sunday",
                )
                item_ok = False
            if day in holidays:
                self.problem(
                    day_loc,
                    f"{day} is listed both as a working day and as a holiday at {holidays[day]}",
                )
                item_ok = False
            if day in seen:
                self.problem(day_loc, f"{day} is already listed as a working day at {seen[day]}")
                item_ok = False
            else:
                seen[day] = item_loc.text
            if item_ok:
                out[day] = name
            ok &= item_ok
        return ok


def parse_override(
    data: object,
    *,
    file: str,
    line_of: Callable[[KeyPath], int | None],
    structure: Structure | None = None,
) -> dict[int, YearSchedule]:
    """Validate the parsed YAML data of an override file completely.

    Returns year -> `YearSchedule`. Raises one `DefinitionError` listing every problem, each with
    its file, line and key path (``years.2027.holidays[2].to``). ``structure``: the schema check of
    ``data`` when the caller has it already (from the definitions cache).
    """
    # Imported here: the package decisions.loading itself imports decisions.calendar.
    from decisions.loading.schema import check_structure_of

    if structure is None:
        structure = check_structure_of(data, "calendar", file, line_of)
    years = data.get("years") if isinstance(data, dict) else None
    quoted = {k for k in years if not isinstance(k, int) or isinstance(k, bool)} if isinstance(years, dict) else set()
    # A year written "2027" or True is refused by its key alone (JSON cannot tell it from 2027).
    outside = [p for p in structure.problems if not any(p.path.startswith(f"years.{k}") for k in quoted)]
    parser = _Parser(file, line_of, structure.covers)
    result = parser.document(data)
    parser.problems[:0] = outside
    if parser.problems:
        raise DefinitionError(parser.problems)
    return result

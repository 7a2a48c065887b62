"""The working-day calendar and period counting. Pure: standard library only, no I/O, no clock.

A `WorkCalendar` knows, for a set of years, which days are statutory holidays (法定节假日) and which
weekend days are make-up working days (调休上班). Every other Monday..Friday is a working day and
every other Saturday/Sunday is not. A question that needs a year outside `known_years` raises
`CalendarYearUnknown`: the calendar never falls back to "weekends only", which would be a guess.

Counting follows the Civil Code by default (《民法典》第二百零一条、第二百零三条): a period
starts on the day after the starting event, and a period whose last day is a statutory rest day
(法定休假日) ends on the next working day. Both rules are switchable through `CountingPolicy`,
since a locality may count differently.
"""

from __future__ import annotations

import datetime as _dt
from bisect import bisect_left
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from enum import StrEnum

from decisions.errors import CalendarYearUnknown

__all__ = ["CountingPolicy", "DayInfo", "Unit", "WorkCalendar"]

_ONE_DAY = timedelta(days=1)


class Unit(StrEnum):
    """The unit a period is expressed in: 日 (calendar days) or 工作日 (working days)."""

    CALENDAR = "calendar"
    WORKING = "working"


@dataclass(frozen=True)
class CountingPolicy:
    """How a period of N days is counted.

    ``start_next_day``: the day of the starting event is not day 1; the next day is (Civil Code).
    When false, the starting day counts as day 1 (for working days: only if it is a working day).

    ``roll_to_working_day``: a calendar-day period whose last day is not a working day ends on the
    next working day. (A working-day period always ends on a working day.)
    """

    start_next_day: bool = True
    roll_to_working_day: bool = True


@dataclass(frozen=True)
class DayInfo:
    """What the calendar says about one day.

    ``name`` is the holiday's name for a holiday, the make-up day's name for a make-up working day
    (调休上班), and ``None`` for an ordinary weekday or weekend day.
    """

    date: _dt.date
    is_working_day: bool
    name: str | None = None

    @property
    def is_holiday(self) -> bool:
        """A listed statutory holiday (including the weekend days inside a holiday block)."""
        return self.name is not None and not self.is_working_day

    @property
    def is_makeup_workday(self) -> bool:
        """A Saturday or Sunday that is a working day (调休上班)."""
        return self.name is not None and self.is_working_day


@dataclass(frozen=True)
class _Year:
    """Precomputed working-day data of one year.

    ``prefix[i]`` is the number of working days among the first ``i`` days of the year, so the
    number of working days in day-of-year indexes ``[a, b)`` is ``prefix[b] - prefix[a]``.
    """

    first: date
    prefix: tuple[int, ...]

    @property
    def length(self) -> int:
        return len(self.prefix) - 1

    @property
    def total(self) -> int:
        return self.prefix[-1]


class WorkCalendar:
    """Working days of the years in ``known_years``.

    ``holidays`` maps each holiday date to its name; ``workdays`` maps each make-up working day to
    its name. Every listed date must lie in a known year and no date may be both. ``update_file`` is
    the file an office edits to add a year; it is named in `CalendarYearUnknown`.
    """

    def __init__(
        self,
        *,
        holidays: Mapping[date, str],
        workdays: Mapping[date, str],
        known_years: Iterable[int],
        update_file: str,
    ) -> None:
        self._known_years = frozenset(known_years)
        self._holidays: dict[date, str] = dict(holidays)
        self._workdays: dict[date, str] = dict(workdays)
        self._update_file = update_file
        both = sorted(self._holidays.keys() & self._workdays.keys())
        if both:
            raise ValueError(f"dates listed both as holiday and as working day: {both}")
        stray = sorted(d for d in (*self._holidays, *self._workdays) if d.year not in self._known_years)
        if stray:
            raise ValueError(f"dates listed in years the calendar does not know: {stray}")
        self._years: dict[int, _Year] = {}

    # -- what the calendar knows ------------------------------------------------------------

    @property
    def known_years(self) -> frozenset[int]:
        return self._known_years

    @property
    def update_file(self) -> str:
        return self._update_file

    def __repr__(self) -> str:
        years = sorted(self._known_years)
        span = f"{years[0]}..{years[-1]}" if years else "none"
        return f"WorkCalendar(known_years={span}, update_file={self._update_file!r})"

    def _require(self, year: int) -> None:
        if year not in self._known_years:
            raise CalendarYearUnknown(year, self._update_file)

    def _year(self, year: int) -> _Year:
        """The precomputed data of ``year`` (built once, on first use)."""
        cached = self._years.get(year)
        if cached is not None:
            return cached
        self._require(year)
        first = date(year, 1, 1)
        length = (date(year, 12, 31) - first).days + 1
        prefix = [0] * (length + 1)
        day = first
        for i in range(length):
            prefix[i + 1] = prefix[i] + self._compute_working(day)
            day += _ONE_DAY
        built = _Year(first=first, prefix=tuple(prefix))
        self._years[year] = built
        return built

    def _compute_working(self, day: date) -> bool:
        if day in self._workdays:
            return True
        if day in self._holidays:
            return False
        return day.weekday() < 5

    # -- single days ------------------------------------------------------------------------

    def is_working_day(self, day: date) -> bool:
        """Whether ``day`` is a working day: a weekday that is not a holiday, or a make-up day."""
        self._require(day.year)
        return self._compute_working(day)

    def day_info(self, day: date) -> DayInfo:
        working = self.is_working_day(day)
        name = self._workdays.get(day) if working else self._holidays.get(day)
        return DayInfo(date=day, is_working_day=working, name=name)

    # -- counting ---------------------------------------------------------------------------

    def calendar_days_between(self, start: date, end: date) -> int:
        """``(end - start).days``: needs no calendar data."""
        return (end - start).days

    def working_days_between(self, start: date, end: date) -> int:
        """The number of working days ``d`` with ``start < d <= end``.

        If ``end < start`` the result is ``-working_days_between(end, start)``. Every year that a
        counted day falls in must be known.
        """
        if end < start:
            return -self.working_days_between(end, start)
        if end == start:
            return 0
        first = start + _ONE_DAY  # first counted day
        count = 0
        for year in range(first.year, end.year + 1):
            data = self._year(year)
            lo = (first - data.first).days if year == first.year else 0
            hi = (end - data.first).days + 1 if year == end.year else data.length
            count += data.prefix[hi] - data.prefix[lo]
        return count

    def add_working_days(self, start: date, n: int) -> date:
        """The ``n``-th working day after ``start`` (``n == 0``: ``start`` itself)."""
        if n < 0:
            raise ValueError(f"n must be >= 0, got {n}")
        if n == 0:
            return start
        remaining = n
        year = start.year
        if start == date(year, 12, 31):
            year, lo = year + 1, 0
            if year > _dt.MAXYEAR:
                raise CalendarYearUnknown(year, self._update_file)
        else:
            lo = (start - date(year, 1, 1)).days + 1  # index of the day after start
        while True:
            data = self._year(year)
            available = data.total - data.prefix[lo]
            if remaining <= available:
                k = bisect_left(data.prefix, data.prefix[lo] + remaining)
                return data.first + timedelta(days=k - 1)
            remaining -= available
            year, lo = year + 1, 0
            if year > _dt.MAXYEAR:
                raise CalendarYearUnknown(year, self._update_file)

    def _on_or_after_working_day(self, day: date) -> date:
        while not self.is_working_day(day):
            day += _ONE_DAY
        return day

    def period_end(
        self,
        start: date,
        length: int,
        unit: Unit,
        policy: CountingPolicy = CountingPolicy(),
    ) -> date:
        """The last day of a period of ``length`` days (of ``unit``) starting at ``start``.

        Calendar days: day 1 is ``start + 1`` (or ``start`` itself without ``start_next_day``); if
        the last day is not a working day and ``roll_to_working_day`` is set, the period ends on
        the next working day. Working days: day 1 is the first working day after ``start`` (or
        ``start`` itself, if it is a working day and ``start_next_day`` is off).
        """
        if length < 1:
            raise ValueError(f"a period must be at least 1 day long, got {length}")
        unit = Unit(unit)
        if unit is Unit.CALENDAR:
            end = start + timedelta(days=length if policy.start_next_day else length - 1)
            if policy.roll_to_working_day:
                end = self._on_or_after_working_day(end)
            return end
        if not policy.start_next_day and self.is_working_day(start):
            return self.add_working_days(start, length - 1)
        return self.add_working_days(start, length)

    def elapsed(
        self,
        start: date,
        end: date,
        unit: Unit,
        policy: CountingPolicy = CountingPolicy(),
    ) -> int:
        """How many days (of ``unit``) of a period starting at ``start`` have run by ``end``.

        Counted exactly as `period_end` counts, so ``elapsed(start, period_end(start, L, ...))``
        is ``L`` (or more, when the end was rolled past non-working days). Days before the period
        starts do not count: the result is never negative. Rolling does not change the count.
        """
        unit = Unit(unit)
        if end < start:
            return 0
        if unit is Unit.CALENDAR:
            days = (end - start).days
            return days if policy.start_next_day else days + 1
        count = self.working_days_between(start, end)
        if not policy.start_next_day and self.is_working_day(start):
            count += 1
        return count

"""The working-day calendar and period counting. Pure: standard library only, no I/O, no clock.

A `WorkCalendar` knows, for a set of years, which days are statutory holidays (法定节假日) and which
weekend days are make-up working days (调休上班). Every other Monday..Friday is a working day and
every other Saturday/Sunday is not. A question that needs a year outside `known_years` raises
`CalendarYearUnknown`: the calendar never falls back to "weekends only", which would be a guess.

Counting follows the Civil Code by default (《民法典》第二百零一条至第二百零三条):

- 第二百零一条第一款: "按照年、月、日计算期间的，开始的当日不计入，自下一日开始计算。"
- 第二百零二条: "按照年、月计算期间的，到期月的对应日为期间的最后一日；没有对应日的，月末日为期间的
  最后一日。" A period of months or years is not 30 or 365 days: one month from 01-31 ends on 02-28
  (02-29 in a leap year), one year from 2024-02-29 ends on 2025-02-28.
- 第二百零三条: "期间的最后一日是法定休假日的，以法定休假日结束的次日为期间的最后一日。期间的最后一日
  的截止时间为二十四时……" The last day is rolled to the next working day; the period runs to 24:00 of
  its last day, so whatever may happen only *after* a period happens on the next day at the earliest.
- 第二百零四条: "期间的计算方法依照本法的规定，但是法律另有规定或者当事人另有约定的除外。" Hence the
  first and third rules are switchable through `CountingPolicy`, since a locality may count differently.
"""

from __future__ import annotations

import datetime as _dt
from bisect import bisect_left
from calendar import monthrange
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from enum import StrEnum

from decisions.errors import CalendarYearUnknown

__all__ = ["CountingPolicy", "DayInfo", "Unit", "WorkCalendar"]

_ONE_DAY = timedelta(days=1)


class Unit(StrEnum):
    """The unit a period is expressed in: 日 (calendar days), 工作日 (working days), 月 or 年."""

    CALENDAR = "calendar"
    WORKING = "working"
    MONTH = "month"
    YEAR = "year"


def _corresponding_day(start: date, months: int) -> date:
    """The day ``months`` months after ``start`` with the same day of the month, or the last day of
    that month when it has no such day (《民法典》第二百零二条)."""
    year, month0 = divmod(start.year * 12 + start.month - 1 + months, 12)
    if not _dt.MINYEAR <= year <= _dt.MAXYEAR:
        raise OverflowError(f"{months} months after {start} is out of range")
    return date(year, month0 + 1, min(start.day, monthrange(year, month0 + 1)[1]))


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

    def last_day(self, day: date, policy: CountingPolicy = CountingPolicy()) -> date:
        """The day a period whose last day falls on ``day`` really ends: ``day`` itself, or, when it
        is not a working day and ``roll_to_working_day`` is set, the next working day (Art. 203)."""
        return self._on_or_after_working_day(day) if policy.roll_to_working_day else day

    @staticmethod
    def _months_end(start: date, months: int, policy: CountingPolicy) -> date:
        """The unrolled last day of a period of ``months`` months from ``start`` (Art. 201-202)."""
        end = _corresponding_day(start, months)
        return end if policy.start_next_day else end - _ONE_DAY

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
        the next working day. Months and years: the last day is the day of ``start``'s number in
        the last month, or that month's last day if it has none (the day before, without
        ``start_next_day``), rolled like calendar days. Working days: day 1 is the first working day after ``start`` (or
        ``start`` itself, if it is a working day and ``start_next_day`` is off).
        """
        if length < 1:
            raise ValueError(f"a period must be at least 1 day long, got {length}")
        unit = Unit(unit)
        if unit in (Unit.MONTH, Unit.YEAR):
            months = length * 12 if unit is Unit.YEAR else length
            return self.last_day(self._months_end(start, months, policy), policy)
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
        Months and years: the number of whole months (years) whose last day is on or before ``end``.
        """
        unit = Unit(unit)
        if end < start:
            return 0
        if unit in (Unit.MONTH, Unit.YEAR):
            per = 12 if unit is Unit.YEAR else 1
            n = max(0, ((end.year - start.year) * 12 + end.month - start.month) // per + 1)
            while n > 0 and self._months_end(start, n * per, policy) > end:
                n -= 1
            return n
        if unit is Unit.CALENDAR:
            days = (end - start).days
            return days if policy.start_next_day else days + 1
        count = self.working_days_between(start, end)
        if not policy.start_next_day and self.is_working_day(start):
            count += 1
        return count

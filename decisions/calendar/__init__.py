"""The working-day calendar: official PRC holidays and make-up days, and period counting.

`WorkCalendar` (pure) answers working-day questions for the years it knows and raises
`CalendarYearUnknown` for any other year; `official_calendar` builds one from chinesecalendar's data
plus the office's override file (``rules/calendar.yaml``).
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

from decisions.calendar.core import CountingPolicy, DayInfo, Unit, WorkCalendar

# The official calendar (chinesecalendar's data, the override file) is imported on first use: the
# pure core imports this package for `Unit` and `WorkCalendar` and must not pay for it.
_OFFICIAL = (
    "DEFAULT_UPDATE_FILE",
    "MAX_HOLIDAY_RANGE_DAYS",
    "YearSchedule",
    "load_calendar",
    "load_override_file",
    "official_calendar",
    "parse_override",
)
if TYPE_CHECKING:
    from decisions.calendar.official import (
        DEFAULT_UPDATE_FILE,
        MAX_HOLIDAY_RANGE_DAYS,
        YearSchedule,
        load_calendar,
        load_override_file,
        official_calendar,
        parse_override,
    )

__all__ = [
    "DEFAULT_UPDATE_FILE",
    "MAX_HOLIDAY_RANGE_DAYS",
    "CountingPolicy",
    "DayInfo",
    "Unit",
    "WorkCalendar",
    "YearSchedule",
    "load_calendar",
    "load_override_file",
    "official_calendar",
    "parse_override",
]


def __getattr__(name: str) -> Any:
    if name not in _OFFICIAL:
        raise AttributeError(f"module 'decisions.calendar' has no attribute {name!r}")
    value = getattr(import_module("decisions.calendar.official"), name)
    globals()[name] = value
    return value

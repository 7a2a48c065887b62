"""The working-day calendar: official PRC holidays and make-up days, and period counting.

`WorkCalendar` (pure) answers working-day questions for the years it knows and raises
`CalendarYearUnknown` for any other year; `official_calendar` builds one from chinesecalendar's data
plus the office's override file (``rules/calendar.yaml``).
"""

from decisions.calendar.core import CountingPolicy, DayInfo, Unit, WorkCalendar
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

"""Specification of the working-day calendar (decisions.calendar).

Every dated edge below is checked against the State Council's published notices:
- 国务院办公厅关于2025年部分节假日安排的通知 (国办发明电〔2024〕12号, 2024-11-12);
- 国务院办公厅关于2026年部分节假日安排的通知 (2025-11-04).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from decisions.calendar import (
    CountingPolicy,
    DayInfo,
    Unit,
    WorkCalendar,
    YearSchedule,
    load_calendar,
    load_override_file,
    official_calendar,
    parse_override,
)
from decisions.errors import CalendarYearUnknown, DefinitionError
from decisions.loading.yamlsafe import load_yaml_text

CAL = official_calendar()
SHIPPED_FILE = Path(__file__).resolve().parent.parent / "rules" / "calendar.yaml"
NO_ROLL = CountingPolicy(roll_to_working_day=False)
INCLUSIVE = CountingPolicy(start_next_day=False)


def d(text: str) -> date:
    return date.fromisoformat(text)


def days(first: str, last: str) -> list[date]:
    start, end = d(first), d(last)
    return [start + timedelta(days=i) for i in range((end - start).days + 1)]


# TEST FIXTURE: a FICTIONAL 2027 schedule (plausible shape, not the official one, which is not
# published as far as we know). Used only to show that an override makes 2027 answerable.
FICTIONAL_2027_YAML = """\
# TEST FIXTURE: fictional 2027 schedule, not an official notice.
years:
  2027:
    source: "测试用虚构安排 fictional schedule for tests"
    holidays:
      - {name: 元旦 New Year's Day, from: 2027-01-01, to: 2027-01-03}
      - {name: 春节 Spring Festival, from: 2027-02-05, to: 2027-02-12}
      - {name: 国庆节 National Day, from: 2027-10-01, to: 2027-10-07}
    workdays:
      - {name: 春节调休 Spring Festival make-up day, date: 2027-02-20}
      - {name: 国庆节调休 National Day make-up day, date: 2027-09-26}
      - {name: 国庆节调休 National Day make-up day, date: 2027-10-09}
"""


def fictional_2027() -> dict[int, YearSchedule]:
    doc = load_yaml_text(FICTIONAL_2027_YAML, "test-2027.yaml")
    return parse_override(doc.data, file=doc.file, line_of=doc.line_of)


# -- the official data ----------------------------------------------------------------------------


class TestOfficialSchedule2025:
    def test_spring_festival_is_eight_days_off_from_new_years_eve(self) -> None:
        for day in days("2025-01-28", "2025-02-04"):
            assert not CAL.is_working_day(day), day
        assert CAL.is_working_day(d("2025-01-27"))
        assert CAL.is_working_day(d("2025-02-05"))

    def test_spring_festival_make_up_days_are_a_sunday_and_a_saturday(self) -> None:
        assert d("2025-01-26").weekday() == 6
        assert d("2025-02-08").weekday() == 5
        assert CAL.is_working_day(d("2025-01-26"))
        assert CAL.is_working_day(d("2025-02-08"))
        # an ordinary weekend next to them stays a rest day
        assert not CAL.is_working_day(d("2025-01-25"))
        assert not CAL.is_working_day(d("2025-02-09"))

    def test_national_day_and_mid_autumn_are_eight_days_off(self) -> None:
        for day in days("2025-10-01", "2025-10-08"):
            assert not CAL.is_working_day(day), day
        assert CAL.is_working_day(d("2025-09-30"))
        assert CAL.is_working_day(d("2025-10-09"))
        assert CAL.is_working_day(d("2025-09-28"))  # Sunday, make-up day
        assert CAL.is_working_day(d("2025-10-11"))  # Saturday, make-up day

    def test_new_years_day_2025_has_no_make_up_day(self) -> None:
        assert not CAL.is_working_day(d("2025-01-01"))
        assert not CAL.is_working_day(d("2024-12-29"))  # plain Sunday
        assert CAL.is_working_day(d("2025-01-02"))

    def test_2025_has_248_working_days(self) -> None:
        # 261 weekdays - 18 weekday holidays + 5 make-up days
        assert CAL.working_days_between(d("2024-12-31"), d("2025-12-31")) == 248


class TestOfficialSchedule2026:
    def test_spring_festival_is_nine_days_off(self) -> None:
        for day in days("2026-02-15", "2026-02-23"):
            assert not CAL.is_working_day(day), day
        assert CAL.is_working_day(d("2026-02-13"))
        assert CAL.is_working_day(d("2026-02-24"))

    def test_spring_festival_make_up_days_are_two_saturdays(self) -> None:
        for text in ("2026-02-14", "2026-02-28"):
            assert d(text).weekday() == 5
            assert CAL.is_working_day(d(text)), text

    def test_national_day_is_seven_days_off_after_a_separate_mid_autumn(self) -> None:
        for day in days("2026-10-01", "2026-10-07"):
            assert not CAL.is_working_day(day), day
        assert CAL.is_working_day(d("2026-10-08"))
        for day in days("2026-09-25", "2026-09-27"):  # 中秋节 Fri..Sun
            assert not CAL.is_working_day(day), day
        assert d("2026-09-20").weekday() == 6
        assert d("2026-10-10").weekday() == 5
        assert CAL.is_working_day(d("2026-09-20"))
        assert CAL.is_working_day(d("2026-10-10"))

    def test_new_years_day_2026_has_a_sunday_make_up_day(self) -> None:
        for day in days("2026-01-01", "2026-01-03"):
            assert not CAL.is_working_day(day), day
        assert CAL.is_working_day(d("2026-01-04"))

    def test_make_up_days_of_2026_are_exactly_the_notices(self) -> None:
        makeup = [day for day in days("2026-01-01", "2026-12-31") if day.weekday() >= 5 and CAL.is_working_day(day)]
        expected = ["2026-01-04", "2026-02-14", "2026-02-28", "2026-05-09", "2026-09-20"]
        assert makeup == [d(t) for t in [*expected, "2026-10-10"]]

    def test_2026_has_248_working_days(self) -> None:
        # 261 weekdays - 19 weekday holidays + 6 make-up days
        assert CAL.working_days_between(d("2025-12-31"), d("2026-12-31")) == 248


class TestDayInfo:
    def test_a_holiday_carries_its_bilingual_name(self) -> None:
        info = CAL.day_info(d("2026-02-17"))
        assert info == DayInfo(d("2026-02-17"), False, "春节 Spring Festival")
        assert info.is_holiday
        assert not info.is_makeup_workday

    def test_a_make_up_day_is_a_named_working_day(self) -> None:
        info = CAL.day_info(d("2025-09-28"))
        assert info.is_working_day
        assert info.is_makeup_workday
        assert info.name is not None
        assert "国庆节" in info.name

    def test_ordinary_days_have_no_name(self) -> None:
        assert CAL.day_info(d("2025-03-12")) == DayInfo(d("2025-03-12"), True, None)
        assert CAL.day_info(d("2025-03-15")) == DayInfo(d("2025-03-15"), False, None)


# -- counting -------------------------------------------------------------------------------------


class TestWorkingDayPeriods:
    """A legality review (合法性审查) of N working days submitted just before a long holiday."""

    def test_seven_working_days_from_the_friday_before_spring_festival_2025(self) -> None:
        # 01-26 (Sun, make-up)=1, 01-27=2, holiday 01-28..02-04, 02-05..02-07=3..5,
        # 02-08 (Sat, make-up)=6, 02-10 (Mon)=7
        assert CAL.add_working_days(d("2025-01-24"), 7) == d("2025-02-10")
        assert CAL.period_end(d("2025-01-24"), 7, Unit.WORKING) == d("2025-02-10")

    def test_seven_working_days_from_the_eve_of_national_day_2025(self) -> None:
        # holiday 10-01..10-08, 10-09=1, 10-10=2, 10-11 (Sat, make-up)=3, 10-13..10-16=4..7
        assert CAL.period_end(d("2025-09-30"), 7, Unit.WORKING) == d("2025-10-16")

    def test_seven_working_days_from_the_friday_before_spring_festival_2026(self) -> None:
        # 02-14 (Sat, make-up)=1, holiday 02-15..02-23, 02-24..02-27=2..5,
        # 02-28 (Sat, make-up)=6, 03-02 (Mon)=7
        assert CAL.period_end(d("2026-02-13"), 7, Unit.WORKING) == d("2026-03-02")

    def test_counting_from_the_start_day_itself(self) -> None:
        # a working start day is day 1; a holiday start day is not
        assert CAL.period_end(d("2025-09-30"), 1, Unit.WORKING, INCLUSIVE) == d("2025-09-30")
        assert CAL.period_end(d("2025-09-30"), 7, Unit.WORKING, INCLUSIVE) == d("2025-10-15")
        assert CAL.period_end(d("2025-10-01"), 1, Unit.WORKING, INCLUSIVE) == d("2025-10-09")

    def test_zero_working_days_is_the_start(self) -> None:
        assert CAL.add_working_days(d("2025-10-01"), 0) == d("2025-10-01")

    def test_working_days_between_counts_the_end_not_the_start(self) -> None:
        assert CAL.working_days_between(d("2025-09-30"), d("2025-10-09")) == 1
        assert CAL.working_days_between(d("2025-09-29"), d("2025-09-30")) == 1
        assert CAL.working_days_between(d("2025-09-30"), d("2025-09-30")) == 0
        assert CAL.working_days_between(d("2025-10-09"), d("2025-09-30")) == -1

    def test_working_days_between_across_a_year_end(self) -> None:
        # 2025-12-31 (Wed)=1, 2026-01-01..03 holiday, 01-04 (Sun, make-up)=2, 01-05 (Mon)=3
        assert CAL.working_days_between(d("2025-12-30"), d("2026-01-05")) == 3
        assert CAL.add_working_days(d("2025-12-30"), 3) == d("2026-01-05")

    def test_elapsed_working_days(self) -> None:
        assert CAL.elapsed(d("2025-01-24"), d("2025-02-10"), Unit.WORKING) == 7
        assert CAL.elapsed(d("2025-01-24"), d("2025-02-09"), Unit.WORKING) == 6
        assert CAL.elapsed(d("2025-09-30"), d("2025-10-08"), Unit.WORKING, INCLUSIVE) == 1
        assert CAL.elapsed(d("2025-09-30"), d("2025-09-01"), Unit.WORKING) == 0

    def test_invalid_arguments(self) -> None:
        with pytest.raises(ValueError):
            CAL.add_working_days(d("2025-01-24"), -1)
        with pytest.raises(ValueError):
            CAL.period_end(d("2025-01-24"), 0, Unit.CALENDAR)


class TestCalendarDayPeriods:
    """A public comment period (征求意见) of 30 days: 日, not 工作日."""

    def test_a_period_ending_on_a_holiday_ends_on_the_next_working_day(self) -> None:
        # day 30 after 2025-09-01 is 2025-10-01 (国庆节); the holiday lasts to 10-08
        assert CAL.period_end(d("2025-09-01"), 30, Unit.CALENDAR) == d("2025-10-09")

    def test_without_rolling_it_ends_on_the_holiday(self) -> None:
        assert CAL.period_end(d("2025-09-01"), 30, Unit.CALENDAR, NO_ROLL) == d("2025-10-01")

    def test_a_period_ending_on_a_plain_weekend_rolls_to_monday(self) -> None:
        # day 30 after 2025-02-13 is Saturday 2025-03-15
        assert CAL.period_end(d("2025-02-13"), 30, Unit.CALENDAR) == d("2025-03-17")

    def test_a_period_ending_on_a_make_up_sunday_does_not_roll(self) -> None:
        # day 30 after 2025-08-29 is Sunday 2025-09-28, a make-up working day
        assert CAL.period_end(d("2025-08-29"), 30, Unit.CALENDAR) == d("2025-09-28")

    def test_counting_from_the_start_day_itself(self) -> None:
        assert CAL.period_end(d("2025-09-02"), 30, Unit.CALENDAR, INCLUSIVE) == d("2025-10-09")
        both_off = CountingPolicy(start_next_day=False, roll_to_working_day=False)
        assert CAL.period_end(d("2025-09-02"), 30, Unit.CALENDAR, both_off) == d("2025-10-01")

    def test_elapsed_calendar_days(self) -> None:
        assert CAL.elapsed(d("2025-09-01"), d("2025-10-01"), Unit.CALENDAR) == 30
        assert CAL.elapsed(d("2025-09-01"), d("2025-10-09"), Unit.CALENDAR) == 38
        assert CAL.elapsed(d("2025-09-01"), d("2025-09-01"), Unit.CALENDAR, INCLUSIVE) == 1
        assert CAL.calendar_days_between(d("2025-09-01"), d("2025-10-01")) == 30
        assert CAL.calendar_days_between(d("2025-10-01"), d("2025-09-01")) == -30


# -- unknown years --------------------------------------------------------------------------------


class TestUnknownYears:
    def test_known_years_are_chinesecalendars(self) -> None:
        assert frozenset(range(2004, 2027)) == CAL.known_years
        assert CAL.update_file == "rules/calendar.yaml"

    def test_a_2027_date_raises_naming_the_year_and_the_file(self) -> None:
        with pytest.raises(CalendarYearUnknown) as caught:
            CAL.is_working_day(d("2027-03-01"))
        assert caught.value.year == 2027
        assert caught.value.update_file == "rules/calendar.yaml"
        assert "2027" in str(caught.value)
        assert "rules/calendar.yaml" in str(caught.value)

    def test_an_unknown_year_is_never_guessed_even_for_a_weekend(self) -> None:
        with pytest.raises(CalendarYearUnknown):
            CAL.is_working_day(d("2027-03-06"))  # a Saturday
        with pytest.raises(CalendarYearUnknown):
            CAL.day_info(d("2003-06-02"))

    @pytest.mark.parametrize(
        "question",
        [
            lambda c: c.add_working_days(d("2026-12-28"), 7),
            lambda c: c.period_end(d("2026-12-28"), 7, Unit.WORKING),
            lambda c: c.working_days_between(d("2026-12-28"), d("2027-01-07")),
            lambda c: c.working_days_between(d("2027-01-07"), d("2026-12-28")),
            lambda c: c.elapsed(d("2026-12-28"), d("2027-01-07"), Unit.WORKING),
            lambda c: c.period_end(d("2026-12-05"), 30, Unit.CALENDAR),  # lands on 2027-01-04
        ],
    )
    def test_a_question_crossing_into_2027_raises(self, question: Callable[[WorkCalendar], object]) -> None:
        with pytest.raises(CalendarYearUnknown) as caught:
            question(CAL)
        assert caught.value.year == 2027

    def test_the_last_working_day_of_2026_is_still_answerable(self) -> None:
        assert CAL.add_working_days(d("2026-12-30"), 1) == d("2026-12-31")
        with pytest.raises(CalendarYearUnknown):
            CAL.add_working_days(d("2026-12-30"), 2)
        with pytest.raises(CalendarYearUnknown):
            CAL.add_working_days(d("2026-12-31"), 1)

    def test_a_period_needing_no_calendar_does_not_raise(self) -> None:
        assert CAL.period_end(d("2026-12-05"), 30, Unit.CALENDAR, NO_ROLL) == d("2027-01-04")
        assert CAL.calendar_days_between(d("2026-12-05"), d("2027-01-04")) == 30

    def test_an_override_makes_2027_answerable(self) -> None:
        cal = official_calendar(fictional_2027(), update_file="office/calendar.yaml")
        assert 2027 in cal.known_years
        # 12-29..12-31 = 1..3, fictional 元旦 2027-01-01..03, 01-04..01-07 = 4..7
        assert cal.add_working_days(d("2026-12-28"), 7) == d("2027-01-07")
        assert cal.is_working_day(d("2027-02-20"))  # fictional make-up Saturday
        assert not cal.is_working_day(d("2027-02-08"))  # fictional Spring Festival Monday
        assert cal.is_working_day(d("2027-03-01"))
        with pytest.raises(CalendarYearUnknown) as caught:
            cal.is_working_day(d("2028-01-03"))
        assert caught.value.year == 2028
        assert "office/calendar.yaml" in str(caught.value)

    def test_an_override_replaces_a_known_year_entirely(self) -> None:
        only_new_year = YearSchedule(
            year=2026,
            source="test fixture",
            holidays={d("2026-01-01"): "元旦 New Year's Day"},
            workdays={},
        )
        cal = official_calendar({2026: only_new_year})
        assert not cal.is_working_day(d("2026-01-01"))
        assert cal.is_working_day(d("2026-02-16"))  # Spring Festival no longer listed
        assert not cal.is_working_day(d("2026-02-14"))  # nor its make-up Saturday
        assert not CAL.is_working_day(d("2026-02-16"))  # the official calendar is untouched
        assert not cal.is_working_day(d("2025-02-03"))  # other years keep their data


class TestWorkCalendarConstruction:
    def test_a_date_cannot_be_both_holiday_and_workday(self) -> None:
        with pytest.raises(ValueError, match="both"):
            WorkCalendar(
                holidays={d("2030-01-05"): "x"},
                workdays={d("2030-01-05"): "y"},
                known_years=[2030],
                update_file="f",
            )

    def test_listed_dates_must_lie_in_known_years(self) -> None:
        with pytest.raises(ValueError, match="does not know"):
            WorkCalendar(holidays={d("2031-01-01"): "x"}, workdays={}, known_years=[2030], update_file="f")

    def test_a_minimal_calendar(self) -> None:
        cal = WorkCalendar(holidays={}, workdays={}, known_years=[2030], update_file="f")
        assert cal.working_days_between(d("2030-01-01"), d("2030-01-08")) == 5
        with pytest.raises(CalendarYearUnknown, match="f"):
            cal.add_working_days(d("2030-12-31"), 1)


# -- the override file ----------------------------------------------------------------------------


BROKEN_YAML = """\
years:
  2027:
    holidays:
      - {name: 元旦 New Year's Day, from: 2027-01-01, to: 2027-01-03}
      - {name: 春节 Spring Festival, from: 2027-02-12, to: 2027-02-05}
      - {name: 国庆节 National Day, from: 2027-10-01, to: 2027-10-31}
      - {name: 清明节 Tomb-sweeping Day, from: 2027-04-31, to: 2027-04-05}
      - {name: 劳动节 Labour Day, from: 2028-05-01, to: 2028-05-05}
      - {name: 端午节 Dragon Boat Festival, from: 2027-01-03, to: 2027-01-03}
    workdays:
      - {name: 元旦调休 make-up day, date: 2027-01-02}
      - {name: 春节调休 make-up day, date: 2027-02-17}
      - {name: 春节调休 make-up day, date: 2027-02-20}
      - {name: 春节调休 make-up day, date: 2027-02-20}
      - {name: 国庆节调休 make-up day, date: 2027-09-26, when: morning}
    notes: forgotten
  "2028": {}
"""


def line_containing(text: str, needle: str) -> int:
    for number, line in enumerate(text.splitlines(), start=1):
        if needle in line:
            return number
    raise AssertionError(needle)


class TestOverrideFile:
    def test_the_shipped_file_is_valid_and_adds_nothing(self) -> None:
        assert load_override_file(SHIPPED_FILE) == {}
        cal = load_calendar(SHIPPED_FILE, display="rules/calendar.yaml")
        assert cal.known_years == CAL.known_years
        assert cal.update_file == "rules/calendar.yaml"

    def test_the_shipped_example_is_the_real_2025_schedule(self) -> None:
        text = SHIPPED_FILE.read_text(encoding="utf-8")
        block = text.split("# --- example begins ---\n")[1].split("# --- example ends ---")[0]
        example = "\n".join(line.removeprefix("# ") for line in block.splitlines())
        doc = load_yaml_text(example, "example")
        schedule = parse_override(doc.data, file=doc.file, line_of=doc.line_of)[2025]
        assert "国办发明电〔2024〕12号" in schedule.source
        cal = official_calendar({2025: schedule})
        for day in days("2025-01-01", "2025-12-31"):
            assert cal.is_working_day(day) == CAL.is_working_day(day), day

    def test_a_fictional_2027_file_loads_from_disk(self, tmp_path: Path) -> None:
        path = tmp_path / "calendar.yaml"
        path.write_text(FICTIONAL_2027_YAML, encoding="utf-8")
        schedules = load_override_file(path)
        assert set(schedules) == {2027}
        schedule = schedules[2027]
        assert schedule.holidays[d("2027-02-08")] == "春节 Spring Festival"
        assert len(schedule.holidays) == 3 + 8 + 7
        assert sorted(schedule.workdays) == [d("2027-02-20"), d("2027-09-26"), d("2027-10-09")]
        cal = load_calendar(path)
        assert cal.update_file == str(path)
        assert cal.period_end(d("2027-09-30"), 1, Unit.WORKING) == d("2027-10-08")

    def test_a_broken_file_lists_every_problem_with_its_line(self, tmp_path: Path) -> None:
        path = tmp_path / "calendar.yaml"
        path.write_text(BROKEN_YAML, encoding="utf-8")
        with pytest.raises(DefinitionError) as caught:
            load_override_file(path, display="rules/calendar.yaml")
        problems = caught.value.problems
        at = {(p.line, p.path) for p in problems}

        def line(needle: str) -> int:
            return line_containing(BROKEN_YAML, needle)

        expected: dict[tuple[int | None, str], str] = {
            (line("2027:"), "years.2027"): "missing required key 'source'",
            (line("2027-02-12"), "years.2027.holidays[1].to"): "before 'from'",
            (line("2027-10-31"), "years.2027.holidays[2]"): "longer than 15 days",
            (line("2027-04-31"), "years.2027.holidays[3].from"): "'2027-04-31'",
            (line("2028-05-01"), "years.2027.holidays[4].from"): "outside the year 2027",
            (line("2028-05-01"), "years.2027.holidays[4].to"): "outside the year 2027",
            (line("端午节"), "years.2027.holidays[5]"): "already listed as a holiday",
            (line("2027-01-02"), "years.2027.workdays[0].date"): "both",
            (line("2027-02-17"), "years.2027.workdays[1].date"): "Wednesday",
            (line("2027-02-20") + 1, "years.2027.workdays[3].date"): "already listed",
            (line("when: morning"), "years.2027.workdays[4].when"): "unknown key 'when'",
            (line("notes:"), "years.2027.notes"): "unknown key 'notes'",
            (line('"2028"'), "years.2028"): "plain number",
        }
        assert at == set(expected)
        for problem in problems:
            assert expected[(problem.line, problem.path)] in problem.message, problem
            assert problem.file == "rules/calendar.yaml"
        assert f"rules/calendar.yaml:{line('2027-02-17')}: " in str(caught.value)

    @pytest.mark.parametrize(
        ("data", "path", "fragment"),
        [
            (None, "", "expected a mapping"),
            ({}, "", "missing required key 'years'"),
            ({"years": [2027]}, "years", "mapping of year"),
            ({"years": {True: {}}}, "years.True", "plain number"),
            ({"years": {2027: "soon"}}, "years.2027", "expected a mapping"),
            ({"years": {2027: {"source": 713, "holidays": []}}}, "years.2027.source", "string"),
            ({"years": {2027: {"source": "s"}}}, "years.2027", "missing required key 'holidays'"),
            (
                {"years": {2027: {"source": "s", "holidays": {"a": 1}}}},
                "years.2027.holidays",
                "list of holidays",
            ),
            (
                {"years": {2027: {"source": "s", "holidays": [["2027-01-01"]]}}},
                "years.2027.holidays[0]",
                "expected a mapping",
            ),
            (
                {"years": {2027: {"source": "s", "holidays": [{"name": "x", "from": "2027-01-01"}]}}},
                "years.2027.holidays[0]",
                "missing required key 'to'",
            ),
            (
                {
                    "years": {
                        2027: {
                            "source": "s",
                            "holidays": [{"name": "x", "from": "20270101", "to": "2027-01-01"}],
                        }
                    }
                },
                "years.2027.holidays[0].from",
                "YYYY-MM-DD",
            ),
            (
                {
                    "years": {
                        2027: {
                            "source": "s",
                            "holidays": [{"name": "", "from": "2027-01-01", "to": "2027-01-01"}],
                        }
                    }
                },
                "years.2027.holidays[0].name",
                "non-empty",
            ),
            (
                {
                    "years": {
                        2027: {
                            "source": "s",
                            "holidays": [{"name": "x", "from": "2027-01-01", "to": "2027-01-01"}],
                            "workdays": [{"name": "y", "date": 20270102}],
                        }
                    }
                },
                "years.2027.workdays[0].date",
                "YYYY-MM-DD",
            ),
        ],
    )
    def test_wrong_shapes_are_located(self, data: object, path: str, fragment: str) -> None:
        with pytest.raises(DefinitionError) as caught:
            parse_override(data, file="calendar.yaml", line_of=lambda _: 7)
        matching = [p for p in caught.value.problems if p.path == path]
        assert matching, caught.value.problems
        assert any(fragment in p.message for p in matching), matching
        assert all(p.line == 7 for p in caught.value.problems)

    def test_an_empty_years_mapping_is_valid(self) -> None:
        assert parse_override({"years": {}}, file="f", line_of=lambda _: None) == {}
        assert parse_override({"years": None}, file="f", line_of=lambda _: None) == {}


class TestMonthsAndYears:
    """《民法典》第二百零二条: a period of months or years ends on the corresponding day of the last
    month, or on that month's last day when it has none; never 30 or 365 days."""

    def test_one_month_ends_on_the_corresponding_day_not_after_30_days(self) -> None:
        assert CAL.period_end(d("2025-03-05"), 1, Unit.MONTH) == d("2025-04-07")  # 04-05 is 清明 (Saturday)
        assert CAL.period_end(d("2025-03-05"), 1, Unit.MONTH, NO_ROLL) == d("2025-04-05")
        assert CAL.period_end(d("2025-03-05"), 30, Unit.CALENDAR, NO_ROLL) == d("2025-04-04")
        assert CAL.period_end(d("2025-07-10"), 2, Unit.MONTH) == d("2025-09-10")

    def test_a_month_without_the_corresponding_day_ends_on_its_last_day(self) -> None:
        assert CAL.period_end(d("2025-01-31"), 1, Unit.MONTH) == d("2025-02-28")
        assert CAL.period_end(d("2024-01-31"), 1, Unit.MONTH) == d("2024-02-29")
        assert CAL.period_end(d("2025-08-31"), 1, Unit.MONTH) == d("2025-09-30")
        assert CAL.period_end(d("2025-12-31"), 2, Unit.MONTH) == d("2026-02-28")

    def test_one_year_ends_on_the_same_date_a_year_later_not_after_365_days(self) -> None:
        # 2024 is a leap year: 365 days after 2024-01-10 is 2025-01-09, one year is 2025-01-10
        assert CAL.period_end(d("2024-01-10"), 1, Unit.YEAR) == d("2025-01-10")
        assert CAL.period_end(d("2024-01-10"), 365, Unit.CALENDAR) == d("2025-01-09")
        assert CAL.period_end(d("2024-02-29"), 1, Unit.YEAR, NO_ROLL) == d("2025-02-28")

    def test_a_month_or_year_ending_on_a_holiday_ends_on_the_next_working_day(self) -> None:
        assert CAL.period_end(d("2024-10-01"), 1, Unit.YEAR) == d("2025-10-09")  # 国庆中秋 10-01..10-08
        assert CAL.period_end(d("2025-09-01"), 1, Unit.MONTH, NO_ROLL) == d("2025-10-01")

    def test_counting_the_first_day_ends_a_day_earlier(self) -> None:
        assert CAL.period_end(d("2025-03-10"), 1, Unit.MONTH, INCLUSIVE) == d("2025-04-09")

    def test_elapsed_counts_whole_months_and_years(self) -> None:
        assert CAL.elapsed(d("2025-01-31"), d("2025-02-27"), Unit.MONTH) == 0
        assert CAL.elapsed(d("2025-01-31"), d("2025-02-28"), Unit.MONTH) == 1
        assert CAL.elapsed(d("2025-01-31"), d("2026-01-30"), Unit.YEAR) == 0
        assert CAL.elapsed(d("2025-01-31"), d("2026-01-31"), Unit.YEAR) == 1
        assert CAL.elapsed(d("2025-05-06"), d("2025-01-01"), Unit.MONTH) == 0

    def test_the_last_day_of_a_period_rolls_past_a_holiday(self) -> None:
        assert CAL.last_day(d("2025-05-01")) == d("2025-05-06")  # 劳动节 05-01..05-05
        assert CAL.last_day(d("2025-04-14")) == d("2025-04-14")
        assert CAL.last_day(d("2025-05-01"), NO_ROLL) == d("2025-05-01")


# -- properties -----------------------------------------------------------------------------------

dates = st.dates(min_value=date(2005, 1, 1), max_value=date(2025, 12, 31))
policies = st.builds(CountingPolicy, start_next_day=st.booleans(), roll_to_working_day=st.booleans())
units = st.sampled_from(list(Unit))


@settings(max_examples=300, deadline=None)
@given(start=dates, length=st.integers(min_value=1, max_value=60), unit=units, policy=policies)
def test_period_end_is_the_first_eligible_day_with_enough_days_elapsed(
    start: date, length: int, unit: Unit, policy: CountingPolicy
) -> None:
    if unit is Unit.MONTH:
        length = length % 12 + 1  # the calendar knows the years up to 2026
    elif unit is Unit.YEAR:
        length = 1
    end = CAL.period_end(start, length, unit, policy)
    assert CAL.elapsed(start, end, unit, policy) >= length
    must_be_working = unit is Unit.WORKING or policy.roll_to_working_day
    if must_be_working:
        assert CAL.is_working_day(end)
    else:
        assert CAL.elapsed(start, end, unit, policy) == length
    if unit is not Unit.CALENDAR:
        assert CAL.elapsed(start, end, unit, policy) == length
    # no earlier day would do
    day = start
    while day < end:
        eligible = not must_be_working or CAL.is_working_day(day)
        assert not (eligible and CAL.elapsed(start, day, unit, policy) >= length), day
        day += timedelta(days=1)


@settings(max_examples=300, deadline=None)
@given(a=dates, b=dates, c=dates)
def test_working_days_between_is_additive(a: date, b: date, c: date) -> None:
    wd = CAL.working_days_between
    assert wd(a, b) + wd(b, c) == wd(a, c)
    assert wd(a, b) == -wd(b, a)


@settings(max_examples=200, deadline=None)
@given(start=dates, span=st.integers(min_value=0, max_value=365))
def test_working_days_between_matches_a_day_by_day_count(start: date, span: int) -> None:
    # a year past the last start date at most: the calendar knows up to 2026 and never guesses beyond
    end = start + timedelta(days=span)
    naive = sum(CAL.is_working_day(start + timedelta(days=i)) for i in range(1, span + 1))
    assert CAL.working_days_between(start, end) == naive
    reached = CAL.add_working_days(start, naive)
    assert reached <= end
    assert CAL.working_days_between(start, reached) == naive
    if naive:
        assert CAL.is_working_day(reached)


def test_every_make_up_day_in_the_data_is_a_weekend_and_no_holiday_is_worked() -> None:
    makeup_on_weekday = []
    for year in sorted(CAL.known_years):
        for day in days(f"{year}-01-01", f"{year}-12-31"):
            info = CAL.day_info(day)
            if info.is_makeup_workday and day.weekday() < 5:
                makeup_on_weekday.append(day)
    assert makeup_on_weekday == []

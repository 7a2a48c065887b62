"""The annual report's service: reads every case in one pass, hands them to the pure figures
(`decisions.report.figures`), and makes the exports and charts from the figures. See docs/report.md."""

from __future__ import annotations

import difflib
from typing import TYPE_CHECKING

from decisions.errors import UnknownName, UsageError, shown
from decisions.model import Case
from decisions.report.figures import Report, compute_report
from decisions.service.cases import case_of_year

if TYPE_CHECKING:
    from decisions.service.office import Office

__all__ = ["FORMATS", "MAX_YEAR", "MIN_YEAR", "build_report", "check_year"]

MIN_YEAR, MAX_YEAR = 2000, 2100
FORMATS = ("text", "json", "xlsx", "html")


def check_year(year: int) -> None:
    if not MIN_YEAR <= year <= MAX_YEAR:
        raise UsageError(
            zh=f"年度应在 {MIN_YEAR} 至 {MAX_YEAR} 之间，而非 {year}",
            en=f"the year is between {MIN_YEAR} and {MAX_YEAR}, not {year}",
        )


def _unit_of(case: Case, office: Office) -> set[str]:
    wf = office.definitions.workflows.get(case.workflow)
    out = {r.unit for r in case.records[:1] if r.unit}
    if wf is not None and wf.report is not None and wf.report.unit:
        out |= {v for r in case.records if isinstance(v := r.fields.get(wf.report.unit), str) and v}
    return out


def build_report(office: Office, year: int, unit: str | None = None) -> Report:
    """The figures of ``year`` (of ``unit`` only, if given) from every case this office holds."""
    check_year(year)
    today = office.cases.today()
    if year > today.year:
        raise UsageError(
            zh=f"{year} 年尚未开始（今天是 {today.isoformat()}）：没有可统计的数据",
            en=f"{year} has not begun (today is {today.isoformat()}): there is nothing to count",
        )
    heads = office.cases.repository.cases()
    cases = [office.cases.view(head.id).case for head in heads]
    if unit is not None:
        known = set(office.cases.store.people.units()) | {u for c in cases for u in _unit_of(c, office)}
        if unit not in known:
            raise UnknownName(
                what="unit",
                name=unit,
                suggestions=difflib.get_close_matches(unit, sorted(known), n=3, cutoff=0.5),
                zh=f"没有单位 {shown(unit)}（人员名册和案卷中均未出现）",
                en=f"no unit {shown(unit)} (neither among the people nor on any case)",
            )
    held = {c.id: c for c in cases}
    catalogues: dict[str, Case] = {}
    for wf in office.definitions.workflows.values():
        case_id = case_of_year(wf, year) if wf.catalogue is not None else None
        if case_id is not None and case_id in held:
            catalogues[wf.name] = held[case_id]
    book = office.definitions.rulebook
    return compute_report(
        year,
        today,
        cases,
        office.definitions.workflows,
        {name: p.value for name, p in book.parameters.items()},
        office.definitions.calendar,
        catalogues,
        unit,
    )

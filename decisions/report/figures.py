"""The annual report's figures, computed from the histories (pure: cases, definitions and the work
calendar in, figures out; no I/O, no clock: the service hands in the day the figures are taken on).

Every figure is defined in docs/report.md. A case counts for the year when it has a record dated in
it; its stage, category and unit are those its records give it on the last day counted (the year's
end, or the day the figures are taken if earlier). What each record counts for is its workflow's
``report:`` declaration (`decisions.report.spec.ReportSpec`); no workflow's name is written here.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from decisions.calendar.core import WorkCalendar
from decisions.catalogue import CatalogueSpec, versions
from decisions.model import Case, Record, Text
from decisions.report.spec import FIGURE_KINDS, OUTCOME_KINDS, ReportSpec
from decisions.workflow.definition import WorkflowDef

__all__ = [
    "KIND_LABELS",
    "NOT_GIVEN",
    "CatalogueFigures",
    "DecisionFigures",
    "ExecutionFigures",
    "ProcedureFigures",
    "Report",
    "ReviewFigures",
    "Shortening",
    "compute_report",
    "last_day",
]

KIND_LABELS: Mapping[str, Text] = {
    "review_submitted": Text("送审", "submissions"),
    "review_returned": Text("退回补充材料", "returned for supplements"),
    "review_lawful": Text("合法", "found lawful"),
    "review_risk_disclosed": Text("提示法律风险", "legal risk disclosed"),
    "review_needs_revision": Text("需修改", "needs revision"),
    "review_unlawful": Text("不合法", "found unlawful"),
    "procedure_consultation": Text("公开征求意见", "public consultations"),
    "procedure_hearing": Text("听证会", "hearings"),
    "procedure_expert_argumentation": Text("专家论证", "expert argumentation"),
    "procedure_risk_assessment": Text("风险评估", "risk assessments"),
    "procedure_party_report": Text("向党委请示报告", "Party committee reports"),
    "execution_reported": Text("执行情况报告", "execution reports"),
    "evaluation_done": Text("决策后评估", "post-decision evaluations"),
}
"""The engine's words for its figure kinds (the closed set of `FIGURE_KINDS`)."""

NOT_GIVEN = Text("未填写", "not given")
"""What a case's category or unit is when its records never gave one."""


@dataclass(frozen=True)
class DecisionFigures:
    """The cases of one workflow counted for the year: by stage, by category, by unit (each as
    (key, label, count), largest first; the key of a stage or category is its name)."""

    workflow: str
    label: Text
    cases: int
    by_stage: tuple[tuple[str, Text, int], ...]
    by_category: tuple[tuple[str, Text, int], ...]
    by_unit: tuple[tuple[str, int], ...]


@dataclass(frozen=True)
class ReviewFigures:
    """One workflow's legality reviews in the year. ``counts``: figure kind → records (the review
    kinds the workflow declares). ``days``: each opinion's review time in working days, in the order
    given. ``below_minimum``: submissions that left less than ``minimum`` working days (``None`` when
    the workflow declares no minimum). ``by_month``: opinions given in each month, January first."""

    workflow: str
    label: Text
    counts: Mapping[str, int]
    days: tuple[int, ...]
    below_minimum: int | None
    minimum: int | None
    by_month: tuple[int, ...]

    @property
    def average_days(self) -> float | None:
        return round(sum(self.days) / len(self.days), 1) if self.days else None

    @property
    def longest_days(self) -> int | None:
        return max(self.days) if self.days else None


@dataclass(frozen=True)
class Shortening:
    """A notice that shortened a period, and the reason it gave."""

    case_id: str
    on: date
    reason: str


@dataclass(frozen=True)
class ProcedureFigures:
    """One workflow's procedures performed in the year (figure kind → records) and its shortened periods."""

    workflow: str
    label: Text
    counts: Mapping[str, int]
    shortened: tuple[Shortening, ...]


@dataclass(frozen=True)
class ExecutionFigures:
    """One workflow's execution reports and evaluations in the year; the cases owing a report (in a
    state its ``execution_reports_in`` names on the last day counted) with none dated in the year."""

    workflow: str
    label: Text
    reports: int
    evaluations: int
    missing: tuple[str, ...]


@dataclass(frozen=True)
class CatalogueFigures:
    """The year's catalogue (its latest version published by the last day counted): items planned,
    done (a case implementing the item reached a state flagged ``decision_taken``), carried over (not
    done by then) and overdue (久拖不决: carried over and past the item's planned deadline)."""

    workflow: str
    label: Text
    case_id: str
    planned: tuple[str, ...]
    done: tuple[str, ...]
    carried_over: tuple[str, ...]
    overdue: tuple[tuple[str, str, date], ...]


@dataclass(frozen=True)
class Report:
    """The figures of one year (of one unit, if ``unit``), taken on ``as_of``'s data."""

    year: int
    unit: str | None
    as_of: date
    decisions: tuple[DecisionFigures, ...]
    reviews: tuple[ReviewFigures, ...]
    procedures: tuple[ProcedureFigures, ...]
    execution: tuple[ExecutionFigures, ...]
    catalogues: tuple[CatalogueFigures, ...]


def last_day(year: int, today: date) -> date:
    """The last day the figures of ``year`` count: its 31 December, or ``today`` if earlier."""
    return min(date(year, 12, 31), today)


def _as_date(value: Any) -> date | None:
    if isinstance(value, date):
        return value
    if isinstance(value, str):
        try:
            return date.fromisoformat(value)
        except ValueError:
            return None
    return None


class _Case:
    """One case as the report sees it: its records up to the last day counted."""

    def __init__(self, case: Case, workflow: WorkflowDef, end: date) -> None:
        self.case, self.workflow = case, workflow
        self.records = tuple(r for r in case.records if r.on <= end)
        self.spec = workflow.report or ReportSpec()

    def in_year(self, year: int) -> tuple[Record, ...]:
        return tuple(r for r in self.records if r.on.year == year)

    @property
    def state(self) -> str:
        return self.records[-1].to_state if self.records else self.case.state

    def value(self, name: str) -> Any:
        """The latest value of field ``name`` on the records counted (an attribute as it stood then)."""
        for r in reversed(self.records):
            if name in r.fields:
                return r.fields[name]
        return None

    @property
    def unit(self) -> str:
        if self.spec.unit:
            given = self.value(self.spec.unit)
            if isinstance(given, str) and given:
                return given
        return (self.records[0].unit or "") if self.records else ""

    def kinds(self, year: int) -> Counter[str]:
        return Counter(k for r in self.in_year(year) if (k := self.spec.kind_of(r.trigger)) is not None)


def _decisions(wf: WorkflowDef, cases: Sequence[_Case]) -> DecisionFigures:
    stages = Counter(wf.states[c.state].stage if c.state in wf.states else "" for c in cases)
    category = wf.report.category if wf.report is not None else ""
    by_category: list[tuple[str, Text, int]] = []
    if category:
        fdef = wf.fields[category]
        values = Counter(str(c.value(category) or "") for c in cases)
        by_category = [(v, fdef.value_labels.get(v, Text(v, v)) if v else NOT_GIVEN, n) for v, n in values.items()]
    units = Counter(c.unit for c in cases)
    return DecisionFigures(
        wf.name,
        wf.label,
        len(cases),
        tuple(
            sorted(
                ((s, wf.stages[s].label if s in wf.stages else NOT_GIVEN, n) for s, n in stages.items()),
                key=lambda x: (-x[2], x[0]),
            )
        ),
        tuple(sorted(by_category, key=lambda x: (-x[2], x[0]))),
        tuple(sorted(units.items(), key=lambda x: (-x[1], x[0]))),
    )


def _reviews(
    wf: WorkflowDef,
    spec: ReportSpec,
    cases: Sequence[_Case],
    year: int,
    params: Mapping[str, Any],
    calendar: WorkCalendar,
) -> ReviewFigures:
    counts: Counter[str] = Counter()
    days: list[int] = []
    months = [0] * 12
    below = 0
    minimum = params.get(spec.review_minimum.parameter) if spec.review_minimum is not None else None
    submitted = spec.counts.get("review_submitted", frozenset())
    outcomes = frozenset(t for k in OUTCOME_KINDS for t in spec.counts.get(k, ()))
    for c in cases:
        for kind, n in c.kinds(year).items():
            if kind.startswith("review_"):
                counts[kind] += n
        opened: Record | None = None
        for r in c.records:
            if r.trigger in submitted:
                opened = r
                due = _as_date(r.fields.get(spec.review_minimum.due)) if spec.review_minimum is not None else None
                if r.on.year == year and isinstance(minimum, int) and due is not None:
                    below += calendar.working_days_between(r.on, due) < minimum
            elif r.trigger in outcomes:
                if r.on.year == year:
                    months[r.on.month - 1] += 1
                    if opened is not None:
                        days.append(calendar.working_days_between(opened.on, r.on))
                opened = None
    declared = {k: counts.get(k, 0) for k in FIGURE_KINDS if k.startswith("review_") and k in spec.counts}
    return ReviewFigures(
        wf.name,
        wf.label,
        declared,
        tuple(days),
        below if isinstance(minimum, int) else None,
        minimum if isinstance(minimum, int) else None,
        tuple(months),
    )


def _procedures(wf: WorkflowDef, spec: ReportSpec, cases: Sequence[_Case], year: int) -> ProcedureFigures:
    counts: Counter[str] = Counter()
    shortened: list[Shortening] = []
    for c in cases:
        counts.update({k: n for k, n in c.kinds(year).items() if k.startswith("procedure_")})
        if spec.shortened is not None:
            for r in c.in_year(year):
                reason = r.fields.get(spec.shortened.reason)
                if r.trigger in spec.shortened.triggers and isinstance(reason, str) and reason.strip():
                    shortened.append(Shortening(c.case.id, r.on, reason))
    declared = {k: counts.get(k, 0) for k in FIGURE_KINDS if k.startswith("procedure_") and k in spec.counts}
    return ProcedureFigures(wf.name, wf.label, declared, tuple(sorted(shortened, key=lambda s: (s.on, s.case_id))))


def _execution(wf: WorkflowDef, spec: ReportSpec, cases: Sequence[_Case], year: int) -> ExecutionFigures:
    reports = evaluations = 0
    missing: list[str] = []
    for c in cases:
        kinds = c.kinds(year)
        reports += kinds.get("execution_reported", 0)
        evaluations += kinds.get("evaluation_done", 0)
        if c.state in spec.execution_in and not kinds.get("execution_reported"):
            missing.append(c.case.id)
    return ExecutionFigures(wf.name, wf.label, reports, evaluations, tuple(sorted(missing)))


def _catalogue(
    wf: WorkflowDef,
    spec: CatalogueSpec,
    catalogue: Case,
    linked: Sequence[_Case],
    end: date,
    unit: str | None,
) -> CatalogueFigures | None:
    published = [v for v in versions(catalogue, spec) if v.published_on is not None and v.published_on <= end]
    items = published[-1].items if published else ()
    report = wf.report or ReportSpec()
    if unit is not None:
        if not report.item_unit:
            return None
        items = tuple(i for i in items if i.fields.get(report.item_unit) == unit)
    decided: set[str] = set()
    for c in linked:
        link = c.workflow.case.catalogue_item if c.workflow.case is not None else None
        if link is not None and any(r.to_state in c.workflow.decided_states for r in c.records):
            item = c.value(link.field)
            if isinstance(item, str):
                decided.add(item)
    planned = tuple(i.id for i in items)
    done = tuple(i for i in planned if i in decided)
    carried = tuple(i for i in planned if i not in decided)
    overdue = tuple(
        (i.id, i.name, i.planned_by)
        for i in items
        if i.id not in decided and i.planned_by is not None and i.planned_by < end
    )
    return CatalogueFigures(wf.name, wf.label, catalogue.id, planned, done, carried, overdue)


def compute_report(
    year: int,
    today: date,
    cases: Sequence[Case],
    workflows: Mapping[str, WorkflowDef],
    parameters: Mapping[str, Any],
    calendar: WorkCalendar,
    catalogues: Mapping[str, Case],
    unit: str | None = None,
) -> Report:
    """The figures of ``year`` from ``cases`` (every case of the office), under ``workflows``' report
    declarations, the packs' parameter values in force (``parameters``) and the work calendar.
    ``catalogues``: the catalogue case of ``year`` of each catalogue workflow that has one. ``unit``:
    only the cases (and catalogue items) of that unit."""
    end = last_day(year, today)
    grouped: dict[str, list[_Case]] = {}
    for case in cases:
        wf = workflows.get(case.workflow)
        if wf is None or wf.catalogue is not None:
            continue
        seen = _Case(case, wf, end)
        if not seen.in_year(year) or (unit is not None and seen.unit != unit):
            continue
        grouped.setdefault(wf.name, []).append(seen)
    decisions, reviews, procedures, execution = [], [], [], []
    for name in sorted(grouped):
        wf, counted = workflows[name], sorted(grouped[name], key=lambda c: c.case.id)
        decisions.append(_decisions(wf, counted))
        spec = wf.report
        if spec is None:
            continue
        if "review_submitted" in spec.counts:
            reviews.append(_reviews(wf, spec, counted, year, parameters, calendar))
        if any(k.startswith("procedure_") for k in spec.counts) or spec.shortened is not None:
            procedures.append(_procedures(wf, spec, counted, year))
        if "execution_reported" in spec.counts or "evaluation_done" in spec.counts:
            execution.append(_execution(wf, spec, counted, year))
    catalogue_figures: list[CatalogueFigures] = []
    for name in sorted(catalogues):
        wf = workflows.get(name)
        if wf is None or wf.catalogue is None:
            continue
        linked = [
            _Case(c, workflows[c.workflow], end)
            for c in cases
            if c.workflow in workflows
            and (link := workflows[c.workflow].case) is not None
            and link.catalogue_item is not None
            and link.catalogue_item.catalogue == name
        ]
        found = _catalogue(wf, wf.catalogue, catalogues[name], linked, end, unit)
        if found is not None:
            catalogue_figures.append(found)
    return Report(
        year, unit, end, tuple(decisions), tuple(reviews), tuple(procedures), tuple(execution), tuple(catalogue_figures)
    )

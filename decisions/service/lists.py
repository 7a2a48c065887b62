"""The lists of the office (values for the web pages, the API and scripts): 已办, the search of the
cases, and each catalogue item's decision and how far it has got. The store answers each with one
indexed query (`decisions.store.lists`); labels come from the definitions each case runs under.

No workflow's name is here: the unit and year a search reads are the attributes each workflow's
``case:`` section declares (``unit``, ``year_field``).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date
from typing import Generic, TypeVar

from decisions.catalogue import CatalogueVersion, Item
from decisions.deadlines import Deadline, late_catalogue_items
from decisions.definitions import Definitions
from decisions.errors import UsageError, shown
from decisions.model import ERRATUM, Text, is_storable_text
from decisions.service.cases import CaseService, case_of_year
from decisions.service.users import UserService
from decisions.store.interface import CaseQuery
from decisions.store.repository import CaseHead
from decisions.tasks import merged_due_dates, untitled
from decisions.workflow.definition import WorkflowDef

__all__ = ["CaseFound", "DoneCase", "ItemDecision", "ItemProgress", "Lists", "Page"]

_T = TypeVar("_T")
MAX_PAGE = 200
MAX_OFFSET = 10**9  # beyond any office's cases; bounds what reaches the database
MAX_TEXT = 200  # a search text longer than any title is no search
CORRECTION = Text("更正", "correction")


@dataclass(frozen=True)
class Page(Generic[_T]):
    """One page of a list: its items, how many there are in all, and where the page starts."""

    items: tuple[_T, ...]
    total: int
    offset: int
    limit: int

    @property
    def previous(self) -> int | None:
        """The offset of the page before this one (None: this is the first)."""
        return max(self.offset - self.limit, 0) if self.offset > 0 else None

    @property
    def next(self) -> int | None:
        """The offset of the page after this one (None: this is the last)."""
        return self.offset + self.limit if self.offset + self.limit < self.total else None


@dataclass(frozen=True)
class DoneCase:
    """A case someone acted in (已办), with what they did there last and when."""

    case_id: str
    workflow: str
    workflow_label: Text
    title: str
    state_label: Text
    action: str  # the trigger (or `ERRATUM` for a correction)
    action_label: Text
    role: str
    on: date


@dataclass(frozen=True)
class CaseFound:
    """A case a search found: where it is, who handles it, and its running due dates (the
    inbox table's, judged today)."""

    case_id: str
    workflow: str
    workflow_label: Text
    title: str
    state: str
    state_label: Text
    stage_label: Text
    unit: str
    deadlines: tuple[Deadline, ...]

    @property
    def overdue(self) -> bool:
        return any(d.overdue for d in self.deadlines)

    @property
    def next_due(self) -> Deadline | None:
        return min(self.deadlines, key=lambda d: d.due, default=None)


@dataclass(frozen=True)
class ItemDecision:
    """A decision implementing a catalogue item: its case, stage and state, and whether it has
    reached a state its workflow flags ``decision_taken``."""

    case_id: str
    title: str
    state_label: Text
    stage_label: Text
    decided: bool
    final: bool


@dataclass(frozen=True)
class ItemProgress:
    """A catalogue item with the decisions implementing it (none yet: empty) and whether it is late
    (久拖不决: past its planned time in the published catalogue, no decision taken)."""

    item: Item
    decisions: tuple[ItemDecision, ...]
    late: bool


class Lists:
    """已办, the search and the catalogue's progress, over one office's cases and people."""

    def __init__(self, cases: CaseService, users: UserService, definitions: Definitions) -> None:
        self.cases, self.users, self.definitions = cases, users, definitions

    def _workflow(self, head: CaseHead) -> WorkflowDef | None:
        """The definition ``head`` runs under (None: its workflow is not in those definitions)."""
        return self.cases.definitions_for(head.definitions).workflows.get(head.workflow)

    @staticmethod
    def _page(limit: int, offset: int) -> tuple[int, int]:
        if not 1 <= limit <= MAX_PAGE or not 0 <= offset <= MAX_OFFSET:
            raise UsageError(
                f"每页 1 至 {MAX_PAGE} 条，起始位置不小于 0 / a page holds 1 to {MAX_PAGE} entries and starts at 0 or later"
            )
        return limit, offset

    # -- 已办 ----------------------------------------------------------------------------------------

    def done(self, actor: str, limit: int = 50, offset: int = 0) -> Page[DoneCase]:
        """The cases ``actor`` acted in, their latest action there first, one page."""
        limit, offset = self._page(limit, offset)
        person = self.users.resolve(actor).id  # what the records name
        total, rows = self.cases.repository.acted_in(person, limit, offset)
        out: list[DoneCase] = []
        for head, event in rows:
            wf = self._workflow(head)
            if wf is None:
                continue
            body = json.loads(event.body)
            t = wf.transition(str(body.get("from", "")), event.trigger)
            label = (
                CORRECTION
                if event.trigger == ERRATUM
                else t.label
                if t is not None
                else Text(event.trigger, event.trigger)
            )
            out.append(
                DoneCase(
                    head.id,
                    wf.name,
                    wf.label,
                    head.title or self._untitled(wf, head),
                    _state_label(wf, head.state),
                    event.trigger,
                    label,
                    str(body.get("role") or ""),
                    date.fromisoformat(event.happened_on),
                )
            )
        return Page(tuple(out), total, offset, limit)

    def _untitled(self, wf: WorkflowDef, head: CaseHead) -> str:
        return untitled(wf, self.cases.view(head.id).case)

    # -- the search ----------------------------------------------------------------------------------

    def search(
        self,
        *,
        title: str = "",
        unit: str = "",
        state: str = "",
        year: str | int | None = None,
        overdue: bool = False,
        person: str = "",
        workflow: str = "",
        limit: int = 50,
        offset: int = 0,
    ) -> Page[CaseFound]:
        """The cases meeting every criterion given (see `CaseQuery`), most recently started first.
        ``state`` is a state's name (in any workflow, or in ``workflow`` when given); ``person`` a
        person's id or unique name; ``year`` a year (the one the case is about, else its start's)."""
        limit, offset = self._page(limit, offset)
        title, unit, state = _text(title, "title"), _text(unit, "unit"), _text(state, "state")
        person, workflow = _text(person, "person"), _text(workflow, "workflow")
        workflows = self.definitions.workflows
        if workflow and workflow not in workflows:
            raise UsageError(
                f"未知流程 / unknown workflow {shown(workflow)} (workflows: {', '.join(sorted(workflows))})"
            )
        chosen = [workflows[workflow]] if workflow else list(workflows.values())
        if state and not any(state in wf.states for wf in chosen):
            raise UsageError(f"未知状态 / unknown state {shown(state)}")
        query = CaseQuery(
            title=title,
            unit=unit,
            unit_fields={n: wf.case.unit for n, wf in workflows.items() if wf.case is not None and wf.case.unit},
            year=_year(year),
            year_fields={
                n: wf.case.year_field for n, wf in workflows.items() if wf.case is not None and wf.case.year_field
            },
            states=(state,) if state else (),
            workflows=(workflow,) if workflow else (),
            person=self.users.resolve(person).id if person else "",
            overdue_on=self.cases.today() if overdue else None,
            limit=limit,
            offset=offset,
        )
        self.cases.ensure_tasks(self.cases.repository.tasks_derived_by())  # overdue is the inbox table's
        total, rows = self.cases.repository.search_cases(query)
        today, calendar = self.cases.today(), self.definitions.calendar
        out: list[CaseFound] = []
        for head, tasks in rows:
            wf = self._workflow(head)
            if wf is None:
                continue
            due = merged_due_dates(e.due for e in tasks.entries) if tasks is not None else ()
            own = self.definitions.workflows.get(head.workflow, wf)
            found_unit = _attribute(head, own.case.unit if own.case is not None else "")
            state_def = wf.states.get(head.state)
            stage = wf.stages[state_def.stage].label if state_def is not None else Text(head.state, head.state)
            out.append(
                CaseFound(
                    head.id,
                    wf.name,
                    wf.label,
                    head.title or self._untitled(wf, head),
                    head.state,
                    _state_label(wf, head.state),
                    stage,
                    found_unit,
                    tuple(d.deadline(today, calendar) for d in due),
                )
            )
        return Page(tuple(out), total, offset, limit)

    # -- the catalogue's progress --------------------------------------------------------------------

    def catalogue_progress(self, catalogue: WorkflowDef, year: int, version: CatalogueVersion) -> list[ItemProgress]:
        """Each item of ``version`` of the ``year`` catalogue with the decisions implementing it (the
        cases of the workflows linked to ``catalogue`` whose catalogue item is the item's id), their
        stage and state, and whether the item is late (久拖不决)."""
        linked = [
            wf
            for wf in self.definitions.workflows.values()
            if wf.case is not None and wf.case.catalogue_item is not None
            and wf.case.catalogue_item.catalogue == catalogue.name
        ]  # fmt: skip
        heads = self.cases.repository.implementing([i.id for i in version.items], [wf.name for wf in linked])
        by_item: dict[str, list[ItemDecision]] = {}
        decided: set[str] = set()
        for head in heads:
            wf = self._workflow(head)
            state = wf.states.get(head.state) if wf is not None else None
            if wf is None or state is None or head.catalogue_item is None:
                continue
            if state.decision_taken:
                decided.add(head.catalogue_item)
            by_item.setdefault(head.catalogue_item, []).append(
                ItemDecision(
                    head.id,
                    head.title or self._untitled(wf, head),
                    state.label,
                    wf.stages[state.stage].label,
                    state.decision_taken,
                    state.final,
                )
            )
        view = self.cases.view(case_of_year(catalogue, year) or "")
        late = {
            item.id
            for item, _ in late_catalogue_items(view.case, self.cases.catalogue_spec(view), decided, self.cases.today())
        }
        return [ItemProgress(i, tuple(by_item.get(i.id, ())), i.id in late) for i in version.items]


def _text(value: str, what: str) -> str:
    value = (value or "").strip()
    if len(value) > MAX_TEXT or not is_storable_text(value):
        raise UsageError(f"查询条件无效 / the search's {what} is not a usable text")
    return value


def _year(value: str | int | None) -> int | None:
    if value is None or value == "":
        return None
    text = str(value).strip()
    if not text.isdigit() or not 2000 <= int(text) <= 2100:
        raise UsageError(f"年度应为 2000 至 2100 之间的数字 / a year is a number from 2000 to 2100, not {shown(text)}")
    return int(text)


def _state_label(wf: WorkflowDef, state: str) -> Text:
    found = wf.states.get(state)
    return found.label if found is not None else Text(state, state)


def _attribute(head: CaseHead, name: str) -> str:
    if not name:
        return ""
    try:
        value = json.loads(head.attributes).get(name)
    except (ValueError, AttributeError):
        return ""
    return "" if value is None else str(value)

"""`Office`: the service layer as one object, for the CLI, a web app, or an office's own scripts.

    from decisions.service.office import Office
    office = Office.open("sqlite:///decisions.sqlite")
    office.users.add("李明", ["organiser", "proposer"], unit="县交通运输局")
    case = office.propose("李明", {"title": "城区公交票价调整", "category": "public_policy", "source": "leader"})

Every method takes what a person typed (names, ``name=value`` strings, files) and returns values;
errors are `DecisionsError`s with one clear bilingual message, and nothing is written on error.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from decisions.catalogue import CatalogueVersion, ItemChange, diff_versions, versions
from decisions.config import find_config, load_deployment
from decisions.deadlines import Deadline, case_deadlines, late_catalogue_items, planned_items_past_due
from decisions.definitions import Definitions
from decisions.errors import UsageError, shown
from decisions.model import Action, Actor, Case, Document, Record, Text
from decisions.service.audit import AuditService
from decisions.service.cases import CaseService, CaseView, Clock, utc_now
from decisions.service.definitions import DefinitionsService
from decisions.service.inputs import parse_date, parse_fields, read_attachment
from decisions.service.users import UserService
from decisions.store.database import Database
from decisions.store.interface import Store
from decisions.workflow.engine import ActionOption, Fired

__all__ = ["CaseDetails", "Inbox", "Office", "Task"]

Attachment = tuple[str, bytes, str]  # (document kind, bytes, file name)
MAX_VERSION = 2**31 - 1  # a case's version counts its events


@dataclass(frozen=True)
class CaseDetails:
    """What `decisions show` shows: where the case is, what happened, and what can happen next."""

    view: CaseView
    state_label: Text
    stage_label: Text
    approval: bool
    final: bool
    options: tuple[ActionOption, ...]
    deadlines: tuple[Deadline, ...]
    actor: str | None


@dataclass(frozen=True)
class Task:
    """One thing a person can do (or waits on) in one case, with that case's due dates as its own
    workflow declares them."""

    case_id: str
    title: str
    state_label: Text
    option: ActionOption
    deadlines: tuple[Deadline, ...] = ()
    workflow: str = ""
    workflow_label: Text | None = None

    @property
    def overdue(self) -> bool:
        return any(d.overdue for d in self.deadlines)

    @property
    def next_due(self) -> date | None:
        return min((d.due for d in self.deadlines), default=None)

    def order(self) -> tuple[bool, date, str, str]:
        """The inbox's order: overdue first, then by due date (undated last), across workflows."""
        return (not self.overdue, self.next_due or date.max, self.workflow, self.case_id)


@dataclass(frozen=True)
class Inbox:
    user: str
    roles: tuple[str, ...]
    tasks: tuple[Task, ...]
    late_items: tuple[tuple[str, str, str, date], ...] = field(default=())  # (catalogue, item id, name, planned by)

    @property
    def overdue(self) -> int:
        """Overdue deadlines (each counted once per case) and late catalogue items."""
        late = {(t.case_id, d.label, d.due) for t in self.tasks for d in t.deadlines if d.overdue}
        return len(late) + len(self.late_items)


class Office:
    """One office's database under one deployment."""

    def __init__(self, store: Store | Database, definitions: Definitions, *, clock: Clock = utc_now) -> None:
        self.definitions = definitions
        self.clock = clock
        self.cases = CaseService(store, definitions, clock=clock)
        roles = {name: role.label for wf in definitions.workflows.values() for name, role in wf.roles.items()}
        self.users = UserService(self.cases.store.people, roles, clock=clock)
        self.audit = AuditService(self.cases)

    @classmethod
    def open(cls, db_url: str | None = None, config: Path | None = None, *, clock: Clock = utc_now) -> Office:
        """Open an initialised database (``decisions init``) under the deployment's definitions."""
        definitions = DefinitionsService(load_deployment(find_config(config))).definitions()
        return cls(Database(db_url or ""), definitions, clock=clock)

    # -- acting -----------------------------------------------------------------------------------

    def _action(
        self,
        workflow: str,
        state: str,
        trigger: str,
        actor: Actor,
        raw: Mapping[str, str],
        attachments: Sequence[Attachment],
        on: str | date | None,
        role: str | None,
    ) -> Action:
        wf = self.definitions.workflow(workflow)
        if trigger not in wf.triggers:
            known = ", ".join(sorted(wf.triggers))
            raise UsageError(f"未知操作 / unknown action {shown(trigger)} (actions of {workflow}: {known})")
        t = wf.transition(state, trigger) or next(x for x in wf.transitions if x.trigger == trigger)
        fields = parse_fields(wf, t, raw)
        day = on if isinstance(on, date) else parse_date(on, "--on") if on else self.cases.today()
        for kind, _, _ in attachments:
            if kind not in wf.documents:
                raise UsageError(
                    f"未知文件类型 / unknown document kind {shown(kind)} (kinds: {', '.join(sorted(wf.documents))})"
                )
        if role is not None and role not in wf.roles:
            raise UsageError(f"未知角色 / unknown role {shown(role)}")
        if not all(data for _, data, _ in attachments):
            raise UsageError("附件为空 / an attachment is empty")
        docs = tuple(Document(kind, hashlib.sha256(data).hexdigest(), 1, name) for kind, data, name in attachments)
        return Action(trigger, actor, day, fields, docs, role)

    @staticmethod
    def _blobs(attachments: Sequence[Attachment]) -> dict[str, bytes]:
        return {hashlib.sha256(data).hexdigest(): data for _, data, _ in attachments}

    def start(
        self,
        workflow: str,
        case_id: str,
        trigger: str,
        actor: str,
        fields: Mapping[str, str] | None = None,
        attachments: Sequence[Attachment] = (),
        on: str | date | None = None,
    ) -> Fired:
        wf = self.definitions.workflow(workflow)
        action = self._action(
            workflow, wf.initial, trigger, self.users.actor(actor), fields or {}, attachments, on, None
        )
        return self.cases.start(workflow, case_id, action, self._blobs(attachments))

    def propose(
        self,
        actor: str,
        fields: Mapping[str, str],
        attachments: Sequence[Attachment] = (),
        on: str | date | None = None,
        case_id: str | None = None,
    ) -> Fired:
        """Propose a major decision (决策建议); the id is D-<year>-<nnn> unless given."""
        day = on if isinstance(on, date) else parse_date(on, "--on") if on else self.cases.today()
        return self.start(
            "major_decision", case_id or self.next_id(f"D-{day.year}-"), "propose", actor, fields, attachments, day
        )

    def open_catalogue(
        self,
        year: int,
        actor: str,
        fields: Mapping[str, str],
        attachments: Sequence[Attachment] = (),
        on: str | date | None = None,
    ) -> Fired:
        """Open the year's catalogue (CAT-<year>) with its call for items."""
        if not 2000 <= year <= 2100:
            raise UsageError(f"年度超出范围 / implausible year {year}")
        return self.start(
            "catalogue", f"CAT-{year}", "open_call", actor, {**fields, "year": str(year)}, attachments, on
        )

    def act(
        self,
        case_id: str,
        trigger: str,
        actor: str,
        fields: Mapping[str, str] | None = None,
        attachments: Sequence[Attachment] = (),
        on: str | date | None = None,
        role: str | None = None,
        expected_version: int | None = None,
    ) -> Fired:
        if expected_version is not None and not 0 <= expected_version <= MAX_VERSION:
            raise UsageError(f"版本号无效 / --expect-version must be a version from 0 to {MAX_VERSION}")
        view = self.cases.view(case_id)
        action = self._action(
            view.case.workflow, view.case.state, trigger, self.users.actor(actor), fields or {}, attachments, on, role
        )
        return self.cases.act(case_id, action, expected_version, self._blobs(attachments))

    def next_id(self, prefix: str) -> str:
        numbers = [
            int(m.group(1))
            for c in self.cases.repository.cases()
            if (m := re.fullmatch(re.escape(prefix) + r"(\d+)", c.id))
        ]
        return f"{prefix}{max(numbers, default=0) + 1:03d}"

    @staticmethod
    def read_attachments(specs: Sequence[str]) -> list[Attachment]:
        return [read_attachment(s) for s in specs]

    # -- reading ----------------------------------------------------------------------------------

    def show(self, case_id: str, actor: str | None = None) -> CaseDetails:
        view = self.cases.view(case_id)
        wf = self.cases.definitions_for(view.definitions).workflow(view.case.workflow)
        state = wf.states[view.case.state]
        who = self.users.actor(actor) if actor else Actor("—", frozenset(wf.roles))
        engine = self.cases.engine(view.definitions, view.case.workflow)
        options = tuple(engine.options(view.case, who, self.cases.today()))
        return CaseDetails(
            view,
            state.label,
            wf.stages[state.stage].label,
            state.approval,
            state.final,
            options,
            tuple(self.deadlines(view.case, who.roles if actor else None)),
            actor,
        )

    def history(self, case_id: str) -> tuple[Record, ...]:
        return self.cases.view(case_id).case.records

    def deadlines(self, case: Case, roles: frozenset[str] | None = None) -> list[Deadline]:
        """The case's due dates as the deployment's definition of its workflow declares them, those
        someone holding ``roles`` sees (``None``: all of them)."""
        workflow = self.definitions.workflows.get(case.workflow)
        if workflow is None:
            return []
        book = self.definitions.rulebook
        return case_deadlines(
            case, workflow, book.parameters, self.definitions.calendar, self.cases.today(), book.counting, roles
        )

    def list_cases(self, workflow: str | None = None) -> list[tuple[str, str, str, str, int]]:
        """(id, workflow, state, title, version) of every case."""
        return [(c.id, c.workflow, c.state, c.title, c.version) for c in self.cases.repository.cases(workflow)]

    def inbox(self, actor: str, limit: int = 100) -> Inbox:
        """What ``actor`` can do now, and what waits on them (blocked by a rule, not by their role),
        with due dates, over at most ``limit`` cases of each workflow (an indexed query by state: the
        cost does not grow with cases the actor has nothing to do on), every workflow in one list:
        overdue first, then by due date; and, to the roles a catalogue's ``inbox:`` names, its items
        past their planned time with no decision taken (久拖不决)."""
        who = self.users.actor(actor)
        today = self.cases.today()
        tasks: list[Task] = []
        for wf in self.definitions.workflows.values():
            states = sorted(
                {t.source for t in wf.transitions if set(t.roles) & who.roles}
                - {s.id for s in wf.states.values() if s.final}
            )
            if not states:
                continue
            for head in self.cases.repository.cases_in_states(wf.name, states, limit):
                view = self.cases.view(head.id)
                engine = self.cases.engine(view.definitions, view.case.workflow)
                state_label = engine.workflow.states[view.case.state].label
                due = tuple(self.deadlines(view.case, who.roles))
                title = head.title or f"{engine.workflow.label.zh} {view.case.attributes.get('year', '')}".strip()
                for option in engine.options(view.case, who, today):
                    if not any(u.kind == "role" for u in option.blocked):
                        tasks.append(Task(head.id, title, state_label, option, due, wf.name, wf.label))
        tasks.sort(key=Task.order)
        # The states in which a matter counts as decided, over every workflow (the catalogue-item
        # column names the item a case implements, whatever its workflow).
        decided_states = sorted({s for wf in self.definitions.workflows.values() for s in wf.decided_states})
        late: list[tuple[str, str, str, date]] = []
        for wf in self.definitions.workflows.values():
            if not who.roles & set(wf.late_items_seen_by):
                continue
            for head in self.cases.repository.cases(wf.name):
                catalogue = self.cases.view(head.id).case
                candidates = [item.id for item in planned_items_past_due(catalogue, today)]
                decided = self.cases.repository.decided_catalogue_items(candidates, decided_states)
                late += [
                    (head.id, item.id, item.name, planned)
                    for item, planned in late_catalogue_items(catalogue, decided, today)
                ]
        return Inbox(who.id, tuple(sorted(who.roles)), tuple(tasks), tuple(late))

    # -- catalogue --------------------------------------------------------------------------------

    def catalogue_versions(self, year: int) -> list[CatalogueVersion]:
        return versions(self.cases.view(f"CAT-{year}").case)

    def catalogue_version(self, year: int, version: int | None = None) -> CatalogueVersion:
        all_versions = self.catalogue_versions(year)
        if not all_versions:
            raise UsageError(f"{year} 年度目录尚未汇编 / the {year} catalogue has not been compiled yet")
        if version is None:
            return all_versions[-1]
        for v in all_versions:
            if v.version == version:
                return v
        raise UsageError(
            f"没有第 {version} 版 / no version {version} (versions: {', '.join(str(v.version) for v in all_versions)})"
        )

    def catalogue_diff(self, year: int, a: int, b: int) -> list[ItemChange]:
        return diff_versions(self.catalogue_version(year, a), self.catalogue_version(year, b))

    def document(self, sha256: str) -> bytes:
        return self.cases.documents.get(sha256)


def describe(value: Any) -> str:
    """A value as a person reads it (lists joined, views as member:position)."""
    if isinstance(value, list):
        if value and isinstance(value[0], dict):
            return ", ".join(f"{v.get('member')}:{v.get('position')}{'(主持)' if v.get('head') else ''}" for v in value)
        return "、".join(str(v) for v in value)
    if isinstance(value, bool):
        return "是 yes" if value else "否 no"
    return str(value)


def document_line(d: Document) -> str:
    return f"{d.kind} v{d.version} {d.name} {d.sha256[:12]}…"

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
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any

from decisions.catalogue import CatalogueVersion, ItemChange, diff_versions
from decisions.config import find_config, load_deployment
from decisions.deadlines import Deadline, case_deadlines, late_catalogue_items, planned_items_past_due
from decisions.definitions import Definitions
from decisions.errors import ActionRefused, ActorChanged, CaseExists, ConflictError, UsageError, shown
from decisions.model import Action, Actor, Case, Document, Record, Text
from decisions.service.audit import AuditService
from decisions.service.cases import CaseService, CaseView, Clock, case_of_year, linked_catalogue, utc_now
from decisions.service.definitions import DefinitionsService
from decisions.service.inputs import parse_date, parse_fields, read_attachment
from decisions.service.users import User, UserService
from decisions.store.database import Database
from decisions.store.interface import Store
from decisions.workflow.case_ids import next_case_id
from decisions.workflow.definition import WorkflowDef
from decisions.workflow.engine import ActionOption, Fired

if TYPE_CHECKING:
    from decisions.service.logins import LoginService

__all__ = ["CaseDetails", "Inbox", "Office", "Task"]

Attachment = tuple[str, bytes, str]  # (document kind, bytes, file name)
MAX_VERSION = 2**31 - 1  # a case's version counts its events


@dataclass(frozen=True)
class CaseDetails:
    """What `decisions show` shows: where the case is, what happened, and what can happen next."""

    view: CaseView
    title: str
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


_NUMBERING_RETRIES = 50  # concurrent starts of one pattern: each retry takes the next free number


class Office:
    """One office's database under one deployment."""

    def __init__(self, store: Store | Database, definitions: Definitions, *, clock: Clock = utc_now) -> None:
        self.definitions = definitions
        self.clock = clock
        self.cases = CaseService(store, definitions, clock=clock)
        roles = {name: role.label for wf in definitions.workflows.values() for name, role in wf.roles.items()}
        self.users = UserService(self.cases.store.people, roles, clock=clock)
        self.audit = AuditService(self.cases)
        self._logins: LoginService | None = None

    @classmethod
    def open(cls, db_url: str | None = None, config: Path | None = None, *, clock: Clock = utc_now) -> Office:
        """Open an initialised database (``decisions init``) under the deployment's definitions."""
        definitions = DefinitionsService(load_deployment(find_config(config))).definitions()
        return cls(Database(db_url or ""), definitions, clock=clock)

    # -- logging in (the web application) --------------------------------------------------------

    @property
    def logins(self) -> LoginService:
        """Passwords and logins of this office's people (Argon2; failed attempts throttled)."""
        if self._logins is None:
            from decisions.service.logins import LoginService

            credentials = self.cases.store.credentials
            if credentials is None:
                raise UsageError("此存储不保存密码 / this store keeps no passwords")
            self._logins = LoginService(credentials, self.users)
        return self._logins

    def set_password(self, name: str, password: str) -> User:
        return self.logins.set_password(name, password)

    def login(self, name: str, password: str, client: str = "") -> User:
        return self.logins.login(name, password, client)

    def done(self, actor: str, limit: int = 200) -> list[tuple[str, str, str, Text, Record]]:
        """已办: the cases ``actor`` has acted in, most recent action first, each with their latest
        record there: (case id, workflow, title, state label, record)."""
        name = self.users.get(actor).name
        out: list[tuple[str, str, str, Text, Record]] = []
        for head in self.cases.repository.cases():
            view = self.cases.view(head.id)
            mine = [r for r in view.case.records if r.actor == name]
            if mine:
                wf = self.cases.engine(view.definitions, view.case.workflow).workflow
                label = wf.states[view.case.state].label
                out.append((head.id, wf.name, head.title or untitled(wf, view.case), label, mine[-1]))
        out.sort(key=lambda x: (x[4].on, x[0]), reverse=True)
        return out[:limit]

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
        actor: str,
        fields: Mapping[str, str] | None = None,
        attachments: Sequence[Attachment] = (),
        on: str | date | None = None,
        case_id: str | None = None,
    ) -> Fired:
        """Open a case of ``workflow`` with its declared start trigger (``case: start``); its id is
        ``case_id`` or the one the declared pattern gives (``case: id``, e.g. D-<year>-<nnn>)."""
        wf = self.definitions.workflow(workflow)
        if wf.case is None:
            starts = ", ".join(sorted(t.trigger for t in wf.transitions_from(wf.initial)))
            raise UsageError(
                f"流程 {shown(workflow)} 未声明开启事项的操作 / workflow {shown(workflow)} does not say which action "
                f"opens a case (several leave {wf.initial!r}: {starts}); declare 'case: start' in {wf.file or 'its file'}"
            )
        day = on if isinstance(on, date) else parse_date(on, "--on") if on else self.cases.today()
        start = wf.case

        def attempt(who: Callable[[], Actor]) -> Fired:
            action = self._action(workflow, wf.initial, start.start, who(), fields or {}, attachments, day, None)
            if case_id is not None:
                return self.cases.start(workflow, case_id, action, self._blobs(attachments), confirm_actor=True)
            if not start.id:
                raise UsageError(
                    f"流程 {shown(workflow)} 未声明编号规则，请用 --id 指定编号 / workflow {shown(workflow)} declares "
                    "no case id pattern ('case: id'); give the case's id (--id)"
                )
            # The next free number, taken again when another start took it first (between the read
            # and the write, or in the same instant: the insert of version 1 is then refused).
            for tries in range(_NUMBERING_RETRIES):
                known = (c.id for c in self.cases.repository.cases(workflow))
                number = next_case_id(start.id, day.year, action.fields, known)
                try:
                    return self.cases.start(workflow, number, action, self._blobs(attachments), confirm_actor=True)
                except (CaseExists, ConflictError):
                    if tries == _NUMBERING_RETRIES - 1:
                        raise
            raise AssertionError("unreachable")  # pragma: no cover

        return self._as_actor(actor, attempt)

    def _as_actor(self, name: str, attempt: Callable[[Callable[[], Actor]], Fired]) -> Fired:
        """Run ``attempt`` with the person ``name`` as this office last read them (the write confirms
        them in its own transaction). When they changed meanwhile, or the attempt was refused or
        failed after they were looked up (a change made elsewhere may be why, and a deactivated user
        must hear that first, as when read afresh), read them again and run it once more with them."""
        held: list[Actor] = []

        def who() -> Actor:
            if not held:
                held.append(self.users.actor(name, held=True))
            return held[0]

        try:
            return attempt(who)
        except (ActorChanged, ActionRefused, UsageError) as exc:
            if not held:
                raise  # failed before the person was looked up
            fresh = self.users.actor(name)  # unknown or deactivated now: refused as such
            if fresh == held[0] and not isinstance(exc, ActorChanged):
                raise
        return attempt(lambda: fresh)

    def _shortcut(self, what: Text, workflows: Sequence[str]) -> str:
        """The one workflow a shortcut command (``propose``, ``catalogue open``) starts."""
        if len(workflows) == 1:
            return workflows[0]
        found = ", ".join(sorted(workflows)) or "—"
        raise UsageError(
            f"本部署中{what.zh}的流程应恰有一个（现有：{found}），请用 decisions start 流程名 / this deployment should "
            f"have exactly one workflow {what.en} (found: {found}); use `decisions start WORKFLOW`"
        )

    def proposal_workflow(self) -> str:
        """The workflow ``decisions propose`` starts: the one whose cases implement catalogue items."""
        linked = [n for n, wf in self.definitions.workflows.items() if wf.case is not None and wf.case.catalogue_item]
        return self._shortcut(Text("其事项实施目录事项", "whose cases implement catalogue items"), linked)

    def catalogue_workflow(self) -> WorkflowDef:
        """The workflow of the annual catalogue: the one the proposal workflow's items belong to."""
        proposal = self.proposal_workflow()
        catalogue = linked_catalogue(self.definitions, proposal)
        return self.definitions.workflow(catalogue.name if catalogue is not None else "")

    def propose(
        self,
        actor: str,
        fields: Mapping[str, str],
        attachments: Sequence[Attachment] = (),
        on: str | date | None = None,
        case_id: str | None = None,
    ) -> Fired:
        """Propose a decision (决策建议): start `proposal_workflow` (the id from its pattern unless given)."""
        return self.start(self.proposal_workflow(), actor, fields, attachments, on, case_id)

    def open_catalogue(
        self,
        year: int,
        actor: str,
        fields: Mapping[str, str],
        attachments: Sequence[Attachment] = (),
        on: str | date | None = None,
    ) -> Fired:
        """Open the year's catalogue (its id from the catalogue's pattern) with its call for items."""
        if not 2000 <= year <= 2100:
            raise UsageError(f"年度超出范围 / implausible year {year}")
        wf = self.catalogue_workflow()
        assert wf.case is not None  # a linked catalogue declares its year field (checked at load)
        return self.start(wf.name, actor, {**fields, wf.case.year_field: str(year)}, attachments, on)

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
        blobs = self._blobs(attachments)

        def attempt(who: Callable[[], Actor]) -> Fired:
            def prepared(view: CaseView) -> Action:  # after the case is known: an unknown case is named first
                return self._action(
                    view.case.workflow, view.case.state, trigger, who(), fields or {}, attachments, on, role
                )

            return self.cases.act(case_id, prepared, expected_version, blobs, confirm_actor=True)

        return self._as_actor(actor, attempt)

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
            str(view.case.attributes.get(self.cases.columns(view.definitions, wf.name).get("title") or "") or ""),
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
                title = head.title or untitled(engine.workflow, view.case)
                for option in engine.options(view.case, who, today):
                    if not any(u.kind == "role" for u in option.blocked):
                        tasks.append(Task(head.id, title, state_label, option, due, wf.name, wf.label))
        tasks.sort(key=Task.order)
        late: list[tuple[str, str, str, date]] = []
        for wf in self.definitions.workflows.values():
            if not who.roles & set(wf.late_items_seen_by):
                continue
            # The states in which a matter counts as decided, in the workflows whose cases implement
            # this catalogue's items (the catalogue-item column names the item a case implements).
            decided_states = sorted(
                {
                    s
                    for linked in self.definitions.workflows.values()
                    if linked.case is not None
                    and linked.case.catalogue_item is not None
                    and linked.case.catalogue_item.catalogue == wf.name
                    for s in linked.decided_states
                }
            )
            for head in self.cases.repository.cases(wf.name):
                view = self.cases.view(head.id)
                catalogue, spec = view.case, self.cases.catalogue_spec(view)
                candidates = [item.id for item in planned_items_past_due(catalogue, spec, today)]
                decided = self.cases.repository.decided_catalogue_items(candidates, decided_states)
                late += [
                    (head.id, item.id, item.name, planned)
                    for item, planned in late_catalogue_items(catalogue, spec, decided, today)
                ]
        return Inbox(who.id, tuple(sorted(who.roles)), tuple(tasks), tuple(late))

    # -- catalogue --------------------------------------------------------------------------------

    def catalogue_versions(self, year: int) -> list[CatalogueVersion]:
        return self.cases.catalogue_versions(self._catalogue_of(year))

    def _catalogue_of(self, year: int) -> str:
        return case_of_year(self.catalogue_workflow(), year) or ""

    def catalogue_columns(self, year: int) -> tuple[tuple[str, Text], ...]:
        """The columns of the catalogue's display, each with its field's label: the item's id, its
        name, then the columns its workflow's ``catalogue:`` section declares."""
        view = self.cases.view(self._catalogue_of(year))
        spec = self.cases.catalogue_spec(view)
        if spec is None:
            return ()
        fields = self.cases.engine(view.definitions, view.case.workflow).workflow.fields
        names = (spec.items.id, spec.items.name, *spec.items.columns)
        return tuple((name, fields[name].label if name in fields else Text(name, name)) for name in names)

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


def untitled(wf: WorkflowDef, case: Case) -> str:
    """The title of a case with no title attribute: the workflow's label and the case's year (a
    catalogue: 重大行政决策事项年度目录 2025), or the label alone."""
    spec = wf.case
    year = case.attributes.get(spec.year_field, "") if spec is not None and spec.year_field else ""
    return f"{wf.label.zh} {year}".strip()


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

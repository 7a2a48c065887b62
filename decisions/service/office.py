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
import mimetypes
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from decisions.catalogue import CatalogueVersion, ItemChange, diff_versions
from decisions.config import find_config, load_deployment
from decisions.deadlines import Deadline, case_deadlines, late_catalogue_items, planned_items_past_due
from decisions.definitions import Definitions
from decisions.errors import ActionRefused, ActorChanged, CaseExists, ConflictError, Unmet, UsageError, shown
from decisions.model import Action, Actor, Case, Document, Erratum, Record, Text, is_storable_text
from decisions.service.audit import AuditService
from decisions.service.cases import CaseService, CaseView, Clock, case_of_year, linked_catalogue, utc_now
from decisions.service.definitions import DefinitionsService
from decisions.service.inputs import parse_date, parse_fields, read_attachment, trigger_named
from decisions.service.users import User, UserService
from decisions.store.database import Database
from decisions.store.interface import Store
from decisions.tasks import merged_due_dates
from decisions.workflow.case_ids import next_case_id
from decisions.workflow.definition import WorkflowDef
from decisions.workflow.engine import ActionOption, Fired
from decisions.workflow.needs import ActionSchema

if TYPE_CHECKING:
    from decisions.service.archive import ArchiveSummary, BackupSummary
    from decisions.service.audit import Finding, VerifyReport

if TYPE_CHECKING:
    from decisions.service.audit import AuditService

if TYPE_CHECKING:
    from decisions.report.figures import Report
    from decisions.service.lists import CaseFound, DoneCase, ItemProgress, Lists, Page
    from decisions.service.logins import LoginService

__all__ = ["CaseDetails", "Inbox", "InboxCase", "Office", "Task"]

Attachment = tuple[str, bytes, str]  # (document kind, bytes, file name)
_T = TypeVar("_T")
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
class InboxCase:
    """One case of an inbox: its tasks (the actions the person can take there, or that wait on
    them), and the case's due dates (the same for each of its tasks)."""

    tasks: tuple[Task, ...]

    @property
    def first(self) -> Task:
        return self.tasks[0]

    @property
    def deadlines(self) -> tuple[Deadline, ...]:
        return self.first.deadlines

    @property
    def overdue(self) -> bool:
        return self.first.overdue

    @property
    def next_due(self) -> Deadline | None:
        """The earliest running due date (with its working days left)."""
        return min(self.deadlines, key=lambda d: d.due, default=None)


@dataclass(frozen=True)
class Inbox:
    user: str
    roles: tuple[str, ...]
    tasks: tuple[Task, ...]
    late_items: tuple[tuple[str, str, str, date], ...] = field(default=())  # (catalogue, item id, name, planned by)
    limit: int = 0  # the most urgent cases shown of each workflow
    more: tuple[str, ...] = ()  # the workflows with more cases waiting than ``limit`` (the search finds them)

    @property
    def cases(self) -> tuple[InboxCase, ...]:
        """One entry per case, in the inbox's order (overdue first, then by due date)."""
        grouped: dict[str, list[Task]] = {}
        for t in self.tasks:
            grouped.setdefault(t.case_id, []).append(t)
        return tuple(InboxCase(tuple(ts)) for ts in grouped.values())

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
        self._logins: LoginService | None = None

    @cached_property
    def audit(self) -> AuditService:
        """Verification and replay (imported when first used: `show`, `inbox` and `act` need none)."""
        from decisions.service.audit import AuditService

        return AuditService(self.cases)

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

    def set_password(self, name: str, password: str, *, by: str | None = None) -> User:
        """Set ``name``'s password; the people history names ``by`` (themselves or an administrator;
        None: the office's operator, as `decisions user set-password` is)."""
        return self.logins.set_password(name, password, by=by)

    def login(self, name: str, password: str, client: str = "") -> User:
        return self.logins.login(name, password, client)

    # -- the lists (decisions.service.lists) ------------------------------------------------------

    @cached_property
    def lists(self) -> Lists:
        from decisions.service.lists import Lists

        return Lists(self.cases, self.users, self.definitions)

    def done(self, actor: str, limit: int = 50, offset: int = 0) -> Page[DoneCase]:
        """已办: the cases ``actor`` has acted in, their latest action there first (one indexed
        query), each with what they did last and when; one page."""
        return self.lists.done(actor, limit, offset)

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
        """The cases meeting every criterion given: a title's substring, the handling unit's
        substring (the attribute each workflow's ``case: unit`` names), a state's name, a year, overdue
        today, a person who acted in it, a workflow; most recently started first, one page."""
        return self.lists.search(
            title=title,
            unit=unit,
            state=state,
            year=year,
            overdue=overdue,
            person=person,
            workflow=workflow,
            limit=limit,
            offset=offset,
        )

    def catalogue_progress(self, year: int, version: int | None = None) -> list[ItemProgress]:
        """Each item of a version of the ``year`` catalogue (default: the latest) with the decisions
        implementing it, their stage and state, and whether it is late (久拖不决)."""
        return self.lists.catalogue_progress(self.catalogue_workflow(), year, self.catalogue_version(year, version))

    # -- acting -----------------------------------------------------------------------------------

    def _action(
        self,
        workflow: str,
        state: str,
        trigger: str,
        who: Callable[[date], Actor],
        raw: Mapping[str, str],
        attachments: Sequence[Attachment],
        on: str | date | None,
        role: str | None,
    ) -> Action:
        wf = self.definitions.workflow(workflow)
        trigger = trigger_named(wf, trigger, wf.transitions_from(state))  # a trigger, or an action's label
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
        return Action(trigger, who(day), day, fields, docs, role)

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

        def attempt(who: Callable[[date], Actor]) -> Fired:
            action = self._action(workflow, wf.initial, start.start, who, fields or {}, attachments, day, None)
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

    def _with_holders(self, unmet: Sequence[Unmet], people: list[User] | None = None) -> tuple[Unmet, ...]:
        """``unmet`` with the active people who hold each role a remedy names (``people``: the
        people as already read for this call, else read here)."""
        if not any(u.remedy is not None and u.remedy.roles for u in unmet):
            return tuple(unmet)
        users = [u for u in (self.users.list() if people is None else people) if u.active]
        out: list[Unmet] = []
        for u in unmet:
            if u.remedy is not None and u.remedy.roles:
                wanted = {r.name for r in u.remedy.roles}
                holders = tuple(x.id for x in users if wanted & set(x.roles))
                u = replace(u, remedy=replace(u.remedy, holders=holders))
            out.append(u)
        return tuple(out)

    def _refusals_with_holders(self, attempt: Callable[[], Fired]) -> Fired:
        try:
            return attempt()
        except ActionRefused as exc:
            raise ActionRefused(exc.trigger, exc.state, self._with_holders(exc.unmet)) from exc

    def _as_actor(self, name: str, attempt: Callable[[Callable[[date], Actor]], _T]) -> _T:
        """Run ``attempt`` with the person ``name`` as this office last read them (the write confirms
        them in its own transaction), with the roles delegated to them on the action's day. When they
        changed meanwhile, or the attempt was refused or failed after they were looked up (a change
        made elsewhere may be why, and a deactivated user must hear that first, as when read afresh),
        read them again and run it once more with them."""
        held: list[tuple[date, Actor]] = []

        def who(day: date) -> Actor:
            if not held:
                held.append((day, self.users.actor(name, held=True, on=day)))
            return held[0][1]

        try:
            return attempt(who)
        except (ActorChanged, ActionRefused, UsageError) as exc:
            if not held:
                raise  # failed before the person was looked up
            fresh = self.users.actor(name, on=held[0][0])  # unknown or deactivated now: refused as such
            if fresh == held[0][1] and not isinstance(exc, ActorChanged):
                raise
        return attempt(lambda _day: fresh)

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

        def attempt(who: Callable[[date], Actor]) -> Fired:
            def prepared(view: CaseView) -> Action:  # after the case is known: an unknown case is named first
                return self._action(
                    view.case.workflow, view.case.state, trigger, who, fields or {}, attachments, on, role
                )

            return self.cases.act(case_id, prepared, expected_version, blobs, confirm_actor=True)

        return self._refusals_with_holders(lambda: self._as_actor(actor, attempt))

    def correct(
        self,
        case_id: str,
        event: int,
        actor: str,
        reason: str,
        fields: Mapping[str, str] | None = None,
        on: str | date | None = None,
        role: str | None = None,
        expected_version: int | None = None,
    ) -> CaseView:
        """Correct (更正) fields and/or the day of event number ``event`` of ``case_id``, with
        ``reason``: an erratum event is appended, the original stays as it was recorded. Who may
        correct what is the workflow's ``corrections:`` section; a correction that would make the
        event or any later step break a rule is refused with the rule's article."""
        if expected_version is not None and not 0 <= expected_version <= MAX_VERSION:
            raise UsageError(f"版本号无效 / --expect-version must be a version from 0 to {MAX_VERSION}")
        view = self.cases.view(case_id)
        wf = self.cases.definitions_for(view.definitions).workflow(view.case.workflow)
        target = next((r for r in view.case.records if r.seq == event), None)
        t = wf.transition(target.from_state, target.trigger) if target is not None else None
        typed = parse_fields(wf, t, fields or {}) if t is not None else {}
        if t is None and fields:
            raise UsageError(
                f"决策事项 {shown(case_id)} 没有可更正的第 {event} 号事件 / case {shown(case_id)} has no event #{event} to correct"
            )
        day = on if isinstance(on, date) or on is None else parse_date(on, "--on")
        if role is not None and role not in wf.roles:
            raise UsageError(f"未知角色 / unknown role {shown(role)}")
        text = reason.strip()
        if text and not is_storable_text(text):
            raise UsageError("理由含有无法存储的字符 / the reason contains a NUL or an unpaired surrogate")

        def attempt(who: Callable[[date], Actor]) -> CaseView:
            return self.cases.correct(
                case_id,
                corrects=event,
                actor=who(self.cases.today()),  # the corrector as they stand on the day the erratum is recorded
                reason=text,
                fields=typed,
                on=day,
                role=role,
                expected_version=expected_version,
                confirm_actor=True,
            )

        return self._as_actor(actor, attempt)

    @staticmethod
    def read_attachments(specs: Sequence[str]) -> list[Attachment]:
        return [read_attachment(s) for s in specs]

    # -- reading ----------------------------------------------------------------------------------

    def show(self, case_id: str, actor: str | None = None) -> CaseDetails:
        view = self.cases.view(case_id)
        wf = self.cases.definitions_for(view.definitions).workflow(view.case.workflow)
        state = wf.states[view.case.state]
        who = self.users.actor(actor, on=self.cases.today()) if actor else Actor("—", frozenset(wf.roles))
        engine = self.cases.engine(view.definitions, view.case.workflow)
        judged = engine.options(view.case, who, self.cases.today())
        # the people read once for every blocked action's remedy, not once per action
        people = (
            self.users.list()
            if any(u.remedy is not None and u.remedy.roles for o in judged for u in o.blocked)
            else None
        )
        options = tuple(replace(o, blocked=self._with_holders(o.blocked, people)) for o in judged)
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

    def action_schema(self, case_id: str, trigger: str, actor: str | None = None) -> ActionSchema:
        """The input schema of ``trigger`` (a trigger or its label) on the case as it stands: every
        field and document it takes or its rules read, each required now, only under a condition
        (said in words) or optional, with the rules that need it (`decisions.workflow.needs`)."""
        view = self.cases.view(case_id)
        wf = self.cases.definitions_for(view.definitions).workflow(view.case.workflow)
        who = self.users.actor(actor) if actor else Actor("—", frozenset(wf.roles))
        name = trigger_named(wf, trigger, wf.transitions_from(view.case.state))
        engine = self.cases.engine(view.definitions, view.case.workflow)
        return engine.schema(view.case, name, who, self.cases.today())

    def start_schema(self, workflow: str | None = None, actor: str | None = None) -> ActionSchema:
        """The input schema of the action that opens a case of ``workflow`` (default: the one
        ``propose`` starts), judged on a new case."""
        name = workflow or self.proposal_workflow()
        wf = self.definitions.workflow(name)
        if wf.case is None:
            raise UsageError(
                f"流程 {shown(name)} 未声明开启事项的操作 / workflow {shown(name)} does not say which action opens a case"
            )
        who = self.users.actor(actor) if actor else Actor("—", frozenset(wf.roles))
        engine = self.cases.engine(self.cases.current.fingerprint, name)
        return engine.schema(engine.new_case("—"), wf.case.start, who, self.cases.today())

    def documents(self, records: Sequence[Record]) -> dict[str, DocumentInfo]:
        """Each document of ``records`` described in full (by SHA-256): size as stored, media type by its name."""
        sizes = self.cases.repository.document_sizes([d.sha256 for r in records for d in r.documents])
        return {
            d.sha256: DocumentInfo(d.kind, d.version, d.name, d.sha256, sizes.get(d.sha256), media_type(d.name))
            for r in records
            for d in r.documents
        }

    def history(self, case_id: str) -> tuple[Record, ...]:
        """The case's records, as corrected by its errata (`history_with_errata` shows both)."""
        return self.cases.view(case_id).case.records

    def history_with_errata(self, case_id: str) -> tuple[tuple[Record, ...], tuple[Erratum, ...]]:
        """The case's records as corrected (each names its errata, `Record.corrected_by`) and the errata,
        which say what each changed from what: one read."""
        case = self.cases.view(case_id).case
        return case.records, case.errata

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

    def inbox(self, actor: str, limit: int = 100, *, workflow: str = "", overdue_only: bool = False) -> Inbox:
        """What ``actor`` can do now, and what waits on them (blocked by a rule, not by their role),
        with due dates, over at most ``limit`` cases of each workflow, the most urgent first, every
        workflow in one list: overdue first, then by due date (the due dates of the roles in which they may act on it); and, to the roles a catalogue's
        ``inbox:`` names, its items past their planned time with no decision taken (久拖不决).

        The cases and their due dates come from the inbox table in one indexed query (kept by every
        action in its own transaction; rebuilt first when the deployment's definitions changed);
        whether a due date is overdue is judged today. What the person may do on each case, or what
        blocks it, is judged on the case as this office holds it (read when it is not held at the
        version the table names).

        ``workflow``: only that workflow's cases (and late items only of its catalogue, if it is one);
        ``overdue_only``: only the overdue cases."""
        if workflow and workflow not in self.definitions.workflows:
            known = ", ".join(sorted(self.definitions.workflows))
            raise UsageError(f"未知流程 / unknown workflow {shown(workflow)} (workflows: {known})")
        today = self.cases.today()
        who = self.users.actor(actor, on=today)
        roles = sorted(who.roles)
        workflows = [workflow] if workflow else sorted(self.definitions.workflows)
        # one more than shown of each workflow: whether more wait than the page shows
        derived, page = self.cases.repository.inbox_tasks(roles, workflows, today, limit + 1)
        if self.cases.ensure_tasks(derived):
            _, page = self.cases.repository.inbox_tasks(roles, workflows, today, limit + 1)
        shown_per: dict[str, int] = {}
        more: set[str] = set()
        within: list[Any] = []
        for found in page:  # the store's order: the most urgent of each workflow first
            shown_per[found.workflow] = shown_per.get(found.workflow, 0) + 1
            if shown_per[found.workflow] > limit:
                more.add(found.workflow)
            else:
                within.append(found)
        page = within
        calendar = self.definitions.calendar
        tasks: list[Task] = []
        views = self.cases.held({found.case_id: found.version for found in page})
        for found in page:
            wf = self.definitions.workflows.get(found.workflow)
            view = views.get(found.case_id)
            if wf is None or view is None:
                continue
            engine = self.cases.engine(view.definitions, view.case.workflow)
            state_label = engine.workflow.states[view.case.state].label
            due = tuple(d.deadline(today, calendar) for d in merged_due_dates(e.due for e in found.entries))
            if overdue_only and not any(d.overdue for d in due):
                continue
            for option in engine.options(view.case, who, today):
                if not any(u.kind == "role" for u in option.blocked):
                    tasks.append(Task(found.case_id, found.title, state_label, option, due, wf.name, wf.label))
        tasks.sort(key=Task.order)
        late: list[tuple[str, str, str, date]] = []
        for wf in self.definitions.workflows.values():
            if not who.roles & set(wf.late_items_seen_by) or (workflow and wf.name != workflow):
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
        return Inbox(who.id, tuple(sorted(who.roles)), tuple(tasks), tuple(late), limit, tuple(sorted(more)))

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

    # -- the dossier (决策档案) ---------------------------------------------------------------------

    def dossier(self, case_id: str) -> bytes:
        """One matter's self-contained PDF: cover, timeline, every record with its rules, the
        documents attached, a verification page (see docs/dossier.md). May save a checkpoint."""
        return self.dossier_checked(case_id)[0]

    def dossier_checked(self, case_id: str) -> tuple[bytes, bool]:
        """The dossier and whether the case's history verified (the PDF prints the findings if not)."""
        from decisions.dossier import build

        pdf, report = build(self, case_id)
        return pdf, report.ok

    def dossier_cases(self, year: int) -> list[str]:
        """The matters of ``year`` whose dossiers ``decisions dossier --year`` writes."""
        from decisions.dossier import cases_of_year

        return cases_of_year(self, year)

    def catalogue_export(self, year: int, version: int | None = None, fmt: str = "xlsx") -> bytes:
        """One version of the year's catalogue for the gazette, with the adjustment history: ``xlsx`` or ``pdf``."""
        from decisions.dossier.catalogue import export_catalogue

        return export_catalogue(self, year, version, fmt)

    # -- the annual report (decisions.service.report, docs/report.md) ------------------------------

    def report(self, year: int, unit: str | None = None) -> Report:
        """The year's figures for the annual 法治政府建设 report (of ``unit`` only, if given), computed
        from every case's history as its workflow's ``report:`` section declares."""
        from decisions.service.report import build_report

        return build_report(self, year, unit)

    def report_export(self, year: int, unit: str | None = None, fmt: str = "xlsx", language: str = "zh") -> bytes:
        """The year's figures as a file: ``xlsx`` (openpyxl) or ``html`` (a standalone page, charts inlined)."""
        from decisions.report.export import export_report

        return export_report(self.report(year, unit), fmt, language)

    def report_charts(self, year: int, unit: str | None = None, fmt: str = "png") -> dict[str, bytes]:
        """The year's charts (reviews per month, outcomes, catalogue completion), by file name, in ``fmt`` (png, svg)."""
        from decisions.report.charts import charts

        return charts(self.report(year, unit), fmt)

    # -- moving and keeping the office: export, import, backup (decisions.service.archive) ---------

    def export(self, path: Path) -> ArchiveSummary:
        """The whole office, verified first, into the new archive file ``path``."""
        from decisions.service.archive import ArchiveService

        return ArchiveService(self.cases).export(path, self.clock().isoformat())

    def backup(self, path: Path) -> BackupSummary:
        """An online, consistent, verified copy into the new file ``path`` (see `ArchiveService.backup`)."""
        from decisions.service.archive import ArchiveService

        return ArchiveService(self.cases).backup(path, self.clock().isoformat())

    @classmethod
    def import_archive(
        cls,
        path: Path,
        db_url: str | None = None,
        config: Path | None = None,
        *,
        expect: str | None = None,
        documents: Path | None = None,
    ) -> tuple[ArchiveSummary, VerifyReport]:
        """Load an archive into an empty database (made if new) and verify everything; a finding
        undoes it. ``expect``: the archive digest written down at export."""
        from decisions.service.archive import import_archive

        definitions = DefinitionsService(load_deployment(find_config(config))).definitions()
        database = Database(db_url or "", documents=documents)
        try:
            return import_archive(path, database, definitions, expect=expect)
        finally:
            database.dispose()

    @classmethod
    def restore(
        cls, backup: Path, db_url: str | None = None, config: Path | None = None, *, documents: Path | None = None
    ) -> tuple[BackupSummary, VerifyReport]:
        """Restore a backup (`backup`) into a new database and verify it; a finding removes it again."""
        from decisions.service.archive import restore_backup

        definitions = DefinitionsService(load_deployment(find_config(config))).definitions()
        database = Database(db_url or "", documents=documents)
        try:
            return restore_backup(backup, database, definitions)
        finally:
            database.dispose()

    # -- passwords and the people history's check, for the administration pages ----------------

    def set_password_by(self, person: str, password: str, *, by: str) -> User:
        """An administrator (``by``) sets ``person``'s password (an initial one, or a reset);
        refused for anyone else, nothing written."""
        self.users.check_admin(by)
        return self.set_password(self.users.resolve(person).id, password, by=by)

    def change_password(self, name: str, current: str, new: str, client: str = "") -> User:
        """``name`` changes their own password, giving the current one (a wrong one is refused and
        counts as a failed login: throttled like the login form)."""
        from decisions.service.logins import LoginRefused

        try:
            self.logins.login(name, current, client)
        except LoginRefused as exc:
            raise UsageError("当前密码不正确，密码未更改 / the current password is wrong: nothing changed") from exc
        return self.set_password(name, new, by=name)

    def people_findings(self) -> list[Finding]:
        """What `audit verify` finds in the people history alone (its chain and its projection)."""
        from decisions.service.audit import people_findings

        return people_findings(self.cases.store.people, self.cases.repository.hash, self.cases.store.credentials)


def describe(value: Any) -> str:
    """A value as a person reads it (lists joined, views as member:position)."""
    if isinstance(value, list):
        if value and isinstance(value[0], dict):
            return ", ".join(f"{v.get('member')}:{v.get('position')}{'(主持)' if v.get('head') else ''}" for v in value)
        return "、".join(str(v) for v in value)
    if isinstance(value, bool):
        return "是 yes" if value else "否 no"
    return str(value)


@dataclass(frozen=True)
class DocumentInfo:
    """A document as a reader or a form sees it: kind, version, file name, full hash, size, media type."""

    kind: str
    version: int
    name: str
    sha256: str
    size: int | None
    media_type: str


def media_type(name: str) -> str:
    """The media type a file name suggests (``application/octet-stream`` when it suggests none)."""
    guessed, _ = mimetypes.guess_type(name, strict=False)
    return guessed or "application/octet-stream"


def document_line(d: Document) -> str:
    return f"{d.kind} v{d.version} {d.name} {d.sha256[:12]}…"

"""Acting on cases: load the snapshot, let the engine judge, commit one event. The one place that commits.

The clock is injected (``clock`` returns an aware datetime); the day an action *happened* is
declared by the clerk and may be neither in the future (China Standard Time) nor before the
previous event. A case keeps the definitions it started under: its engine is built from the
definition texts stored under its fingerprint, not from whatever is in ``workflows/`` today.
"""

from __future__ import annotations

import hashlib
import json
import random
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, timedelta, timezone
from functools import partial
from typing import Any

from decisions.catalogue import CatalogueSpec, CatalogueVersion, versions
from decisions.definitions import Definitions
from decisions.errors import (
    ActionRefused,
    CaseExists,
    ChainBroken,
    ConflictError,
    DecisionsError,
    IntegrityError,
    StoreError,
    TransientStoreError,
    UnknownName,
    Unmet,
    UsageError,
    shown,
)
from decisions.loading import load_sources
from decisions.model import ERRATUM, MAX_CASE_ID, Action, Actor, Case, Document, is_case_id, is_storable_text
from decisions.rules.conditions import OUTSIDE_FACTS
from decisions.service.chain import first_break
from decisions.service.inputs import close_names
from decisions.store.database import Database
from decisions.store.documents import check_document_size, media_type_for
from decisions.store.events import StoredEvent, erratum_body, event_body, history_from_bodies
from decisions.store.interface import NewDocument, Store
from decisions.store.repository import CaseHead, sql_store
from decisions.tasks import CaseTasks, case_tasks, untitled
from decisions.workflow.case_ids import year_case_id
from decisions.workflow.definition import FieldType, WorkflowDef
from decisions.workflow.engine import ActionOption, Engine, Fired

__all__ = [
    "CHINA_STANDARD_TIME",
    "CaseService",
    "CaseView",
    "Clock",
    "OutsideFacts",
    "case_of_year",
    "linked_catalogue",
    "utc_now",
]

Clock = Callable[[], datetime]
OutsideFacts = Callable[["CaseService", Case, Action], Mapping[str, Any]]
"""Looks up the facts from outside the case (`OUTSIDE_FACTS`) for an action about to be judged."""


def linked_catalogue(definitions: Definitions, workflow: str) -> WorkflowDef | None:
    """The catalogue workflow whose items the cases of ``workflow`` implement (its ``case:
    catalogue_item`` link), if it declares one and the catalogue is loaded."""
    wf = definitions.workflows.get(workflow)
    link = wf.case.catalogue_item if wf is not None and wf.case is not None else None
    return definitions.workflows.get(link.catalogue) if link is not None else None


def case_of_year(wf: WorkflowDef, year: int) -> str | None:
    """The id of ``wf``'s case about ``year`` (a catalogue: ``case: year_field``), from its id pattern."""
    if wf.case is None or not wf.case.year_field:
        return None
    return year_case_id(wf.case.id, wf.case.year_field, year)


def published_catalogue(service: CaseService, case: Case, action: Action) -> Mapping[str, Any]:
    """``catalogue.published_items``: the item ids of the catalogue of ``action.on``'s year, in its
    latest version published on or before that day. Nothing when the case's workflow links to no
    catalogue workflow of the deployment, or that year's catalogue is not on record or not published
    by then: the rule that asks then cannot be judged. Derived from stored records only, so a replay
    finds the same."""
    catalogue = linked_catalogue(service.current, case.workflow)
    case_id = case_of_year(catalogue, action.on.year) if catalogue is not None else None
    head = service.repository.head(case_id) if case_id is not None else None
    if catalogue is None or head is None or head.workflow != catalogue.name:
        return {}
    published = [v for v in service.catalogue_versions(head.id) if v.published_on and v.published_on <= action.on]
    if not published:
        return {}
    return {"catalogue.published_items": [item.id for item in published[-1].items]}


CHINA_STANDARD_TIME = timezone(timedelta(hours=8), "CST")
_RETRIES = 3
_CONFLICT_RETRIES = 25  # without an expected version, a lost race simply re-reads and tries again
_SNAPSHOTS = 1024  # recently used cases kept in memory


def utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class CaseView:
    """A case as stored: its snapshot, version, head hash and the definitions it runs under."""

    case: Case
    version: int
    head_hash: str
    definitions: str


class CaseService:
    """Starts and advances cases in one database under one deployment's definitions."""

    def __init__(
        self,
        store: Store | Database,
        definitions: Definitions,
        *,
        clock: Clock = utc_now,
        outside: OutsideFacts = published_catalogue,
    ) -> None:
        self.db = store if isinstance(store, Database) else None  # for tests that inspect the SQL rows
        self.store = sql_store(store) if isinstance(store, Database) else store
        self.outside = outside
        self.algorithm = self.store.algorithm
        self.repository = self.store.repository
        self.documents = self.store.documents
        self.current = definitions
        self.clock = clock
        self._engines: dict[tuple[str, str], Engine] = {}
        self._definitions: dict[str, Definitions] = {definitions.fingerprint: definitions}
        self._outside_wanted: dict[tuple[str, str, str], frozenset[str]] = {}
        self._columns: dict[tuple[str, str], Mapping[str, str]] = {}
        self._registered = False
        self._lock = threading.Lock()
        # Snapshots of recently used cases. A stale one is harmless: the write transaction checks the
        # version and a lost race re-reads. Bounded, so memory does not grow with the number of cases.
        self._snapshots: OrderedDict[str, CaseView] = OrderedDict()

    # -- definitions by fingerprint ---------------------------------------------------------------

    def definitions_for(self, fingerprint: str) -> Definitions:
        """The definitions stored under ``fingerprint`` (loaded once, from their stored texts)."""
        with self._lock:
            found = self._definitions.get(fingerprint)
        if found is None:
            found = self.stored_definitions(fingerprint)
            with self._lock:
                self._definitions[fingerprint] = found
        return found

    def engine(self, fingerprint: str, workflow: str) -> Engine:
        key = (fingerprint, workflow)
        with self._lock:
            engine = self._engines.get(key)
        if engine is None:
            engine = Engine(self.definitions_for(fingerprint), workflow)
            with self._lock:
                self._engines[key] = engine
        return engine

    def columns(self, fingerprint: str, workflow: str) -> Mapping[str, str]:
        """The store's projected columns of a case of ``workflow`` under definitions ``fingerprint``,
        and the attribute that fills each (`CaseSpec.columns`). Definitions recorded before workflows
        declared a ``case:`` section take the declaration of the deployment's workflow of that name,
        so the columns of an existing case keep their values."""
        key = (fingerprint, workflow)
        with self._lock:
            found = self._columns.get(key)
        if found is None:
            own = self.definitions_for(fingerprint).workflows.get(workflow)
            spec = own.case if own is not None and own.case is not None and any(own.case.columns.values()) else None
            if spec is None:
                current = self.current.workflows.get(workflow)
                spec = current.case if current is not None else None
            found = spec.columns if spec is not None else {}
            with self._lock:
                self._columns[key] = found
        return found

    def register_definitions(self) -> str:
        """Store the deployment's current definitions by content hash (idempotent)."""
        if not self._registered:
            self.repository.save_definitions(self.current)
            self.ensure_tasks(self.repository.tasks_derived_by())  # a new or newly migrated database
            self._registered = True
        return self.current.fingerprint

    # -- reading --------------------------------------------------------------------------------

    def view(self, case_id: str) -> CaseView:
        """The case as stored now (read from the database, checked against its projection); an
        unknown id is refused naming the ids on record closest to it ("did you mean")."""
        try:
            head, events = self.repository.load(case_id)
        except UsageError as exc:
            if type(exc) is not UsageError:
                raise
            ids = [h.id for h in self.repository.cases()]
            raise UnknownName(str(exc), what="case", name=case_id, suggestions=close_names(case_id, ids)) from exc
        view = self._view(head, events)
        self._remember(view)
        return view

    def _remember(self, view: CaseView) -> None:
        with self._lock:
            self._snapshots[view.case.id] = view
            self._snapshots.move_to_end(view.case.id)
            while len(self._snapshots) > _SNAPSHOTS:
                self._snapshots.popitem(last=False)

    def _forget(self, case_id: str) -> None:
        with self._lock:
            self._snapshots.pop(case_id, None)

    def _recent(self, case_id: str) -> CaseView:
        return self._cached(case_id) or self.view(case_id)

    def _cached(self, case_id: str) -> CaseView | None:
        with self._lock:
            return self._snapshots.get(case_id)

    def snapshot(self, case_id: str) -> CaseView:
        """The case as this service last read or wrote it, else as stored now: what an action is
        prepared against. It may be stale (another process may have acted since); `act` judges
        and writes only against the stored version, so a stale one costs a re-read, never a wrong
        write."""
        return self._recent(case_id)

    def held(self, versions: Mapping[str, int]) -> dict[str, CaseView]:
        """Cases at the versions ``versions`` names: as this service holds them when it holds that
        version (a version is one case's: one event each), else as stored now, all of those read
        in one transaction. A case that no longer exists is left out."""
        out: dict[str, CaseView] = {}
        for case_id, version in versions.items():
            view = self._cached(case_id)
            if view is not None and view.version == version:
                out[case_id] = view
        missing = [c for c in versions if c not in out]
        for case_id, (head, events) in self.repository.load_many(missing).items():
            out[case_id] = self._view(head, events)
            self._remember(out[case_id])
        return out

    def _moved(self, view: CaseView) -> bool:
        """Whether the stored case has moved on from ``view`` (one indexed read of its projection)."""
        head = self.repository.head(view.case.id)
        return head is None or head.version != view.version or head.head_hash != view.head_hash

    def _view(self, head: CaseHead, events: list[StoredEvent]) -> CaseView:
        # A case read from the database is acted on, and shown, only if its chain verifies: what this
        # service then holds (and extends with its own appends) needs no second look.
        broken = first_break(self.repository.hash, events, head.head_hash, head.version)
        if broken is not None:
            raise ChainBroken(head.id, broken.seq, broken.reason_zh, broken.reason_en)
        wf = self.definitions_for(head.definitions).workflow(head.workflow)
        records, errata = history_from_bodies((json.loads(e.body) for e in events), wf)
        if not records or len(records) + len(errata) != head.version or records[-1].to_state != head.state:
            raise IntegrityError(
                f"决策事项 {head.id} 的当前状态与其历史不一致，请运行 decisions audit verify / "
                f"case {head.id}: its stored state disagrees with its history; run `decisions audit verify`"
            )
        attributes: dict[str, Any] = {}
        for r in records:
            attributes = wf.attributes_after(attributes, r.fields)
        case = Case(head.id, head.workflow, head.state, attributes, records, errata)
        return CaseView(case, head.version, head.head_hash, head.definitions)

    def catalogue_spec(self, view: CaseView) -> CatalogueSpec | None:
        """How ``view``'s records make the versions of a catalogue: as the definitions it runs under
        declare, or, when those predate the ``catalogue:`` section, as the deployment's do."""
        own = self.definitions_for(view.definitions).workflow(view.case.workflow).catalogue
        current = self.current.workflows.get(view.case.workflow)
        return own if own is not None or current is None else current.catalogue

    def catalogue_versions(self, case_id: str) -> list[CatalogueVersion]:
        """Every version of the catalogue ``case_id``, oldest first (none if its workflow has no catalogue)."""
        view = self.view(case_id)
        return versions(view.case, self.catalogue_spec(view))

    def options(self, case_id: str, actor: Actor, on: date | None = None) -> list[ActionOption]:
        view = self.view(case_id)
        engine = self.engine(view.definitions, view.case.workflow)
        return engine.options(view.case, actor, on or self.today())

    def today(self) -> date:
        return self.clock().astimezone(CHINA_STANDARD_TIME).date()

    # -- documents --------------------------------------------------------------------------------

    def attach(self, kind: str, data: bytes, name: str) -> Document:
        """Store a document's bytes and row now, in a transaction of their own (an action carrying
        it later need not bring them); returns the reference an action carries. Bytes given to
        `act` / `start` as ``blobs`` are stored in the action's own transaction instead."""
        sha = self.documents.put(data, media_type_for(name))
        return Document(kind=kind, sha256=sha, name=name)

    # -- acting -----------------------------------------------------------------------------------

    def start(
        self,
        workflow: str,
        case_id: str,
        action: Action,
        blobs: Mapping[str, bytes] | None = None,
        *,
        confirm_actor: bool = False,
    ) -> Fired:
        """Create case ``case_id`` by firing its first action from the workflow's initial state.
        With ``confirm_actor``, the write confirms that the actor is on record as the action names
        them (active, same roles and unit), else `ActorChanged` and nothing is written."""
        if not is_case_id(case_id):
            raise UsageError(
                f"无效的编号 / invalid case id {shown(case_id)} "
                f"(1-{MAX_CASE_ID} 个可打印字符，不含空格 / printable characters, no spaces)"
            )
        fingerprint = self.register_definitions()
        engine = self.engine(fingerprint, workflow)
        if self.repository.head(case_id) is not None:
            raise CaseExists(f"编号已存在 / case {shown(case_id)} already exists")
        return self._commit(engine, engine.new_case(case_id), 0, fingerprint, action, None, blobs or {}, confirm_actor)

    def act(
        self,
        case_id: str,
        action: Action | Callable[[CaseView], Action],
        expected_version: int | None = None,
        blobs: Mapping[str, bytes] | None = None,
        *,
        confirm_actor: bool = False,
    ) -> Fired:
        """Fire ``action`` on a stored case (``confirm_actor`` as for `start`). With ``expected_version``, refuse (conflict) if the case
        has changed since the caller looked at it; without it, a lost race re-reads the case and the
        action is judged again on its new state. ``blobs`` holds the bytes of documents the action
        carries that are not stored yet (by SHA-256): they are stored only if the action is accepted.

        ``action`` may be a function that prepares the action from the case it will be judged on
        (what a person typed is read against the case's current state): it is called again when a
        re-read finds the case moved on. The first attempt uses the snapshot this service holds; a
        refusal judged on a held snapshot is confirmed against the stored version before it is
        reported, so a stale snapshot never refuses what the stored case would accept."""
        retryable_failures = 0
        for attempt in range(_CONFLICT_RETRIES):
            held = self._cached(case_id) if attempt == 0 else None
            view = held or self.view(case_id)
            if expected_version is not None and view.version != expected_version:
                view = self.view(case_id)
                held = None
            engine = self.engine(view.definitions, view.case.workflow)
            try:
                prepared = action(view) if callable(action) else action  # its own errors first, as typed
                if expected_version is not None and view.version != expected_version:
                    raise self.repository.conflict(case_id, expected_version, view.version)
                return self._commit(
                    engine,
                    view.case,
                    view.version,
                    view.definitions,
                    prepared,
                    view.head_hash,
                    blobs or {},
                    confirm_actor,
                )
            except (ActionRefused, UsageError):
                if held is None or not self._moved(held):
                    raise
                self._forget(case_id)  # judged on a stale snapshot: judge it again on the stored case
            except ConflictError:
                self._forget(case_id)
                if expected_version is not None or attempt == _CONFLICT_RETRIES - 1:
                    raise
                time.sleep(random.uniform(0, 0.005 * (attempt + 1)))
            except TransientStoreError as exc:  # PostgreSQL serialization failures and deadlocks
                retryable_failures += 1
                if retryable_failures >= _RETRIES:
                    raise StoreError(f"数据库事务失败 / the transaction failed: {exc}") from exc
        raise AssertionError("unreachable")  # pragma: no cover

    def correct(
        self,
        case_id: str,
        *,
        corrects: int,
        actor: Actor,
        reason: str,
        fields: Mapping[str, Any] | None = None,
        on: date | None = None,
        role: str | None = None,
        expected_version: int | None = None,
        confirm_actor: bool = False,
    ) -> CaseView:
        """Append an erratum (更正) to ``case_id``: fields and/or the day (``on``) of its event number
        ``corrects``, with ``reason``, by ``actor``. Nothing stored is rewritten: the erratum is one more
        event of the chain, and the snapshot applies it. Refused (`ActionRefused`, nothing written)
        when the workflow's ``corrections:`` do not let the actor correct that, when the corrected day
        is in the future, or when the record or any later step would break a rule once corrected."""
        for attempt in range(_CONFLICT_RETRIES):
            view = self.view(case_id)
            if expected_version is not None and view.version != expected_version:
                raise self.repository.conflict(case_id, expected_version, view.version)
            engine = self.engine(view.definitions, view.case.workflow)
            erratum = engine.erratum(
                view.case,
                corrects=corrects,
                actor=actor,
                recorded_on=self.today(),
                reason=reason,
                fields=fields,
                on=on,
                role=role,
            )
            if on is not None and on > self.today():
                raise ActionRefused(
                    ERRATUM,
                    view.case.state,
                    [
                        Unmet(
                            "service.future_date",
                            engine.cite("service.future_date"),
                            f"更正后的发生日期 {on} 晚于今天 {self.today()}",
                            f"the corrected date ({on}) is in the future (today is {self.today()})",
                            kind="invalid",
                        )
                    ],
                )
            after = engine.correct(view.case, erratum, partial(self._outside_for, engine))
            body = erratum_body(
                case_id=case_id,
                workflow=view.case.workflow,
                definitions=view.definitions,
                state=view.case.state,
                erratum=erratum,
                roles=actor.roles,
                draft_version=view.case.draft_version,
                recorded_at=self.clock().astimezone(UTC),
            )
            columns = self.columns(view.definitions, view.case.workflow)
            wf = self.definitions_for(view.definitions).workflow(view.case.workflow)
            projection = {
                "state": after.state,
                "attributes": after.attributes,
                "columns": columns,
                "tasks": self.tasks_of(after, view.version + 1, wf, columns),  # a corrected date moves a deadline
            }
            try:
                stored = self.repository.append(
                    case_id=case_id,
                    expected_version=view.version,
                    body=body,
                    projection=projection,
                    prev_hash=view.head_hash,
                    actor=(actor.id, actor.roles, actor.unit or "") if confirm_actor else None,
                )
            except ConflictError:
                self._forget(case_id)
                if expected_version is not None or attempt == _CONFLICT_RETRIES - 1:
                    raise
                continue
            corrected = CaseView(after, view.version + 1, stored.hash, view.definitions)
            self._remember(corrected)
            return corrected
        raise AssertionError("unreachable")  # pragma: no cover

    def _outside_for(self, engine: Engine, case: Case, action: Action) -> Mapping[str, Any]:
        return self.with_outside_facts(engine, case, action).known

    def with_outside_facts(self, engine: Engine, case: Case, action: Action) -> Action:
        """``action`` carrying the outside facts its rules read, looked up now (whatever it carried)."""
        key = (engine.definitions.fingerprint, case.workflow, action.trigger)
        wanted = self._outside_wanted.get(key)
        if wanted is None:
            wanted = frozenset(
                ref
                for rule in (
                    *engine.definitions.rulebook.rules_for(case.workflow, action.trigger),
                    *(c for c in engine.workflow.constraints if action.trigger in c.triggers),
                )
                for cond in (rule.when, rule.require)
                if cond is not None
                for ref in cond.references()
                if ref in OUTSIDE_FACTS
            )
            self._outside_wanted[key] = wanted  # a race only computes the same set twice
        known = {k: v for k, v in self.outside(self, case, action).items() if k in wanted} if wanted else {}
        return replace(action, known=known)

    def stored_definitions(self, fingerprint: str) -> Definitions:
        """The definitions of ``fingerprint`` as stored in the database, never from memory: what an
        auditor replays. Edited texts no longer hash to the fingerprint and are refused."""
        found = load_sources(self.repository.definition_sources(fingerprint), recorded=True)
        if found.fingerprint != fingerprint:
            raise IntegrityError(
                f"定义集 {fingerprint[:16]}… 的存储文本已被改动 / the stored texts of definition set "
                f"{fingerprint[:16]}… no longer hash to its fingerprint"
            )
        return found

    def _commit(
        self,
        engine: Engine,
        case: Case,
        version: int,
        fingerprint: str,
        action: Action,
        prev_hash: str | None,
        blobs: Mapping[str, bytes],
        confirm_actor: bool = False,
    ) -> Fired:
        self._check_dates_and_documents(engine, case, action, blobs)
        self._check_case_links(engine, case, action)
        fired = engine.fire(case, self.with_outside_facts(engine, case, action))
        # Accepted: the new documents' rows and bytes are written in the event's own transaction, so
        # the action is one commit, and a refused, lost or killed one leaves no document behind.
        new_documents = []
        for d in action.documents:
            if d.sha256 in blobs:
                check_document_size(blobs[d.sha256])
                new_documents.append(NewDocument(d.sha256, blobs[d.sha256], media_type_for(d.name)))
        recorded_at = self.clock().astimezone(UTC)
        body = event_body(
            case_id=case.id,
            workflow=case.workflow,
            definitions=fingerprint,
            record=fired.record,
            roles=action.actor.roles,
            results=fired.results,
            recorded_at=recorded_at,
        )
        columns = self.columns(fingerprint, case.workflow)
        projection = {
            "state": fired.case.state,
            "attributes": fired.case.attributes,
            "columns": columns,
            "tasks": self.tasks_of(fired.case, version + 1, engine.workflow, columns),
        }
        stored = self.repository.append(
            case_id=case.id,
            expected_version=version,
            body=body,
            projection=projection,
            prev_hash=prev_hash,
            documents=new_documents,
            actor=(action.actor.id, action.actor.own_roles(), action.actor.unit or "") if confirm_actor else None,
        )
        self._remember(CaseView(fired.case, version + 1, stored.hash, fingerprint))
        return fired

    # -- the inbox table ------------------------------------------------------------------------

    def tasks_of(self, case: Case, version: int, recorded: WorkflowDef, columns: Mapping[str, str]) -> CaseTasks | None:
        """The inbox table's rows of ``case`` (at ``version``), derived by the deployment's definition
        of its workflow as the inbox reads it (`decisions.tasks.case_tasks`); the title as the
        projection stores it, else from the definitions the case runs under (``recorded``)."""
        wf = self.current.workflows.get(case.workflow)
        if wf is None:
            return None
        book = self.current.rulebook
        entries = case_tasks(case, wf, book.parameters, self.current.calendar, book.counting)
        if not entries:
            return None
        title = str(case.attributes.get(columns.get("title") or "") or "")[:512] or untitled(recorded, case)
        return CaseTasks(case.id, case.workflow, case.state, title, version, self.current.fingerprint, entries)

    def derive_tasks(self, head: CaseHead, events: list[StoredEvent]) -> CaseTasks | None:
        """What the inbox table should hold for a stored case, from its events alone (whatever its
        projection row says: verification judges that apart). Raises `DecisionsError` when the
        history cannot be read under its definitions."""
        if not events:
            return None
        last = json.loads(events[-1].body)
        fingerprint, workflow = str(last.get("definitions")), str(last.get("workflow"))
        try:
            wf = self.definitions_for(fingerprint).workflow(workflow)
            records, errata = history_from_bodies((json.loads(e.body) for e in events), wf)  # as corrected
        except (KeyError, TypeError, ValueError) as exc:
            raise IntegrityError(f"case {head.id}: its history cannot be read ({exc})") from exc
        if not records:
            raise IntegrityError(f"case {head.id}: its history records no action")
        attributes: dict[str, Any] = {}
        for r in records:
            attributes = wf.attributes_after(attributes, r.fields)
        case = Case(head.id, workflow, records[-1].to_state, attributes, records, errata)
        return self.tasks_of(case, len(events), wf, self.columns(fingerprint, workflow))

    def stored_tasks_of(self, head: CaseHead, events: list[StoredEvent]) -> CaseTasks | None:
        """`derive_tasks`, none for a case whose history cannot be read (`decisions audit verify`
        reports it)."""
        try:
            return self.derive_tasks(head, events)
        except DecisionsError:
            return None

    def ensure_tasks(self, derived: str | None) -> bool:
        """Rebuild the inbox table when it was derived (``derived``: as the store names it) by other
        definitions than the deployment's, or never (a database migrated to it); whether it did."""
        if derived == self.current.fingerprint:
            return False
        self.repository.rebuild_tasks(self.current.fingerprint, self.stored_tasks_of)
        return True

    def _check_case_links(self, engine: Engine, case: Case, action: Action) -> None:
        """A field of type ``case`` (e.g. the new decision of an adjustment) names another case this
        office has on record, of the workflow the field declares (by default its own)."""
        wf = engine.workflow
        t = wf.transition(case.state, action.trigger)
        if t is None:
            return  # the engine refuses the action itself
        unmet: list[Unmet] = []
        for name in t.all_fields:
            fdef, value = wf.fields.get(name), action.fields.get(name)
            if fdef is None or fdef.type is not FieldType.CASE or not isinstance(value, str):
                continue
            linked = self.current.workflows.get(fdef.case_workflow or case.workflow, wf)
            head = None if value == case.id else self.repository.head(value)
            if head is None or head.workflow != linked.name:
                other = "另一" if linked.name == case.workflow else ""
                unmet.append(
                    Unmet(
                        f"service.case_link.{name}",
                        engine.cite("service.case_link", t),
                        f"{fdef.label.zh}「{shown(value)}」不是本单位已登记的{other}{linked.label.zh}事项；请先登记该事项再关联",
                        f"{fdef.label.en} {shown(value)} is not {'another' if other else 'a'} "
                        f"{linked.label.en.lower()} case on record here; start that case first, then link it",
                        kind="invalid",
                    )
                )
        if unmet:
            raise ActionRefused(action.trigger, case.state, unmet)

    def _check_dates_and_documents(
        self, engine: Engine, case: Case, action: Action, blobs: Mapping[str, bytes]
    ) -> None:
        names = [action.actor.id, action.actor.unit or "", action.role or "", *action.actor.roles]
        names += [text for d in action.documents for text in (d.kind, d.name)]
        if not all(is_storable_text(n) for n in names):
            raise UsageError(
                "操作人、角色或附件名称含有无法存储的字符 / the actor, a role or a document name contains a NUL "
                "or an unpaired surrogate"
            )
        today = self.today()
        if action.on > today:  # a slip of the keyboard, not a breach of the procedure: a usage error
            raise UsageError(
                zh=f"[service.future_date] 发生日期 {action.on} 晚于今天（{today}）：请写实际发生的日期"
                f"（YYYY-MM-DD，不晚于今天），或不写 --on 即为今天",
                en=f"[service.future_date] the date it happened ({action.on}) is in the future (today is {today}): "
                f"give the day it really happened (YYYY-MM-DD, today or earlier), or leave --on out for today",
            )
        unmet: list[Unmet] = []
        for d in action.documents:
            if d.sha256 in blobs:
                ok = hashlib.sha256(blobs[d.sha256]).hexdigest() == d.sha256
                problem = None if ok else "its bytes do not match its SHA-256"
            else:
                problem = self.documents.check(d.sha256)
            if problem is not None:
                unmet.append(
                    Unmet(
                        f"service.document.{d.kind}",
                        engine.cite("service.document"),
                        f"附件 {d.name or d.sha256} 不在文档库中或已损坏",
                        f"attachment {d.name or d.sha256} is not in the document store ({problem})",
                        kind="invalid",
                    )
                )
        if unmet:
            raise ActionRefused(action.trigger, case.state, unmet)

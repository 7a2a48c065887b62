"""Reading and appending case histories. One action = one transaction: the event, the case's
projection (state, attributes, version, head hash) are written together or not at all.

Optimistic concurrency: an append names the version it was computed from. If the case has moved
on, nothing is written and `ConflictError` names who changed it and when. On PostgreSQL the unique
``(case_id, seq)`` pair turns a race that slipped past the version check into the same conflict.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import Connection, LargeBinary, Text, bindparam, cast, exists, literal, select, true

from decisions.audit import GENESIS, Hasher, Head, canonical_bytes, canonical_text, chain_hash, hasher
from decisions.definitions import Definitions, Source
from decisions.errors import ActorChanged, ConflictError, DuplicateKeyError, UsageError, shown
from decisions.model import is_case_id
from decisions.store import lists
from decisions.store import tasks as task_rows
from decisions.store.database import Database
from decisions.store.documents import file_documents
from decisions.store.events import StoredEvent
from decisions.store.interface import CaseQuery, NewDocument, Store
from decisions.store.people import stored_person
from decisions.store.people_history import StoredPerson
from decisions.store.tables import (
    EVENT_COLUMNS,
    CaseRow,
    CheckpointRow,
    DefinitionSetRow,
    DefinitionSourceRow,
    DocumentRow,
    EventRow,
    UserRow,
)
from decisions.tasks import CaseTasks

__all__ = ["CaseHead", "Repository", "chained_event", "confirm_actor", "projected_columns", "sql_store"]

_CASES = CaseRow.__table__  # type: ignore[attr-defined]
_EVENTS = EventRow.__table__  # type: ignore[attr-defined]
_SOURCES = DefinitionSourceRow.__table__  # type: ignore[attr-defined]
_SETS = DefinitionSetRow.__table__  # type: ignore[attr-defined]
_DOCUMENTS = DocumentRow.__table__  # type: ignore[attr-defined]
_CHECKPOINTS = CheckpointRow.__table__  # type: ignore[attr-defined]
_INSERT_EVENT = _EVENTS.insert()
_INSERT_CASE = _CASES.insert()
_UPDATE_CASE = (
    _CASES.update()
    .where(
        _CASES.c.id == bindparam("b_id"),
        _CASES.c.version == bindparam("b_version"),
        _CASES.c.head_hash == bindparam("b_prev"),
    )
    .values(
        state=bindparam("state"),
        attributes=bindparam("attributes"),
        version=bindparam("version"),
        head_hash=bindparam("head_hash"),
        title=bindparam("title"),
        catalogue_item=bindparam("catalogue_item"),
    )
)
_USERS = UserRow.__table__  # type: ignore[attr-defined]
_PERSON = select(_USERS).where(_USERS.c.id == bindparam("name"))
# The case's update that also confirms the acting person (active, roles and unit as the action
# names them, in the form `People.add` stores), so that the usual action needs no statement of its own
# for it; when it matches nothing, the person's row is read to tell which changed.
_UPDATE_CASE_AS = _UPDATE_CASE.where(
    exists().where(
        _USERS.c.id == bindparam("a_name"),
        _USERS.c.roles == bindparam("a_roles"),
        _USERS.c.unit == bindparam("a_unit"),
        _USERS.c.active == true(),
    )
)


@dataclass(frozen=True)
class CaseHead:
    """The projection row of a case, as stored."""

    id: str
    workflow: str
    state: str
    attributes: str
    version: int
    head_hash: str
    definitions: str
    title: str
    catalogue_item: str | None = None


def projected_columns(attributes: Mapping[str, Any], columns: Mapping[str, str]) -> dict[str, Any]:
    """The case-row columns derived from a case's attributes: what an append writes and what
    verification expects to find. ``columns`` names the attribute that fills each generic column
    (the workflow's ``case:`` declaration, `CaseSpec.columns`); a column without one stays empty."""
    title = attributes.get(columns.get("title") or "")
    item = attributes.get(columns.get("catalogue_item") or "")
    return {
        "attributes": canonical_text(dict(attributes)),
        "title": str(title or "")[:512],
        "catalogue_item": None if item in (None, "") else str(item)[:64],
    }


def chained_event(hash_: Hasher, body: Mapping[str, Any], prev: str) -> StoredEvent:
    """The event that stores ``body`` after an event whose hash is ``prev``: its canonical bytes,
    the columns that repeat the body, and its chain hash. Every implementation appends these."""
    data = canonical_bytes(body)
    on, recorded = (canonical_text(body[k]).strip('"') for k in ("on", "recorded_at"))
    return StoredEvent(
        str(body["case"]),
        int(body["seq"]),
        str(body["trigger"]),
        str(body["actor"]),
        on,
        recorded,
        prev,
        chain_hash(hash_, prev, data),
        data.decode("utf-8"),
    )


def sql_store(db: Database) -> Store:
    """The storage of an initialised database: its repository, document bytes and people."""
    from decisions.store.credentials import Credentials
    from decisions.store.documents import DatabaseDocuments
    from decisions.store.people import People

    algorithm = db.ensure_ready()
    repository = Repository(db, algorithm)
    return Store(
        repository, DatabaseDocuments(db), People(db, repository.hash), algorithm, db.safe_url(), Credentials(db)
    )


def _chunks(values: Sequence[str], size: int = 500) -> Iterator[list[str]]:
    """``values`` in lists short enough for one ``IN (...)`` on every backend."""
    for i in range(0, len(values), size):
        yield list(values[i : i + size])


def _bindable(value: str) -> Any:
    """``value`` as a statement parameter. A key read from a column that was not valid UTF-8 (SQLite
    reads it with its bad bytes as lone surrogates, `decisions.store.database`) cannot be bound as text:
    it is bound as those bytes, cast to text, so that paging past such a row still works."""
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return cast(literal(value.encode("utf-8", "surrogateescape"), LargeBinary), Text)
    return value


def _head(row: Any) -> CaseHead:
    return CaseHead(
        row.id,
        row.workflow,
        row.state,
        row.attributes,
        row.version,
        row.head_hash,
        row.definitions,
        row.title,
        row.catalogue_item,
    )


def confirm_actor(actor: tuple[str, frozenset[str], str], person: StoredPerson | None) -> None:
    """``actor`` (name, roles, unit) is ``person`` as on record, active; else `ActorChanged`."""
    if person is None or not person.active or (frozenset(person.roles), person.unit) != actor[1:]:
        raise ActorChanged(actor[0])


class Repository:
    """Case histories in one database, chained with one hash algorithm."""

    def __init__(self, db: Database, algorithm: str) -> None:
        self.db = db
        self.algorithm = algorithm
        self.hash = hasher(algorithm)

    # -- definitions ----------------------------------------------------------------------------

    def save_definitions(self, definitions: Definitions) -> str:
        """Store every source text and the ordered set by content hash; returns the fingerprint."""
        fingerprint = definitions.fingerprint
        for attempt in range(2):
            try:
                with self.db.write() as conn:
                    if conn.execute(select(_SETS.c.fingerprint).where(_SETS.c.fingerprint == fingerprint)).first():
                        return fingerprint
                    for s in definitions.sources:
                        if not conn.execute(select(_SOURCES.c.sha256).where(_SOURCES.c.sha256 == s.sha256)).first():
                            conn.execute(
                                _SOURCES.insert().values(sha256=s.sha256, kind=s.kind, name=s.name, text=s.text)
                            )
                    manifest = json.dumps([[s.kind, s.name, s.sha256] for s in definitions.sources], ensure_ascii=False)
                    conn.execute(_SETS.insert().values(fingerprint=fingerprint, manifest=manifest))
                return fingerprint
            except DuplicateKeyError:
                # Another office process stored the same texts at the same moment (the keys are their
                # hashes, so the rows are the same): read again, and find them.
                if attempt:
                    raise
        raise AssertionError("unreachable")  # pragma: no cover

    def definition_sources(self, fingerprint: str) -> list[Source]:
        """The exact texts a definition set was made of, in order."""
        with self.db.read() as conn:
            manifest = conn.execute(select(_SETS.c.manifest).where(_SETS.c.fingerprint == fingerprint)).scalar()
            if manifest is None:
                raise UsageError(f"未知定义集 / unknown definition set {fingerprint}")
            out = []
            for kind, name, sha in json.loads(manifest):
                text = conn.execute(select(_SOURCES.c.text).where(_SOURCES.c.sha256 == sha)).scalar()
                if text is None:
                    raise UsageError(f"定义文件缺失 / definition source {sha} ({name}) is missing")
                out.append(Source(kind, name, text))
        return out

    # -- reading --------------------------------------------------------------------------------

    def head(self, case_id: str, conn: Connection | None = None) -> CaseHead | None:
        if conn is None:
            with self.db.read() as c:
                return self.head(case_id, c)
        if not is_case_id(case_id):  # no such case can exist; never hand the driver what it cannot encode
            return None
        row = conn.execute(select(_CASES).where(_CASES.c.id == case_id)).first()
        return None if row is None else _head(row)

    def load(self, case_id: str) -> tuple[CaseHead, list[StoredEvent]]:
        """A case's projection and its events, read in one transaction."""
        with self.db.read() as conn:
            head = self.head(case_id, conn)
            if head is None:
                raise UsageError(f"未知决策事项 / unknown case {shown(case_id)}")
            rows = conn.execute(select(*EVENT_COLUMNS).where(_EVENTS.c.case_id == case_id).order_by(_EVENTS.c.seq))
            return head, [StoredEvent(*r) for r in rows]

    def load_many(self, case_ids: Sequence[str]) -> dict[str, tuple[CaseHead, list[StoredEvent]]]:
        """The projections and events of ``case_ids`` (those that exist), in one read transaction."""
        wanted = sorted({c for c in case_ids if is_case_id(c)})
        out: dict[str, tuple[CaseHead, list[StoredEvent]]] = {}
        with self.db.read() as conn:
            for chunk in _chunks(wanted):
                for r in conn.execute(select(_CASES).where(_CASES.c.id.in_(chunk))):
                    out[r.id] = (_head(r), [])
                query = (
                    select(*EVENT_COLUMNS)
                    .where(_EVENTS.c.case_id.in_(chunk))
                    .order_by(_EVENTS.c.case_id, _EVENTS.c.seq)
                )
                for e in conn.execute(query):
                    if e.case_id in out:
                        out[e.case_id][1].append(StoredEvent(*e))
        return out

    def decided_catalogue_items(self, items: list[str], states: list[str]) -> set[str]:
        """Which of ``items`` some decision in one of ``states`` implements (indexed lookup)."""
        if not items:
            return set()
        with self.db.read() as conn:
            query = select(_CASES.c.catalogue_item).where(
                _CASES.c.catalogue_item.in_(items), _CASES.c.state.in_(states)
            )
            return {str(r[0]) for r in conn.execute(query)}

    def cases(self, workflow: str | None = None) -> list[CaseHead]:
        with self.db.read() as conn:
            query = select(_CASES).order_by(_CASES.c.id)
            if workflow is not None:
                query = query.where(_CASES.c.workflow == workflow)
            return [_head(r) for r in conn.execute(query)]

    def iter_events(self, case_id: str | None = None, batch: int = 2000, after_seq: int = 0) -> Iterator[StoredEvent]:
        """Every event in (case, seq) order, streamed in batches: memory does not grow with history.
        With ``case_id``, only that case's events after ``after_seq``."""
        if case_id is not None and not is_case_id(case_id):
            return
        last: tuple[str, int] = ("", after_seq)
        while True:
            with self.db.read() as conn:
                rows = _events_page(conn, case_id, last, batch)
            yield from rows
            if len(rows) < batch:
                return
            last = (rows[-1].case_id, rows[-1].seq)

    def event_batches(
        self, case_id: str | None = None, batch: int = 2000, after_seq: int = 0
    ) -> Iterator[tuple[list[StoredEvent], dict[str, CaseHead]]]:
        """The events of `iter_events`, in batches of ``batch``, each with the projection rows of the
        cases it holds, both read in one transaction (one snapshot) per batch: what verification walks.
        Keyset pagination on (case, seq): memory is one batch, whatever the length of the history."""
        if case_id is not None and not is_case_id(case_id):
            return
        last: tuple[str, int] = ("", after_seq)
        while True:
            with self.db.read() as conn:
                rows = _events_page(conn, case_id, last, batch)
                ids = sorted({e.case_id for e in rows if is_case_id(e.case_id)})
                heads = {
                    r.id: _head(r)
                    for chunk in _chunks(ids)
                    for r in conn.execute(select(_CASES).where(_CASES.c.id.in_(chunk)))
                }
            if rows:
                yield rows, heads
            if len(rows) < batch:
                return
            last = (rows[-1].case_id, rows[-1].seq)

    def heads_for(self, case_ids: Sequence[str]) -> dict[str, CaseHead]:
        """The projection rows of ``case_ids``, in one query."""
        if not case_ids:
            return {}
        with self.db.read() as conn:
            return {r.id: _head(r) for r in conn.execute(select(_CASES).where(_CASES.c.id.in_(list(case_ids))))}

    def cases_without_events(self, case_id: str | None = None) -> list[str]:
        """The ids of case rows that have no event at all (every case is created with its first event,
        in one transaction, so in one snapshot this is empty unless rows were tampered with)."""
        query = select(_CASES.c.id).where(~exists().where(_EVENTS.c.case_id == _CASES.c.id)).order_by(_CASES.c.id)
        if case_id is not None:
            if not is_case_id(case_id):
                return []
            query = query.where(_CASES.c.id == case_id)
        with self.db.read() as conn:
            return [str(r.id) for r in conn.execute(query)]

    def iter_heads(self, batch: int = 5000) -> Iterator[CaseHead]:
        """Every case projection in id order, streamed."""
        last = ""
        while True:
            with self.db.read() as conn:
                rows = [
                    _head(r)
                    for r in conn.execute(
                        select(_CASES).where(_CASES.c.id > _bindable(last)).order_by(_CASES.c.id).limit(batch)
                    )
                ]
            yield from rows
            if len(rows) < batch:
                return
            last = rows[-1].id

    def chain_heads(self) -> list[Head]:
        """The last event of every chain, from the events themselves (not the projection)."""
        heads: dict[str, Head] = {}
        for e in self.iter_events():
            heads[e.case_id] = Head(e.case_id, e.seq, e.hash)
        return list(heads.values())

    def document_size(self, sha256: str) -> int | None:
        """The size recorded for a stored document, or None when it has no row."""
        with self.db.read() as conn:
            value = conn.execute(select(_DOCUMENTS.c.size).where(_DOCUMENTS.c.sha256 == sha256)).scalar()
        return None if value is None else int(value)

    def document_sizes(self, sha256s: Sequence[str]) -> dict[str, int]:
        """The recorded size of each of ``sha256s`` that has a row, in one transaction (absent: no row)."""
        wanted = sorted(set(sha256s))
        if not wanted:
            return {}
        with self.db.read() as conn:
            return {
                str(sha): int(size)
                for chunk in _chunks(wanted)
                for sha, size in conn.execute(
                    select(_DOCUMENTS.c.sha256, _DOCUMENTS.c.size).where(_DOCUMENTS.c.sha256.in_(chunk))
                )
            }

    def iter_documents(self, batch: int = 5000) -> Iterator[tuple[str, int]]:
        """Every document row as stored, (digest column, size), in digest order: one transaction per
        batch (keyset pagination), so memory does not grow with the number of documents."""
        last: str | None = None
        while True:
            with self.db.read() as conn:
                query = select(_DOCUMENTS.c.sha256, _DOCUMENTS.c.size).order_by(_DOCUMENTS.c.sha256).limit(batch)
                if last is not None:
                    query = query.where(_DOCUMENTS.c.sha256 > _bindable(last))
                rows = [(str(sha), int(size)) for sha, size in conn.execute(query)]
            yield from rows
            if len(rows) < batch:
                return
            last = rows[-1][0]

    def document_digests(self) -> list[str]:
        """The digest column of every document row (as stored: it may have been tampered with)."""
        with self.db.read() as conn:
            return [str(sha) for (sha,) in conn.execute(select(_DOCUMENTS.c.sha256))]

    def save_checkpoint(self, created_at: str, root: str, body: str) -> None:
        """Keep a published checkpoint (rows are only ever added)."""
        with self.db.write() as conn:
            conn.execute(_CHECKPOINTS.insert().values(created_at=created_at, root=root, body=body))

    def checkpoints(self) -> list[str]:
        """The bodies of the saved checkpoints, newest first."""
        with self.db.read() as conn:
            return [str(b) for (b,) in conn.execute(select(_CHECKPOINTS.c.body).order_by(_CHECKPOINTS.c.id.desc()))]

    def definition_sets(self) -> list[tuple[str, list[tuple[str, str, str]]]]:
        """Every stored definition set: (fingerprint, [(kind, name, sha256), ...])."""
        with self.db.read() as conn:
            return [
                (fp, [tuple(x) for x in json.loads(m)])
                for fp, m in conn.execute(select(_SETS.c.fingerprint, _SETS.c.manifest))
            ]

    def definition_texts(self) -> Iterator[tuple[str, str, str]]:
        """Every stored definition source: (sha256 column, name, text)."""
        with self.db.read() as conn:
            rows = conn.execute(select(_SOURCES.c.sha256, _SOURCES.c.name, _SOURCES.c.text)).all()
        for sha, name, text in rows:
            yield str(sha), str(name), str(text)

    def definition_source_rows(self) -> Iterator[tuple[str, str, str, str]]:
        """Every stored definition source as stored, unparsed: (sha256, kind, name, text), by key."""
        with self.db.read() as conn:
            rows = conn.execute(
                select(_SOURCES.c.sha256, _SOURCES.c.kind, _SOURCES.c.name, _SOURCES.c.text).order_by(_SOURCES.c.sha256)
            ).all()
        for sha, kind, name, text_ in rows:
            yield str(sha), str(kind), str(name), str(text_)

    def definition_set_rows(self) -> Iterator[tuple[str, str]]:
        """Every stored definition set as stored, unparsed: (fingerprint, manifest text), by key."""
        with self.db.read() as conn:
            rows = conn.execute(select(_SETS.c.fingerprint, _SETS.c.manifest).order_by(_SETS.c.fingerprint)).all()
        for fingerprint, manifest in rows:
            yield str(fingerprint), str(manifest)

    def checkpoint_rows(self) -> Iterator[tuple[str, str, str]]:
        """Every stored checkpoint as stored, newest first: (created_at, root, body), one at a time."""
        last: int | None = None
        while True:
            with self.db.read() as conn:
                query = select(_CHECKPOINTS.c.id, _CHECKPOINTS.c.created_at, _CHECKPOINTS.c.root, _CHECKPOINTS.c.body)
                if last is not None:
                    query = query.where(_CHECKPOINTS.c.id < last)
                rows = conn.execute(query.order_by(_CHECKPOINTS.c.id.desc()).limit(100)).all()
            for row in rows:
                yield str(row.created_at), str(row.root), str(row.body)
            if len(rows) < 100:
                return
            last = int(rows[-1].id)

    def cases_using(self, fingerprint: str) -> list[str]:
        with self.db.read() as conn:
            return [str(r[0]) for r in conn.execute(select(_CASES.c.id).where(_CASES.c.definitions == fingerprint))]

    def hash_at(self, case_id: str, seq: int) -> str | None:
        if not is_case_id(case_id):
            return None
        with self.db.read() as conn:
            value = conn.execute(
                select(_EVENTS.c.hash).where(_EVENTS.c.case_id == case_id, _EVENTS.c.seq == seq)
            ).scalar()
        return None if value is None else str(value)

    # -- appending ------------------------------------------------------------------------------

    def append(
        self,
        *,
        case_id: str,
        expected_version: int,
        body: Mapping[str, Any],
        projection: Mapping[str, Any],
        prev_hash: str | None = None,
        documents: Sequence[NewDocument] = (),
        actor: tuple[str, frozenset[str], str] | None = None,
    ) -> StoredEvent:
        """Append one event and update the projection, in one transaction, with the bytes of the
        ``documents`` the action brings that are not stored yet (`file_documents`). ``expected_version`` 0
        creates the case. ``prev_hash`` is the head hash the caller's snapshot ended with (read
        inside the transaction when not given). Raises `ConflictError`, writing nothing, if the case
        moved on: the projection is updated only where version *and* head hash are still the ones
        the event was computed from, and the unique (case, seq) pair stops a second writer. With
        ``actor`` (name, roles, unit), raises `ActorChanged`, writing nothing, unless that person is
        on record, active, with exactly those roles and unit (read in the same transaction)."""
        seq = expected_version + 1
        if body["seq"] != seq or body["case"] != case_id:
            raise ValueError("event body does not match the append")  # a programming error, not user input
        values = {
            "state": projection["state"],
            "version": seq,
            **projected_columns(projection["attributes"], projection["columns"]),
        }
        try:
            with self.db.write() as conn:
                if actor is not None and expected_version == 0:
                    self._confirm(conn, actor)
                if expected_version == 0:
                    prev = GENESIS
                elif prev_hash is None:
                    head = self.head(case_id, conn)
                    if head is None or head.version != expected_version:
                        raise self.conflict(case_id, expected_version, 0 if head is None else head.version, conn)
                    prev = head.head_hash
                else:
                    prev = prev_hash
                event = chained_event(self.hash, body, prev)
                digest = event.hash
                if expected_version == 0:
                    conn.execute(
                        _INSERT_CASE,
                        {
                            "id": case_id,
                            "workflow": body["workflow"],
                            "definitions": body["definitions"],
                            "head_hash": digest,
                            **values,
                        },
                    )
                else:
                    where = {"b_id": case_id, "b_version": expected_version, "b_prev": prev, "head_hash": digest}
                    if actor is None:
                        done = conn.execute(_UPDATE_CASE, {**where, **values}).rowcount
                    else:
                        person = {"a_name": actor[0], "a_roles": ",".join(sorted(actor[1])), "a_unit": actor[2]}
                        done = conn.execute(_UPDATE_CASE_AS, {**where, **values, **person}).rowcount
                        if done != 1:  # the case moved on, or the person changed (or is stored otherwise)
                            self._confirm(conn, actor)
                            done = conn.execute(_UPDATE_CASE, {**where, **values}).rowcount
                    if done != 1:
                        raise self.conflict(case_id, expected_version, expected_version + 1, conn)
                conn.execute(_INSERT_EVENT, event.__dict__)
                if "tasks" in projection:  # the inbox's rows of the case, in the same transaction
                    task_rows.write_case_tasks(conn, case_id, projection["tasks"])
                if documents:
                    file_documents(conn, documents)
        except DuplicateKeyError as exc:  # a concurrent writer took this case id or (case, seq) first
            raise self.conflict(case_id, expected_version, expected_version + 1) from exc
        return event

    # -- the inbox table --------------------------------------------------------------------------

    def inbox_tasks(
        self, roles: Sequence[str], workflows: Sequence[str], today: date, limit: int
    ) -> tuple[str | None, list[CaseTasks]]:
        """The definitions that derived the inbox table, and its page for ``roles`` over
        ``workflows`` (one read transaction; `decisions.store.tasks.inbox_page`)."""
        with self.db.read() as conn:
            return task_rows.derived_by(conn), task_rows.inbox_page(conn, roles, workflows, today, limit)

    def tasks_differing(self, expected: Mapping[str, CaseTasks | None]) -> set[str]:
        """Which cases of ``expected`` have other rows in the inbox table than it gives."""
        ids = sorted(expected)
        with self.db.read() as conn:
            return {c for chunk in _chunks(ids) for c in task_rows.differing(conn, {i: expected[i] for i in chunk})}

    def tasks_derived_by(self) -> str | None:
        with self.db.read() as conn:
            return task_rows.derived_by(conn)

    def tasks_without_case(self) -> list[str]:
        """Case ids with task rows but no case row or no history."""
        with self.db.read() as conn:
            return task_rows.rows_without_case(conn, _CASES, _EVENTS)

    def rebuild_tasks(
        self, fingerprint: str, derive: Callable[[CaseHead, list[StoredEvent]], CaseTasks | None]
    ) -> None:
        """Derive every case's tasks again (``derive``), in one write transaction that reads every
        case: the table is whole when it commits, and names ``fingerprint`` as what derived it."""
        with self.db.write() as conn:
            task_rows.rebuild(conn, fingerprint, _cases_with_events(conn), derive)

    # -- the lists (`decisions.store.lists`) -----------------------------------------------------

    def acted_in(self, person: str, limit: int, offset: int) -> tuple[int, list[tuple[CaseHead, StoredEvent]]]:
        """已办: how many cases ``person`` acted in and a page of them, each with their last event there."""
        with self.db.read() as conn:
            total, rows = lists.acted_in(conn, person, limit, offset)
        return total, [(_head(r), e) for r, e in rows]

    def search_cases(self, query: CaseQuery) -> tuple[int, list[tuple[CaseHead, CaseTasks | None]]]:
        """The cases that meet ``query``: how many, and its page, with their inbox-table rows."""
        with self.db.read() as conn:
            total, rows = lists.search_cases(conn, query)
        return total, [(_head(r), t) for r, t in rows]

    def implementing(self, items: Sequence[str], workflows: Sequence[str]) -> list[CaseHead]:
        """The cases of ``workflows`` implementing one of the catalogue ``items``, by item, then id."""
        with self.db.read() as conn:
            return [_head(r) for r in lists.implementing(conn, items, workflows)]

    @staticmethod
    def _confirm(conn: Connection, actor: tuple[str, frozenset[str], str]) -> None:
        row = conn.execute(_PERSON, {"name": actor[0]}).first()
        confirm_actor(actor, None if row is None else stored_person(row))

    def conflict(self, case_id: str, expected: int, actual: int, conn: Connection | None = None) -> ConflictError:
        """The conflict of a writer that expected ``expected`` while the case is at ``actual``, naming
        who recorded event ``actual`` and when it was recorded (empty when it is not there)."""
        if conn is None:
            with self.db.read() as c:
                return self.conflict(case_id, expected, actual, c)
        last = conn.execute(
            select(_EVENTS.c.actor, _EVENTS.c.recorded_at).where(_EVENTS.c.case_id == case_id, _EVENTS.c.seq == actual)
        ).first()
        return ConflictError(case_id, expected, actual, *(last or ("", "")))


def _cases_with_events(conn: Connection, batch: int = 500) -> Iterator[tuple[CaseHead, list[StoredEvent]]]:
    """Every case row with its events, in id order, ``batch`` cases at a time, in ``conn``."""
    last = ""
    while True:
        heads = [
            _head(r) for r in conn.execute(select(_CASES).where(_CASES.c.id > last).order_by(_CASES.c.id).limit(batch))
        ]
        if not heads:
            return
        events: dict[str, list[StoredEvent]] = {h.id: [] for h in heads}
        query = (
            select(*EVENT_COLUMNS).where(_EVENTS.c.case_id.in_(list(events))).order_by(_EVENTS.c.case_id, _EVENTS.c.seq)
        )
        for r in conn.execute(query):
            events[r.case_id].append(StoredEvent(*r))
        for h in heads:
            yield h, events[h.id]
        last = heads[-1].id


def _events_page(conn: Connection, case_id: str | None, last: tuple[str, int], batch: int) -> list[StoredEvent]:
    """The next ``batch`` events after ``last`` (case, seq) in (case, seq) order: keyset pagination,
    over one case's events when ``case_id`` is given."""
    query = select(*EVENT_COLUMNS).order_by(_EVENTS.c.case_id, _EVENTS.c.seq).limit(batch)
    if case_id is not None:
        query = query.where(_EVENTS.c.case_id == case_id, _EVENTS.c.seq > last[1])
    else:
        after = _bindable(last[0])
        query = query.where((_EVENTS.c.case_id > after) | ((_EVENTS.c.case_id == after) & (_EVENTS.c.seq > last[1])))
    return [StoredEvent(*r) for r in conn.execute(query)]

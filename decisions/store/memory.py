"""An in-memory store with the same contract as the SQL one: for service-layer tests where a
database adds nothing, and for scripts that want a scratch office. Nothing survives the process.

Every method keeps the SQL store's meaning (`tests/test_store_contract.py` runs on both): the same
chain hashes and projection columns, the same conflicts, the same errors for unknown cases and
definition sets. One lock makes each call atomic, as one transaction is in the database.
"""

from __future__ import annotations

import hashlib
import json
import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date
from typing import Any

from decisions.audit import GENESIS, Hasher, Head, hasher, is_digest
from decisions.definitions import Definitions, Source
from decisions.errors import ConflictError, DuplicateKeyError, IntegrityError, UsageError, shown
from decisions.model import is_case_id
from decisions.store.documents import OCTET_STREAM, check_document_size
from decisions.store.events import StoredEvent
from decisions.store.interface import CaseQuery, NewDocument, Store
from decisions.store.people_history import (
    PeopleEntry,
    PeopleRows,
    StoredDelegation,
    StoredPerson,
    chained_entry,
)
from decisions.store.repository import CaseHead, chained_event, confirm_actor, projected_columns
from decisions.tasks import CaseTasks, TaskEntry

__all__ = ["MemoryCredentials", "MemoryDocuments", "MemoryPeople", "MemoryRepository", "memory_store"]


@dataclass
class _Case:
    head: CaseHead
    events: list[StoredEvent]


class MemoryRepository:
    """Case histories in a dictionary."""

    def __init__(self, algorithm: str = "sha256") -> None:
        self.algorithm = algorithm
        self.hash = hasher(algorithm)
        self.people: MemoryPeople | None = None  # set by `memory_store`: whom an append confirms
        self._lock = threading.Lock()
        self._cases: dict[str, _Case] = {}
        self._sources: dict[str, Source] = {}
        self._sets: dict[str, str] = {}  # fingerprint -> manifest (JSON text, as the SQL store keeps it)
        self._documents: dict[str, int] = {}  # the rows: digest -> size
        self._bytes: dict[str, bytes] = {}  # their bytes, written with the row (`MemoryDocuments` reads them)
        self._media: dict[str, str] = {}
        self._checkpoints: list[tuple[str, str, str]] = []
        self._tasks: dict[str, CaseTasks] = {}  # the inbox table: a case's tasks, by case id
        self._tasks_derived: str | None = None

    # -- definitions ----------------------------------------------------------------------------

    def save_definitions(self, definitions: Definitions) -> str:
        fingerprint = definitions.fingerprint
        with self._lock:
            if fingerprint not in self._sets:
                for s in definitions.sources:
                    self._sources.setdefault(s.sha256, s)
                self._sets[fingerprint] = json.dumps(
                    [[s.kind, s.name, s.sha256] for s in definitions.sources], ensure_ascii=False
                )
        return fingerprint

    def definition_sources(self, fingerprint: str) -> list[Source]:
        with self._lock:
            manifest = self._sets.get(fingerprint)
            if manifest is None:
                raise UsageError(f"未知定义集 / unknown definition set {fingerprint}")
            out = []
            for kind, name, sha in json.loads(manifest):
                source = self._sources.get(sha)
                if source is None:
                    raise UsageError(f"定义文件缺失 / definition source {sha} ({name}) is missing")
                out.append(Source(kind, name, source.text))
        return out

    def definition_sets(self) -> list[tuple[str, list[tuple[str, str, str]]]]:
        with self._lock:
            return [(fp, [(k, n, s) for k, n, s in json.loads(m)]) for fp, m in self._sets.items()]

    def definition_texts(self) -> Iterator[tuple[str, str, str]]:
        with self._lock:
            rows = [(sha, s.name, s.text) for sha, s in self._sources.items()]
        yield from rows

    def definition_source_rows(self) -> Iterator[tuple[str, str, str, str]]:
        with self._lock:
            rows = sorted((sha, s.kind, s.name, s.text) for sha, s in self._sources.items())
        yield from rows

    def definition_set_rows(self) -> Iterator[tuple[str, str]]:
        with self._lock:
            rows = sorted(self._sets.items())
        yield from rows

    def checkpoint_rows(self) -> Iterator[tuple[str, str, str]]:
        with self._lock:
            rows = list(reversed(self._checkpoints))
        yield from rows

    def cases_using(self, fingerprint: str) -> list[str]:
        with self._lock:
            return sorted(cid for cid, c in self._cases.items() if c.head.definitions == fingerprint)

    # -- reading --------------------------------------------------------------------------------

    def head(self, case_id: str) -> CaseHead | None:
        if not is_case_id(case_id):
            return None
        with self._lock:
            found = self._cases.get(case_id)
        return None if found is None else found.head

    def load(self, case_id: str) -> tuple[CaseHead, list[StoredEvent]]:
        with self._lock:
            found = self._cases.get(case_id) if is_case_id(case_id) else None
            if found is None:
                raise UsageError(f"未知决策事项 / unknown case {shown(case_id)}")
            return found.head, list(found.events)

    def _heads(self) -> list[CaseHead]:
        with self._lock:
            return [self._cases[cid].head for cid in sorted(self._cases)]

    def cases(self, workflow: str | None = None) -> list[CaseHead]:
        return [h for h in self._heads() if workflow is None or h.workflow == workflow]

    def load_many(self, case_ids: Sequence[str]) -> dict[str, tuple[CaseHead, list[StoredEvent]]]:
        with self._lock:
            return {c: (self._cases[c].head, list(self._cases[c].events)) for c in case_ids if c in self._cases}

    def decided_catalogue_items(self, items: list[str], states: list[str]) -> set[str]:
        return {
            str(h.catalogue_item)
            for h in self._heads()
            if h.catalogue_item is not None and h.catalogue_item in items and h.state in states
        }

    def iter_events(self, case_id: str | None = None, batch: int = 2000, after_seq: int = 0) -> Iterator[StoredEvent]:
        if case_id is not None:
            if not is_case_id(case_id):
                return
            with self._lock:
                found = self._cases.get(case_id)
                events = [] if found is None else [e for e in found.events if e.seq > after_seq]
            yield from events
            return
        with self._lock:
            ids = sorted(self._cases)
        for cid in ids:
            with self._lock:
                found = self._cases.get(cid)
                events = [] if found is None else list(found.events)
            yield from events

    def heads_for(self, case_ids: Sequence[str]) -> dict[str, CaseHead]:
        with self._lock:
            return {cid: self._cases[cid].head for cid in case_ids if cid in self._cases}

    def event_batches(
        self, case_id: str | None = None, batch: int = 2000, after_seq: int = 0
    ) -> Iterator[tuple[list[StoredEvent], dict[str, CaseHead]]]:
        pending: list[StoredEvent] = []
        for e in self.iter_events(case_id, batch, after_seq):
            pending.append(e)
            if len(pending) >= batch:
                yield pending, self.heads_for(sorted({p.case_id for p in pending}))
                pending = []
        if pending:
            yield pending, self.heads_for(sorted({p.case_id for p in pending}))

    def iter_heads(self, batch: int = 5000) -> Iterator[CaseHead]:
        yield from self._heads()

    def cases_without_events(self, case_id: str | None = None) -> list[str]:
        with self._lock:
            return sorted(cid for cid, c in self._cases.items() if not c.events and (case_id is None or cid == case_id))

    def chain_heads(self) -> list[Head]:
        with self._lock:
            return [
                Head(cid, c.events[-1].seq, c.events[-1].hash) for cid, c in sorted(self._cases.items()) if c.events
            ]

    def hash_at(self, case_id: str, seq: int) -> str | None:
        with self._lock:
            found = self._cases.get(case_id)
            if found is None or not 1 <= seq <= len(found.events):
                return None
            return found.events[seq - 1].hash

    def document_size(self, sha256: str) -> int | None:
        with self._lock:
            return self._documents.get(sha256)

    def document_digests(self) -> list[str]:
        with self._lock:
            return list(self._documents)

    def document_sizes(self, sha256s: Sequence[str]) -> dict[str, int]:
        with self._lock:
            return {sha: self._documents[sha] for sha in set(sha256s) if sha in self._documents}

    def iter_documents(self, batch: int = 5000) -> Iterator[tuple[str, int]]:
        with self._lock:
            rows = sorted(self._documents.items())
        yield from rows

    def _file(self, documents: Sequence[NewDocument]) -> None:
        """Store each new document's row and bytes (the caller holds the lock)."""
        for d in documents:
            if d.sha256 not in self._documents:
                self._documents[d.sha256] = len(d.data)
                self._bytes[d.sha256] = bytes(d.data)
                self._media[d.sha256] = d.media_type[:128]

    def save_checkpoint(self, created_at: str, root: str, body: str) -> None:
        with self._lock:
            self._checkpoints.append((created_at, root, body))

    def checkpoints(self) -> list[str]:
        with self._lock:
            return [body for _, _, body in reversed(self._checkpoints)]

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
        seq = expected_version + 1
        if body["seq"] != seq or body["case"] != case_id:
            raise ValueError("event body does not match the append")  # a programming error, not user input
        if actor is not None:
            confirm_actor(actor, None if self.people is None else self.people.get(actor[0]))
        with self._lock:
            found = self._cases.get(case_id)
            if expected_version == 0:
                if found is not None:  # as the SQL store: the unique case id refuses the second creator
                    raise self._conflict(case_id, 0, 1)
                prev = GENESIS
            else:
                if found is None or found.head.version != expected_version:
                    raise self._conflict(case_id, expected_version, 0 if found is None else found.head.version)
                prev = found.head.head_hash if prev_hash is None else prev_hash
                if prev != found.head.head_hash:
                    raise self._conflict(case_id, expected_version, expected_version + 1)
            event = chained_event(self.hash, body, prev)
            columns = projected_columns(projection["attributes"], projection["columns"])
            head = CaseHead(
                case_id,
                str(body["workflow"]),
                str(projection["state"]),
                columns["attributes"],
                seq,
                event.hash,
                str(body["definitions"]),
                columns["title"],
                columns["catalogue_item"],
            )
            if found is None:
                self._cases[case_id] = _Case(head, [event])
            else:
                found.head = replace(head, workflow=found.head.workflow, definitions=found.head.definitions)
                found.events.append(event)
            self._file(documents)
            if "tasks" in projection:
                self._set_tasks(case_id, projection["tasks"])
        return event

    def _set_tasks(self, case_id: str, tasks: CaseTasks | None) -> None:
        if tasks is None or not tasks.entries:
            self._tasks.pop(case_id, None)
        else:
            self._tasks[case_id] = tasks

    # -- the inbox table (the SQL store's meaning: `decisions.store.tasks.inbox_page`) ----------

    def inbox_tasks(
        self, roles: Sequence[str], workflows: Sequence[str], today: date, limit: int
    ) -> tuple[str | None, list[CaseTasks]]:
        wanted, day = set(roles), today.isoformat()
        with self._lock:
            found = []
            for t in self._tasks.values():
                mine = tuple(sorted((e for e in t.entries if e.role in wanted), key=lambda e: e.role))
                acting = [e for e in mine if e.acts]
                if acting and t.workflow in workflows:
                    found.append((min(_urgency(e, day, t) for e in acting), replace(t, entries=mine)))
            derived = self._tasks_derived
        found.sort(key=lambda kt: kt[0])
        per: dict[str, int] = {}
        page = []
        for _, t in found:
            per[t.workflow] = per.get(t.workflow, 0) + 1
            if per[t.workflow] <= limit:
                page.append(t)
        return derived, page

    def tasks_differing(self, expected: Mapping[str, CaseTasks | None]) -> set[str]:
        with self._lock:
            return {
                c for c, t in expected.items() if self._tasks.get(c) != (t if t is not None and t.entries else None)
            }

    def tasks_derived_by(self) -> str | None:
        with self._lock:
            return self._tasks_derived

    def tasks_without_case(self) -> list[str]:
        with self._lock:
            return sorted(c for c in self._tasks if c not in self._cases or not self._cases[c].events)

    def rebuild_tasks(
        self, fingerprint: str, derive: Callable[[CaseHead, list[StoredEvent]], CaseTasks | None]
    ) -> None:
        with self._lock:
            cases = [(c.head, list(c.events)) for _, c in sorted(self._cases.items())]
        derived = {head.id: derive(head, events) for head, events in cases}
        with self._lock:
            self._tasks = {}
            for case_id, tasks in derived.items():
                self._set_tasks(case_id, tasks)
            self._tasks_derived = fingerprint

    # -- the lists (the SQL store's meaning: `decisions.store.lists`) ---------------------------

    def acted_in(self, person: str, limit: int, offset: int) -> tuple[int, list[tuple[CaseHead, StoredEvent]]]:
        with self._lock:
            found = [
                (c.head, [e for e in c.events if e.actor == person][-1])
                for c in self._cases.values()
                if any(e.actor == person for e in c.events)
            ]
        found.sort(key=lambda he: he[0].id)
        found.sort(key=lambda he: (he[1].happened_on, he[1].recorded_at), reverse=True)
        return len(found), found[offset : offset + limit]

    def search_cases(self, query: CaseQuery) -> tuple[int, list[tuple[CaseHead, CaseTasks | None]]]:
        with self._lock:
            cases = [(c.head, list(c.events), self._tasks.get(c.head.id)) for c in self._cases.values()]
        found = [(h, events, t) for h, events, t in cases if _matches(query, h, events, t)]
        found.sort(key=lambda x: x[0].id, reverse=True)
        found.sort(key=lambda x: (x[1][0].happened_on, x[1][0].recorded_at) if x[1] else ("", ""), reverse=True)
        return len(found), [(h, t) for h, _, t in found[query.offset : query.offset + query.limit]]

    def implementing(self, items: Sequence[str], workflows: Sequence[str]) -> list[CaseHead]:
        found = [h for h in self._heads() if h.catalogue_item in items and h.workflow in workflows]
        return sorted(found, key=lambda h: (str(h.catalogue_item), h.id))

    def conflict(self, case_id: str, expected: int, actual: int) -> ConflictError:
        with self._lock:
            return self._conflict(case_id, expected, actual)

    def _conflict(self, case_id: str, expected: int, actual: int) -> ConflictError:
        found = self._cases.get(case_id)
        last = found.events[actual - 1] if found is not None and 1 <= actual <= len(found.events) else None
        return ConflictError(case_id, expected, actual, *((last.actor, last.recorded_at) if last else ("", "")))


class MemoryDocuments:
    """Document bytes kept with the rows of a `MemoryRepository`, checked against their SHA-256 on
    every read (a fresh repository of its own when none is given)."""

    def __init__(self, repository: MemoryRepository | None = None) -> None:
        self._repository = repository or MemoryRepository()

    def put(self, data: bytes, media_type: str = OCTET_STREAM) -> str:
        check_document_size(data)
        digest = hashlib.sha256(data).hexdigest()
        with self._repository._lock:
            self._repository._file([NewDocument(digest, data, media_type)])
        return digest

    def _stored(self, sha256: str) -> bytes | None:
        if not is_digest(sha256):
            raise UsageError(f"不是有效的 SHA-256 / not a SHA-256 digest: {shown(sha256)}")
        with self._repository._lock:
            return self._repository._bytes.get(sha256)

    def get(self, sha256: str) -> bytes:
        data = self._stored(sha256)
        if data is None:
            raise IntegrityError(f"文档缺失 / document {sha256} is missing from memory")
        if hashlib.sha256(data).hexdigest() != sha256:
            raise IntegrityError(f"文档内容与其哈希不符 / document {sha256}: its bytes no longer match the hash")
        return data

    def stream(self, sha256: str) -> Iterator[bytes]:
        yield self.get(sha256)

    def media_type(self, sha256: str) -> str | None:
        if not is_digest(sha256):
            raise UsageError(f"不是有效的 SHA-256 / not a SHA-256 digest: {shown(sha256)}")
        with self._repository._lock:
            return self._repository._media.get(sha256)

    def media_types(self, sha256s: Sequence[str]) -> dict[str, str]:
        with self._repository._lock:
            return {s: self._repository._media[s] for s in sha256s if s in self._repository._media}

    def check(self, sha256: str) -> str | None:
        data = self._stored(sha256)
        if data is None:
            return "missing"
        return None if hashlib.sha256(data).hexdigest() == sha256 else "bytes do not match the hash"

    def inspect(self, sha256: str) -> tuple[str | None, int | None]:
        data = self._stored(sha256)
        if data is None:
            return "missing", None
        return (None if hashlib.sha256(data).hexdigest() == sha256 else "bytes do not match the hash"), len(data)

    def inspect_many(self, sha256s: Sequence[str]) -> dict[str, tuple[str | None, int | None]]:
        return {sha: self.inspect(sha) for sha in sha256s}

    def size(self, sha256: str) -> int:
        data = self._stored(sha256)
        if data is None:
            raise IntegrityError(f"文档缺失 / document {sha256} is missing from memory")
        return len(data)


class MemoryPeople:
    """People in dictionaries: the same chained history and projection as `decisions.store.people`."""

    def __init__(self, hash_: Hasher, credentials: MemoryCredentials | None = None) -> None:
        self.hash = hash_
        self.credentials = credentials if credentials is not None else MemoryCredentials()
        self._entries: list[PeopleEntry] = []
        self._people: dict[str, StoredPerson] = {}
        self._units: dict[str, str] = {}
        self._delegations: dict[int, StoredDelegation] = {}
        self._lock = threading.Lock()

    def record(self, body: Mapping[str, Any], rows: PeopleRows, *, first: bool = False) -> PeopleEntry:
        with self._lock:
            if first and self._entries:
                raise DuplicateKeyError("the people history is not empty")
            if rows.new_person and any(p.id in self._people for p in rows.people):
                raise DuplicateKeyError("the person's id is taken")
            if any(u in self._units for u in rows.units):
                raise DuplicateKeyError("the unit exists")
            last = self._entries[-1] if self._entries else None
            seq, prev = (1, GENESIS) if last is None else (last.seq + 1, last.hash)
            entry = chained_entry(self.hash, {**body, "seq": seq}, prev)
            self._entries.append(entry)
            for person in rows.people:
                self._people[person.id] = person
            for unit in rows.units:
                self._units[unit] = entry.at
            for d in rows.delegations:
                self._delegations[d.seq or seq] = replace(d, seq=d.seq or seq)
            if rows.credential is not None:
                self.credentials.write(*rows.credential)
        return entry

    def all(self) -> list[StoredPerson]:
        with self._lock:
            return [self._people[n] for n in sorted(self._people)]

    def get(self, person_id: str) -> StoredPerson | None:
        with self._lock:
            return self._people.get(person_id)

    def named(self, name: str) -> list[StoredPerson]:
        with self._lock:
            return [self._people[n] for n in sorted(self._people) if self._people[n].name == name]

    def units(self) -> dict[str, str]:
        with self._lock:
            return dict(sorted(self._units.items()))

    def delegations(self, delegate: str | None = None) -> list[StoredDelegation]:
        with self._lock:
            found = [self._delegations[s] for s in sorted(self._delegations)]
        return [d for d in found if delegate is None or d.delegate == delegate]

    def history(self, batch: int = 2000) -> Iterator[PeopleEntry]:
        with self._lock:
            entries = list(self._entries)
        yield from entries

    def is_empty(self) -> bool:
        with self._lock:
            return not self._entries


class MemoryCredentials:
    """Password hashes in a dictionary (the in-memory store's)."""

    def __init__(self) -> None:
        self._hashes: dict[str, str] = {}
        self._lock = threading.Lock()

    def get(self, name: str) -> str | None:
        with self._lock:
            return self._hashes.get(name)

    def write(self, name: str, hash: str) -> None:
        """Called with the people-history entry that records it (`MemoryPeople.record`)."""
        with self._lock:
            self._hashes[name] = hash

    def all(self) -> dict[str, str]:
        with self._lock:
            return dict(sorted(self._hashes.items()))

    def count(self) -> int:
        with self._lock:
            return len(self._hashes)


def memory_store(algorithm: str = "sha256") -> Store:
    """A fresh, empty in-memory store."""
    repository = MemoryRepository(algorithm)
    credentials = MemoryCredentials()
    people = MemoryPeople(repository.hash, credentials)
    repository.people = people  # an append confirms the acting person, as the SQL store does
    return Store(repository, MemoryDocuments(repository), people, algorithm, "memory", credentials)


def _attribute(head: CaseHead, name: str) -> str | None:
    try:
        value = json.loads(head.attributes).get(name)
    except (ValueError, AttributeError):
        return None
    return None if value is None else str(value)


def _matches(q: CaseQuery, head: CaseHead, events: list[StoredEvent], tasks: CaseTasks | None) -> bool:
    """Whether a case meets every criterion of ``q``, as `decisions.store.lists.search_cases` judges."""
    if (q.workflows and head.workflow not in q.workflows) or (q.states and head.state not in q.states):
        return False
    if q.title and q.title.casefold() not in head.title.casefold():
        return False
    if q.unit:
        field = q.unit_fields.get(head.workflow)
        value = _attribute(head, field) if field else None
        if value is None or q.unit.casefold() not in value.casefold():
            return False
    if q.year is not None:
        field = q.year_fields.get(head.workflow)
        if field:
            if _attribute(head, field) != str(q.year):
                return False
        elif not events or not events[0].happened_on.startswith(f"{q.year:04d}-"):
            return False
    if q.person and not any(e.actor == q.person for e in events):
        return False
    if q.overdue_on is not None:
        day = q.overdue_on.isoformat()
        if tasks is None or not any(
            e.overdue_from is not None and e.overdue_from.isoformat() < day for e in tasks.entries
        ):
            return False
    return True


def _urgency(e: TaskEntry, day: str, t: CaseTasks) -> tuple[bool, str, str, str]:
    """An acting entry's place in the inbox (`decisions.store.tasks.inbox_page`'s order)."""
    late = e.overdue_from is not None and e.overdue_from.isoformat() < day
    return (not late, e.next_due.isoformat() if e.next_due is not None else "9999-12-31", t.workflow, t.case_id)

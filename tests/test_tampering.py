"""Tampering with stored history is caught by `AuditService.verify`, naming the decision and the event.

Three decisions are played once per backend (D-1 and D-2 along the whole main path, D-3 half way);
every test starts from its own fresh copy of that database and document store, checks that it
verifies, then edits it directly with SQL, as someone with write access to the database (or to the
document store) could, and asks the auditor again. Every column of ``events``, ``cases`` and
``documents`` is changed in turn; events are deleted, reordered, forged and moved; document bytes are
overwritten and removed; a stored rule text is edited. Verification must fail, name the decision (and
the event, when an event was touched), and leave the other decisions clean.

A "malicious database" rewrites a chain consistently (every hash recomputed, the case row updated):
that verifies on its own, which is why checkpoints are published; verification against an earlier
checkpoint catches it.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg
import pytest
from sqlalchemy import Connection, LargeBinary, Text, cast, literal, select

from decisions.audit import GENESIS, Checkpoint, canonical_bytes, chain_hash, hasher, parse_canonical
from decisions.definitions import Definitions
from decisions.service.audit import AuditService, VerifyReport
from decisions.service.cases import CaseService
from decisions.store.database import Database
from decisions.store.tables import CaseRow, CheckpointRow, DefinitionSourceRow, DocumentChunkRow, DocumentRow, EventRow
from tests.stores import BACKENDS, PG_SERVER, fixed_clock, new_database_url, play, supplied_catalogue
from tests.support import MAIN_PATH

EVENTS = EventRow.__table__  # type: ignore[attr-defined]
CASES = CaseRow.__table__  # type: ignore[attr-defined]
DOCUMENTS = DocumentRow.__table__  # type: ignore[attr-defined]
CHUNKS = DocumentChunkRow.__table__  # type: ignore[attr-defined]
CHECKPOINTS = CheckpointRow.__table__  # type: ignore[attr-defined]

ALL = frozenset({"D-1", "D-2", "D-3"})
TARGET = "D-2"  # a complete decision between two others in id order
MIDDLE = 6  # submit_legality_review: carries a field (review_due) and two documents
LAST = len(MAIN_PATH)
PARTIAL = 9  # D-3 stops after find_lawful


# -- set-up and direct access to the tables ---------------------------------------------------------


@dataclass(frozen=True)
class Template:
    backend: str
    url: str
    documents: Path


@pytest.fixture(scope="module", params=BACKENDS)
def template(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory, definitions: Definitions
) -> Iterator[Template]:
    """The three decisions, played once per backend; every test gets its own fresh copy (`db`)."""
    tmp = tmp_path_factory.mktemp(f"template-{request.param}")
    urls = new_database_url(request.param, tmp)
    try:
        url = next(urls)
        database = Database(url, documents=tmp / "documents")
        database.migrate()
        service = CaseService(database, definitions, clock=fixed_clock, outside=supplied_catalogue)
        play(service, "D-1")
        play(service, TARGET)
        play(service, "D-3", MAIN_PATH[:PARTIAL])
        database.dispose()
        yield Template(request.param, url, tmp / "documents")
    finally:
        urls.close()


@pytest.fixture
def db(template: Template, tmp_path: Path) -> Iterator[Database]:
    """A fresh database (a copy of the template's, documents included): overrides tests.stores.db."""
    documents = tmp_path / "documents"  # no file store: the documents are rows of the database
    if template.backend == "sqlite":
        source = Path(template.url.removeprefix("sqlite:///"))
        target = tmp_path / "decisions.sqlite"
        shutil.copyfile(source, target)
        database = Database(f"sqlite:///{target}", documents=documents)
        yield database
        database.dispose()
        return
    name = f"t_{uuid.uuid4().hex[:16]}"
    with psycopg.connect(PG_SERVER, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}" TEMPLATE "{template.url.rsplit("/", 1)[1]}"')
    database = Database(f"{template.url.rsplit('/', 1)[0]}/{name}", documents=documents)
    try:
        yield database
    finally:
        database.dispose()
        with psycopg.connect(PG_SERVER, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def audit(service: CaseService) -> AuditService:
    """The auditor over three decisions that verify."""
    auditor = AuditService(service)
    report = auditor.verify()
    assert report.ok, report.findings
    assert (report.cases, report.events) == (3, 2 * LAST + PARTIAL)
    return auditor


def event(db: Database, case_id: str, seq: int) -> dict[str, Any]:
    with db.read() as conn:
        row = conn.execute(select(EVENTS).where(EVENTS.c.case_id == case_id, EVENTS.c.seq == seq)).one()
    return dict(row._mapping)


def case_row(db: Database, case_id: str) -> dict[str, Any]:
    with db.read() as conn:
        return dict(conn.execute(select(CASES).where(CASES.c.id == case_id)).one()._mapping)


def update_event(db: Database, which: tuple[str, int], values: dict[str, Any]) -> None:
    with db.write() as conn:
        where = (EVENTS.c.case_id == which[0], EVENTS.c.seq == which[1])
        assert conn.execute(EVENTS.update().where(*where).values(**values)).rowcount == 1


def update_case(db: Database, case_id: str, values: dict[str, Any]) -> None:
    with db.write() as conn:
        assert conn.execute(CASES.update().where(CASES.c.id == case_id).values(**values)).rowcount == 1


def insert_event(conn: Connection, row: dict[str, Any]) -> None:
    conn.execute(EVENTS.insert().values(**{k: v for k, v in row.items() if k != "id"}))


def body_of(db: Database, case_id: str, seq: int) -> dict[str, Any]:
    parsed = parse_canonical(event(db, case_id, seq)["body"].encode("utf-8"))
    assert isinstance(parsed, dict)
    return parsed


def algorithm(db: Database) -> str:
    return db.ensure_ready()


def attached(db: Database, case_id: str, seq: int, kind: str) -> str:
    """The SHA-256 of the document of ``kind`` that event ``seq`` of ``case_id`` carries."""
    return next(d["sha256"] for d in body_of(db, case_id, seq)["documents"] if d["kind"] == kind)


def other_digest(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def triples(report: VerifyReport) -> set[tuple[str, int | None, str]]:
    return {(f.case_id, f.seq, f.kind) for f in report.findings}


# -- the tampering, one function each -------------------------------------------------------------


def edit_body_value(db: Database) -> None:
    """One character inside a field value; the body stays canonical JSON."""
    text = event(db, TARGET, MIDDLE)["body"]
    old, new = '"review_due":"2025-04-30"', '"review_due":"2025-04-20"'
    assert text.count(old) == 1
    update_event(db, (TARGET, MIDDLE), {"body": text.replace(old, new)})


def reserialise_body(db: Database) -> None:
    """The same content, written with spaces (json.dumps' default separators): not canonical."""
    update_event(db, (TARGET, MIDDLE), {"body": json.dumps(body_of(db, TARGET, MIDDLE), ensure_ascii=False)})


def reserialise_body_and_rehash(db: Database) -> None:
    """Non-canonical bytes whose hash is recomputed: the event's own hash holds, the next link breaks."""
    row = event(db, TARGET, MIDDLE)
    text = json.dumps(body_of(db, TARGET, MIDDLE), ensure_ascii=False, indent=1)
    digest = chain_hash(hasher(algorithm(db)), row["prev_hash"], text.encode("utf-8"))
    update_event(db, (TARGET, MIDDLE), {"body": text, "hash": digest})


# Every key of an event body: each is changed in turn (below), so a hash that skipped one would show.
BODY_KEYS = (
    *("format", "case", "seq", "workflow", "definitions", "trigger", "record", "actor", "roles", "role", "unit"),
    *("on", "recorded_at", "from", "to", "fields", "documents", "draft_version", "changes_draft", "rules"),
)


def _changed(value: Any) -> Any:
    """Another value of the same JSON kind."""
    if isinstance(value, bool):
        return not value
    if isinstance(value, int):
        return value + 1
    if isinstance(value, str):
        return value + "x"
    if isinstance(value, list):
        return [*value, value[0]] if value else ["x"]
    if isinstance(value, dict):
        return {**value, "x": 1}
    return "x"


def edit_body_key(key: str) -> Callable[[Database], None]:
    """The body's ``key`` gets another value; the body stays canonical JSON."""

    def tamper(db: Database) -> None:
        body = body_of(db, TARGET, MIDDLE)
        body[key] = _changed(body[key])
        update_event(db, (TARGET, MIDDLE), {"body": canonical_bytes(body).decode("utf-8")})

    return tamper


def delete_event(seq: int) -> Callable[[Database], None]:
    def tamper(db: Database) -> None:
        with db.write() as conn:
            assert conn.execute(EVENTS.delete().where(EVENTS.c.case_id == TARGET, EVENTS.c.seq == seq)).rowcount == 1

    return tamper


def swap_events(db: Database) -> None:
    """Reorder: events MIDDLE and MIDDLE + 1 exchange their seq (through a free value, for the unique key)."""
    with db.write() as conn:
        where = EVENTS.c.case_id == TARGET
        conn.execute(EVENTS.update().where(where, EVENTS.c.seq == MIDDLE).values(seq=-1))
        conn.execute(EVENTS.update().where(where, EVENTS.c.seq == MIDDLE + 1).values(seq=MIDDLE))
        conn.execute(EVENTS.update().where(where, EVENTS.c.seq == -1).values(seq=MIDDLE + 1))


def forge_with_wrong_link(db: Database) -> None:
    """A copy of the last event as event LAST + 1, hashed correctly over a wrong previous hash."""
    row = event(db, TARGET, LAST)
    body = {**body_of(db, TARGET, LAST), "seq": LAST + 1}
    data = canonical_bytes(body)
    prev = event(db, TARGET, LAST - 1)["hash"]  # fresh, but not the head's hash
    with db.write() as conn:
        insert_event(
            conn,
            {
                **row,
                "seq": LAST + 1,
                "prev_hash": prev,
                "hash": chain_hash(hasher(algorithm(db)), prev, data),
                "body": data.decode("utf-8"),
            },
        )


def forge_chained_to_head(db: Database) -> None:
    """D-3's plausible next event (D-2's report_to_party_committee, re-addressed), correctly hashed and
    chained to D-3's real head; only the case row was not updated."""
    head = event(db, "D-3", PARTIAL)
    body = {**body_of(db, TARGET, PARTIAL + 1), "case": "D-3", "seq": PARTIAL + 1}
    assert body["from"] == body_of(db, "D-3", PARTIAL)["to"]
    data = canonical_bytes(body)
    row = {
        **event(db, TARGET, PARTIAL + 1),
        "case_id": "D-3",
        "seq": PARTIAL + 1,
        "prev_hash": head["hash"],
        "hash": chain_hash(hasher(algorithm(db)), head["hash"], data),
        "body": data.decode("utf-8"),
    }
    with db.write() as conn:
        insert_event(conn, row)


def move_event(db: Database) -> None:
    """D-2's event MIDDLE becomes D-3's next event."""
    update_event(db, (TARGET, MIDDLE), {"case_id": "D-3", "seq": PARTIAL + 1})


def set_document_column(column: str) -> Callable[[Database], None]:
    def tamper(db: Database) -> None:
        sha = attached(db, TARGET, MIDDLE, "legal_basis")
        with db.write() as conn:
            where = DOCUMENTS.c.sha256 == sha
            value = other_digest("forged") if column == "sha256" else DOCUMENTS.c.size + 1
            assert conn.execute(DOCUMENTS.update().where(where).values({column: value})).rowcount == 1

    return tamper


def overwrite_document(db: Database) -> None:
    sha = attached(db, TARGET, MIDDLE, "legal_basis")
    with db.write() as conn:
        data = conn.execute(select(CHUNKS.c.data).where(CHUNKS.c.sha256 == sha)).scalar_one()
        forged = bytes(data).replace(b"D-2", b"D-9")
        assert conn.execute(CHUNKS.update().where(CHUNKS.c.sha256 == sha).values(data=forged)).rowcount == 1


def delete_document_row(db: Database) -> None:
    sha = attached(db, TARGET, MIDDLE, "legal_basis")
    with db.write() as conn:
        assert conn.execute(DOCUMENTS.delete().where(DOCUMENTS.c.sha256 == sha)).rowcount == 1


def move_document_bytes(db: Database) -> None:
    """The bytes filed under another digest: the document has none left."""
    sha = attached(db, TARGET, MIDDLE, "legal_basis")
    with db.write() as conn:
        moved = CHUNKS.update().where(CHUNKS.c.sha256 == sha).values(sha256=other_digest("elsewhere"))
        assert conn.execute(moved).rowcount == 1


def add_document_piece(db: Database) -> None:
    """A forged piece after the document's last one."""
    sha = attached(db, TARGET, MIDDLE, "legal_basis")
    with db.write() as conn:
        conn.execute(CHUNKS.insert().values(sha256=sha, seq=1, data=b" and an appended clause"))


def delete_document(db: Database) -> None:
    sha = attached(db, TARGET, MIDDLE, "legal_basis")
    with db.write() as conn:
        assert conn.execute(CHUNKS.delete().where(CHUNKS.c.sha256 == sha)).rowcount == 1


def body_not_utf8(db: Database) -> None:
    """One byte of the stored body replaced by 0xFF: no longer UTF-8 (SQLite stores what it is given;
    a PostgreSQL UTF8 database refuses such text on write, so there it cannot happen)."""
    if not db.is_sqlite:
        pytest.skip("PostgreSQL refuses text that is not UTF-8 on write")
    raw = bytearray(event(db, TARGET, MIDDLE)["body"].encode("utf-8"))
    raw[len(raw) // 2] = 0xFF
    with db.write() as conn:
        where = (EVENTS.c.case_id == TARGET, EVENTS.c.seq == MIDDLE)
        bad = cast(literal(bytes(raw), LargeBinary), Text)
        assert conn.execute(EVENTS.update().where(*where).values(body=bad)).rowcount == 1


def event_column(column: str, value: Callable[[dict[str, Any]], Any]) -> Callable[[Database], None]:
    def tamper(db: Database) -> None:
        update_event(db, (TARGET, MIDDLE), {column: value(event(db, TARGET, MIDDLE))})

    return tamper


def case_column(column: str, value: Callable[[dict[str, Any]], Any]) -> Callable[[Database], None]:
    def tamper(db: Database) -> None:
        update_case(db, TARGET, {column: value(case_row(db, TARGET))})

    return tamper


def _retitled(row: dict[str, Any]) -> str:
    attributes = json.loads(row["attributes"])
    attributes["title"] = "城区公交票价下调"
    return json.dumps(attributes, ensure_ascii=False, sort_keys=True, separators=(",", ":"))


@dataclass(frozen=True)
class Tamper:
    """A way to change stored history, the findings that must name it, and the decisions it touches."""

    tamper: Callable[[Database], None]
    expected: frozenset[tuple[str, int | None, str]]
    touched: frozenset[str] = frozenset({TARGET})


def T(
    tamper: Callable[[Database], None], *expected: tuple[str, int | None, str], touched: set[str] | None = None
) -> Tamper:
    return Tamper(tamper, frozenset(expected), frozenset(touched or {TARGET}))


M, NEXT = MIDDLE, MIDDLE + 1
TAMPERING: dict[str, Tamper] = {
    # every column of events (event MIDDLE of D-2)
    "events.case_id": T(
        event_column("case_id", lambda r: "D-9"),
        (TARGET, NEXT, "sequence"),
        (TARGET, NEXT, "link"),
        ("D-9", M, "column"),
        ("D-9", None, "projection"),
        touched={TARGET, "D-9"},
    ),
    "events.seq": T(event_column("seq", lambda r: 60), (TARGET, NEXT, "sequence"), (TARGET, 60, "column")),
    "events.trigger": T(event_column("trigger", lambda r: "accept_review"), (TARGET, M, "column")),
    "events.actor": T(event_column("actor", lambda r: "clerk_he"), (TARGET, M, "column")),
    "events.happened_on": T(event_column("happened_on", lambda r: "2025-04-15"), (TARGET, M, "column")),
    "events.recorded_at": T(
        event_column("recorded_at", lambda r: "2026-01-05T09:29:59.000000Z"), (TARGET, M, "column")
    ),
    "events.prev_hash": T(event_column("prev_hash", lambda r: GENESIS), (TARGET, M, "link"), (TARGET, M, "hash")),
    "events.prev_hash:upper_cased": T(
        event_column("prev_hash", lambda r: r["prev_hash"].upper()), (TARGET, M, "link"), (TARGET, M, "hash")
    ),
    "events.prev_hash:empty": T(event_column("prev_hash", lambda r: ""), (TARGET, M, "link"), (TARGET, M, "hash")),
    "events.hash": T(
        event_column("hash", lambda r: other_digest("forged")), (TARGET, M, "hash"), (TARGET, NEXT, "link")
    ),
    "events.body:one_character": T(edit_body_value, (TARGET, M, "hash")),
    **{f"events.body:{key}": T(edit_body_key(key), (TARGET, M, "hash")) for key in BODY_KEYS},
    "events.body:not_utf8": T(body_not_utf8, (TARGET, M, "body"), (TARGET, M, "hash")),
    "events.body:not_canonical": T(reserialise_body, (TARGET, M, "hash"), (TARGET, M, "body")),
    "events.body:not_canonical_rehashed": T(reserialise_body_and_rehash, (TARGET, M, "body"), (TARGET, NEXT, "link")),
    # every column of cases (D-2's row)
    "cases.id": T(
        case_column("id", lambda r: "D-9"),
        (TARGET, None, "projection"),
        ("D-9", None, "missing_history"),
        touched={TARGET, "D-9"},
    ),
    "cases.workflow": T(case_column("workflow", lambda r: "catalogue"), (TARGET, None, "projection")),
    "cases.state": T(case_column("state", lambda r: "executing"), (TARGET, None, "projection")),
    "cases.attributes": T(case_column("attributes", _retitled), (TARGET, None, "projection")),
    "cases.version": T(case_column("version", lambda r: r["version"] + 1), (TARGET, None, "projection")),
    "cases.head_hash": T(case_column("head_hash", lambda r: other_digest("forged")), (TARGET, None, "projection")),
    "cases.definitions": T(
        case_column("definitions", lambda r: other_digest("other rules")), (TARGET, None, "projection")
    ),
    "cases.title": T(case_column("title", lambda r: "城区公交票价下调"), (TARGET, None, "projection")),
    "cases.catalogue_item": T(case_column("catalogue_item", lambda r: "2025-04"), (TARGET, None, "projection")),
    # documents: the row's columns, the bytes' chunk rows (named by the event that carries the document)
    "documents.sha256": T(
        set_document_column("sha256"),
        (TARGET, M, "document"),
        ("documents", None, "document"),
        touched={TARGET, "documents"},
    ),  # the real row is gone, the renamed one has no file
    "documents.size": T(set_document_column("size"), (TARGET, M, "document")),
    "document_chunks.data": T(overwrite_document, (TARGET, M, "document")),
    "document_chunks.sha256": T(move_document_bytes, (TARGET, M, "document")),
    "document_chunks.seq": T(add_document_piece, (TARGET, M, "document")),
    "documents:bytes_deleted": T(delete_document, (TARGET, M, "document")),
    "documents:row_deleted": T(delete_document_row, (TARGET, M, "document")),
    # whole events deleted, reordered, forged, moved
    "delete_middle_event": T(delete_event(M), (TARGET, NEXT, "sequence"), (TARGET, NEXT, "link")),
    "delete_last_event": T(delete_event(LAST), (TARGET, None, "projection")),
    "swap_two_events": T(swap_events, (TARGET, M, "link"), (TARGET, M, "column"), (TARGET, NEXT, "column")),
    "forge_event_with_wrong_link": T(forge_with_wrong_link, (TARGET, LAST + 1, "link"), (TARGET, None, "projection")),
    "forge_event_chained_to_head": T(forge_chained_to_head, ("D-3", None, "projection"), touched={"D-3"}),
    "move_event_to_another_case": T(
        move_event,
        (TARGET, NEXT, "sequence"),
        ("D-3", PARTIAL + 1, "link"),
        ("D-3", PARTIAL + 1, "column"),
        touched={TARGET, "D-3"},
    ),
}


@pytest.mark.parametrize("name", list(TAMPERING))
def test_tampering_is_caught_naming_the_decision_and_the_event(audit: AuditService, db: Database, name: str) -> None:
    case = TAMPERING[name]
    case.tamper(db)
    report = audit.verify()
    found = triples(report)
    assert not report.ok
    assert case.expected <= found, "\n".join(map(str, report.findings))
    assert {f.case_id for f in report.findings} <= case.touched, "\n".join(map(str, report.findings))
    decisions = case.touched - {"documents"}
    assert {f.case_id for f in report.first_per_case()} >= decisions


def test_every_column_of_events_cases_and_documents_is_tampered_with() -> None:
    """The table above covers the schema: a new column needs a new tampering case."""
    covered = {name.split(":")[0] for name in TAMPERING if "." in name}
    schema = {f"{t.name}.{c.name}" for t in (EVENTS, CASES, DOCUMENTS, CHUNKS) for c in t.columns}
    # events.id is a surrogate key: nothing reads it (chains are ordered by seq), so changing it changes nothing.
    # documents.media_type describes the bytes for a reader (guessed from the first carrier's file name);
    # no hash covers it and nothing is decided by it.
    assert covered == schema - {"events.id", "documents.media_type"}


def test_every_key_of_the_event_body_is_tampered_with(db: Database) -> None:
    """BODY_KEYS covers the body: a new key needs a new tampering case."""
    assert set(BODY_KEYS) == set(body_of(db, TARGET, MIDDLE))


def test_a_forged_event_on_an_unchanged_case_row_is_named_by_its_number(audit: AuditService, db: Database) -> None:
    forge_chained_to_head(db)
    report = audit.verify()
    messages = [f.message for f in report.findings if f.kind == "projection"]
    assert any(m.startswith(f"stored version {PARTIAL} ") and m.endswith(f"({PARTIAL + 1})") for m in messages), (
        messages
    )


def test_every_damaged_chain_is_reported_whatever_broke_the_first(audit: AuditService, db: Database) -> None:
    """A prev_hash that is not a digest stops nothing: the other damaged chains are reported too."""
    update_event(db, ("D-1", 3), {"prev_hash": ""})
    update_event(db, ("D-3", 2), {"prev_hash": event(db, "D-3", 2)["prev_hash"].upper()})
    edit_body_value(db)
    report = audit.verify()
    assert {("D-1", 3, "link"), ("D-3", 2, "link"), (TARGET, MIDDLE, "hash")} <= triples(report), report.findings
    assert {f.case_id for f in report.first_per_case()} == ALL


# -- restricting verification to one decision ---------------------------------------------------------


def test_verify_can_be_restricted_to_one_decision(audit: AuditService, db: Database) -> None:
    event_column("actor", lambda r: "clerk_he")(db)
    damaged = audit.verify(case_id=TARGET)
    assert (damaged.cases, damaged.events) == (1, LAST)
    assert triples(damaged) == {(TARGET, MIDDLE, "column")}
    for other, events in (("D-1", LAST), ("D-3", PARTIAL)):
        report = audit.verify(case_id=other)
        assert report.ok and (report.cases, report.events) == (1, events), report.findings
    assert triples(audit.verify(case_id="D-404")) == {("D-404", None, "unknown")}


def test_verifying_one_decision_ignores_damage_to_another_decisions_documents(
    audit: AuditService, db: Database
) -> None:
    overwrite_document(db)  # a document only D-2 carries
    assert (TARGET, MIDDLE, "document") in triples(audit.verify(case_id=TARGET))
    report = audit.verify(case_id="D-1")
    assert report.ok, report.findings


# -- the definitions a decision runs under ------------------------------------------------------------


def test_editing_the_stored_definition_texts_is_caught(audit: AuditService, db: Database) -> None:
    """The rule and workflow texts are stored by SHA-256; verification re-hashes them, even though the
    deployment's definitions in memory are unchanged."""
    sources = DefinitionSourceRow.__table__  # type: ignore[attr-defined]
    with db.write() as conn:
        sha = conn.execute(
            select(sources.c.sha256).where(sources.c.kind == "rule_pack").order_by(sources.c.name).limit(1)
        ).scalar_one()
        conn.execute(sources.update().where(sources.c.sha256 == sha).values(text=sources.c.text + "\n# edited\n"))
    report = audit.verify()
    assert not report.ok
    assert {(f.case_id, f.kind) for f in report.findings} == {(c, "definitions") for c in ALL}, report.findings
    assert {(f.case_id, f.kind) for f in audit.verify(case_id="D-3").findings} == {("D-3", "definitions")}


# -- a malicious database: consistent rewrites, caught against a published checkpoint ----------------


def rewrite_chain(db: Database, case_id: str, seq: int, edit: Callable[[dict[str, Any]], None]) -> None:
    """Edit event ``seq``'s body and recompute every hash from there on, as the software would have;
    update the case row's head hash. Internally consistent: only a checkpoint can tell."""
    h = hasher(algorithm(db))
    with db.write() as conn:
        rows = conn.execute(
            select(EVENTS.c.id, EVENTS.c.seq, EVENTS.c.hash, EVENTS.c.body)
            .where(EVENTS.c.case_id == case_id)
            .order_by(EVENTS.c.seq)
        ).all()
        prev = GENESIS
        for row in rows:
            if row.seq < seq:
                prev = row.hash
                continue
            body = parse_canonical(row.body.encode("utf-8"))
            assert isinstance(body, dict)
            if row.seq == seq:
                edit(body)
            data = canonical_bytes(body)
            digest = chain_hash(h, prev, data)
            conn.execute(
                EVENTS.update().where(EVENTS.c.id == row.id).values(prev_hash=prev, hash=digest, body=data.decode())
            )
            prev = digest
        conn.execute(CASES.update().where(CASES.c.id == case_id).values(head_hash=prev))


def head_rejects(body: dict[str, Any]) -> None:
    """The head's recorded view at the meeting: approve becomes reject (the decision loses its legal basis)."""
    head = next(v for v in body["fields"]["views"] if v.get("head"))
    assert head["position"] == "approve"
    head["position"] = "reject"


def truncate_consistently(db: Database) -> None:
    """The last event of D-2 disappears and the case row is set back to the event before it."""
    before = event(db, TARGET, LAST - 1)
    with db.write() as conn:
        conn.execute(EVENTS.delete().where(EVENTS.c.case_id == TARGET, EVENTS.c.seq == LAST))
        conn.execute(
            CASES.update()
            .where(CASES.c.id == TARGET)
            .values(version=LAST - 1, head_hash=before["hash"], state=body_of(db, TARGET, LAST - 1)["to"])
        )


def drop_decision(db: Database) -> None:
    with db.write() as conn:
        conn.execute(EVENTS.delete().where(EVENTS.c.case_id == TARGET))
        conn.execute(CASES.delete().where(CASES.c.id == TARGET))


REWRITES: dict[str, Callable[[Database], None]] = {
    "meeting_view_rewritten": lambda db: rewrite_chain(db, TARGET, 12, head_rejects),
    "first_event_rewritten": lambda db: rewrite_chain(
        db, TARGET, 1, lambda b: b["fields"].update(problem="票价无需调整")
    ),
    "history_truncated": truncate_consistently,
    "decision_dropped": drop_decision,
}


@pytest.mark.parametrize("name", list(REWRITES))
def test_a_consistently_rewritten_history_is_caught_against_an_earlier_checkpoint(
    audit: AuditService, db: Database, name: str
) -> None:
    published = audit.checkpoint().to_json()
    REWRITES[name](db)
    audit.cases.ensure_tasks(None)  # consistent: what is derived from the history (the inbox table) too
    stored = audit.verify()  # the database's own copy of the checkpoint still fixes the old head
    assert triples(stored) == {(TARGET, LAST, "checkpoint")}, stored.findings
    with db.write() as conn:  # a malicious database removes that copy too
        conn.execute(CHECKPOINTS.delete())
    alone = audit.verify()
    assert alone.ok, alone.findings  # internally consistent: that is the point of publishing checkpoints
    old = Checkpoint.from_json(published)
    report = audit.verify(since=old)
    assert not report.ok and report.checkpoint == old.root
    assert triples(report) == {(TARGET, LAST, "checkpoint")}, report.findings
    assert audit.verify(case_id="D-1", since=old).ok
    restricted = audit.verify(case_id=TARGET, since=old)  # a dropped decision is also an unknown one now
    assert (TARGET, LAST, "checkpoint") in triples(restricted) and {f.case_id for f in restricted.findings} == {TARGET}


def test_the_rewrite_changes_what_the_decision_says(audit: AuditService, db: Database) -> None:
    """The rewritten meeting is what the software now shows: only the checkpoint stands between it and the record."""
    rewrite_chain(db, TARGET, 12, head_rejects)
    views = audit.cases.view(TARGET).case.records[11].fields["views"]
    assert next(v for v in views if v.get("head"))["position"] == "reject"


def test_history_that_only_grew_since_a_checkpoint_verifies_against_it(
    audit: AuditService, service: CaseService
) -> None:
    old = Checkpoint.from_json(audit.checkpoint().to_json())
    play(service, "D-3", MAIN_PATH[PARTIAL:], start=False)
    play(service, "D-4", MAIN_PATH[:2])
    report = audit.verify(since=old)
    assert report.ok, report.findings
    assert (report.cases, report.events, report.checkpoint) == (4, 3 * LAST + 2, old.root)

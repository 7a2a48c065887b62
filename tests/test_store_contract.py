"""The store's contract, on SQLite and PostgreSQL alike; what goes through the service layer runs on
the in-memory store as well (`contract_service`)."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import date

import pytest
from sqlalchemy import select, text

from decisions.audit import GENESIS
from decisions.errors import ActionRefused, ConflictError, StoreError, UsageError
from decisions.model import Action
from decisions.service.audit import AuditService
from decisions.service.cases import CaseService
from decisions.store.database import Database
from decisions.store.tables import CaseRow, EventRow
from tests.stores import fixed_clock, play, supplied_catalogue
from tests.support import MAIN_PATH, PEOPLE, TREE, V


def test_a_decision_is_stored_event_by_event_and_reloads_identically(contract_service: CaseService) -> None:
    play(contract_service, "D-2025-001")
    view = contract_service.view("D-2025-001")
    assert view.case.state == V("archived") and view.version == len(MAIN_PATH)
    assert [r.trigger for r in view.case.records] == [s.trigger for s in MAIN_PATH]
    assert view.case.records[3].fields[V("comment_deadline")] == date(2025, 4, 14)
    assert AuditService(contract_service).verify().ok


def test_each_event_links_to_the_previous_one(service: CaseService, db: Database) -> None:
    play(service, "D-1", MAIN_PATH[:4])
    table = EventRow.__table__  # type: ignore[attr-defined]
    with db.read() as conn:
        rows = conn.execute(select(table.c.seq, table.c.prev_hash, table.c.hash).order_by(table.c.seq)).all()
    assert rows[0].prev_hash == GENESIS
    assert [r.prev_hash for r in rows[1:]] == [r.hash for r in rows[:-1]]


def test_a_refused_action_writes_nothing(contract_service: CaseService) -> None:
    service = contract_service
    play(service, "D-1", MAIN_PATH[:2])
    before = service.view("D-1"), list(service.repository.iter_events())
    with pytest.raises(ActionRefused):
        service.act("D-1", Action(V("submit_for_discussion"), PEOPLE["clerk_li"], date(2025, 3, 6)))
    assert (service.view("D-1"), list(service.repository.iter_events())) == before


def test_dates_in_the_future_and_missing_documents_are_refused(contract_service: CaseService) -> None:
    play(contract_service, "D-1", MAIN_PATH[:1])
    step = MAIN_PATH[1]
    with pytest.raises(UsageError, match=r"service.future_date.*2026-01-06.*in the future"):  # a slip, not a breach
        contract_service.act(
            "D-1",
            Action(
                step.trigger,
                PEOPLE[step.actor],
                date(2026, 1, 6),
                dict(step.fields),
                (contract_service.attach(V("launch_decision"), b"x", "l.pdf"),),
            ),
        )
    art_33 = str(contract_service.current.rulebook.checks["service.document"])  # cited by the national pack
    ghost = replace(contract_service.attach(V("launch_decision"), b"y", "l.pdf"), sha256="0" * 64)
    with pytest.raises(ActionRefused) as missing:
        contract_service.act("D-1", Action(step.trigger, PEOPLE[step.actor], step.on, dict(step.fields), (ghost,)))
    assert {u.rule_id: u.citation for u in missing.value.unmet}[f"service.document.{V('launch_decision')}"] == art_33


def test_stale_version_is_a_conflict_naming_who_changed_it(contract_service: CaseService) -> None:
    play(contract_service, "D-1", MAIN_PATH[:2])
    step = MAIN_PATH[2]
    docs = tuple(contract_service.attach(k, k.encode(), k) for k in step.docs)
    with pytest.raises(ConflictError) as conflict:
        contract_service.act("D-1", Action(step.trigger, PEOPLE[step.actor], step.on, {}, docs), expected_version=1)
    assert conflict.value.by == "head_wang" and conflict.value.actual == 2
    # when the change was recorded (the clock: 2026-01-05 09:30 UTC), in Beijing time, not the date it declared
    assert "于2026-01-05 17:30（北京时间）" in str(conflict.value)
    assert "by head_wang at 2026-01-05 17:30 Beijing time" in str(conflict.value)
    assert contract_service.view("D-1").version == 2


def test_unknown_case_and_duplicate_case_id_are_usage_errors(contract_service: CaseService) -> None:
    with pytest.raises(UsageError):
        contract_service.view("D-404")
    play(contract_service, "D-1", MAIN_PATH[:1])
    with pytest.raises(UsageError):
        play(contract_service, "D-1", MAIN_PATH[:1])


def test_a_case_keeps_the_definitions_it_started_under(contract_service: CaseService, definitions) -> None:  # type: ignore[no-untyped-def]
    service = contract_service
    play(service, "D-1", MAIN_PATH[:3])
    fingerprint = service.view("D-1").definitions
    assert fingerprint == definitions.fingerprint
    fresh = CaseService(service.store, definitions, outside=supplied_catalogue)
    sources = fresh.repository.definition_sources(fingerprint)
    assert [s.sha256 for s in sources] == [s.sha256 for s in definitions.sources]


def test_uninitialised_database_is_a_clear_error(database_url: str, tmp_path) -> None:  # type: ignore[no-untyped-def]
    database = Database(database_url, documents=tmp_path / "docs")
    with pytest.raises(StoreError, match="decisions init"):
        database.ensure_ready()
    database.dispose()


def test_migrations_build_exactly_the_declared_schema(db: Database) -> None:
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    from decisions.store.tables import SQLModel

    with db.read() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), SQLModel.metadata)
        assert diff == []
        assert conn.execute(text("SELECT count(*) FROM alembic_version")).scalar() == 1


def test_replay_reproduces_the_stored_state_with_rules_and_citations(contract_service: CaseService) -> None:
    play(contract_service, "D-1")
    report = AuditService(contract_service).replay("D-1")
    assert report.ok and report.replayed_state == report.stored_state == V("archived")
    submit = next(s for s in report.steps if s.trigger == V("submit_for_discussion"))
    gate = next(r for r in submit.rules if r[0] == "national.legality_review_lawful_for_current_draft")
    assert gate[1] == "passed" and "第二十五条" in gate[2]
    assert json.loads(json.dumps([s.seq for s in report.steps])) == list(range(1, len(MAIN_PATH) + 1))


def test_schema_revision_is_alembics_head() -> None:
    from alembic.script import ScriptDirectory

    from decisions.store.database import MIGRATIONS, SCHEMA_REVISION

    assert ScriptDirectory(str(MIGRATIONS)).get_current_head() == SCHEMA_REVISION


def test_the_demo_year_plays_on_the_in_memory_store_and_verifies(definitions) -> None:  # type: ignore[no-untyped-def]
    """The whole service layer runs on the in-memory store: the county's year, audit and replay."""
    from decisions.demo import run_demo
    from decisions.loading.scenarios import load_scenarios
    from decisions.service.office import Office
    from decisions.store.memory import memory_store

    office = Office(memory_store(), definitions, clock=fixed_clock)
    ids = run_demo(office, lambda line: None, load_scenarios(TREE / "demo"))  # the tree under test's year
    report = AuditService(office.cases).verify()
    assert report.ok and report.cases == len(ids) and report.events > 50
    assert office.show(ids["bus_fares"]).view.case.state == V("executing")
    assert AuditService(office.cases).replay(ids["bus_fares"]).ok


def _three_decisions(service: CaseService) -> None:
    """Three decisions of 4, 6 and 4 events, each step with the documents its kind carries."""
    for case_id, steps in (("D-1", MAIN_PATH[:4]), ("D-2", MAIN_PATH[:6]), ("D-3", MAIN_PATH[:4])):
        play(service, case_id, steps)


def test_events_are_read_in_batches_each_with_the_rows_of_its_cases(contract_service: CaseService) -> None:
    _three_decisions(contract_service)
    repository = contract_service.repository
    everything = list(repository.iter_events())
    batches = list(repository.event_batches(batch=5))
    assert [len(events) for events, _ in batches] == [5, 5, 4]
    assert [e for events, _ in batches for e in events] == everything
    for events, heads in batches:
        assert sorted(heads) == sorted({e.case_id for e in events})
        assert all(heads[cid] == repository.head(cid) for cid in heads)
    one = [e for events, _ in repository.event_batches("D-2", batch=2, after_seq=3) for e in events]
    assert [(e.case_id, e.seq) for e in one] == [("D-2", 4), ("D-2", 5), ("D-2", 6)]
    assert list(repository.event_batches("D-9")) == [] and list(repository.event_batches("../x")) == []


def test_document_rows_are_read_in_batches_and_looked_up_together(contract_service: CaseService) -> None:
    _three_decisions(contract_service)
    repository = contract_service.repository
    carried = {d["sha256"] for e in repository.iter_events() for d in json.loads(e.body).get("documents", [])}
    assert len(carried) > 5
    rows = list(repository.iter_documents(batch=2))
    assert [sha for sha, _ in rows] == sorted(carried) == sorted(repository.document_digests())
    assert all(size == len(contract_service.documents.get(sha)) for sha, size in rows)
    assert all(contract_service.documents.inspect(sha) == (None, size) for sha, size in rows)
    assert contract_service.documents.inspect("0" * 64) == ("missing", None)
    unknown = "0" * 64
    assert repository.document_sizes([*carried, unknown]) == dict(rows)
    assert repository.document_sizes([]) == {}


def test_verify_finds_the_same_whatever_the_batch_boundaries(contract_service: CaseService) -> None:
    _three_decisions(contract_service)
    audit = AuditService(contract_service)
    whole = audit.verify()
    assert whole.ok and (whole.cases, whole.events) == (3, 14) and whole.documents > 5
    for batch in (1, 3, 4, 5):  # boundaries inside a chain and just after one (D-1 ends at event 4)
        audit.batch = batch
        assert audit.verify() == whole


def test_a_damaged_projection_is_found_when_its_chain_ends_at_a_batch_boundary(
    service: CaseService, db: Database
) -> None:
    _three_decisions(service)
    cases = CaseRow.__table__  # type: ignore[attr-defined]
    with db.write() as conn:
        conn.execute(cases.update().where(cases.c.id == "D-1").values(state="archived"))
    audit = AuditService(service)
    whole = audit.verify()
    assert [(f.case_id, f.kind) for f in whole.findings] == [("D-1", "projection")]
    audit.batch = 4  # D-1's last event closes the first batch
    assert audit.verify().findings == whole.findings


def test_replaying_every_decision_in_batches_is_replaying_each_one(contract_service: CaseService) -> None:
    _three_decisions(contract_service)
    audit = AuditService(contract_service)
    one_by_one = [audit.replay(cid) for cid in ("D-1", "D-2", "D-3")]
    assert all(r.ok for r in one_by_one) and [len(r.steps) for r in one_by_one] == [4, 6, 4]
    for batch in (2000, 3, 4):
        audit.batch = batch
        assert list(audit.replay_all()) == one_by_one
    assert list(audit.replay_all("D-2")) == one_by_one[1:2]
    assert list(audit.replay_all("D-9")) == []

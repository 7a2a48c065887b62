"""Databases for contract tests: every store test runs on SQLite and on PostgreSQL; the store's
contract (`contract_service`) runs on the in-memory store too.

PostgreSQL: a fresh database per test on the server at ``$DECISIONS_TEST_PG`` (default
127.0.0.1:5432, user postgres, trust auth). Where it cannot be reached the PostgreSQL cases are
skipped on a developer's machine, and FAIL under CI (``CI=true``): CI must prove both backends.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import psycopg
import pytest

from decisions.definitions import Definitions
from decisions.model import Action, Actor, Case
from decisions.service.cases import CaseService
from decisions.store.database import Database
from decisions.store.memory import memory_store
from tests.support import CATALOGUE_PATH, MAIN_PATH, OUTSIDE, PEOPLE, Step, V

PG_SERVER = os.environ.get("DECISIONS_TEST_PG", "postgresql://postgres@127.0.0.1:5432/test")
BACKENDS = ["sqlite", "postgres"]
NOW = datetime(2026, 1, 5, 9, 30, tzinfo=UTC)


def _unreachable(reason: str) -> None:
    if os.environ.get("CI") == "true":
        pytest.fail(f"PostgreSQL is required under CI and cannot be reached: {reason}")
    pytest.skip(f"PostgreSQL not reachable: {reason}")


def new_database_url(backend: str, tmp: Path) -> Iterator[str]:
    if backend == "sqlite":
        yield f"sqlite:///{tmp / 'decisions.sqlite'}"
        return
    name = f"t_{uuid.uuid4().hex[:16]}"
    try:
        with psycopg.connect(PG_SERVER, autocommit=True, connect_timeout=5) as admin:
            admin.execute(f'CREATE DATABASE "{name}"')
    except psycopg.OperationalError as exc:
        _unreachable(str(exc).strip())
    base = PG_SERVER.rsplit("/", 1)[0]
    try:
        yield f"{base}/{name}"
    finally:
        with psycopg.connect(PG_SERVER, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def fixed_clock() -> datetime:
    return NOW


def supplied_catalogue(service: CaseService, case: Case, action: Action) -> Mapping[str, Any]:
    """The facts from outside a case as the store tests supply them: the published 2025 catalogue
    of `tests.support.PUBLISHED_ITEMS`, so that they need not keep a catalogue case beside the
    decisions they play. The service's own lookup (`published_catalogue`, its default) is specified
    in tests/test_catalogue_item.py against a catalogue played through."""
    return OUTSIDE


def play(
    service: CaseService,
    case_id: str,
    steps: Sequence[Step] = MAIN_PATH,
    start: bool = True,
    workflow: str = "major_decision",
    people: Mapping[str, Actor] = PEOPLE,
) -> None:
    """Fire ``steps`` through the service (the first opens a case of ``workflow`` unless ``start`` is
    false), as the ``people`` they name, attaching a small real document for each kind."""
    for i, s in enumerate(steps):
        docs = tuple(service.attach(k, f"{case_id} {k} #{i}".encode(), f"{k}.pdf") for k in s.docs)
        action = Action(s.trigger, people[s.actor], s.on, dict(s.fields), docs)
        if start and i == 0:
            service.start(workflow, case_id, action)
        else:
            service.act(case_id, action)


def play_catalogue(service: CaseService, item: str) -> None:
    """The 2025 catalogue (``CAT-2025``), published on 2025-01-20 with the one item ``item``: what a
    launch naming ``item`` finds when its rules look the published catalogue up (also on replay)."""
    published = [s.trigger for s in CATALOGUE_PATH].index(V("publish_catalogue"))
    for i, s in enumerate(CATALOGUE_PATH[: published + 1]):
        fields = {**s.fields, V("item_id"): item} if V("item_id") in s.fields else s.fields
        docs = tuple(service.attach(k, f"CAT-2025 {k} #{i}".encode(), f"{k}.pdf") for k in s.docs)
        action = Action(s.trigger, PEOPLE[s.actor], s.on, dict(fields), docs)
        if i == 0:
            service.start("catalogue", "CAT-2025", action)
        else:
            service.act("CAT-2025", action)


@pytest.fixture(params=BACKENDS)
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    yield from new_database_url(request.param, tmp_path)


@pytest.fixture
def db(database_url: str, tmp_path: Path) -> Iterator[Database]:
    database = Database(database_url, documents=tmp_path / "documents")
    database.migrate()
    yield database
    database.dispose()


@pytest.fixture
def service(db: Database, definitions: Definitions) -> CaseService:
    return CaseService(db, definitions, clock=fixed_clock, outside=supplied_catalogue)


@pytest.fixture(params=["memory", *BACKENDS])
def contract_service(request: pytest.FixtureRequest, tmp_path: Path, definitions: Definitions) -> Iterator[CaseService]:
    """A case service over each implementation of the store: in memory, SQLite and PostgreSQL."""
    if request.param == "memory":
        yield CaseService(memory_store(), definitions, clock=fixed_clock, outside=supplied_catalogue)
        return
    with fresh_service(request.param, tmp_path, definitions) as service:
        yield service


@contextmanager
def fresh_service(backend: str, tmp_path: Path, definitions: Definitions) -> Iterator[CaseService]:
    """A case service over a fresh, migrated database of ``backend`` (dropped afterwards)."""
    for url in new_database_url(backend, tmp_path):
        database = Database(url, documents=tmp_path / "documents")
        database.migrate()
        try:
            yield CaseService(database, definitions, clock=fixed_clock, outside=supplied_catalogue)
        finally:
            database.dispose()

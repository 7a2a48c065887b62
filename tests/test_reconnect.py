"""A PostgreSQL connection lost while it sat in the pool (the server restarted, or an administrator
ended the backend) costs the user nothing: the next action and the next read succeed, the action
recorded once. The pool does not ping before every transaction; it notices the loss itself."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import psycopg
import pytest

import decisions.store.database as database
from decisions.definitions import Definitions
from decisions.model import Action
from decisions.service.cases import CaseService
from decisions.store.database import Database
from tests.stores import PG_SERVER, fixed_clock, new_database_url, play, supplied_catalogue
from tests.support import MAIN_PATH, PEOPLE

EXECUTING = 14  # MAIN_PATH[:14] ends with assign_execution


def report(service: CaseService) -> Action:
    doc = service.attach("execution_report", b"D-1 execution report", "report.pdf")
    return Action("report_execution", PEOPLE["exec_sun"], date(2025, 7, 1), {"summary": "reported"}, (doc,))


@pytest.fixture
def pg_service(tmp_path: Path, definitions: Definitions) -> Iterator[tuple[CaseService, str]]:
    for url in new_database_url("postgres", tmp_path):
        db = Database(url, documents=tmp_path / "documents")
        db.migrate()
        service = CaseService(db, definitions, clock=fixed_clock, outside=supplied_catalogue)
        play(service, "D-1", MAIN_PATH[:EXECUTING])
        try:
            yield service, url.rsplit("/", 1)[1]
        finally:
            db.dispose()


def end_backends(database_name: str) -> None:
    """End every server process serving ``database_name`` (as a restart would), and wait until they are gone."""
    with psycopg.connect(PG_SERVER, autocommit=True) as admin:
        admin.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s AND pid <> pg_backend_pid()",
            (database_name,),
        )
        for _ in range(100):
            left = admin.execute("SELECT count(*) FROM pg_stat_activity WHERE datname = %s", (database_name,))
            if left.fetchone() == (0,):
                return
            time.sleep(0.05)
    raise AssertionError("the backends did not end")


def test_an_action_and_a_read_after_the_server_dropped_the_pooled_connection(
    pg_service: tuple[CaseService, str],
) -> None:
    service, name = pg_service
    action = report(service)
    end_backends(name)
    assert service.act("D-1", action).record.seq == EXECUTING + 1
    end_backends(name)
    assert service.view("D-1").version == EXECUTING + 1
    assert [e.seq for e in service.repository.load("D-1")[1]] == list(range(1, EXECUTING + 2))


def test_a_connection_lost_before_the_first_statement_is_retried_by_the_writer(
    pg_service: tuple[CaseService, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The loss is found only when the transaction's first statement is sent (the pool saw nothing
    wrong at checkout): nothing of the transaction was done, so the action is retried, once recorded."""
    service, name = pg_service
    action = report(service)
    monkeypatch.setattr(database, "_looks_closed", lambda _connection: False)
    end_backends(name)
    assert service.act("D-1", action).record.seq == EXECUTING + 1
    assert [e.seq for e in service.repository.load("D-1")[1]] == list(range(1, EXECUTING + 2))

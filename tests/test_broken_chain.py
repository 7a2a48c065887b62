"""A broken chain stops work (issue 13, item 5), on SQLite and PostgreSQL.

The finding: after one stored vote was edited behind the engine (the head's view at the meeting turned
from approve to reject, the event's hash left as it was), `audit replay` said "一致 / consistent" with
exit 0, `history` showed the forged vote, and `act` appended the next event to the broken chain. Now
an office that reads such a case refuses to act on it or show it (`ChainBroken`, exit 7, naming the
event), replay says the chain does not verify, and nothing is appended. A case the office holds,
verified when it read it, is acted on without reading its history again.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event, func, select
from typer.testing import CliRunner

from decisions.audit import canonical_bytes, parse_canonical
from decisions.cli import app, exit_code
from decisions.definitions import Definitions
from decisions.errors import ChainBroken
from decisions.model import Action
from decisions.service.audit import AuditService
from decisions.service.cases import CaseService
from decisions.store.database import Database
from decisions.store.tables import EventRow
from tests.stores import fixed_clock, play, supplied_catalogue
from tests.support import MAIN_PATH, PEOPLE, V

EVENTS = EventRow.__table__  # type: ignore[attr-defined]
MEETING = next(i for i, s in enumerate(MAIN_PATH, start=1) if V("views") in s.fields)  # the meeting's event
AFTER = MEETING + 1  # the step that follows it
runner = CliRunner()


def forge_the_heads_vote(db: Database, case_id: str) -> None:
    """The head's recorded view at the meeting becomes another one; the body stays canonical JSON,
    its hash (and every later one) is left as stored."""
    with db.write() as conn:
        where = (EVENTS.c.case_id == case_id, EVENTS.c.seq == MEETING)
        text = conn.execute(select(EVENTS.c.body).where(*where)).scalar_one()
        body: Any = parse_canonical(text.encode("utf-8"))
        head = next(v for v in body["fields"][V("views")] if v.get("head"))
        head["position"] = V("reject")
        conn.execute(EVENTS.update().where(*where).values(body=canonical_bytes(body).decode("utf-8")))


def next_action(service: CaseService) -> Action:
    s = MAIN_PATH[AFTER - 1]
    docs = tuple(service.attach(k, f"{k} text".encode(), f"{k}.pdf") for k in s.docs)
    return Action(s.trigger, PEOPLE[s.actor], s.on, dict(s.fields), docs)


def event_count(db: Database, case_id: str) -> int:
    with db.read() as conn:
        return int(conn.execute(select(func.count()).where(EVENTS.c.case_id == case_id)).scalar_one())


@pytest.fixture
def forged(service: CaseService, db: Database) -> str:
    """D-1 played through its meeting, then its head's vote forged in the database."""
    play(service, "D-1", MAIN_PATH[:MEETING])
    forge_the_heads_vote(db, "D-1")
    return "D-1"


def another_office(db: Database, definitions: Definitions) -> CaseService:
    """A service that has not read the case yet (another process, a later command)."""
    return CaseService(
        Database(db.url, documents=db.documents_root), definitions, clock=fixed_clock, outside=supplied_catalogue
    )


def test_act_on_a_forged_history_is_refused_and_appends_nothing(
    forged: str, db: Database, definitions: Definitions
) -> None:
    office = another_office(db, definitions)
    with pytest.raises(ChainBroken) as refused:
        office.act(forged, next_action(office))
    assert refused.value.seq == MEETING and exit_code(refused.value) == 7
    assert f"#{MEETING}" in str(refused.value) and "does not verify" in str(refused.value)
    assert event_count(db, forged) == MEETING  # nothing appended to the broken chain
    with pytest.raises(ChainBroken):
        office.view(forged)  # what `show` and `history` read


def test_history_from_the_command_line_says_the_chain_does_not_verify(
    forged: str, db: Database, tmp_path: Path
) -> None:
    result = runner.invoke(
        app, ["history", forged, "--db", db.url], env={"DECISIONS_DOCUMENTS": str(db.documents_root)}
    )
    assert isinstance(result.exception, ChainBroken), result.output
    assert exit_code(result.exception) == 7
    assert V("reject") not in result.output  # the forged vote is not shown as the record


def test_replay_says_the_chain_does_not_verify_instead_of_consistent(forged: str, db: Database) -> None:
    env = {"DECISIONS_DOCUMENTS": str(db.documents_root)}
    human = runner.invoke(app, ["audit", "replay", forged, "--db", db.url], env=env)
    assert isinstance(human.exception, ChainBroken) and exit_code(human.exception) == 7
    assert "一致 / consistent" not in human.output
    assert "the chain does not verify" in human.output
    as_json = runner.invoke(app, ["audit", "replay", forged, "--db", db.url, "--json"], env=env)
    assert isinstance(as_json.exception, ChainBroken)
    payload = json.loads(as_json.output)
    assert payload["ok"] is False and payload["chain"]["verifies"] is False and payload["chain"]["seq"] == MEETING


def test_replay_of_an_intact_chain_still_says_it_verifies(service: CaseService) -> None:
    play(service, "D-1", MAIN_PATH[:MEETING])
    report = AuditService(service).replay("D-1")
    assert report.ok and report.broken is None


def test_a_row_that_no_longer_names_the_last_event_stops_work(
    service: CaseService, db: Database, definitions: Definitions
) -> None:
    """The events verify, but the case row's head hash was changed: the case row is named."""
    play(service, "D-1", MAIN_PATH[:3])
    from decisions.store.tables import CaseRow

    cases = CaseRow.__table__  # type: ignore[attr-defined]
    with db.write() as conn:
        conn.execute(cases.update().where(cases.c.id == "D-1").values(head_hash="0" * 64))
    with pytest.raises(ChainBroken) as refused:
        another_office(db, definitions).view("D-1")
    assert refused.value.seq is None and "the case row" in str(refused.value)


def test_acting_on_a_case_the_office_holds_does_not_read_its_history_again(service: CaseService, db: Database) -> None:
    """The chain is verified when the office reads a case it does not hold; what it holds then (and
    extends with its own appends) is acted on without reading the events again: the write path keeps
    its round trips."""
    play(service, "D-1", MAIN_PATH[:MEETING])  # the office holds D-1 as its last append left it
    statements: list[str] = []

    def seen(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        statements.append(" ".join(statement.split()).upper())

    action = next_action(service)
    event.listen(db.engine, "before_cursor_execute", seen)
    try:
        service.act("D-1", action)
    finally:
        event.remove(db.engine, "before_cursor_execute", seen)
    reads_of_events = [s for s in statements if s.startswith("SELECT") and " FROM EVENTS" in s]
    assert reads_of_events == [], reads_of_events
    assert event_count(db, "D-1") == AFTER

"""`decisions init` and `decisions audit ...` from the command line, on SQLite and PostgreSQL."""

from __future__ import annotations

import json
from pathlib import Path

from sqlalchemy import text
from typer.testing import CliRunner

from decisions.cli import app, exit_code
from decisions.errors import StoreError
from decisions.service.cases import CaseService
from decisions.store.database import Database
from tests.stores import fixed_clock, play, play_catalogue, supplied_catalogue
from tests.support import CATALOGUE_PATH, shipped_definitions

CATALOGUE_EVENTS = 10

runner = CliRunner()


def _played(database_url: str, tmp_path: Path) -> Database:
    result = runner.invoke(app, ["init", "--db", database_url], env={"DECISIONS_DOCUMENTS": str(tmp_path / "docs")})
    assert result.exit_code == 0, result.output
    assert "sha256" in result.output
    db = Database(database_url, documents=tmp_path / "docs")
    service = CaseService(db, shipped_definitions(), clock=fixed_clock)  # the catalogue looked up for real
    play_catalogue(service, "2025-03")  # the item the main path launches
    play(service, "D-2025-001")
    return db


def test_the_catalogue_played_first_is_the_published_one() -> None:
    assert [s.trigger for s in CATALOGUE_PATH].index("publish_catalogue") + 1 == CATALOGUE_EVENTS


def test_verify_replay_and_checkpoint_from_the_command_line(database_url: str, tmp_path: Path) -> None:
    db = _played(database_url, tmp_path)
    env = {"DECISIONS_DOCUMENTS": str(tmp_path / "docs")}
    verified = runner.invoke(app, ["audit", "verify", "--db", database_url, "--json"], env=env)
    assert verified.exit_code == 0, verified.output
    assert json.loads(verified.output)["events"] == 17 + CATALOGUE_EVENTS  # the main path: one event per step

    replayed = runner.invoke(app, ["audit", "replay", "D-2025-001", "--db", database_url, "--json"], env=env)
    assert replayed.exit_code == 0, replayed.output
    steps = json.loads(replayed.output)["steps"]
    assert [s["trigger"] for s in steps][-1] == "archive"
    human = runner.invoke(app, ["audit", "replay", "D-2025-001", "--db", database_url], env=env)
    assert "[organiser]" in human.output and "Art. 25(2)" in human.output

    checkpoint = tmp_path / "checkpoint.json"
    made = runner.invoke(app, ["audit", "checkpoint", "--db", database_url, "--out", str(checkpoint)], env=env)
    assert made.exit_code == 0 and checkpoint.is_file()

    with db.write() as conn:  # an edit behind the engine's back
        conn.execute(text("UPDATE events SET actor = 'someone_else' WHERE seq = 8"))
    broken = runner.invoke(
        app, ["audit", "verify", "--db", database_url, "--since-checkpoint", str(checkpoint)], env=env
    )
    assert broken.exit_code == 1
    assert "D-2025-001 #8" in broken.output
    db.dispose()


def test_an_event_body_that_is_not_utf8_is_tampering_not_an_outage(tmp_path: Path) -> None:
    """Bytes written into an SQLite file behind the engine (an event body and its case id no longer
    UTF-8): verify names the event, exit 1 (not the
    exit 6 of a database that does not answer), human and JSON output alike; acting on the decision
    is refused with exit 7. (A PostgreSQL UTF8 database refuses such text on write.)"""
    url = f"sqlite:///{tmp_path / 'decisions.sqlite'}"
    db = _played(url, tmp_path)
    with db.write() as conn:
        conn.execute(
            text(
                "UPDATE events SET body = CAST(CAST(body AS BLOB) || X'FF' AS TEXT), case_id = case_id || CAST(X'FF' AS TEXT) WHERE seq = 8 AND case_id = 'D-2025-001'"
            )
        )
    env = {"DECISIONS_DOCUMENTS": str(tmp_path / "docs")}
    human = runner.invoke(app, ["audit", "verify", "--db", url], env=env)
    assert human.exit_code == 1, human.output
    assert (
        "D-2025-001 #9" in human.output and "\\udcff" in human.output
    )  # the next event's link breaks; the moved event is shown escaped
    as_json = runner.invoke(app, ["audit", "verify", "--db", url, "--json"], env=env)
    assert as_json.exit_code == 1, as_json.output
    findings = json.loads(as_json.output)["findings"]
    assert any(f["kind"] == "body" and f["seq"] == 8 for f in findings), findings
    db.dispose()


def test_an_unreachable_database_is_one_clear_error_and_exit_6(tmp_path: Path) -> None:
    result = runner.invoke(app, ["audit", "verify", "--db", "postgresql://postgres@127.0.0.1:1/none"])
    assert isinstance(result.exception, StoreError)
    assert exit_code(result.exception) == 6
    assert "does not answer" in str(result.exception) and "\n" not in str(result.exception)


def test_an_uninitialised_database_says_to_run_init(tmp_path: Path) -> None:
    result = runner.invoke(app, ["audit", "verify", "--db", f"sqlite:///{tmp_path / 'new.sqlite'}"])
    assert isinstance(result.exception, StoreError) and "decisions init" in str(result.exception)


def test_sm3_can_be_chosen_at_init_and_chains_use_it(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'sm3.sqlite'}"
    result = runner.invoke(app, ["init", "--db", url, "--hash", "sm3"])
    assert result.exit_code == 0, result.output and "sm3" in result.output
    db = Database(url)
    play(
        CaseService(db, shipped_definitions(), clock=fixed_clock, outside=supplied_catalogue),
        "D-1",
        __import__("tests.support").support.MAIN_PATH[:3],
    )
    verified = runner.invoke(app, ["audit", "verify", "--db", url, "--json"])
    assert json.loads(verified.output)["algorithm"] == "sm3" and verified.exit_code == 0

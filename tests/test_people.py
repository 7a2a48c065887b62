"""People as records (issue 13, item 4): an id distinct from the display name, units as data, and
user administration as a hash-chained history with who did what and when; the people table is its
projection; `audit verify` reports any edited byte of it. Delegation (委托代办) with dates: the
delegate acts for the delegator, and the record says so. On SQLite and PostgreSQL."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import text

from decisions.audit import canonical_bytes, chain_hash
from decisions.definitions import Definitions
from decisions.errors import ActionRefused, UsageError
from decisions.service.office import Office
from decisions.store.database import Database
from tests.stores import BACKENDS, fixed_clock, new_database_url

FIELDS = {"title": "城区公交票价调整", "category": "public_policy", "source": "leader"}
PROPOSAL = [("proposal", "关于城区公交票价调整的建议".encode(), "proposal.txt")]
LAUNCH = [("launch_decision", "同意启动".encode(), "launch.txt")]
LAUNCHED = {"organiser_unit": "县交通运输局", "off_catalogue_reason": "突发事件应对"}
DRAFTS = [(k, f"{k} text".encode(), f"{k}.txt") for k in ("draft", "drafting_explanation", "legal_basis_inventory")]
ADMIN = "管理员"


@pytest.fixture(params=BACKENDS)
def office(request: pytest.FixtureRequest, tmp_path: Path, definitions: Definitions) -> Iterator[Office]:
    """An office whose first administrator added themselves, with two units on the list."""
    for url in new_database_url(request.param, tmp_path):
        db = Database(url, documents=tmp_path / "documents")
        db.migrate()
        here = Office(db, definitions, clock=fixed_clock)
        here.users.add(ADMIN, [], admin=True)
        for unit in ("县交通运输局", "县人民政府", "县城市管理局"):
            here.users.add_unit(unit, by=ADMIN)
        try:
            yield here
        finally:
            db.dispose()


def _db(office: Office) -> Database:
    db = office.cases.db
    assert isinstance(db, Database)
    return db


def test_two_people_with_the_same_name_are_two_records_and_an_ambiguous_name_is_refused(office: Office) -> None:
    office.users.add("李明", ["organiser", "proposer"], "县交通运输局", by=ADMIN)
    with pytest.raises(UsageError, match=r"already called.*--id"):
        office.users.add("李明", ["organiser"], "县城市管理局", by=ADMIN)
    second = office.users.add("李明", ["organiser"], "县城市管理局", by=ADMIN, user_id="liming-cg")
    assert (second.id, second.name) == ("liming-cg", "李明")
    # the id always names one person; the name 李明 is also the first one's id, so it names them
    assert office.users.resolve("liming-cg").unit == "县城市管理局"
    assert office.users.resolve("李明").unit == "县交通运输局"
    # a name that is nobody's id and two people's name is refused with the candidates
    office.users.add("张伟", ["head"], "县人民政府", by=ADMIN, user_id="zhangwei-1")
    office.users.add("张伟", ["organiser"], "县交通运输局", by=ADMIN, user_id="zhangwei-2")
    with pytest.raises(UsageError, match=r"several people are called.*zhangwei-1 \(县人民政府\).*zhangwei-2"):
        office.users.actor("张伟")
    case = office.start("major_decision", "liming-cg", FIELDS, PROPOSAL, "2025-03-03")
    assert case.record.actor == "liming-cg"  # the history names the id, not the shared name


def test_every_change_of_people_is_recorded_with_who_made_it_and_when(office: Office) -> None:
    office.users.add("李明", ["organiser"], "县交通运输局", by=ADMIN)
    office.users.grant("李明", "proposer", by=ADMIN)
    office.users.revoke("李明", "organiser", by=ADMIN)
    office.users.set_unit("李明", "县城市管理局", by=ADMIN)
    office.users.deactivate("李明", by=ADMIN)
    office.users.reactivate("李明", by=ADMIN)
    changes = office.users.history("李明")
    assert [(c.kind, c.by) for c in changes] == [
        ("person_added", ADMIN),
        ("role_granted", ADMIN),
        ("role_revoked", ADMIN),
        ("unit_changed", ADMIN),
        ("deactivated", ADMIN),
        ("reactivated", ADMIN),
    ]
    assert all(c.at == "2026-01-05T09:30:00.000000Z" for c in changes)  # the office's clock
    assert changes[1].details == {"role": "proposer"} and changes[3].details == {"unit": "县城市管理局"}
    person = office.users.get("李明")
    assert (person.roles, person.unit, person.active) == (("proposer",), "县城市管理局", True)
    # the whole history, units and the bootstrap included, in one chain
    kinds = [c.kind for c in office.users.history()]
    assert kinds[:4] == ["person_added", "unit_added", "unit_added", "unit_added"]
    assert office.audit.verify().ok


def test_a_deactivated_person_is_reactivated_and_acts_again(office: Office) -> None:
    office.users.add("李明", ["organiser", "proposer"], "县交通运输局", by=ADMIN)
    office.users.deactivate("李明", by=ADMIN)
    with pytest.raises(UsageError, match=r"deactivated"):
        office.start("major_decision", "李明", FIELDS, PROPOSAL, "2025-03-03")
    office.users.reactivate("李明", by=ADMIN)
    assert office.start("major_decision", "李明", FIELDS, PROPOSAL, "2025-03-03").record.actor == "李明"


def test_a_revoked_role_no_longer_acts_and_a_granted_one_does(office: Office) -> None:
    office.users.add("李明", ["organiser", "proposer"], "县交通运输局", by=ADMIN)
    office.users.add("王县长", ["executor"], "县人民政府", by=ADMIN)
    first = office.start("major_decision", "李明", FIELDS, PROPOSAL, "2025-03-03").case.id
    second = office.start("major_decision", "李明", FIELDS, PROPOSAL, "2025-03-03").case.id
    with pytest.raises(ActionRefused, match=r"engine\.role"):
        office.act(first, "launch", "王县长", LAUNCHED, LAUNCH, "2025-03-05")
    office.users.grant("王县长", "head", by=ADMIN)
    assert office.act(first, "launch", "王县长", LAUNCHED, LAUNCH, "2025-03-05").record.role == "head"
    office.users.revoke("王县长", "head", by=ADMIN)
    with pytest.raises(ActionRefused, match=r"engine\.role"):
        office.act(second, "launch", "王县长", LAUNCHED, LAUNCH, "2025-03-05")


def test_only_an_active_administrator_administers_people(office: Office) -> None:
    office.users.add("李明", ["organiser"], "县交通运输局", by=ADMIN)
    with pytest.raises(UsageError, match=r"not an active people administrator"):
        office.users.add("周敏", ["organiser"], "县城市管理局", by="李明")
    with pytest.raises(UsageError, match=r"not an active people administrator"):
        office.users.grant("李明", "head", by="李明")
    with pytest.raises(UsageError, match=r"people are already on record"):
        office.users.add("篡位者", [], admin=True)  # the bootstrap works only on an empty history
    with pytest.raises(UsageError, match=r"unknown unit.*decisions unit add"):
        office.users.add("周敏", ["organiser"], "县城管局", by=ADMIN)  # a typo'd unit is not a new unit
    assert [u.id for u in office.users.list()] == ["李明", ADMIN]


def test_an_edited_byte_of_the_people_history_is_reported_by_verify(office: Office) -> None:
    office.users.add("李明", ["organiser"], "县交通运输局", by=ADMIN)
    assert office.audit.verify().ok
    db = _db(office)
    with db.write() as conn:
        body = conn.execute(text("SELECT body FROM people_history WHERE person = '李明'")).scalar_one()
        conn.execute(
            text("UPDATE people_history SET body = :b WHERE person = '李明'"),
            {"b": body.replace("organiser", "head")},
        )
    report = office.audit.verify()
    assert not report.ok
    assert (report.findings[0].case_id, report.findings[0].kind) == ("people", "hash")


def test_a_projection_rewritten_to_match_is_still_caught_by_replaying_the_history(office: Office) -> None:
    """A forger who grants themselves a role in the people table (not in the history) is found."""
    office.users.add("李明", ["organiser"], "县交通运输局", by=ADMIN)
    with _db(office).write() as conn:
        conn.execute(text("UPDATE users SET roles = 'head,organiser' WHERE id = '李明'"))
    findings = office.audit.verify().findings
    assert [(f.case_id, f.kind) for f in findings] == [("people", "projection")]
    assert "李明" in findings[0].message


def test_a_history_rewritten_with_fresh_hashes_breaks_the_next_link(office: Office) -> None:
    office.users.add("李明", ["organiser"], "县交通运输局", by=ADMIN)
    office.users.add("周敏", ["organiser"], "县城市管理局", by=ADMIN)
    db = _db(office)
    with db.write() as conn:
        row = conn.execute(text("SELECT seq, prev_hash, body FROM people_history WHERE person = '李明'")).one()
        body = json.loads(row.body) | {"roles": ["head", "organiser"]}
        data = canonical_bytes(body)
        digest = chain_hash(office.cases.repository.hash, row.prev_hash, data)
        conn.execute(
            text("UPDATE people_history SET body = :b, hash = :h WHERE seq = :s"),
            {"b": data.decode(), "h": digest, "s": row.seq},
        )
        conn.execute(text("UPDATE users SET roles = 'head,organiser' WHERE id = '李明'"))
    kinds = [(f.case_id, f.seq, f.kind) for f in office.audit.verify().findings]
    assert kinds == [("people", row.seq + 1, "link")]


def test_a_delegate_acts_for_the_delegator_within_the_dates_and_the_record_says_so(office: Office) -> None:
    office.users.add("王县长", ["head"], "县人民政府", by=ADMIN)
    office.users.add("刘副县长", ["executor"], "县人民政府", by=ADMIN)
    office.users.add("李明", ["organiser", "proposer"], "县交通运输局", by=ADMIN)
    case = office.start("major_decision", "李明", FIELDS, PROPOSAL, "2025-03-03").case.id
    with pytest.raises(ActionRefused, match=r"engine\.role"):
        office.act(case, "launch", "刘副县长", LAUNCHED, LAUNCH, "2025-03-05")
    grant = office.users.delegate("王县长", "刘副县长", "head", date(2025, 3, 4), date(2025, 3, 6), by="王县长")
    with pytest.raises(ActionRefused, match=r"engine\.role"):  # not yet: the period starts the day after
        office.act(case, "launch", "刘副县长", LAUNCHED, LAUNCH, "2025-03-03")
    fired = office.act(case, "launch", "刘副县长", LAUNCHED, LAUNCH, "2025-03-05")
    assert (fired.record.actor, fired.record.role, fired.record.on_behalf_of) == ("刘副县长", "head", "王县长")
    assert office.history(case)[-1].on_behalf_of == "王县长"  # read back from the stored event
    office.users.end_delegation(grant.seq, date(2025, 3, 6), by=ADMIN)
    assert [d.ended for d in office.users.delegations("刘副县长")] == ["2025-03-06"]
    assert [c.kind for c in office.users.history("刘副县长")][-2:] == ["delegation_granted", "delegation_ended"]
    replay = office.audit.replay(case)
    assert replay.ok
    assert office.audit.verify().ok


def test_a_delegation_granted_in_another_office_is_in_force_at_once(office: Office) -> None:
    """An office that last read a person with no delegation does not look again on every action (one
    read transaction less per action); one granted meanwhile by another office (another process) is
    still in force at once: the refusal makes the office read the person again, and the action goes
    through. A delegation it holds is never trusted: it is read on every action."""
    office.users.add("王县长", ["head"], "县人民政府", by=ADMIN)
    office.users.add("刘副县长", ["executor"], "县人民政府", by=ADMIN)
    office.users.add("李明", ["organiser", "proposer"], "县交通运输局", by=ADMIN)
    case = office.start("major_decision", "李明", FIELDS, PROPOSAL, "2025-03-03").case.id
    with pytest.raises(ActionRefused, match=r"engine\.role"):  # read and held: no delegation to them
        office.act(case, "launch", "刘副县长", LAUNCHED, LAUNCH, "2025-03-05")
    other = Office(office.cases.store, office.definitions)
    other.users.delegate("王县长", "刘副县长", "head", date(2025, 3, 4), date(2025, 3, 6), by="王县长")
    fired = office.act(case, "launch", "刘副县长", LAUNCHED, LAUNCH, "2025-03-05")
    assert (fired.record.role, fired.record.on_behalf_of) == ("head", "王县长")


def test_a_delegation_needs_the_delegator_or_an_administrator_and_a_role_they_hold(office: Office) -> None:
    office.users.add("王县长", ["head"], "县人民政府", by=ADMIN)
    office.users.add("李明", ["organiser"], "县交通运输局", by=ADMIN)
    with pytest.raises(UsageError, match=r"not an active people administrator"):
        office.users.delegate("王县长", "李明", "head", date(2025, 3, 4), date(2025, 3, 6), by="李明")
    with pytest.raises(UsageError, match=r"does not hold the role 'proposer'"):
        office.users.delegate("王县长", "李明", "proposer", date(2025, 3, 4), date(2025, 3, 6), by=ADMIN)
    with pytest.raises(UsageError, match=r"ends .* before it starts"):
        office.users.delegate("王县长", "李明", None, date(2025, 3, 6), date(2025, 3, 4), by=ADMIN)


@pytest.mark.parametrize("backend", BACKENDS)
def test_migration_0006_backfills_the_history_from_existing_people(
    backend: str, tmp_path: Path, definitions: Definitions
) -> None:
    """A database of the old shape (people keyed by name, no history) is upgraded: everyone is kept
    under their name as id, with a history attributed to the system actor "migration" that verifies."""
    from alembic import command
    from alembic.config import Config

    from decisions.store.database import MIGRATIONS

    for url in new_database_url(backend, tmp_path):
        db = Database(url, documents=tmp_path / "documents")
        config = Config()
        config.set_main_option("script_location", str(MIGRATIONS))
        with db.write() as conn:
            config.attributes["connection"] = conn
            command.upgrade(config, "0003")
            conn.execute(text("INSERT INTO meta (key, value) VALUES ('hash_algorithm', 'sha256')"))
            for name, roles, unit, active, added in [
                ("李明", "organiser,proposer", "县交通运输局", True, "2025-01-02T08:00:00.000000Z"),
                ("老周", "organiser", "县交通运输局", False, "2025-01-01T08:00:00.000000Z"),
            ]:
                conn.execute(
                    text(
                        "INSERT INTO users (name, roles, unit, active, added_at, changed_at) "
                        "VALUES (:n, :r, :u, :a, :t, '2025-02-01T08:00:00.000000Z')"
                    ),
                    {"n": name, "r": roles, "u": unit, "a": active, "t": added},
                )
        db.migrate()
        office = Office(db, definitions, clock=fixed_clock)
        try:
            people = {u.id: (u.name, u.roles, u.unit, u.active) for u in office.users.list()}
            assert people == {
                "李明": ("李明", ("organiser", "proposer"), "县交通运输局", True),
                "老周": ("老周", ("organiser",), "县交通运输局", False),
            }
            changes = office.users.history()
            assert [(c.kind, c.person, c.by) for c in changes] == [
                ("unit_added", "", "migration"),
                ("person_added", "老周", "migration"),
                ("person_added", "李明", "migration"),
                ("deactivated", "老周", "migration"),
            ]
            assert office.users.units() == ["县交通运输局"]
            assert office.audit.verify().ok
            assert office.start("major_decision", "李明", FIELDS, PROPOSAL, "2025-03-03").record.actor == "李明"
        finally:
            db.dispose()


def test_an_organiser_acts_only_on_the_decisions_of_their_own_unit(office: Office) -> None:
    """A rule of the county pack (youxian.organiser_acts_for_own_unit), not code: the clerk of the
    city-management bureau cannot advance the transport bureau's decision; its own clerk can."""
    office.users.add("王县长", ["head"], "县人民政府", by=ADMIN)
    office.users.add("李明", ["organiser", "proposer"], "县交通运输局", by=ADMIN)
    office.users.add("周敏", ["organiser"], "县城市管理局", by=ADMIN)
    case = office.start("major_decision", "李明", FIELDS, PROPOSAL, "2025-03-03").case.id
    office.act(case, "launch", "王县长", LAUNCHED, LAUNCH, "2025-03-05")
    with pytest.raises(ActionRefused, match=r"youxian\.organiser_acts_for_own_unit") as refused:
        office.act(case, "submit_draft", "周敏", {}, DRAFTS, "2025-03-10")
    assert "organiser_unit" in str(refused.value) and "第十一条" in str(refused.value)
    assert office.act(case, "submit_draft", "李明", {}, DRAFTS, "2025-03-10").record.actor == "李明"
    rule = "youxian.organiser_acts_for_own_unit"

    def blocked_by_the_rule() -> set[str]:
        return {o.trigger for o in office.show(case, "周敏").options for u in o.blocked if u.rule_id == rule}

    assert blocked_by_the_rule()  # what 周敏 is shown as blocked, and why
    # moved to the transport bureau, the same clerk may act on its decisions
    office.users.set_unit("周敏", "县交通运输局", by=ADMIN)
    assert not blocked_by_the_rule()

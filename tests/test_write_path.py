"""What an office acts on is what is on record, though it prepares actions from what it last read:
another office (another process) that moves a case on or deactivates a person changes what this
one may do at once, and nothing is written on a stale view. On SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from decisions.definitions import Definitions
from decisions.errors import UsageError
from decisions.service.office import Office
from decisions.store.database import Database
from tests.stores import BACKENDS, fixed_clock, new_database_url

FIELDS = {"title": "城区公交票价调整", "category": "public_policy", "source": "leader"}
PROPOSAL = [("proposal", "关于城区公交票价调整的建议".encode(), "proposal.txt")]
LAUNCH = [("launch_decision", "同意启动".encode(), "launch.txt")]
LAUNCHED = {"organiser_unit": "县交通运输局", "off_catalogue_reason": "突发事件应对"}
DRAFTS = [(k, f"{k} text".encode(), f"{k}.txt") for k in ("draft", "drafting_explanation", "legal_basis_inventory")]


@pytest.fixture(params=BACKENDS)
def offices(
    request: pytest.FixtureRequest, tmp_path: Path, definitions: Definitions
) -> Iterator[tuple[Office, Office]]:
    """Two offices on one database, each with its own engine and connections (as two processes)."""
    for url in new_database_url(request.param, tmp_path):
        first = Database(url, documents=tmp_path / "documents")
        first.migrate()
        here = Office(first, definitions, clock=fixed_clock)
        here.users.add("李明", ["organiser", "proposer"], "县交通运输局")
        here.users.add("王县长", ["head"], "县人民政府")
        second = Database(url, documents=tmp_path / "documents")
        try:
            yield here, Office(second, definitions, clock=fixed_clock)
        finally:
            first.dispose()
            second.dispose()


def test_a_person_deactivated_elsewhere_cannot_act_here(offices: tuple[Office, Office]) -> None:
    here, elsewhere = offices
    case = here.start("major_decision", "李明", FIELDS, PROPOSAL, "2025-03-03").case.id  # 李明 read here
    here.act(case, "launch", "王县长", LAUNCHED, LAUNCH, "2025-03-05")
    elsewhere.users.deactivate("李明")
    with pytest.raises(UsageError, match="deactivated"):
        here.act(case, "submit_draft", "李明", {}, DRAFTS, "2025-03-10")
    assert elsewhere.cases.view(case).version == 2
    with pytest.raises(UsageError, match="deactivated"):
        here.start("major_decision", "李明", FIELDS, PROPOSAL, "2025-03-11")
    assert [c[0] for c in elsewhere.list_cases()] == [case]


def test_an_action_the_case_moved_on_to_allow_is_accepted_here(offices: tuple[Office, Office]) -> None:
    """This office last saw the case just proposed; another launched it since. Submitting the draft
    (possible only once launched) is judged on the stored case, not on what this office last read."""
    here, elsewhere = offices
    case = here.start("major_decision", "李明", FIELDS, PROPOSAL, "2025-03-03").case.id
    elsewhere.act(case, "launch", "王县长", LAUNCHED, LAUNCH, "2025-03-05")
    fired = here.act(case, "submit_draft", "李明", {}, DRAFTS, "2025-03-10")
    assert (fired.record.seq, fired.record.from_state) == (3, "drafting")
    assert [r.trigger for r in elsewhere.history(case)] == ["propose", "launch", "submit_draft"]

"""The lists (issue 14): the inbox (待办) one row per case, overdue first, across workflows, with
its filters; the done list (已办) from one indexed query, newest first and paged; the search of the
cases by each filter, a case that must not match left out; each catalogue item's decision and how
far it has got. Through the pages and the JSON API (TestClient) and through `Office` itself, on
SQLite, PostgreSQL and the in-memory store.

The office's clock reads 2026-01-05 (`tests.stores.NOW`): the decisions played on 2025's dates are
overdue by then; a decision proposed "today" is not."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path

import pytest

from decisions.definitions import Definitions
from decisions.errors import UsageError
from decisions.service.office import Office
from decisions.store.memory import memory_store
from tests.stores import BACKENDS, fixed_clock, new_database_url, supplied_catalogue
from tests.support import CATALOGUE_PATH, MAIN_PATH, Step, V
from tests.web_support import PASSWORD, PEOPLE, PROPOSAL, client, login, play, raw, until, web_office


@pytest.fixture(params=["memory", *BACKENDS])
def office(request: pytest.FixtureRequest, tmp_path: Path, definitions: Definitions) -> Iterator[Office]:
    """An office on SQLite, on PostgreSQL, and on the in-memory store (which keeps the SQL lists'
    meaning: the same tests, the same answers)."""
    if request.param == "memory":
        office = Office(memory_store(), definitions, clock=fixed_clock)
        office.cases.outside = supplied_catalogue
        for name, roles, unit in PEOPLE.values():
            office.users.add(name, roles, unit)
            office.set_password(name, PASSWORD)
        yield office
        return
    for url in new_database_url(request.param, tmp_path):
        yield web_office(url, tmp_path, definitions)


@dataclass(frozen=True)
class World:
    """Three decisions and the 2025 catalogue's call for items."""

    reviewed: str  # under legality review since April 2025 (its review due 2025-04-30: overdue), 县交通运输局
    launched: str  # launched in March 2025 for 县水利局 (its research deadline passed: overdue)
    fresh: str  # proposed today (2026), no unit yet, nothing due
    catalogue: str  # the 2025 catalogue (opened in 2024, about 2025)


def launched_for(unit: str) -> tuple[Step, ...]:
    steps = until("launch")
    return (*steps[:-1], replace(steps[-1], fields={**steps[-1].fields, V("organiser_unit"): unit}))


@pytest.fixture
def world(office: Office) -> World:
    notice = [(V("call_notice"), "关于征集2025年度重大行政决策事项的通知".encode(), "notice.txt")]
    catalogue = office.open_catalogue(2025, "office_chen", {V("deadline"): "2024-12-10"}, notice, "2024-11-10")
    reviewed = play(office, until("give_legal_opinion"))
    launched = play(office, launched_for("县水利局"))
    fresh = office.propose("clerk_li", {**PROPOSAL, V("title"): "农村饮水安全工程"}).case.id
    return World(reviewed, launched, fresh, catalogue.case.id)


def rows(html: str) -> list[str]:
    """The case ids of a list page's rows, in order."""
    return re.findall(r'<tr class="case-row[^"]*" data-case="([^"]+)"', html)


# -- the inbox -------------------------------------------------------------------------------------


def test_the_inbox_has_one_row_per_case_overdue_first_with_its_actions(office: Office, world: World) -> None:
    c = login(client(office), "head")
    page = c.get("/").text
    order = rows(page)
    assert sorted(order) == sorted({world.reviewed, world.launched, world.fresh})  # one row each
    assert order[-1] == world.fresh  # the two overdue cases first, the undated one last
    assert order[:2] == [world.launched, world.reviewed]  # the earlier due date first
    row = page.split(f'data-case="{world.launched}"')[1].split("</tr>")[0]
    assert "overdue" in page.split(f'data-case="{world.launched}"')[0].rsplit("<tr", 1)[1]
    actions = office.inbox("head_wang").cases[0].tasks
    assert len(actions) > 1 and all(t.option.label.zh in row for t in actions)  # all its actions in its row
    assert "2025-04-07" in row and "已逾期" in row
    fresh = page.split(f'data-case="{world.fresh}"')[1].split("</tr>")[0]
    assert "已逾期" not in fresh and "无期限" in fresh


def test_the_inbox_lists_the_most_urgent_and_says_when_more_wait(office: Office, world: World) -> None:
    workflow = office.proposal_workflow()
    inbox = office.inbox("head_wang", 2)
    assert [c.first.case_id for c in inbox.cases] == [world.launched, world.reviewed]  # the most urgent two
    assert inbox.more == (workflow,)
    assert office.inbox("head_wang", 3).more == ()  # all three shown: nothing more waits
    page = login(client(office, inbox_limit=2), "head").get("/").text
    assert rows(page) == [world.launched, world.reviewed]
    note = page.split(f'<p class="more" data-workflow="{workflow}">')[1].split("</p>")[0]
    assert "最紧迫的 2 件" in note and f'href="/cases?workflow={workflow}"' in note
    assert 'class="more"' not in login(client(office), "head").get("/").text


def test_the_inbox_filters_by_workflow_and_overdue(office: Office, world: World) -> None:
    c = login(client(office), "head")
    overdue = rows(c.get("/?overdue=1").text)
    assert overdue == [world.launched, world.reviewed]  # the fresh proposal is not overdue
    catalogue_only = rows(c.get(f"/?workflow={V('catalogue')}").text)
    assert not set(catalogue_only) & {world.reviewed, world.launched, world.fresh}
    assert set(rows(c.get(f"/?workflow={office.proposal_workflow()}").text)) == {
        world.reviewed,
        world.launched,
        world.fresh,
    }
    api = c.get("/api/inbox?overdue=1").json()
    assert [x["case"] for x in api["cases"]] == [world.launched, world.reviewed]
    assert all(x["overdue"] for x in api["cases"]) and {t["case"] for t in api["tasks"]} == {
        world.launched,
        world.reviewed,
    }
    assert c.get("/?workflow=nowhere").status_code == 400  # told, not a traceback


def test_the_inbox_tells_the_working_days_left_of_a_running_due_date(office: Office, world: World) -> None:
    launch = {V("organiser_unit"): "县水利局", V("catalogue_item"): "2025-03"}
    office.act(world.fresh, V("launch"), "head_wang", launch, [(V("launch_decision"), b"launch", "launch.txt")])
    entry = next(x for x in office.inbox("clerk_li").cases if x.first.case_id == world.fresh)
    due = entry.next_due
    assert due is not None and not entry.overdue and due.remaining_working_days
    page = login(client(office), "clerk").get("/").text
    row = page.split(f'data-case="{world.fresh}"')[1].split("</tr>")[0]
    assert f"剩余 {due.remaining_working_days} 个工作日" in row


# -- done ------------------------------------------------------------------------------------------


def test_done_lists_the_cases_a_person_acted_in_newest_first(office: Office, world: World) -> None:
    page = office.done("clerk_li")
    assert [d.case_id for d in page.items] == [world.fresh, world.reviewed, world.launched]
    last = page.items[1]
    assert last.action == V("submit_legality_review") and last.on.isoformat() == "2025-04-16"
    assert last.role == V("organiser")
    counsel = office.done("counsel_zhao")
    assert [d.case_id for d in counsel.items] == [world.reviewed]  # never acted in the others
    c = login(client(office), "clerk")
    html = c.get("/done").text
    assert rows(html) == [world.fresh, world.reviewed, world.launched]
    assert last.action_label.zh in html and "2025-04-16" in html


def test_done_is_paged(office: Office, world: World) -> None:
    first = office.done("clerk_li", limit=2)
    second = office.done("clerk_li", limit=2, offset=2)
    assert first.total == second.total == 3 and first.next == 2 and second.next is None
    assert [d.case_id for d in (*first.items, *second.items)] == [world.fresh, world.reviewed, world.launched]
    assert second.previous == 0
    with pytest.raises(UsageError):
        office.done("clerk_li", limit=0)


# -- search ----------------------------------------------------------------------------------------


def found(office: Office, **filters: object) -> set[str]:
    return {c.case_id for c in office.search(**filters).items}  # type: ignore[arg-type]


def test_search_by_each_filter_leaves_out_what_does_not_match(office: Office, world: World) -> None:
    decisions = {world.reviewed, world.launched, world.fresh}
    assert found(office, title="公交") == {world.reviewed, world.launched}
    assert found(office, title="饮水") == {world.fresh}
    assert found(office, unit="交通运输") == {world.reviewed}
    assert found(office, unit="水利局") == {world.launched}
    assert found(office, state=V("under_review")) == {world.reviewed}
    assert found(office, year=2026) == {world.fresh}
    assert found(office, year="2025") == {world.reviewed, world.launched, world.catalogue}  # its year, not 2024's
    assert found(office, overdue=True) == {world.reviewed, world.launched}
    assert found(office, person="counsel_zhao") == {world.reviewed}
    assert found(office, workflow=V("catalogue")) == {world.catalogue}
    assert found(office, workflow=office.proposal_workflow()) == decisions
    assert found(office, title="公交", unit="水利", year=2025, overdue=True) == {world.launched}  # all must hold
    assert found(office, title="no such title") == set()


def test_search_is_paged_most_recently_started_first(office: Office, world: World) -> None:
    first = office.search(workflow=office.proposal_workflow(), limit=2)
    rest = office.search(workflow=office.proposal_workflow(), limit=2, offset=2)
    assert first.total == 3 and first.items[0].case_id == world.fresh and first.next == 2
    assert {c.case_id for c in (*first.items, *rest.items)} == {world.reviewed, world.launched, world.fresh}


@pytest.mark.parametrize(
    "filters",
    [
        {"workflow": "nowhere"},
        {"state": "nowhere"},
        {"year": "20x5"},
        {"year": 1999},
        {"title": "x\x00"},
        {"person": "nobody_at_all"},
        {"offset": -1},
        {"offset": 10**12},
    ],
    ids=["workflow", "state", "year", "year range", "NUL", "person", "negative offset", "huge offset"],
)
def test_search_refuses_a_filter_it_cannot_use(office: Office, world: World, filters: dict[str, object]) -> None:
    with pytest.raises(UsageError):
        office.search(**filters)  # type: ignore[arg-type]


def test_the_search_page_and_its_api_twin(office: Office, world: World) -> None:
    c = login(client(office), "clerk")
    html = c.get("/cases", params={"title": "公交", "unit": "交通"}).text
    assert rows(html) == [world.reviewed]
    assert f'href="/cases/{world.reviewed}"' in html and "县交通运输局" in html
    assert 'value="公交"' in html  # the form keeps what was asked
    everything = rows(c.get("/cases").text)
    assert set(everything) == {world.reviewed, world.launched, world.fresh, world.catalogue}
    overdue = rows(c.get("/cases", params={"overdue": "1", "year": "2025"}).text)
    assert set(overdue) == {world.reviewed, world.launched}
    api = c.get("/api/cases", params={"person": "counsel_zhao"}).json()
    assert api["total"] == 1 and api["cases"][0]["case"] == world.reviewed
    assert api["cases"][0]["state"] == V("under_review") and api["cases"][0]["overdue"] is True
    bad = c.get("/api/cases", params={"year": "soon"})
    assert bad.status_code == 400 and "year" in bad.json()["error"]["detail"]
    assert c.get("/cases", params={"title": "<script>"}).text.count("<script>") == 0  # escaped


def test_search_pages_link_to_each_other_keeping_the_filters(office: Office, world: World) -> None:
    for i in range(50):  # more than a page of results
        office.propose("clerk_li", {**PROPOSAL, V("title"): f"公交线路优化第{i}号"})
    c = login(client(office), "clerk")
    first = c.get("/cases", params={"title": "公交"}).text
    assert len(rows(first)) == 50
    link = re.search(r'<a href="([^"]+)" rel="next">', first)
    assert link is not None
    second = c.get(link.group(1).replace("&amp;", "&")).text
    assert rows(second) and not set(rows(second)) & set(rows(first))
    assert set(rows(second)) >= {world.reviewed, world.launched}  # the oldest last


# -- the catalogue's progress ----------------------------------------------------------------------


def test_each_catalogue_item_shows_its_decision_and_stage(office: Office, tmp_path: Path) -> None:
    case_id = None
    for step in CATALOGUE_PATH:
        fields = {k: raw(v) for k, v in step.fields.items()}
        docs = [(kind, f"{kind}".encode(), f"{kind}.txt") for kind in step.docs]
        if case_id is None:
            year = int(fields.pop(V("year")))
            case_id = office.open_catalogue(year, "office_chen", fields, docs, step.on).case.id
        else:
            office.act(case_id, step.trigger, step.actor, fields, docs, step.on)
    launch = next(s for s in MAIN_PATH if s.trigger == V("launch"))
    steps = (*until("launch")[:-1], replace(launch, fields={**launch.fields, V("catalogue_item"): "2025-01"}))
    decision = play(office, steps)
    progress = {p.item.id: p for p in office.catalogue_progress(2025)}
    assert [d.case_id for d in progress["2025-01"].decisions] == [decision]
    others = [p for i, p in progress.items() if i != "2025-01"]
    assert others and all(not p.decisions for p in others)
    shown = office.show(decision)
    html = login(client(office), "office").get("/catalogue?year=2025").text
    item = html.split('data-item="2025-01"')[1].split("</tr>")[0]
    assert decision in item and shown.stage_label.zh in item and shown.state_label.zh in item
    assert "久拖不决" in item  # planned by 2025-06-30, no decision taken by 2026-01-05
    other = html.split(f'data-item="{others[0].item.id}"')[1].split("</tr>")[0]
    assert "尚未启动决策" in other

"""The decision page's and the start page's forms come from the service's input schema (issue 14):
every field and document an action takes or its rules read, each with the input its type calls for
(a dropdown of labelled values, a date picker, a number, a file, one row per member for a meeting's
views), marked required, conditional (with the condition in words) or optional as the schema says;
a blocked action shows its rule, article and remedy (who may do it, by name) before anything is
submitted; a refused submission shows the form again with what was typed and the reason; a
correction (更正) is accepted and shown on the timeline with what it replaced, by whom and why, or
refused with its article; the head withdraws a matter through its form. On SQLite and PostgreSQL."""

from __future__ import annotations

import html
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from decisions.definitions import Definitions
from decisions.errors import cited
from decisions.service.office import Office
from decisions.workflow.needs import ActionSchema
from tests.stores import BACKENDS, new_database_url
from tests.support import MEETING, V
from tests.web_support import client, csrf, login, play, raw, until, web_office

# what a clerk proposes (tests.web_support's PROPOSAL, its field names as the vocabulary in force names them)
PROPOSAL = {V("title"): "城区公交票价调整", V("category"): V("public_policy"), V("source"): V("leader")}


@pytest.fixture(params=BACKENDS)
def office(request: pytest.FixtureRequest, tmp_path: Path, definitions: Definitions) -> Iterator[Office]:
    for url in new_database_url(request.param, tmp_path):
        yield web_office(url, tmp_path, definitions)


def block(page: str, prefix: str, name: str, kind: str = "f") -> str:
    """The label (or fieldset) of one input of a form, by its id."""
    found = re.search(
        rf'<(label|fieldset) class="field[^"]*" (?:for|id)="{re.escape(prefix)}-{kind}-{name}".*?</\1>', page, re.S
    )
    assert found, f"no input {kind}.{name} in form {prefix}"
    return found.group(0)


def requirement(piece: str) -> str:
    found = re.search(r'data-requirement="([a-z]+)"', piece)
    assert found
    return found.group(1)


def assert_form_is_the_schema(page: str, prefix: str, schema: ActionSchema, office: Office, workflow: str) -> None:
    """Every input of ``schema`` is on the page with its label, its kind of input, its requirement
    mark and, when conditional, its condition in words."""
    wf = office.definitions.workflow(workflow)
    for i in schema.inputs:
        if i.kind == "document":
            if not i.accepted:
                continue
            piece = block(page, prefix, i.name, "d")
            assert f'type="file" name="d.{i.name}"' in piece
        else:
            piece = block(page, prefix, i.name)
            f = wf.fields[i.name]
            expected = {
                "date": f'type="date" name="f.{i.name}"',
                "integer": f'type="number" step="1" name="f.{i.name}"',
                "enum": f'<select id="{prefix}-f-{i.name}" name="f.{i.name}"',
                "boolean": f'<select id="{prefix}-f-{i.name}" name="f.{i.name}"',
                "text": f'<textarea id="{prefix}-f-{i.name}" name="f.{i.name}"',
                "views": f'name="v.{i.name}.0.member"',
            }.get(f.type.value, f'type="text" name="f.{i.name}"')
            assert expected in piece, (i.name, f.type.value)
            for value, label in i.choices:
                text = html.escape(label.zh if label else value)
                assert f'value="{value}">{text}</option>' in piece or f'value="{value}" ' in piece, (i.name, value)
        assert html.escape(i.label.zh) in piece
        assert requirement(piece) == i.requirement.value, i.name
        assert ('class="required"' in piece) == (i.requirement.value == "required"), i.name
        for condition in i.conditions:
            assert html.escape(condition.zh) in piece, (i.name, condition.zh)


def test_every_start_form_is_its_start_schema_with_each_kind_of_input(office: Office) -> None:
    c = login(client(office), "clerk")
    page = c.get("/start").text
    kinds: set[str] = set()
    for name, wf in office.definitions.workflows.items():
        if wf.case is None or f'id="start-{name}"' not in page:
            continue
        schema = office.start_schema(name, "clerk_li")
        assert_form_is_the_schema(page, f"s-{name}", schema, office, name)
        kinds |= {wf.fields[i.name].type.value if i.kind == "field" else "document" for i in schema.inputs}
    # the clerk's start forms alone have text, long text, dropdowns, yes/no, numbers and files
    assert {"string", "text", "enum", "boolean", "integer", "case", "document"} <= kinds
    category = block(page, f"s-{office.proposal_workflow()}", V("category"))
    wf = office.definitions.workflow(office.proposal_workflow())
    assert f">{wf.fields[V('category')].value_labels[V('public_policy')].zh}</option>" in category  # by its label


def test_a_clerk_starts_a_case_through_the_generated_form_on_a_day_of_their_choosing(office: Office) -> None:
    c = login(client(office), "clerk")
    workflow = office.proposal_workflow()
    data = {"csrf": csrf(c, "/start"), **{f"f.{k}": v for k, v in PROPOSAL.items()}, "on": "2025-11-03"}
    r = c.post(f"/start/{workflow}", data=data, follow_redirects=False)
    assert r.status_code == 303
    case_id = r.headers["location"].rsplit("/", 1)[1]
    first = office.history(case_id)[0]
    assert (first.actor, first.on.isoformat()) == ("clerk_li", "2025-11-03")


def test_every_available_action_s_form_is_its_schema_on_the_case_with_date_pickers(office: Office) -> None:
    case_id = play(office, until("open_consultation"))
    c = login(client(office), "clerk")
    page = c.get(f"/cases/{case_id}").text
    d = office.show(case_id, "clerk_li")
    available = [o for o in d.options if o.available]
    assert V("change_comment_period") in {o.trigger for o in available}
    for o in available:
        assert f'id="action-{o.trigger}"' in page
        assert_form_is_the_schema(
            page, f"a-{o.trigger}", office.action_schema(case_id, o.trigger, "clerk_li"), office, d.view.case.workflow
        )
    change = block(page, f"a-{V('change_comment_period')}", V("comment_deadline"))
    assert 'type="date"' in change and 'class="required"' in change
    notice = block(page, f"a-{V('change_comment_period')}", V("consultation_notice"), "d")
    assert "已有 1 份" in notice  # the notice already on record


def test_a_conditional_field_says_in_words_when_it_is_needed(office: Office) -> None:
    case_id = office.propose("clerk_li", PROPOSAL).case.id
    c = login(client(office), "head")
    page = c.get(f"/cases/{case_id}").text
    schema = office.action_schema(case_id, V("launch"), "head_wang")
    conditional = [i for i in schema.inputs if i.requirement.value == "conditional" and i.conditions]
    assert conditional, "launch has inputs needed only under a condition"
    for i in conditional:
        piece = block(page, f"a-{V('launch')}", i.name, "d" if i.kind == "document" else "f")
        assert "视情况" in piece and "以下情形需要" in piece and html.escape(i.conditions[0].zh) in piece
        assert 'class="required"' not in piece


def test_a_meeting_s_views_are_one_row_per_member_and_are_recorded_as_given(office: Office) -> None:
    case_id = play(office, until("submit_for_discussion"))
    c = login(client(office), "office")
    page = c.get(f"/cases/{case_id}").text
    views = block(page, f"a-{V('approve')}", V("views"))
    wf = office.definitions.workflow(office.show(case_id).view.case.workflow)
    assert views.startswith("<fieldset") and "<textarea" not in views
    assert views.count(f'name="v.{V("views")}.') >= 3 * 4  # member, position, note: a row per member
    assert f">{wf.fields[V('views')].value_labels[V('approve')].zh}</option>" in views
    data: dict[str, str] = {
        "csrf": csrf(c, f"/cases/{case_id}"),
        "action": V("approve"),
        f"f.{V('meeting_type')}": MEETING[V("meeting_type")],
        f"f.{V('attendees')}": raw(MEETING[V("attendees")]),
        "on": "2025-05-06",
    }
    for n, view in enumerate(MEETING[V("views")]):
        data[f"v.{V('views')}.{n}.member"] = view["member"]
        data[f"v.{V('views')}.{n}.position"] = view["position"]
        if view.get("head"):
            data[f"v.{V('views')}.head"] = str(n)
    data[f"v.{V('views')}.1.note"] = "建议加强宣传"
    files = {f"d.{V('minutes')}": ("纪要.txt", "会议纪要".encode(), "text/plain")}
    r = c.post(f"/cases/{case_id}/act", data=data, files=files, follow_redirects=False)
    assert r.status_code == 303, r.text[-2000:]
    recorded = office.history(case_id)[-1].fields[V("views")]
    expected = [dict(v) for v in MEETING[V("views")]]
    expected[1]["note"] = "建议加强宣传"
    assert recorded == expected
    page = c.get(f"/cases/{case_id}").text
    label = wf.fields[V("views")].value_labels[V("reject")].zh
    assert f"<li>deputy_c：{label}</li>" in page and "（主持人）" in page  # on the timeline, by their labels


def test_a_blocked_action_shows_its_rule_article_and_who_may_do_it_by_name_before_submitting(office: Office) -> None:
    office.users.add("张华", [V("head")], "县人民政府", user_id="zhang_hua")
    office.users.add("王芳", [V("head")], "县人民政府", user_id="wang_fang_1")
    office.users.add("王芳", [V("head")], "县发展和改革局", user_id="wang_fang_2")
    case_id = play(office, until("open_consultation"))
    c = login(client(office), "clerk")
    page = c.get(f"/cases/{case_id}").text
    blocked = re.search(rf'<li id="blocked-{V("withdraw")}">.*?</ul>\s*</li>', page, re.S)
    assert blocked, "withdrawal is blocked for the clerk"
    text = blocked.group(0)
    o = next(o for o in office.show(case_id, "clerk_li").options if o.trigger == V("withdraw"))
    u = o.blocked[0]
    assert u.rule_id in text and html.escape(cited(u.citation, "zh")) in text
    wf = office.definitions.workflow(office.show(case_id).view.case.workflow)
    assert f"由以下角色办理：{wf.roles[V('head')].label.zh}" in text
    assert "张华" in text and "zhang_hua" not in text  # by display name
    assert "王芳 (wang_fang_1)" in text and "王芳 (wang_fang_2)" in text  # the id where the name is shared
    assert "/ " not in text.replace("</", "")  # one language


def test_the_timeline_names_people_by_their_display_names(office: Office) -> None:
    office.users.add("张华", [V("head")], "县人民政府", user_id="zhang_hua")
    case_id = office.propose("clerk_li", PROPOSAL).case.id
    office.act(
        case_id,
        V("launch"),
        "zhang_hua",
        {V("organiser_unit"): "县交通运输局", V("catalogue_item"): "2025-03"},
        [(V("launch_decision"), b"launch", "launch.txt")],
    )
    page = login(client(office), "clerk").get(f"/cases/{case_id}").text
    timeline = page[page.index('<ol class="timeline">') :]
    assert '<span class="actor">张华</span>' in timeline and "zhang_hua" not in timeline


def test_a_refused_action_shows_the_form_again_with_what_was_typed_and_the_reason(office: Office) -> None:
    case_id = office.propose("clerk_li", PROPOSAL).case.id
    c = login(client(office), "head")
    version = office.show(case_id).view.version
    data = {
        "csrf": csrf(c, f"/cases/{case_id}"),
        "action": V("launch"),
        f"f.{V('organiser_unit')}": "县交通运输局",
        f"f.{V('catalogue_item')}": "2099-99",  # not in the published catalogue
    }
    r = c.post(f"/cases/{case_id}/act", data=data)
    assert r.status_code == 422
    assert 'id="refusal"' in r.text and f'<details class="action" id="action-{V("launch")}" open>' in r.text
    assert 'value="县交通运输局"' in r.text and 'value="2099-99"' in r.text
    assert re.search(r'<ul class="reasons">.*?<cite>[^<]*第[^<]*条', r.text, re.S)  # with its article
    assert office.show(case_id).view.version == version  # nothing written
    data[f"f.{V('catalogue_item')}"] = "2025-03"
    data["on"] = "2025-13-45"  # no such day: the form again, with the accepted forms of a date
    r = c.post(f"/cases/{case_id}/act", data=data)
    assert r.status_code == 400 and "日期格式错误" in r.text and 'value="2025-03"' in r.text
    assert office.show(case_id).view.version == version


def _open(office: Office) -> tuple[str, int]:
    case_id = play(office, until("open_consultation"))
    seq = next(r.seq for r in office.history(case_id) if r.trigger == V("open_consultation"))
    return case_id, seq


def test_a_correction_is_accepted_and_shown_on_the_timeline_with_what_it_replaced(office: Office) -> None:
    case_id, seq = _open(office)
    c = login(client(office), "clerk")
    page = c.get(f"/cases/{case_id}").text
    form = re.search(rf'<details class="correction" id="correct-{seq}".*?</details>', page, re.S)
    assert form and f'name="f.{V("comment_deadline")}"' in form.group(0) and "现为: 2025-04-14" in form.group(0)
    assert 'id="correct-1"' not in page  # the clerk may correct nothing of the proposal
    data = {
        "csrf": csrf(c, f"/cases/{case_id}"),
        "event": str(seq),
        "role": V("organiser"),
        f"f.{V('comment_deadline')}": "2025-04-21",
        "why": "公告所载截止日期为4月21日，录入有误",
    }
    r = c.post(f"/cases/{case_id}/correct", data=data, follow_redirects=False)
    assert r.status_code == 303, r.text[-1500:]
    _, errata = office.history_with_errata(case_id)
    assert [(e.corrects, e.actor) for e in errata] == [(seq, "clerk_li")]
    page = c.get(f"/cases/{case_id}").text
    shown = re.search(r'<li id="event-\d+" value="\d+" class="erratum">.*?</li>', page, re.S)
    assert shown
    entry = shown.group(0)
    assert "<del>2025-04-14</del> → <ins>2025-04-21</ins>" in entry
    assert "公告所载截止日期为4月21日，录入有误" in entry and "clerk_li" in entry
    assert f'href="#event-{seq}"' in entry
    assert f'<a href="#event-{errata[0].seq}">#{errata[0].seq}</a>' in page  # the record says it was corrected


def test_a_correction_is_refused_with_its_article_and_nothing_is_written(office: Office) -> None:
    case_id, seq = _open(office)
    c = login(client(office), "clerk")
    version = office.show(case_id).view.version
    token = csrf(c, f"/cases/{case_id}")
    # the proposal's title: nobody's to correct by the workflow's corrections
    r = c.post(
        f"/cases/{case_id}/correct", data={"csrf": token, "event": "1", f"f.{V('title')}": "改名", "why": "笔误"}
    )
    assert r.status_code == 422 and "engine.correction" in r.text and 'id="refusal"' in r.text
    assert re.search(r"<cite>[^<]*第[^<]*条", r.text)
    wf = office.definitions.workflow(office.show(case_id).view.case.workflow)
    whom = re.search(r'<ul class="remedy" id="correctors">.*?</ul>', r.text, re.S)
    assert (
        whom and f"可更正此事件的角色：{wf.roles[V('office_clerk')].label.zh}（现任人员：office_chen）" in whom.group(0)
    )
    # a deadline that would make the notice's period unlawfully short: the rule it breaks, the values kept
    r = c.post(
        f"/cases/{case_id}/correct",
        data={"csrf": token, "event": str(seq), f"f.{V('comment_deadline')}": "2025-03-14", "why": "更正"},
    )
    assert r.status_code == 422 and f'<details class="correction" id="correct-{seq}" open>' in r.text
    assert 'value="2025-03-14"' in r.text and "更正后第" in r.text
    assert office.show(case_id).view.version == version
    assert office.history_with_errata(case_id)[1] == ()


def test_the_head_withdraws_a_matter_through_its_form(office: Office) -> None:
    case_id, _ = _open(office)
    c = login(client(office), "head")
    page = c.get(f"/cases/{case_id}").text
    schema = office.action_schema(case_id, V("withdraw"), "head_wang")
    assert_form_is_the_schema(page, f"a-{V('withdraw')}", schema, office, office.show(case_id).view.case.workflow)
    data = {"csrf": csrf(c, f"/cases/{case_id}"), "action": V("withdraw")}
    r = c.post(f"/cases/{case_id}/act", data=data)
    assert r.status_code == 422  # without its reason: refused, the reason required
    data.update({f"f.{i.name}": "决策条件发生变化" for i in schema.fields if i.requirement.value == "required"})
    r = c.post(f"/cases/{case_id}/act", data=data, follow_redirects=False)
    assert r.status_code == 303
    case = office.show(case_id).view.case
    assert case.state == V("withdrawn") and office.history(case_id)[-1].actor == "head_wang"
    page = c.get(f"/cases/{case_id}").text
    assert f'<g class="state current" data-state="{V("withdrawn")}">' in page


def test_deadlines_read_in_the_page_s_language_only(office: Office) -> None:
    case_id = play(office, until("submit_legality_review"))
    c: TestClient = login(client(office), "counsel")
    zh = re.search(r'<ul class="deadlines">.*?</ul>', c.get(f"/cases/{case_id}").text, re.S)
    assert zh and " / " not in zh.group(0) and not re.search(r"[A-Za-z]{3,}", re.sub(r"<[^>]+>", "", zh.group(0)))
    c.post("/lang", data={"csrf": csrf(c, "/"), "lang": "en", "next": "/"})
    en = re.search(r'<ul class="deadlines">.*?</ul>', c.get(f"/cases/{case_id}").text, re.S)
    assert en and " / " not in en.group(0) and "due" in en.group(0)


def test_the_diagram_scales_to_its_box_with_every_label_legible_and_the_state_lit(office: Office) -> None:
    case_id = play(office, until("open_consultation"))
    page = login(client(office), "clerk").get(f"/cases/{case_id}").text
    svg = re.search(r"<svg .*?</svg>", page, re.S)
    assert svg
    head = svg.group(0)[: svg.group(0).index(">")]
    assert 'width="100%"' in head and "height=" not in head and "viewBox=" in head
    width = int(re.search(r'viewBox="0 0 (\d+) \d+"', head).group(1))  # type: ignore[union-attr]
    assert width <= 600  # drawn at about its size in a half-page box: 13px text stays 13px
    case = office.show(case_id).view.case
    wf = office.definitions.workflow(case.workflow)
    assert (
        f'<g class="state current" data-state="{case.state}"><title>{html.escape(wf.states[case.state].label.zh)}</title>'
        in page
    )
    for name, state in wf.states.items():  # every state drawn, its full label its tooltip
        assert f'data-state="{name}"><title>{html.escape(state.label.zh)}</title>' in page

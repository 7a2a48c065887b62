"""The README's "Walkthrough by role" in a real browser, through the generated forms only: each
person logs in as themselves and does what the sections "Clerks: the catalogue and decisions" and
"Legality reviewer and legal adviser" do on the command line (Debian's chromium, Python Playwright,
the app on a loopback port; see tests/test_web_browser.py). No step is played through `Office`
except the story that brings a decision to legality review; every value is typed, chosen or
attached in the form the input schema generates, on the day the README gives."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from decisions.definitions import Definitions
from decisions.service.office import Office
from tests.browser_support import shot as _shot
from tests.support import V
from tests.test_web_browser import _login
from tests.web_support import play, until, web_office


@pytest.fixture
def office(tmp_path: Path, definitions: Definitions) -> Office:
    return web_office(f"sqlite:///{tmp_path / 'web.sqlite'}", tmp_path, definitions)


@pytest.fixture
def files(tmp_path: Path) -> Path:
    """The attachments, as the README makes them: files holding their own names."""
    for name in (
        "通知",
        "建议",
        "启动决定",
        "草案",
        "起草说明",
        "法规梳理",
        "公告",
        "座谈会纪要",
        "法律意见",
        "意见书",
    ):
        (tmp_path / f"{name}.pdf").write_text(f"{name}.pdf", encoding="utf-8")
    return tmp_path


def fill(form: Any, values: dict[str, str], on: str) -> None:
    """Type, choose and attach in a generated form: ``f.``/``d.`` inputs by their names, the day."""
    for name, value in values.items():
        field = form.locator(f"[name='{name}']")
        if name.startswith("d."):
            field.set_input_files(value)
        elif field.evaluate("e => e.tagName") == "SELECT":
            field.select_option(value)
        else:
            field.fill(value)
    form.locator("[name='on']").fill(on)


def act(page: Any, trigger: str, values: dict[str, str], on: str) -> None:
    action = page.locator(f"#action-{trigger}")
    if action.get_attribute("open") is None:
        action.locator("summary").click()
    fill(action, values, on)
    action.locator("button[type=submit]").click()


def start(page: Any, workflow: str, values: dict[str, str], on: str) -> str:
    page.click("header.top >> text=发起")
    form = page.locator(f"#start-{workflow}")
    fill(form, values, on)
    form.locator("button[type=submit]").click()
    return str(page.locator(".case-id").inner_text())


def test_clerks_open_the_catalogue_suggest_an_item_propose_launch_draft_and_consult(
    office: Office, server: str, browser: Any, files: Path
) -> None:
    catalogue = office.catalogue_workflow().name
    page = _login(browser, server, "office")  # 陈秘书 in the README: the government office
    cat = start(
        page,
        catalogue,
        {
            f"f.{V('year')}": "2026",
            f"f.{V('deadline')}": "2025-12-10",
            f"d.{V('call_notice')}": str(files / "通知.pdf"),
        },
        "2025-11-20",
    )
    assert "2026" in cat and office.history(cat)[0].on.isoformat() == "2025-11-20"
    suggest = page.locator(f"#action-{V('suggest_item')}")
    assert suggest.locator(f"[name='f.{V('planned_by')}']").get_attribute("type") == "date"
    act(
        page,
        V("suggest_item"),
        {
            f"f.{V('item_id')}": "2026-01",
            f"f.{V('item_name')}": "城区停车收费调整",
            f"f.{V('planned_by')}": "2026-09-30",
            f"f.{V('basis_and_reasons')}": "《价格法》",
            f"f.{V('problem_to_solve')}": "停车难",
            f"f.{V('proposed_measures')}": "分时段收费",
        },
        "2025-11-24",
    )
    assert page.locator("#refusal").count() == 0
    last = office.history(cat)[-1]
    assert (last.trigger, last.actor, last.fields[V("item_name")]) == (
        V("suggest_item"),
        "office_chen",
        "城区停车收费调整",
    )
    page.close()

    major = office.proposal_workflow()
    page = _login(browser, server, "clerk")  # 李明: proposes, then opens a case of any workflow
    elevator = start(
        page,
        major,
        {
            f"f.{V('title')}": "老旧小区加装电梯补助",
            f"f.{V('category')}": V("public_policy"),
            f"f.{V('source')}": V("leader"),
            f"d.{V('proposal')}": str(files / "建议.pdf"),
        },
        "2025-11-03",
    )
    market = start(
        page,
        major,
        {f"f.{V('title')}": "城区农贸市场改造规划", f"f.{V('category')}": V("plan"), f"f.{V('source')}": V("leader")},
        "2025-11-04",
    )
    page.close()

    page = _login(browser, server, "head")  # 王县长 launches both, off the catalogue with the reason
    for case_id, on in ((elevator, "2025-11-05"), (market, "2025-11-06")):
        page.goto(f"{server}/cases/{case_id}")
        reason = page.locator(f"[for='a-{V('launch')}-f-{V('off_catalogue_reason')}']")
        assert "视情况" in (reason.text_content() or "")  # conditional, with its condition, before submitting
        act(
            page,
            V("launch"),
            {
                f"f.{V('organiser_unit')}": "县交通运输局",  # the clerk's unit (吴刚's 县住建局 in the README)
                f"f.{V('off_catalogue_reason')}": "群众反映强烈",
                f"d.{V('launch_decision')}": str(files / "启动决定.pdf"),
            },
            on,
        )
        assert page.locator("#refusal").count() == 0, page.locator("#refusal").inner_text()
        assert office.history(case_id)[-1].trigger == V("launch")
    page.close()

    page = _login(browser, server, "clerk")  # 吴刚 in the README: the organiser's clerk
    page.goto(f"{server}/cases/{elevator}")
    act(
        page,
        V("submit_draft"),
        {
            f"d.{V('draft')}": str(files / "草案.pdf"),
            f"d.{V('drafting_explanation')}": str(files / "起草说明.pdf"),
            f"d.{V('legal_basis_inventory')}": str(files / "法规梳理.pdf"),
        },
        "2025-11-07",
    )
    act(
        page,
        V("open_consultation"),
        {
            f"f.{V('comment_deadline')}": "2025-12-12",
            f"f.{V('channels')}": "政府网站,微信公众号",
            f"d.{V('consultation_notice')}": str(files / "公告.pdf"),
        },
        "2025-11-10",
    )
    assert page.locator("#refusal").count() == 0, page.locator("#refusal").inner_text()
    opened = office.history(elevator)[-1]
    assert (opened.trigger, opened.fields[V("channels")]) == (V("open_consultation"), ["政府网站", "微信公众号"])
    page.goto(f"{server}/cases/{market}")
    act(
        page,
        V("record_participation"),
        {
            f"f.{V('participation_method')}": V("forum"),
            f"f.{V('participation_date')}": "2025-11-18",
            f"f.{V('summary')}": "商户座谈会",
            f"d.{V('participation_record')}": str(files / "座谈会纪要.pdf"),
        },
        "2025-11-20",
    )
    assert page.locator("#refusal").count() == 0, page.locator("#refusal").inner_text()
    heard = office.history(market)[-1]
    assert (heard.trigger, heard.fields[V("participation_method")], heard.actor) == (
        V("record_participation"),
        V("forum"),
        "clerk_li",
    )
    _shot(page, "decision-forms")


def test_the_legality_reviewer_and_the_legal_adviser_review_and_are_refused_a_lawful_opinion_on_a_bad_finding(
    office: Office, server: str, browser: Any, files: Path
) -> None:
    case_id = play(office, until("submit_legality_review"))  # D-2025-002 of the README: sent for review
    page = _login(browser, server, "counsel")  # 赵律师
    page.click(f"a[href='/cases/{case_id}']")  # from the inbox
    act(page, V("accept_review"), {}, "2025-04-17")
    assert office.history(case_id)[-1].trigger == V("accept_review")
    page.close()

    page = _login(browser, server, "adviser")  # 钱律师: the legal opinion, a record of their own
    page.click(f"a[href='/cases/{case_id}']")
    act(page, V("give_legal_opinion"), {f"d.{V('legal_counsel_opinion')}": str(files / "法律意见.pdf")}, "2025-04-22")
    last = office.history(case_id)[-1]
    assert (last.trigger, last.actor) == (V("give_legal_opinion"), "lawyer_zheng")
    page.close()

    page = _login(browser, server, "counsel")
    page.goto(f"{server}/cases/{case_id}")
    findings = {
        f"f.{V('authority')}": V("compliant"),
        f"f.{V('procedure')}": V("compliant"),
        f"f.{V('content')}": V("non_compliant"),
        f"d.{V('review_opinion')}": str(files / "意见书.pdf"),
    }
    act(page, V("find_lawful"), findings, "2025-04-25")
    refusal = page.locator("#refusal").inner_text()
    assert "national.lawful_only_with_lawful_findings" in refusal and "第二十七条" in refusal
    assert "为以下之一" in refusal  # the remedy: what the finding must be
    form = page.locator(f"#action-{V('find_lawful')}")
    assert form.locator(f"[name='f.{V('content')}']").input_value() == V("non_compliant")  # what was chosen, kept
    assert form.locator("[name='on']").input_value() == "2025-04-25"
    assert office.history(case_id)[-1].trigger == V("give_legal_opinion")  # nothing written
    _shot(page, "refusal-kept")
    act(page, V("find_lawful"), {**findings, f"f.{V('content')}": V("compliant")}, "2025-04-25")
    assert page.locator("#refusal").count() == 0
    last = office.history(case_id)[-1]
    assert (last.trigger, last.actor, last.on.isoformat()) == (V("find_lawful"), "counsel_zhao", "2025-04-25")
    assert last.documents[0].name == "意见书.pdf"

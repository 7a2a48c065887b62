"""The README's "IT colleague: people and roles" walkthrough, in a real browser (Debian's chromium
driven by Playwright, as tests/test_web_browser.py does), logged in as the office's people
administrator: a unit added, two people added with their roles and units, a role granted, a
delegation (委托代办) granted, the list showing who acts for whom, the people history verified and
naming the administrator, a person deactivated; and the person added sets up their own password.
Without chromium these tests skip with the reason, and fail under ``CI=true``."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from decisions.definitions import Definitions
from decisions.service.office import Office
from tests.browser_support import log_in as _login
from tests.browser_support import shot as _shot
from tests.support import V
from tests.test_web_admin import ADMIN, NEW_PASSWORD, admin_office
from tests.web_support import PASSWORD

HEAD = "王县长"


@pytest.fixture
def office(tmp_path: Path, definitions: Definitions) -> Iterator[Office]:
    made, database = admin_office(f"sqlite:///{tmp_path / 'web.sqlite'}", tmp_path, definitions)
    made.users.add(HEAD, [V("head")], "县人民政府", by=ADMIN)
    yield made
    database.dispose()


def _manage(page: Any, person: str, form: str) -> Any:
    """The ``form`` (grant, revoke, unit, password, deactivate, ...) in ``person``'s row, opened."""
    row = page.locator(f"tr[data-person='{person}']")
    if row.locator("details").get_attribute("open") is None:
        row.locator("summary").click()
    return row.locator(f"form.{form}")


def _add_person(page: Any, name: str, role: str, unit: str) -> None:
    form = page.locator("#add-person")
    form.locator("#new-name").fill(name)
    form.locator(f"input[name=role][value='{role}']").check()
    form.locator("#new-unit").select_option(unit)
    form.locator("#add").click()
    assert page.locator("#refusal").count() == 0


def test_the_it_colleague_administers_people_and_roles_in_the_browser(
    office: Office, server: str, browser: Any
) -> None:
    page = _login(browser, server, ADMIN)
    page.click("#nav-admin")
    assert page.url.endswith("/admin/people")

    # decisions unit add 县财政局 --as 陈秘书
    page.click("nav.admin-nav >> text=单位")
    page.fill("#unit-name", "县财政局")
    page.click("#add-unit #add")
    assert "县财政局" in page.locator("#units").inner_text() and "县财政局" in office.users.units()

    # decisions user add 张华 --role organiser --unit 县交通运输局 --as 陈秘书; 刘副县长 likewise
    page.click("nav.admin-nav >> text=人员")
    _add_person(page, "张华", V("organiser"), "县交通运输局")
    _add_person(page, "刘副县长", V("office_clerk"), "县人民政府")
    zhang = page.locator("tr[data-person='张华']")
    wf = office.definitions.workflow(office.proposal_workflow())
    assert wf.roles[V("organiser")].label.zh in zhang.locator("td.roles").inner_text()
    assert zhang.locator("td.unit").inner_text() == "县交通运输局"

    # decisions user grant 刘副县长 evaluator --as 陈秘书
    grant = _manage(page, "刘副县长", "grant")
    grant.locator("select").select_option(V("evaluator"))
    grant.locator("button").click()
    assert office.users.get("刘副县长").roles == tuple(sorted([V("office_clerk"), V("evaluator")]))
    roles = page.locator("tr[data-person='刘副县长'] td.roles").inner_text()
    assert wf.roles[V("evaluator")].label.zh in roles

    # decisions user delegate 王县长 刘副县长 --role head --from 2025-03-04 --until 2025-03-06 (委托代办)
    page.click("nav.admin-nav >> text=委托代办")
    page.select_option("#delegator", HEAD)
    page.select_option("#delegate", "刘副县长")
    page.select_option("#delegation-role", V("head"))
    page.fill("#start", "2025-03-04")
    page.fill("#until", "2025-03-06")
    page.click("#delegate-submit")
    (d,) = office.users.delegations()
    assert (d.delegator, d.delegate, d.role, d.start, d.until) == (
        HEAD,
        "刘副县长",
        V("head"),
        "2025-03-04",
        "2025-03-06",
    )
    assert "2025-03-04 – 2025-03-06" in page.locator(f"tr[data-delegation='{d.seq}']").inner_text()

    # decisions user list: who acts for whom
    page.click("nav.admin-nav >> text=人员")
    assert f"代 {HEAD}" in page.locator("tr[data-person='刘副县长'] td.acting").inner_text()
    _shot(page, "admin-people")

    # an initial password for 张华, who then logs in as themselves and changes it
    password = _manage(page, "张华", "password")
    password.locator("input[name=password]").fill(PASSWORD)
    password.locator("button").click()
    own = _login(browser, server, "张华")
    own.click("#nav-account")
    own.fill("#current", PASSWORD)
    own.fill("#new", NEW_PASSWORD)
    own.fill("#confirm", NEW_PASSWORD)
    own.click("#change")
    assert "密码已修改" in own.locator("#changed").inner_text()
    assert own.locator("#nav-admin").count() == 0  # 张华 administers no one
    assert office.login("张华", NEW_PASSWORD).id == "张华"

    # decisions user history: who changed whom, when, chained and verified
    page.click("nav.admin-nav >> text=人员管理记录")
    assert "核验通过" in page.locator("#verified").inner_text()
    history = office.users.history()
    delegation = next(e for e in reversed(history) if e.kind == "delegation_granted")
    assert ADMIN in page.locator(f"tr[data-entry='{delegation.seq}']").inner_text()
    assert "委托代办" in page.locator(f"tr[data-entry='{delegation.seq}']").inner_text()
    password = history[-1]  # 张华 changed their own password: recorded as by them, the password never
    assert (password.kind, password.person, password.by) == ("credential_set", "张华", "张华")
    shown = page.locator(f"tr[data-entry='{password.seq}']").inner_text()
    assert "设置密码" in shown and NEW_PASSWORD not in shown
    _shot(page, "admin-history")

    # decisions user deactivate 刘副县长 --as 陈秘书: never deleted, shown as deactivated
    page.click("nav.admin-nav >> text=人员")
    _manage(page, "刘副县长", "deactivate").locator("button").click()
    assert "已停用" in page.locator("tr[data-person='刘副县长'] td.status").inner_text()
    assert not office.users.get("刘副县长").active
    # every change by the administrator, but the password 张华 changed themselves
    assert [(c.kind, c.by) for c in office.users.history()[-7:]] == [
        ("person_added", ADMIN),
        ("person_added", ADMIN),
        ("role_granted", ADMIN),
        ("delegation_granted", ADMIN),
        ("credential_set", ADMIN),
        ("credential_set", "张华"),
        ("deactivated", ADMIN),
    ]

"""The administration pages: people, their roles and units, delegations (委托代办), the people
history with its verification, and each person's own account (their password).

Every change is `UserService`'s (or `Office`'s, for passwords), made ``by=`` the logged-in person:
the service refuses anyone who is not an active people administrator (a person may still delegate
their own roles), the page shows its refusal (403 for a non-administrator, 400 for bad input) and
nothing is written. Reading the pages needs only a login: who holds which role is no secret in an
office, and the inbox names role holders already."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.datastructures import FormData

from decisions.errors import UsageError
from decisions.model import Text
from decisions.service.inputs import parse_date
from decisions.service.logins import Throttled
from decisions.service.users import ADMIN, User
from decisions.web.context import Web
from decisions.web.identity import acting_person

__all__ = ["ACCESS", "ENTRY_LABELS", "add_routes"]

ACCESS: dict[tuple[str, str], str] = {
    ("GET", "/admin/people"): "person",
    ("POST", "/admin/people/add"): "person",
    ("POST", "/admin/people/grant"): "person",
    ("POST", "/admin/people/revoke"): "person",
    ("POST", "/admin/people/unit"): "person",
    ("POST", "/admin/people/deactivate"): "person",
    ("POST", "/admin/people/reactivate"): "person",
    ("POST", "/admin/people/password"): "person",
    ("GET", "/admin/units"): "person",
    ("POST", "/admin/units/add"): "person",
    ("GET", "/admin/delegations"): "person",
    ("POST", "/admin/delegations/add"): "person",
    ("POST", "/admin/delegations/end"): "person",
    ("GET", "/admin/history"): "person",
    ("GET", "/account"): "person",
    ("POST", "/account/password"): "person",
}

# The people history's entry kinds as a reader sees them (a kind not listed is shown as stored).
ENTRY_LABELS: dict[str, Text] = {
    "person_added": Text("添加人员", "person added"),
    "role_granted": Text("授予角色", "role granted"),
    "role_revoked": Text("撤销角色", "role revoked"),
    "unit_changed": Text("调整单位", "unit changed"),
    "deactivated": Text("停用", "deactivated"),
    "reactivated": Text("恢复", "reactivated"),
    "unit_added": Text("添加单位", "unit added"),
    "delegation_granted": Text("委托代办", "delegation granted"),
    "delegation_ended": Text("结束委托", "delegation ended"),
    "credential_set": Text("设置密码", "password set"),
}

Change = Callable[[User, FormData], object]


def _text(form: FormData, key: str) -> str:
    value = form.get(key)
    return value.strip() if isinstance(value, str) else ""


def _secret(form: FormData, key: str) -> str:
    value = form.get(key)
    return value if isinstance(value, str) else ""


def add_routes(app: FastAPI, web: Web) -> None:
    office = web.office
    users = office.users

    def role_label(role: str) -> Text:
        return users.roles.get(role, Text(role, role))

    def page(request: Request, template: str, me: User, status: int = 200, **values: Any) -> HTMLResponse:
        return web.render(
            request,
            template,
            status,
            person=me,  # `administers` (for the navigation) is the page's already
            role_label=role_label,
            **values,
        )

    def people_page(request: Request, me: User, status: int = 200, refusal: str = "") -> HTMLResponse:
        everyone = users.list()
        acting: dict[str, list[Any]] = {}
        for d in users.delegations():
            if not d.ended:
                acting.setdefault(d.delegate, []).append(d)
        return page(
            request,
            "admin_people.html",
            me,
            status,
            people=everyone,
            acting=acting,
            units=users.units(),
            roles=sorted(users.roles),
            refusal=refusal,
        )

    def units_page(request: Request, me: User, status: int = 200, refusal: str = "") -> HTMLResponse:
        return page(request, "admin_units.html", me, status, units=users.units(), refusal=refusal)

    def delegations_page(request: Request, me: User, status: int = 200, refusal: str = "") -> HTMLResponse:
        admin = users.may_administer(me.id)
        everyone = [u for u in users.list() if u.active]
        return page(
            request,
            "admin_delegations.html",
            me,
            status,
            delegations=users.delegations(),
            names={u.id: u.shown() for u in users.list()},
            delegators=everyone if admin else [me],
            delegates=[u for u in everyone if u.id != me.id or admin],
            # the administrator's own role is never delegated (`UserService.actor` ignores it)
            roles=sorted({r for u in (everyone if admin else [me]) for r in u.roles} - {ADMIN}),
            today=office.cases.today().isoformat(),
            refusal=refusal,
        )

    def account_page(request: Request, me: User, status: int = 200, refusal: str = "", done: bool = False) -> Response:
        return page(
            request,
            "account.html",
            me,
            status,
            delegations=users.delegations(me.id),
            refusal=refusal,
            done=done,
        )

    Page = Callable[..., Response]

    async def change(
        request: Request,
        act: Change,
        shown: Page,
        back: str,
        *,
        own: Callable[[User, FormData], bool] = lambda me, form: False,
    ) -> Response:
        """Apply one change as the logged-in person; a refusal is the page again with its message
        (403 when they administer no one and the change is not about themselves), nothing written."""
        me = web.person(request)
        form = await web.checked_form(request)
        try:
            act(me, form)
        except Throttled as exc:
            return shown(request, me, 429, refusal=str(exc))
        except UsageError as exc:
            forbidden = not users.may_administer(me.id) and not own(me, form)
            return shown(request, me, 403 if forbidden else 400, refusal=str(exc))
        return RedirectResponse(back, status_code=303)

    # -- people -----------------------------------------------------------------------------------

    @app.get("/admin/people", response_class=HTMLResponse, include_in_schema=False)
    async def people(request: Request) -> Response:
        return people_page(request, web.person(request))

    def add(me: User, form: FormData) -> None:
        roles = [str(r) for r in form.getlist("role") if isinstance(r, str)]
        user_id = _text(form, "id") or None
        name = _text(form, "name") or (user_id or "")
        users.add(name, roles, _text(form, "unit"), by=me.id, user_id=user_id)

    def grant(me: User, form: FormData) -> None:
        users.grant(_text(form, "person"), _text(form, "role"), by=me.id)

    def revoke(me: User, form: FormData) -> None:
        users.revoke(_text(form, "person"), _text(form, "role"), by=me.id)

    def set_unit(me: User, form: FormData) -> None:
        users.set_unit(_text(form, "person"), _text(form, "unit"), by=me.id)

    def deactivate(me: User, form: FormData) -> None:
        users.deactivate(_text(form, "person"), by=me.id)

    def reactivate(me: User, form: FormData) -> None:
        users.reactivate(_text(form, "person"), by=me.id)

    def password(me: User, form: FormData) -> None:
        office.set_password_by(_text(form, "person"), _secret(form, "password"), by=me.id)

    for path, act in (
        ("/admin/people/add", add),
        ("/admin/people/grant", grant),
        ("/admin/people/revoke", revoke),
        ("/admin/people/unit", set_unit),
        ("/admin/people/deactivate", deactivate),
        ("/admin/people/reactivate", reactivate),
        ("/admin/people/password", password),
    ):

        async def people_change(request: Request, act: Change = act) -> Response:
            return await change(request, act, people_page, "/admin/people")

        app.post(path, include_in_schema=False)(people_change)

    # -- units ------------------------------------------------------------------------------------

    @app.get("/admin/units", response_class=HTMLResponse, include_in_schema=False)
    async def units(request: Request) -> Response:
        return units_page(request, web.person(request))

    def add_unit(me: User, form: FormData) -> None:
        users.add_unit(_text(form, "unit"), by=me.id)

    @app.post("/admin/units/add", include_in_schema=False)
    async def unit_added(request: Request) -> Response:
        return await change(request, add_unit, units_page, "/admin/units")

    # -- delegations (委托代办) ---------------------------------------------------------------------

    @app.get("/admin/delegations", response_class=HTMLResponse, include_in_schema=False)
    async def delegations(request: Request) -> Response:
        return delegations_page(request, web.person(request))

    def delegate(me: User, form: FormData) -> None:
        start = parse_date(_text(form, "start"), "起始日 from")
        until = parse_date(_text(form, "until"), "截止日 until")
        role = _text(form, "role") or None
        users.delegate(_text(form, "delegator") or me.id, _text(form, "delegate"), role, start, until, by=me.id)

    def own_delegation(me: User, form: FormData) -> bool:
        return _text(form, "delegator") in ("", me.id)

    def end(me: User, form: FormData) -> None:
        seq = _text(form, "seq")
        if not seq.isdigit():
            raise UsageError(f"未知委托 / no delegation #{seq[:20]}")
        users.end_delegation(int(seq), parse_date(_text(form, "on"), "失效日 on"), by=me.id)

    def own_ended(me: User, form: FormData) -> bool:
        seq = _text(form, "seq")
        return any(str(d.seq) == seq and d.delegator == me.id for d in users.delegations())

    @app.post("/admin/delegations/add", include_in_schema=False)
    async def delegation_added(request: Request) -> Response:
        return await change(request, delegate, delegations_page, "/admin/delegations", own=own_delegation)

    @app.post("/admin/delegations/end", include_in_schema=False)
    async def delegation_ended(request: Request) -> Response:
        return await change(request, end, delegations_page, "/admin/delegations", own=own_ended)

    # -- the people history -------------------------------------------------------------------------

    @app.get("/admin/history", response_class=HTMLResponse, include_in_schema=False)
    async def history(request: Request) -> Response:
        me = web.person(request)
        return page(
            request,
            "admin_history.html",
            me,
            changes=users.history(),
            findings=office.people_findings(),
            labels=ENTRY_LABELS,
        )

    # -- one's own account ----------------------------------------------------------------------------

    @app.get("/account", response_class=HTMLResponse, include_in_schema=False)
    async def account(request: Request) -> Response:
        return account_page(request, web.person(request), done=request.query_params.get("done") == "1")

    @app.post("/account/password", include_in_schema=False)
    async def password_changed(request: Request) -> Response:
        client = request.client.host if request.client else ""  # a wrong current password counts as a failed login

        def change_password(me: User, form: FormData) -> None:
            chosen = _secret(form, "new_password")
            if chosen != _secret(form, "confirm_password"):
                raise UsageError("两次输入的新密码不一致，密码未更改 / the new passwords differ: nothing changed")
            office.change_password(acting_person(me), _secret(form, "current_password"), chosen, client)

        return await change(request, change_password, account_page, "/account?done=1", own=lambda me, form: True)

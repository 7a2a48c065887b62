"""The FastAPI application: pages, the JSON API, sessions, CSRF, security headers, error pages.

Every route is listed in `ACCESS` (``anyone`` or ``person``: a logged-in, active person); what a
person may *do* is decided by `Office` (the engine's roles and rules), never here."""

from __future__ import annotations

import hmac
import mimetypes
import re
import secrets
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import PurePath
from typing import Any
from urllib.parse import quote

from fastapi import FastAPI, HTTPException, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from jinja2 import Environment, PackageLoader, select_autoescape
from starlette.datastructures import FormData, UploadFile
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from decisions.errors import (
    ActionRefused,
    ConflictError,
    DecisionsError,
    StoreError,
    Unmet,
    UsageError,
    cited,
)
from decisions.model import Document, Record, Text
from decisions.service.logins import LoginRefused, Throttled
from decisions.service.office import Attachment, CaseDetails, Office, describe
from decisions.service.users import ADMIN, User
from decisions.web.context import Web
from decisions.web.diagram import workflow_svg
from decisions.web.forms import (
    action_form,
    collect_views,
    correction_forms,
    correctors,
    display_names,
    in_language,
    remedy_lines,
    view_rows,
)
from decisions.web.identity import acting_person
from decisions.web.query import is_checked, page_link
from decisions.web.sessions import COOKIE, Session, SessionCodec

__all__ = ["ACCESS", "ROUTE_MODULES", "Settings", "create_app"]

LANG_COOKIE = "decisions_lang"
CSP = (
    "default-src 'none'; style-src 'self'; img-src 'self' data:; form-action 'self'; "
    "frame-ancestors 'none'; base-uri 'none'"
)
# Media types a browser would run as active content of this site: served as text, downloaded.
ACTIVE_TYPES = {
    "text/html",
    "application/xhtml+xml",
    "image/svg+xml",
    "text/xml",
    "application/xml",
    "text/javascript",
    "application/javascript",
}
INLINE_TYPES = {"application/pdf", "text/plain", "image/png", "image/jpeg", "image/gif"}
DONE_PAGE = 50  # 已办 entries a page

# Who may reach each route: "anyone" (no login) or "person" (a logged-in, active person; what they
# may do there is `Office`'s to decide). A route missing here fails tests/test_web_security.py.
ACCESS: dict[tuple[str, str], str] = {
    ("GET", "/login"): "anyone",
    ("POST", "/login"): "anyone",
    ("POST", "/logout"): "person",
    ("POST", "/lang"): "anyone",
    ("GET", "/"): "person",
    ("GET", "/done"): "person",
    ("GET", "/start"): "person",
    ("POST", "/start/{workflow}"): "person",
    ("GET", "/cases/{case_id}"): "person",
    ("POST", "/cases/{case_id}/act"): "person",
    ("GET", "/cases/{case_id}/documents/{sha256}"): "person",
    ("GET", "/catalogue"): "person",
    ("GET", "/api/inbox"): "person",
    ("GET", "/api/cases/{case_id}"): "person",
    ("POST", "/api/cases/{case_id}/act"): "person",
    ("GET", "/api/catalogue/{year}"): "person",
    ("POST", "/api/audit/verify"): "person",
    ("GET", "/api/openapi.json"): "anyone",
}

# Modules of routes beyond the core pages (each `add_routes(app, web)` with its own ``ACCESS``),
# in the order they are added. See `decisions.web.context`.
ROUTE_MODULES: tuple[str, ...] = (
    "decisions.web.dossier",
    "decisions.web.audit",
    "decisions.web.corrections",
    "decisions.web.search",
    "decisions.web.report",
    "decisions.web.admin",
)


def _route_modules() -> list[Any]:
    import importlib

    modules = [importlib.import_module(name) for name in ROUTE_MODULES]
    for module in modules:
        ACCESS.update(module.ACCESS)
    return modules


_MODULES = _route_modules()


@dataclass(frozen=True)
class Settings:
    """``secret`` signs sessions (random per process unless given: sessions then end on restart);
    ``secure_cookies`` when served behind HTTPS; ``idle_minutes`` the session's idle timeout;
    ``max_upload`` the largest request body, in bytes."""

    secret: str = field(default_factory=lambda: secrets.token_urlsafe(32))
    secure_cookies: bool = False
    idle_minutes: int = 30
    max_upload: int = 20 * 1024 * 1024
    inbox_limit: int = 100  # the most urgent cases of each workflow the inbox page lists


class LoginRequired(Exception):
    pass


class TooLarge(Exception):
    pass


class BodyLimit:
    """Streams the request body through, refusing it (413) once it passes ``limit`` bytes, whatever
    Content-Length claims."""

    def __init__(self, app: ASGIApp, limit: int) -> None:
        self.app, self.limit = app, limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope.get("headers") or []).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.limit:
            await _too_large(send)
            return
        seen = 0

        async def limited() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.limit:
                    raise TooLarge()
            return message

        try:
            await self.app(scope, limited, send)
        except TooLarge:
            await _too_large(send)


async def _too_large(send: Send) -> None:
    body = "上传内容过大 / the upload is too large".encode()
    await send(
        {
            "type": "http.response.start",
            "status": 413,
            "headers": [(b"content-type", b"text/plain; charset=utf-8"), (b"content-length", str(len(body)).encode())],
        }
    )
    await send({"type": "http.response.body", "body": body})


def _unmet(u: Unmet) -> dict[str, Any]:
    """A requirement that stops an action, as ``decisions show --json`` prints it."""
    return {
        "rule_id": u.rule_id,
        "citation": u.citation,
        "message_zh": u.message_zh,
        "message_en": u.message_en,
        "kind": u.kind,
        "sources": list(u.sources),
    }


def _text(t: Text) -> dict[str, str]:
    return {"zh": t.zh, "en": t.en}


def current_documents(records: tuple[Record, ...]) -> list[tuple[Document, Record]]:
    """The latest version of each kind of document in a history, with the record that carried it."""
    latest: dict[str, tuple[Document, Record]] = {}
    for r in records:
        for d in r.documents:
            if d.kind not in latest or d.version >= latest[d.kind][0].version:
                latest[d.kind] = (d, r)
    return sorted(latest.values(), key=lambda x: x[1].seq)


def _filename(name: str | None) -> str:
    """A file's display name from the client: its last path part, printable, bounded; never a path."""
    base = PurePath((name or "").replace("\\", "/")).name
    base = "".join(c for c in base if c.isprintable() and c not in '"<>')[:200].strip()
    return base or "upload"


def create_app(office: Office, settings: Settings | None = None) -> FastAPI:
    settings = settings or Settings()
    codec = SessionCodec(settings.secret, settings.idle_minutes * 60)
    env = Environment(loader=PackageLoader("decisions.web", "templates"), autoescape=select_autoescape(default=True))
    app = FastAPI(
        title="decisions",
        description="重大行政决策程序引擎 / engine for the major administrative decision procedure",
        docs_url=None,
        redoc_url=None,
        openapi_url="/api/openapi.json",
    )
    app.add_middleware(BodyLimit, limit=settings.max_upload)
    app.mount("/static", StaticFiles(packages=[("decisions.web", "static")]), name="static")

    # -- sessions, headers, language --------------------------------------------------------------

    def session_of(request: Request) -> Session:
        s: Session = request.state.session
        return s

    def lang_of(request: Request) -> str:
        return "en" if request.cookies.get(LANG_COOKIE) == "en" else "zh"

    @app.middleware("http")
    async def frame(request: Request, call_next: Callable[[Request], Awaitable[Response]]) -> Response:
        request.state.session = codec.loads(request.cookies.get(COOKIE)) or Session.anonymous()
        try:
            response = await call_next(request)
        except Exception:  # a bug: a page saying nothing was changed (the transaction rolled back), never a traceback
            response = error(request, 500, "服务器内部错误，未作任何更改", "internal error: nothing was changed")
        session: Session = request.state.session
        response.set_cookie(
            COOKIE,
            codec.dumps(session),
            max_age=settings.idle_minutes * 60,
            httponly=True,
            samesite="lax",
            secure=settings.secure_cookies,
            path="/",
        )
        response.headers.setdefault("Content-Security-Policy", CSP)
        response.headers["X-Content-Type-Options"] = "nosniff"
        response.headers["X-Frame-Options"] = "DENY"
        response.headers["Referrer-Policy"] = "same-origin"
        response.headers.setdefault("Cache-Control", "no-store")
        return response

    def person(request: Request) -> User:
        """The logged-in, active person; `LoginRequired` otherwise (a page redirects to the login,
        the API answers 401)."""
        name = session_of(request).user
        if not name:
            raise LoginRequired()
        try:
            user = office.users.get(name)
        except UsageError:
            user = None
        if user is None or not user.active:
            request.state.session = Session.anonymous()
            raise LoginRequired()
        request.state.user = user  # for the page's navigation (the administration link): no second read
        return user

    def csrf_ok(request: Request, token: Any) -> None:
        if not isinstance(token, str) or not hmac.compare_digest(token, session_of(request).csrf):
            raise HTTPException(403, "CSRF")

    async def checked_form(request: Request) -> FormData:
        form = await request.form(max_files=50, max_fields=200, max_part_size=settings.max_upload)
        csrf_ok(request, form.get("csrf"))
        return form

    def render(request: Request, template: str, status: int = 200, **values: Any) -> HTMLResponse:
        lang = lang_of(request)
        session = session_of(request)
        html = env.get_template(template).render(
            t=lambda text: text.pick(lang) if isinstance(text, Text) else str(text),
            h=lambda zh, en: zh if lang == "zh" else en,
            lang=lang,
            csrf=session.csrf,
            # the logged-in person's display name (their id until a route has looked them up)
            me=user.name if (user := getattr(request.state, "user", None)) is not None else session.user,
            administers=ADMIN in getattr(getattr(request.state, "user", None), "roles", ()),
            path=request.url.path,
            describe=describe,
            **values,
        )
        return HTMLResponse(html, status_code=status)

    # -- errors: pages (or JSON under /api), never tracebacks --------------------------------------

    def is_api(request: Request) -> bool:
        return request.url.path.startswith("/api/")

    def error(request: Request, status: int, zh: str, en: str, detail: str = "") -> Response:
        if is_api(request):
            return JSONResponse({"error": {"zh": zh, "en": en, "detail": detail}}, status_code=status)
        return render(request, "error.html", status, status_code=status, zh=zh, en=en, detail=detail)

    @app.exception_handler(LoginRequired)
    async def login_required(request: Request, exc: LoginRequired) -> Response:
        if is_api(request):
            return error(request, 401, "请先登录", "log in first")
        return RedirectResponse("/login?next=" + quote(request.url.path), status_code=303)

    @app.exception_handler(HTTPException)
    async def http_error(request: Request, exc: HTTPException) -> Response:
        if exc.status_code == 403:
            return error(
                request,
                403,
                "请求无效（CSRF 校验失败），未作任何更改",
                "request refused (CSRF check failed): nothing was changed",
            )
        if exc.status_code == 404:
            return error(request, 404, "页面不存在", "no such page")
        return error(request, exc.status_code, "请求无效", "bad request", str(exc.detail))

    from fastapi.exceptions import RequestValidationError
    from starlette.exceptions import HTTPException as StarletteHTTPException

    @app.exception_handler(StarletteHTTPException)
    async def starlette_error(request: Request, exc: StarletteHTTPException) -> Response:
        return await http_error(request, HTTPException(exc.status_code, exc.detail))

    @app.exception_handler(RequestValidationError)
    async def invalid(request: Request, exc: RequestValidationError) -> Response:
        return error(request, 422, "输入无效", "invalid input", "; ".join(str(e.get("msg", "")) for e in exc.errors()))

    @app.exception_handler(DecisionsError)
    async def refused(request: Request, exc: DecisionsError) -> Response:
        status = 409 if isinstance(exc, ConflictError) else 503 if isinstance(exc, StoreError) else 400
        if isinstance(exc, ActionRefused):
            status = 422
        if is_api(request) and isinstance(exc, ActionRefused):
            return JSONResponse(refusal_json(exc), status_code=422)
        return error(request, status, "操作未完成", "not done", str(exc))

    @app.exception_handler(Exception)
    async def crashed(request: Request, exc: Exception) -> Response:
        return error(request, 500, "服务器内部错误，未作任何更改", "internal error: nothing was changed")

    def refusal_json(exc: ActionRefused) -> dict[str, Any]:
        return {"refused": exc.trigger, "state": exc.state, "reasons": [_unmet(u) for u in exc.unmet]}

    # -- login ------------------------------------------------------------------------------------

    def safe_next(target: Any) -> str:
        target = target if isinstance(target, str) else ""
        return target if re.fullmatch(r"/[A-Za-z0-9/_\-.%]*", target) and not target.startswith("//") else "/"

    @app.get("/login", response_class=HTMLResponse, include_in_schema=False)
    async def login_page(request: Request, next: str = "/") -> Response:
        return render(request, "login.html", next=safe_next(next), message=None)

    @app.post("/login", response_class=HTMLResponse, include_in_schema=False)
    async def login(request: Request) -> Response:
        form = await checked_form(request)
        name, password = str(form.get("name") or "").strip(), str(form.get("password") or "")
        target = safe_next(form.get("next"))
        client = request.client.host if request.client else ""
        try:
            user = office.login(name, password, client)
        except (LoginRefused, Throttled) as exc:
            status = 429 if isinstance(exc, Throttled) else 401
            return render(request, "login.html", status, next=target, message=str(exc), name=name)
        request.state.session = Session(user.id, secrets.token_urlsafe(24))  # a fresh session id, the person by id
        return RedirectResponse(target, status_code=303)

    @app.post("/logout", include_in_schema=False)
    async def logout(request: Request) -> Response:
        person(request)
        await checked_form(request)
        request.state.session = Session.anonymous()
        return RedirectResponse("/login", status_code=303)

    @app.post("/lang", include_in_schema=False)
    async def set_lang(request: Request) -> Response:
        form = await checked_form(request)
        response = RedirectResponse(safe_next(form.get("next")), status_code=303)
        chosen = "en" if form.get("lang") == "en" else "zh"
        response.set_cookie(LANG_COOKIE, chosen, max_age=365 * 86400, samesite="lax", secure=settings.secure_cookies)
        return response

    # -- inbox, done, start -------------------------------------------------------------------------

    def workflow_choices() -> list[tuple[str, Text]]:
        return sorted(((wf.name, wf.label) for wf in office.definitions.workflows.values()), key=lambda x: x[0])

    @app.get("/", response_class=HTMLResponse, include_in_schema=False)
    async def inbox_page(request: Request, workflow: str = "", overdue: str = "") -> Response:
        user = person(request)
        overdue_only = is_checked(overdue)
        inbox = office.inbox(acting_person(user), settings.inbox_limit, workflow=workflow, overdue_only=overdue_only)
        return render(
            request,
            "inbox.html",
            inbox=inbox,
            today=office.cases.today(),
            roles=office.users.roles,
            workflows=workflow_choices(),
            chosen=workflow,
            overdue_only=overdue_only,
        )

    @app.get("/done", response_class=HTMLResponse, include_in_schema=False)
    async def done_page(request: Request, offset: int = 0) -> Response:
        user = person(request)
        page = office.done(acting_person(user), DONE_PAGE, offset)
        return render(
            request,
            "done.html",
            page=page,
            roles=office.users.roles,
            previous=page_link("/done", request.query_params, page.previous),
            following=page_link("/done", request.query_params, page.next),
        )

    def form_helpers(request: Request) -> dict[str, Any]:
        """What the forms' templates call: remedies, citations and bilingual texts in the page's
        language, people by their display names, the rows of a meeting's views."""
        lang = lang_of(request)
        return {
            "remedy_lines": remedy_lines,
            "names": display_names((u.id, u.name) for u in office.users.list()),
            "view_rows": view_rows,
            "cite": lambda citation: cited(citation, lang),
            "one_language": lambda text: in_language(text, lang),
            "today": office.cases.today().isoformat(),
        }

    def startable(user: User) -> list[tuple[Any, Any]]:
        out = []
        for wf in office.definitions.workflows.values():
            if wf.case is None:
                continue
            t = wf.transition(wf.initial, wf.case.start)
            if t is not None and set(t.roles) & set(user.roles):
                out.append((wf, action_form(wf, office.start_schema(wf.name, acting_person(user)))))
        return out

    def start_page_of(request: Request, user: User, status: int = 200, **extra: Any) -> HTMLResponse:
        return render(
            request,
            "start.html",
            status,
            startable=startable(user),
            refusal=extra.get("refusal"),
            chosen=extra.get("chosen"),
            values=extra.get("values", {}),
            on=extra.get("on", ""),
            **form_helpers(request),
        )

    @app.get("/start", response_class=HTMLResponse, include_in_schema=False)
    async def start_page(request: Request) -> Response:
        return start_page_of(request, person(request))

    async def inputs(form: FormData) -> tuple[dict[str, str], list[Attachment]]:
        fields = {
            k[2:]: str(v).strip()
            for k, v in form.multi_items()
            if k.startswith("f.") and isinstance(v, str) and v.strip()
        }
        fields.update(collect_views(form.multi_items()))  # a meeting's views, one row per member
        attachments: list[Attachment] = []
        for k, v in form.multi_items():
            if k.startswith("d.") and isinstance(v, UploadFile) and v.filename:
                data = await v.read()
                if data:
                    attachments.append((k[2:], data, _filename(v.filename)))
        return fields, attachments

    def day_of(form: FormData) -> str | None:
        on = form.get("on")
        return on.strip() or None if isinstance(on, str) else None

    @app.post("/start/{workflow}", include_in_schema=False)
    async def start(request: Request, workflow: str) -> Response:
        user = person(request)
        form = await checked_form(request)
        fields, attachments = await inputs(form)
        on = day_of(form)
        try:
            fired = office.start(workflow, acting_person(user), fields, attachments, on)
        except (ActionRefused, UsageError) as exc:  # the form again, with what was typed and the reason
            status = 422 if isinstance(exc, ActionRefused) else 400
            return start_page_of(request, user, status, refusal=exc, chosen=workflow, values=fields, on=on or "")
        return RedirectResponse(f"/cases/{quote(fired.case.id)}", status_code=303)

    # -- a decision -------------------------------------------------------------------------------

    def case_page(request: Request, user: User, case_id: str, status: int = 200, **extra: Any) -> HTMLResponse:
        """The decision page: every available action as a form generated from its input schema, the
        blocked ones with their rule, article and remedy, the corrections the person may make, the
        timeline with its errata (``extra``: a refusal to show and the values to show again)."""
        name = acting_person(user)
        details = office.show(case_id, name)
        case = details.view.case
        wf = office.cases.definitions_for(details.view.definitions).workflow(case.workflow)
        forms = {
            o.trigger: action_form(wf, o.schema or office.action_schema(case_id, o.trigger, name))
            for o in details.options
            if o.available
        }
        roles = {o.trigger: [r for r in o.roles if r in user.roles] for o in details.options}
        actor = office.users.actor(name, on=office.cases.today())
        helpers = form_helpers(request)
        names: dict[str, str] = helpers["names"]
        timeline = sorted(
            [("record", r) for r in case.records] + [("erratum", e) for e in case.errata], key=lambda x: x[1].seq
        )
        return render(
            request,
            "case.html",
            status,
            d=details,
            case=case,
            wf=wf,
            forms=forms,
            roles=roles,
            corrections=correction_forms(wf, case.records, actor.roles),
            timeline=timeline,
            documents=current_documents(case.records),
            svg=workflow_svg(wf, case.state, lang_of(request)),
            last_day=case.records[-1].on.isoformat() if case.records else "",
            refusal=extra.get("refusal"),
            refused_action=extra.get("refused_action"),
            refused_event=extra.get("refused_event"),
            values=extra.get("values", {}),
            on=extra.get("on", ""),
            role=extra.get("role"),
            why=extra.get("why", ""),
            who=lambda person_id: names.get(person_id, person_id),
            correctors=lambda trigger: correctors(wf, trigger),
            holders=lambda role: [names.get(u.id, u.id) for u in office.users.list() if u.active and role in u.roles],
            **helpers,
        )

    @app.get("/cases/{case_id}", response_class=HTMLResponse, include_in_schema=False)
    async def case(request: Request, case_id: str) -> Response:
        return case_page(request, person(request), case_id)

    @app.post("/cases/{case_id}/act", include_in_schema=False)
    async def act(request: Request, case_id: str) -> Response:
        user = person(request)
        form = await checked_form(request)
        trigger = str(form.get("action") or "")
        role = str(form.get("role") or "") or None
        fields, attachments = await inputs(form)
        version = str(form.get("version") or "")
        on = day_of(form)
        try:
            office.act(
                case_id,
                trigger,
                acting_person(user),
                fields,
                attachments,
                on,
                role=role,
                expected_version=int(version) if version.isdigit() else None,
            )
        except (ActionRefused, UsageError) as exc:  # the form again, with what was typed and the reason
            status = 422 if isinstance(exc, ActionRefused) else 400
            return case_page(
                request,
                user,
                case_id,
                status,
                refusal=exc,
                refused_action=trigger,
                values=fields,
                on=on or "",
                role=role,
            )
        return RedirectResponse(f"/cases/{quote(case_id)}", status_code=303)

    @app.get("/cases/{case_id}/documents/{sha256}", include_in_schema=False)
    async def document(request: Request, case_id: str, sha256: str) -> Response:
        person(request)
        found = [d for r in office.history(case_id) for d in r.documents if d.sha256 == sha256]
        if not found:
            raise HTTPException(404)
        doc = found[-1]
        data = office.document(sha256)
        media = mimetypes.guess_type(doc.name)[0] or "application/octet-stream"
        inline = media in INLINE_TYPES
        if media in ACTIVE_TYPES:
            media, inline = "text/plain", False
        ascii_name = doc.name.encode("ascii", "replace").decode().replace("?", "_").replace('"', "_") or "document"
        disposition = (
            f"{'inline' if inline else 'attachment'}; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(doc.name)}"
        )
        headers = {"Content-Disposition": disposition, "Content-Security-Policy": "sandbox; default-src 'none'"}
        if media.startswith("text/"):
            media += "; charset=utf-8"
        return Response(data, media_type=media, headers=headers)

    # -- catalogue (the auditor's pages are decisions.web.audit) ---------------------------

    @app.get("/catalogue", response_class=HTMLResponse, include_in_schema=False)
    async def catalogue(
        request: Request, year: int | None = None, a: int | None = None, b: int | None = None
    ) -> Response:
        person(request)
        year = year or office.cases.today().year
        message, diff = "", None
        versions: list[Any] = []
        columns: tuple[tuple[str, Text], ...] = ()
        progress: list[Any] = []
        try:
            versions = office.catalogue_versions(year)
            columns = office.catalogue_columns(year)
            if versions:
                progress = office.catalogue_progress(year)
            if a is not None and b is not None:
                diff = office.catalogue_diff(year, a, b)
        except DecisionsError as exc:
            message = str(exc)
        return render(
            request,
            "catalogue.html",
            year=year,
            versions=versions,
            columns=columns,
            progress=progress,
            diff=diff,
            a=a,
            b=b,
            message=message,
        )

    # -- the JSON API -----------------------------------------------------------------------------

    def api_csrf(request: Request) -> None:
        csrf_ok(request, request.headers.get("x-csrf-token"))

    web = Web(
        office=office,
        settings=settings,
        person=person,
        session_of=session_of,
        lang_of=lang_of,
        checked_form=checked_form,
        api_csrf=api_csrf,
        inputs=inputs,
        render=render,
        error=error,
        extra={"case_page": case_page},
    )
    for module in _MODULES:
        module.add_routes(app, web)

    @app.get("/api/inbox", tags=["api"])
    async def api_inbox(request: Request, workflow: str = "", overdue: str = "") -> dict[str, Any]:
        user = person(request)
        inbox = office.inbox(acting_person(user), workflow=workflow, overdue_only=is_checked(overdue))
        return {
            "user": inbox.user,
            "roles": list(inbox.roles),
            "tasks": [
                {
                    "case": t.case_id,
                    "workflow": t.workflow,
                    "title": t.title,
                    "state_label": _text(t.state_label),
                    "action": t.option.trigger,
                    "label": _text(t.option.label),
                    "available": t.option.available,
                    "overdue": t.overdue,
                    "due": t.next_due.isoformat() if t.next_due else None,
                }
                for t in inbox.tasks
            ],
            "cases": [
                {
                    "case": c.first.case_id,
                    "workflow": c.first.workflow,
                    "title": c.first.title,
                    "state_label": _text(c.first.state_label),
                    "actions": [
                        {"action": t.option.trigger, "label": _text(t.option.label), "available": t.option.available}
                        for t in c.tasks
                    ],
                    "overdue": c.overdue,
                    "due": c.next_due.due.isoformat() if c.next_due else None,
                    "working_days_left": c.next_due.remaining_working_days if c.next_due else None,
                }
                for c in inbox.cases
            ],
        }

    @app.get("/api/cases/{case_id}", tags=["api"])
    async def api_case(request: Request, case_id: str) -> dict[str, Any]:
        user = person(request)
        return details_json(office.show(case_id, acting_person(user)))

    @app.post("/api/cases/{case_id}/act", tags=["api"])
    async def api_act(request: Request, case_id: str, body: ActBody) -> dict[str, Any]:
        user = person(request)
        api_csrf(request)
        fired = office.act(
            case_id,
            body.action,
            acting_person(user),
            body.fields,
            role=body.role,
            expected_version=body.expected_version,
        )
        r = fired.record
        return {
            "case": fired.case.id,
            "seq": r.seq,
            "trigger": r.trigger,
            "from": r.from_state,
            "to": r.to_state,
            "version": r.seq,
            "draft_version": r.draft_version,
            "rules": [
                {"id": x.rule.id, "outcome": x.outcome.value, "citation": str(x.rule.citation)} for x in fired.results
            ],
        }

    @app.get("/api/catalogue/{year}", tags=["api"])
    async def api_catalogue(request: Request, year: int) -> dict[str, Any]:
        person(request)
        if not 2000 <= year <= 2100:
            raise UsageError(f"年度超出范围 / implausible year {year}")
        return {
            "year": year,
            "versions": [
                {
                    "version": v.version,
                    "on": v.on.isoformat(),
                    "published_on": v.published_on.isoformat() if v.published_on else None,
                    "items": [{"id": i.id, "name": i.name} for i in v.items],
                }
                for v in office.catalogue_versions(year)
            ],
        }

    @app.post("/api/audit/verify", tags=["api"])
    async def api_verify(request: Request) -> dict[str, Any]:
        person(request)
        api_csrf(request)
        report = office.audit.verify()
        return {
            "ok": report.ok,
            "cases": report.cases,
            "events": report.events,
            "documents": report.documents,
            "findings": [
                {"case": f.case_id, "seq": f.seq, "kind": f.kind, "message": f.message} for f in report.findings
            ],
        }

    return app


from pydantic import BaseModel, Field  # noqa: E402  (the API's one request body)


class ActBody(BaseModel):
    action: str = Field(max_length=64)
    fields: dict[str, str] = Field(default_factory=dict)
    role: str | None = Field(default=None, max_length=64)
    expected_version: int | None = None


def details_json(d: CaseDetails) -> dict[str, Any]:
    """A decision as ``decisions show --json`` prints it."""
    c = d.view.case
    return {
        "id": c.id,
        "workflow": c.workflow,
        "state": c.state,
        "state_label": _text(d.state_label),
        "stage": _text(d.stage_label),
        "approval_state": d.approval,
        "final": d.final,
        "version": d.view.version,
        "draft_version": c.draft_version,
        "title": d.title,
        "records": [
            {
                "seq": r.seq,
                "trigger": r.trigger,
                "actor": r.actor,
                "role": r.role,
                "on": r.on.isoformat(),
                "to": r.to_state,
                "documents": [
                    {"kind": x.kind, "sha256": x.sha256, "version": x.version, "name": x.name} for x in r.documents
                ],
            }
            for r in c.records
        ],
        "available_actions": [
            {
                "action": o.trigger,
                "label": _text(o.label),
                "to": o.dest,
                "roles": list(o.roles),
                "requires_fields": list(o.requires_fields),
                "requires_documents": list(o.requires_documents),
            }
            for o in d.options
            if o.available
        ],
        "blocked_actions": [
            {"action": o.trigger, "label": _text(o.label), "reasons": [_unmet(u) for u in o.blocked]}
            for o in d.options
            if not o.available
        ],
        "deadlines": [
            {"what": _text(x.label), "due": x.due.isoformat(), "overdue": x.overdue, "basis": x.basis}
            for x in d.deadlines
        ],
    }

"""What a module of routes needs from the application: the office, the settings and the request
helpers `create_app` defines (the logged-in person, CSRF-checked forms, rendering, error pages).

A module of routes is a function ``add_routes(app, web)``; `create_app` calls each module listed in
`decisions.web.app.ROUTE_MODULES` with the same `Web`, and each module's ``ACCESS`` entries join the
application's route table (`decisions.web.app.ACCESS`), which the route × role tests read."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from fastapi import Request
from fastapi.responses import HTMLResponse, Response
from starlette.datastructures import FormData

if TYPE_CHECKING:
    from decisions.service.office import Attachment, Office
    from decisions.service.users import User
    from decisions.web.app import Settings
    from decisions.web.sessions import Session

__all__ = ["Web"]


@dataclass(frozen=True)
class Web:
    office: Office
    settings: Settings
    # the logged-in, active person, or `LoginRequired` (a page redirects to the login, the API 401)
    person: Callable[[Request], User]
    session_of: Callable[[Request], Session]
    lang_of: Callable[[Request], str]
    # the request's form, its CSRF token checked (403 otherwise, nothing written)
    checked_form: Callable[[Request], Awaitable[FormData]]
    # the JSON API's CSRF check (the X-CSRF-Token header)
    api_csrf: Callable[[Request], None]
    # fields (``f.NAME``) and attachments (``d.KIND``) of a form, as `Office` takes them
    inputs: Callable[[FormData], Awaitable[tuple[dict[str, str], list[Attachment]]]]
    render: Callable[..., HTMLResponse]
    error: Callable[..., Response]
    extra: dict[str, Any]

"""The decision page's corrections (更正): a correction form's POST. Who may correct what is the
workflow's ``corrections:`` section as the engine judges it (`Office.correct`); a refusal (no such
right, a field that cannot be corrected, a correction that would make a later step unlawful) is
shown on the decision page with its article and remedy, the values typed kept, nothing written."""

from __future__ import annotations

from urllib.parse import quote

from fastapi import FastAPI, Request
from fastapi.responses import RedirectResponse, Response

from decisions.errors import ActionRefused, UsageError
from decisions.web.context import Web
from decisions.web.forms import collect_views
from decisions.web.identity import acting_person

__all__ = ["ACCESS", "add_routes"]

ACCESS: dict[tuple[str, str], str] = {
    ("POST", "/cases/{case_id}/correct"): "person",
}


def add_routes(app: FastAPI, web: Web) -> None:
    @app.post("/cases/{case_id}/correct", include_in_schema=False)
    async def correct(request: Request, case_id: str) -> Response:
        user = web.person(request)
        form = await web.checked_form(request)
        text = {k: v.strip() for k, v in form.multi_items() if isinstance(v, str)}
        fields = {k[2:]: v for k, v in text.items() if k.startswith("f.") and v}
        fields.update(collect_views(form.multi_items()))
        event = text.get("event", "")
        version = text.get("version", "")
        why = text.get("why", "")
        on = text.get("on") or None
        try:
            if not event.isdigit() or len(event) > 9:
                raise UsageError(zh="请指明要更正的事件编号", en="name the number of the event to correct")
            web.office.correct(
                case_id,
                int(event),
                acting_person(user),
                why,
                fields,
                on,
                role=text.get("role") or None,
                expected_version=int(version) if version.isdigit() and len(version) <= 10 else None,
            )
        except (ActionRefused, UsageError) as exc:  # the page again, the form open with what was typed
            status = 422 if isinstance(exc, ActionRefused) else 400
            page = web.extra["case_page"]
            return page(  # type: ignore[no-any-return]
                request,
                user,
                case_id,
                status,
                refusal=exc,
                refused_event=int(event) if event.isdigit() and len(event) <= 9 else None,
                values=fields,
                on=on or "",
                why=why,
            )
        return RedirectResponse(f"/cases/{quote(case_id)}#event-{quote(event)}", status_code=303)

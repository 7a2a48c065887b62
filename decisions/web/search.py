"""The search of the cases: ``GET /cases`` (a plain GET form and its results, paged, each linking
to the decision's page) and its JSON twin ``GET /api/cases``; both over `Office.search`.

The filters are query parameters: ``title`` (a substring), ``unit`` (a substring of the handling
unit), ``state`` (a state's name), ``year``, ``overdue`` (a checkbox), ``person`` (someone who acted
in the case: id or name), ``workflow``; ``offset`` the page."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, Response

from decisions.model import Text
from decisions.service.lists import CaseFound, Page
from decisions.web.context import Web
from decisions.web.query import is_checked, page_link

__all__ = ["ACCESS", "PAGE", "add_routes"]

ACCESS: dict[tuple[str, str], str] = {
    ("GET", "/cases"): "person",
    ("GET", "/api/cases"): "person",
}
PAGE = 50  # results a page


def _text(t: Text) -> dict[str, str]:
    return {"zh": t.zh, "en": t.en}


def _found(c: CaseFound) -> dict[str, Any]:
    due = c.next_due
    return {
        "case": c.case_id,
        "workflow": c.workflow,
        "workflow_label": _text(c.workflow_label),
        "title": c.title,
        "state": c.state,
        "state_label": _text(c.state_label),
        "stage": _text(c.stage_label),
        "unit": c.unit,
        "overdue": c.overdue,
        "due": due.due.isoformat() if due else None,
        "working_days_left": due.remaining_working_days if due else None,
    }


def add_routes(app: FastAPI, web: Web) -> None:
    office = web.office

    def search(request: Request, values: dict[str, str], overdue: str, offset: int) -> Page[CaseFound]:
        web.person(request)
        return office.search(**values, overdue=is_checked(overdue), limit=PAGE, offset=offset)

    def states() -> list[tuple[Text, list[tuple[str, Text]]]]:
        """The states to choose from, under their workflow's label."""
        return [
            (wf.label, [(s.id, s.label) for s in wf.states.values()])
            for wf in sorted(office.definitions.workflows.values(), key=lambda w: w.name)
        ]

    @app.get("/cases", response_class=HTMLResponse, include_in_schema=False)
    async def cases_page(
        request: Request,
        title: str = "",
        unit: str = "",
        state: str = "",
        year: str = "",
        overdue: str = "",
        person: str = "",
        workflow: str = "",
        offset: int = 0,
    ) -> Response:
        values = dict(title=title, unit=unit, state=state, year=year, person=person, workflow=workflow)
        page = search(request, values, overdue, offset)
        return web.render(
            request,
            "search.html",
            page=page,
            values=values,
            overdue=is_checked(overdue),
            workflows=[(n, office.definitions.workflows[n].label) for n in sorted(office.definitions.workflows)],
            states=states(),
            previous=page_link("/cases", request.query_params, page.previous),
            following=page_link("/cases", request.query_params, page.next),
        )

    @app.get("/api/cases", tags=["api"])
    async def api_cases(
        request: Request,
        title: str = "",
        unit: str = "",
        state: str = "",
        year: str = "",
        overdue: str = "",
        person: str = "",
        workflow: str = "",
        offset: int = 0,
    ) -> dict[str, Any]:
        values = dict(title=title, unit=unit, state=state, year=year, person=person, workflow=workflow)
        page = search(request, values, overdue, offset)
        return {
            "total": page.total,
            "offset": page.offset,
            "limit": page.limit,
            "next_offset": page.next,
            "cases": [_found(c) for c in page.items],
        }

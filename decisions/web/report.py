"""The annual report's page, ``/report?year=&unit=``: the figures of `Office.report` as the tables
the CLI prints, and the charts inlined as ``data:`` PNGs (the CSP allows ``img-src data:``; no
script). A route module (`decisions.web.context`)."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, Response

from decisions.errors import DecisionsError
from decisions.web.context import Web

__all__ = ["ACCESS", "add_routes"]

ACCESS: dict[tuple[str, str], str] = {("GET", "/report"): "person"}


def add_routes(app: FastAPI, web: Web) -> None:
    office = web.office

    @app.get("/report", response_class=HTMLResponse, include_in_schema=False)
    def report_page(request: Request, year: int | None = None, unit: str | None = None) -> Response:
        # a plain function: FastAPI runs it in its thread pool, so drawing the charts blocks no other request
        web.person(request)
        from decisions.report.export import NO_SOURCE, chart_images
        from decisions.report.tables import in_language, report_tables, report_title

        lang = web.lang_of(request)
        year = year or office.cases.today().year
        chosen = unit.strip() if unit and unit.strip() else None
        values: dict[str, Any] = {"asked_year": year, "unit": chosen or "", "unit_choices": office.users.units()}
        try:
            figures = office.report(year, chosen)
        except DecisionsError as exc:
            return web.render(request, "report.html", message=exc.in_language(lang), **values)
        return web.render(
            request,
            "report.html",
            heading=report_title(figures, lang),
            tables=report_tables(figures, lang),
            charts=chart_images(figures),
            note=in_language(NO_SOURCE, lang),
            **values,
        )

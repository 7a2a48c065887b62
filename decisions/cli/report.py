"""``decisions report YEAR``: the figures of the annual 法治政府建设 report (docs/report.md), as rich
tables, JSON (`schemas/cli/report.schema.json`), a spreadsheet or a standalone HTML page; ``--charts
DIR`` writes the charts as PNG and SVG."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table as RichTable

from decisions.cli.common import LANG, OUTPUT, ConfigOption, DbOption
from decisions.cli.jsonout import dump, text
from decisions.errors import UsageError, shown

if TYPE_CHECKING:
    from decisions.report.figures import Report

__all__ = ["report", "report_json"]

FORMATS = ("text", "json", "xlsx", "html")


def report_json(figures: Report) -> dict[str, Any]:
    """The ``report --format json`` document of a `decisions.report.figures.Report`."""
    from decisions.report.export import NO_SOURCE

    return {
        "year": figures.year,
        "unit": figures.unit,
        "as_of": figures.as_of.isoformat(),
        "decisions": [
            {
                "workflow": d.workflow,
                "label": text(d.label),
                "cases": d.cases,
                "by_stage": [{"stage": s, "label": text(label), "cases": n} for s, label, n in d.by_stage],
                "by_category": [{"value": v, "label": text(label), "cases": n} for v, label, n in d.by_category],
                "by_unit": [{"unit": u, "cases": n} for u, n in d.by_unit],
            }
            for d in figures.decisions
        ],
        "catalogues": [
            {
                "workflow": c.workflow,
                "label": text(c.label),
                "case": c.case_id,
                "planned_items": list(c.planned),
                "done_items": list(c.done),
                "carried_over_items": list(c.carried_over),
                "overdue_items": [
                    {"item": i, "name": name, "planned_deadline": due.isoformat()} for i, name, due in c.overdue
                ],
            }
            for c in figures.catalogues
        ],
        "reviews": [
            {
                "workflow": r.workflow,
                "label": text(r.label),
                "counts": dict(r.counts),
                "review_days": list(r.days),
                "average_days": r.average_days,
                "longest_days": r.longest_days,
                "below_minimum": r.below_minimum,
                "minimum": r.minimum,
                "by_month": list(r.by_month),
            }
            for r in figures.reviews
        ],
        "procedures": [
            {
                "workflow": p.workflow,
                "label": text(p.label),
                "counts": dict(p.counts),
                "shortened": [
                    {"case": s.case_id, "on": s.on.isoformat(), "reason_given": s.reason} for s in p.shortened
                ],
            }
            for p in figures.procedures
        ],
        "executions": [
            {
                "workflow": e.workflow,
                "label": text(e.label),
                "reports": e.reports,
                "evaluations": e.evaluations,
                "missing": list(e.missing),
            }
            for e in figures.execution
        ],
        "not_reported": text(NO_SOURCE),
    }


def _write(path: Path, data: bytes) -> None:
    try:
        path.write_bytes(data)
    except OSError as exc:
        raise UsageError(
            zh=f"无法写入 {shown(str(path))}：{exc.strerror}", en=f"cannot write {shown(str(path))}: {exc.strerror}"
        ) from exc


def report(
    year: Annotated[int, typer.Argument(help="年度 / year")],
    unit: Annotated[str | None, typer.Option("--unit", help="只统计该单位 / only this unit's cases and items")] = None,
    fmt: Annotated[str, typer.Option("--format", help="text、json、xlsx 或 html / text, json, xlsx or html")] = "text",
    out: Annotated[
        Path | None, typer.Option("--out", help="写入的文件（xlsx 必填）/ the file to write (xlsx: required)")
    ] = None,
    charts: Annotated[
        Path | None, typer.Option("--charts", help="图表目录（PNG 与 SVG）/ directory for the charts (PNG and SVG)")
    ] = None,
    db: DbOption = None,
    config: ConfigOption = None,
) -> None:
    """年度法治政府建设报告数据 / the annual rule-of-law government report's figures, from the histories."""
    from decisions.report.tables import report_tables, report_title
    from decisions.service.office import Office

    OUTPUT.json = fmt == "json"
    if fmt not in FORMATS:
        raise UsageError(
            zh=f"--format 应为 {'、'.join(FORMATS)}，而非 {shown(fmt)}",
            en=f"--format is one of {', '.join(FORMATS)}, not {shown(fmt)}",
        )
    if fmt == "xlsx" and out is None:
        raise UsageError(zh="xlsx 需要 --out 文件", en="xlsx needs --out FILE")
    for path, what in ((out, "--out"), (charts, "--charts")):
        if path is not None and path.exists() and (path.is_dir() if what == "--out" else not path.is_dir()):
            kind = ("是目录", "is a directory") if what == "--out" else ("不是目录", "is not a directory")
            raise UsageError(zh=f"{what} {kind[0]}：{shown(str(path))}", en=f"{what} {kind[1]}: {shown(str(path))}")
    office = Office.open(db, config)
    language = LANG.value
    figures = office.report(year, unit)
    console = Console(soft_wrap=True, highlight=False)
    if charts is not None:
        from decisions.report.charts import charts as draw

        try:
            charts.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise UsageError(
                zh=f"无法创建 {shown(str(charts))}：{exc.strerror}",
                en=f"cannot create {shown(str(charts))}: {exc.strerror}",
            ) from exc
        for image_format in ("png", "svg"):
            for name, data in draw(figures, image_format).items():
                _write(charts / name, data)
    if fmt == "json":
        dump(report_json(figures))
    elif fmt in ("xlsx", "html"):
        from decisions.report.export import export_report

        data = export_report(figures, fmt, "zh" if language == "both" else language)
        if out is None:
            typer.echo(data.decode("utf-8"))
        else:
            _write(out, data)
            console.print(f"已写入 / written: {escape(str(out))} ({len(data)} bytes)")
    else:
        console.print(f"[bold]{escape(report_title(figures, language))}[/bold]")
        for table in report_tables(figures, language):
            shown_table = RichTable(title=escape(table.title), title_justify="left")
            for h in table.header:
                shown_table.add_column(escape(h))
            for row in table.rows:
                shown_table.add_row(*(escape(str(cell)) for cell in row))
            if not table.rows:
                shown_table.add_row(*(["—"] * len(table.header)))
            console.print(shown_table)
        from decisions.report.export import NO_SOURCE
        from decisions.report.tables import in_language

        console.print(escape(in_language(NO_SOURCE, language)))
    if charts is not None and fmt != "json":
        console.print(f"图表已写入 / charts written: {escape(str(charts))}")

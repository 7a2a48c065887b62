"""The annual report's exports: a spreadsheet (openpyxl, one sheet per table) and a standalone HTML
page (Jinja2, autoescaped, the charts inlined as ``data:`` PNGs). Figures in, bytes out."""

from __future__ import annotations

import base64
import io
from pathlib import Path

from decisions.errors import UsageError, shown
from decisions.model import Text
from decisions.report.figures import Report
from decisions.report.tables import Table, in_language, report_tables, report_title

__all__ = ["EXPORT_FORMATS", "NO_SOURCE", "chart_images", "export_report", "render_html"]

EXPORT_FORMATS = ("xlsx", "html")
TEMPLATES = Path(__file__).parent / "templates"
NO_SOURCE = Text(
    "行政复议、行政应诉案件数在案卷历史中没有来源，本报告不统计（见 docs/report.md）",
    "administrative reconsideration (行政复议) and litigation (应诉) counts have no source in the histories "
    "and are not reported (docs/report.md)",
)


def _xlsx(report: Report, tables: list[Table], language: str) -> bytes:
    from openpyxl import Workbook
    from openpyxl.styles import Font

    book = Workbook()
    first = book.active
    assert first is not None
    book.remove(first)
    for table in tables:
        sheet = book.create_sheet(table.sheet)
        sheet.append([table.title])
        sheet["A1"].font = Font(bold=True)
        sheet.append(list(table.header))
        for cell in sheet[2]:
            cell.font = Font(bold=True)
        for row in table.rows:
            sheet.append(list(row))
        for i, _ in enumerate(table.header):
            sheet.column_dimensions[chr(ord("A") + i)].width = 18
    about = book.create_sheet("about", 0)
    about.append([report_title(report, language)])
    about.append([in_language(NO_SOURCE, language)])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def chart_images(report: Report) -> list[tuple[str, str, str]]:
    """(name, title, data: URI) of each PNG chart, for a page that inlines them."""
    from decisions.report.charts import chart_titles, charts

    titles = chart_titles(report)
    return [
        (name, f"{titles[name].zh} / {titles[name].en}",
         "data:image/png;base64," + base64.b64encode(charts(report, "png")[f"{name}.png"]).decode("ascii"))
        for name in titles
    ]  # fmt: skip


def render_html(report: Report, tables: list[Table], language: str, images: list[tuple[str, str, str]]) -> str:
    from jinja2 import Environment, FileSystemLoader, select_autoescape

    env = Environment(loader=FileSystemLoader(TEMPLATES), autoescape=select_autoescape(default=True))
    return env.get_template("report.html.j2").render(
        title=report_title(report, language),
        tables=tables,
        charts=images,
        note=in_language(NO_SOURCE, language),
        lang="en" if language == "en" else "zh-CN",
    )


def export_report(report: Report, fmt: str, language: str = "zh") -> bytes:
    """``report`` as an ``xlsx`` workbook or a standalone ``html`` page, in ``language``."""
    tables = report_tables(report, language)
    if fmt == "xlsx":
        return _xlsx(report, tables, language)
    if fmt == "html":
        return render_html(report, tables, language, chart_images(report)).encode("utf-8")
    raise UsageError(
        zh=f"导出格式应为 {'、'.join(EXPORT_FORMATS)}，而非 {shown(fmt)}",
        en=f"the export format is one of {', '.join(EXPORT_FORMATS)}, not {shown(fmt)}",
    )

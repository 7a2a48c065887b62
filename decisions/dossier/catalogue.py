"""The annual catalogue for the gazette: one version's items with every kept field by its label, and
the adjustment history (every version: compiled, published, the reason, what changed from the one
before), as a spreadsheet (openpyxl) or a PDF (the dossier's templates and WeasyPrint).

No workflow's vocabulary: the fields, their labels and the columns come from the catalogue's workflow.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from decisions.catalogue import CatalogueVersion, ItemChange, diff_versions
from decisions.errors import UsageError
from decisions.model import Text

if TYPE_CHECKING:
    from decisions.service.office import Office

__all__ = ["FORMATS", "CatalogueExport", "collect_catalogue", "export_catalogue"]

FORMATS = ("xlsx", "pdf")


@dataclass(frozen=True)
class CatalogueExport:
    year: int
    title: Text
    version: CatalogueVersion
    columns: tuple[tuple[str, Text], ...]  # the item's id, its name, then every kept field
    rows: tuple[tuple[str, ...], ...]
    history: tuple[tuple[CatalogueVersion, tuple[ItemChange, ...]], ...]  # up to the version exported


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, list):
        return "、".join(str(v) for v in value)
    return str(value)


def collect_catalogue(office: Office, year: int, version: int | None) -> CatalogueExport:
    chosen = office.catalogue_version(year, version)  # a clear error for an unknown year or version
    wf = office.catalogue_workflow()
    declared = office.catalogue_columns(year)
    names = [n for n, _ in declared]
    extra = sorted({k for item in chosen.items for k in item.fields} - set(names))
    columns = (*declared, *((n, wf.fields[n].label if n in wf.fields else Text(n, n)) for n in extra))

    def value(item: Any, name: str) -> str:
        if name == names[0]:
            return str(item.id)
        if len(names) > 1 and name == names[1]:
            return str(item.name)
        fd = wf.fields.get(name)
        raw = item.fields.get(name)
        label = fd.value_labels.get(str(raw)) if fd is not None and raw is not None else None
        return label.zh if label is not None else _cell(raw)

    rows = tuple(tuple(value(item, n) for n, _ in columns) for item in chosen.items)
    versions = [v for v in office.catalogue_versions(year) if v.version <= chosen.version]
    history = tuple((v, tuple(diff_versions(versions[i - 1], v)) if i else ()) for i, v in enumerate(versions))
    title = Text(f"{wf.label.zh} {year}", f"{wf.label.en} {year}")
    return CatalogueExport(year, title, chosen, tuple(columns), rows, history)


def _changes(changes: tuple[ItemChange, ...]) -> str:
    kinds = {"added": "新增 added", "removed": "删除 removed", "changed": "变更 changed"}
    lines = []
    for c in changes:
        detail = "; ".join(f"{f}: {_cell(a)} → {_cell(b)}" for f, a, b in c.changes)
        lines.append(f"{kinds.get(c.kind, c.kind)} {c.item}" + (f" ({detail})" if detail else ""))
    return "\n".join(lines)


def _xlsx(export: CatalogueExport) -> bytes:
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font

    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = f"目录 v{export.version.version}"
    sheet.append(
        [f"{export.title.zh} 第 {export.version.version} 版 / {export.title.en}, version {export.version.version}"]
    )
    published = export.version.published_on.isoformat() if export.version.published_on else "未公布 / not published"
    sheet.append([f"汇编 / compiled {export.version.on.isoformat()} · 公布 / published {published}"])
    sheet.append([f"{t.zh} / {t.en}" for _, t in export.columns])
    for cell in sheet[3]:
        cell.font = Font(bold=True)
    for row in export.rows:
        sheet.append(list(row))
    for column in sheet.iter_cols(min_row=3):
        sheet.column_dimensions[column[0].column_letter].width = 24
        for cell in column:
            cell.alignment = Alignment(wrap_text=True, vertical="top")
    history = book.create_sheet("调整记录 history")
    history.append(["版本 / version", "汇编 / compiled", "公布 / published", "调整理由 / reason", "变化 / changes"])
    for cell in history[1]:
        cell.font = Font(bold=True)
    for v, changes in export.history:
        history.append(
            [
                v.version,
                v.on.isoformat(),
                v.published_on.isoformat() if v.published_on else "",
                v.reason,
                _changes(changes),
            ]
        )
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _pdf(export: CatalogueExport) -> bytes:
    from decisions.dossier.render import environment, pdf_of

    html = environment().get_template("catalogue.html.j2").render(c=export, changes=_changes)
    return pdf_of(html, [])


def export_catalogue(office: Office, year: int, version: int | None, fmt: str) -> bytes:
    if fmt not in FORMATS:
        raise UsageError(f"未知格式 / unknown format {fmt!r} (formats: {', '.join(FORMATS)})")
    export = collect_catalogue(office, year, version)
    return _xlsx(export) if fmt == "xlsx" else _pdf(export)

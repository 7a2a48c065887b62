"""``decisions dossier ID --out FILE.pdf``: one matter's dossier (决策档案) as a self-contained PDF."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from decisions.cli.common import ConfigOption, DbOption
from decisions.errors import UsageError

__all__ = ["catalogue_export", "dossier"]

console = Console(soft_wrap=True, highlight=False)


def dossier(
    case_id: Annotated[str, typer.Argument(help="the matter (decision, document, case…)")],
    out: Annotated[Path, typer.Option("--out", help="the PDF file to write")],
    db: DbOption = None,
    config: ConfigOption = None,
) -> None:
    """生成决策档案 PDF / write one matter's dossier: records, documents attached, verification page."""
    from decisions.service.office import Office

    if out.exists() and out.is_dir():
        raise UsageError(f"--out 是目录 / --out is a directory: {out}")
    pdf, verified = Office.open(db, config).dossier_checked(case_id)
    try:
        out.write_bytes(pdf)
    except OSError as exc:
        raise UsageError(f"无法写入 / cannot write {out}: {exc.strerror}") from exc
    console.print(f"决策档案已写入 / dossier written: {out} ({len(pdf)} bytes)")
    if not verified:
        console.print(
            "[red]✗ 历史未通过校验，档案列明问题且不附检查点 / the history does not verify: the dossier lists "
            "the findings and carries no checkpoint (see decisions audit verify)[/red]"
        )
        raise typer.Exit(1)


def catalogue_export(
    year: Annotated[int, typer.Argument(help="年度 / year")],
    out: Annotated[Path, typer.Option("--out", help="the file to write")],
    version: Annotated[int | None, typer.Option("--version", help="版本 / version (default: latest)")] = None,
    fmt: Annotated[str, typer.Option("--format", help="xlsx or pdf")] = "xlsx",
    db: DbOption = None,
    config: ConfigOption = None,
) -> None:
    """导出目录供公布 / export a catalogue version with its adjustment history (xlsx or pdf)."""
    from decisions.service.office import Office

    if out.exists() and out.is_dir():
        raise UsageError(f"--out 是目录 / --out is a directory: {out}")
    data = Office.open(db, config).catalogue_export(year, version, fmt)
    try:
        out.write_bytes(data)
    except OSError as exc:
        raise UsageError(f"无法写入 / cannot write {out}: {exc.strerror}") from exc
    console.print(f"目录已导出 / catalogue exported: {out} ({len(data)} bytes)")

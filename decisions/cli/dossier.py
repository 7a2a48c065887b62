"""``decisions dossier ID --out FILE.pdf``: one matter's dossier (决策档案) as a self-contained PDF."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console

from decisions.cli.common import ConfigOption, DbOption
from decisions.errors import UsageError

if TYPE_CHECKING:
    from decisions.service.office import Office

__all__ = ["catalogue_export", "dossier"]

console = Console(soft_wrap=True, highlight=False)


def dossier(
    case_id: Annotated[str | None, typer.Argument(help="the matter (decision, document, case…)")] = None,
    out: Annotated[Path | None, typer.Option("--out", help="the PDF file to write (with --year: a directory)")] = None,
    year: Annotated[int | None, typer.Option("--year", help="every matter of this year, one PDF each")] = None,
    db: DbOption = None,
    config: ConfigOption = None,
) -> None:
    """生成决策档案 PDF / write one matter's dossier: records, documents attached, verification page."""
    from decisions.service.office import Office

    if out is None:
        raise UsageError("需要 --out / --out is required")
    if (case_id is None) == (year is None):
        raise UsageError("给出一个事项或 --year / give one matter or --year, not both")
    office = Office.open(db, config)
    if case_id is not None:
        if out.exists() and out.is_dir():
            raise UsageError(f"--out 是目录 / --out is a directory: {out}")
        pdf, verified = office.dossier_checked(case_id)
        _write(out, pdf)
        console.print(f"决策档案已写入 / dossier written: {out} ({len(pdf)} bytes)")
        failed = [] if verified else [case_id]
    else:
        assert year is not None
        failed = _year(office, year, out)
    if failed:
        console.print(
            f"[red]✗ 历史未通过校验，档案列明问题且不附新检查点 / the history does not verify: {', '.join(failed)} "
            "(the dossier lists the findings and carries no new checkpoint; see decisions audit verify)[/red]"
        )
        raise typer.Exit(1)


def _write(out: Path, data: bytes) -> None:
    try:
        out.write_bytes(data)
    except OSError as exc:
        raise UsageError(f"无法写入 / cannot write {out}: {exc.strerror}") from exc


def _year(office: Office, year: int, directory: Path) -> list[str]:
    """Every matter of ``year`` into ``directory``, with a progress bar; the cases that do not verify."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    from decisions.dossier import file_name

    if directory.exists() and not directory.is_dir():
        raise UsageError(f"--out 不是目录 / --out is not a directory: {directory}")
    cases = office.dossier_cases(year)
    if not cases:
        raise UsageError(f"{year} 年没有事项 / no matters of {year}")
    try:
        directory.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise UsageError(f"无法创建 / cannot create {directory}: {exc.strerror}") from exc
    failed = []
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn())
    with Progress(*columns, console=console, transient=True) as progress:
        task = progress.add_task(f"决策档案 dossiers {year}", total=len(cases))
        for case_id in cases:
            progress.update(task, description=f"决策档案 dossiers {year}: {case_id}")
            pdf, verified = office.dossier_checked(case_id)
            _write(directory / file_name(case_id), pdf)
            if not verified:
                failed.append(case_id)
            progress.advance(task)
    console.print(f"决策档案已写入 / dossiers written: {len(cases)} in {directory}")
    return failed


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
    _write(out, data)
    console.print(f"目录已导出 / catalogue exported: {out} ({len(data)} bytes)")

"""``decisions export FILE``, ``decisions import FILE`` and ``decisions backup FILE``: a whole office
into a verified archive and back (SQLite and PostgreSQL alike), and an online verified copy."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape

from decisions.cli.common import ConfigOption, DbOption, JsonOption

__all__ = ["backup", "export", "import_", "restore"]

console = Console(soft_wrap=True, highlight=False)
FileArgument = Annotated[Path, typer.Argument(help="归档文件 / archive file")]


def export(file: FileArgument, db: DbOption = None, config: ConfigOption = None, as_json: JsonOption = False) -> None:
    """导出整个机关为可校验的归档 / export the whole office (verified first) into a portable archive."""
    from decisions.service.office import Office

    s = Office.open(db, config).export(file)
    if as_json:
        typer.echo(json.dumps({"file": str(s.path), "digest": s.digest, "rows": s.rows, "documents": s.documents}))
        return
    rows = sum(s.rows.values())
    console.print(
        f"已导出 / exported: {escape(str(s.path))} · {rows} rows, {s.documents} documents ({s.hash_algorithm})"
    )
    console.print(f"归档摘要 / archive digest (write it down; `import --digest` checks it): {s.digest}")


def import_(
    file: FileArgument,
    db: DbOption = None,
    config: ConfigOption = None,
    digest: Annotated[
        str | None, typer.Option("--digest", help="导出时记下的归档摘要 / the archive digest export printed")
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """导入归档到空数据库并校验全部历史 / import an archive into an empty database, then verify everything."""
    from decisions.service.office import Office

    s, report = Office.import_archive(file, db, config, expect=digest)
    if as_json:
        typer.echo(
            json.dumps(
                {
                    "file": str(s.path),
                    "digest": s.digest,
                    "rows": s.rows,
                    "documents": s.documents,
                    "verified": {"cases": report.cases, "events": report.events, "documents": report.documents},
                }
            )
        )
        return
    console.print(f"已导入 / imported: {sum(s.rows.values())} rows, {s.documents} documents · digest {s.digest}")
    console.print(
        f"[green]已校验 / verified: {report.cases} cases, {report.events} events, {report.documents} documents "
        f"({report.algorithm}): history intact[/green]"
    )


def backup(file: FileArgument, db: DbOption = None, config: ConfigOption = None) -> None:
    """在线一致备份并校验 / an online, consistent copy (SQLite backup API; PostgreSQL: the archive), verified."""
    from decisions.service.office import Office

    s = Office.open(db, config).backup(file)
    if s.verified is not None:
        r = s.verified
        console.print(f"已备份 / backed up: {escape(str(s.path))}")
        console.print(
            f"[green]备份已校验 / the copy verifies: {r.cases} cases, {r.events} events, {r.documents} documents[/green]"
        )
    else:
        console.print(f"已备份为归档 / backed up as an archive: {escape(str(s.path))} · digest {s.digest}")
        console.print("恢复：decisions import FILE --db URL / restore it with `decisions import FILE --db URL`")


def restore(
    file: Annotated[Path, typer.Argument(help="备份文件 / backup file")],
    db: DbOption = None,
    config: ConfigOption = None,
) -> None:
    """从备份恢复到新数据库并校验 / restore a backup into a new database, then verify it."""
    from decisions.service.office import Office

    s, r = Office.restore(file, db, config)
    console.print(f"已恢复 / restored: {escape(str(s.path))}")
    console.print(
        f"[green]已校验 / verified: {r.cases} cases, {r.events} events, {r.documents} documents: history intact[/green]"
    )

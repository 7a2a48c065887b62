"""``decisions workflow coverage``: write or check docs/legal-coverage.md."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from decisions.cli.common import definitions_service
from decisions.errors import DefinitionError

COMMAND = "decisions workflow coverage --write docs/legal-coverage.md"


def coverage(
    requirements: Annotated[Path, typer.Option("--requirements", help="要求清单 / the requirement list")] = Path(
        "docs/legal-requirements.yaml"
    ),
    tests: Annotated[Path, typer.Option("--tests", help="测试目录 / the tests directory")] = Path("tests"),
    write: Annotated[Path | None, typer.Option("--write", help="写入文件 / write the page to this file")] = None,
    check: Annotated[
        Path | None, typer.Option("--check", help="核对文件是否最新 / fail if this file is not what would be written")
    ] = None,
    config: Annotated[Path | None, typer.Option("--config", help="部署配置文件 / deployment file")] = None,
) -> None:
    """生成法律要求覆盖表 / generate the legal-coverage page (every requirement, its rule, its tests)."""
    from decisions.coverage import render  # imported here: every other command starts without it

    result = definitions_service(config).legal_coverage(requirements, tests)
    if result.problems:
        raise DefinitionError(result.problems)
    page = render(result, COMMAND)
    if check is not None:
        current = check.read_text(encoding="utf-8") if check.is_file() else ""
        if current != page:
            typer.echo(f"{check} 已过期 / is out of date: run `{COMMAND}`", err=True)
            raise typer.Exit(1)
        typer.echo(f"{check}: 最新 / up to date")
    if write is not None:
        write.write_text(page, encoding="utf-8")
        typer.echo(f"{write}: {len(result.requirements)} requirements, {len(result.unmapped_rules)} unmapped rules")
    if check is None and write is None:
        typer.echo(page, nl=False)

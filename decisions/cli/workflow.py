"""``decisions workflow check`` and ``decisions workflow diagram``."""

from __future__ import annotations

import json
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.table import Table

from decisions.cli.common import LANG, definitions_service

if TYPE_CHECKING:
    from decisions.service import CheckReport, DefinitionsService

workflow_app = typer.Typer(help="检查与绘制流程定义 / check and draw workflow definitions.", no_args_is_help=True)

ConfigOption = Annotated[
    Path | None,
    typer.Option(
        "--config",
        help="部署配置文件（默认：$DECISIONS_CONFIG、./decisions.yaml、随包配置）/ deployment file (default: $DECISIONS_CONFIG, ./decisions.yaml, shipped)",
    ),
]


class DiagramFormat(StrEnum):
    mermaid = "mermaid"
    dot = "dot"


def _service(config: Path | None) -> DefinitionsService:
    return definitions_service(config)


def _print_report(report: CheckReport, console: Console) -> None:
    lang = LANG.value

    def say(zh: str, en: str) -> str:
        return zh if lang == "zh" else en if lang == "en" else f"{en} {zh}"

    table = Table(
        title="定义检查" if lang == "zh" else "definition check" if lang == "en" else "定义检查 / definition check"
    )
    for zh, en in (("文件", "file"), ("类型", "kind"), ("名称", "name"), ("概要", "summary"), ("结果", "result")):
        table.add_column(say(zh, en))
    for f in report.files:
        summary = ", ".join(f"{k} {v}" for k, v in f.summary.items())
        errors = {"zh": f"{len(f.problems)} 处错误", "en": f"{len(f.problems)} errors"}
        result = (
            f"[green]{'通过' if lang == 'zh' else 'OK' if lang == 'en' else '通过 OK'}[/green]"
            if f.ok
            else f"[red]{errors.get(lang, f'{len(f.problems)} 处错误 errors')}[/red]"
        )
        table.add_row(f.file, f.kind, f.name, summary, result)
    console.print(table)
    for f in report.files:
        for p in f.problems:
            console.print(f"[red]✗[/red] {p}", markup=True, highlight=False, soft_wrap=True)
    if report.ok:
        valid = {
            "zh": "所有定义通过检查，未发现绕过硬性关口的路径",
            "en": "all definitions valid; no gate can be bypassed",
        }
        both = "所有定义通过检查，未发现绕过硬性关口的路径 / all definitions valid; no gate can be bypassed"
        console.print(f"[green]{valid.get(lang, both)}[/green]")


@workflow_app.command("check")
def check(
    paths: Annotated[
        list[Path] | None,
        typer.Argument(help="文件或目录（默认：部署配置中的全部）/ files or directories (default: the deployment)"),
    ] = None,
    config: ConfigOption = None,
    as_json: Annotated[bool, typer.Option("--json", help="机器可读输出 / machine-readable output")] = False,
) -> None:
    """检查流程、规则包和日历文件 / check workflow, rule-pack and calendar files; non-zero exit on any problem."""
    report = _service(config).check(paths or [])
    if as_json:
        payload = {
            "ok": report.ok,
            "files": [
                {
                    "file": f.file,
                    "kind": f.kind,
                    "name": f.name,
                    "ok": f.ok,
                    "summary": f.summary,
                    "problems": [
                        {"file": p.file, "line": p.line, "path": p.path, "message": p.message} for p in f.problems
                    ],
                }
                for f in report.files
            ],
        }
        typer.echo(json.dumps(payload, ensure_ascii=False, indent=2))
    else:
        _print_report(report, Console(soft_wrap=True))
    if not report.ok:
        raise typer.Exit(1)


@workflow_app.command("diagram")
def diagram(
    name: Annotated[str, typer.Argument(help="流程名称，如 major_decision / workflow name, e.g. major_decision")],
    fmt: Annotated[
        DiagramFormat, typer.Option("--format", help="格式：mermaid 或 dot / mermaid or dot")
    ] = DiagramFormat.mermaid,
    config: ConfigOption = None,
) -> None:
    """打印流程图 / print the workflow as Mermaid or Graphviz DOT, gated edges labelled by their rule."""
    typer.echo(_service(config).diagram(name, fmt.value), nl=False)

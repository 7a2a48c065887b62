"""The ``decisions`` command. Translates errors to exit codes here and nowhere else.

Exit codes: 0 success; 1 a check failed or definitions are invalid; 2 bad usage (unknown names,
bad options); 3 an action was refused by the procedure; 4 the calendar cannot answer; 5 a concurrent
change (nothing written); 6 the database cannot be used (unreachable, read-only, its disk or the document
store's full, busy with another writer past the timeout: nothing written); 7 stored history does not
verify (`audit verify` findings are exit 1; acting on, showing or replaying a case whose chain does not
verify is exit 7).
"""

from __future__ import annotations

import gc
import os
import sys

import typer

from decisions.cli.archive import backup, export, import_, restore
from decisions.cli.audit import audit_app, init
from decisions.cli.cases import act, catalogue_app, history, inbox, list_cases, propose, show, start
from decisions.cli.common import LANG, OUTPUT
from decisions.cli.corrections import correct
from decisions.cli.coverage import coverage
from decisions.cli.demo import demo
from decisions.cli.dossier import catalogue_export, dossier
from decisions.cli.language import LANGUAGES, language, localise, show_usage_error
from decisions.cli.people import unit_app, user_app
from decisions.cli.report import report
from decisions.cli.web import serve, set_password
from decisions.cli.workflow import workflow_app
from decisions.errors import (
    ActionRefused,
    CalendarError,
    ConflictError,
    DecisionsError,
    DefinitionError,
    IntegrityError,
    StoreError,
    UsageError,
    shown,
)

__all__ = ["app", "main", "report_error"]

app = typer.Typer(
    name="decisions",
    help="重大行政决策程序引擎 / engine for the major administrative decision procedure (Decree 713).",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
workflow_app.command("coverage")(coverage)
app.add_typer(workflow_app, name="workflow")
app.add_typer(audit_app, name="audit")
app.add_typer(user_app, name="user")
app.add_typer(unit_app, name="unit")
app.add_typer(catalogue_app, name="catalogue")
app.command("init")(init)
app.command("start")(start)
app.command("propose")(propose)
app.command("act")(act)
app.command("show")(show)
app.command("history")(history)
app.command("correct")(correct)
app.command("list")(list_cases)
app.command("inbox")(inbox)
app.command("demo")(demo)
app.command("export")(export)
app.command("import")(import_)
app.command("backup")(backup)
app.command("restore")(restore)
app.command("dossier")(dossier)
app.command("report")(report)
catalogue_app.command("export")(catalogue_export)
app.command("serve")(serve)
user_app.command("set-password")(set_password)


def _version(value: bool) -> None:
    if value:
        from importlib.metadata import PackageNotFoundError, version

        try:
            number = version("decisions")
        except PackageNotFoundError:  # run from a checkout that was never installed
            number = "unknown"
        typer.echo(f"decisions {number}")
        raise typer.Exit()


@app.callback()
def _options(
    lang: str = typer.Option(
        "both",
        "--lang",
        envvar="DECISIONS_LANG",
        help="界面语言：zh（中文）、en（英文）或 both（默认，中英对照）/ zh, en, or both (default)",
    ),
    _show_version: bool = typer.Option(
        False, "--version", callback=_version, is_eager=True, help="显示版本号并退出 / show the version and exit"
    ),
) -> None:
    """重大行政决策程序引擎 / engine for the major administrative decision procedure (Decree 713)."""
    if lang not in LANGUAGES:
        raise UsageError(
            zh=f"--lang 应为 zh、en 或 both，而非 {shown(lang)}",
            en=f"--lang must be zh, en or both, got {shown(lang)}",
        )
    LANG.value = lang
    OUTPUT.json = False  # until the command's own --json says otherwise


EXIT_CODES: list[tuple[type[DecisionsError], int]] = [
    (DefinitionError, 1),
    (UsageError, 2),
    (ActionRefused, 3),
    (CalendarError, 4),
    (ConflictError, 5),
    (StoreError, 6),
    (IntegrityError, 7),
]


def exit_code(error: DecisionsError) -> int:
    for kind, code in EXIT_CODES:
        if isinstance(error, kind):
            return code
    return 1


def main() -> None:
    """Entry point: run the app in the language of ``--lang`` / ``DECISIONS_LANG`` (help, Typer's usage
    errors and ours alike); a `DecisionsError` becomes its message on stderr (under ``--json``: its
    JSON on stdout, `decisions.cli.jsonout.error`) and an exit code."""
    # A command is a short process that builds a large, long-lived object graph (SQLAlchemy, the
    # definitions): the modules imported so far are never garbage, and collections of the young
    # generation that often rescan what the command keeps cost ~8 % of `show`'s CPU. Reference
    # counting still frees everything else at once; cycles are collected, only less often.
    gc.freeze()
    gc.set_threshold(50_000, 20, 100)
    from typer import _click
    from typer.main import get_command

    args = sys.argv[1:]
    LANG.value = language(args, os.environ)
    command = get_command(app)
    localise(command, LANG.value)
    try:
        result = command.main(args=args, prog_name="decisions", standalone_mode=False)
    except _click.exceptions.ClickException as exc:
        sys.exit(show_usage_error(exc, LANG.value))
    except typer.Abort:
        print({"zh": "已中止", "en": "Aborted"}.get(LANG.value, "已中止 / Aborted"), file=sys.stderr)
        sys.exit(1)
    except DecisionsError as exc:
        report_error(exc)
        sys.exit(exit_code(exc))
    sys.exit(result if isinstance(result, int) else 0)


def report_error(exc: DecisionsError) -> None:
    """Say what went wrong: JSON on stdout when the command was asked for ``--json``, else text on
    stderr in the language asked for."""
    if OUTPUT.json:
        from decisions.cli.jsonout import dump, error

        dump(error(exc, exit_code(exc)))
    else:
        print(exc.in_language(LANG.value), file=sys.stderr)

"""The ``decisions`` command. Translates errors to exit codes here and nowhere else.

Exit codes: 0 success; 1 a check failed or definitions are invalid; 2 bad usage (unknown names,
bad options); 3 an action was refused by the procedure; 4 the calendar cannot answer; 5 a concurrent
change (nothing written); 6 the database cannot be used; 7 stored history does not verify.
"""

from __future__ import annotations

import sys

import typer

from decisions.cli.audit import audit_app, init
from decisions.cli.cases import act, catalogue_app, history, inbox, list_cases, propose, show, start, user_app
from decisions.cli.common import LANG
from decisions.cli.coverage import coverage
from decisions.cli.demo import demo
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

__all__ = ["app", "main"]

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
app.add_typer(catalogue_app, name="catalogue")
app.command("init")(init)
app.command("start")(start)
app.command("propose")(propose)
app.command("act")(act)
app.command("show")(show)
app.command("history")(history)
app.command("list")(list_cases)
app.command("inbox")(inbox)
app.command("demo")(demo)
app.command("serve")(serve)
user_app.command("set-password")(set_password)


@app.callback()
def _options(
    lang: str = typer.Option("both", "--lang", help="zh, en, or both (default) / 界面语言"),
) -> None:
    """重大行政决策程序引擎 / engine for the major administrative decision procedure (Decree 713)."""
    if lang not in ("zh", "en", "both"):
        raise UsageError(f"--lang 应为 zh、en 或 both / --lang must be zh, en or both, got {shown(lang)}")
    LANG.value = lang


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
    """Entry point: run the app; a `DecisionsError` becomes its message on stderr and an exit code."""
    try:
        app()
    except DecisionsError as exc:
        print(str(exc), file=sys.stderr)
        sys.exit(exit_code(exc))

"""The ``decisions`` command. Translates errors to exit codes here and nowhere else.

Exit codes: 0 success; 1 a check failed or definitions are invalid; 2 bad usage (unknown names,
bad options); 3 an action was refused by the procedure; 4 the calendar cannot answer; 5 a concurrent
change (nothing written); 6 the database cannot be used; 7 stored history does not verify.
"""

from __future__ import annotations

import sys

import typer

from decisions.cli.audit import audit_app, init
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
)

__all__ = ["app", "main"]

app = typer.Typer(
    name="decisions",
    help="重大行政决策程序引擎 / engine for the major administrative decision procedure (Decree 713).",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
app.add_typer(workflow_app, name="workflow")
app.add_typer(audit_app, name="audit")
app.command("init")(init)

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

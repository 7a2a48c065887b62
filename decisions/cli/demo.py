"""``decisions demo``: the README's main job. Plays the scenario files (a county year) on a fresh SQLite file."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape

from decisions.cli.common import ConfigOption, definitions_service
from decisions.errors import UsageError

DEMO_FILE = "decisions-demo.sqlite"


def demo(
    db: Annotated[str | None, typer.Option("--db", help=f"database URL (default: a fresh ./{DEMO_FILE})")] = None,
    config: ConfigOption = None,
    scenarios: Annotated[
        Path | None,
        typer.Option("--scenarios", help="场景文件目录 / directory of scenario files (default: the shipped demo/)"),
    ] = None,
) -> None:
    """演示：一个县一年的目录与决策 / demo: a county's year of catalogue and decisions, then audit."""
    from decisions.demo import demo_directory, run_demo
    from decisions.loading.scenarios import load_scenarios
    from decisions.service.office import Office
    from decisions.store.database import Database, is_demo_database

    console = Console(soft_wrap=True, highlight=False)
    url = db or f"sqlite:///{DEMO_FILE}"
    played = load_scenarios(scenarios or demo_directory())  # a malformed file is refused before any database is touched
    database = Database(url)
    if database.is_sqlite:
        # The demo replaces only a database it created itself, and keeps its documents beside it
        # (never in $DECISIONS_DOCUMENTS, which may be an office's real store).
        file = Path(database.engine.url.database or "")
        database.dispose()
        if file.exists() and not is_demo_database(file):
            raise UsageError(
                f"{file} 不是演示数据库，演示不会覆盖它 / {file} is not a demo database; the demo will not replace it"
            )
        for leftover in (file, Path(f"{file}-wal"), Path(f"{file}-shm")):
            leftover.unlink(missing_ok=True)
        shutil.rmtree(file.with_suffix(".documents"), ignore_errors=True)
        database = Database(url, documents=file.with_suffix(".documents"))
    database.migrate()
    database.mark_demo()
    office = Office(database, definitions_service(config).definitions())
    if office.list_cases():
        raise UsageError(f"演示需要空数据库 / the demo needs an empty database; {database.safe_url()} has cases")
    ids = run_demo(office, lambda line: console.print(escape(line)), played)
    report = office.audit.verify()
    console.print(f"\n数据库 / database: {database.safe_url()} (文档在库中 / documents included)")
    suggest = {k: v for s in played for k, v in s.suggest.items()}
    tries = [f"decisions show {ids[suggest['show']]} --db {url}"] if "show" in suggest else []
    tries += [f"decisions inbox --as {suggest['inbox']} --db {url}"] if "inbox" in suggest else []
    if tries:
        console.print(escape(f"试试 / try:  {'   ·   '.join(tries)}"))
    if not report.ok:
        raise typer.Exit(1)

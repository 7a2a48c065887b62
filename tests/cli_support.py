"""Support for tests that drive the CLI many hundreds of times in one process."""

from __future__ import annotations

import functools
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
import typer
import typer.main
import typer.testing
from sqlalchemy import inspect, text

from decisions.definitions import Definitions
from decisions.service.definitions import DefinitionsService
from decisions.store.database import Database


@contextmanager
def definitions_parsed_once() -> Iterator[None]:
    """Every invocation parses the deployment's YAML again and Typer rebuilds its click command (together
    ~0.2 s each); within this context both are memoised (the parse by the files' exact bytes, so an
    edited file is parsed again). Everything else runs unchanged."""
    original = DefinitionsService.definitions
    cache: dict[tuple[tuple[str, bytes], ...], Definitions] = {}

    def definitions(self: DefinitionsService) -> Definitions:
        d = self.deployment
        files = [*d.workflows, *d.rule_packs, *([d.calendar] if d.calendar else [])]
        key = tuple((str(f), f.read_bytes()) for f in files)
        if key not in cache:
            cache[key] = original(self)
        return cache[key]

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(DefinitionsService, "definitions", definitions)
        patch.setattr(typer.testing, "_get_command", functools.cache(typer.main.get_command))
        yield


def every_row(url: str, documents: Path) -> dict[str, list[str]]:
    """Every row of every table of the database at ``url``, sorted per table: what "nothing was
    written" is checked against."""
    database = Database(url, documents=documents)
    try:
        with database.engine.connect() as conn:
            return {
                t: sorted(repr(tuple(row)) for row in conn.execute(text(f'SELECT * FROM "{t}"')))
                for t in inspect(conn).get_table_names()
            }
    finally:
        database.dispose()

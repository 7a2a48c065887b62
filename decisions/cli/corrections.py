"""`decisions correct`: an erratum (更正) of an earlier event, appended; nothing is rewritten."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.markup import escape

from decisions.cli.cases import AsOption, SetOption, _dump, _office, console, describe, h
from decisions.cli.common import ConfigOption, DbOption, JsonOption


def correct(
    case_id: Annotated[str, typer.Argument(help="编号 / case id")],
    event: Annotated[int, typer.Option("--event", help="更正第几号事件 / the number of the event to correct")],
    reason: Annotated[str, typer.Option("--reason", help="更正理由 / why it is corrected")],
    as_: AsOption = None,
    set_: SetOption = None,
    on: Annotated[
        str | None, typer.Option("--on", help="更正后的发生日期 / the corrected day it happened, YYYY-MM-DD")
    ] = None,
    role: Annotated[str | None, typer.Option("--role", help="以何角色 / correct in this role")] = None,
    expect_version: Annotated[
        int | None, typer.Option("--expect-version", help="仅当版本仍为 N / only if still at version N")
    ] = None,
    db: DbOption = None,
    config: ConfigOption = None,
    as_json: JsonOption = False,
) -> None:
    """更正已登记事件的字段或日期（追加更正记录，原记录不变） / correct a field or the date of an earlier
    event (an erratum is appended; the original stays as recorded)."""
    from decisions.service.inputs import parse_assignments

    office = _office(db, config)
    fields = parse_assignments(set_ or [])
    view = office.correct(case_id, event, as_ or "", reason, fields, on, role, expect_version)
    erratum = view.case.errata[-1]
    if as_json:
        _dump(
            {
                "case": view.case.id,
                "seq": erratum.seq,
                "version": view.version,
                "corrects": erratum.corrects,
                "fields": dict(erratum.fields),
                "was": dict(erratum.was),
                "on": erratum.on,
                "was_on": erratum.was_on,
                "reason": erratum.reason,
                "actor": erratum.actor,
                "role": erratum.role,
            }
        )
        return
    console.print(
        f"[green]✓[/green] {escape(view.case.id)} #{erratum.seq} {h('更正', 'correction')} "
        f"#{erratum.corrects} ({erratum.recorded_on}, {escape(erratum.actor)} \\[{escape(erratum.role)}])"
    )
    for name, value in erratum.fields.items():
        console.print(f"     {name}: {escape(describe(erratum.was.get(name)))} → {escape(describe(value))}")
    if erratum.on is not None:
        console.print(f"     {h('日期', 'on')}: {erratum.was_on} → {erratum.on}")

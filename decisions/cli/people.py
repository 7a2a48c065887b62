"""Commands of people administration: people, their roles and units, delegations (委托代办), and
the units list. Every change names the administrator who makes it (``--as``), except the very first
administrator, who adds themselves (``decisions user add NAME --admin`` on an empty history)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer
from rich.markup import escape
from rich.table import Table

from decisions.cli.cases import AsOption, _dump, _heading, _office, _table_console, console
from decisions.cli.common import LANG, ConfigOption, DbOption, JsonOption, label

if TYPE_CHECKING:
    from decisions.service.users import User

user_app = typer.Typer(
    help="人员、角色、单位与委托 / people, their roles, units and delegations.", no_args_is_help=True
)
unit_app = typer.Typer(help="单位 / units people belong to.", no_args_is_help=True)

PersonArg = Annotated[str, typer.Argument(help="人员编号或姓名 / the person's id (or unique name)")]


def _done(user: User, what: str) -> None:
    roles = ", ".join(user.roles)
    state = "" if user.active else " 已停用 / deactivated"
    console.print(f"[green]✓[/green] {escape(user.shown())} ({roles}) {escape(user.unit)}{state} — {what}")


@user_app.command("add")
def user_add(
    name: Annotated[str, typer.Argument(help="姓名 / name")],
    role: Annotated[list[str] | None, typer.Option("--role", help="角色 / role (repeatable)")] = None,
    unit: Annotated[str, typer.Option("--unit", help="单位 / unit (one of: decisions unit list)")] = "",
    user_id: Annotated[
        str | None, typer.Option("--id", help="编号 / id (default: the name; required for a second 李明)")
    ] = None,
    admin: Annotated[bool, typer.Option("--admin", help="人员管理员 / also a people administrator")] = False,
    as_: AsOption = None,
    db: DbOption = None,
    config: ConfigOption = None,
) -> None:
    """添加人员 / add a person with roles (the first administrator: --admin, on an empty database)."""
    office = _office(db, config)
    if as_ is None and not (admin and office.users.people.is_empty()):
        from decisions.errors import UsageError

        raise UsageError(
            "请用 --as 指明人员管理员 / name the administrator who adds them with --as (or DECISIONS_USER); "
            "the very first one adds themselves: decisions user add NAME --admin"
        )
    user = office.users.add(name, role or [], unit, by=as_, user_id=user_id, admin=admin)
    _done(user, "已添加 / added")


@user_app.command("grant")
def user_grant(
    person: PersonArg, role: str, as_: AsOption = None, db: DbOption = None, config: ConfigOption = None
) -> None:
    """授予角色 / grant a role."""
    _done(_office(db, config).users.grant(person, role, by=_by(as_)), f"+{role}")


@user_app.command("revoke")
def user_revoke(
    person: PersonArg, role: str, as_: AsOption = None, db: DbOption = None, config: ConfigOption = None
) -> None:
    """撤销角色 / revoke a role (what they did in it stays theirs)."""
    _done(_office(db, config).users.revoke(person, role, by=_by(as_)), f"-{role}")


@user_app.command("unit")
def user_unit(
    person: PersonArg, unit: str, as_: AsOption = None, db: DbOption = None, config: ConfigOption = None
) -> None:
    """调整单位 / move a person to another unit."""
    _done(_office(db, config).users.set_unit(person, unit, by=_by(as_)), "单位已调整 / unit changed")


@user_app.command("deactivate")
def user_deactivate(person: PersonArg, as_: AsOption = None, db: DbOption = None, config: ConfigOption = None) -> None:
    """停用人员（历史记录保留）/ deactivate a person (their history stays)."""
    user = _office(db, config).users.deactivate(person, by=_by(as_))
    console.print(f"[yellow]✓[/yellow] {escape(user.shown())} 已停用 / deactivated")


@user_app.command("reactivate")
def user_reactivate(person: PersonArg, as_: AsOption = None, db: DbOption = None, config: ConfigOption = None) -> None:
    """恢复人员 / let a deactivated person act again."""
    _done(_office(db, config).users.reactivate(person, by=_by(as_)), "已恢复 / reactivated")


@user_app.command("delegate")
def user_delegate(
    delegator: Annotated[str, typer.Argument(help="委托人 / who delegates")],
    delegate: Annotated[str, typer.Argument(help="受托人 / who acts for them")],
    start: Annotated[str, typer.Option("--from", help="起始日 / first day, YYYY-MM-DD")],
    until: Annotated[str, typer.Option("--until", help="截止日 / last day, YYYY-MM-DD")],
    role: Annotated[str | None, typer.Option("--role", help="角色 / one role (default: all of theirs)")] = None,
    as_: AsOption = None,
    db: DbOption = None,
    config: ConfigOption = None,
) -> None:
    """委托代办 / let someone act for a person, in one role or all, from one day to another (end it
    early with: decisions user end-delegation N)."""
    from decisions.service.inputs import parse_date

    users = _office(db, config).users
    first, last = parse_date(start, "--from"), parse_date(until, "--until")
    d = users.delegate(delegator, delegate, role, first, last, by=_by(as_))
    console.print(
        f"[green]✓[/green] #{d.seq} {escape(d.delegate)} 代 {escape(d.delegator)} / for {escape(d.delegator)}: "
        f"{escape(d.role or '全部角色 all roles')} {d.start} – {d.until}"
    )


@user_app.command("end-delegation")
def user_end_delegation(
    seq: Annotated[int, typer.Argument(help="委托编号 / the delegation's number (#N)")],
    on: Annotated[str, typer.Option("--on", help="自该日起失效 / ended from this day, YYYY-MM-DD")],
    as_: AsOption = None,
    db: DbOption = None,
    config: ConfigOption = None,
) -> None:
    """结束委托 / end a delegation early."""
    from decisions.service.inputs import parse_date

    d = _office(db, config).users.end_delegation(seq, parse_date(on, "--on"), by=_by(as_))
    console.print(f"[yellow]✓[/yellow] #{d.seq} 自 {d.ended} 起结束 / ended from {d.ended}")


@user_app.command("list")
def user_list(db: DbOption = None, config: ConfigOption = None, as_json: JsonOption = False) -> None:
    """列出人员 / list people."""
    office = _office(db, config)
    users = office.users.list()
    delegations = office.users.delegations()
    if as_json:
        _dump([{"id": u.id, "name": u.name, "roles": list(u.roles), "unit": u.unit, "active": u.active} for u in users])
        return
    table = Table()
    for zh, en in (("编号", "id"), ("姓名", "name"), ("角色", "roles"), ("单位", "unit"), ("状态", "status")):
        table.add_column(_heading(zh, en), overflow="fold")
    comma = "、" if LANG.value == "zh" else ", "
    for u in users:
        roles = comma.join(label(office.users.roles[r]) if r in office.users.roles else _role_word(r) for r in u.roles)
        status = _heading("在用", "active") if u.active else _heading("已停用", "deactivated")
        acting = [
            _heading(f"代 {d.delegator}", f"for {d.delegator}")
            for d in delegations
            if d.delegate == u.id and not d.ended
        ]
        table.add_row(u.id, u.name, roles, u.unit, " ".join([status, *acting]))
    _table_console().print(table)


@user_app.command("history")
def user_history(
    person: Annotated[str | None, typer.Argument(help="人员 / one person (default: everyone)")] = None,
    db: DbOption = None,
    config: ConfigOption = None,
    as_json: JsonOption = False,
) -> None:
    """人员管理记录（哈希链）/ the people administration history (hash-chained)."""
    changes = _office(db, config).users.history(person)
    if as_json:
        _dump(
            [
                {"seq": c.seq, "kind": c.kind, "person": c.person, "by": c.by, "at": c.at, **c.details, "hash": c.hash}
                for c in changes
            ]
        )
        return
    for c in changes:
        details = ", ".join(f"{k}={v}" for k, v in c.details.items())
        console.print(
            f"#{c.seq} {c.at} {escape(c.kind)} {escape(c.person)} {escape(details)} — 操作人 by {escape(c.by)}"
        )


@unit_app.command("add")
def unit_add(
    names: Annotated[list[str], typer.Argument(help="单位名称 / unit names")],
    as_: AsOption = None,
    db: DbOption = None,
    config: ConfigOption = None,
) -> None:
    """添加单位 / add units (each its own entry of the people history)."""
    users = _office(db, config).users
    by = _by(as_)
    for name in names:
        console.print(f"[green]✓[/green] {escape(users.add_unit(name, by=by))}")


@unit_app.command("list")
def unit_list(db: DbOption = None, config: ConfigOption = None, as_json: JsonOption = False) -> None:
    """列出单位 / list units."""
    units = _office(db, config).users.units()
    if as_json:
        _dump(units)
        return
    for u in units:
        console.print(escape(u))


def _by(as_: str | None) -> str:
    """The administrator named with --as: on the CLI a change is always someone's."""
    if not as_:
        from decisions.errors import UsageError

        raise UsageError("请用 --as 指明操作人 / name who makes this change with --as (or DECISIONS_USER)")
    return as_


def _role_word(role: str) -> str:
    """A role no workflow declares (the people administrator's) in the language asked for."""
    from decisions.service.users import ADMIN

    return _heading("人员管理员", "people administrator") if role == ADMIN else role

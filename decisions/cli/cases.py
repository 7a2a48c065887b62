"""Commands for clerks, legal counsel and everyone: people, decisions, the catalogue, the inbox."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from decisions.cli.common import LANG, ConfigOption, DbOption, JsonOption, label
from decisions.cli.labels import Words
from decisions.errors import ActionRefused, Unmet
from decisions.model import Document, Text

if TYPE_CHECKING:  # loaded on first use: keeps `decisions --help` fast
    from decisions.service.office import Attachment, CaseDetails, Office
    from decisions.workflow.engine import Fired

console = Console(soft_wrap=True, highlight=False)

AsOption = Annotated[
    str | None,
    typer.Option(
        "--as", envvar="DECISIONS_USER", help="操作人姓名（或环境变量 DECISIONS_USER）/ who acts (or DECISIONS_USER)"
    ),
]
OnOption = Annotated[
    str | None,
    typer.Option(
        "--on",
        help="发生日期，YYYY-MM-DD（也可写 2025/10/20、2025年10月20日；默认：今天）/ the day it happened, YYYY-MM-DD (default: today)",
    ),
]
SetOption = Annotated[
    list[str] | None,
    typer.Option("--set", help="字段：名称=值（名称可用中文标签；可重复）/ a field: name=value (repeatable)"),
]
AttachOption = Annotated[
    list[str] | None, typer.Option("--attach", help="附件：类型=文件路径（可重复）/ a document: KIND=PATH (repeatable)")
]

user_app = typer.Typer(help="人员与角色 / people and their roles.", no_args_is_help=True)
catalogue_app = typer.Typer(help="年度决策事项目录 / the annual catalogue.", no_args_is_help=True)


def _table_console() -> Console:
    """Tables at terminal width on a terminal or at ``$COLUMNS`` when set (each column folds to fit 80);
    unclipped (wide) when piped or written to a file without it."""
    import os
    import sys

    return Console(highlight=False, width=None if sys.stdout.isatty() or os.environ.get("COLUMNS") else 240)


def h(zh: str, en: str) -> str:
    """A fixed heading in the language chosen with --lang."""
    return label(Text(zh, en))


def _heading(zh: str, en: str) -> str:
    """A table heading or cell word: ``中文 English`` in both languages (narrow), else one."""
    return zh if LANG.value == "zh" else en if LANG.value == "en" else f"{zh} {en}"


def _office(db: str | None, config: Path | None) -> Office:
    from decisions.service.office import Office

    return Office.open(db, config)


def describe(value: Any) -> str:
    from decisions.service.office import describe as _describe

    return _describe(value)


def document_line(d: Document) -> str:
    from decisions.service.office import document_line as _line

    return _line(d)


def _dump(payload: Any) -> None:
    typer.echo(json.dumps(payload, ensure_ascii=False, indent=2, default=str))


def _unmet(u: Unmet) -> dict[str, Any]:
    return {
        "rule_id": u.rule_id,
        "citation": u.citation,
        "message_zh": u.message_zh,
        "message_en": u.message_en,
        "kind": u.kind,
        "sources": list(u.sources),  # each parameter's value in force and the packs (with citations) that set it
    }


def _fired(fired: Fired, as_json: bool, office: Office | None = None) -> None:
    r = fired.record
    if as_json:
        _dump(
            {
                "case": fired.case.id,
                "seq": r.seq,
                "trigger": r.trigger,
                "from": r.from_state,
                "to": r.to_state,
                "version": r.seq,
                "draft_version": r.draft_version,
                "documents": [{"kind": d.kind, "sha256": d.sha256, "version": d.version} for d in r.documents],
                "rules": [
                    {"id": x.rule.id, "outcome": x.outcome.value, "citation": str(x.rule.citation)}
                    for x in fired.results
                ],
            }
        )
        return
    w = Words.of(office, fired.case.workflow) if office is not None else Words(None, {})
    if w.zh:
        console.print(
            f"[green]✓[/green] {escape(fired.case.id)} #{r.seq} {escape(w.action(r.trigger))}：{escape(w.state(r.from_state))}"
            f" → [bold]{escape(w.state(r.to_state))}[/bold]（{r.on}，{escape(r.actor)}［{escape(w.role(r.role or ''))}］）"
        )
    else:
        who = escape(f"{r.actor} [{r.role}]")
        console.print(
            f"[green]✓[/green] {escape(fired.case.id)} #{r.seq} {r.trigger}: {r.from_state} → [bold]{r.to_state}[/bold] ({r.on}, {who})"
        )
    for d in r.documents:
        console.print(f"   📎 {escape(_document(w, d))}")
    waived = [x for x in fired.results if x.outcome.value == "waived"]
    for x in waived:
        console.print(
            f"   ≈ {x.rule.id}: {label(x.rule.message)} — {h('理由', 'reason')}: {escape('; '.join(x.detail))}"
        )


@contextmanager
def _named(office: Office) -> Iterator[None]:
    """A refusal raised inside names its action and state by their labels (in Chinese)."""
    try:
        yield
    except ActionRefused as exc:
        if LANG.value == "zh":
            found = next((n for n, wf in office.definitions.workflows.items() if exc.state in wf.states), "")
            w = Words.of(office, found)
            exc.shown_as = (w.action(exc.trigger), w.state(exc.state))
        raise


def _document(w: Words, d: Document) -> str:
    """A document as one line: kind, version, name and the start of its hash (the kind by its label in Chinese)."""
    line = document_line(d)
    return f"{w.document(d.kind)}{line[len(d.kind) :]}" if w.zh and line.startswith(d.kind) else line


# -- people -------------------------------------------------------------------------------------


@user_app.command("add")
def user_add(
    name: Annotated[str, typer.Argument(help="姓名 / name")],
    role: Annotated[list[str], typer.Option("--role", help="角色（可重复）/ role (repeatable)")],
    unit: Annotated[str, typer.Option("--unit", help="单位 / unit")] = "",
    db: DbOption = None,
    config: ConfigOption = None,
) -> None:
    """添加人员 / add a person with roles."""
    office = _office(db, config)
    user = office.users.add(name, role, unit)
    roles = "、".join(label(office.users.roles[r]) for r in user.roles) if LANG.value == "zh" else ", ".join(user.roles)
    console.print(f"[green]✓[/green] {escape(user.name)} ({roles}) {escape(user.unit)}")


@user_app.command("list")
def user_list(db: DbOption = None, config: ConfigOption = None, as_json: JsonOption = False) -> None:
    """列出人员 / list people."""
    office = _office(db, config)
    users = office.users.list()
    if as_json:
        _dump([{"name": u.name, "roles": list(u.roles), "unit": u.unit, "active": u.active} for u in users])
        return
    table = Table()
    for zh, en in (("姓名", "name"), ("角色", "roles"), ("单位", "unit"), ("状态", "status")):
        table.add_column(_heading(zh, en), overflow="fold")
    for u in users:
        roles = ("、" if LANG.value == "zh" else ", ").join(label(office.users.roles[r]) for r in u.roles)
        table.add_row(
            u.name, roles, u.unit, _heading("在用", "active") if u.active else _heading("已停用", "deactivated")
        )
    _table_console().print(table)


@user_app.command("deactivate")
def user_deactivate(name: str, db: DbOption = None, config: ConfigOption = None) -> None:
    """停用人员（历史记录保留）/ deactivate a person (their history stays)."""
    user = _office(db, config).users.deactivate(name)
    console.print(f"[yellow]✓[/yellow] {escape(user.name)} {h('已停用', 'deactivated')}")


# -- decisions ----------------------------------------------------------------------------------


def _acting(
    db: str | None, config: Path | None, set_: list[str] | None, attach: list[str] | None
) -> tuple[Office, dict[str, str], list[Attachment]]:
    """The office, the ``--set`` fields and the ``--attach`` files of a command that acts."""
    from decisions.service.inputs import parse_assignments

    office = _office(db, config)
    return office, parse_assignments(set_ or []), office.read_attachments(attach or [])


IdOption = Annotated[
    str | None,
    typer.Option(
        "--id",
        help="编号（默认：按流程编号规则取下一个）/ id (default: the next id of the workflow's `case: id` pattern)",
    ),
]


def start(
    workflow: Annotated[
        str, typer.Argument(help="流程名称（见 `decisions workflow check`）/ workflow (see `decisions workflow check`)")
    ],
    as_: AsOption = None,
    set_: SetOption = None,
    attach: AttachOption = None,
    on: OnOption = None,
    case_id: IdOption = None,
    db: DbOption = None,
    config: ConfigOption = None,
    as_json: JsonOption = False,
) -> None:
    """开启一个事项（流程声明的首个操作）/ open a case of a workflow with its declared start action."""
    office, fields, attachments = _acting(db, config, set_, attach)
    with _named(office):
        _fired(office.start(workflow, as_ or "", fields, attachments, on, case_id), as_json, office)


def propose(
    as_: AsOption = None,
    set_: SetOption = None,
    attach: AttachOption = None,
    on: OnOption = None,
    case_id: IdOption = None,
    db: DbOption = None,
    config: ConfigOption = None,
    as_json: JsonOption = False,
) -> None:
    """提出重大行政决策建议 / propose a major decision (fields: title, category, source, ...): `decisions start`
    of the workflow whose cases implement catalogue items."""
    office, fields, attachments = _acting(db, config, set_, attach)
    with _named(office):
        _fired(office.propose(as_ or "", fields, attachments, on, case_id), as_json, office)


def act(
    case_id: Annotated[str, typer.Argument(help="事项编号 / case id")],
    action: Annotated[
        str, typer.Argument(help="操作名称（见 `decisions show 编号`）/ action (see `decisions show ID`)")
    ],
    as_: AsOption = None,
    set_: SetOption = None,
    attach: AttachOption = None,
    on: OnOption = None,
    role: Annotated[str | None, typer.Option("--role", help="以何角色 / act in this role")] = None,
    expect_version: Annotated[
        int | None, typer.Option("--expect-version", help="仅当版本仍为 N / only if still at version N")
    ] = None,
    db: DbOption = None,
    config: ConfigOption = None,
    as_json: JsonOption = False,
) -> None:
    """执行一项操作 / take an action on a decision or catalogue."""
    office, fields, attachments = _acting(db, config, set_, attach)
    with _named(office):
        _fired(office.act(case_id, action, as_ or "", fields, attachments, on, role, expect_version), as_json, office)


def _details_json(d: CaseDetails) -> dict[str, Any]:
    c = d.view.case
    return {
        "id": c.id,
        "workflow": c.workflow,
        "state": c.state,
        "state_label": {"zh": d.state_label.zh, "en": d.state_label.en},
        "stage": {"zh": d.stage_label.zh, "en": d.stage_label.en},
        "approval_state": d.approval,
        "final": d.final,
        "version": d.view.version,
        "draft_version": c.draft_version,
        "definitions": d.view.definitions,
        "attributes": dict(c.attributes),
        "records": [
            {
                "seq": r.seq,
                "trigger": r.trigger,
                "actor": r.actor,
                "role": r.role,
                "on": r.on,
                "to": r.to_state,
                "documents": [document_line(x) for x in r.documents],
            }
            for r in c.records
        ],
        "available_actions": [
            {
                "action": o.trigger,
                "label": {"zh": o.label.zh, "en": o.label.en},
                "to": o.dest,
                "roles": list(o.roles),
                "requires_fields": list(o.requires_fields),
                "requires_documents": list(o.requires_documents),
                "checked_when_fired": list(o.checked_on_fire),
            }
            for o in d.options
            if o.available
        ],
        "blocked_actions": [
            {
                "action": o.trigger,
                "label": {"zh": o.label.zh, "en": o.label.en},
                "reasons": [_unmet(u) for u in o.blocked],
            }
            for o in d.options
            if not o.available
        ],
        "deadlines": [
            {"what": {"zh": x.label.zh, "en": x.label.en}, "due": x.due, "overdue": x.overdue, "basis": x.basis}
            for x in d.deadlines
        ],
    }


def show(
    case_id: Annotated[str, typer.Argument(help="事项编号 / case id")],
    as_: AsOption = None,
    db: DbOption = None,
    config: ConfigOption = None,
    as_json: JsonOption = False,
) -> None:
    """查看决策事项：阶段、状态、记录、可执行与受阻的操作 / show a case and what can happen next."""
    office = _office(db, config)
    d = office.show(case_id, as_)
    if as_json:
        _dump(_details_json(d))
        return
    c = d.view.case
    w = Words.of(office, c.workflow)
    colon = "：" if w.zh else ": "
    approval = " ✔ " + h("批准状态", "approval state") if d.approval else ""
    state_id = "" if w.zh else f" ({c.state})"
    console.print(f"[bold]{escape(c.id)}[/bold] {escape(d.title)}")
    console.print(
        f"{h('阶段', 'stage')}{colon}{label(d.stage_label)} · {h('状态', 'state')}{colon}[bold]{label(d.state_label)}[/bold]{state_id}{approval}"
        f" · {h('版本', 'version')} {d.view.version} · {h('草案', 'draft')} v{c.draft_version}"
    )
    for name, value in c.attributes.items():
        console.print(f"   {escape(w.field(name))}{colon}{escape(w.value(name, value))}")
    for x in d.deadlines:
        flag = f"[red]{h('已逾期', 'OVERDUE')}[/red] " if x.overdue else ""
        console.print(f"⏰ {flag}{label(x.label)}{colon}{x.due}  [dim]{escape(w.text(x.basis))}[/dim]")
    console.print(f"\n[bold]{h('记录', 'records')}[/bold]")
    for r in c.records:
        console.print(
            f"   #{r.seq} {r.on} {escape(r.actor)} \\[{escape(w.role(r.role or ''))}] {escape(w.action(r.trigger))}"
            f" → {escape(w.state(r.to_state))}"
        )
    who = f"({escape(d.actor)})" if d.actor else f"({h('任何角色', 'any role')})"
    console.print(f"\n[bold]{h('可执行', 'available')}[/bold] {who}")
    for o in d.options:
        if o.available:
            wanted = [*map(w.field, o.requires_fields), *(f"📎{w.document(k)}" for k in o.requires_documents)]
            needs = ("、" if w.zh else ", ").join(wanted) or "—"
            console.print(
                f"   [green]▶[/green] {o.trigger}{colon}{label(o.label)} → {escape(w.state(o.dest))}"
                f"  [dim]{h('需要', 'needs')}{colon}{escape(needs)}[/dim]"
            )
    console.print(f"[bold]{h('受阻', 'blocked')}[/bold]")
    for o in d.options:
        if not o.available:
            console.print(f"   [red]■[/red] {o.trigger}{colon}{label(o.label)}")
            for u in o.blocked:
                text = escape(f"[{u.rule_id}] {label(Text(u.message_zh, u.message_en))}")
                console.print(f"      - {text} [dim]({escape(w.citation(u.citation))})[/dim]")


def history(
    case_id: Annotated[str, typer.Argument(help="事项编号 / case id")],
    db: DbOption = None,
    config: ConfigOption = None,
    as_json: JsonOption = False,
) -> None:
    """历史记录 / the full history: who, role, what, when, with fields and documents."""
    office = _office(db, config)
    records = office.history(case_id)
    if as_json:
        _dump(
            [
                {
                    "seq": r.seq,
                    "trigger": r.trigger,
                    "actor": r.actor,
                    "role": r.role,
                    "unit": r.unit,
                    "on": r.on,
                    "from": r.from_state,
                    "to": r.to_state,
                    "fields": dict(r.fields),
                    "draft_version": r.draft_version,
                    "documents": [
                        {"kind": d.kind, "sha256": d.sha256, "version": d.version, "name": d.name} for d in r.documents
                    ],
                }
                for r in records
            ]
        )
        return
    w = Words.of(office, office.show(case_id).view.case.workflow) if records and LANG.value == "zh" else Words(None, {})
    colon = "：" if w.zh else ": "
    for r in records:
        console.print(
            f"[bold]#{r.seq}[/bold] {r.on} {escape(r.actor)} \\[{escape(w.role(r.role or ''))}] {escape(w.action(r.trigger))}"
            f"{colon}{escape(w.state(r.from_state))} → {escape(w.state(r.to_state))}"
        )
        for name, value in r.fields.items():
            console.print(f"     {escape(w.field(name))}{colon}{escape(w.value(name, value))}")
        for d in r.documents:
            console.print(f"     📎 {escape(_document(w, d))}")


def list_cases(
    workflow: Annotated[
        str | None,
        typer.Option(
            "--workflow", help="只列此流程的事项，如 major_decision / only this workflow's cases, e.g. major_decision"
        ),
    ] = None,
    db: DbOption = None,
    config: ConfigOption = None,
    as_json: JsonOption = False,
) -> None:
    """列出全部事项 / list every case."""
    office = _office(db, config)
    rows = office.list_cases(workflow)
    if as_json:
        _dump([{"id": i, "workflow": w, "state": s, "title": t, "version": v} for i, w, s, t, v in rows])
        return
    table = Table()
    for zh, en in (("编号", "id"), ("流程", "workflow"), ("状态", "state"), ("名称", "title"), ("版本", "version")):
        table.add_column(_heading(zh, en), overflow="fold")
    for i, wf, s, t, v in rows:
        if LANG.value == "zh":
            words = Words.of(office, wf)
            wf, s = words.wf.label.zh if words.wf else wf, words.state(s)
        table.add_row(i, wf, s, t, str(v))
    _table_console().print(table)


def inbox(
    as_: AsOption = None,
    limit: Annotated[
        int, typer.Option("--limit", min=1, max=10000, help="最多查看多少件 / at most this many cases per workflow")
    ] = 100,
    db: DbOption = None,
    config: ConfigOption = None,
    as_json: JsonOption = False,
) -> None:
    """待办：可办理和等待条件的事项，期限与逾期 / tasks for a person, with due dates and overdue flags."""
    office = _office(db, config)
    box = office.inbox(as_ or "", limit)
    if as_json:
        _dump(
            {
                "user": box.user,
                "roles": list(box.roles),
                "overdue": box.overdue,
                "tasks": [
                    {
                        "case": t.case_id,
                        "workflow": t.workflow,
                        "title": t.title,
                        "state": {"zh": t.state_label.zh, "en": t.state_label.en},
                        "action": t.option.trigger,
                        "available": t.option.available,
                        "blocked_by": [_unmet(u) for u in t.option.blocked],
                        "deadlines": [
                            {
                                "what": {"zh": d.label.zh, "en": d.label.en},
                                "due": d.due,
                                "overdue": d.overdue,
                                "remaining_working_days": d.remaining_working_days,
                            }
                            for d in t.deadlines
                        ],
                    }
                    for t in box.tasks
                ],
                "late_catalogue_items": [
                    {"catalogue": c, "item": i, "name": n, "planned_by": p} for c, i, n, p in box.late_items
                ],
            }
        )
        return
    zh = LANG.value == "zh"
    if zh:
        roles = "、".join(label(office.users.roles[r]) for r in box.roles if r in office.users.roles)
        console.print(f"[bold]{escape(box.user)}[/bold] 的待办（{roles}）· 逾期：{box.overdue}")
    elif LANG.value == "en":
        console.print(f"[bold]{escape(box.user)}[/bold]'s inbox ({', '.join(box.roles)}) · overdue: {box.overdue}")
    else:
        console.print(
            f"[bold]{escape(box.user)}[/bold] 的待办 / inbox ({', '.join(box.roles)}) · 逾期 overdue: {box.overdue}"
        )
    shown: set[str] = set()
    for t in box.tasks:
        if t.case_id not in shown:
            shown.add(t.case_id)
            procedure = f" · {label(t.workflow_label)}" if t.workflow_label is not None else ""
            console.print(f"\n [bold]{escape(t.case_id)}[/bold] {escape(t.title)} · {label(t.state_label)}{procedure}")
            for d in t.deadlines:
                days = d.remaining_working_days
                left = "" if days is None else f", {label(Text(f'剩余 {days} 个工作日', f'{days} working days left'))}"
                left = left if LANG.value != "both" or days is None else f", 剩余 {days} 个工作日 working days left"
                flag = f"[red]{h('已逾期', 'OVERDUE')}[/red] " if d.overdue else ""
                console.print(f"   ⏰ {flag}{label(d.label)}{'：' if LANG.value == 'zh' else ': '}{d.due}{left}")
        mark = "[green]▶[/green]" if t.option.available else "[yellow]…[/yellow]"
        console.print(f"   {mark} {t.option.trigger}{'：' if LANG.value == 'zh' else ': '}{label(t.option.label)}")
        for u in t.option.blocked:
            console.print(f"      … {escape(f'[{u.rule_id}]')} {escape(label(Text(u.message_zh, u.message_en)))}")
    for c, i, n, p in box.late_items:
        console.print(
            f" [red]⚠ {h('久拖不决', 'undue delay')}[/red] {c} {escape(i)} {escape(n)}: {h('计划完成期限', 'planned by')} {p}"
        )
    if not box.tasks and not box.late_items:
        console.print(" " + h("暂无待办", "nothing to do"))


# -- catalogue ----------------------------------------------------------------------------------


@catalogue_app.command("open")
def catalogue_open(
    year: Annotated[int, typer.Argument(help="年度 / year")],
    as_: AsOption = None,
    set_: SetOption = None,
    attach: AttachOption = None,
    on: OnOption = None,
    db: DbOption = None,
    config: ConfigOption = None,
    as_json: JsonOption = False,
) -> None:
    """开启年度目录并发布征集通知 / open the year's catalogue with its call for items.

    `decisions start` of the catalogue workflow, with its year field set to YEAR."""
    office, fields, attachments = _acting(db, config, set_, attach)
    with _named(office):
        _fired(office.open_catalogue(year, as_ or "", fields, attachments, on), as_json, office)


@catalogue_app.command("show")
def catalogue_show(
    year: Annotated[int, typer.Argument(help="年度 / year")],
    version: Annotated[
        int | None, typer.Option("--version", help="版本（默认：最新）/ version (default: latest)")
    ] = None,
    db: DbOption = None,
    config: ConfigOption = None,
    as_json: JsonOption = False,
) -> None:
    """查看目录某一版本 / show a version of the catalogue."""
    office = _office(db, config)
    v = office.catalogue_version(year, version)
    all_versions = [x.version for x in office.catalogue_versions(year)]
    if as_json:
        _dump(
            {
                "year": year,
                "version": v.version,
                "versions": all_versions,
                "compiled_on": v.on,
                "published_on": v.published_on,
                "reason": v.reason,
                "items": [{"id": i.id, **dict(i.fields)} for i in v.items],
            }
        )
        return
    on = v.published_on
    published = label(Text(f"已公布 {on}", f"published {on}")) if on else _heading("未公布", "not published")
    title = Text(f"{year} 年度重大行政决策事项目录 第 {v.version} 版", f"catalogue version {v.version}")
    versions = Text(f"各版本 {all_versions}", f"versions {all_versions}")
    console.print(
        f"[bold]{label(title)}[/bold] ({v.on}, {published}; {label(versions) if LANG.value != 'both' else f'versions {all_versions}'})"
    )
    if v.reason:
        console.print(f"{h('调整理由', 'adjustment reason')}: {escape(v.reason)}")
    table = Table()
    columns = office.catalogue_columns(year)  # the item's id, its name, then the declared columns
    for _, heading in columns:
        table.add_column(label(heading), overflow="fold")
    for i in v.items:
        shown = [i.fields.get(name) for name, _ in columns[2:]]
        table.add_row(i.id, i.name, *("" if x is None else str(x) for x in shown))
    _table_console().print(table)


@catalogue_app.command("diff")
def catalogue_diff(
    year: Annotated[int, typer.Argument(help="年度 / year")],
    a: Annotated[int, typer.Argument(help="版本 / from version")],
    b: Annotated[int, typer.Argument(help="版本 / to version")],
    db: DbOption = None,
    config: ConfigOption = None,
    as_json: JsonOption = False,
) -> None:
    """比较两个版本 / what changed between two versions."""
    changes = _office(db, config).catalogue_diff(year, a, b)
    if as_json:
        _dump(
            [
                {
                    "item": c.item,
                    "kind": c.kind,
                    "changes": [{"field": f, "before": x, "after": y} for f, x, y in c.changes],
                }
                for c in changes
            ]
        )
        return
    marks = {
        "added": f"[green]+ {_heading('新增', 'added')}[/green]",
        "removed": f"[red]- {_heading('删除', 'removed')}[/red]",
        "changed": f"[yellow]~ {_heading('变更', 'changed')}[/yellow]",
    }
    for c in changes:
        console.print(f"{marks[c.kind]} {escape(c.item)}")
        for f, x, y in c.changes:
            console.print(f"      {f}: {escape(describe(x))} → {escape(describe(y))}")
    if not changes:
        console.print(h("两版相同", "no differences"))

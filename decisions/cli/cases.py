"""Commands for clerks, legal counsel and everyone: people, decisions, the catalogue, the inbox."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from decisions.cli import jsonout
from decisions.cli.common import LANG, ConfigOption, DbOption, JsonOption, label
from decisions.cli.labels import Words
from decisions.errors import ActionRefused
from decisions.model import ERRATUM, Document, Erratum, Record, Text

if TYPE_CHECKING:  # loaded on first use: keeps `decisions --help` fast
    from decisions.service.office import Attachment, CaseDetails, DocumentInfo, Office
    from decisions.workflow.definition import WorkflowDef
    from decisions.workflow.engine import Fired
    from decisions.workflow.needs import ActionSchema

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


_dump = jsonout.dump
_unmet = jsonout.unmet


def _who(r: Record) -> str:
    """The actor of a record, and whom they acted for by delegation: "B 代 A / B for A"."""
    return r.actor if r.on_behalf_of is None else f"{r.actor} 代 {r.on_behalf_of} / for {r.on_behalf_of}"


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
                "on": r.on,
                "actor": r.actor,
                "role": r.role,
                "documents": [jsonout.document(d) for d in r.documents],
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
            f" → [bold]{escape(w.state(r.to_state))}[/bold]（{r.on}，{escape(_who(r))}［{escape(w.role(r.role or ''))}］）"
        )
    else:
        who = escape(f"{_who(r)} [{r.role}]")
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


def _state_json(wf: WorkflowDef, state: str) -> dict[str, Any]:
    """A state as a form or a script reads it: its label, its stage and the stage's place in the
    procedure (the order the workflow declares its stages in), and its flags."""
    from decisions.workflow.needs import steps_to_approval

    s = wf.states[state]
    return {
        "id": state,
        "label": jsonout.text(s.label),
        "stage": s.stage,
        "stage_order": list(wf.stages).index(s.stage),
        "approval": s.approval,
        "final": s.final,
        "discussion": s.discussion,
        "steps_to_approval": steps_to_approval(wf).get(state),  # fewest transitions to an approval state
    }


def _details_json(d: CaseDetails, documents: Mapping[str, DocumentInfo], wf: WorkflowDef) -> dict[str, Any]:
    c = d.view.case
    return {
        "id": c.id,
        "workflow": c.workflow,
        "state": c.state,
        "state_label": {"zh": d.state_label.zh, "en": d.state_label.en},
        "stage": {"zh": d.stage_label.zh, "en": d.stage_label.en},
        "approval_state": d.approval,
        "final": d.final,
        "state_info": _state_json(wf, c.state),
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
                "documents": [jsonout.document(x, documents) for x in r.documents],
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
                "to_state": _state_json(wf, o.dest),
                "inputs": jsonout.action_schema(o.schema) if o.schema is not None else None,
            }
            for o in d.options
            if o.available
        ],
        "blocked_actions": [
            {
                "action": o.trigger,
                "label": {"zh": o.label.zh, "en": o.label.en},
                "to": o.dest,
                "to_state": _state_json(wf, o.dest),
                "reasons": [_unmet(u) for u in o.blocked],
                "inputs": jsonout.action_schema(o.schema) if o.schema is not None else None,
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
    case_id: Annotated[str | None, typer.Argument(help="编号 / case id")] = None,
    as_: AsOption = None,
    new: Annotated[
        bool, typer.Option("--new", help="新事项的填报项 / what opening a new case takes (instead of a case id)")
    ] = False,
    workflow: Annotated[
        str | None,
        typer.Option("--workflow", help="与 --new 同用：流程 / with --new: the workflow (default: propose's)"),
    ] = None,
    db: DbOption = None,
    config: ConfigOption = None,
    as_json: JsonOption = False,
) -> None:
    """查看决策事项：阶段、状态、记录、可执行与受阻的操作 / show a case and what can happen next."""
    office = _office(db, config)
    if new or case_id is None:
        if case_id is not None or not new:
            from decisions.errors import UsageError

            raise UsageError("请给出事项编号，或用 --new 查看新事项的填报项 / give a case id, or --new for a new case")
        schema = office.start_schema(workflow, as_)
        if as_json:
            _dump({"workflow": workflow or office.proposal_workflow(), "start": jsonout.action_schema(schema)})
        else:
            _print_schema(schema)
        return
    d = office.show(case_id, as_)
    if as_json:
        wf = office.cases.definitions_for(d.view.definitions).workflow(d.view.case.workflow)
        _dump(_details_json(d, office.documents(d.view.case.records), wf))
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
            f"   #{r.seq} {r.on} {escape(_who(r))} \\[{escape(w.role(r.role or ''))}] {escape(w.action(r.trigger))}"
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
            if o.schema is not None:
                _print_inputs(o.schema)
    console.print(f"[bold]{h('受阻', 'blocked')}[/bold]")
    for o in d.options:
        if not o.available:
            console.print(f"   [red]■[/red] {o.trigger}{colon}{label(o.label)}")
            for u in o.blocked:
                text = escape(f"[{u.rule_id}] {label(Text(u.message_zh, u.message_en))}")
                console.print(f"      - {text} [dim]({escape(w.citation(u.citation))})[/dim]")
                if u.remedy:
                    console.print(f"        → {escape(label(Text(*u.remedy.describe())))}")


_MARKS = {"required": ("必填", "required"), "conditional": ("视情况", "if"), "optional": ("可选", "optional")}


def _print_inputs(schema: ActionSchema) -> None:
    """An action's fields and documents: required now, only under a condition (which), or optional."""
    for i in schema.inputs:
        mark = h(*_MARKS[i.requirement.value])
        icon = "📎" if i.kind == "document" else "✎"
        kind = "" if i.kind == "document" else f" <{i.type}>"
        choices = ""
        if i.choices:
            choices = " ∈ " + ", ".join(v if lab is None else f"{v}（{label(lab)}）" for v, lab in i.choices)
        record = f" [dim]({h('已有', 'on record')} {i.on_record})[/dim]" if i.on_record else ""
        line = f"{icon} {i.name}{kind}: {label(i.label)}{choices}"
        console.print(f"      [dim]{mark}[/dim] {escape(line)}{record}")
        for c in i.conditions:
            console.print(f"          [dim]{escape(h('当', 'when'))} {escape(label(c))}[/dim]")
        if i.rules:
            console.print(f"          [dim]{escape(h('规则', 'rules'))}: {escape(', '.join(i.rules))}[/dim]")


def _print_schema(schema: ActionSchema) -> None:
    console.print(f"[bold]{schema.trigger}[/bold]: {label(schema.label)} → {schema.dest}")
    _print_inputs(schema)


def history(
    case_id: Annotated[str, typer.Argument(help="事项编号 / case id")],
    db: DbOption = None,
    config: ConfigOption = None,
    as_json: JsonOption = False,
) -> None:
    """历史记录 / the full history: who, role, what, when, with fields and documents; corrections
    (更正) appear where they were made, with what they changed, and each corrected event says so."""
    office = _office(db, config)
    records, errata = office.history_with_errata(case_id)
    events: list[Any] = sorted([*records, *errata], key=lambda x: x.seq)
    if as_json:
        documents = office.documents(records)
        _dump([_history_entry(x, documents) for x in events])
        return
    w = Words.of(office, office.show(case_id).view.case.workflow) if records and LANG.value == "zh" else Words(None, {})
    colon = "：" if w.zh else ": "
    for x in events:
        if isinstance(x, Erratum):
            console.print(
                f"[bold]#{x.seq}[/bold] {x.recorded_on} {escape(x.actor)} \\[{escape(w.role(x.role or ''))}] "
                f"{h('更正', 'correction')} #{x.corrects}{colon}{escape(x.reason)}"
            )
            for name, value in x.fields.items():
                console.print(
                    f"     {escape(w.field(name))}{colon}{escape(w.value(name, x.was.get(name)))} → {escape(w.value(name, value))}"
                )
            if x.on is not None:
                console.print(f"     {h('日期', 'on')}{colon}{x.was_on} → {x.on}")
            continue
        r = x
        corrected = f" [yellow]({h('已更正', 'corrected')}: {', '.join(f'#{n}' for n in r.corrected_by)})[/yellow]"
        console.print(
            f"[bold]#{r.seq}[/bold] {r.on} {escape(_who(r))} \\[{escape(w.role(r.role or ''))}] {escape(w.action(r.trigger))}"
            f"{colon}{escape(w.state(r.from_state))} → {escape(w.state(r.to_state))}"
            + (corrected if r.corrected_by else "")
        )
        for name, value in r.fields.items():
            console.print(f"     {escape(w.field(name))}{colon}{escape(w.value(name, value))}")
        for d in r.documents:
            console.print(f"     📎 {escape(_document(w, d))}")


def _history_entry(x: Record | Erratum, documents: Mapping[str, DocumentInfo]) -> dict[str, Any]:
    """One event of ``history --json``: a record (as corrected, naming its errata) or an erratum."""
    if isinstance(x, Erratum):
        return {
            "seq": x.seq,
            "trigger": ERRATUM,
            "actor": x.actor,
            "role": x.role,
            "unit": x.unit,
            "on": x.recorded_on,
            "fields": {},
            "documents": [],
            "corrects": x.corrects,
            "correction": {
                "fields": dict(x.fields),
                "was": dict(x.was),
                "on": x.on,
                "was_on": x.was_on,
                "reason": x.reason,
            },
        }
    return {
        "seq": x.seq,
        "trigger": x.trigger,
        "actor": x.actor,
        "role": x.role,
        "unit": x.unit,
        "on": x.on,
        "from": x.from_state,
        "to": x.to_state,
        "fields": dict(x.fields),
        "draft_version": x.draft_version,
        "documents": [jsonout.document(d, documents) for d in x.documents],
        "corrected_by": list(x.corrected_by),
    }


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

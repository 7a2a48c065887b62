"""``decisions init`` and ``decisions audit verify | replay | checkpoint`` (read-only but for checkpoints)."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import asdict
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.markup import escape

from decisions.cli.common import LANG, ConfigOption, DbOption, JsonOption, case_service, definitions_service
from decisions.errors import ChainBroken, UsageError, cited

if TYPE_CHECKING:
    from decisions.service.audit import ReplayReport
    from decisions.workflow.definition import WorkflowDef

audit_app = typer.Typer(help="审计：校验、回放、检查点 / audit: verify, replay, checkpoint.", no_args_is_help=True)
console = Console(soft_wrap=True, highlight=False)


def said(zh: str, en: str, both: str) -> str:
    """A line in the language of --lang: ``both`` is the bilingual line the transcripts show."""
    return {"zh": zh, "en": en}.get(LANG.value, both)


def init(
    db: DbOption = None,
    config: ConfigOption = None,
    hash_algorithm: Annotated[
        str,
        typer.Option(
            "--hash", help="哈希算法：sha256（默认）或 sm3（GB/T 32905）/ sha256 (default) or sm3 (GB/T 32905)"
        ),
    ] = "sha256",
) -> None:
    """创建或迁移数据库并登记现行定义 / create or migrate the database and register the definitions."""
    from decisions.audit import available_algorithms
    from decisions.store.database import Database

    if hash_algorithm not in [a.value for a in available_algorithms()]:
        from decisions.audit import hasher

        hasher(hash_algorithm)  # raises a clear error naming what is missing
    database = Database(db or "")
    algorithm = database.migrate(hash_algorithm)
    service = case_service(db, config)
    fingerprint = service.register_definitions()
    url, files = database.safe_url(), len(service.current.sources)
    console.print(said(f"数据库已就绪：{url}", f"database ready: {url}", f"数据库已就绪 / database ready: {url}"))
    console.print(
        said(f"哈希算法：{algorithm}", f"hash algorithm: {algorithm}", f"哈希算法 / hash algorithm: {algorithm}")
    )
    moved = database.documents_moved
    if moved is None or not (moved.moved or moved.unlisted_files):
        console.print(
            said(
                "文档存于数据库",
                "documents are stored in the database",
                "文档存于数据库 / documents are stored in the database",
            )
        )
    else:
        left = f"; {moved.unlisted_files} files no document row names were not moved" if moved.unlisted_files else ""
        left_zh = f"；{moved.unlisted_files} 个无记录的文件未迁入" if moved.unlisted_files else ""
        zh = f"文档已从 {escape(moved.root)} 迁入数据库：{moved.moved} 份，{moved.bytes} 字节，哈希逐一核对；原文件保留{left_zh}"
        en = (
            f"documents moved into the database from {escape(moved.root)}: {moved.moved} documents, "
            f"{moved.bytes} bytes, every hash checked; the files were left in place{left}"
        )
        console.print(said(zh, en, f"{zh} / {en}"))
    console.print(
        said(
            f"定义集：{fingerprint[:16]}…（{files} 个文件）",
            f"definition set: {fingerprint[:16]}… ({files} files)",
            f"定义集 / definition set: {fingerprint[:16]}… ({files} files)",
        )
    )


def _printable(value: str) -> str:
    """A finding's text as it can be written out: a stored value that was not UTF-8 (read with its bad
    bytes as lone surrogates) shows them as ``\\udcff`` escapes instead of failing the output."""
    return value.encode("utf-8", "backslashreplace").decode("utf-8")


@audit_app.command("verify")
def verify(
    case_id: Annotated[str | None, typer.Argument(help="一个事项（默认：全部）/ one decision (default: all)")] = None,
    since_checkpoint: Annotated[
        Path | None, typer.Option("--since-checkpoint", help="此前的检查点文件 / an earlier checkpoint file")
    ] = None,
    db: DbOption = None,
    config: ConfigOption = None,
    as_json: JsonOption = False,
) -> None:
    """校验全部历史链 / verify every hash chain, projection and document; non-zero exit on any finding."""
    from decisions.audit import Checkpoint
    from decisions.service.audit import AuditService

    since = None
    if since_checkpoint is not None:
        try:
            since = Checkpoint.from_json(since_checkpoint.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise UsageError(f"检查点文件无法读取 / cannot read checkpoint {since_checkpoint}: {exc}") from exc
    audit = AuditService(case_service(db, config))
    if as_json:
        report = audit.verify(case_id, since)
    else:
        from rich.progress import Progress  # only verify draws one: imported when it runs

        with Progress(console=console, transient=True) as progress:
            task = progress.add_task("校验中 verifying…", total=None)
            report = audit.verify(case_id, since, progress=lambda n: progress.update(task, completed=n))
    if as_json:
        payload = {
            "ok": report.ok,
            "cases": report.cases,
            "events": report.events,
            "documents": report.documents,
            "algorithm": report.algorithm,
            "checkpoint": report.checkpoint,
            "findings": [
                {k: _printable(v) if isinstance(v, str) else v for k, v in asdict(f).items()} for f in report.findings
            ],
        }
        typer.echo(json.dumps(payload, ensure_ascii=False, indent=2))
    else:
        against = f", against checkpoint {report.checkpoint[:16]}…" if report.checkpoint else ""
        counts = f"{report.cases} cases, {report.events} events, {report.documents} documents ({report.algorithm})"
        zh_against = f"，对照检查点 {report.checkpoint[:16]}…" if report.checkpoint else ""
        console.print(
            said(
                f"已校验：{report.cases} 个事项、{report.events} 个事件、{report.documents} 份文档（{report.algorithm}）{zh_against}",
                f"verified: {counts}{against}",
                f"已校验 / verified: {counts}{against}",
            )
        )
        for f in report.first_per_case():
            console.print(f"[red]✗[/red] {escape(_printable(str(f)))}")
        if report.ok:
            intact = said(
                "历史完整，未发现篡改",
                "history intact: nothing edited, reordered or deleted",
                "历史完整，未发现篡改 / history intact: nothing edited, reordered or deleted",
            )
            console.print(f"[green]{intact}[/green]")
    if not report.ok:
        raise typer.Exit(1)


@audit_app.command("replay")
def replay(
    case_id: Annotated[str, typer.Argument(help="要回放的事项编号 / the decision to replay")],
    db: DbOption = None,
    config: ConfigOption = None,
    as_json: JsonOption = False,
) -> None:
    """按记录时的定义逐步回放并重新评估规则 / replay a decision under its recorded definitions."""
    from decisions.service.audit import AuditService

    service = case_service(db, config)
    report = AuditService(service).replay(case_id)
    if not as_json and LANG.value == "zh":
        _replay_zh(report, service.current.workflows.get(report.workflow), service.current.workflows)
    elif as_json:
        payload = {
            "case": report.case_id,
            "workflow": report.workflow,
            "definitions": report.definitions,
            "ok": report.ok,
            "replayed_state": report.replayed_state,
            "stored_state": report.stored_state,
            "chain": {"verifies": True}
            if report.broken is None
            else {
                "verifies": False,
                "seq": report.broken.seq,
                "why": {"zh": report.broken.reason_zh, "en": report.broken.reason_en},
            },
            "steps": [
                {
                    **asdict(s),
                    "label": {"zh": s.label.zh, "en": s.label.en},
                    "rules": [{"id": r[0], "outcome": r[1], "citation": r[2]} for r in s.rules],
                }
                for s in report.steps
            ],
        }
        typer.echo(json.dumps(payload, ensure_ascii=False, indent=2))
    else:
        console.print(
            f"[bold]{report.case_id}[/bold] 回放 / replay · {report.workflow} · definitions {report.definitions[:16]}…"
        )
        marks = {"passed": "[green]✓[/green]", "waived": "[yellow]≈[/yellow]", "not_applicable": "[dim]–[/dim]"}
        for st in report.steps:
            console.print(
                f"\n[bold]#{st.seq}[/bold] {st.happened_on} (recorded {st.recorded_at}) {escape(st.actor)} "
                f"{escape(f'[{st.role}]')} [bold]{escape(st.label.zh)}[/bold] / {escape(st.label.en)}  "
                f"{st.from_state} → {st.to_state}",
                markup=True,
            )
            if st.correction:
                console.print(f"   [yellow]更正 / correction[/yellow] {escape(st.correction)}")
            for rule_id, outcome, citation in st.rules:
                console.print(f"   {marks.get(outcome, '[red]✗[/red]')} {outcome:<14} {rule_id}  [dim]{citation}[/dim]")
            for flag in st.flags:
                colour = "yellow" if flag.startswith("note:") else "red"
                console.print(f"   [{colour}]⚑ {escape(flag)}[/{colour}]")
        if report.broken is not None:
            verdict = "[red]历史链校验失败 / the chain does not verify[/red]"
        elif report.ok:
            verdict = "[green]一致 / consistent[/green]"
        else:
            verdict = "[red]不一致 / discrepancies found[/red]"
        console.print(f"回放状态 replayed {report.replayed_state} · 存储状态 stored {report.stored_state} · {verdict}")
    if report.broken is not None:  # exit 7, its reason on stderr
        b = report.broken
        raise ChainBroken(report.case_id, b.seq, b.reason_zh, b.reason_en)
    if not report.ok:
        raise typer.Exit(1)


OUTCOMES_ZH = {
    "passed": "通过",
    "waived": "依理由豁免",
    "not_applicable": "不适用",
    "failed": "未通过",
    "error": "无法判断",
    "pending": "待定",
}


def _replay_zh(report: ReplayReport, wf: WorkflowDef | None, workflows: Mapping[str, WorkflowDef]) -> None:
    """The replay in Chinese: actions, states and roles by their labels, outcomes and citations in Chinese."""
    from decisions.cli.labels import Words

    roles = {n: r.label for w in workflows.values() for n, r in w.roles.items()}
    words = Words(wf, roles)
    title = wf.label.zh if wf is not None else report.workflow
    console.print(f"[bold]{report.case_id}[/bold] 回放 · {title} · 定义集 {report.definitions[:16]}…")
    marks = {"passed": "[green]✓[/green]", "waived": "[yellow]≈[/yellow]", "not_applicable": "[dim]–[/dim]"}
    for st in report.steps:
        console.print(
            f"\n[bold]#{st.seq}[/bold] {st.happened_on}（记录于 {st.recorded_at}）{escape(st.actor)}"
            f"［{escape(words.role(st.role))}］[bold]{escape(st.label.zh)}[/bold]  "
            f"{escape(words.state(st.from_state))} → {escape(words.state(st.to_state))}"
        )
        for rule_id, outcome, citation in st.rules:
            said_outcome = OUTCOMES_ZH.get(outcome, outcome)
            console.print(
                f"   {marks.get(outcome, '[red]✗[/red]')} {said_outcome:<6} {rule_id}  [dim]{escape(cited(citation, 'zh'))}[/dim]"
            )
        for flag in st.flags:
            colour = "yellow" if flag.startswith("note:") else "red"
            console.print(f"   [{colour}]⚑ {escape(flag)}[/{colour}]")
    verdict = "[green]一致[/green]" if report.ok else "[red]不一致[/red]"
    replayed, stored = words.state(report.replayed_state), words.state(report.stored_state)
    console.print(f"回放状态 {escape(replayed)} · 存储状态 {escape(stored)} · {verdict}")


@audit_app.command("checkpoint")
def checkpoint(
    out: Annotated[
        Path | None, typer.Option("--out", help="检查点文件写入此处 / write the checkpoint file here")
    ] = None,
    db: DbOption = None,
    config: ConfigOption = None,
) -> None:
    """生成可公布的检查点摘要 / write a publishable digest over every chain head (Merkle root)."""
    from decisions.service.audit import AuditService

    cp = AuditService(case_service(db, config)).checkpoint()
    text = cp.to_json()
    if out is not None:
        out.write_text(text, encoding="utf-8")
    console.print(
        said(
            f"检查点：根 {cp.root} · {cp.chains} 条链 · {cp.events} 个事件 · {cp.algorithm}",
            f"checkpoint: root {cp.root} · {cp.chains} chains · {cp.events} events · {cp.algorithm}",
            f"检查点 / checkpoint: root {cp.root} · {cp.chains} chains · {cp.events} events · {cp.algorithm}",
        )
    )
    if out is not None:
        console.print(said(f"已写入 {out}", f"written to {out}", f"已写入 / written to {out}"))
    else:
        typer.echo(text, nl=False)


__all__ = ["audit_app", "definitions_service", "init"]

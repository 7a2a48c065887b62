"""A gate's built-in guarantee, judged on a case snapshot from the workflow's data alone. Pure.

The engine calls `guarantee_unmet` on the case *after* every transition into a state a gate
protects, so a draft change on the way in (or within) is seen. The gate's rule in the packs is
evaluated as well: a pack may add conditions to a gate, and cannot take these away.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from decisions.errors import Unmet, shown
from decisions.model import Case, Record, Text
from decisions.workflow.definition import Gate, Guarantee, WorkflowDef

__all__ = ["gate_rule_id", "guarantee_unmet"]


def gate_rule_id(gate: Gate) -> str:
    """The rule id an engine refusal for ``gate`` carries."""
    return f"engine.gate.{gate.id}"


def guarantee_unmet(
    wf: WorkflowDef, gate: Gate, case: Case, citation: str, attribute_defaults: Mapping[str, Any]
) -> Unmet | None:
    """Why ``case`` does not hold the guarantee of ``gate`` (None when it does, or there is none)."""
    g = gate.guarantee
    if g is None:
        return None
    problem = _problem(wf, g, case, attribute_defaults)
    if problem is None:
        return None
    zh, en = problem
    return Unmet(
        gate_rule_id(gate),
        citation,
        f"{gate.label.zh}：{zh}",
        f"{gate.label.en}: {en}",
    )


def _problem(
    wf: WorkflowDef, g: Guarantee, case: Case, attribute_defaults: Mapping[str, Any]
) -> tuple[str, str] | None:
    latest = _latest(case, g.record)
    redo_zh, redo_en = f"请办理 {g.record} 后再继续", f"record a {g.record} before going on"
    if g.current_draft and case.draft_version < 1:
        return (
            f"尚无草案（第 0 版）；须先形成草案，再对其办理 {g.record}",
            f"there is no draft yet (version 0); record the draft first, then a {g.record} of it",
        )
    if latest is None:
        return f"案卷中尚无 {g.record} 记录；{redo_zh}", f"the case has no {g.record} record; {redo_en}"
    if g.current_draft and latest.draft_version != case.draft_version:
        return (
            f"最近一次 {g.record}（第 {latest.seq} 项）针对第 {latest.draft_version} 版草案，当前草案为第 "
            f"{case.draft_version} 版；须对当前版本重新办理 {g.record}",
            f"the latest {g.record} (record {latest.seq}) covers draft version {latest.draft_version}, the "
            f"current draft is version {case.draft_version}; record a new {g.record} of the current version",
        )
    if g.outcome_field:
        value = latest.fields.get(g.outcome_field)
        attribute = g.passing_if.get(value) if isinstance(value, str) else None
        holds = attribute is not None and case.attributes.get(attribute, attribute_defaults.get(attribute)) is True
        if value not in g.passing and not holds:
            label = wf.fields[g.outcome_field].label
            allowed = ", ".join(g.passing)
            extra_zh = "".join(f"；{v} 仅当「{wf.fields[a].label.zh}」为是" for v, a in g.passing_if.items())
            extra_en = "".join(f"; {v} only when '{wf.fields[a].label.en}' is true" for v, a in g.passing_if.items())
            return (
                f"最近一次 {g.record} 的「{label.zh}」为 {shown(value)}，须为 {allowed}{extra_zh}；"
                f"须重新办理并取得合格结论",
                f"the latest {g.record} has {label.en} {shown(value)}, it must be {allowed}{extra_en}; "
                f"a new {g.record} with a passing outcome is needed",
            )
    involved = _involved(case, g)
    if latest.actor in involved:
        return (
            f"最近一次 {g.record} 由 {shown(latest.actor)} 办理，其曾{involved[latest.actor].zh}；"
            f"须由未曾如此参与的人员重新办理",
            f"the latest {g.record} was recorded by {shown(latest.actor)}, who {involved[latest.actor].en}; "
            f"it must be redone by someone who did not",
        )
    return None


def _involved(case: Case, g: Guarantee) -> dict[str, Text]:
    """The actors the guarantee's record must not come from, each with what they did."""
    out: dict[str, Text] = {}
    for r in case.records:
        if g.independent_of_drafters and r.changes_draft:
            out.setdefault(r.actor, Text(f"修改草案（第 {r.seq} 项）", f"changed the draft (record {r.seq})"))
        elif r.kind in g.independent_of:
            out.setdefault(r.actor, Text(f"办理 {r.kind}（第 {r.seq} 项）", f"recorded {r.kind} (record {r.seq})"))
    return out


def _latest(case: Case, kind: str) -> Record | None:
    return next((r for r in reversed(case.records) if r.kind == kind), None)

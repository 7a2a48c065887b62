"""Reading rule packs. Packs are read in deployment order; a pack may use the parameters and
citation sources declared by the packs before it."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from decisions.calendar import CountingPolicy
from decisions.loading.checks import read_checks
from decisions.loading.conditions import FactScope, parse_condition
from decisions.loading.reader import Reader
from decisions.loading.schema import check_structure
from decisions.loading.yamlsafe import YamlDocument
from decisions.rules.definitions import (
    Citation,
    Parameter,
    ParameterSetting,
    ParamUnit,
    Rule,
    RulePack,
    Strength,
)
from decisions.rules.facts import FactType, record_fields, workflow_facts
from decisions.workflow.definition import WorkflowDef

__all__ = ["PackContext", "read_rule_pack", "scope_for"]

_RULE_KEYS = (
    "id",
    "workflow",
    "triggers",
    "strength",
    "citation",
    "when",
    "require",
    "waiver",
    "message",
)
_LEVELS = ("national", "province", "city", "county")
_PARAM_KINDS = ("minimum", "maximum", "setting")
_UNITS = tuple(str(u) for u in ParamUnit)


def scope_for(wf: WorkflowDef, params: Mapping[str, Parameter]) -> FactScope:
    """The facts, record kinds and fields the rules of ``wf`` may use (`decisions.rules.facts`)."""
    facts = workflow_facts(wf)
    param_types = {
        p.name: FactType.INT
        if p.kind in ("minimum", "maximum")
        else FactType.STR
        if isinstance(p.value, str)
        else FactType.ANY
        for p in params.values()
    }
    return FactScope(
        facts={name: t for name, (t, _) in facts.items()},
        enums={name: values for name, (_, values) in facts.items() if values is not None},
        record_kinds=wf.record_kinds,
        record_fields=record_fields(wf),
        document_kinds=frozenset(wf.documents),
        params=param_types,
    )


@dataclass
class PackContext:
    """What earlier packs declared: parameters, citation sources, rule ids."""

    workflows: Mapping[str, WorkflowDef]
    parameters: dict[str, Parameter] = field(default_factory=dict)
    sources: dict[str, str] = field(default_factory=dict)
    rule_ids: set[str] = field(default_factory=set)
    verified_sources: set[str] = field(default_factory=set)


def _citation(r: Reader, raw: Any, path: tuple[str | int, ...], ctx: PackContext) -> Citation | None:
    m = r.mapping(raw, path, required=("source", "article"), optional=("article_en", "verified"))
    if m is None:
        return None
    source = r.string(m.get("source"), (*path, "source"))
    article = r.string(m.get("article"), (*path, "article"))
    article_en = r.string(m["article_en"], (*path, "article_en")) if "article_en" in m else ""
    if source is None or article is None:
        return None
    if source not in ctx.sources:
        r.error((*path, "source"), f"unknown citation source {source!r} (declare it under pack.sources)")
        return None
    source_verified = source in ctx.verified_sources
    verified = r.boolean(m.get("verified"), (*path, "verified"), source_verified)
    if verified and not source_verified:
        r.error(
            (*path, "verified"),
            f"出处未标记为已核实，条文不能标记为已核实 / source {source!r} is not marked verified: an article "
            "of it cannot be verified (set verified: true on the source once its text was read, or drop this key)",
        )
        return None
    return Citation(ctx.sources[source], article, article_en or "", verified)


def _read_sources(r: Reader, raw: Any, ctx: PackContext) -> None:
    """``pack.sources``: key → title, or key → ``{title: ..., verified: true|false}`` (default false)."""
    for key, body in (r.mapping(raw, ("pack", "sources"), open_keys=True) or {}).items():
        path = ("pack", "sources", key)
        if not r.identifier(key, path, "source key"):
            continue
        if isinstance(body, dict):
            m = r.mapping(body, path, required=("title",), optional=("verified",)) or {}
            title = r.string(m.get("title"), (*path, "title")) if "title" in m else None
            verified = r.boolean(m.get("verified"), (*path, "verified"), False)
        else:
            title, verified = r.string(body, path), False
        if title is None:
            continue
        ctx.sources[str(key)] = title
        if verified:
            ctx.verified_sources.add(str(key))
        else:
            ctx.verified_sources.discard(str(key))


def _read_parameters(r: Reader, raw: Any, pack_id: str, ctx: PackContext) -> list[Parameter]:
    out: list[Parameter] = []
    section = r.mapping(raw if raw is not None else {}, ("parameters",), open_keys=True) or {}
    for name, body in section.items():
        path = ("parameters", name)
        if r.identifier(name, path, "parameter name") is None:
            continue
        earlier = ctx.parameters.get(name)
        keys = ("value", "citation", "kind", "label", "unit", "values")
        m = r.mapping(
            body,
            path,
            required=("value",) if earlier else ("value", "kind", "label"),
            optional=keys,
        )
        if m is None:
            continue
        kind = m.get("kind", earlier.kind if earlier else None)
        if kind not in _PARAM_KINDS:
            r.shape_error((*path, "kind"), f"kind must be one of {', '.join(_PARAM_KINDS)}, found {kind!r}")
            continue
        if earlier is not None and kind != earlier.kind:
            r.error((*path, "kind"), f"parameter {name!r} is a {earlier.kind} in an earlier pack")
            continue
        label = r.text(m["label"], (*path, "label")) if "label" in m else earlier.label if earlier else None
        values = tuple(r.string_list(m.get("values"), (*path, "values"))) or (earlier.values if earlier else ())
        value = m.get("value")
        if kind in ("minimum", "maximum"):
            if not isinstance(value, int) or isinstance(value, bool) or value < 0:
                r.error((*path, "value"), f"a {kind} is a non-negative integer, found {value!r}")
                continue
        elif values and value not in values:
            r.error((*path, "value"), f"{value!r} is not one of {', '.join(values)}")
            continue
        elif isinstance(value, dict | list) or value is None:
            r.error((*path, "value"), "a setting is a plain value")
            continue
        citation = _citation(r, m["citation"], (*path, "citation"), ctx) if "citation" in m else None
        unit: ParamUnit | None = earlier.unit if earlier else None
        if "unit" in m:
            text = r.string(m["unit"], (*path, "unit"))
            if text is None:
                continue
            if text not in _UNITS:
                r.shape_error((*path, "unit"), f"unknown unit {text!r} (known: {', '.join(_UNITS)})")
                continue
            unit = ParamUnit(text)
        if earlier is not None and unit != earlier.unit:
            # the strictest value is taken across packs: 6 months and 180 days are not comparable
            before, now = (str(u) if u is not None else "no unit" for u in (earlier.unit, unit))
            r.error((*path, "unit"), f"parameter {name!r} is counted in {before!r} in an earlier pack, not {now!r}")
            continue
        if label is None:
            continue
        param = Parameter(
            name,
            kind,
            label,
            value,
            (ParameterSetting(pack_id, value, citation),),
            unit,
            values,
        )
        out.append(param)
    return out


def _read_rule(r: Reader, raw: Any, i: int, pack_id: str, ctx: PackContext) -> Rule | None:
    path: tuple[str | int, ...] = ("rules", i)
    m = r.mapping(
        raw,
        path,
        required=("id", "workflow", "triggers", "strength", "citation", "require", "message"),
        optional=_RULE_KEYS,
    )
    if m is None:
        return None
    local_id = r.identifier(m.get("id"), (*path, "id"), "rule id")
    rule_id = f"{pack_id}.{local_id}" if local_id else None
    if rule_id is not None:
        if rule_id in ctx.rule_ids:
            r.error((*path, "id"), f"duplicate rule id {rule_id!r}")
        ctx.rule_ids.add(rule_id)
    wf_name = r.string(m.get("workflow"), (*path, "workflow"))
    wf = ctx.workflows.get(wf_name) if wf_name else None
    if wf_name is not None and wf is None:
        r.error(
            (*path, "workflow"),
            f"unknown workflow {wf_name!r} (loaded: {', '.join(sorted(ctx.workflows))})",
        )
    triggers = r.string_list(m.get("triggers"), (*path, "triggers"))
    if not triggers and "triggers" in m:
        r.error((*path, "triggers"), "a rule applies to at least one trigger")
    if wf is not None:
        for j, t in enumerate(triggers):
            if t not in wf.triggers:
                r.error((*path, "triggers", j), f"unknown trigger {t!r} in workflow {wf.name!r}")
    try:
        strength = Strength(str(m.get("strength")))
    except ValueError:
        r.shape_error(
            (*path, "strength"),
            f"strength must be one of {', '.join(Strength)}, found {m.get('strength')!r}",
        )
        strength = None
    citation = _citation(r, m.get("citation"), (*path, "citation"), ctx)
    message = r.text(m.get("message"), (*path, "message"))
    waiver = r.identifier(m["waiver"], (*path, "waiver"), "field") if "waiver" in m else None
    if strength is Strength.DEFAULT_MINIMUM and waiver is None:
        r.error(
            path,
            "a default_minimum rule names the 'waiver' field that records the reason for going below it",
        )
    if strength is not None and strength is not Strength.DEFAULT_MINIMUM and "waiver" in m:
        r.error((*path, "waiver"), f"only default_minimum rules may be waived, this one is {strength}")
    if wf is not None and waiver is not None and waiver not in wf.fields:
        r.error((*path, "waiver"), f"unknown field {waiver!r}")
    if wf is None:
        return None
    scope = scope_for(wf, ctx.parameters)
    params: set[str] = set()
    when = parse_condition(r, m["when"], (*path, "when"), scope, params) if "when" in m else None
    require = parse_condition(r, m.get("require"), (*path, "require"), scope, params)
    if None in (rule_id, strength, citation, message, require) or ("when" in m and when is None):
        return None
    assert rule_id and strength and citation and message and require  # narrowed above
    return Rule(
        id=rule_id,
        pack=pack_id,
        citation=citation,
        strength=strength,
        workflow=wf.name,
        triggers=frozenset(triggers),
        require=require,
        message=message,
        when=when,
        waiver_field=waiver,
        params=tuple(sorted(params)),
        file=r.doc.file,
        line=r.doc.line_of(path),
    )


def read_rule_pack(doc: YamlDocument, ctx: PackContext) -> tuple[RulePack | None, Reader]:
    """Read one pack against what earlier packs declared; updates ``ctx`` for the packs after it."""
    r = Reader(doc, check_structure(doc, "rulepack"))
    data = r.mapping(
        doc.data,
        (),
        required=("pack", "rules"),
        optional=("pack", "parameters", "rules", "counting", "checks"),
    )
    if data is None:
        return None, r
    head = (
        r.mapping(
            data.get("pack"), ("pack",), required=("id", "name", "level", "sources"), optional=("effective_from",)
        )
        or {}
    )
    pack_id = r.identifier(head.get("id"), ("pack", "id"), "pack id")
    name = r.text(head.get("name"), ("pack", "name"))
    level = head.get("level")
    if level not in _LEVELS:
        r.shape_error(("pack", "level"), f"level must be one of {', '.join(_LEVELS)}, found {level!r}")
    _read_sources(r, head.get("sources"), ctx)
    effective = head.get("effective_from", "")
    counting = None
    if "counting" in data:
        c = r.mapping(data["counting"], ("counting",), optional=("start_next_day", "roll_to_working_day")) or {}
        counting = CountingPolicy(
            start_next_day=r.boolean(c.get("start_next_day"), ("counting", "start_next_day"), True),
            roll_to_working_day=r.boolean(c.get("roll_to_working_day"), ("counting", "roll_to_working_day"), True),
        )
    pid = pack_id or "?"
    parameters = _read_parameters(r, data.get("parameters"), pid, ctx)
    for p in parameters:
        earlier = ctx.parameters.get(p.name)
        ctx.parameters[p.name] = (
            p
            if earlier is None
            else Parameter(p.name, p.kind, p.label, p.value, earlier.sources + p.sources, p.unit, p.values)
        )
    checks = (
        read_checks(r, data["checks"], lambda raw, path: _citation(r, raw, path, ctx), ctx.workflows)
        if "checks" in data
        else {}
    )
    raw_rules = data.get("rules")
    if not isinstance(raw_rules, list):
        r.shape_error(("rules",), "expected a list of rules")
        raw_rules = []
    rules = [rule for i, raw in enumerate(raw_rules) if (rule := _read_rule(r, raw, i, pid, ctx)) is not None]
    if pack_id is None or name is None or level not in _LEVELS:
        return None, r
    pack = RulePack(
        pack_id,
        name,
        str(level),
        doc.file,
        tuple(rules),
        tuple(parameters),
        counting,
        str(effective),
        checks,
    )
    return pack, r

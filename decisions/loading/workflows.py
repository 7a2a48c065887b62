"""Reading one workflow file: structure first, then the meaning that needs only this file.

Cross-file meaning (rules named by transitions and gates, the gate proof) is checked in
`decisions.loading.definitions`, once every file has been read.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from decisions.definitions import source_digest
from decisions.errors import shown
from decisions.loading.case_spec import read_case_spec
from decisions.loading.catalogue_spec import read_catalogue_spec
from decisions.loading.corrections import read_corrections
from decisions.loading.deadline_spec import read_deadlines, read_inbox
from decisions.loading.discussion import read_collective_discussion
from decisions.loading.field_constraints import read_field_constraints
from decisions.loading.reader import Reader
from decisions.loading.report_spec import read_report_spec
from decisions.loading.schema import check_structure
from decisions.loading.yamlsafe import KeyPath, YamlDocument
from decisions.model import Text
from decisions.rules.facts import FACTS, RECORD_FACTS
from decisions.workflow.analysis import structural_findings, unguaranteed_states
from decisions.workflow.definition import (
    DocumentKind,
    FieldDef,
    FieldType,
    Gate,
    Guarantee,
    Role,
    Stage,
    StateDef,
    TransitionDef,
    WorkflowDef,
)

__all__ = ["read_workflow"]

_TOP = (
    "workflow",
    "roles",
    "stages",
    "states",
    "fields",
    "documents",
    "transitions",
    "gates",
    "case",
    "catalogue",
    "deadlines",
    "inbox",
    "corrections",
    "report",
)
_TRANSITION_KEYS = (
    "trigger",
    "source",
    "dest",
    "stays",
    "label",
    "roles",
    "rules",
    "requires",
    "accepts",
    "record",
    "sets",
    "changes_draft",
    "basis",
)


def _section(r: Reader, data: dict[str, Any], key: str) -> dict[str, Any]:
    value = data.get(key)
    if value is None:
        return {}
    m = r.mapping(value, (key,), open_keys=True)
    return m or {}


_BUILT_IN_NAMES = frozenset(
    {p.split(".", 1)[1] for p in FACTS if p.startswith(("action.", "decision."))} | set(RECORD_FACTS)
)
"""Names a workflow field may not take: the built-in facts of an action, a case and every record."""


def _read_fields(r: Reader, data: dict[str, Any]) -> dict[str, FieldDef]:
    fields: dict[str, FieldDef] = {}
    for name, raw in _section(r, data, "fields").items():
        path = ("fields", name)
        if r.identifier(name, path, "field name") is None:
            continue
        if name in _BUILT_IN_NAMES:  # action.<name> / a record's <name> would mean two things
            r.error(
                path,
                f"field name {name!r} is taken by a built-in fact (reserved: {', '.join(sorted(_BUILT_IN_NAMES))})",
            )
            continue
        m = r.mapping(
            raw,
            path,
            required=("type", "label"),
            optional=("values", "value_labels", "attribute", "default", "abstain", "workflow", "constraints"),
        )
        if m is None:
            continue
        try:
            ftype = FieldType(str(m.get("type")))
        except ValueError:
            r.shape_error(
                (*path, "type"),
                f"unknown field type {m.get('type')!r} (known: {', '.join(FieldType)})",
            )
            continue
        label = r.text(m.get("label"), (*path, "label"))
        values = tuple(r.string_list(m.get("values"), (*path, "values"), identifiers=True))
        if ftype in (FieldType.ENUM, FieldType.VIEWS) and not values:
            r.error(path, f"a {ftype} field lists its allowed 'values'")
        if ftype not in (FieldType.ENUM, FieldType.VIEWS) and values:
            r.error((*path, "values"), f"only enum and views fields have 'values', not {ftype}")
        value_labels: dict[str, Text] = {}
        for value, raw_label in (
            r.mapping(m.get("value_labels", {}), (*path, "value_labels"), open_keys=True) or {}
        ).items():
            at = (*path, "value_labels", value)
            if ftype not in (FieldType.ENUM, FieldType.VIEWS) or value not in values:
                r.error(at, f"{value!r} is not one of the field's enum values ({', '.join(values) or 'none'})")
            elif (text := r.text(raw_label, at)) is not None:
                value_labels[str(value)] = text
        default = m.get("default")
        fits = (ftype is FieldType.BOOLEAN and isinstance(default, bool)) or (
            ftype is FieldType.ENUM and default in values
        )
        if default is not None and not fits:
            r.error((*path, "default"), f"default {default!r} does not fit type {ftype}")
            default = None
        abstain = _abstention(r, m.get("abstain"), ftype, values, (*path, "abstain"))
        linked = ""
        if "workflow" in m:
            if ftype is not FieldType.CASE:
                r.error((*path, "workflow"), f"only a case field names the workflow of its case, not a {ftype} field")
            else:
                linked = r.identifier(m["workflow"], (*path, "workflow"), "workflow name") or ""
        if label is not None:
            fields[name] = FieldDef(
                name,
                ftype,
                label,
                values,
                r.boolean(m.get("attribute"), (*path, "attribute")),
                default,
                value_labels,
                abstain,
                linked,
            )
    return fields


def _abstention(r: Reader, raw: Any, ftype: FieldType, values: tuple[str, ...], path: KeyPath) -> str | None:
    """A views field's ``abstain:``: which of its values is an abstention (not counted as a view)."""
    if raw is None:
        return None
    value = r.string(raw, path)
    if value is None:
        return None
    if ftype is not FieldType.VIEWS:
        r.error(path, f"only a views field declares its abstention value, not a {ftype} field")
        return None
    if value not in values:
        r.error(path, f"abstention {value!r} is not one of the field's values ({', '.join(values)})")
        return None
    return value


def _labelled(r: Reader, data: dict[str, Any], key: str) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name, raw in _section(r, data, key).items():
        path = (key, name)
        if r.identifier(name, path) is None:
            continue
        if key == "roles":
            label = r.text(raw, path)
            if label is not None:
                out[name] = Role(name, label)
        elif key == "documents":
            m = r.mapping(raw, path, required=("label",), optional=("draft",))
            if m is not None and (label := r.text(m.get("label"), (*path, "label"))) is not None:
                out[name] = DocumentKind(name, label, r.boolean(m.get("draft"), (*path, "draft")))
        else:  # stages
            m = r.mapping(raw, path, required=("label",), optional=("article",))
            if m is not None and (label := r.text(m.get("label"), (*path, "label"))) is not None:
                article = r.string(m["article"], (*path, "article")) if "article" in m else ""
                out[name] = Stage(name, label, article or "")
    return out


def _read_states(r: Reader, data: dict[str, Any], stages: dict[str, Stage]) -> dict[str, StateDef]:
    states: dict[str, StateDef] = {}
    for name, raw in _section(r, data, "states").items():
        path = ("states", name)
        if r.identifier(name, path, "state id") is None:
            continue
        m = r.mapping(
            raw, path, required=("label", "stage"), optional=("final", "approval", "discussion", "decision_taken")
        )
        if m is None:
            continue
        label = r.text(m.get("label"), (*path, "label"))
        stage = r.string(m.get("stage"), (*path, "stage"))
        if stage is not None and stage not in stages:
            r.error((*path, "stage"), f"unknown stage {stage!r}")
        if label is None or stage is None:
            continue
        approval = r.boolean(m.get("approval"), (*path, "approval"))
        discussion = r.boolean(m.get("discussion"), (*path, "discussion"))
        if approval and discussion:  # the meeting considers a case before it is decided, never in the same state
            r.error((*path, "discussion"), "a state cannot be both an approval state and a discussion state")
        states[name] = StateDef(
            name,
            label,
            stage,
            final=r.boolean(m.get("final"), (*path, "final")),
            approval=approval,
            discussion=discussion,
            line=r.doc.line_of(path),
            decision_taken=r.boolean(m.get("decision_taken"), (*path, "decision_taken")),
        )
    return states


def _names(r: Reader, raw: Any, path: tuple[str | int, ...], known: dict[str, Any], what: str) -> tuple[str, ...]:
    names = r.string_list(raw, path)
    for i, name in enumerate(names):
        if name not in known:
            r.error((*path, i) if isinstance(raw, list) else path, f"unknown {what} {name!r}")
    return tuple(names)


def _read_transition(
    r: Reader, raw: Any, i: int, wf: dict[str, Any], states: dict[str, StateDef]
) -> list[TransitionDef]:
    path: tuple[str | int, ...] = ("transitions", i)
    m = r.mapping(raw, path, required=("trigger", "source", "label", "roles"), optional=_TRANSITION_KEYS)
    if m is None:
        return []
    stays = r.boolean(m.get("stays"), (*path, "stays"))
    if stays == ("dest" in m):
        r.error(path, "a transition has either 'dest' or 'stays: true' (a self-loop on each source)")
        return []
    trigger = r.identifier(m.get("trigger"), (*path, "trigger"), "trigger")
    sources = r.string_list(m.get("source"), (*path, "source"))
    if not sources and "source" in m:
        r.error((*path, "source"), "names at least one source state")
    for j, s in enumerate(sources):
        if s not in states:
            r.error(
                (*path, "source", j) if isinstance(m.get("source"), list) else (*path, "source"), f"unknown state {s!r}"
            )
    dest = "" if stays else r.string(m.get("dest"), (*path, "dest"))
    if dest and dest not in states:
        r.error((*path, "dest"), f"unknown state {dest!r}")
    label = r.text(m.get("label"), (*path, "label"))
    roles = _names(r, m.get("roles"), (*path, "roles"), wf["roles"], "role")
    if not roles and "roles" in m:
        r.error((*path, "roles"), "at least one role must be allowed to fire a transition")
    carries: dict[str, tuple[str, ...]] = {}
    for part in ("requires", "accepts"):
        c = r.mapping(m.get(part, {}), (*path, part), optional=("fields", "documents")) or {}
        carries[f"{part}_fields"] = _names(r, c.get("fields"), (*path, part, "fields"), wf["fields"], "field")
        carries[f"{part}_documents"] = _names(
            r, c.get("documents"), (*path, part, "documents"), wf["documents"], "document kind"
        )
    sets = r.mapping(m.get("sets", {}), (*path, "sets"), open_keys=True) or {}
    for key, value in sets.items():
        fdef = wf["fields"].get(key)
        if fdef is None:
            r.error((*path, "sets", key), f"unknown field {key!r}")
        elif fdef.type is FieldType.ENUM and value not in fdef.values:
            r.error(
                (*path, "sets", key),
                f"{value!r} is not a value of {key} ({', '.join(fdef.values)})",
            )
    changes_draft = r.boolean(m.get("changes_draft"), (*path, "changes_draft"))
    carries_draft = any(
        wf["documents"][d].draft
        for d in carries["requires_documents"] + carries["accepts_documents"]
        if d in wf["documents"]
    )
    if carries_draft and not changes_draft:
        r.error(path, "carries a draft document but does not declare 'changes_draft: true'")
    if changes_draft and not carries_draft:
        r.error((*path, "changes_draft"), "declares changes_draft but carries no draft document")
    rules = tuple(r.string_list(m.get("rules"), (*path, "rules")))
    record = r.identifier(m["record"], (*path, "record"), "record kind") if "record" in m else trigger
    basis = r.string(m["basis"], (*path, "basis")) if "basis" in m else ""
    if trigger is None or dest is None or label is None or not roles or record is None:
        return []
    return [
        TransitionDef(
            trigger=trigger,
            source=source,
            dest=source if stays else dest,
            label=label,
            roles=roles,
            rules=rules,
            record=record,
            sets=dict(sets),
            changes_draft=changes_draft,
            basis=basis or "",
            line=r.doc.line_of(path),
            **carries,
        )
        for source in sources
        if source in states
    ]


def _read_guarantee(
    r: Reader, raw: Any, path: tuple[str | int, ...], wf: dict[str, Any], transitions: list[TransitionDef]
) -> Guarantee | None:
    """A gate's ``guarantee``: every name it uses is a record kind, field, value or boolean attribute
    of this workflow, and some transition can leave a record that satisfies it."""
    m = r.mapping(raw, path, required=("record",), optional=("record", "current_draft", "outcome", "independent_of"))
    if m is None:
        return None
    fields: dict[str, FieldDef] = wf["fields"]
    kinds = sorted({t.record for t in transitions})
    ok = True

    def record_kind(value: Any, where: tuple[str | int, ...]) -> str | None:
        name = r.identifier(value, where, "record kind")
        if name is not None and name not in kinds:
            r.error(where, f"unknown record kind {name!r} (recorded by a transition: {', '.join(kinds)})")
            return None
        return name

    record = record_kind(m.get("record"), (*path, "record"))
    outcome_field, passing, passing_if = "", tuple[str, ...](), dict[str, str]()
    if "outcome" in m:
        where = (*path, "outcome")
        o = r.mapping(m["outcome"], where, required=("field", "passing"), optional=("passing_if",)) or {}
        name = r.identifier(o.get("field"), (*where, "field"), "field") if "field" in o else None
        fdef = fields.get(name) if name else None
        if name is not None and (fdef is None or fdef.type is not FieldType.ENUM):
            r.error((*where, "field"), f"the outcome field {name!r} is not an enum field of this workflow")
        passing = tuple(r.string_list(o.get("passing"), (*where, "passing")))
        if "passing" in o and not passing:
            r.error((*where, "passing"), "names at least one passing outcome")
        raw_if = r.mapping(o.get("passing_if", {}), (*where, "passing_if"), open_keys=True) or {}
        values = fdef.values if fdef is not None and fdef.type is FieldType.ENUM else None
        for j, value in enumerate(passing):
            if values is not None and value not in values:
                r.error((*where, "passing", j), f"{value!r} is not a value of {name} ({', '.join(values)})")
        for value, attribute in raw_if.items():
            at = (*where, "passing_if", value)
            if values is not None and value not in values:
                r.error(at, f"{value!r} is not a value of {name} ({', '.join(values)})")
            elif value in passing:
                r.error(at, f"{value!r} is already a passing outcome")
            adef = fields.get(attribute) if isinstance(attribute, str) else None
            if adef is None or not adef.attribute or adef.type is not FieldType.BOOLEAN:
                r.error(at, f"{shown(attribute)} is not a boolean attribute of this workflow")
            else:
                passing_if[value] = attribute
        ok = ok and fdef is not None and bool(passing) and len(passing_if) == len(raw_if)
        outcome_field = name or ""
    drafters, others = False, tuple[str, ...]()
    if "independent_of" in m:
        where = (*path, "independent_of")
        i = r.mapping(m["independent_of"], where, optional=("drafters", "records")) or {}
        drafters = r.boolean(i.get("drafters"), (*where, "drafters"))
        names = r.string_list(i.get("records"), (*where, "records"))
        known = [n for j, n in enumerate(names) if record_kind(n, (*where, "records", j)) is not None]
        ok = ok and len(known) == len(names)
        others = tuple(known)
    if record is None or not ok:
        return None
    guarantee = Guarantee(
        record,
        r.boolean(m.get("current_draft"), (*path, "current_draft")),
        outcome_field,
        passing,
        passing_if,
        drafters,
        others,
    )
    if not any(t.record == record and guarantee.may_pass(t) for t in transitions):
        r.error((*path, "record"), f"no transition leaves a {record!r} record that can satisfy the guarantee")
    return guarantee


def _read_gates(
    r: Reader, data: dict[str, Any], states: dict[str, StateDef], wf: dict[str, Any], transitions: list[TransitionDef]
) -> dict[str, Gate]:
    gates: dict[str, Gate] = {}
    for name, raw in _section(r, data, "gates").items():
        path = ("gates", name)
        if r.identifier(name, path, "gate id") is None:
            continue
        m = r.mapping(
            raw, path, required=("label", "rule", "protects"), optional=("reset_on_draft_change", "guarantee")
        )
        if m is None:
            continue
        label = r.text(m.get("label"), (*path, "label"))
        rule = r.string(m.get("rule"), (*path, "rule"))
        protects = _names(r, m.get("protects"), (*path, "protects"), states, "state")
        guarantee = (
            _read_guarantee(r, m["guarantee"], (*path, "guarantee"), wf, transitions) if "guarantee" in m else None
        )
        if label is not None and rule is not None and protects:
            gates[name] = Gate(
                name,
                rule,
                frozenset(protects),
                label,
                r.boolean(m.get("reset_on_draft_change"), (*path, "reset_on_draft_change")),
                r.doc.line_of(path),
                guarantee,
            )
    return gates


def read_workflow(doc: YamlDocument, *, recorded: bool = False) -> tuple[WorkflowDef | None, Reader]:
    """Read and check one workflow document; problems are left on the returned reader.

    ``recorded``: the text was stored with a decision, possibly under an earlier version of this
    loader, and is read to replay that decision or to go on with a case started under it (a case keeps
    the definitions it started under). One requirement added since is not imposed on it: that the
    review gate declares its guarantee (without one, the engine's built-in check does not apply and the
    gate's own rule is what holds, as when the case started). Every other check still applies."""
    r = Reader(doc, check_structure(doc, "workflow"))
    data = r.mapping(
        doc.data,
        (),
        required=("workflow", "states", "transitions", "roles", "stages"),
        optional=_TOP,
    )
    if data is None:
        return None, r
    head = (
        r.mapping(
            data.get("workflow"),
            ("workflow",),
            required=("name", "version", "label", "sources", "initial", "review_gate"),
            optional=("collective_discussion",),
        )
        or {}
    )
    name = r.identifier(head.get("name"), ("workflow", "name"), "workflow name")
    version = r.string(head.get("version"), ("workflow", "version"))
    label = r.text(head.get("label"), ("workflow", "label"))
    sources = tuple(r.string_list(head.get("sources"), ("workflow", "sources")))
    stages = _labelled(r, data, "stages")
    states = _read_states(r, data, stages)
    wf: dict[str, Any] = {
        "roles": _labelled(r, data, "roles"),
        "documents": _labelled(r, data, "documents"),
        "fields": _read_fields(r, data),
    }
    transitions: list[TransitionDef] = []
    raw_transitions = data.get("transitions")
    if not isinstance(raw_transitions, list) or not raw_transitions:
        r.shape_error(("transitions",), "expected a non-empty list of transitions")
        raw_transitions = []
    seen: dict[tuple[str, str], int] = {}
    for i, raw in enumerate(raw_transitions):
        for t in _read_transition(r, raw, i, wf, states):
            key = (t.source, t.trigger)
            if key in seen:
                r.error(
                    ("transitions", i, "trigger"),
                    f"duplicate trigger {t.trigger!r} from state {t.source!r} (also at transitions[{seen[key]}])",
                )
                continue
            seen[key] = i
            transitions.append(t)
    initial = r.string(head.get("initial"), ("workflow", "initial"))
    if initial is not None and initial not in states:
        r.error(("workflow", "initial"), f"unknown state {initial!r}")
    gates = _read_gates(r, data, states, wf, transitions)
    catalogue = (
        read_catalogue_spec(r, data["catalogue"], wf["fields"], states, transitions) if "catalogue" in data else None
    )
    review_gate = r.string(head.get("review_gate"), ("workflow", "review_gate"))
    if review_gate is not None and review_gate not in gates:
        r.error(("workflow", "review_gate"), f"unknown gate {review_gate!r}")
    elif (
        not recorded
        and review_gate is not None
        and gates[review_gate].guarantee is None
        and "guarantee" not in ((data.get("gates") or {}).get(review_gate) or {})
    ):
        r.error(
            ("gates", review_gate),
            f"the review gate {review_gate!r} declares its 'guarantee' (the record, outcome and draft version "
            "the engine itself checks in every state it protects)",
        )
    case = read_case_spec(r, data.get("case"), initial if initial in states else None, transitions, wf["fields"])
    deadlines = read_deadlines(r, data, states, wf["roles"], wf["fields"], transitions)
    late_items_seen_by = read_inbox(r, data, wf["roles"])
    corrections = read_corrections(r, data, wf["roles"], wf["fields"], transitions)
    report = read_report_spec(r, data, wf["fields"], states, transitions, catalogue)
    if None in (name, version, label, initial, review_gate) or initial not in states:
        return None, r
    assert name and version and label and initial and review_gate  # narrowed above
    workflow = WorkflowDef(
        name=name,
        version=version,
        label=label,
        sources=sources,
        initial=initial,
        review_gate=review_gate,
        stages=stages,
        states=states,
        transitions=tuple(transitions),
        fields=wf["fields"],
        documents=wf["documents"],
        roles=wf["roles"],
        gates=gates,
        catalogue=catalogue,
        file=doc.file,
        sha256=source_digest(doc.text),
        case=case,
        discussion_by_rule=read_collective_discussion(r, head),
        deadlines=deadlines,
        late_items_seen_by=late_items_seen_by,
        corrections=corrections,
        report=report,
    )
    workflow = replace(workflow, constraints=read_field_constraints(r, data, workflow))
    for finding in structural_findings(workflow):
        r.error(finding.key_path, finding.message)
    for gate in gates.values():
        for state in unguaranteed_states(workflow, gate):
            assert gate.guarantee is not None
            r.error(
                ("gates", gate.id, "guarantee"),
                f"state {state!r} can never be entered: no path reaches it with the guarantee of gate {gate.id!r} "
                f"(a passing {gate.guarantee.record!r} record"
                + (" of the current draft" if gate.guarantee.current_draft else "")
                + ")",
            )
    review = gates.get(review_gate)
    if review is not None and review.guarantee is not None and not review.guarantee.current_draft:
        r.error(
            ("gates", review_gate, "guarantee"),
            f"the review gate {review_gate!r} guarantees a review of the current draft ('current_draft: true')",
        )
    if review is not None:
        for state in sorted((workflow.approval_states | workflow.discussion_states) - review.protects):
            kind = "approval" if state in workflow.approval_states else "discussion"
            r.error(
                ("gates", review_gate, "protects"),
                f"{kind} state {state!r} is not protected by the review gate {review_gate!r}",
            )
    return workflow, r

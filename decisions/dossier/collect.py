"""What goes into a dossier, gathered from the service layer: labels from the case's own recorded
definitions, records with the rules that applied (the replay), documents with their bytes, and the
verification material (chain head, checkpoint, inclusion proof, verify's verdict).

No workflow's vocabulary here: every state, field, role and document name comes from the definitions.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import TYPE_CHECKING, Any

from decisions.audit import Checkpoint, Head, hasher
from decisions.dossier.proof import ProofStep, inclusion_proof, leaf_hash, root_from_proof
from decisions.model import Record, Text
from decisions.workflow.definition import FieldDef, FieldType, WorkflowDef

if TYPE_CHECKING:
    from decisions.service.audit import VerifyReport
    from decisions.service.office import Office

__all__ = ["Dossier", "DossierDocument", "DossierField", "DossierRecord", "Verification", "collect"]


@dataclass(frozen=True)
class DossierField:
    """One field of a record as a person reads it; a views field also as table rows."""

    name: str
    label: Text
    value: str
    rows: tuple[tuple[str, str, bool, str], ...] = ()  # views: (member, position as labelled, chairs, note)
    dissent: tuple[str, ...] = ()  # views: members whose view differs from the chair's (abstaining is none)


@dataclass(frozen=True)
class DossierDocument:
    seq: int
    kind: str
    kind_label: Text
    version: int
    name: str
    size: int
    sha256: str
    attachment: str  # the file name inside the PDF
    data: bytes = field(repr=False, default=b"")


@dataclass(frozen=True)
class DossierRecord:
    seq: int
    label: Text
    actor: str
    role: Text
    unit: str
    on: date
    from_label: Text
    to_label: Text
    stage: Text
    fields: tuple[DossierField, ...]
    documents: tuple[DossierDocument, ...]
    rules: tuple[tuple[str, str, str], ...]  # (rule id, outcome, citation)


@dataclass(frozen=True)
class Verification:
    algorithm: str
    chain: str
    seq: int
    head_hash: str
    leaf: str
    checkpoint_root: str  # "" when no checkpoint includes the head (a history that does not verify gets none)
    checkpoint_created: str
    checkpoint_chains: int
    checkpoint_events: int
    checkpoint_json: str
    proof: tuple[ProofStep, ...]
    recomputed_root: str
    verified: bool
    findings: tuple[str, ...]
    history_json: str  # every event of the chain: seq, previous hash, canonical body, hash


@dataclass(frozen=True)
class Dossier:
    case_id: str
    title: str
    workflow: Text
    opened_by: str
    opened_role: Text
    opened_unit: str
    catalogue_item: tuple[Text, str] | None
    first_on: date | None
    last_on: date | None
    outcome: Text
    final: bool
    stages: tuple[tuple[Text, date, date], ...]  # (stage, first day, last day) in the order entered
    attributes: tuple[DossierField, ...]
    records: tuple[DossierRecord, ...]
    documents: tuple[DossierDocument, ...]
    verification: Verification
    generated: str


def _plain(value: Any) -> str:
    if isinstance(value, bool):
        return "是 / yes" if value else "否 / no"
    if isinstance(value, list):
        return "、".join(str(v) for v in value)
    return "" if value is None else str(value)


def render_field(fd: FieldDef | None, name: str, value: Any) -> DossierField:
    """A record's (or case's) value with its label, enum values by their labels, views as rows."""
    if fd is None:
        return DossierField(name, Text(name, name), _plain(value))

    def labelled(v: Any) -> str:
        t = fd.value_labels.get(str(v))
        return f"{t.zh} / {t.en}" if t is not None else _plain(v)

    if fd.type is FieldType.VIEWS and isinstance(value, list):
        rows = tuple(
            (str(v.get("member", "")), labelled(v.get("position", "")), bool(v.get("head")), _plain(v.get("note")))
            for v in value
            if isinstance(v, Mapping)
        )
        entries = [v for v in value if isinstance(v, Mapping)]
        chair = next((v.get("position") for v in entries if v.get("head")), None)
        dissent = tuple(
            str(v.get("member", ""))
            for v in entries
            if chair is not None and not v.get("head") and v.get("position") not in (chair, fd.abstain)
        )
        return DossierField(name, fd.label, "", rows, dissent)
    if fd.type is FieldType.ENUM:
        return DossierField(name, fd.label, labelled(value))
    return DossierField(name, fd.label, _plain(value))


def _label(mapping: Mapping[str, Any], key: str) -> Text:
    found = mapping.get(key)
    return found.label if found is not None else Text(key, key)


def collect(office: Office, case_id: str, checkpoint: Checkpoint | None, report: VerifyReport) -> Dossier:
    """Everything the dossier shows about ``case_id``: ``checkpoint`` (if any) must include its current
    head, ``report`` is `audit verify` of the case."""
    details = office.show(case_id)
    view = details.view
    case = view.case
    wf: WorkflowDef = office.cases.definitions_for(view.definitions).workflow(case.workflow)
    steps = {s.seq: s for s in office.audit.replay(case_id).steps}
    repository = office.cases.repository
    sizes = repository.document_sizes([d.sha256 for r in case.records for d in r.documents])

    documents: list[DossierDocument] = []
    records: list[DossierRecord] = []
    stages: list[tuple[Text, date, date]] = []
    last_stage = ""
    for r in case.records:
        docs = []
        for i, d in enumerate(r.documents, start=1):
            data = office.document(d.sha256)
            doc = DossierDocument(
                r.seq,
                d.kind,
                _label(wf.documents, d.kind),
                d.version,
                d.name,
                sizes.get(d.sha256, len(data)),
                d.sha256,
                _attachment_name(r.seq, i, d.name or d.kind),
                data,
            )
            docs.append(doc)
        documents += docs
        records.append(_record(wf, r, tuple(docs), steps.get(r.seq)))
        stage_id = wf.states[r.to_state].stage if r.to_state in wf.states else ""
        if stage_id != last_stage:
            stages.append((_label(wf.stages, stage_id), r.on, r.on))
            last_stage = stage_id
        elif stages:
            stages[-1] = (stages[-1][0], stages[-1][1], r.on)

    columns = office.cases.columns(view.definitions, wf.name)
    item_attr = columns.get("catalogue_item")
    catalogue_item = None
    if item_attr and case.attributes.get(item_attr):
        catalogue_item = (_label(wf.fields, item_attr), str(case.attributes[item_attr]))
    attributes = tuple(render_field(wf.fields.get(n), n, v) for n, v in sorted(case.attributes.items()))
    first = case.records[0] if case.records else None
    state = wf.states[case.state]
    return Dossier(
        case_id=case.id,
        title=details.title or wf.label.zh,
        workflow=wf.label,
        opened_by=first.actor if first else "",
        opened_role=_label(wf.roles, first.role) if first else Text("", ""),
        opened_unit=(first.unit or "") if first else "",
        catalogue_item=catalogue_item,
        first_on=first.on if first else None,
        last_on=case.last_on,
        outcome=state.label,
        final=state.final,
        stages=tuple(stages),
        attributes=attributes,
        records=tuple(records),
        documents=tuple(documents),
        verification=_verification(office, case_id, checkpoint, report),
        generated=office.clock().strftime("%Y-%m-%d %H:%M UTC"),
    )


def _attachment_name(seq: int, index: int, name: str) -> str:
    """The name a document is attached under: unique (record and position first), no path in it."""
    safe = "".join("_" if c in '/\\:*?"<>|' or not c.isprintable() else c for c in name)
    return f"{seq:03d}-{index}-{safe}"


def _record(wf: WorkflowDef, r: Record, docs: tuple[DossierDocument, ...], step: Any) -> DossierRecord:
    t = wf.transition(r.from_state, r.trigger)
    stage = wf.states[r.to_state].stage if r.to_state in wf.states else ""
    return DossierRecord(
        seq=r.seq,
        label=t.label if t is not None else Text(r.trigger, r.trigger),
        actor=r.actor,
        role=_label(wf.roles, r.role),
        unit=r.unit or "",
        on=r.on,
        from_label=_label(wf.states, r.from_state),
        to_label=_label(wf.states, r.to_state),
        stage=_label(wf.stages, stage),
        fields=tuple(render_field(wf.fields.get(n), n, v) for n, v in r.fields.items()),
        documents=docs,
        rules=tuple(step.rules) if step is not None else (),
    )


def _verification(office: Office, case_id: str, checkpoint: Checkpoint | None, report: VerifyReport) -> Verification:
    repository = office.cases.repository
    _, events = repository.load(case_id)
    h = hasher(repository.algorithm)
    head = Head(case_id, events[-1].seq, events[-1].hash)
    found = inclusion_proof(h, checkpoint.heads, case_id) if checkpoint is not None else None
    if checkpoint is not None and (found is None or found[0] != head):
        raise ValueError(f"checkpoint {checkpoint.root} does not include the head of {case_id}")
    proof = found[1] if found is not None else ()
    history = [{"seq": e.seq, "prev_hash": e.prev_hash, "body": e.body, "hash": e.hash} for e in events]
    return Verification(
        algorithm=str(repository.algorithm),
        chain=case_id,
        seq=head.seq,
        head_hash=head.hash,
        leaf=leaf_hash(h, head),
        checkpoint_root=checkpoint.root if checkpoint else "",
        checkpoint_created=checkpoint.created_at.strftime("%Y-%m-%dT%H:%M:%S.%fZ") if checkpoint else "",
        checkpoint_chains=checkpoint.chains if checkpoint else 0,
        checkpoint_events=checkpoint.events if checkpoint else 0,
        checkpoint_json=checkpoint.to_json() if checkpoint else "",
        proof=proof,
        recomputed_root=root_from_proof(h, head, proof) if checkpoint else "",
        verified=report.ok,
        findings=tuple(str(f) for f in report.findings),
        history_json=json.dumps(history, ensure_ascii=False, indent=1) + "\n",
    )

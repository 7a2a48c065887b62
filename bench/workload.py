"""The workload users have: the demo's bus-fare decision (``demo/20-decisions.yaml``, every step that is
not a refusal) played through `Office` with its documents, after the demo's people and catalogue.

Each document is ``DOCUMENT_BYTES`` of bytes unique to its decision and step (so nothing is
deduplicated away), about 1.2 documents per step, as on the real main path. Nothing here imports
``tests``: the benchmark is built on what ships.
"""

from __future__ import annotations

import hashlib
import random
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from decisions.config import load_deployment
from decisions.definitions import Definitions
from decisions.loading import load_definitions
from decisions.loading.scenarios import Person, Step, load_scenarios
from decisions.service.office import Office

ROOT = Path(__file__).resolve().parent.parent
DOCUMENT_BYTES = 24 * 1024
"""The size of each attached document: a small scanned page or a short PDF."""


def clock() -> datetime:
    return datetime(2026, 1, 5, tzinfo=UTC)


def definitions() -> Definitions:
    """The shipped deployment's definitions (``decisions.yaml``)."""
    d = load_deployment(ROOT / "decisions.yaml")
    return load_definitions(d.workflows, d.rule_packs, d.calendar)


@dataclass(frozen=True)
class Workload:
    people: tuple[Person, ...]
    catalogue: tuple[Step, ...]
    decision: tuple[Step, ...]

    @property
    def documents_per_step(self) -> float:
        return sum(len(s.documents) for s in self.decision) / len(self.decision)


def load_workload() -> Workload:
    scenarios = load_scenarios(ROOT / "demo")
    people = tuple(p for s in scenarios for p in s.people)
    by_file = {Path(s.file).name: s for s in scenarios}

    def acting(steps: tuple[Step, ...], case: str) -> tuple[Step, ...]:
        return tuple(s for s in steps if s.kind in ("start", "act") and s.case == case and not s.refused)

    catalogue = acting(by_file["10-catalogue.yaml"].steps, "catalogue")
    decision = acting(by_file["20-decisions.yaml"].steps, "bus_fares")
    return Workload(people, catalogue, decision)


def document(case_id: str, index: int, kind: str, size: int = DOCUMENT_BYTES) -> bytes:
    """Deterministic bytes unique to (case, step, kind)."""
    seed = int.from_bytes(hashlib.sha256(f"{case_id}/{index}/{kind}".encode()).digest()[:8], "big")
    return random.Random(seed).randbytes(size)


def attachments(case_id: str, index: int, step: Step, size: int = DOCUMENT_BYTES) -> list[tuple[str, bytes, str]]:
    return [(kind, document(case_id, index, kind, size), f"{title}.pdf") for kind, title in step.documents]


def prepare(office: Office, workload: Workload) -> None:
    """The demo's people and its published catalogue (the decision's launch looks its item up)."""
    for p in workload.people:
        office.users.add(p.name, list(p.roles), p.unit)
    catalogue_id = ""
    for i, s in enumerate(workload.catalogue):
        docs = attachments("catalogue", i, s, 2048)
        if s.kind == "start":
            catalogue_id = office.start(s.name, s.actor, s.fields, docs, s.on).case.id
        else:
            office.act(catalogue_id, s.name, s.actor, s.fields, docs, s.on)


def fire(office: Office, case_id: str, index: int, step: Step, size: int = DOCUMENT_BYTES) -> Any:
    """One step of the decision through `Office`, with its documents."""
    docs = attachments(case_id, index, step, size)
    if step.kind == "start":
        return office.start(step.name, step.actor, step.fields, docs, step.on, case_id)
    return office.act(case_id, step.name, step.actor, step.fields, docs, step.on)


def play(office: Office, case_id: str, steps: tuple[Step, ...], size: int = DOCUMENT_BYTES) -> None:
    for i, s in enumerate(steps):
        fire(office, case_id, i, s, size)


def payload(case_id: str, index: int, step: Step, size: int = DOCUMENT_BYTES) -> dict[str, Any]:
    """What a peer records for one step: the same fields, and each document's kind, name, size and
    SHA-256 (the peers keep no document bytes: an advantage to them)."""
    return {
        "trigger": step.name,
        "actor": step.actor,
        "on": step.on if isinstance(step.on, str) else str(step.on),
        "fields": dict(step.fields),
        "documents": [
            {"kind": k, "name": n, "bytes": len(b), "sha256": hashlib.sha256(b).hexdigest()}
            for k, b, n in attachments(case_id, index, step, size)
        ],
    }


def today() -> date:
    return clock().date()

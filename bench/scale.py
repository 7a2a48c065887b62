"""Scale figures: a generated history (real event format, real hash chain, bulk-loaded), then the
latency of `show`, `inbox` and one action, bytes per event, and the peak memory of a full verify,
each at a small and a large size so that growth shows as a ratio."""

from __future__ import annotations

import json
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

from sqlalchemy import text

from bench.web import add_page_figures, measure_pages
from bench.workload import clock, definitions, load_workload, play, prepare
from decisions.audit import GENESIS, canonical_bytes, canonical_text, chain_hash, hasher
from decisions.service.office import Office
from decisions.store.database import Database
from decisions.store.events import StoredEvent
from decisions.store.repository import CaseHead
from decisions.store.tables import CaseRow, EventRow, TaskRow
from decisions.store.tasks import case_tasks_rows

WORKLOAD = load_workload()
PREFIXES = list(range(3, len(WORKLOAD.decision) + 1))  # decisions stop at every stage of the path


def generate_history(url: str, documents: Path, decisions: int) -> tuple[Database, int]:
    """``decisions`` cases whose histories are prefixes of the main path, chained and stored exactly
    as the service would store them (bodies re-serialised canonically, hashes recomputed)."""
    db = Database(url, documents=documents)
    db.migrate()
    office = Office(db, definitions(), clock=clock)
    prepare(office, WORKLOAD)
    play(office, "TEMPLATE", WORKLOAD.decision, 1024)
    service = office.cases
    with db.read() as conn:
        template = [
            json.loads(b)
            for (b,) in conn.execute(text("SELECT body FROM events WHERE case_id='TEMPLATE' ORDER BY seq"))
        ]
        attributes_by_seq = []
        attrs: dict[str, Any] = {}
        wf = service.current.workflow("major_decision")
        for body in template:
            for k, v in body["fields"].items():
                if k in wf.fields and wf.fields[k].attribute:
                    attrs[k] = v
            attributes_by_seq.append(canonical_text(attrs))
        template_row = dict(conn.execute(text("SELECT * FROM cases WHERE id='TEMPLATE'")).mappings().one())
    # The inbox table's rows of each prefix of the path, derived as the service derives them (the
    # same for every case of that prefix but for the case id).
    template_head = CaseHead(**template_row)
    stored = [StoredEvent("TEMPLATE", b["seq"], "", "", "", "", "", "", json.dumps(b)) for b in template]
    tasks_by_length = {n: service.derive_tasks(template_head, stored[:n]) for n in PREFIXES}
    tasks_table = TaskRow.__table__  # type: ignore[attr-defined]
    batch_tasks: list[dict[str, Any]] = []
    h = hasher(service.algorithm)
    events_table = EventRow.__table__  # type: ignore[attr-defined]
    cases_table = CaseRow.__table__  # type: ignore[attr-defined]
    total = 0
    batch_events: list[dict[str, Any]] = []
    batch_cases: list[dict[str, Any]] = []

    def flush() -> None:
        with db.write() as conn:
            if batch_events:
                conn.execute(events_table.insert(), batch_events)
            if batch_cases:
                conn.execute(cases_table.insert(), batch_cases)
            if batch_tasks:
                conn.execute(tasks_table.insert(), batch_tasks)
        batch_events.clear()
        batch_cases.clear()
        batch_tasks.clear()

    for i in range(decisions):
        case_id = f"G-{i:06d}"
        length = PREFIXES[i % len(PREFIXES)]
        prev = GENESIS
        for body in template[:length]:
            body = {**body, "case": case_id}
            data = canonical_bytes(body)
            digest = chain_hash(h, prev, data)
            batch_events.append(
                {
                    "case_id": case_id,
                    "seq": body["seq"],
                    "trigger": body["trigger"],
                    "actor": body["actor"],
                    "happened_on": body["on"],
                    "recorded_at": body["recorded_at"],
                    "prev_hash": prev,
                    "hash": digest,
                    "body": data.decode("utf-8"),
                }
            )
            prev = digest
        last = template[length - 1]
        batch_cases.append(
            {
                "id": case_id,
                "workflow": "major_decision",
                "state": last["to"],
                "attributes": attributes_by_seq[length - 1],
                "version": length,
                "head_hash": prev,
                "definitions": last["definitions"],
                "title": template_row["title"],
                "catalogue_item": template_row["catalogue_item"],
            }
        )
        derived = tasks_by_length[length]
        if derived is not None:
            batch_tasks.extend(case_tasks_rows(replace(derived, case_id=case_id)))
        total += length
        if len(batch_events) >= 20_000:
            flush()
    flush()
    return db, total + len(template), office


def _percentiles(samples: list[float]) -> tuple[float, float]:
    ordered = sorted(samples)
    return statistics.median(ordered), ordered[int(0.95 * (len(ordered) - 1))]


def _peak_verify_memory(url: str, documents: Path) -> float:
    code = (
        f"import resource, sys; sys.path.insert(0, {str(Path(__file__).resolve().parent.parent)!r})\n"
        "from decisions.store.database import Database\n"
        "from decisions.service.cases import CaseService\n"
        "from decisions.service.audit import AuditService\n"
        "from bench.workload import definitions\n"
        f"db = Database({url!r}, documents=__import__('pathlib').Path({str(documents)!r}))\n"
        "r = AuditService(CaseService(db, definitions())).verify()\n"
        "print(_peak_kib(), r.events, r.ok)\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", _PEAK + code], capture_output=True, text=True, check=True
    ).stdout.split()
    return int(out[0]) / 1024  # MiB


# The child's own peak resident set. Not getrusage's ru_maxrss: on Linux it is kept across fork and
# exec, so a child of this (large) benchmark process reported the parent's size at fork time, which
# grew with the generated history. /proc/self/status VmHWM belongs to the child's own address space.
_PEAK = """
def _peak_kib():
    try:
        with open("/proc/self/status") as f:
            return int(next(line for line in f if line.startswith("VmHWM")).split()[1])
    except (OSError, StopIteration):
        import resource
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
"""


def measure(work: Path, decisions: int, label: str) -> dict[str, float]:
    url = f"sqlite:///{work / f'scale-{label}.sqlite'}"
    start = time.perf_counter()
    db, events, office = generate_history(url, work / f"docs-{label}", decisions)
    generated = time.perf_counter() - start
    ids = [f"G-{i:06d}" for i in range(0, decisions, max(decisions // 200, 1))]
    shows = []
    for case_id in ids:
        t = time.perf_counter()
        office.show(case_id, "李明")
        shows.append((time.perf_counter() - t) * 1000)
    inboxes = []
    for _ in range(20):
        t = time.perf_counter()
        office.inbox("赵律师")
        inboxes.append((time.perf_counter() - t) * 1000)
    executing = next(i for i in range(decisions) if PREFIXES[i % len(PREFIXES)] == len(WORKLOAD.decision))
    case_id = f"G-{executing:06d}"
    acts = []
    for _ in range(30):
        t = time.perf_counter()
        office.act(case_id, "record_public_feedback", "陈秘书", {"summary": "群众来信"}, on="2025-12-01")
        acts.append((time.perf_counter() - t) * 1000)
    pages = measure_pages(office, ids[:: max(len(ids) // 60, 1)], 2025)  # the web pages (bench.web)
    size = Path(db.engine.url.database or "").stat().st_size
    wal = Path(f"{db.engine.url.database}-wal")
    size += wal.stat().st_size if wal.exists() else 0
    db.dispose()
    memory = _peak_verify_memory(url, work / f"docs-{label}")
    show50, show95 = _percentiles(shows)
    inbox50, inbox95 = _percentiles(inboxes)
    act50, _ = _percentiles(acts)
    return {
        "decisions": decisions,
        "events": events,
        "generated_s": generated,
        "show_p50": show50,
        "show_p95": show95,
        "inbox_p50": inbox50,
        "inbox_p95": inbox95,
        "action_p50": act50,
        "bytes_per_event": size / events,
        "verify_peak_mib": memory,
        **pages,
    }


def measure_scale(results: Any, work: Path, small: int, large: int, _gen: Callable[..., Any], Figure: Any) -> None:
    a = measure(work, small, "small")
    b = measure(work, large, "large")
    add_page_figures(results, Figure, a, b)
    tag = f"{b['decisions']:,} decisions / {b['events']:,} events"
    results.add(
        Figure(
            f"show p95 at {tag}",
            b["show_p95"],
            "ms",
            a["show_p95"],
            f"p95 at {a['decisions']:,} decisions",
            "≤ 20 ms and ≤ 1.5×",
            b["show_p95"] <= 20 and b["show_p95"] <= 1.5 * a["show_p95"],
            note=f"p50 {b['show_p50']:.1f} ms",
        )
    )
    results.add(
        Figure(
            f"inbox p95 at {tag}",
            b["inbox_p95"],
            "ms",
            a["inbox_p95"],
            f"p95 at {a['decisions']:,} decisions",
            "≤ 20 ms and ≤ 1.5×",
            b["inbox_p95"] <= 20 and b["inbox_p95"] <= 1.5 * a["inbox_p95"],
            note=f"p50 {b['inbox_p50']:.1f} ms",
        )
    )
    results.add(
        Figure(
            f"one action, p50 latency at {tag}",
            b["action_p50"],
            "ms",
            a["action_p50"],
            f"at {a['decisions']:,} decisions",
            "≤ 1.2×",
            b["action_p50"] <= 1.2 * a["action_p50"],
        )
    )
    results.add(
        Figure(
            f"database bytes per event at {tag}",
            b["bytes_per_event"],
            "bytes",
            a["bytes_per_event"],
            f"at {a['decisions']:,} decisions",
        )
    )
    results.add(
        Figure(
            f"audit verify peak memory at {tag}",
            b["verify_peak_mib"],
            "MiB",
            a["verify_peak_mib"],
            f"at {a['events']:,} events",
            "flat: ≤ 1.2×",
            b["verify_peak_mib"] <= 1.2 * a["verify_peak_mib"],
        )
    )

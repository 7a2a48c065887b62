"""Benchmarks: every figure beside a baseline measured in the same run, reported as a ratio.

    .venv/bin/python -m bench --quick     # about a minute; CI runs it (reports, never asserts speed)
    .venv/bin/python -m bench             # full mode, including the 100,000-decision scale figures

The workload is the demo's bus-fare decision with its documents through `Office` (`bench.workload`);
the peers (eventsourcing, SpiffWorkflow) come from the optional extra ``bench`` and are skipped, with
a note, when it is not installed.

Writes ``bench/results-<mode>.json`` and ``docs/benchmarks.md`` (the machine described).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import platform
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench import peers  # noqa: E402
from bench.actions import bench_pg, bench_sqlite  # noqa: E402
from bench.scale import generate_history, measure_scale  # noqa: E402
from bench.web import add_load_figure, load_run  # noqa: E402
from bench.workload import load_workload  # noqa: E402
from decisions.audit import hasher  # noqa: E402
from decisions.service.office import Office  # noqa: E402

PG_SERVER = os.environ.get("DECISIONS_TEST_PG", "postgresql://postgres@127.0.0.1:5432/test")
console = Console(highlight=False)


@dataclass
class Figure:
    name: str
    value: float
    unit: str
    baseline: float | None = None
    baseline_name: str = ""
    target: str = ""
    met: bool | None = None
    note: str = ""

    @property
    def ratio(self) -> float | None:
        if self.baseline in (None, 0):
            return None
        return self.value / self.baseline  # type: ignore[operator]


@dataclass
class Results:
    mode: str
    figures: list[Figure] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def add(self, figure: Figure) -> None:
        self.figures.append(figure)
        ratio = f" ratio {figure.ratio:.2f}" if figure.ratio is not None else ""
        mark = "" if figure.met is None else (" ✓" if figure.met else " ✗ (target missed)")
        console.print(f"  {figure.name}: {figure.value:,.1f} {figure.unit}{ratio}{mark}")


def pg_database() -> tuple[str, Callable[[], None]] | None:
    import psycopg

    name = f"bench_{os.getpid()}"
    try:
        with psycopg.connect(PG_SERVER, autocommit=True, connect_timeout=5) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}"')
            admin.execute(f'CREATE DATABASE "{name}"')
    except psycopg.OperationalError as exc:
        console.print(f"[yellow]PostgreSQL unreachable, skipped: {exc}[/yellow]")
        return None
    url = PG_SERVER.rsplit("/", 1)[0] + "/" + name

    def drop() -> None:
        with psycopg.connect(PG_SERVER, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    return url, drop


def raw_verify_rate(path: Path) -> float:
    """Items/s of a raw loop: read every event row and hash its bytes, read every stored document's
    bytes (its chunk rows, in order) and hash them (no parsing, no checks)."""
    conn = sqlite3.connect(path)
    h = hashlib.sha256
    start = time.perf_counter()
    n = 0
    for prev, body in conn.execute("SELECT prev_hash, body FROM events ORDER BY case_id, seq"):
        h(prev.encode() + b"\n" + body.encode()).hexdigest()
        n += 1
    current, digest = None, h()
    for sha, data in conn.execute("SELECT sha256, data FROM document_chunks ORDER BY sha256, seq"):
        if sha != current:
            if current is not None:
                digest.hexdigest()
                n += 1
            current, digest = sha, h()
        digest.update(data)
    if current is not None:
        digest.hexdigest()
        n += 1
    conn.close()
    return n / (time.perf_counter() - start)


def bench_verify_and_replay(results: Results, office: Office, es_replay: float) -> None:
    audit = office.audit
    db = office.cases.db
    assert db is not None
    start = time.perf_counter()
    report = audit.verify()
    elapsed = time.perf_counter() - start
    ours = (report.events + report.documents) / elapsed
    raw = raw_verify_rate(Path(db.engine.url.database or ""))
    results.add(
        Figure(
            "audit verify (events + documents)/s, realistic documents",
            ours,
            "items/s",
            raw,
            "raw loop: read the same event and document rows, hash them with hashlib",
            "≥ 0.3 of raw",
            ours / raw >= 0.3,
            note=f"{report.events} events, {report.documents} documents ({report.documents / report.events:.2f} per event), "
            f"{report.events / elapsed:,.0f} events/s",
        )
    )
    payload = b"x" * 1000
    for algorithm in ("sha256", "sm3"):
        h = hasher(algorithm)
        start = time.perf_counter()
        for _ in range(20000):
            h(payload)
        results.add(
            Figure(f"hash rate {algorithm} on a 1000-byte body", 20000 / (time.perf_counter() - start), "hashes/s")
        )
    case_ids = [c.id for c in office.cases.repository.cases()]
    audit.replay(case_ids[0])  # warm-up: the stored definitions are parsed once per fingerprint
    start = time.perf_counter()
    events = sum(len(r.steps) for r in audit.replay_all())  # every case, read in batches
    replay_rate = events / (time.perf_counter() - start)
    results.add(
        Figure(
            "audit replay events/s with rule re-evaluation",
            replay_rate,
            "events/s",
            es_replay or None,
            "eventsourcing: every aggregate read back from its events (same workload)"
            if es_replay
            else "eventsourcing not installed",
            "≥ 1.5× eventsourcing",
            replay_rate >= 1.5 * es_replay if es_replay else None,
            note=f"{events} events",
        )
    )


def bench_startup(results: Results, db_url: str, case_id: str) -> None:
    exe = str(Path(sys.executable).parent / "decisions")

    def median_time(argv: list[str]) -> float:
        times = []
        for _ in range(5):
            start = time.perf_counter()
            subprocess.run(argv, capture_output=True, check=False, env={**os.environ, "DECISIONS_DOCUMENTS": "/tmp"})
            times.append(time.perf_counter() - start)
        return statistics.median(times) * 1000

    base = median_time([sys.executable, "-c", "pass"])
    helps = median_time([exe, "--help"])
    show = median_time([exe, "show", case_id, "--db", db_url])
    results.add(
        Figure(
            "startup: decisions --help",
            helps,
            "ms",
            base,
            "python -c pass",
            "≤ 4× python -c pass",
            helps <= 4 * base,
            note=f"+{helps - base:.0f} ms",
        )
    )
    results.add(
        Figure(
            "startup: decisions show ID",
            show,
            "ms",
            base,
            "python -c pass",
            "≤ 8× python -c pass",
            show <= 8 * base,
            note=f"+{show - base:.0f} ms",
        )
    )


def bench_long_reference_list(results: Results, small: int, large: int) -> None:
    """Loading a workflow whose transition names ``n`` unknown rules: time per name at ``large``
    against time per name at ``small``, same run. Linear loading keeps the ratio near 1; the check
    used to scan the whole file once per name (quadratic: 40,000 names took ~55 s)."""
    from decisions.definitions import Source
    from decisions.errors import DefinitionError
    from decisions.loading import load_sources

    base = [
        Source("workflow" if p.parent.name == "workflows" else "rule_pack", str(p), p.read_text(encoding="utf-8"))
        for p in [*sorted((ROOT / "workflows").glob("*.yaml")), ROOT / "rules" / "national.yaml"]
    ]
    old = "    rules: [national.legality_review_lawful_for_current_draft]\n"

    def per_name(n: int) -> float:
        names = ", ".join(f"x{i}" for i in range(n))
        sources = [
            s if old not in s.text else Source(s.kind, s.name, s.text.replace(old, f"    rules: [{names}]\n", 1))
            for s in base
        ]
        start = time.perf_counter()
        try:
            load_sources(sources)
        except DefinitionError:
            return (time.perf_counter() - start) / n * 1e6
        raise AssertionError("a workflow naming unknown rules loaded")

    per_name(small)  # warm-up
    baseline, value = per_name(small), per_name(large)
    results.add(
        Figure(
            f"loading: long reference list ({large:,} names)",
            value,
            "µs/name",
            baseline,
            f"{small:,} names",
            "≤ 2× per name",
            value <= 2 * baseline,
        )
    )


def machine() -> dict[str, Any]:
    cpu = ""
    try:
        cpu = next(
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        )
    except (OSError, StopIteration):
        cpu = platform.processor()
    memory = ""
    try:
        kb = int(
            next(
                line.split()[1]
                for line in Path("/proc/meminfo").read_text().splitlines()
                if line.startswith("MemTotal")
            )
        )
        memory = f"{kb / 1024 / 1024:.0f} GiB"
    except (OSError, StopIteration):
        pass
    return {
        "platform": platform.platform(),
        "cpu": cpu,
        "cores": os.cpu_count(),
        "memory": memory,
        "python": platform.python_version(),
        "sqlite": sqlite3.sqlite_version,
    }


def write_report(results: Results, elapsed: float) -> None:
    info = machine()
    data = {
        "mode": results.mode,
        "machine": info,
        "elapsed_s": round(elapsed, 1),
        "notes": results.notes,
        "figures": [{**f.__dict__, "ratio": f.ratio} for f in results.figures],
    }
    (ROOT / "bench" / f"results-{results.mode}.json").write_text(json.dumps(data, ensure_ascii=False, indent=2) + "\n")
    table = Table(title=f"decisions benchmarks ({results.mode})")
    for col in ("figure", "value", "baseline", "ratio", "target", "met"):
        table.add_column(col)
    for f in results.figures:
        table.add_row(
            f.name,
            f"{f.value:,.1f} {f.unit}",
            f"{f.baseline:,.1f}" if f.baseline else "—",
            f"{f.ratio:.2f}" if f.ratio is not None else "—",
            f.target or "—",
            "—" if f.met is None else ("yes" if f.met else "NO"),
        )
    console.print(table)
    write_markdown(results.mode, data)


def write_markdown(mode: str, data: dict[str, Any]) -> None:
    """Replace this mode's section of docs/benchmarks.md; the hand-written analysis stays."""
    m = data["machine"]
    lines = [
        f"Run: {mode} mode, {data['elapsed_s']} s. Machine: {m['cpu']}, {m['cores']} cores, {m['memory']}; "
        f"{m['platform']}; Python {m['python']}; SQLite {m['sqlite']}.",
        *(f"Note: {n}." for n in data.get("notes", [])),
        "",
        "| figure | value | baseline (same run) | ratio | target | met |",
        "|---|---|---|---|---|---|",
    ]
    for f in data["figures"]:
        baseline = f"{f['baseline']:,.1f} ({f['baseline_name']})" if f["baseline"] else "—"
        ratio = f"{f['ratio']:.2f}" if f["ratio"] is not None else "—"
        met = "—" if f["met"] is None else ("yes" if f["met"] else "**no**")
        note = f" ({f['note']})" if f["note"] else ""
        lines.append(
            f"| {f['name']} | {f['value']:,.1f} {f['unit']}{note} | {baseline} | {ratio} | {f['target'] or '—'} | {met} |"
        )
    doc = ROOT / "docs" / "benchmarks.md"
    text = doc.read_text(encoding="utf-8") if doc.exists() else "# Benchmarks\n"
    start, end = f"<!-- results:{mode} -->", f"<!-- /results:{mode} -->"
    block = start + "\n" + "\n".join(lines) + "\n" + end
    if start in text and end in text:
        text = text[: text.index(start)] + block + text[text.index(end) + len(end) :]
    else:
        text += f"\n## Results ({mode} mode)\n\n{block}\n"
    doc.write_text(text, encoding="utf-8")


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench")
    parser.add_argument("--quick", action="store_true", help="small sizes, about a minute (CI)")
    args = parser.parse_args()
    mode = "quick" if args.quick else "full"
    results = Results(mode)
    started = time.perf_counter()
    console.print(f"[bold]decisions benchmarks — {mode} mode[/bold]")
    have = peers.available()
    missing = [name for name, present in have.items() if not present]
    if missing:
        console.print(
            f"[yellow]peers not installed, skipped: {', '.join(missing)} (pip install -e '.[dev,bench]')[/yellow]"
        )
    workload = load_workload()
    console.print(
        f"workload: the demo's bus-fare decision, {len(workload.decision)} steps, "
        f"{workload.documents_per_step:.2f} documents per step"
    )
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        decisions = 8 if args.quick else 200
        office, es_replay = bench_sqlite(Figure, results.add, work, decisions, workload)
        made = pg_database()
        if made is not None:
            url, drop = made
            try:
                bench_pg(Figure, results.add, url, work, decisions, workload)
            finally:
                drop()
        bench_verify_and_replay(results, office, es_replay)
        assert office.cases.db is not None
        bench_startup(results, office.cases.db.url, "D-00000")
        office.cases.db.dispose()
        bench_long_reference_list(results, 1000, 10_000 if args.quick else 40_000)
        small, large = (300, 1500) if args.quick else (1000, 100_000)
        measure_scale(results, work, small, large, generate_history, Figure)
        add_load_figure(results, Figure, load_run(work, 4 if args.quick else 8, 5 if args.quick else 20))
    write_report(results, time.perf_counter() - started)


if __name__ == "__main__":
    main()

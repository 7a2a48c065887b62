"""Benchmarks: every figure beside a baseline measured in the same run, reported as a ratio.

    .venv/bin/python -m bench --quick     # about a minute; CI runs it (reports, never asserts speed)
    .venv/bin/python -m bench             # full mode, including the 100,000-decision scale figures

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
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.scale import generate_history, measure_scale  # noqa: E402
from decisions.audit import hasher  # noqa: E402
from decisions.model import Action  # noqa: E402
from decisions.service.audit import AuditService  # noqa: E402
from decisions.service.cases import CaseService  # noqa: E402
from decisions.store.database import Database  # noqa: E402
from tests.stores import play, supplied_catalogue  # noqa: E402
from tests.support import MAIN_PATH, PEOPLE, shipped_definitions  # noqa: E402

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

    def add(self, figure: Figure) -> None:
        self.figures.append(figure)
        ratio = f" ratio {figure.ratio:.2f}" if figure.ratio is not None else ""
        mark = "" if figure.met is None else (" ✓" if figure.met else " ✗ (target missed)")
        console.print(f"  {figure.name}: {figure.value:,.1f} {figure.unit}{ratio}{mark}")


def clock() -> datetime:
    return datetime(2026, 1, 5, tzinfo=UTC)


FEEDBACK = Action("record_public_feedback", PEOPLE["office_chen"], date(2025, 7, 1), {"summary": "群众来信：新票价"})


def executing_cases(service: CaseService, count: int, prefix: str = "D") -> list[str]:
    ids = [f"{prefix}-{i:05d}" for i in range(count)]
    for case_id in ids:
        play(service, case_id, MAIN_PATH[:14])
    return ids


def raw_sqlite_rate(path: Path, n: int, body_bytes: int) -> float:
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=FULL")
    conn.execute("CREATE TABLE raw (id INTEGER PRIMARY KEY, body TEXT NOT NULL)")
    body = "x" * body_bytes
    start = time.perf_counter()
    for _ in range(n):
        conn.execute("BEGIN IMMEDIATE")
        conn.execute("INSERT INTO raw (body) VALUES (?)", (body,))
        conn.execute("COMMIT")
    rate = n / (time.perf_counter() - start)
    conn.close()
    return rate


def action_rate(service: CaseService, case_ids: list[str], n: int) -> float:
    start = time.perf_counter()
    for i in range(n):
        service.act(case_ids[i % len(case_ids)], FEEDBACK)
    return n / (time.perf_counter() - start)


def mean_body_bytes(db: Database) -> int:
    from sqlalchemy import text

    with db.read() as conn:
        return int(conn.execute(text("SELECT avg(length(body)) FROM events")).scalar() or 500)


def bench_sqlite_actions(results: Results, work: Path, n: int) -> Database:
    db = Database(f"sqlite:///{work / 'actions.sqlite'}", documents=work / "docs")
    db.migrate()
    service = CaseService(db, shipped_definitions(), clock=clock, outside=supplied_catalogue)
    ids = executing_cases(service, 4)
    body = mean_body_bytes(db)
    ours, raw = [], []
    for round_ in range(3):  # interleaved rounds: the machine is shared and noisy
        raw.append(raw_sqlite_rate(work / f"raw{round_}.sqlite", n, body))
        ours.append(action_rate(service, ids, n))
    value, baseline = statistics.median(ours), statistics.median(raw)
    results.add(
        Figure(
            "durable actions/s, SQLite synchronous=FULL",
            value,
            "actions/s",
            baseline,
            f"raw sqlite3 INSERT+COMMIT of a {body}-byte row (WAL, FULL)",
            "≥ 0.5 of raw",
            value / baseline >= 0.5,
        )
    )
    return db


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


def raw_pg_rate(url: str, n: int, body_bytes: int) -> float:
    import psycopg

    with psycopg.connect(url) as conn:
        conn.execute("CREATE TABLE IF NOT EXISTS raw (id SERIAL PRIMARY KEY, body TEXT NOT NULL)")
        conn.commit()
        body = "x" * body_bytes
        start = time.perf_counter()
        for _ in range(n):
            conn.execute("INSERT INTO raw (body) VALUES (%s)", (body,))
            conn.commit()
        return n / (time.perf_counter() - start)


def bench_pg_actions(results: Results, work: Path, n: int) -> None:
    made = pg_database()
    if made is None:
        return
    url, drop = made
    try:
        db = Database(url, documents=work / "pgdocs")
        db.migrate()
        definitions = shipped_definitions()
        service = CaseService(db, definitions, clock=clock, outside=supplied_catalogue)
        ids = executing_cases(service, 8, "P")
        body = mean_body_bytes(db)
        ours, raw = [], []
        for _ in range(3):
            raw.append(raw_pg_rate(url, n, body))
            ours.append(action_rate(service, ids, n))
        value, baseline = statistics.median(ours), statistics.median(raw)
        results.add(
            Figure(
                "durable actions/s, PostgreSQL",
                value,
                "actions/s",
                baseline,
                f"raw psycopg INSERT+COMMIT of a {body}-byte row",
                "≥ 0.5 of raw",
                value / baseline >= 0.5,
            )
        )
        one = None
        for clients in (1, 4, 8):
            per_client = max(n // clients, 20)
            services = [CaseService(db, definitions, clock=clock, outside=supplied_catalogue) for _ in range(clients)]
            barrier = threading.Barrier(clients)

            def work_(
                k: int,
                services: list[CaseService] = services,
                per_client: int = per_client,
                barrier: threading.Barrier = barrier,
            ) -> None:
                barrier.wait()
                for _ in range(per_client):
                    services[k].act(ids[k], FEEDBACK)

            threads = [threading.Thread(target=work_, args=(k,)) for k in range(clients)]
            start = time.perf_counter()
            for t in threads:
                t.start()
            for t in threads:
                t.join()
            rate = clients * per_client / (time.perf_counter() - start)
            one = one or rate
            results.add(
                Figure(
                    f"PostgreSQL actions/s, {clients} clients on different decisions",
                    rate,
                    "actions/s",
                    one,
                    "1 client",
                    "scales (ratio > 1 for 4 and 8 clients)",
                    None if clients == 1 else rate / one > 1.0,
                )
            )
        db.dispose()
    finally:
        drop()


def raw_verify_rate(path: Path) -> float:
    conn = sqlite3.connect(path)
    h = hashlib.sha256
    start = time.perf_counter()
    n = 0
    for prev, body, _digest in conn.execute("SELECT prev_hash, body, hash FROM events ORDER BY case_id, seq"):
        h(prev.encode() + b"\n" + body.encode()).hexdigest()
        n += 1
    conn.close()
    return n / (time.perf_counter() - start)


def bench_verify_and_replay(results: Results, db: Database, work: Path) -> None:
    service = CaseService(db, shipped_definitions(), clock=clock, outside=supplied_catalogue)
    audit = AuditService(service)
    start = time.perf_counter()
    report = audit.verify()
    ours = report.events / (time.perf_counter() - start)
    raw = raw_verify_rate(Path(db.engine.url.database or ""))
    results.add(
        Figure(
            "audit verify events/s (SHA-256)",
            ours,
            "events/s",
            raw,
            "raw loop: read the same rows, hash the same bytes with hashlib",
            "≥ 0.5 of raw",
            ours / raw >= 0.5,
            note=f"{report.events} events, {report.documents} documents",
        )
    )
    payload = b"x" * mean_body_bytes(db)
    for algorithm in ("sha256", "sm3"):
        h = hasher(algorithm)
        start = time.perf_counter()
        for _ in range(20000):
            h(payload)
        results.add(
            Figure(f"hash rate {algorithm} on one event body", 20000 / (time.perf_counter() - start), "hashes/s")
        )
    case_ids = [c.id for c in service.repository.cases()]
    events = 0
    start = time.perf_counter()
    for case_id in case_ids:
        events += len(audit.replay(case_id).steps)
    replay_rate = events / (time.perf_counter() - start)
    results.add(
        Figure(
            "audit replay events/s with rule re-evaluation",
            replay_rate,
            "events/s",
            ours,
            "audit verify rate (same run)",
            "≥ 50,000 events/s",
            replay_rate >= 50_000,
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
            "≤ +250 ms",
            helps - base <= 250,
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
            "≤ +400 ms",
            show - base <= 400,
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
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        n = 150 if args.quick else 1000
        db = bench_sqlite_actions(results, work, n)
        bench_pg_actions(results, work, n)
        bench_verify_and_replay(results, db, work)
        bench_startup(results, db.url, "D-00000")
        bench_long_reference_list(results, 1000, 10_000 if args.quick else 40_000)
        small, large = (300, 1500) if args.quick else (1000, 100_000)
        measure_scale(results, work, small, large, generate_history, Figure)
    write_report(results, time.perf_counter() - started)


if __name__ == "__main__":
    main()

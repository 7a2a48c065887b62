"""The canonical form's cost per event body, beside ``json.dumps`` and the original writer, in one run.

    .venv/bin/python -m bench.canonical [--profile]

The bodies are the ones users produce: every value the service serialises while it plays the main
path of a decision (17 bodies, 0.6 to 2.6 kB, Chinese citations, dates and datetimes). The baseline
is ``json.dumps(sort_keys=True, separators=(",", ":"), ensure_ascii=False)`` of the same bodies with
their dates already strings, then UTF-8 encoded; the original writer is `tests/canonical_reference.py`.
The three are timed in turn, ``--rounds`` times, and the median of each is reported.
"""

from __future__ import annotations

import argparse
import cProfile
import json
import pstats
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from decisions.audit import canonical  # noqa: E402
from decisions.service.cases import CaseService  # noqa: E402
from decisions.store.memory import memory_store  # noqa: E402
from tests import canonical_reference  # noqa: E402
from tests.stores import fixed_clock, play, supplied_catalogue  # noqa: E402
from tests.support import shipped_definitions  # noqa: E402


def main_path_bodies() -> list[object]:
    """Every value the service passes to `canonical_bytes` while it plays one main path."""
    written: list[object] = []
    original = canonical.canonical_bytes

    def recording(value: object) -> bytes:
        written.append(value)
        return original(value)

    patched = [m for m in list(sys.modules.values()) if getattr(m, "canonical_bytes", None) is original]
    for module in patched:
        module.canonical_bytes = recording  # type: ignore[attr-defined]
    try:
        service = CaseService(memory_store(), shipped_definitions(), clock=fixed_clock, outside=supplied_catalogue)
        play(service, "D-2025-001")
    finally:
        for module in patched:
            module.canonical_bytes = original  # type: ignore[attr-defined]
    return written


def per_body(write: Callable[[object], object], bodies: list[object], seconds: float) -> float:
    """Microseconds per body, over as many passes as fit in about ``seconds``."""
    passes, started = 0, time.perf_counter()
    while True:
        for body in bodies:
            write(body)
        passes += 1
        elapsed = time.perf_counter() - started
        if elapsed >= seconds:
            return elapsed / (passes * len(bodies)) * 1e6


def measure(rounds: int = 7, seconds: float = 0.3) -> dict[str, float]:
    """Median µs per body of the baseline, the fast writer and the original writer, taken in turn."""
    bodies = main_path_bodies()
    plain = [json.loads(canonical.canonical_bytes(b)) for b in bodies]
    for body in bodies:  # the comparison is only worth making if the bytes are the same
        assert canonical.canonical_bytes(body) == canonical_reference.canonical_bytes(body)

    def dumps(value: object) -> bytes:
        return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()

    runs: dict[str, list[float]] = {"json.dumps": [], "canonical_bytes": [], "original": []}
    for _ in range(rounds):
        runs["json.dumps"].append(per_body(dumps, plain, seconds))
        runs["canonical_bytes"].append(per_body(canonical.canonical_bytes, bodies, seconds))
        runs["original"].append(per_body(canonical_reference.canonical_bytes, bodies, seconds))
    return {name: statistics.median(times) for name, times in runs.items()}


def profile() -> None:
    bodies = main_path_bodies()
    profiler = cProfile.Profile()
    profiler.enable()
    for _ in range(2000):
        for body in bodies:
            canonical.canonical_bytes(body)
    profiler.disable()
    pstats.Stats(profiler).sort_stats("tottime").print_stats(10)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--profile", action="store_true", help="also profile the fast writer")
    args = parser.parse_args()
    figures = measure(args.rounds)
    baseline = figures["json.dumps"]
    for name, micros in figures.items():
        print(f"{name:>16}: {micros:7.1f} µs/body  {micros / baseline:5.2f}× json.dumps")
    print(f"{'speed-up':>16}: {figures['original'] / figures['canonical_bytes']:.1f}× the original writer")
    if args.profile:
        profile()


if __name__ == "__main__":
    main()

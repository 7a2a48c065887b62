"""`audit replay` with rule conditions compiled (issue 15, item 2) beside the interpreter, in one run.

    .venv/bin/python -m bench.compiled_replay [--decisions 40] [--rounds 5] [--profile]

The history of `bench.verify_batches` (N decisions × the real main path, played through the
service); `AuditService.replay_all` re-evaluates every rule of every step, alternately through the
compiled closures and through the interpreter (`Definitions.compiled` answering None), one
audit service, warmed up once (its engines and the stored definitions are built once). Prints events/s of each and the ratio;
``--profile`` prints the cProfile of one compiled round. Asserts nothing.
"""

from __future__ import annotations

import argparse
import cProfile
import pstats
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.verify_batches import build, clock  # noqa: E402
from decisions.definitions import Definitions  # noqa: E402
from decisions.service.audit import AuditService  # noqa: E402
from decisions.service.cases import CaseService  # noqa: E402
from tests.stores import supplied_catalogue  # noqa: E402
from tests.support import shipped_definitions  # noqa: E402


def replay_rate(audit: AuditService) -> float:
    start = time.perf_counter()
    events = sum(len(r.steps) for r in audit.replay_all())
    return events / (time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--decisions", type=int, default=40)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--profile", action="store_true")
    args = parser.parse_args()
    compiled = Definitions.compiled
    with tempfile.TemporaryDirectory() as tmp:
        db = build(Path(tmp), args.decisions)
        audit = AuditService(CaseService(db, shipped_definitions(), clock=clock, outside=supplied_catalogue))
        replay_rate(audit)  # warm-up: the stored definitions parsed once, the engines built once
        rates: dict[str, list[float]] = {"compiled": [], "interpreted": []}
        for _ in range(args.rounds):
            Definitions.compiled = compiled  # type: ignore[method-assign]
            rates["compiled"].append(replay_rate(audit))
            Definitions.compiled = lambda self, rule: None  # type: ignore[method-assign]
            rates["interpreted"].append(replay_rate(audit))
        Definitions.compiled = compiled  # type: ignore[method-assign]
        a, b = (statistics.median(rates[k]) for k in ("compiled", "interpreted"))
        print(f"replay, rules compiled: {a:,.0f} events/s; interpreted: {b:,.0f} events/s; ratio {a / b:.2f}")
        print({k: [round(x) for x in v] for k, v in rates.items()})
        if args.profile:
            profile = cProfile.Profile()
            profile.runcall(replay_rate, audit)
            pstats.Stats(profile).sort_stats("tottime").print_stats(15)
        db.dispose()


if __name__ == "__main__":
    main()

"""The inbox at scale, alone: ``python -m bench.inbox_scale N`` generates N decisions (`bench.scale`)
and times `Office.inbox` for the legal reviewer: the first call in a fresh `Office` (nothing held:
what one `decisions inbox` command pays after start-up) and 20 calls in one office (a web app's).
Prints one JSON line; `--profile` adds the cProfile of a cold call."""

from __future__ import annotations

import cProfile
import json
import pstats
import sys
import tempfile
import time
from pathlib import Path

from bench.scale import _percentiles, generate_history
from bench.workload import clock, definitions
from decisions.service.office import Office


def main() -> None:
    decisions = int(sys.argv[1]) if len(sys.argv) > 1 else 1000
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        start = time.perf_counter()
        db, events, _ = generate_history(f"sqlite:///{work / 'scale.sqlite'}", work / "docs", decisions)
        generated = time.perf_counter() - start
        colds = []
        for _ in range(5):
            office = Office(db, definitions(), clock=clock)
            t = time.perf_counter()
            box = office.inbox("赵律师")
            colds.append((time.perf_counter() - t) * 1000)
        warm = []
        for _ in range(20):
            t = time.perf_counter()
            office.inbox("赵律师")
            warm.append((time.perf_counter() - t) * 1000)
        if "--profile" in sys.argv:
            profile = cProfile.Profile()
            office = Office(db, definitions(), clock=clock)
            profile.runcall(office.inbox, "赵律师")
            pstats.Stats(profile).sort_stats("cumulative").print_stats(25)
        cold50, _ = _percentiles(colds)
        warm50, warm95 = _percentiles(warm)
        print(
            json.dumps(
                {
                    "decisions": decisions,
                    "events": events,
                    "generated_s": round(generated, 1),
                    "tasks": len(box.tasks),
                    "cases": len({t.case_id for t in box.tasks}),
                    "cold_p50_ms": round(cold50, 1),
                    "cold_max_ms": round(max(colds), 1),
                    "warm_p50_ms": round(warm50, 1),
                    "warm_p95_ms": round(warm95, 1),
                }
            )
        )
        db.dispose()


if __name__ == "__main__":
    main()

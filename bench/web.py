"""The web application's figures (issue 14 item 7): page render latency and a loopback load run.

Pages: the inbox (the legality reviewer's), a decision page and the catalogue page, each requested
through the whole application (routing, session cookie, the service calls, the Jinja2 render, the
security headers) by an in-process ASGI client, at a small and a large generated history
(`bench.scale.generate_history`: the real event format and hash chain). Target: p95 ≤ 50 ms at the
large size and ≤ 1.5× the small size.

Load: ``SESSIONS`` browsers' worth of HTTP clients, each logged in as itself, act concurrently on
different decisions (one decision each, in execution, where an action is lawful on any day: a
public-feedback record) against ``decisions serve``'s application under uvicorn on loopback; the
baseline is the same number of the same actions through `Office` in one process, so the ratio is
what HTTP, sessions, CSRF and rendering the page after the redirect cost. Never asserted in tests.

    .venv/bin/python -m bench.web            # 1,000 and 100,000 decisions, load with 8 sessions
    .venv/bin/python -m bench.web --quick    # 300 and 1,500 decisions, load with 4 sessions
"""

from __future__ import annotations

import argparse
import re
import socket
import statistics
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.workload import clock, definitions, load_workload, play, prepare  # noqa: E402
from decisions.service.office import Office  # noqa: E402
from decisions.store.database import Database  # noqa: E402

PASSWORD = "bench password 1"
REVIEWER = "赵律师"  # the demo's legality reviewer: the inbox measured
CLERK = "李明"  # the demo's organiser: the decision pages measured
FEEDBACK = ("record_public_feedback", "陈秘书", {"summary": "群众来信"})  # lawful in execution, any day
RENDERS = 60


def _percentiles(samples: list[float]) -> tuple[float, float]:
    ordered = sorted(samples)
    return statistics.median(ordered), ordered[int(0.95 * (len(ordered) - 1))]


def _csrf(html: str) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', html)
    if not found:
        raise RuntimeError("no CSRF token on the page")
    return found.group(1)


def _log_in(client: Any, name: str) -> None:
    token = _csrf(client.get("/login").text)
    r = client.post("/login", data={"name": name, "password": PASSWORD, "csrf": token, "next": "/"})
    if r.status_code >= 400 or "/login" in str(r.url):
        raise RuntimeError(f"login of {name} failed: {r.status_code}")


def measure_pages(office: Office, case_ids: list[str], year: int) -> dict[str, float]:
    """p50/p95 in ms of the inbox, a decision page (cycling through ``case_ids``) and the catalogue."""
    from fastapi.testclient import TestClient

    from decisions.web.app import Settings, create_app

    for name in (REVIEWER, CLERK):
        office.set_password(name, PASSWORD)
    app = create_app(office, Settings(secret="bench"))
    out: dict[str, float] = {}
    for page, who, paths in (
        ("inbox", REVIEWER, ["/"]),
        ("case", CLERK, [f"/cases/{c}" for c in case_ids]),
        ("catalogue", CLERK, [f"/catalogue?year={year}"]),
    ):
        with TestClient(app) as client:
            _log_in(client, who)
            client.get(paths[0])  # warm: templates compiled, definitions held
            samples = []
            for i in range(RENDERS):
                t = time.perf_counter()
                r = client.get(paths[i % len(paths)])
                samples.append((time.perf_counter() - t) * 1000)
                if r.status_code != 200:
                    raise RuntimeError(f"{paths[i % len(paths)]}: {r.status_code}")
        out[f"{page}_p50"], out[f"{page}_p95"] = _percentiles(samples)
    return out


def add_page_figures(results: Any, Figure: Any, small: dict[str, Any], large: dict[str, Any]) -> None:
    tag = f"{large['decisions']:,} decisions"
    for page, label in (("inbox", "inbox page"), ("case", "decision page"), ("catalogue", "catalogue page")):
        b, a = large[f"{page}_p95"], small[f"{page}_p95"]
        results.add(
            Figure(
                f"web: {label} render p95 at {tag}",
                b,
                "ms",
                a,
                f"p95 at {small['decisions']:,} decisions",
                "≤ 50 ms and ≤ 1.5×",
                b <= 50 and b <= 1.5 * a,
                note=f"p50 {large[f'{page}_p50']:.1f} ms",
            )
        )


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _office_with_executing_decisions(url: str, documents: Path, count: int) -> tuple[Office, list[str]]:
    db = Database(url, documents=documents)
    db.migrate()
    office = Office(db, definitions(), clock=clock)
    workload = load_workload()
    prepare(office, workload)
    ids = [f"L-{i:03d}" for i in range(count)]
    for case_id in ids:
        play(office, case_id, workload.decision, 1024)
    office.set_password(FEEDBACK[1], PASSWORD)
    return office, ids


def load_run(work: Path, sessions: int, actions_each: int) -> dict[str, float]:
    """actions/s through uvicorn on loopback with ``sessions`` concurrent logged-in clients, one
    decision each, and the same actions through `Office` in one process."""
    import httpx
    import uvicorn

    from decisions.web.app import Settings, create_app

    trigger, actor, fields = FEEDBACK
    # baseline: the same actions through the service layer, one process, no HTTP
    office, ids = _office_with_executing_decisions(f"sqlite:///{work / 'load-office.sqlite'}", work / "d1", sessions)
    t = time.perf_counter()
    for _ in range(actions_each):
        for case_id in ids:
            office.act(case_id, trigger, actor, fields)
    service_rate = sessions * actions_each / (time.perf_counter() - t)
    office.cases.db.dispose()  # type: ignore[union-attr]

    office, ids = _office_with_executing_decisions(f"sqlite:///{work / 'load-web.sqlite'}", work / "d2", sessions)
    port = _free_port()
    server = uvicorn.Server(
        uvicorn.Config(create_app(office, Settings(secret="bench")), host="127.0.0.1", port=port, log_level="error")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.05)
    base = f"http://127.0.0.1:{port}"
    failures: list[str] = []
    barrier = threading.Barrier(sessions + 1)

    def session(case_id: str) -> None:
        try:
            with httpx.Client(base_url=base, follow_redirects=True, timeout=60) as client:
                _log_in(client, actor)
                page = client.get(f"/cases/{case_id}").text
                barrier.wait()
                for _ in range(actions_each):
                    version = re.search(r'name="version" value="(\d+)"', page)
                    form = {"csrf": _csrf(page), "action": trigger, "version": version.group(1) if version else ""}
                    form.update({f"f.{k}": v for k, v in fields.items()})
                    r = client.post(f"/cases/{case_id}/act", data=form)  # the redirect to the page is followed
                    if r.status_code != 200:
                        failures.append(f"{case_id}: {r.status_code}")
                        return
                    page = r.text
        except Exception as exc:  # a failed session is reported, not hidden
            failures.append(f"{case_id}: {exc!r}")
            barrier.abort()

    threads = [threading.Thread(target=session, args=(c,)) for c in ids]
    for th in threads:
        th.start()
    barrier.wait()
    t = time.perf_counter()
    for th in threads:
        th.join()
    elapsed = time.perf_counter() - t
    server.should_exit = True
    thread.join(timeout=10)
    stored = sum(office.cases.view(c).version for c in ids)
    expected = sum(len(load_workload().decision) + actions_each for _ in ids)
    if failures or stored != expected:
        raise RuntimeError(f"load run lost or refused actions: {failures[:3]}, {stored} of {expected} stored")
    return {
        "sessions": sessions,
        "actions": sessions * actions_each,
        "web_rate": sessions * actions_each / elapsed,
        "service_rate": service_rate,
    }


def add_load_figure(results: Any, Figure: Any, load: dict[str, float]) -> None:
    results.add(
        Figure(
            f"web: actions/s, {load['sessions']:.0f} concurrent sessions on loopback (each action's page rendered)",
            load["web_rate"],
            "actions/s",
            load["service_rate"],
            "the same actions through Office, one process",
            note=f"{load['actions']:.0f} actions, every one stored",
        )
    )


def measure_web_scale(
    results: Any, Figure: Any, work: Path, small: int, large: int, generate: Callable[..., Any]
) -> None:
    sizes = {}
    for label, n in (("small", small), ("large", large)):
        db, _events, office = generate(f"sqlite:///{work / f'web-{label}.sqlite'}", work / f"wdocs-{label}", n)
        ids = [f"G-{i:06d}" for i in range(0, n, max(n // 60, 1))]
        sizes[label] = {"decisions": n, **measure_pages(office, ids, 2025)}
        db.dispose()
    add_page_figures(results, Figure, sizes["small"], sizes["large"])


def main() -> None:
    from bench.__main__ import Figure, Results, write_report
    from bench.scale import generate_history

    parser = argparse.ArgumentParser(prog="python -m bench.web")
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    results = Results("web-quick" if args.quick else "web")
    started = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        small, large = (300, 1500) if args.quick else (1000, 100_000)
        measure_web_scale(results, Figure, work, small, large, generate_history)
        add_load_figure(results, Figure, load_run(work, 4 if args.quick else 8, 5 if args.quick else 20))
    write_report(results, time.perf_counter() - started)


if __name__ == "__main__":
    main()

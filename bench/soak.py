"""The soak run (issue 17, item 5; documented in docs/reliability.md, not in CI): mixed load on one
PostgreSQL database for N minutes, then `decisions audit verify`.

- CLI workers: each plays the demo's bus-fare decision (``bench.workload``) under a case id of its
  own, one ``decisions start`` / ``decisions act`` subprocess per step, with its documents as files,
  and now and then a ``decisions show`` and a ``decisions audit verify``;
- web sessions: ``decisions serve`` (uvicorn on loopback, a subprocess) and several httpx sessions,
  each playing decisions of its own through the pages (start and act forms with their documents,
  every person logged in with a client of their own), reading the inbox, the case page and the
  JSON API between steps, and now and then posting an action twice (the second is refused). The
  web acts today (a form has no day), so a decision goes off the catalogue and as far as the
  demo's periods allow (proposal, launch, draft: the consultation's 30 days then refuse it, 422,
  counted), and the next one is started;
- at the end the server is stopped, ``decisions audit verify --json`` runs on the database, and the
  counts (steps accepted by each channel, refusals, errors) and every finding are printed.

    .venv/bin/python -m bench.soak --minutes 3 [--cli 2] [--web 4] [--db postgresql://...]

Exit status 0 when verify is clean and no request failed unexpectedly (a 5xx, a traceback, an
exit code other than a refusal's). Without ``--db``, a fresh database is made on
``$DECISIONS_TEST_PG`` (default 127.0.0.1:5432, user postgres) and dropped afterwards.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter
from pathlib import Path
from typing import Any

import httpx

from bench.workload import ROOT, attachments, definitions, load_workload, prepare
from decisions.loading.scenarios import Step
from decisions.service.office import Office
from decisions.store.database import Database

PG_SERVER = os.environ.get("DECISIONS_TEST_PG", "postgresql://postgres@127.0.0.1:5432/test")
PASSWORD = "soak run password"
DECISIONS = str(Path(sys.executable).parent / "decisions")


class Tally:
    """Counts shared by the workers, and the unexpected failures with what they said."""

    def __init__(self) -> None:
        self.counts: Counter[str] = Counter()
        self.failures: list[str] = []
        self.lock = threading.Lock()

    def add(self, key: str, n: int = 1) -> None:
        with self.lock:
            self.counts[key] += n

    def fail(self, what: str) -> None:
        text = " ".join(re.sub(r"<[^>]*>", " ", what).split())  # a page's words, without its markup
        with self.lock:
            self.failures.append(text[:500])


def fresh_database() -> tuple[str, Any]:
    import psycopg

    name = f"soak_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(PG_SERVER, autocommit=True, connect_timeout=5) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')

    def drop() -> None:
        with psycopg.connect(PG_SERVER, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    return PG_SERVER.rsplit("/", 1)[0] + "/" + name, drop


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def run_cli(args: list[str], url: str, tally: Tally, what: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "DECISIONS_DATABASE_URL": url, "DECISIONS_LANG": "en"}
    done = subprocess.run([DECISIONS, *args], capture_output=True, text=True, env=env, cwd=ROOT, timeout=300)
    tally.add(f"cli {what} exit {done.returncode}")
    if done.returncode not in (0, 1, 2, 3, 5) or "Traceback" in done.stderr:
        tally.fail(f"cli {' '.join(args[:3])}: exit {done.returncode}: {done.stderr.strip()[-300:]}")
    return done


def cli_worker(n: int, url: str, steps: tuple[Step, ...], until: float, tally: Tally, files: Path) -> None:
    round_ = 0
    while time.monotonic() < until:
        round_ += 1
        case_id = f"D-2025-{n}{round_:03d}"
        for i, step in enumerate(steps):
            if time.monotonic() >= until:
                return
            args = ["start", step.name] if step.kind == "start" else ["act", case_id, step.name]
            args += ["--as", step.actor, "--on", str(step.on)]
            if step.kind == "start":
                args += ["--id", case_id]
            for k, v in step.fields.items():
                args += ["--set", f"{k}={v}"]
            for kind, data, name in attachments(case_id, i, step, 4096):
                path = files / f"{case_id}-{i}-{name}"
                path.write_bytes(data)
                args += ["--attach", f"{kind}={path}"]
            done = run_cli(args, url, tally, "step")
            if done.returncode != 0:
                tally.fail(f"cli step {step.name} of {case_id} refused: {done.stderr.strip()[-300:]}")
                break
            tally.add("cli steps accepted")
            if i % 8 == 0:
                run_cli(["show", case_id], url, tally, "show")
        if round_ % 2 == 0:
            run_cli(["audit", "verify"], url, tally, "verify")


class Browser:
    """One person's logged-in httpx session against the server."""

    def __init__(self, base: str, name: str) -> None:
        self.client = httpx.Client(base_url=base, follow_redirects=False, timeout=120)
        token = self.token("/login")
        r = self.client.post("/login", data={"name": name, "password": PASSWORD, "csrf": token, "next": "/"})
        if r.status_code != 303:
            raise RuntimeError(f"{name} cannot log in: {r.status_code}")

    def token(self, page: str) -> str:
        found = re.search(r'name="csrf" value="([^"]+)"', self.client.get(page).text)
        if not found:
            raise RuntimeError(f"no CSRF token on {page}")
        return found.group(1)


def check(r: httpx.Response, what: str, tally: Tally) -> None:
    tally.add(f"web {what} {r.status_code}")
    if r.status_code >= 500 or "Traceback" in r.text:
        tally.fail(f"web {what}: {r.status_code}: {r.text[:300]}")


def web_worker(n: int, base: str, steps: tuple[Step, ...], until: float, tally: Tally) -> None:
    browsers: dict[str, Browser] = {}
    round_ = 0
    while time.monotonic() < until:
        round_ += 1
        case_id = ""
        if round_ % 10 == 0 and browsers:
            b = next(iter(browsers.values()))
            check(b.client.post("/audit/verify", data={"csrf": b.token("/audit")}), "verify", tally)
        for i, step in enumerate(steps):
            if time.monotonic() >= until:
                return
            b = browsers.get(step.actor) or browsers.setdefault(step.actor, Browser(base, step.actor))
            fields = dict(step.fields)
            if (
                "catalogue_item" in fields and step.kind != "start"
            ):  # acted today, where no catalogue is published: off the catalogue
                fields = {k: v for k, v in fields.items() if k != "catalogue_item"}
                fields["off_catalogue_reason"] = "突发事件应对"
            form = {f"f.{k}": str(v) for k, v in fields.items()}
            files = [
                (f"d.{kind}", (name, data, "application/pdf"))
                for kind, data, name in attachments(f"web-{n}-{round_}", i, step, 4096)
            ]
            if step.kind == "start":
                # a start takes its day from the clock: the demo's own day is kept by the CLI workers
                url = f"/start/{step.name}"
                r = b.client.post(url, data={**form, "csrf": b.token("/start")}, files=files)
                check(r, "start", tally)
                if r.status_code != 303:
                    tally.fail(f"web start refused: {r.status_code} {r.text.split('<main', 1)[-1][:1500]}")
                    break
                case_id = r.headers["location"].rsplit("/", 1)[1]
            else:
                page = f"/cases/{case_id}"
                version = re.search(r'name="version" value="(\d+)"', b.client.get(page).text)
                data = {**form, "action": step.name, "csrf": b.token(page)}
                if version:
                    data["version"] = version.group(1)
                r = b.client.post(f"{page}/act", data=data, files=files)
                check(r, "act", tally)
                if r.status_code == 422:  # a period the demo's dates keep, which acting today cannot
                    tally.add("web decisions left at a rule's refusal")
                    break
                if r.status_code != 303:
                    tally.fail(f"web {step.name} of {case_id}: {r.status_code} {r.text[:200]}")
                    break
                if version and i == 1:  # the same form posted again: a stale version, refused
                    again = b.client.post(f"{page}/act", data=data, files=files)
                    check(again, "act twice", tally)
                    if again.status_code == 303:
                        tally.fail(f"web {step.name} of {case_id} accepted twice")
            tally.add("web steps accepted")
            if i % 3 == 0:
                check(b.client.get(f"/cases/{case_id}"), "case page", tally)
                check(b.client.get("/catalogue"), "catalogue page", tally)
            check(b.client.get("/"), "inbox", tally)
            check(b.client.get("/api/inbox"), "api inbox", tally)
            check(b.client.get(f"/api/cases/{case_id}"), "api case", tally)


def wait_for(port: int, server: subprocess.Popen[str]) -> None:
    for _ in range(300):
        if server.poll() is not None:
            raise RuntimeError(f"decisions serve stopped: {server.stderr.read() if server.stderr else ''}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError("decisions serve did not listen within 60 s")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--minutes", type=float, default=3.0)
    parser.add_argument("--cli", type=int, default=2, help="CLI workers (subprocesses one at a time each)")
    parser.add_argument("--web", type=int, default=4, help="web sessions (httpx) against one server")
    parser.add_argument("--db", help="a PostgreSQL URL (default: a fresh database, dropped afterwards)")
    args = parser.parse_args()
    url, drop = (args.db, None) if args.db else fresh_database()
    tally = Tally()
    started = time.monotonic()
    server: subprocess.Popen[str] | None = None
    try:
        database = Database(url)
        database.migrate()
        office = Office(database, definitions())
        workload = load_workload()
        prepare(office, workload)
        for person in workload.people:
            office.set_password(person.name, PASSWORD)
        database.dispose()
        port = free_port()
        env = {**os.environ, "DECISIONS_DATABASE_URL": url, "DECISIONS_WEB_SECRET": uuid.uuid4().hex}
        server = subprocess.Popen(
            [DECISIONS, "serve", "--port", str(port)], env=env, cwd=ROOT, stderr=subprocess.PIPE, text=True
        )
        wait_for(port, server)
        until = time.monotonic() + args.minutes * 60
        steps = workload.decision
        with tempfile.TemporaryDirectory() as tmp:
            workers = [
                threading.Thread(target=cli_worker, args=(n + 1, url, steps, until, tally, Path(tmp)))
                for n in range(args.cli)
            ]
            workers += [
                threading.Thread(target=web_worker, args=(n, f"http://127.0.0.1:{port}", steps, until, tally))
                for n in range(args.web)
            ]
            for w in workers:
                w.start()
            for w in workers:
                w.join()
        server.terminate()
        server.wait(30)
        load = time.monotonic() - started
        verify = subprocess.run(
            [DECISIONS, "audit", "verify", "--json"],
            capture_output=True,
            text=True,
            env={**os.environ, "DECISIONS_DATABASE_URL": url},
            cwd=ROOT,
            timeout=3600,
        )
        report = json.loads(verify.stdout) if verify.stdout.strip().startswith("{") else {"raw": verify.stdout}
    finally:
        if server is not None and server.poll() is None:
            server.kill()
        if drop is not None:
            drop()
    print(f"soak: {args.minutes} min of load, {args.cli} CLI workers, {args.web} web sessions, PostgreSQL")
    print(f"load and set-up took {load:.0f} s; audit verify exit {verify.returncode}")
    for key, n in sorted(tally.counts.items()):
        print(f"  {key}: {n}")
    summary = {k: v for k, v in report.items() if k != "findings"}
    print("verify:", json.dumps(summary, ensure_ascii=False))
    findings = report.get("findings") or []
    print(f"findings: {len(findings)}")
    for f in findings[:50]:
        print("  ", json.dumps(f, ensure_ascii=False))
    print(f"unexpected failures: {len(tally.failures)}")
    for f in tally.failures[:50]:
        print("  ", f)
    return 0 if verify.returncode == 0 and not tally.failures and not findings else 1


if __name__ == "__main__":
    sys.exit(main())

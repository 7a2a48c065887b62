"""PostgreSQL stopped and restarted during a stream of actions (issue 17, item 4).

On a throwaway cluster of its own (`initdb` on another port, run as the ``postgres`` user), never the
shared test server. The server is stopped between two actions, and once in the middle of one (just
before its event is inserted): each time the action fails with one clear error (exit 6), nothing of it
is written, and after the server is started again the same office, never restarted, acts again and
succeeds; the history verifies and holds every acknowledged action once. Skipped where no PostgreSQL
binaries or no root (to run the server as ``postgres``) are available.
"""

from __future__ import annotations

import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event, func, select

from decisions.cli import exit_code
from decisions.definitions import Definitions
from decisions.errors import StoreError
from decisions.model import Action
from decisions.service.audit import AuditService
from decisions.service.cases import CaseService
from decisions.store.database import Database
from decisions.store.tables import EventRow
from tests.stores import fixed_clock, play, supplied_catalogue
from tests.support import MAIN_PATH, PEOPLE

EVENTS = EventRow.__table__  # type: ignore[attr-defined]
PLAYED = 3


@dataclass
class Cluster:
    bin: Path
    data: Path
    port: int
    log: Path

    @property
    def url(self) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/postgres"

    def ctl(self, *args: str) -> None:
        options = f"-p {self.port} -k {self.data.parent} -c listen_addresses=127.0.0.1 -c fsync=off"
        pg_ctl = [str(self.bin / "pg_ctl"), "-D", str(self.data), "-l", str(self.log), "-o", options, "-w", "-t", "60"]
        subprocess.run(["runuser", "-u", "postgres", "--", *pg_ctl, *args], check=True, capture_output=True)

    def stop(self) -> None:
        self.ctl("-m", "immediate", "stop")

    def start(self) -> None:
        self.ctl("start")


def _postgres_bin() -> Path | None:
    found = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"))
    return found[-1].parent if found else None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def cluster() -> Iterator[Cluster]:
    pg_bin = _postgres_bin()
    if pg_bin is None or os.geteuid() != 0 or shutil.which("runuser") is None:
        pytest.skip("needs the PostgreSQL server binaries and root (to run a cluster of its own as postgres)")
    try:
        owner = pwd.getpwnam("postgres")
    except KeyError:
        pytest.skip("no postgres user to run a cluster of its own")
    base = Path(tempfile.mkdtemp(prefix="decisions-pg-", dir="/tmp"))
    os.chmod(base, 0o755)
    os.chown(base, owner.pw_uid, owner.pw_gid)
    data = base / "data"
    initdb = [str(pg_bin / "initdb"), "-D", str(data), "-A", "trust", "-U", "postgres", "-E", "UTF8", "--no-sync"]
    subprocess.run(["runuser", "-u", "postgres", "--", *initdb], check=True, capture_output=True)
    c = Cluster(pg_bin, data, _free_port(), base / "log")
    c.start()
    try:
        yield c
    finally:
        subprocess.run(
            ["runuser", "-u", "postgres", "--", str(pg_bin / "pg_ctl"), "-D", str(data), "-m", "immediate", "stop"],
            capture_output=True,
            check=False,
        )
        shutil.rmtree(base, ignore_errors=True)


def step(service: CaseService, index: int) -> Action:
    s = MAIN_PATH[index]
    docs = tuple(service.attach(k, f"{k} #{index}".encode(), f"{k}.pdf") for k in s.docs)
    return Action(s.trigger, PEOPLE[s.actor], s.on, dict(s.fields), docs)


def events(db: Database) -> int:
    with db.read() as conn:
        return int(conn.execute(select(func.count()).select_from(EVENTS)).scalar_one())


def test_a_restart_between_and_during_actions_is_a_clear_error_and_the_office_goes_on(
    cluster: Cluster, tmp_path: Path, definitions: Definitions
) -> None:
    db = Database(cluster.url, documents=tmp_path / "documents")
    db.migrate()
    service = CaseService(db, definitions, clock=fixed_clock, outside=supplied_catalogue)
    play(service, "D-1", MAIN_PATH[:PLAYED])

    # stopped between two actions
    action = step(service, PLAYED)
    cluster.stop()
    started = time.monotonic()
    with pytest.raises(StoreError) as down:
        service.act("D-1", action)
    assert exit_code(down.value) == 6 and time.monotonic() - started < 30
    cluster.start()
    service.act("D-1", action)  # the same office: its pool reconnects
    assert events(db) == PLAYED + 1

    # stopped in the middle of an action, just before its event is inserted
    action = step(service, PLAYED + 1)
    stopped: list[bool] = []

    def stop_before_the_event(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        if not stopped and statement.lstrip().upper().startswith("INSERT INTO EVENTS"):
            stopped.append(True)
            cluster.stop()

    event.listen(db.engine, "before_cursor_execute", stop_before_the_event)
    try:
        with pytest.raises(StoreError) as lost:
            service.act("D-1", action)
    finally:
        event.remove(db.engine, "before_cursor_execute", stop_before_the_event)
    assert stopped and exit_code(lost.value) == 6
    cluster.start()
    assert events(db) == PLAYED + 1  # nothing of the interrupted action was written
    service.act("D-1", action)
    assert events(db) == PLAYED + 2
    report = AuditService(service).verify()
    assert report.ok and report.events == PLAYED + 2, report.findings
    db.dispose()

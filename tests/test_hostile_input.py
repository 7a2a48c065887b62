"""Bad input at every door of the command line: one clear error, nothing written, nothing outside read or written.

Every option of ``propose``, ``act``, ``user add``, ``catalogue open``, ``show``, ``inbox`` and the global
``--db`` and ``--lang`` gets hostile values: 100 000 characters, control characters (NUL, an ANSI colour
escape, the right-to-left override U+202E), undecodable bytes (what Python makes of a non-UTF-8 argument:
lone surrogates, as ``os.fsdecode`` gives them), dates far in the past and future and around the leap day,
numbers of 1000 digits, and, for ``--attach``, an empty file, a sparse file just over the document limit,
a directory, a FIFO and /dev/zero (which must not hang), a path climbing out with ``../``, a symlink
pointing outside, /etc/shadow, dangling and looping symlinks and a file name with an escape sequence.

For each: the exit code is 2 (usage) or 3 (refused by the procedure), or 6 for an unusable ``--db``; the
message is one line (a refusal: its header and one line per unmet rule), with no traceback and no raw
control character (a terminal must not be recoloured or cleared by an error message); nothing goes to
stdout; and nothing was written: every row of every table, the document store and the working directory
(names, sizes and times of every file) are the same before and after.

The office: SQLite for every case, PostgreSQL for the cases that reach the database with the value.
The bugs this suite found are fixed (see docs/reliability.md); none is pinned as an xfail any more.

Attachment paths are read because the person acting named them (`read_attachment` opens any path the
process may read: /etc/passwd, /etc/shadow as root, a symlink's target). `test_an_accepted_attachment_*`
shows what happens then: the bytes are filed under their SHA-256 inside the document store, the record
keeps only the base name, and nothing is written anywhere else.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import time
import unicodedata
from collections.abc import Generator, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NamedTuple, cast

import pytest
from typer.testing import CliRunner

from decisions.cli import app, exit_code
from decisions.errors import DecisionsError
from decisions.service import CaseService
from decisions.store.database import Database
from decisions.store.documents import MAX_DOCUMENT_BYTES
from tests.cli_support import definitions_parsed_once, every_row
from tests.stores import new_database_url, play, supplied_catalogue
from tests.support import MAIN_PATH, MEETING, VIEWS_APPROVE, report_count, shipped_definitions
from tests.support import V as V_

runner = CliRunner()
EXECUTABLE = str(Path(sys.executable).parent / "decisions")
D1 = "D-2025-001"
D2 = "D-2025-002"  # proposed, not launched: its launch takes a list of units
V = "⟨v⟩"  # where a hostile value goes in a command


@pytest.fixture(scope="module", autouse=True)
def parse_definitions_once() -> Iterator[None]:
    """~500 invocations fit the time budget; the subprocess tests run the installed command unchanged."""
    with definitions_parsed_once():
        yield


# -- the hostile values -------------------------------------------------------------------------------

STRINGS: dict[str, str] = {
    "long": "x" * 100_000,
    "nul": "a\x00b",
    "ansi": "\x1b[31mred\x1b[0m",
    "rtl": "abc\u202etxt.exe",
    "undecodable": os.fsdecode(b"\xff\xfe"),  # a non-UTF-8 argument, as Python hands it over
}
DATES: dict[str, str] = {
    "year1": "0001-01-01",
    "year9999": "9999-12-31",
    "before-prc": "1949-09-30",
    "year2101": "2101-01-01",
    "feb29-2025": "2025-02-29",
    "feb29-2100": "2100-02-29",
    "feb29-1900": "1900-02-29",
    "feb30-2024": "2024-02-30",
}
DIGITS = {"digits1000": "9" * 1000}
NESTED = {  # JSON nested past any use: the parser must not be reached (2 000 ``[`` exceed its recursion limit)
    "nested2000": "[" * 2000,
    "nested2000-closed": "[" * 2000 + "]" * 2000,
    "objects1000": '[{"a":' * 1000,
    "list-in-list": '[["县交通运输局"]]',
    "numbers": "[1, 2]",
}

# Commands that would succeed but for the value at V (dates on or after the case's last event, 2025-03-04).
PROPOSE = ("propose", "--as", "李明", "--on", "2025-03-05", "--set", "category=public_policy", "--set", "source=leader")
REASSESS = ("act", D1, "reassess_attributes", "--as", "李明", "--on", "2025-03-06")
SUBMIT = ("act", D1, "submit_draft", "--as", "李明", "--on", "2025-03-06")
OPEN = ("catalogue", "open", "2025", "--as", "陈秘书", "--on", "2025-03-06")
OPEN_DOCS = ("--set", "deadline=2025-04-01", "--attach", "call_notice={file}")

DOORS: dict[str, tuple[str, ...]] = {
    "propose --as": ("propose", "--as", V, *PROPOSE[3:], "--set", "title=T"),
    "propose --on": (*PROPOSE[:3], "--on", V, *PROPOSE[5:], "--set", "title=T"),
    "propose --id": (*PROPOSE, "--set", "title=T", "--id", V),
    "propose --set title": (*PROPOSE, "--set", f"title={V}"),
    "propose --set category": (*PROPOSE[:5], "--set", f"category={V}", "--set", "source=leader", "--set", "title=T"),
    "propose --set NAME": (*PROPOSE, "--set", "title=T", "--set", f"{V}=1"),
    "act CASE": ("act", V, *REASSESS[2:], "--set", "reason=R"),
    "act ACTION": ("act", D1, V, *REASSESS[3:], "--set", "reason=R"),
    "act --as": (*REASSESS[:3], "--as", V, *REASSESS[5:], "--set", "reason=R"),
    "act --on": (*REASSESS[:5], "--on", V, "--set", "reason=R"),
    "act --set text": (*REASSESS, "--set", f"reason={V}"),
    "act --set boolean": (*REASSESS, "--set", "reason=R", "--set", f"technical={V}"),
    "act --set date": (
        *("act", D1, "open_consultation", "--as", "李明", "--on", "2025-03-06"),
        *("--set", f"comment_deadline={V}", "--set", "channels=政府网站", "--attach", "consultation_notice={file}"),
    ),
    "act --role": (*REASSESS, "--set", "reason=R", "--role", V),
    "act --set list": (
        *("act", D2, "launch", "--as", "王县长", "--on", "2025-03-06", "--set", "organiser_unit=县交通运输局"),
        *("--set", "off_catalogue_reason=R", "--set", f"units={V}", "--attach", "launch_decision={file}"),
    ),
    "act --attach KIND": (*SUBMIT, "--attach", f"{V}={{file}}"),
    "act --attach PATH": (*SUBMIT, "--attach", f"draft={V}"),
    "act --expect-version": (*REASSESS, "--set", "reason=R", "--expect-version", V),
    "user add NAME": ("user", "add", V, "--role", "head", "--as", "管理员"),
    "user add --role": ("user", "add", "新人", "--role", V, "--as", "管理员"),
    "user add --unit": ("user", "add", "新人", "--role", "head", "--unit", V, "--as", "管理员"),
    "catalogue open YEAR": ("catalogue", "open", V, *OPEN[3:], *OPEN_DOCS),
    "catalogue open --as": (*OPEN[:3], "--as", V, *OPEN[5:], *OPEN_DOCS),
    "catalogue open --on": (*OPEN[:5], "--on", V, *OPEN_DOCS),
    "catalogue open --set": (*OPEN, "--set", f"deadline={V}", "--attach", "call_notice={file}"),
    "catalogue open --attach": (*OPEN, "--set", "deadline=2025-04-01", "--attach", f"call_notice={V}"),
    "show CASE": ("show", V),
    "show --as": ("show", D1, "--as", V),
    "inbox --as": ("inbox", "--as", V),
    "inbox --limit": ("inbox", "--as", "李明", "--limit", V),
    "--lang": ("--lang", V, "show", D1),
    "--db": ("show", D1, "--db", V),
}
# Which doors get which values beyond every string: dates where dates go, 1000 digits where numbers go.
DATE_DOORS = ("propose --on", "act --on", "act --set date", "catalogue open --on", "catalogue open --set")
DIGIT_DOORS = (
    *("propose --on", "propose --id", "act CASE", "act --on", "act --set boolean", "act --expect-version"),
    *("user add NAME", "catalogue open YEAR", "inbox --limit", "show CASE"),
)
# The doors where the value reaches the database as a query parameter: these also run on PostgreSQL.
LOOKUPS = ("propose --as", "act CASE", "act --as", "catalogue open --as", "show CASE", "show --as", "inbox --as")
TEXT_FIELDS = ("propose --set title", "act --set text")

# Attachment files: each made by `make_files`; {name} in a command becomes its path.
FILES = {
    "empty": "an empty file",
    "huge": "a sparse file one byte over the document limit",
    "directory": "a directory",
    "missing": "a path that does not exist",
    "dangling": "a symlink to nothing",
    "loop": "a symlink to itself",
    "escape_name": "a regular file whose name holds an escape sequence",
}


# Readable files outside the store, named through files/a/../../(...)/etc/passwd, a symlink and directly: read
# because the person named them, then the action is refused (a date in the future), so nothing is stored.
OUTSIDE_TARGETS = {"traversal": "/etc/passwd", "symlink_out": "/etc/hostname", "shadow": "/etc/shadow"}


@dataclass(frozen=True)
class Case:
    id: str
    args: tuple[str, ...]
    codes: frozenset[int] = frozenset({2, 3})
    postgres: bool = False


def _fill(args: tuple[str, ...], value: str) -> tuple[str, ...]:
    return tuple(a.replace(V, value) for a in args)


def _cases() -> list[Case]:
    cases: list[Case] = []
    for door, args in DOORS.items():
        values = dict(STRINGS)
        if door in DATE_DOORS:
            values.update(DATES)
        if door in DIGIT_DOORS:
            values.update(DIGITS)
        if door == "act --set list":
            values.update(NESTED)
        for kind, value in values.items():
            if door == "--db":
                value = f"sqlite:///{value}" if kind != "undecodable" else value
            codes = {2, 3}
            if door == "--db":
                codes = {2, 6}
            cases.append(Case(f"{door} {kind}", _fill(args, value), frozenset(codes), door in LOOKUPS))
    for db_id, url in {
        "directory": "sqlite:///{dir}",
        "not-a-database": "sqlite:////etc/passwd",
        "dev-zero": "sqlite:////dev/zero",
        "memory": "sqlite:///:memory:",
        "relative-missing": "sqlite:///no/such/dir/x.sqlite",
        "unknown-scheme": "mysql+nothing://x/y",
        "malformed": "postgresql://x@[::1/db",
        "empty-host": "postgresql://",
    }.items():
        cases.append(Case(f"--db {db_id}", ("show", D1, "--db", url), frozenset({2, 6})))
    for name in FILES:
        for door in ("act --attach PATH", "catalogue open --attach"):
            cases.append(Case(f"{door} {name}", _fill(DOORS[door], f"{{{name}}}")))
    for name, target in OUTSIDE_TARGETS.items():
        args = (*SUBMIT[:5], "--on", "2099-12-31", "--attach", f"draft={{{name}}}")
        readable = os.access(target, os.R_OK)  # else: one clear "cannot read" (not root, or no such file)
        cases.append(Case(f"act --attach PATH {name} ({'read, ' if readable else ''}refused)", args, frozenset({2})))
    return cases


CASES = _cases()
PARAMS = [pytest.param("sqlite", c, id=f"sqlite-{c.id}") for c in CASES] + [
    pytest.param("postgres", c, id=f"postgres-{c.id}") for c in CASES if c.postgres
]


# -- driving the CLI ----------------------------------------------------------------------------------


class Run(NamedTuple):
    code: int
    out: str
    err: str
    decisions_error: bool


def run(args: list[str], env: Mapping[str, str | None]) -> Run:
    """In-process, translating a `DecisionsError` as `decisions.cli.main` does; anything else is raised."""
    result = runner.invoke(app, args, env=dict(env))
    exc = result.exception
    if isinstance(exc, DecisionsError):
        return Run(exit_code(exc), result.stdout, str(exc), True)
    if exc is not None and not isinstance(exc, SystemExit):
        raise exc
    return Run(result.exit_code, result.stdout, result.stderr, False)


def _listing(root: Path, exclude: tuple[str, ...] = ()) -> list[tuple[str, int, int]]:
    """Every file and directory below ``root`` as (path, size, mtime), but those whose path starts with one
    of ``exclude``."""
    out = []
    for p in sorted(root.rglob("*")):
        rel = str(p.relative_to(root))
        if rel.startswith(exclude) and exclude:
            continue
        st = p.lstat()
        out.append((rel, 0 if p.is_dir() else st.st_size, st.st_mtime_ns))
    return out


@dataclass
class Office:
    """A small office: three people and one decision being drafted (D-2025-001)."""

    backend: str
    url: str
    work: Path  # the working directory of every invocation
    documents: Path
    paths: dict[str, str] = field(default_factory=dict)
    baseline: dict[str, Any] = field(default_factory=dict)

    def env(self) -> dict[str, str | None]:
        return {
            "DECISIONS_DOCUMENTS": str(self.documents),
            "DECISIONS_USER": None,
            "DECISIONS_DATABASE_URL": None,
            "DECISIONS_CONFIG": None,
        }

    def args(self, args: tuple[str, ...]) -> list[str]:
        named = re.compile(r"\{(" + "|".join(map(re.escape, self.paths)) + r")\}") if self.paths else None
        out = [named.sub(lambda m: self.paths[m[1]], a) if named and V not in a else a for a in args]
        return out if "--db" in out else [*out, "--db", self.url]

    def __call__(self, *args: str) -> Run:
        return run(self.args(args), self.env())

    def ok(self, *args: str) -> Run:
        r = self(*args)
        assert r.code == 0, (args, r)
        return r

    def snapshot(self) -> dict[str, Any]:
        return {
            "tables": every_row(self.url, self.documents),
            "store": _listing(self.documents),
            # the database is compared row by row, the store above
            "work": _listing(self.work, exclude=("office.sqlite", self.documents.name)),
        }


def make_files(root: Path) -> dict[str, str]:
    files = root / "files"
    files.mkdir(parents=True)
    (files / "启动决定.txt").write_bytes("启动决定（测试）\n".encode())
    (files / "empty.pdf").write_bytes(b"")
    huge = files / "huge.pdf"
    with huge.open("wb") as f:
        f.truncate(MAX_DOCUMENT_BYTES + 1)  # sparse: no disk used, no byte read
    (files / "a-directory.pdf").mkdir()
    (files / "dangling.pdf").symlink_to(root / "nowhere.pdf")
    (files / "loop.pdf").symlink_to(files / "loop.pdf")
    (files / "escape\x1b[2Jname.pdf").write_bytes(b"clears the screen")
    (files / "outside.pdf").symlink_to("/etc/hostname")
    (files / "fifo.pdf").parent.mkdir(exist_ok=True)
    os.mkfifo(files / "fifo.pdf")
    (files / "a").mkdir()
    return {
        "file": str(files / "启动决定.txt"),
        "empty": str(files / "empty.pdf"),
        "huge": str(huge),
        "directory": str(files / "a-directory.pdf"),
        "missing": str(files / "no-such-file.pdf"),
        "dangling": str(files / "dangling.pdf"),
        "loop": str(files / "loop.pdf"),
        "escape_name": str(files / "escape\x1b[2Jname.pdf"),
        "traversal": str(files) + "/a/" + "../" * 12 + "etc/passwd",
        "symlink_out": str(files / "outside.pdf"),
        "shadow": "/etc/shadow",
        "fifo": str(files / "fifo.pdf"),
        "dir": str(files),
    }


def set_up(office: Office) -> None:
    office.ok("init")
    office.ok("user", "add", "管理员", "--admin")  # the first people administrator adds themselves
    office.ok("unit", "add", "县交通运输局", "县人民政府", "县政府办", "--as", "管理员")
    admin = ("--as", "管理员")
    office.ok("user", "add", "李明", "--role", "organiser", "--role", "proposer", "--unit", "县交通运输局", *admin)
    office.ok("user", "add", "王县长", "--role", "head", "--unit", "县人民政府", *admin)
    office.ok("user", "add", "陈秘书", "--role", "office_clerk", "--unit", "县政府办", *admin)
    office.ok(*PROPOSE[:3], "--on", "2025-03-03", *PROPOSE[5:], "--set", "title=城区公交票价调整", "--id", D1)
    office.ok(
        *("act", D1, "launch", "--as", "王县长", "--on", "2025-03-04", "--set", "organiser_unit=县交通运输局"),
        *("--set", "off_catalogue_reason=群众反映强烈", "--attach", "launch_decision={file}"),
    )
    office.ok(*PROPOSE, "--set", "title=城区停车收费调整", "--id", D2)


class Offices:
    """One office per backend, made on first use."""

    def __init__(self, factory: pytest.TempPathFactory) -> None:
        self.factory = factory
        self.made: dict[str, Office] = {}
        self.closers: list[Generator[str, None, None]] = []

    def get(self, backend: str) -> Office:
        if backend not in self.made:
            tmp = self.factory.mktemp(f"hostile-{backend}")
            urls = new_database_url(backend, tmp)
            url = next(urls)
            self.closers.append(cast(Generator[str, None, None], urls))
            if backend == "sqlite":
                url = f"sqlite:///{tmp / 'office.sqlite'}"
            office = Office(backend, url, tmp, tmp / "documents", make_files(tmp))
            previous = Path.cwd()
            os.chdir(tmp)
            try:
                set_up(office)
            finally:
                os.chdir(previous)
            office.baseline = office.snapshot()
            self.made[backend] = office
        return self.made[backend]


@pytest.fixture(scope="module")
def offices(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Offices]:
    made = Offices(tmp_path_factory)
    yield made
    for urls in made.closers:
        urls.close()


# -- judging ------------------------------------------------------------------------------------------


def raw_controls(message: str) -> list[str]:
    """Characters a terminal acts on rather than shows (bar the newline between a refusal's lines)."""
    return [
        repr(c) for c in message if c != "\n" and (unicodedata.category(c) in ("Cc", "Cf") or c in ("\u2028", "\u2029"))
    ]


def check_message(r: Run, case: Case) -> None:
    assert r.code in case.codes, f"exit {r.code}, expected {sorted(case.codes)}: {r.err[:500]}"
    assert r.out == "", f"stdout is not empty: {r.out[:300]!r}"
    assert "Traceback" not in r.err, r.err[-2000:]
    assert r.err.strip(), "no message"
    if not r.decisions_error:  # a click usage error: its usage line and a framed message
        assert r.code == 2 and ("Invalid value" in r.err or "No such" in r.err or "Missing" in r.err), r.err
        return
    lines = r.err.strip().splitlines()
    if r.code == 3:  # a header, then one line per unmet requirement
        assert lines[0].startswith("操作被拒绝 / action refused: "), lines[0][:200]
        assert all(line.startswith("  - [") for line in lines[1:]), lines
    else:
        assert len(lines) == 1, f"{len(lines)} lines: {r.err[:500]!r}"
    assert not raw_controls(r.err), f"raw control characters in the message: {raw_controls(r.err)[:5]}"


@pytest.mark.parametrize("backend, case", PARAMS)
def test_hostile_value_is_one_clear_error_and_writes_nothing(
    offices: Offices, backend: str, case: Case, monkeypatch: pytest.MonkeyPatch
) -> None:
    office = offices.get(backend)
    monkeypatch.chdir(office.work)
    start = time.perf_counter()
    r = office(*case.args)
    elapsed = time.perf_counter() - start
    after = office.snapshot()
    wrote, office.baseline = after != office.baseline, after  # a leftover is this case's finding only
    assert not wrote, f"something was written (exit {r.code}: {r.err[:300]})"
    check_message(r, case)
    assert elapsed < 10, f"took {elapsed:.1f} s"
    for target in ("/etc/passwd", "/dev/zero", str(office.work / "no")):  # no SQLite sidecar outside
        assert not any(Path(target + s).exists() for s in ("-wal", "-shm", "-journal")), target


def test_the_number_of_hostile_cases() -> None:
    sqlite = len(CASES)
    postgres = sum(c.postgres for c in CASES)
    report_count(f"[hostile input] {sqlite + postgres} cases: {sqlite} on SQLite, {postgres} on PostgreSQL")
    assert sqlite > 150 and postgres > 30


# -- through the real entry point: things that could hang, and bytes that are not UTF-8 ----------------


def _entry_point(office: Office, args: list[str], timeout: float = 60) -> tuple[int, str, str, float]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("DECISIONS_")}
    env["DECISIONS_DOCUMENTS"] = str(office.documents)
    start = time.perf_counter()
    proc = subprocess.Popen(
        [EXECUTABLE, *args], env=env, cwd=office.work, stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    try:
        out, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.communicate()
        pytest.fail(f"decisions {' '.join(map(str, args))[:200]} hung for {timeout} s")
    return proc.returncode, out.decode(errors="replace"), err.decode(errors="replace"), time.perf_counter() - start


@pytest.mark.parametrize("target", ["fifo", "/dev/zero"])
def test_a_fifo_or_dev_zero_as_attachment_is_refused_at_once(offices: Offices, target: str) -> None:
    office = offices.get("sqlite")
    path = office.paths.get(target, target)
    code, out, err, elapsed = _entry_point(office, [*SUBMIT, "--attach", f"draft={path}", "--db", office.url])
    assert code == 2 and out == "" and "Traceback" not in err, (code, err[-1500:])
    assert len(err.strip().splitlines()) == 1 and "not a regular file" in err, err
    assert elapsed < 30
    assert office.snapshot() == office.baseline


def test_a_non_utf8_case_id_through_the_real_entry_point_is_a_usage_error(offices: Offices) -> None:
    office = offices.get("sqlite")
    code, _out, err, _ = _entry_point(office, ["show", os.fsdecode(b"\xff\xfe-D1"), "--db", office.url])
    assert code == 2 and "Traceback" not in err, (code, err[-800:])
    assert office.snapshot() == office.baseline


def test_an_error_message_stays_short_whatever_the_input(offices: Offices, monkeypatch: pytest.MonkeyPatch) -> None:
    office = offices.get("sqlite")
    monkeypatch.chdir(office.work)
    long_cases = [c for c in CASES if c.id.endswith(" long")]
    errors = {case.id: office(*case.args).err for case in long_cases}
    office.baseline = office.snapshot()
    longest = max(len(e) for e in errors.values())
    report_count(f"[hostile input] longest message for 100 000 characters of input: {longest} characters")
    echoed = {k: len(e) for k, e in errors.items() if "x" * 200 in e}  # input is cut to 60 (a path: 160)
    assert not echoed, f"messages echoing 200 characters of the input or more: {echoed}"
    assert longest <= 2000


# -- an accepted attachment from outside: stored in the database under its hash, nothing else written ---


def test_an_accepted_attachment_from_outside_is_stored_under_its_hash_in_the_database(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """/etc/passwd through ``../``, a symlink to /etc/hostname, and /etc/shadow (readable as root): the
    person named them, so they are read; their bytes go into the database only (no file is written)."""
    office = Office("sqlite", f"sqlite:///{tmp_path / 'office.sqlite'}", tmp_path, tmp_path / "documents")
    office.paths = make_files(tmp_path)
    monkeypatch.chdir(tmp_path)
    set_up(office)
    outside = [Path("/etc/passwd"), Path("/etc/hostname"), Path("/etc/shadow")]
    watched = {p: p.lstat() for p in outside if p.exists()}
    named = {"traversal": "passwd", "symlink_out": "outside.pdf", "shadow": "shadow"}
    try:
        for name, stored_name in named.items():
            source = Path(office.paths[name])
            if not os.access(source, os.R_OK):
                continue
            data = source.read_bytes()
            digest = hashlib.sha256(data).hexdigest()
            before = office.snapshot()
            office.ok(*SUBMIT, "--attach", f"draft={{{name}}}")
            after = office.snapshot()
            assert after["store"] == before["store"] == [], "a file was written for a document"
            assert after["work"] == before["work"], "something was written outside the database"
            documents = [row for row in after["tables"]["documents"] if row not in before["tables"]["documents"]]
            assert len(documents) == 1 and digest in documents[0]
            chunks = [
                row for row in after["tables"]["document_chunks"] if row not in before["tables"]["document_chunks"]
            ]
            assert len(chunks) == 1 and digest in chunks[0] and repr(data) in chunks[0]
            history = office.ok("history", D1, "--json").out
            assert f'"name": "{stored_name}"' in history and "../" not in history and "/etc/" not in history
        for p, st in watched.items():
            assert p.lstat().st_mtime_ns == st.st_mtime_ns and p.lstat().st_size == st.st_size, p
    finally:
        shutil.rmtree(office.documents, ignore_errors=True)  # no copy of /etc/shadow is left behind


# -- values of the right shape but the wrong kind, and names that collide under Unicode normalisation ---


def _meeting_office(tmp_path: Path) -> Office:
    """An office whose decision (D-2025-001) waits in collective discussion: the next step records the meeting."""
    url = f"sqlite:///{tmp_path / 'office.sqlite'}"
    database = Database(url, documents=tmp_path / "documents")
    database.migrate()
    try:
        until = [s.trigger for s in MAIN_PATH].index(V_("approve"))
        play(CaseService(database, shipped_definitions(), outside=supplied_catalogue), D1, MAIN_PATH[:until])
    finally:
        database.dispose()
    office = Office("sqlite", url, tmp_path, tmp_path / "documents", make_files(tmp_path))
    office.ok("user", "add", "管理员", "--admin")  # the first people administrator adds themselves
    office.ok("unit", "add", "县政府办", "--as", "管理员")
    office.ok("user", "add", "office_chen", "--role", V_("office_clerk"), "--unit", "县政府办", "--as", "管理员")
    office.baseline = office.snapshot()
    return office


def _record_meeting(office: Office, views: list[dict[str, Any]]) -> Run:
    return office(
        *("act", D1, V_("approve"), "--as", "office_chen", "--on", "2025-05-06"),
        *("--set", f"{V_('meeting_type')}={MEETING[V_('meeting_type')]}"),
        *("--set", f"{V_('attendees')}={json.dumps(MEETING[V_('attendees')])}"),
        *("--set", f"{V_('views')}={json.dumps(views, ensure_ascii=False)}", "--attach", f"{V_('minutes')}={{file}}"),
    )


def test_a_meeting_view_whose_note_or_member_is_not_text_is_a_usage_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    office = _meeting_office(tmp_path)
    monkeypatch.chdir(tmp_path)
    first, *others = VIEWS_APPROVE
    for wrong in ({"note": 5}, {"note": True}, {"member": 7}, {"head": "yes"}, {"position": None}, {"seat": 1}):
        r = _record_meeting(office, [{**first, **wrong}, *others])
        case = Case(f"views {wrong}", (), frozenset({2}))
        check_message(r, case)
        key = next(iter(wrong))
        assert key in r.err, r.err
        assert office.snapshot() == office.baseline, f"{wrong}: something was written"
    accepted = _record_meeting(office, [{**first, "note": "同意，建议分步实施"}, *others])  # text is text
    assert accepted.code == 0, accepted


def test_one_member_twice_under_two_unicode_spellings_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """ "José" composed (U+00E9) and decomposed (e + U+0301) look alike and are one person: counted once, not twice."""
    office = _meeting_office(tmp_path)
    monkeypatch.chdir(tmp_path)
    composed, decomposed = "Jos\u00e9", "Jose\u0301"
    approve, reject = VIEWS_APPROVE[0]["position"], VIEWS_APPROVE[2]["position"]
    head = VIEWS_APPROVE[-1]
    views = [{"member": composed, "position": reject}, {"member": decomposed, "position": reject}, head]
    r = _record_meeting(office, views)
    check_message(r, Case("views NFC", (), frozenset({2})))
    assert "appears twice" in r.err and "NFC" in r.err, r.err
    assert office.snapshot() == office.baseline
    names = _record_meeting(office, [{"member": "甲", "position": approve}, {"member": "甲", "position": reject}, head])
    assert names.code == 2 and "appears twice" in names.err, names


def test_two_set_names_equal_under_unicode_normalisation_are_one_name_given_twice(
    offices: Offices, monkeypatch: pytest.MonkeyPatch
) -> None:
    office = offices.get("sqlite")
    monkeypatch.chdir(office.work)
    r = office(*REASSESS, "--set", "reason=R", "--set", "caf\u00e9=1", "--set", "cafe\u0301=2")
    check_message(r, Case("--set NFC", (), frozenset({2})))
    assert "given twice" in r.err and "NFC" in r.err, r.err
    assert office.snapshot() == office.baseline


# -- dates as Chinese offices write them -----------------------------------------------------------


@pytest.mark.parametrize("written", ["2025/03/06", "2025年3月6日", "2025-3-6", "2025.03.06", "２０２５年３月６日"])
def test_a_date_in_a_common_chinese_form_is_accepted_as_that_day(offices: Offices, written: str) -> None:
    office = offices.get("sqlite")
    r = office(*REASSESS[:5], "--on", written, "--set", "reason=R", "--json")
    assert r.code == 0, r
    office.baseline = office.snapshot()
    assert json.loads(office.ok("history", D1, "--json").out)[-1]["on"] == "2025-03-06"


@pytest.mark.parametrize("written", ["2025-03/06", "06/03/2025", "20250306", "2025年3月6", "三月六日", "2025-3-6日"])
def test_a_date_in_no_accepted_form_is_refused_naming_the_accepted_forms(offices: Offices, written: str) -> None:
    office = offices.get("sqlite")
    r = office(*REASSESS[:5], "--on", written, "--set", "reason=R")
    check_message(r, Case(f"--on {written}", (), frozenset({2})))
    assert "YYYY-MM-DD" in r.err and "2025/10/20" in r.err and "2025年10月20日" in r.err, r.err


def test_a_date_in_the_future_is_a_usage_error_about_the_date_not_a_breach(offices: Offices) -> None:
    office = offices.get("sqlite")
    r = office(*REASSESS[:5], "--on", "2030-01-01", "--set", "reason=R")
    check_message(r, Case("--on 2030-01-01", (), frozenset({2})))
    assert "2030-01-01" in r.err and "in the future" in r.err and "--on" in r.err, r.err
    assert "Art. 33" not in r.err and "第三十三条" not in r.err and "操作被拒绝" not in r.err, r.err

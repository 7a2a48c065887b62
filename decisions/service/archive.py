"""Moving and keeping a whole office: `decisions export` (a portable, verified archive), `decisions
import` (into an empty database, SQLite or PostgreSQL, every chain verified before it is kept) and
`decisions backup` (an online, consistent copy, verified).

The archive is a zip file:

    tables/<table>.jsonl   one line naming the table and its columns, then one JSON array per row
    manifest.json          format, schema revision, hash algorithm, the tables in load order with
                           their row counts, and every member with its SHA-256 and size
    manifest.sha256        the archive's digest: the SHA-256 of manifest.json (printed by export;
                           `import --digest` checks it against the one written down)

Every table the store declares is carried (`decisions.store.archive`), so tables added later travel
without this module knowing them; the documents' bytes are rows of the database (`document_chunks`,
1 MiB each), so they come with the tables. Nothing is held whole in memory but one row. Import checks
the archive's digest and every member's before it opens the target; it writes all rows in one
transaction, then verifies every chain, definition and document (`AuditService.verify`); a finding
empties the database again.
"""

from __future__ import annotations

import hashlib
import json
import os
import zipfile
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from decisions.definitions import Definitions
from decisions.errors import DecisionsError, IntegrityError, UsageError, shown
from decisions.service.audit import AuditService, VerifyReport
from decisions.service.cases import CaseService
from decisions.store.archive import (
    SCHEMA_REVISION,
    TableRows,
    backup_sqlite,
    copy_sqlite,
    dump_tables,
    load_tables,
    meta_rows,
    prepare_target,
    wipe_tables,
)
from decisions.store.database import Database
from decisions.store.documents import CHUNK_BYTES

__all__ = ["ArchiveService", "ArchiveSummary", "BackupSummary", "check_archive", "import_archive", "restore_backup"]

FORMAT = "decisions-archive"
VERSION = 1
MANIFEST = "manifest.json"
DIGEST = "manifest.sha256"
MAX_MANIFEST_BYTES = 64 * 1024 * 1024
MAX_LINE = 2 * CHUNK_BYTES + 4096  # one row: a document's chunk (base64) and its key
_CHUNK = 1 << 20


@dataclass(frozen=True)
class ArchiveSummary:
    """What an archive holds: its digest, rows per table, the documents among them."""

    path: Path
    digest: str
    rows: dict[str, int]
    documents: int
    documents_kept: str  # "tables": the documents' bytes are rows of the database
    hash_algorithm: str
    created_at: str


@dataclass(frozen=True)
class BackupSummary:
    """A verified copy: where it is, how it was made, and what verification found in it."""

    path: Path
    method: str  # "sqlite-backup", or "export" (an archive)
    verified: VerifyReport | None
    digest: str | None = None


def _damaged(what: str) -> IntegrityError:
    return IntegrityError(f"归档已损坏或被改动，未导入任何内容 / the archive is damaged or was altered: {what}")


class _Hashing:
    """A writable member that counts and hashes what goes through it."""

    def __init__(self, out: IO[bytes]) -> None:
        self.out = out
        self.sha = hashlib.sha256()
        self.size = 0

    def write(self, data: bytes) -> None:
        self.out.write(data)
        self.sha.update(data)
        self.size += len(data)


class ArchiveService:
    """Export and backup of the office a `CaseService` stands on (an SQL database)."""

    def __init__(self, cases: CaseService) -> None:
        if cases.db is None:
            raise UsageError(
                "只有数据库中的机关可以导出或备份 / only an office kept in a database can be exported or backed up"
            )
        self.cases = cases
        self.db: Database = cases.db

    def _verified(self) -> VerifyReport:
        report = AuditService(self.cases).verify()
        if not report.ok:
            first = "; ".join(str(f) for f in report.first_per_case()[:5])
            raise IntegrityError(
                f"历史校验未通过，不导出 / the office's history does not verify; nothing exported "
                f"({len(report.findings)} findings: {first})"
            )
        return report

    def export(self, path: Path, created_at: str) -> ArchiveSummary:
        """Write the whole office into the new file ``path`` (refused if it exists), after verifying it."""
        _refuse_existing(path)
        self._verified()
        tmp = path.with_name(f".{path.name}.incoming")
        try:
            summary = self._write(path, tmp, created_at)
            os.replace(tmp, path)
        except OSError as exc:
            raise UsageError(
                f"无法写入归档 / cannot write the archive {shown(str(path), 120)}: {exc.strerror}"
            ) from exc
        finally:
            tmp.unlink(missing_ok=True)
        return summary

    def _write(self, path: Path, tmp: Path, created_at: str) -> ArchiveSummary:
        kept = "tables"
        members: list[dict[str, Any]] = []
        tables: list[dict[str, Any]] = []
        with zipfile.ZipFile(tmp, "w", compression=zipfile.ZIP_DEFLATED, allowZip64=True) as zf:

            @contextmanager
            def member(name: str) -> Iterator[_Hashing]:
                with zf.open(name, "w", force_zip64=True) as raw:
                    out = _Hashing(raw)
                    yield out
                members.append({"name": name, "sha256": out.sha.hexdigest(), "bytes": out.size})

            with dump_tables(self.db) as snapshot:
                for part in snapshot.tables():
                    name = f"tables/{part.name}.jsonl"
                    rows = 0
                    with member(name) as out:
                        out.write(_line({"table": part.name, "columns": list(part.columns)}))
                        for values in part.rows:
                            out.write(_line(values))
                            rows += 1
                    tables.append({"name": part.name, "member": name, "rows": rows})
            manifest = {
                "format": FORMAT,
                "version": VERSION,
                "created_at": created_at,
                "schema_revision": SCHEMA_REVISION,
                "hash_algorithm": self.cases.algorithm,
                "documents": kept,
                "tables": tables,
                "members": members,
            }
            data = json.dumps(manifest, ensure_ascii=False, indent=1, sort_keys=True).encode("utf-8")
            digest = hashlib.sha256(data).hexdigest()
            zf.writestr(MANIFEST, data)
            zf.writestr(DIGEST, digest + "\n")
        rows_of = {t["name"]: t["rows"] for t in tables}
        return ArchiveSummary(
            path, digest, rows_of, rows_of.get("documents", 0), kept, self.cases.algorithm, created_at
        )

    def backup(self, path: Path, created_at: str) -> BackupSummary:
        """An online, consistent copy into the new file ``path``: on SQLite a database file made by
        SQLite's backup API (the documents are rows of it), verified; on PostgreSQL the export archive of one snapshot, read back and checked."""
        if not self.db.is_sqlite:
            summary = self.export(path, created_at)
            check_archive(path)
            return BackupSummary(path, "export", None, summary.digest)
        _refuse_existing(path)
        try:
            backup_sqlite(self.db, path)
            copy = Database(f"sqlite:///{path}")
            try:
                service = CaseService(copy, self.cases.current, clock=self.cases.clock)
                report = AuditService(service).verify()
            finally:
                copy.dispose()
        except (DecisionsError, OSError):
            for leftover in (path, Path(f"{path}-wal"), Path(f"{path}-shm")):
                leftover.unlink(missing_ok=True)
            raise
        if not report.ok:
            first = "; ".join(str(f) for f in report.first_per_case()[:5])
            raise IntegrityError(
                f"备份校验未通过 / the backup does not verify ({first}); kept at {path} for inspection"
            )
        return BackupSummary(path, "sqlite-backup", report)


def restore_backup(backup: Path, database: Database, definitions: Definitions) -> tuple[BackupSummary, VerifyReport]:
    """Restore a backup into the new database ``database``, then verify it: an archive (an export,
    or PostgreSQL's backup) is imported; an SQLite backup is copied into a new SQLite file (the
    documents are rows of it). A finding removes what was restored."""
    if not backup.is_file():
        raise UsageError(f"备份不存在 / no such backup: {shown(str(backup), 120)}")
    if zipfile.is_zipfile(backup):
        summary, report = import_archive(backup, database, definitions)
        return BackupSummary(backup, "export", report, summary.digest), report
    if not database.is_sqlite:
        raise UsageError(
            "SQLite 备份只能恢复为 SQLite 数据库；迁往 PostgreSQL 请导出再导入 / an SQLite backup restores into an "
            "SQLite file; to move to PostgreSQL, export it and import the archive"
        )
    target = Path(database.engine.url.database or "")
    _refuse_existing(target)
    try:
        copy_sqlite(backup, target)
        database.migrate()  # a backup made by an earlier version is brought to this schema (the copy, not the backup)
        service = CaseService(database, definitions)
        report = AuditService(service).verify()
        if not report.ok:
            first = "; ".join(str(f) for f in report.first_per_case()[:5])
            raise IntegrityError(
                f"恢复的数据库校验未通过，已移除 / the restored database does not verify; removed ({first})"
            )
    except BaseException:
        database.dispose()
        for leftover in (target, Path(f"{target}-wal"), Path(f"{target}-shm")):
            leftover.unlink(missing_ok=True)
        raise
    return BackupSummary(target, "sqlite-backup", report), report


def _refuse_existing(path: Path) -> None:
    if path.exists():
        raise UsageError(f"文件已存在，不会覆盖 / {shown(str(path), 120)} exists; it will not be overwritten")


def _line(value: Any) -> bytes:
    return (json.dumps(value, ensure_ascii=True, separators=(",", ":")) + "\n").encode("ascii")


# -- reading an archive ---------------------------------------------------------------------------


@dataclass(frozen=True)
class _Archive:
    zf: zipfile.ZipFile
    manifest: dict[str, Any]
    digest: str


def _open(path: Path) -> zipfile.ZipFile:
    try:
        return zipfile.ZipFile(path, "r")
    except (FileNotFoundError, IsADirectoryError) as exc:
        raise UsageError(f"归档不存在 / no such archive: {shown(str(path), 120)}") from exc
    except (zipfile.BadZipFile, OSError, EOFError) as exc:
        raise _damaged(f"{shown(str(path), 120)} is not a readable archive ({shown(str(exc), 200)})") from exc


def _read(zf: zipfile.ZipFile, name: str, limit: int) -> bytes:
    info = zf.getinfo(name)
    if info.file_size > limit:
        raise _damaged(f"{name} is larger than an archive writes it")
    try:
        return zf.read(name)
    except (zipfile.BadZipFile, zlib.error, OSError, EOFError, ValueError) as exc:
        raise _damaged(f"{name} cannot be read ({shown(str(exc), 200)})") from exc


def _manifest_shape(manifest: Any) -> str | None:
    """What is wrong with a manifest's structure, or None."""
    if not isinstance(manifest, dict):
        return "the manifest is not an object"
    if manifest.get("format") != FORMAT or manifest.get("version") != VERSION:
        return f"not a {FORMAT} version {VERSION} manifest"
    for key in ("created_at", "schema_revision", "hash_algorithm", "documents"):
        if not isinstance(manifest.get(key), str):
            return f"the manifest has no {key}"
    if manifest["documents"] != "tables":
        return "the manifest does not say the documents are in the tables"
    members, tables = manifest.get("members"), manifest.get("tables")
    if not isinstance(members, list) or not isinstance(tables, list):
        return "the manifest lists no members or tables"
    for m in members:
        if not (
            isinstance(m, dict)
            and isinstance(m.get("name"), str)
            and isinstance(m.get("sha256"), str)
            and isinstance(m.get("bytes"), int)
        ):
            return "a member entry of the manifest is malformed"
    names = [m["name"] for m in members]
    if len(set(names)) != len(names):
        return "the manifest lists a member twice"
    for t in tables:
        if not (
            isinstance(t, dict)
            and isinstance(t.get("name"), str)
            and isinstance(t.get("rows"), int)
            and t.get("member") in names
        ):
            return "a table entry of the manifest is malformed"
    if set(names) != {t["member"] for t in tables}:
        return "the manifest lists a member that is not a table"
    return None


def _checked(path: Path, expect: str | None) -> _Archive:
    zf = _open(path)
    try:
        names = zf.namelist()
        if len(set(names)) != len(names):
            raise _damaged("a member appears twice")
        for required in (MANIFEST, DIGEST):
            if required not in names:
                raise _damaged(f"{required} is missing")
        data = _read(zf, MANIFEST, MAX_MANIFEST_BYTES)
        digest = hashlib.sha256(data).hexdigest()
        recorded = _read(zf, DIGEST, 1024).decode("ascii", "replace").strip()
        if recorded != digest:
            raise _damaged(f"{MANIFEST} does not match the archive's digest {DIGEST} (the manifest was edited)")
        if expect is not None and expect.strip().lower() != digest:
            raise _damaged(f"the archive's digest is {digest}, not the expected {shown(expect, 80)}")
        try:
            manifest = json.loads(data)
        except ValueError as exc:
            raise _damaged(f"{MANIFEST} is not JSON") from exc
        problem = _manifest_shape(manifest)
        if problem:
            raise _damaged(problem)
        listed = {m["name"]: m for m in manifest["members"]}
        present = set(names) - {MANIFEST, DIGEST}
        missing = sorted(set(listed) - present)
        if missing:
            raise _damaged(f"member {shown(missing[0], 120)} is missing ({len(missing)} missing)")
        extra = sorted(present - set(listed))
        if extra:
            raise _damaged(f"member {shown(extra[0], 120)} is not in the manifest")
        for name, entry in listed.items():
            sha, size = _digest_member(zf, name)
            if sha != entry["sha256"] or size != entry["bytes"]:
                raise _damaged(f"member {shown(name, 120)} does not match its digest in the manifest")
        return _Archive(zf, manifest, digest)
    except BaseException:
        zf.close()
        raise


def _digest_member(zf: zipfile.ZipFile, name: str) -> tuple[str, int]:
    sha = hashlib.sha256()
    size = 0
    try:
        with zf.open(name) as f:
            for chunk in iter(lambda: f.read(_CHUNK), b""):
                sha.update(chunk)
                size += len(chunk)
    except (zipfile.BadZipFile, zlib.error, OSError, EOFError, ValueError) as exc:
        raise _damaged(f"member {shown(name, 120)} cannot be read ({shown(str(exc), 200)})") from exc
    return sha.hexdigest(), size


def check_archive(path: Path, expect: str | None = None) -> ArchiveSummary:
    """Check an archive without importing it: its digest and every member's; what it holds."""
    archive = _checked(path, expect)
    with archive.zf:
        m = archive.manifest
        rows = {t["name"]: t["rows"] for t in m["tables"]}
        return ArchiveSummary(
            path, archive.digest, rows, rows.get("documents", 0), m["documents"], m["hash_algorithm"], m["created_at"]
        )


def _table_rows(zf: zipfile.ZipFile, entry: dict[str, Any]) -> TableRows:
    member = zf.open(entry["member"])
    header = _json_line(member, entry["member"])
    if (
        not isinstance(header, dict)
        or header.get("table") != entry["name"]
        or not isinstance(header.get("columns"), list)
        or not all(isinstance(c, str) for c in header["columns"])
    ):
        member.close()
        raise _damaged(f"{shown(entry['member'], 120)} does not begin with its table's columns")

    def rows() -> Iterator[list[Any]]:
        n = 0
        with member:
            while True:
                values = _json_line(member, entry["member"])
                if values is None:
                    break
                if not isinstance(values, list):
                    raise _damaged(f"a row of {shown(entry['member'], 120)} is not a list of values")
                n += 1
                yield values
        if n != entry["rows"]:
            raise _damaged(f"{shown(entry['member'], 120)} has {n} rows, the manifest says {entry['rows']}")

    return TableRows(entry["name"], tuple(header["columns"]), rows())


def _json_line(member: IO[bytes], name: str) -> Any:
    line = member.readline(MAX_LINE + 1)
    if not line:
        return None
    if len(line) > MAX_LINE or not line.endswith(b"\n"):
        raise _damaged(f"a line of {shown(name, 120)} is truncated or too long")
    try:
        return json.loads(line)
    except ValueError as exc:
        raise _damaged(f"a line of {shown(name, 120)} is not JSON") from exc


def import_archive(
    path: Path, database: Database, definitions: Definitions, *, expect: str | None = None
) -> tuple[ArchiveSummary, VerifyReport]:
    """Load the archive at ``path`` into ``database`` (created or migrated if it is new; refused
    with nothing written if it holds anything), then verify it all; a finding undoes the import."""
    archive = _checked(path, expect)
    with archive.zf as zf:
        m = archive.manifest
        prepare_target(database, m["hash_algorithm"])
        before = meta_rows(database)
        counts = load_tables(database, (_table_rows(zf, t) for t in m["tables"]))
        try:
            service = CaseService(database, definitions)
            report = AuditService(service).verify()
            if not report.ok:
                first = "; ".join(str(f) for f in report.first_per_case()[:5])
                raise IntegrityError(
                    f"导入的历史校验未通过，已撤销导入 / the imported history does not verify; the import was undone "
                    f"({len(report.findings)} findings: {first})"
                )
        except BaseException:
            wipe_tables(database, before)
            raise
        summary = ArchiveSummary(
            path,
            archive.digest,
            counts,
            counts.get("documents", 0),
            m["documents"],
            m["hash_algorithm"],
            m["created_at"],
        )
        return summary, report

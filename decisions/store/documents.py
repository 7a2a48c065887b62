"""Documents in the database, content-addressed: a row per document (its SHA-256, size and media
type) and its bytes in chunk rows of at most `CHUNK_BYTES`, checked against the digest on every read.

An action's new documents are written by `file_documents` inside the action's own transaction
(`Repository.append`), so an accepted action with documents is one commit, and a refused, lost or
killed one leaves no bytes behind: the rollback removes them. The same bytes are stored once: a
document whose row exists is not written again (on PostgreSQL, a concurrent writer of the same new
bytes waits for the first and then writes nothing).

The file store of earlier versions (``root/ab/abcdef...`` beside the database) is only read, by
`move_file_store`, which the schema upgrade to revision 0004 runs.
"""

from __future__ import annotations

import functools
import hashlib
import mimetypes
import os
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, TextClause, bindparam, func, select, text
from sqlalchemy.dialects import sqlite

from decisions.audit import is_digest
from decisions.errors import IntegrityError, UsageError, shown
from decisions.store.interface import NewDocument
from decisions.store.tables import DocumentChunkRow, DocumentRow

if TYPE_CHECKING:
    from decisions.store.database import Database

__all__ = [
    "CHUNK_BYTES",
    "MAX_DOCUMENT_BYTES",
    "OCTET_STREAM",
    "DatabaseDocuments",
    "MovedDocuments",
    "check_document_size",
    "file_documents",
    "media_type_for",
    "move_file_store",
]

MAX_DOCUMENT_BYTES = 256 * 1024 * 1024
CHUNK_BYTES = 1 << 20
"""The bytes of one chunk row (1 MiB; docs/benchmarks.md, "documents in the transaction")."""
OCTET_STREAM = "application/octet-stream"

_DOCUMENTS = DocumentRow.__table__  # type: ignore[attr-defined]
_CHUNKS = DocumentChunkRow.__table__  # type: ignore[attr-defined]
_INSERT_CHUNK = _CHUNKS.insert()
_NEW_ROW = sqlite.insert(_DOCUMENTS).on_conflict_do_nothing(index_elements=["sha256"])
_PG_STATEMENTS: dict[int, TextClause] = {}


def _pg_new_rows_and_first_chunks(n: int) -> TextClause:
    """PostgreSQL: the rows of ``n`` documents and their first chunks in one statement (one round
    trip per action); a chunk is inserted only where its row was (stored bytes write nothing more),
    and the digests of the new documents are returned."""
    found = _PG_STATEMENTS.get(n)
    if found is None:
        values = ", ".join(
            f"(CAST(:s{i} AS varchar), CAST(:z{i} AS integer), CAST(:m{i} AS varchar), CAST(:d{i} AS bytea))"
            for i in range(n)
        )
        found = _PG_STATEMENTS[n] = text(
            f"WITH v (sha256, size, media_type, data) AS (VALUES {values}), "
            "new AS (INSERT INTO documents (sha256, size, media_type) SELECT sha256, size, media_type FROM v "
            "ON CONFLICT (sha256) DO NOTHING RETURNING sha256) "
            "INSERT INTO document_chunks (sha256, seq, data) "
            "SELECT v.sha256, 0, v.data FROM v JOIN new ON new.sha256 = v.sha256 RETURNING sha256"
        )
    return found


_CHUNKS_OF = select(_CHUNKS.c.data).where(_CHUNKS.c.sha256 == bindparam("sha256")).order_by(_CHUNKS.c.seq)
_STORED_SIZE = select(func.count(), func.coalesce(func.sum(func.length(_CHUNKS.c.data)), 0)).where(
    _CHUNKS.c.sha256 == bindparam("sha256")
)
_ROW = select(_DOCUMENTS.c.size, _DOCUMENTS.c.media_type).where(_DOCUMENTS.c.sha256 == bindparam("sha256"))


def check_document_size(data: bytes) -> None:
    """What every document store refuses before filing: no bytes at all, or more than the limit."""
    if not data:
        raise UsageError("附件为空 / the attachment is empty")
    if len(data) > MAX_DOCUMENT_BYTES:
        raise UsageError(f"附件过大 / the attachment exceeds {MAX_DOCUMENT_BYTES} bytes")


def media_type_for(name: str) -> str:
    """The media type a document's file name suggests (the standard library's table), else
    ``application/octet-stream``."""
    guessed, _ = _media_types().guess_type(name, strict=False)
    return guessed or OCTET_STREAM


@functools.cache
def _media_types() -> mimetypes.MimeTypes:
    """The standard library's own table, not the machine's files: the same type on every machine.
    Built on first use (not at import: start-up)."""
    return mimetypes.MimeTypes(filenames=())


def _digest_of(sha256: str) -> str:
    if not is_digest(sha256):
        raise UsageError(f"不是有效的 SHA-256 / not a SHA-256 digest: {shown(sha256)}")
    return sha256


def file_documents(conn: Connection, documents: Sequence[NewDocument], chunk: int = CHUNK_BYTES) -> int:
    """Write, in the caller's transaction, each of ``documents`` not stored yet: its row and its
    bytes a chunk at a time (slices of the caller's bytes, never a copy of the whole). Returns how
    many were new. The caller has checked each digest against its bytes."""
    # one of each, in digest order: two writers of the same new documents lock their rows in one order
    unique = sorted({d.sha256: d for d in documents}.values(), key=lambda d: d.sha256)
    if not unique:
        return 0
    if conn.dialect.name == "postgresql":
        params: dict[str, object] = {}
        for i, d in enumerate(unique):
            view = memoryview(d.data)
            params.update({f"s{i}": d.sha256, f"z{i}": len(view), f"m{i}": d.media_type[:128], f"d{i}": view[:chunk]})
        new = {str(sha) for (sha,) in conn.execute(_pg_new_rows_and_first_chunks(len(unique)), params)}
    else:
        new = set()
        for d in unique:
            row = {"sha256": d.sha256, "size": len(d.data), "media_type": d.media_type[:128]}
            if conn.execute(_NEW_ROW, row).rowcount == 1:
                conn.execute(_INSERT_CHUNK, {"sha256": d.sha256, "seq": 0, "data": memoryview(d.data)[:chunk]})
                new.add(d.sha256)
    for d in unique:
        if d.sha256 in new:
            view = memoryview(d.data)
            for seq, start in enumerate(range(chunk, len(view), chunk), start=1):
                conn.execute(_INSERT_CHUNK, {"sha256": d.sha256, "seq": seq, "data": view[start : start + chunk]})
    return len(new)


class DatabaseDocuments:
    """`DocumentBytes` over the database's document tables: read a chunk at a time, each read
    checked against the digest (`IntegrityError` when the bytes are missing or no longer match)."""

    def __init__(self, db: Database, chunk: int = CHUNK_BYTES) -> None:
        self.db = db
        self.chunk = chunk

    def put(self, data: bytes, media_type: str = OCTET_STREAM) -> str:
        """Store ``data`` (its row and bytes, one transaction); returns its SHA-256. Storing the same
        bytes again writes nothing."""
        check_document_size(data)
        digest = hashlib.sha256(data).hexdigest()
        with self.db.write() as conn:
            file_documents(conn, [NewDocument(digest, data, media_type)], self.chunk)
        return digest

    def _chunks(self, conn: Connection, sha256: str) -> Iterator[bytes]:
        rows = conn.execution_options(stream_results=True, yield_per=4).execute(_CHUNKS_OF, {"sha256": sha256})
        for (data,) in rows:
            yield bytes(data)

    def stream(self, sha256: str) -> Iterator[bytes]:
        """The bytes of ``sha256`` a chunk at a time (memory: one chunk), in one read transaction;
        raises `IntegrityError` after the last chunk when they do not match the digest (a reader
        that keeps them must discard them then), or at once when none are stored."""
        digest = _digest_of(sha256)
        h, any_ = hashlib.sha256(), False
        with self.db.read() as conn:
            for data in self._chunks(conn, digest):
                any_ = True
                h.update(data)
                yield data
        if not any_:
            raise IntegrityError(f"文档缺失 / document {sha256} is missing from the database")
        if h.hexdigest() != sha256:
            raise IntegrityError(f"文档内容与其哈希不符 / document {sha256}: its bytes no longer match the hash")

    def get(self, sha256: str) -> bytes:
        """The bytes filed under ``sha256``; `IntegrityError` if missing or no longer matching."""
        return b"".join(list(self.stream(sha256)))

    def check(self, sha256: str) -> str | None:
        """None when the document is present and intact, else what is wrong."""
        return self.inspect(sha256)[0]

    def inspect(self, sha256: str) -> tuple[str | None, int | None]:
        """`check` and `size` in one read of the bytes (what verification asks of every document):
        (None when intact, else what is wrong; the number of bytes stored, None when missing)."""
        digest = _digest_of(sha256)
        h, size, pieces = hashlib.sha256(), 0, 0
        with self.db.read() as conn:
            for data in self._chunks(conn, digest):
                pieces += 1
                size += len(data)
                h.update(data)
        if not pieces:
            return "missing", None
        return (None if h.hexdigest() == sha256 else "bytes do not match the hash"), size

    def inspect_many(self, sha256s: Sequence[str]) -> dict[str, tuple[str | None, int | None]]:
        """`inspect` of each of ``sha256s``, in one read transaction (chunks streamed in digest order,
        one document's hash state held at a time): what verification asks of a batch of documents."""
        wanted = sorted({_digest_of(s) for s in sha256s})
        out: dict[str, tuple[str | None, int | None]] = {s: ("missing", None) for s in wanted}

        def done(sha: str | None, h: Any, size: int) -> None:
            if sha is not None:
                out[sha] = (None if h.hexdigest() == sha else "bytes do not match the hash"), size

        with self.db.read() as conn:
            streaming = conn.execution_options(stream_results=True, yield_per=16)
            for i in range(0, len(wanted), 500):
                query = (
                    select(_CHUNKS.c.sha256, _CHUNKS.c.data)
                    .where(_CHUNKS.c.sha256.in_(wanted[i : i + 500]))
                    .order_by(_CHUNKS.c.sha256, _CHUNKS.c.seq)
                )
                current, h, size = None, hashlib.sha256(), 0
                for sha, data in streaming.execute(query):
                    if sha != current:
                        done(current, h, size)
                        current, h, size = str(sha), hashlib.sha256(), 0
                    h.update(data)
                    size += len(data)
                done(current, h, size)
        return out

    def size(self, sha256: str) -> int:
        """The number of bytes stored under ``sha256`` (`IntegrityError` when missing)."""
        digest = _digest_of(sha256)
        with self.db.read() as conn:
            pieces, size = conn.execute(_STORED_SIZE, {"sha256": digest}).one()
        if not pieces:
            raise IntegrityError(f"文档缺失 / document {sha256} is missing from the database")
        return int(size)

    def media_type(self, sha256: str) -> str | None:
        """The media type recorded for ``sha256`` (None when it has no row)."""
        digest = _digest_of(sha256)
        with self.db.read() as conn:
            row = conn.execute(_ROW, {"sha256": digest}).first()
        return None if row is None else str(row.media_type)

    def media_types(self, sha256s: Sequence[str]) -> dict[str, str]:
        """The media type recorded for each of ``sha256s`` that has a row, in one read transaction."""
        wanted = sorted({_digest_of(s) for s in sha256s})
        found: dict[str, str] = {}
        with self.db.read() as conn:
            for start in range(0, len(wanted), 500):
                rows = conn.execute(
                    select(_DOCUMENTS.c.sha256, _DOCUMENTS.c.media_type).where(
                        _DOCUMENTS.c.sha256.in_(wanted[start : start + 500])
                    )
                )
                found.update({str(sha): str(media) for sha, media in rows})
        return found


# -- moving an earlier version's file store in ------------------------------------------------------


@dataclass(frozen=True)
class MovedDocuments:
    """What `move_file_store` did: documents moved in (with their bytes), and the files of the old
    store that no row names (bytes of an action that was never recorded: left where they are)."""

    root: str
    moved: int
    bytes: int
    unlisted_files: int


_MAX_NAMED = 20  # problems named in the refusal; the rest are counted


def move_file_store(conn: Connection, root: Path | str | None, chunk: int = CHUNK_BYTES) -> MovedDocuments:
    """Copy the bytes of every document row that has none in the database from the file store at
    ``root`` (``ab/abcdef...``), in the caller's transaction, each file hashed as it is read; any
    file missing, or not matching its digest or recorded size, raises `IntegrityError` naming them
    (the caller's rollback then leaves the database as it was). The files are not removed."""
    place = str(root) if root is not None else "(none)"
    have = select(_CHUNKS.c.sha256).where(_CHUNKS.c.sha256 == _DOCUMENTS.c.sha256).exists()
    rows = [
        (str(sha), int(size)) for sha, size in conn.execute(select(_DOCUMENTS.c.sha256, _DOCUMENTS.c.size).where(~have))
    ]
    problems: list[str] = []
    moved = total = 0
    for sha, size in sorted(rows):
        problem = None if is_digest(sha) else "not a SHA-256 digest"
        if problem is None and root is not None:
            problem = _copy_file(conn, Path(root) / sha[:2] / sha, sha, size, chunk)
        elif problem is None:
            problem = "missing (no file store given)"
        if problem is None:
            moved += 1
            total += size
        else:
            problems.append(f"{shown(sha, 70)}: {problem}")
    if problems:
        named = "; ".join(problems[:_MAX_NAMED]) + (
            f"; and {len(problems) - _MAX_NAMED} more" if len(problems) > _MAX_NAMED else ""
        )
        raise IntegrityError(
            f"文档库迁移被拒绝，未写入任何内容 / moving the document store {shown(place, 200)} into the database was "
            f"refused and nothing was written: {len(problems)} of {len(rows)} documents are missing or damaged: {named}"
        )
    listed = {sha for sha, _ in rows}
    unlisted = 0
    if root is not None and Path(root).is_dir():
        for _, _, files in os.walk(root):
            unlisted += sum(1 for f in files if is_digest(f) and f not in listed)
    return MovedDocuments(place, moved, total, unlisted)


def _copy_file(conn: Connection, path: Path, sha: str, size: int, chunk: int) -> str | None:
    """Insert the chunks of the file at ``path``; what is wrong with it, or None."""
    try:
        f = path.open("rb")
    except OSError:
        return "missing from the file store"
    h, read, seq = hashlib.sha256(), 0, 0
    with f:
        for data in iter(lambda: f.read(chunk), b""):
            h.update(data)
            read += len(data)
            conn.execute(_INSERT_CHUNK, {"sha256": sha, "seq": seq, "data": data})
            seq += 1
    if not read:
        return "the file is empty"
    if h.hexdigest() != sha:
        return "its bytes do not match the hash"
    if read != size:
        return f"recorded size {size} differs from the file ({read})"
    return None

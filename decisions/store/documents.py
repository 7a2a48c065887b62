"""The content-addressed document store beside the database: bytes filed under their SHA-256,
checked against it on every read. Writes are atomic (temporary file, fsync, rename)."""

from __future__ import annotations

import errno
import hashlib
import os
import tempfile
from pathlib import Path

from decisions.audit import is_digest
from decisions.errors import IntegrityError, StorageFull, StoreError, UsageError, shown

__all__ = ["MAX_DOCUMENT_BYTES", "DocumentStore", "check_document_size"]

MAX_DOCUMENT_BYTES = 256 * 1024 * 1024
_NOT_A_FILE = (errno.ENOENT, errno.ENOTDIR, errno.EBADF, errno.ELOOP)


def check_document_size(data: bytes) -> None:
    """What every document store refuses before filing: no bytes at all, or more than the limit."""
    if not data:
        raise UsageError("附件为空 / the attachment is empty")
    if len(data) > MAX_DOCUMENT_BYTES:
        raise UsageError(f"附件过大 / the attachment exceeds {MAX_DOCUMENT_BYTES} bytes")


class DocumentStore:
    """Documents by SHA-256 under ``root/ab/abcdef...``."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self._root = str(root)

    def path_for(self, sha256: str) -> Path:
        if not is_digest(sha256):
            raise UsageError(f"不是有效的 SHA-256 / not a SHA-256 digest: {shown(sha256)}")
        return self.root / sha256[:2] / sha256

    def put(self, data: bytes) -> str:
        """Store ``data``; returns its SHA-256. Storing the same bytes again is a no-op."""
        check_document_size(data)
        digest = hashlib.sha256(data).hexdigest()
        target = self.path_for(digest)
        if target.exists() and self._digest(target) == digest:
            return digest
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".incoming-")
            try:
                with os.fdopen(fd, "wb") as out:
                    out.write(data)
                    out.flush()
                    os.fsync(out.fileno())
                os.replace(tmp, target)
            finally:
                if os.path.exists(tmp):
                    os.unlink(tmp)
            dir_fd = os.open(target.parent, os.O_RDONLY)
            try:
                os.fsync(dir_fd)
            finally:
                os.close(dir_fd)
        except OSError as exc:
            if exc.errno in (errno.ENOSPC, errno.EDQUOT):
                raise StorageFull(
                    f"文档存储所在磁盘已满，本次操作未写入 / the disk holding the document store {self.root} is full: "
                    "nothing was written; free space, then try again"
                ) from exc
            raise StoreError(
                f"文档存储不可写 / cannot write to the document store {self.root}: {exc.strerror}"
            ) from exc
        return digest

    def get(self, sha256: str) -> bytes:
        """The bytes filed under ``sha256``; `IntegrityError` if missing or no longer matching."""
        path = self.path_for(sha256)
        try:
            data = path.read_bytes()
        except FileNotFoundError as exc:
            raise IntegrityError(f"文档缺失 / document {sha256} is missing from {self.root}") from exc
        if hashlib.sha256(data).hexdigest() != sha256:
            raise IntegrityError(f"文档内容与其哈希不符 / document {sha256}: its bytes no longer match the hash")
        return data

    def check(self, sha256: str) -> str | None:
        """None when the document is present and intact, else what is wrong."""
        path = self.path_for(sha256)
        if not path.is_file():
            return "missing"
        return None if self._digest(path) == sha256 else "bytes do not match the hash"

    def inspect(self, sha256: str) -> tuple[str | None, int | None]:
        """`check` and `size` in one read of the file (what verification asks of every document):
        (None when intact, else what is wrong; the number of bytes filed, None when missing)."""
        if not is_digest(sha256):
            raise UsageError(f"不是有效的 SHA-256 / not a SHA-256 digest: {shown(sha256)}")
        try:
            f = open(os.path.join(self._root, sha256[:2], sha256), "rb")  # noqa: SIM115 (closed below)
        except OSError as exc:
            if isinstance(exc, IsADirectoryError) or exc.errno in _NOT_A_FILE:  # what `Path.is_file` calls absent
                return "missing", None
            raise
        with f:
            size = os.fstat(f.fileno()).st_size
            h = hashlib.sha256()
            for chunk in iter(lambda: f.read(1 << 20), b""):
                h.update(chunk)
        return (None if h.hexdigest() == sha256 else "bytes do not match the hash"), size

    def size(self, sha256: str) -> int:
        """The number of bytes filed under ``sha256`` (`IntegrityError` when missing)."""
        try:
            return self.path_for(sha256).stat().st_size
        except FileNotFoundError as exc:
            raise IntegrityError(f"文档缺失 / document {sha256} is missing from {self.root}") from exc

    @staticmethod
    def _digest(path: Path) -> str:
        h = hashlib.sha256()
        with path.open("rb") as f:
            for chunk in iter(lambda: f.read(1 << 20), b""):
                h.update(chunk)
        return h.hexdigest()

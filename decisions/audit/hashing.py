"""Hash functions for the audit chain: SHA-256 and SM3 (GB/T 32905-2016), and the chain rule.

Pure: standard library (+ the optional ``cryptography`` package for SM3), no I/O, no clock.

SM3 comes from OpenSSL through ``hashlib`` when the interpreter's OpenSSL provides it, else from the
``cryptography`` package when it is installed. The backend is chosen once per process, and only a
backend that reproduces the GB/T 32905 test vector is ever used.
"""

from __future__ import annotations

import functools
import hashlib
import importlib
import re
from collections.abc import Callable
from enum import StrEnum

from decisions.errors import UsageError

__all__ = [
    "DIGEST_HEX_LENGTH",
    "GENESIS",
    "HashAlgorithm",
    "Hasher",
    "available_algorithms",
    "chain_hash",
    "check_hasher",
    "hasher",
    "is_digest",
]

Hasher = Callable[[bytes], str]
"""A hash function: bytes in, lowercase hex digest out."""

DIGEST_HEX_LENGTH = 64
"""Both algorithms give 256-bit digests: 64 lowercase hex characters."""

GENESIS = "0" * DIGEST_HEX_LENGTH
"""The previous hash of the first event of every chain."""

_DIGEST = re.compile(f"[0-9a-f]{{{DIGEST_HEX_LENGTH}}}")


class HashAlgorithm(StrEnum):
    """The hash algorithms a deployment can choose. SM3 is the national standard (GB/T 32905-2016)."""

    SHA256 = "sha256"
    SM3 = "sm3"


# Known answers for b"abc": FIPS 180-2 appendix B.1, and GB/T 32905-2016 appendix A.1.
_KNOWN_ANSWERS: dict[HashAlgorithm, tuple[bytes, str]] = {
    HashAlgorithm.SHA256: (b"abc", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"),
    HashAlgorithm.SM3: (b"abc", "66c7f0f462eeedd9d1f2d46bdc10e4e24167c4875cf2f7a2297da02b8f4ba8e0"),
}

_SM3_UNAVAILABLE = (
    "本机不支持 SM3 哈希算法：请安装 cryptography 软件包（pip install cryptography），"
    "或使用带 SM3 的 OpenSSL 3 构建的 Python / "
    "SM3 is not available on this machine: install the `cryptography` package (pip install cryptography), "
    "or use a Python built against an OpenSSL 3 that provides SM3"
)


def hasher(algorithm: HashAlgorithm | str) -> Hasher:
    """The hash function for ``algorithm`` (case-insensitive name), returning lowercase hex.

    Raises ``UsageError`` for an unknown name, or for SM3 when no backend provides it.
    """
    chosen = _algorithm(algorithm)
    if chosen is HashAlgorithm.SHA256:
        return _sha256
    sm3 = _sm3()
    if sm3 is None:
        raise UsageError(_SM3_UNAVAILABLE)
    return sm3


def available_algorithms() -> list[HashAlgorithm]:
    """The algorithms this machine can compute, in declaration order."""
    return [algorithm for algorithm in HashAlgorithm if algorithm is HashAlgorithm.SHA256 or _sm3() is not None]


def check_hasher(h: Hasher, algorithm: HashAlgorithm | str) -> HashAlgorithm:
    """Check that ``h`` really computes ``algorithm`` (by its known answer); return the algorithm.

    Guards records that name an algorithm from being built with another one. Raises ``UsageError``.
    """
    chosen = _algorithm(algorithm)
    message, expected = _KNOWN_ANSWERS[chosen]
    if h(message) != expected:
        raise UsageError(f"所给哈希函数不是 {chosen.value} / the hash function given does not compute {chosen.value}")
    return chosen


def is_digest(text: object) -> bool:
    """Whether ``text`` has the form of a digest: 64 lowercase hex characters."""
    return isinstance(text, str) and _DIGEST.fullmatch(text) is not None


def chain_hash(h: Hasher, prev_hash: str, body: bytes) -> str:
    """The hash of an event: ``h(prev_hash as ASCII + b"\\n" + body)``.

    ``prev_hash`` is the hash of the preceding event of the same chain, or `GENESIS` for the first
    one; ``body`` is the event's canonical bytes (`decisions.audit.canonical.canonical_bytes`).

    Folding the predecessor's hash into every hash binds order: an event cannot be moved, dropped,
    inserted or given another predecessor without changing its own hash and, through the chain, the
    hash of every later event, so one trusted head hash (a checkpoint) vouches for the whole history
    before it. The predecessor is a fixed-length hex string and never contains ``\\n``, so the
    preimage splits unambiguously; and since it begins with a hex digit, never with 0x00 or 0x01, it
    cannot be confused with a Merkle leaf or node preimage (`decisions.audit.merkle`).
    """
    if not is_digest(prev_hash):
        raise ValueError(f"prev_hash must be {DIGEST_HEX_LENGTH} lowercase hex characters, got {prev_hash!r}")
    if not isinstance(body, bytes | bytearray | memoryview):
        raise TypeError(f"body must be bytes, not {type(body).__qualname__}")
    return h(prev_hash.encode("ascii") + b"\n" + bytes(body))


def _algorithm(algorithm: HashAlgorithm | str) -> HashAlgorithm:
    if isinstance(algorithm, HashAlgorithm):
        return algorithm
    try:
        return HashAlgorithm(str(algorithm).strip().lower())
    except ValueError:
        known = ", ".join(a.value for a in HashAlgorithm)
        raise UsageError(
            f"未知的哈希算法 {algorithm!r}，可选：{known} / unknown hash algorithm {algorithm!r}; known: {known}"
        ) from None


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


@functools.cache
def _sm3() -> Hasher | None:
    """The SM3 backend of this process, chosen once: OpenSSL first, then ``cryptography``."""
    return _openssl_sm3() or _cryptography_sm3()


def _openssl_sm3() -> Hasher | None:
    """SM3 through ``hashlib`` (OpenSSL), or None when this OpenSSL lacks it."""

    def sm3(data: bytes) -> str:
        return hashlib.new("sm3", data).hexdigest()

    return _if_correct(sm3)


def _cryptography_sm3() -> Hasher | None:
    """SM3 through the ``cryptography`` package, or None when it is missing or lacks SM3."""
    try:
        hashes = importlib.import_module("cryptography.hazmat.primitives.hashes")
        algorithm_class = hashes.SM3  # since cryptography 35
    except (ImportError, AttributeError):
        return None

    def sm3(data: bytes) -> str:
        context = hashes.Hash(algorithm_class())
        context.update(data)
        digest: bytes = context.finalize()
        return digest.hex()

    return _if_correct(sm3)


def _if_correct(sm3: Hasher) -> Hasher | None:
    message, expected = _KNOWN_ANSWERS[HashAlgorithm.SM3]
    try:
        return sm3 if sm3(message) == expected else None
    except Exception:  # an unsupported-algorithm error of whichever backend: treat as absent
        return None

"""Checkpoints: one Merkle root over the heads of every chain, and comparison of history against it.

Pure: standard library, no I/O, no clock (the checkpoint's time comes in as an argument).

Every case (and every catalogue) has its own hash chain. A checkpoint records, at one moment, the
head of every chain: its number of events ``seq`` and the hash of its last event. Since each event's
hash covers its predecessor's (`decisions.audit.hashing.chain_hash`), a head vouches for its whole
chain up to that event, and the Merkle root vouches for every head at once: publishing or filing the
root (one line) fixes all history up to that moment. Later, `compare_to_checkpoint` tells whether
history since then has only grown.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from itertools import pairwise

from decisions.audit.canonical import canonical_bytes, canonical_text, parse_canonical
from decisions.audit.hashing import HashAlgorithm, Hasher, check_hasher, hasher, is_digest

__all__ = [
    "CHECKPOINT_FORMAT",
    "Checkpoint",
    "Finding",
    "FindingKind",
    "Head",
    "build_checkpoint",
    "compare_to_checkpoint",
    "merkle_root",
]

CHECKPOINT_FORMAT = "decisions-checkpoint/1"
"""The ``format`` member of a checkpoint file; a new layout gets a new number, never a silent change."""

_LEAF = b"\x00"
_NODE = b"\x01"
_TIMESTAMP = re.compile(r"(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})\.(\d{6})Z")
_FILE_KEYS = frozenset({"format", "algorithm", "created_at", "chains", "events", "root", "heads"})
_HEAD_KEYS = frozenset({"chain", "seq", "hash"})


@dataclass(frozen=True)
class Head:
    """The head of one chain: chain id (a case id such as ``D-2025-001``, or ``CAT-2025``), the number
    of its last event (events are numbered from 1, so ``seq`` is also the chain's length) and that
    event's hash."""

    chain: str
    seq: int
    hash: str

    def __post_init__(self) -> None:
        if not isinstance(self.chain, str) or not self.chain:
            raise ValueError(f"a chain id must be a non-empty string, got {self.chain!r}")
        canonical_text(self.chain)  # rejects lone surrogates
        if not unicodedata.is_normalized("NFC", self.chain):
            raise ValueError(f"chain id {self.chain!r} is not in Unicode NFC form")
        if type(self.seq) is not int or self.seq < 1:
            raise ValueError(f"chain {self.chain}: seq must be an integer >= 1, got {self.seq!r}")
        if not is_digest(self.hash):
            raise ValueError(f"chain {self.chain}: hash must be 64 lowercase hex characters, got {self.hash!r}")


def merkle_root(h: Hasher, heads: Sequence[Head]) -> str:
    """The Merkle root over ``heads``, independent of their order.

    * Leaves are sorted by chain id (Unicode code point order, Python's ``str`` order); two heads for
      one chain are an error.
    * leaf = ``h(0x00 + canonical_bytes({"chain": chain, "seq": seq, "hash": hash}))``
    * node = ``h(0x01 + left_hex + right_hex)``, the two child digests as ASCII hex (128 bytes).
    * Pairs are formed left to right on each level; an odd last node is promoted to the next level
      unchanged (never paired with itself, which would let two different leaf lists share a root).
      The tree therefore has the shape of RFC 6962 (Certificate Transparency).
    * The root of no heads is ``h(b"")``; the root of one head is its leaf hash.

    The 0x00 / 0x01 prefixes separate the domains: a leaf preimage can never be read as a node
    preimage or the other way round, so nobody can present an inner node as a leaf (a second-preimage
    trick) to prove a head that was never checkpointed. Chain-hash preimages begin with a hex digit,
    so they collide with neither.
    """
    ordered = _sorted_heads(heads)
    if not ordered:
        return h(b"")
    level = [h(_LEAF + canonical_bytes({"chain": x.chain, "seq": x.seq, "hash": x.hash})) for x in ordered]
    while len(level) > 1:
        paired = [h(_NODE + (level[i] + level[i + 1]).encode("ascii")) for i in range(0, len(level) - 1, 2)]
        if len(level) % 2:
            paired.append(level[-1])
        level = paired
    return level[0]


@dataclass(frozen=True)
class Checkpoint:
    """The heads of all chains at one moment, and their Merkle root.

    ``created_at`` must be timezone-aware and is stored in UTC; ``heads`` are stored sorted by chain
    id; ``chains`` is the number of heads and ``events`` the sum of their ``seq``. The constructor checks
    all of that; `from_json` also recomputes the root. Build one with `build_checkpoint`.
    """

    algorithm: str
    created_at: datetime
    chains: int
    events: int
    root: str
    heads: tuple[Head, ...]

    def __post_init__(self) -> None:
        try:
            algorithm = HashAlgorithm(self.algorithm)
        except ValueError:
            known = ", ".join(a.value for a in HashAlgorithm)
            raise ValueError(f"unknown hash algorithm {self.algorithm!r}; known: {known}") from None
        object.__setattr__(self, "algorithm", algorithm)
        if not isinstance(self.created_at, datetime):
            raise TypeError(f"created_at must be a datetime, not {type(self.created_at).__qualname__}")
        if self.created_at.tzinfo is None or self.created_at.utcoffset() is None:
            raise ValueError("created_at must be timezone-aware")
        object.__setattr__(self, "created_at", self.created_at.astimezone(UTC))
        if not all(isinstance(x, Head) for x in self.heads):
            raise TypeError("heads must be Head values")
        heads = _sorted_heads(self.heads)
        object.__setattr__(self, "heads", heads)
        if type(self.chains) is not int or self.chains != len(heads):
            raise ValueError(f"chains is {self.chains!r} but there are {len(heads)} heads")
        events = sum(x.seq for x in heads)
        if type(self.events) is not int or self.events != events:
            raise ValueError(f"events is {self.events!r} but the heads' seq add up to {events}")
        if not is_digest(self.root):
            raise ValueError(f"root must be 64 lowercase hex characters, got {self.root!r}")

    def to_json(self) -> str:
        """The checkpoint file: canonical JSON text (see docs/canonical-serialization.md) and a newline."""
        return (
            canonical_text(
                {
                    "format": CHECKPOINT_FORMAT,
                    "algorithm": self.algorithm,
                    "created_at": self.created_at,
                    "chains": self.chains,
                    "events": self.events,
                    "root": self.root,
                    "heads": [{"chain": x.chain, "seq": x.seq, "hash": x.hash} for x in self.heads],
                }
            )
            + "\n"
        )

    @classmethod
    def from_json(cls, text: str) -> Checkpoint:
        """Read a checkpoint file, validating every member and recomputing the root.

        Raises ``ValueError("checkpoint file is corrupt: ...")`` for any defect, and ``UsageError``
        when the file's algorithm cannot be computed on this machine (SM3 without a backend).
        """
        if not isinstance(text, str):
            raise TypeError(f"from_json expects text, not {type(text).__qualname__}")
        try:
            checkpoint = _checkpoint_from_data(parse_canonical(text.encode("utf-8")))
        except (ValueError, TypeError) as exc:
            raise ValueError(f"checkpoint file is corrupt: {exc}") from exc
        computed = merkle_root(hasher(checkpoint.algorithm), checkpoint.heads)
        if computed != checkpoint.root:
            raise ValueError(
                f"checkpoint file is corrupt: root mismatch (stored {checkpoint.root}, recomputed {computed})"
            )
        return checkpoint


def build_checkpoint(
    h: Hasher, algorithm: HashAlgorithm | str, heads: Iterable[Head], created_at: datetime
) -> Checkpoint:
    """A checkpoint over ``heads`` at ``created_at`` (timezone-aware; the caller reads the clock).

    ``h`` must compute ``algorithm`` (checked by its known answer; ``UsageError`` otherwise).
    """
    chosen = check_hasher(h, algorithm)
    ordered = _sorted_heads(tuple(heads))
    return Checkpoint(
        algorithm=chosen,
        created_at=created_at,
        chains=len(ordered),
        events=sum(x.seq for x in ordered),
        root=merkle_root(h, ordered),
        heads=ordered,
    )


class FindingKind(StrEnum):
    """What is wrong with one chain compared to a checkpoint."""

    CHAIN_MISSING = "chain_missing"
    HISTORY_SHRANK = "history_shrank"
    HISTORY_REWRITTEN = "history_rewritten"


@dataclass(frozen=True)
class Finding:
    """One way in which current history contradicts a checkpoint."""

    chain: str
    seq: int
    message: str
    kind: FindingKind

    def __str__(self) -> str:
        return f"{self.chain} #{self.seq}: {self.message}"


def compare_to_checkpoint(old: Checkpoint, current_hash_at: Callable[[str, int], str | None]) -> list[Finding]:
    """Whether history since ``old`` has only grown: an empty list means yes.

    ``current_hash_at(chain, seq)`` returns the hash the database now holds for event ``seq`` of
    ``chain``, or None when there is no such event. For every head of the checkpoint, the event it
    names must still exist with the same hash. Because each hash covers its predecessor, that one
    comparison covers the chain's whole history up to the head, provided the caller also verifies
    each chain end to end (which this function does not do). Findings come in chain id order.
    """
    findings: list[Finding] = []
    for head in old.heads:
        now = current_hash_at(head.chain, head.seq)
        if now is None:
            if head.seq == 1 or current_hash_at(head.chain, 1) is None:
                findings.append(
                    Finding(
                        head.chain,
                        head.seq,
                        f"链 {head.chain} 已不存在（检查点时有 {head.seq} 个事件） / "
                        f"chain {head.chain} is missing (it had {head.seq} events at the checkpoint)",
                        FindingKind.CHAIN_MISSING,
                    )
                )
            else:
                findings.append(
                    Finding(
                        head.chain,
                        head.seq,
                        f"第 {head.seq} 号事件已不存在，历史被截短 / event {head.seq} is missing: history shrank",
                        FindingKind.HISTORY_SHRANK,
                    )
                )
        elif now != head.hash:
            findings.append(
                Finding(
                    head.chain,
                    head.seq,
                    f"第 {head.seq} 号事件的哈希与检查点不符（检查点 {head.hash}，现为 {now}），历史被改写 / "
                    f"event {head.seq} has another hash than at the checkpoint (checkpoint {head.hash}, "
                    f"now {now}): history rewritten",
                    FindingKind.HISTORY_REWRITTEN,
                )
            )
    return findings


def _sorted_heads(heads: Iterable[Head]) -> tuple[Head, ...]:
    ordered = tuple(sorted(heads, key=lambda x: x.chain))
    for first, second in pairwise(ordered):
        if first.chain == second.chain:
            raise ValueError(f"two heads for chain {first.chain}")
    return ordered


def _checkpoint_from_data(data: object) -> Checkpoint:
    if not isinstance(data, dict):
        raise ValueError("the file is not a JSON object")
    _exact_keys(data, _FILE_KEYS, "the file")
    if data["format"] != CHECKPOINT_FORMAT:
        raise ValueError(f"format is {data['format']!r}, expected {CHECKPOINT_FORMAT!r}")
    for key in ("algorithm", "created_at", "root"):
        if not isinstance(data[key], str):
            raise ValueError(f"{key} must be a string")
    for key in ("chains", "events"):
        if type(data[key]) is not int:
            raise ValueError(f"{key} must be an integer")
    if not isinstance(data["heads"], list):
        raise ValueError("heads must be a list")
    heads: list[Head] = []
    for index, item in enumerate(data["heads"]):
        if not isinstance(item, dict):
            raise ValueError(f"heads[{index}] must be an object")
        _exact_keys(item, _HEAD_KEYS, f"heads[{index}]")
        try:
            heads.append(Head(item["chain"], item["seq"], item["hash"]))
        except ValueError as exc:
            raise ValueError(f"heads[{index}]: {exc}") from None
    return Checkpoint(
        algorithm=data["algorithm"],
        created_at=_parse_timestamp(data["created_at"]),
        chains=data["chains"],
        events=data["events"],
        root=data["root"],
        heads=tuple(heads),
    )


def _exact_keys(data: dict[str, object], expected: frozenset[str], where: str) -> None:
    problems = [f"missing member {key!r}" for key in sorted(expected - data.keys())]
    problems += [f"unknown member {key!r}" for key in sorted(data.keys() - expected)]
    if problems:
        raise ValueError(f"{where}: {', '.join(problems)}")


def _parse_timestamp(text: str) -> datetime:
    match = _TIMESTAMP.fullmatch(text)
    if match is None:
        raise ValueError(f"created_at {text!r} is not of the form YYYY-MM-DDTHH:MM:SS.ffffffZ")
    year, month, day, hour, minute, second, micro = (int(part) for part in match.groups())
    return datetime(year, month, day, hour, minute, second, micro, tzinfo=UTC)  # ValueError if impossible

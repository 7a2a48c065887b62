"""Whether one case's stored chain verifies: the check `CaseService` makes when it reads a case it
does not hold yet (so that a broken chain stops work) and that `AuditService.replay` reports.

Pure over what was read: the events of one case in ``seq`` order and the hash its case row names as
the head. No statement of its own: the events are those the service read anyway.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from decisions.audit import GENESIS, Hasher, chain_hash, is_digest
from decisions.store.events import StoredEvent

__all__ = ["ChainBreak", "first_break", "stored_bytes"]


@dataclass(frozen=True)
class ChainBreak:
    """The first place a chain does not verify (``seq`` None: the case row, not an event)."""

    seq: int | None
    reason_zh: str
    reason_en: str


def stored_bytes(text: str) -> bytes:
    """The bytes a stored text column holds. A column that was not valid UTF-8 is read with its
    undecodable bytes kept as lone surrogates (`surrogateescape`, see `decisions.store.database`):
    encoding back the same way gives the stored bytes exactly, which then do not hash to the digest."""
    return text.encode("utf-8", "surrogateescape")


def first_break(h: Hasher, events: Sequence[StoredEvent], head_hash: str, version: int) -> ChainBreak | None:
    """None when ``events`` form one unbroken chain from the genesis whose last hash is ``head_hash``
    and whose length is ``version``; else the first break."""
    prev = GENESIS
    for expected, e in enumerate(events, start=1):
        if e.seq != expected:
            return ChainBreak(
                e.seq,
                f"应为第 {expected} 条，记录缺失或顺序被改",
                f"expected #{expected}: an event is missing or out of order",
            )
        if e.prev_hash != prev:
            return ChainBreak(e.seq, "与上一条记录的哈希不衔接", "its prev_hash is not the previous event's hash")
        if not is_digest(e.hash) or chain_hash(h, prev, stored_bytes(e.body)) != e.hash:
            return ChainBreak(
                e.seq, "内容与其哈希不符，记录被改动", "its content does not match its hash: it was edited"
            )
        prev = e.hash
    if len(events) != version or prev != head_hash:
        return ChainBreak(None, "与历史的最后一条记录不符", "it does not name the last event of the history")
    return None

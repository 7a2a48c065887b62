"""Inclusion proofs for checkpoints: that one chain head is a leaf under a checkpoint's Merkle root.

Pure (standard library and `decisions.audit`). The tree is the one `decisions.audit.merkle.merkle_root`
builds: leaves sorted by chain id, ``leaf = h(0x00 + canonical head)``, ``node = h(0x01 + left_hex +
right_hex)``, an odd last node promoted unchanged. A proof lists, from the leaf upwards, each sibling
digest and the side it stands on; a level where the node was promoted contributes no step.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from decisions.audit import Hasher, Head, canonical_bytes

__all__ = ["ProofStep", "inclusion_proof", "leaf_hash", "root_from_proof"]

_LEAF = b"\x00"
_NODE = b"\x01"


@dataclass(frozen=True)
class ProofStep:
    """One level of the climb: the sibling's digest and whether it stands left or right of ours."""

    side: str  # "left" or "right"
    sibling: str


def leaf_hash(h: Hasher, head: Head) -> str:
    return h(_LEAF + canonical_bytes({"chain": head.chain, "seq": head.seq, "hash": head.hash}))


def _node(h: Hasher, left: str, right: str) -> str:
    return h(_NODE + (left + right).encode("ascii"))


def inclusion_proof(h: Hasher, heads: Sequence[Head], chain: str) -> tuple[Head, tuple[ProofStep, ...]] | None:
    """The head of ``chain`` among ``heads`` and its path to the root, or None when it is not a leaf."""
    ordered = sorted(heads, key=lambda x: x.chain)
    index = next((i for i, x in enumerate(ordered) if x.chain == chain), None)
    if index is None:
        return None
    head = ordered[index]
    level = [leaf_hash(h, x) for x in ordered]
    steps: list[ProofStep] = []
    while len(level) > 1:
        if index % 2 == 1:
            steps.append(ProofStep("left", level[index - 1]))
        elif index + 1 < len(level):
            steps.append(ProofStep("right", level[index + 1]))
        paired = [_node(h, level[i], level[i + 1]) for i in range(0, len(level) - 1, 2)]
        if len(level) % 2:
            paired.append(level[-1])
        level = paired
        index //= 2
    return head, tuple(steps)


def root_from_proof(h: Hasher, head: Head, steps: Sequence[ProofStep]) -> str:
    """The root a proof leads to from ``head``: equal to the checkpoint's root iff the head is included."""
    digest = leaf_hash(h, head)
    for step in steps:
        digest = _node(h, step.sibling, digest) if step.side == "left" else _node(h, digest, step.sibling)
    return digest

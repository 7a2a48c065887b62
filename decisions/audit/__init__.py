"""The audit trail's pure primitives: canonical bytes, hashes and the chain rule, Merkle checkpoints.

Decisions carry lifetime accountability (终身责任追究), so the history of every case is a
tamper-evident hash chain: each event's body is serialized canonically (`canonical_bytes`), and its
hash covers the previous event's hash (`chain_hash`). A `Checkpoint` fixes the heads of all chains
under one Merkle root; `compare_to_checkpoint` tells whether history since has only grown.
Specification for auditors: ``docs/canonical-serialization.md``.
"""

from decisions.audit.canonical import (
    canonical_bytes,
    canonical_text,
    is_canonical,
    parse_canonical,
    parse_if_canonical,
)
from decisions.audit.hashing import (
    DIGEST_HEX_LENGTH,
    GENESIS,
    HashAlgorithm,
    Hasher,
    available_algorithms,
    chain_hash,
    check_hasher,
    hasher,
    is_digest,
)
from decisions.audit.merkle import (
    CHECKPOINT_FORMAT,
    Checkpoint,
    Finding,
    FindingKind,
    Head,
    build_checkpoint,
    compare_to_checkpoint,
    merkle_root,
)

__all__ = [
    "CHECKPOINT_FORMAT",
    "DIGEST_HEX_LENGTH",
    "GENESIS",
    "Checkpoint",
    "Finding",
    "FindingKind",
    "HashAlgorithm",
    "Hasher",
    "Head",
    "available_algorithms",
    "build_checkpoint",
    "canonical_bytes",
    "canonical_text",
    "chain_hash",
    "check_hasher",
    "compare_to_checkpoint",
    "hasher",
    "is_canonical",
    "is_digest",
    "merkle_root",
    "parse_canonical",
    "parse_if_canonical",
]

"""Reading a workflow's `collective_discussion:` setting: whether every approval state must be
reached through a discussion state (集体讨论, the default: Decree 713 Art. 30), or whether the
workflow's rules say when the meeting is needed and a head may otherwise decide alone (a contract
the county head approves, an enforcement decision the agency head takes unless it is complex)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from decisions.loading.reader import Reader

__all__ = ["COLLECTIVE_DISCUSSION", "read_collective_discussion"]

COLLECTIVE_DISCUSSION = ("required", "by_rule")
"""``required``: every approval state is reached through a discussion state since the draft last
changed (checked statically); ``by_rule``: rule packs require the meeting where the law does."""


def read_collective_discussion(r: Reader, head: Mapping[str, Any]) -> bool:
    """True when the workflow declares ``collective_discussion: by_rule``; a located error for any
    other value than the two known ones."""
    raw = head.get("collective_discussion", "required")
    if raw not in COLLECTIVE_DISCUSSION:
        r.error(
            ("workflow", "collective_discussion"),
            f"collective_discussion must be one of {', '.join(COLLECTIVE_DISCUSSION)}, found {raw!r}",
        )
        return False
    return bool(raw == "by_rule")

"""Static analysis of a workflow: the graph checks and the proof that no path bypasses a gate. Pure.

The gate proof searches the product of the state graph with one bit, "the gate has been passed
and is still valid", starting from (initial, not passed). Firing a transition where the gate rule
holds sets the bit; with ``reset_on_draft_change``, a transition that changes the draft clears
it (a transition that is both gated and changes the draft leaves it cleared: the rule is checked
before the change). Entering a protected state with the bit clear is a bypass. The search is
breadth-first, so the path reported is a shortest one.

A gate's *guarantee* is enforced by the engine on every transition into a protected state, on the
case after the transition, so no path avoids it; statically it needs only to be satisfiable: the
same search with the guarantee's own bit (set by a record that may pass, cleared by a record that
cannot or, with ``current_draft``, by a draft change), refusing entries the engine would refuse,
must still reach every protected state (`unguaranteed_states`).
"""

from __future__ import annotations

from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass

from decisions.model import Text
from decisions.workflow.definition import Gate, Guarantee, TransitionDef, WorkflowDef

__all__ = [
    "Bypass",
    "find_bypass",
    "find_undiscussed",
    "guarantee_after",
    "reachable_states",
    "structural_findings",
    "unguaranteed_states",
]


def reachable_states(wf: WorkflowDef) -> set[str]:
    """States reachable from the initial state."""
    seen = {wf.initial}
    queue = deque([wf.initial])
    while queue:
        state = queue.popleft()
        for t in wf.transitions_from(state):
            if t.dest not in seen:
                seen.add(t.dest)
                queue.append(t.dest)
    return seen


@dataclass(frozen=True)
class Finding:
    """A problem with the graph: the state or transition it concerns and what is wrong."""

    key_path: tuple[str | int, ...]
    message: str


def structural_findings(wf: WorkflowDef) -> list[Finding]:
    """Unreachable states, non-final states with no way out, final states with a way out, approval
    states that cannot be reached at all, and approval states reachable without collective discussion
    (unless the workflow leaves the meeting to its rules: ``collective_discussion: by_rule``)."""
    findings: list[Finding] = []
    reachable = reachable_states(wf)
    outgoing = {t.source for t in wf.transitions}
    for state in wf.states.values():
        where: tuple[str | int, ...] = ("states", state.id)
        if state.id not in reachable:
            kind = "approval state" if state.approval else "state"
            findings.append(Finding(where, f"{kind} {state.id!r} is unreachable from {wf.initial!r}"))
        if not state.final and state.id not in outgoing:
            findings.append(Finding(where, f"non-final state {state.id!r} has no way out"))
        if state.final and state.id in outgoing:
            findings.append(Finding(where, f"final state {state.id!r} has outgoing transitions"))
    if not any(s.final for s in wf.states.values()):
        findings.append(Finding(("states",), "the workflow has no final state"))
    if not wf.approval_states:
        findings.append(Finding(("states",), "the workflow declares no approval state"))
    if wf.discussion_by_rule:  # declared: a head may decide alone, a rule of the packs says when a meeting must
        return findings
    if not wf.discussion_states:
        findings.append(Finding(("states",), "the workflow declares no discussion state (集体讨论)"))
    elif (undiscussed := find_undiscussed(wf)) is not None:
        last = undiscussed.path[-1]
        findings.append(
            Finding(
                ("states", last.dest),
                f"approval state {last.dest!r} is reachable without collective discussion of the current "
                f"draft (no discussion state since the draft last changed): {undiscussed.describe()}",
            )
        )
    return findings


def find_undiscussed(wf: WorkflowDef) -> Bypass | None:
    """A shortest path into an approval state that has not been through a discussion state since
    the draft last changed, or None. The same search as the gate proof, with entering a discussion
    state as the gate: so flagging the meeting's state is what anchors the review gate's protection
    of it (an approval state must be reached through one, and the review gate must protect it)."""
    meeting = Gate(
        "discussion_state",
        "",
        wf.approval_states,
        Text("集体讨论", "collective discussion"),
        reset_on_draft_change=True,
    )
    entering = frozenset(i for i, t in enumerate(wf.transitions) if t.dest in wf.discussion_states)
    return find_bypass(wf, meeting, entering)


@dataclass(frozen=True)
class Bypass:
    """A shortest path that enters a state protected by ``gate`` without passing it."""

    gate: Gate
    path: tuple[TransitionDef, ...]
    initial: str

    def describe(self) -> str:
        steps = [self.initial] + [f"--{t.trigger}--> {t.dest}" for t in self.path]
        return " ".join(steps)


def find_bypass(wf: WorkflowDef, gate: Gate, gated: frozenset[int]) -> Bypass | None:
    """A shortest path into ``gate.protects`` that avoids it, or None when the gate is sound.

    ``gated`` holds the indexes (in ``wf.transitions``) of the transitions where the gate's rule
    is checked.
    """
    # a guarantee of the current draft is reset by a draft change whatever the flag says
    reset = gate.reset_on_draft_change or (gate.guarantee is not None and gate.guarantee.current_draft)
    start = (wf.initial, False)
    parent: dict[tuple[str, bool], tuple[tuple[str, bool], int] | None] = {start: None}
    queue = deque([start])
    by_source: Mapping[str, list[int]] = _index_by_source(wf)
    while queue:
        node = queue.popleft()
        state, passed = node
        for i in by_source.get(state, []):
            t = wf.transitions[i]
            now = passed or i in gated
            if reset and t.changes_draft:
                now = False
            nxt = (t.dest, now)
            if nxt in parent:
                continue
            parent[nxt] = (node, i)
            if t.dest in gate.protects and not now:
                return Bypass(gate, _walk_back(wf, parent, nxt), wf.initial)
            queue.append(nxt)
    return None


def guarantee_after(guarantee: Guarantee, t: TransitionDef, held: bool) -> bool:
    """Whether ``guarantee`` can hold after ``t``, given whether it could before: a record of its kind
    decides (the record covers the draft after ``t``); otherwise a draft change voids a guarantee
    of the current draft."""
    if t.record == guarantee.record:
        return guarantee.may_pass(t)
    if guarantee.current_draft and t.changes_draft:
        return False
    return held


def unguaranteed_states(wf: WorkflowDef, gate: Gate) -> list[str]:
    """The states ``gate`` protects that no path enters with its guarantee able to hold (the engine
    refuses every other entry): each is a state no case can ever lawfully reach."""
    guarantee = gate.guarantee
    if guarantee is None:
        return []
    start = (wf.initial, False)
    seen = {start}
    entered: set[str] = set()
    queue = deque([start])
    by_source = _index_by_source(wf)
    while queue:
        state, held = queue.popleft()
        for i in by_source.get(state, []):
            t = wf.transitions[i]
            now = guarantee_after(guarantee, t, held)
            if t.dest in gate.protects:
                if not now:
                    continue  # refused by the engine
                entered.add(t.dest)
            nxt = (t.dest, now)
            if nxt not in seen:
                seen.add(nxt)
                queue.append(nxt)
    return sorted(gate.protects - entered)


def _index_by_source(wf: WorkflowDef) -> dict[str, list[int]]:
    out: dict[str, list[int]] = {}
    for i, t in enumerate(wf.transitions):
        out.setdefault(t.source, []).append(i)
    return out


def _walk_back(
    wf: WorkflowDef,
    parent: Mapping[tuple[str, bool], tuple[tuple[str, bool], int] | None],
    node: tuple[str, bool],
) -> tuple[TransitionDef, ...]:
    path: list[TransitionDef] = []
    step = parent[node]
    while step is not None:
        prev, i = step
        path.append(wf.transitions[i])
        step = parent[prev]
    return tuple(reversed(path))

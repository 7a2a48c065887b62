"""The child of the crash-consistency test (`tests/test_crash_consistency.py`): acts for ever on one
database until it is killed with SIGKILL.

    python tests/crash_child.py URL DOCUMENTS CASE_PREFIX [SEED]

It first brings ``CASE_PREFIX-E0`` .. ``-E{EXECUTING_CASES - 1}`` to `executing` (resuming a decision
that an earlier kill left half way along the main path), then loops: public feedback on those
decisions (an action that is always accepted; every few actions with an attached document of random
size, so that document writes are interrupted too), and now and then a new proposal (so that case
creation is interrupted too). Every document travels as a blob, filed only when the action is
accepted, so its row is written in the event's own transaction.

Only AFTER `CaseService.act` / `start` has returned does it write one line to stdout and flush it:

    committed <case> <seq> <trigger> <tag> <sha256 or ->

``tag`` is the action's unique summary (feedback) or title (proposal), ``-`` for main-path steps.
Those lines are exactly what was acknowledged: the parent checks that each of them survived the kill.
``ready <pid>`` is written once the service is open (the parent starts its kill timer then). With
``CRASH_CHILD_WAIT=1`` the child imports and loads its definitions, then waits for a line on stdin
before it opens the database: the parent starts the next child (1 s of imports) while it checks
what the previous kill left.
"""

from __future__ import annotations

import hashlib
import os
import random
import sys
from datetime import UTC, date, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # run as a script: make `decisions`, `tests` importable

from decisions.model import Action, Document
from decisions.service.cases import CaseService
from decisions.store.database import Database
from tests.support import MAIN_PATH, OUTSIDE, PEOPLE, Step, shipped_definitions

EXECUTING = 14  # MAIN_PATH[:14] ends with assign_execution: the decision is then being executed
EXECUTING_CASES = 3
MAX_DOCUMENT = 200 * 1024
DOCUMENT_MARK = b"CRASHDOC "  # every document the child files starts with this
FEEDBACK_ON = date(2025, 6, 2)  # after assign_execution (2025-05-09), before the fixed clock's today
WAIT_ENV = "CRASH_CHILD_WAIT"  # set: wait for a line on stdin before opening the database
NOW = datetime(2026, 1, 5, 9, 30, tzinfo=UTC)  # tests.stores.NOW (not imported: it would import pytest)


def fixed_clock() -> datetime:
    return NOW


def say(*words: object) -> None:
    sys.stdout.write(" ".join(str(w) for w in words) + "\n")
    sys.stdout.flush()


def blob(kind: str, data: bytes, name: str) -> tuple[Document, dict[str, bytes]]:
    sha = hashlib.sha256(data).hexdigest()
    return Document(kind=kind, sha256=sha, name=name), {sha: data}


def step_action(case_id: str, step: Step) -> tuple[Action, dict[str, bytes]]:
    """A main-path step with its documents as blobs (deterministic bytes: refiling them after a kill
    is a no-op in the content-addressed store)."""
    docs, blobs = [], {}
    for kind in step.docs:
        d, b = blob(kind, DOCUMENT_MARK + f"{case_id} {step.trigger} {kind}".encode(), f"{kind}.pdf")
        docs.append(d)
        blobs.update(b)
    return Action(step.trigger, PEOPLE[step.actor], step.on, dict(step.fields), tuple(docs)), blobs


def ensure_executing(service: CaseService, case_id: str) -> None:
    """Bring ``case_id`` to `executing` along the main path, from wherever an earlier kill left it."""
    head = service.repository.head(case_id)
    version = 0 if head is None else head.version
    for i in range(version, EXECUTING):
        action, blobs = step_action(case_id, MAIN_PATH[i])
        if i == 0:
            fired = service.start("major_decision", case_id, action, blobs)
        else:
            fired = service.act(case_id, action, blobs=blobs)
        say("committed", case_id, fired.record.seq, action.trigger, "-", "-")


def main(argv: list[str]) -> None:
    url, documents, prefix = argv[:3]
    rng = random.Random(int(argv[3]) if len(argv) > 3 else None)
    pid = os.getpid()
    definitions = shipped_definitions()
    if os.environ.get(WAIT_ENV):  # started ahead of time: import and load, touch the database only on "go"
        sys.stdin.readline()
    db = Database(url, documents=Path(documents))
    service = CaseService(db, definitions, clock=fixed_clock, outside=lambda service, case, action: OUTSIDE)
    say("ready", pid)
    cases = [f"{prefix}-E{i}" for i in range(EXECUTING_CASES)]
    for case_id in cases:
        ensure_executing(service, case_id)
    n = 0
    while True:
        n += 1
        tag = f"{pid}-{n}"
        if n % 11 == 0:  # a new decision: case creation is interrupted too
            first = MAIN_PATH[0]
            action, blobs = step_action(f"{prefix}-P{tag}", first)
            action = Action(action.trigger, action.actor, action.on, {**first.fields, "title": tag}, action.documents)
            fired = service.start("major_decision", f"{prefix}-P{tag}", action, blobs)
            say("committed", f"{prefix}-P{tag}", fired.record.seq, action.trigger, tag, "-")
            continue
        case_id = rng.choice(cases)
        docs: tuple[Document, ...] = ()
        blobs = {}
        if n % 5 == 0:  # a document of random size: its write may be interrupted
            data = DOCUMENT_MARK + tag.encode() + b" " + rng.randbytes(rng.randint(1, MAX_DOCUMENT))
            d, blobs = blob("public_feedback", data, f"feedback-{tag}.pdf")
            docs = (d,)
        action = Action("record_public_feedback", PEOPLE["office_chen"], FEEDBACK_ON, {"summary": tag}, docs)
        fired = service.act(case_id, action, blobs=blobs)
        say("committed", case_id, fired.record.seq, action.trigger, tag, docs[0].sha256 if docs else "-")


if __name__ == "__main__":
    main(sys.argv[1:])

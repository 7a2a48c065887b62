"""Property-based stateful tests: random histories played against the real service layer and database.

A Hypothesis `RuleBasedStateMachine` opens a fresh database (SQLite in a temporary directory, or a new
PostgreSQL database through `tests.stores.new_database_url`), proposes decisions with random facts
and then fires random actions on them: any trigger of the workflow (not only the available ones, and
now and then one the workflow does not know), by any person of `tests.support.PEOPLE` (wrong roles,
the auditor, and `counsel_wu`, who is both organiser and legal counsel), on a date around the
decision's last event (sometimes before it, sometimes in the future), carrying fields and documents
seeded to make success plausible and then mutated. Most steps are *guided* (a small planner picks the
step the procedure needs next and a person who holds a role the step allows; the revision loops after
a lawful review are made likely); the rest are *wild*. Refusals are fine; what matters is checked after
every step:

- every history obeys the gates: nothing enters discussion, a decision or publication without a lawful
  legality review (or a disclosed legal risk on an exploratory reform) of exactly the draft version then
  current; nothing is decided without a meeting, nor published without the Party committee report;
- every record was made in a role the transition allows, by a person who holds that role;
- no drafter or submitter of a case's draft accepted, returned or decided its legality review;
- the stored version equals the number of actions the model saw accepted (nothing lost or duplicated),
  and a refused action wrote nothing;
- `AuditService.verify()` is clean and `AuditService.replay()` reproduces every stored state.

`CatalogueHistories` plays the annual catalogue the same way (one or two years per database, its own
planner) and checks after every step: nothing goes to the meeting or is published without a screening
opinion on exactly the version then current; nothing is published without an executive or plenary
meeting's approval and the Party committee's consent to that version; every version lists exactly the
suggested items screened in (recomputed here, independently of `decisions.catalogue.versions`), and the
published versions are the ones publication records name. The role, chain, date, verify and replay
checks are shared.

Cost: each example opens its own database (SQLite under /dev/shm where there is one) and every step
that wrote something is followed by a full `verify()` and a replay of the decision it changed (a step
that wrote nothing, as the database's heads, document rows and files show, keeps the last result).
Replay engines are built once per session from the stored definition texts and reused.

Profiles: ``ci`` (default) and ``long`` (``HYPOTHESIS_PROFILE=long``). The settings are applied to
these machines only, never loaded globally, so other test files keep their own.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import sys
import tempfile
from collections import Counter, defaultdict
from collections.abc import Iterator, Mapping
from dataclasses import replace
from datetime import date, timedelta
from functools import cache
from pathlib import Path
from typing import Any, ClassVar

import pytest
from hypothesis import HealthCheck, Phase, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    Bundle,
    RuleBasedStateMachine,
    initialize,
    invariant,
    multiple,
    precondition,
    rule,
    run_state_machine_as_test,
)
from sqlalchemy import text

from decisions.calendar import WorkCalendar
from decisions.catalogue import CatalogueSpec, CatalogueVersion, Item, versions
from decisions.errors import ActionRefused, ConflictError, UsageError
from decisions.model import Action, Actor, Case, Document, Record
from decisions.service.audit import AuditService
from decisions.service.cases import CHINA_STANDARD_TIME, CaseService
from decisions.store.database import Database
from decisions.workflow.definition import FieldType, TransitionDef, WorkflowDef
from tests.stores import BACKENDS, NOW, fixed_clock, new_database_url, supplied_catalogue
from tests.support import (
    CATALOGUE_ITEM,
    CATALOGUE_PATH,
    MAIN_PATH,
    MEETING,
    PEOPLE,
    Story,
    report_count,
    shipped_definitions,
)
from tests.test_rules import THOROUGH

# -- profiles ---------------------------------------------------------------------------------------

_COMMON = {
    "deadline": None,
    # no "explain" phase: it re-runs the failing example under coverage tracing, minutes on this machine
    "phases": (Phase.explicit, Phase.reuse, Phase.generate, Phase.target, Phase.shrink),
    "suppress_health_check": [HealthCheck.too_slow, HealthCheck.filter_too_much, HealthCheck.data_too_large],
    "print_blob": True,
}
PROFILES: dict[str, settings] = {
    "ci": settings(max_examples=10, stateful_step_count=20, **_COMMON),
    "long": settings(max_examples=500, stateful_step_count=60, **_COMMON),
}
PROFILE = os.environ.get("HYPOTHESIS_PROFILE", "ci")
SETTINGS = PROFILES[PROFILE] if PROFILE in PROFILES else settings.get_profile(PROFILE)

# -- the definitions, and the sets this file holds them to (written out here, not read from the YAML) ---

DEFINITIONS = shipped_definitions()
WF = DEFINITIONS.workflow("major_decision")
TODAY = NOW.astimezone(CHINA_STANDARD_TIME).date()
GATED = frozenset({"in_discussion", "decided", "published"})  # the legality-review gate's states
REVIEW_TRIGGERS = frozenset(
    {
        "accept_review",
        "return_submission",
        "request_supplement",
        "find_lawful",
        "find_needs_revision",
        "find_unlawful",
        "find_legal_risk",
    }
)
REVIEW_SUBMISSIONS = frozenset({"submit_legality_review", "resubmit_legality_review"})
FLAGS = (
    "technical",
    "risk",
    "market_entities",
    "non_disclosable",
    "exploratory_reform",
    "major_public_interest",
    "affects_specific_group",
    "high_public_interest",
    "npc_report_required",
    "opinion_divided",
)
HEARING_FLAGS = ("major_public_interest", "opinion_divided", "stability_risk", "law_requires_hearing")
# attributes the organiser may not clear once true or once a record of their stage exists (issue 11 item 2)
STAGE_RECORDS: dict[str, frozenset[str]] = {
    "risk": frozenset({"risk_assessment"}),
    "technical": frozenset({"expert_opinion", "expert_argumentation"}),
    "market_entities": frozenset({"fair_competition_review"}),
    "npc_report_required": frozenset({"npc_report"}),
    "npc_decision_required": frozenset({"npc_resolution"}),
    **{flag: frozenset({"announce_hearing", "hearing"}) for flag in HEARING_FLAGS},
}
EXPERTS = ("专家甲", "专家乙", "专家丙", "专家丁")
NOT_A_TRIGGER = ("teleport_to_published", "publish_catalogue")
MAX_DECISIONS = 4  # per example, of which at most MAX_OPEN not yet archived
MAX_OPEN = 2
# Random text of any code point, lone surrogates and NUL included: the service layer is a door of its own
# (a web form or a script may call it without `decisions.service.inputs`). Text that cannot be stored the
# same way everywhere (a NUL, a lone surrogate) must be refused alike on both backends; the rest is stored.
TEXT = st.text(st.characters(exclude_categories=()), max_size=12)
PREFIX = (6, 30)  # how many guided actions take the first decision along before the first checked step
MAIN_FIELDS = {s.trigger: s.fields for s in MAIN_PATH}


def _reachable(start: str, avoid: str | None = None) -> set[str]:
    seen, todo = {start}, [start]
    while todo:
        for t in WF.transitions_from(todo.pop()):
            if t.dest != avoid and t.dest not in seen:
                seen.add(t.dest)
                todo.append(t.dest)
    return seen


# states a decision can only be in after it went to discussion
AFTER_DISCUSSION = frozenset(_reachable("in_discussion") - _reachable(WF.initial, avoid="in_discussion"))


def _transition_for(wf: WorkflowDef, trigger: str, state: str) -> TransitionDef | None:
    """The transition ``trigger`` fires from ``state``, else any transition with that trigger."""
    found = wf.transition(state, trigger)
    return found or next((t for t in wf.transitions if t.trigger == trigger), None)


# -- the invariants, as plain functions (also run against fabricated bad histories below) -------------


def _checked_records(wf: WorkflowDef, case: Case) -> Iterator[tuple[str, Record]]:
    """Each record of ``case`` with a description of it, after the checks every workflow shares: the
    history is a chain of the workflow's edges, each made in a role the transition allows by a person
    who holds it, in date order and not in the future, its draft version counting draft documents."""
    state, last_on, draft_version = wf.initial, None, 0
    for i, r in enumerate(case.records, 1):
        where = f"{case.id} #{r.seq} {r.trigger} by {r.actor} as {r.role} ({r.from_state} → {r.to_state}, {r.on})"
        assert r.seq == i and r.from_state == state, f"{where}: the history is not a chain (expected from {state})"
        t = wf.transition(r.from_state, r.trigger)
        assert t is not None and t.dest == r.to_state, f"{where}: the workflow has no such edge"
        assert r.role in t.roles, f"{where}: role {r.role!r} is not among the roles {t.roles} the transition allows"
        person = PEOPLE.get(r.actor)
        assert person is not None and r.role in person.roles, f"{where}: {r.actor} does not hold role {r.role!r}"
        assert last_on is None or r.on >= last_on, f"{where}: happened before the previous event ({last_on})"
        assert r.on <= TODAY, f"{where}: happened in the future"
        changes = any(wf.documents[d.kind].draft for d in r.documents)
        assert r.changes_draft == changes, f"{where}: changes_draft={r.changes_draft} but carries a draft: {changes}"
        assert r.draft_version == draft_version + changes, f"{where}: draft version {r.draft_version} skipped"
        draft_version = r.draft_version
        yield where, r
        state, last_on = r.to_state, r.on
    assert case.state == state, f"{case.id}: stored state {case.state!r}, history ends in {state!r}"


def check_history(case: Case) -> None:
    """Every record of decision ``case`` obeys the gates, the roles and the separation of duties."""
    attributes: dict[str, Any] = WF.attribute_defaults()
    last_review = None
    drafters: set[str] = set()
    submitters: set[str] = set()
    approved_since_draft = False
    party_reported = False
    kinds_seen: set[str] = set()
    for where, r in _checked_records(WF, case):
        if r.trigger == "reassess_attributes":
            for flag, stage in STAGE_RECORDS.items():
                if r.fields.get(flag) is False:
                    assert attributes.get(flag) is not True and not kinds_seen & stage, (
                        f"{where}: the organiser cleared {flag} after it was set or its stage was recorded"
                    )
        if r.trigger in REVIEW_TRIGGERS and r.kind == "legality_review":
            opinions = [o for o in case.records[: r.seq - 1] if o.kind == "legal_opinion"]
            assert opinions and opinions[-1].actor != r.actor and opinions[-1].draft_version == r.draft_version, (
                f"{where}: a review opinion without a legal adviser's opinion by another person on this draft"
            )
        if r.trigger in ("submit_for_discussion", "approve"):
            assessments = [a for a in case.records[: r.seq - 1] if a.kind == "risk_assessment"]
            assert not assessments or assessments[-1].fields.get("conclusion") == "controllable", (
                f"{where}: went forward on a risk assessed not controllable (Art. 24)"
            )
        if r.trigger in REVIEW_TRIGGERS:
            assert r.actor not in drafters | submitters, (
                f"{where}: separation of duties broken: the reviewer drafted ({sorted(drafters)}) or submitted "
                f"({sorted(submitters)}) the draft under review"
            )
        if r.changes_draft:
            drafters.add(r.actor)
            approved_since_draft = False
        if r.trigger in REVIEW_SUBMISSIONS:
            submitters.add(r.actor)
        for name, value in r.fields.items():
            if WF.fields[name].attribute:
                attributes[name] = value
        if r.kind == "legality_review":
            last_review = r
        if r.to_state in GATED:
            assert last_review is not None, f"{where}: passed the legality-review gate without any review"
            outcome = last_review.fields.get("outcome")
            assert outcome == "lawful" or (
                outcome == "legal_risk_disclosed" and attributes.get("exploratory_reform") is True
            ), f"{where}: passed the legality-review gate on a review that found {outcome!r}"
            assert last_review.draft_version == r.draft_version, (
                f"{where}: passed the legality-review gate with draft v{r.draft_version}, "
                f"but the review (#{last_review.seq}) covered v{last_review.draft_version}"
            )
        if r.trigger == "approve":
            approved_since_draft = r.fields.get("decision") == "approve" and any(
                d.kind == "minutes" for d in r.documents
            )
        if r.to_state in {"decided", "published"}:
            assert approved_since_draft, f"{where}: decided without an approving meeting on this draft"
        if r.kind == "party_report":
            party_reported = True
        if r.to_state == "published":
            assert party_reported, f"{where}: published without the Party committee report"
            earlier = case.records[: r.seq - 1]
            if any(p.kind == "party_report" and p.fields.get("party_report_kind") == "request" for p in earlier):
                replies = [p for p in earlier if p.kind == "party_reply"]
                assert replies and replies[-1].draft_version == r.draft_version, (
                    f"{where}: published a request (请示) without the committee's reply on this draft"
                )
        kinds_seen.add(r.kind)
    if case.state in AFTER_DISCUSSION:
        submissions = [r for r in case.records if r.trigger == "submit_for_discussion"]
        assert submissions, f"{case.id}: in {case.state} but never submitted for discussion"
        submitted = submissions[-1]
        reviews = [r for r in case.records[: submitted.seq - 1] if r.kind == "legality_review"]
        assert reviews, f"{case.id}: in {case.state}, submitted for discussion without a review"
        assert reviews[-1].draft_version == submitted.draft_version, (
            f"{case.id}: in {case.state}, submitted draft v{submitted.draft_version} for discussion, "
            f"reviewed v{reviews[-1].draft_version}"
        )


# -- the machine ------------------------------------------------------------------------------------

# keyed by "<backend>/<workflow>"
STATS: defaultdict[str, Counter[str]] = defaultdict(Counter)
REFUSALS: defaultdict[str, Counter[str]] = defaultdict(Counter)  # rule ids of refusals
REPLAY_ENGINES: dict[tuple[str, str], Any] = {}  # (fingerprint, workflow) -> the engine replay built
FAST_TMP = "/dev/shm" if os.path.isdir("/dev/shm") and os.access("/dev/shm", os.W_OK) else None
STATES: defaultdict[str, Counter[str]] = defaultdict(Counter)  # states seen at checks


def _text(data: st.DataObject, default: str, label: str) -> str:
    return data.draw(st.sampled_from([default, default, default, f"{default}（补充）"]), label=label)


class DecisionHistories(RuleBasedStateMachine):
    """Random histories of a few decisions in one fresh database."""

    backend: ClassVar[str] = "sqlite"
    wf: ClassVar[WorkflowDef] = WF
    decisions = Bundle("decisions")

    def __init__(self) -> None:
        super().__init__()
        self.key = f"{self.backend}/{self.wf.name}"
        self.stats = STATS[self.key]
        self.stats["examples"] += 1
        self.versions: dict[str, int] = {}  # accepted actions per decision, as the model counts them
        self.states: dict[str, bool] = {}  # decision -> still open (not archived)
        self.checked: dict[str, int] = {}  # the version each decision's history was last checked at
        self.verified: object = None  # what the database held when it last verified
        self.attempts = 0
        # a fresh database per example (initialize rules run in random order, so it is made here)
        self.tmp = Path(tempfile.mkdtemp(prefix="decisions-properties-", dir=FAST_TMP))
        self.urls: Iterator[str] = new_database_url(self.backend, self.tmp)
        self.db = Database(next(self.urls), documents=self.tmp / "documents")
        self.db.migrate()
        self.service = CaseService(self.db, DEFINITIONS, clock=fixed_clock, outside=supplied_catalogue)
        self.audit = AuditService(self.service)
        # Replay builds its engine from the definition texts stored in this database. They are the same
        # texts (same fingerprint) in every example, so the engine the first example built from them is
        # reused: loading and proving the definitions again would cost more than the whole example.
        self.audit._engines.update(REPLAY_ENGINES)

    def teardown(self) -> None:
        self.db.dispose()
        self.urls.close()  # drops the PostgreSQL database
        shutil.rmtree(self.tmp, ignore_errors=True)

    # -- rules ----------------------------------------------------------------------------------

    @initialize(target=decisions, data=st.data())
    def a_decision_some_way_along(self, data: st.DataObject) -> Any:
        """One decision proposed and taken some way along by guided actions: depth without paying the
        per-step checks for every action (the checks after this step cover its whole history)."""
        self.stats["steps"] += 1
        case_id = self._propose(data, wild=False)
        if case_id is None:
            return multiple()
        for _ in range(data.draw(st.integers(*PREFIX), label="guided actions")):
            self._act(case_id, data, wild=False)
        return case_id

    @precondition(lambda self: self._may_propose())
    @rule(target=decisions, data=st.data())
    def propose(self, data: st.DataObject) -> Any:
        self.stats["steps"] += 1
        case_id = self._propose(data, wild=data.draw(st.integers(0, 5), label="wild") == 5)
        return multiple() if case_id is None else case_id

    @rule(decision=decisions, data=st.data())
    def act(self, decision: str, data: st.DataObject) -> None:
        self.stats["steps"] += 1
        self._act(decision, data, wild=data.draw(st.integers(0, 4), label="wild") == 4)

    # -- what differs between workflows (the catalogue machine overrides these) -------------------

    def check_history(self, case: Case) -> None:
        check_history(case)

    def _plan(self, case: Case) -> list[str]:
        return _plan(case)

    def _date_hint(self, case: Case, trigger: str) -> date | None:
        return _date_hint(case, trigger)

    def _past_gate(self, state: str) -> bool:
        return state in AFTER_DISCUSSION or state in GATED

    def _may_propose(self) -> bool:
        return len(self.states) < MAX_DECISIONS and sum(self.states.values()) < MAX_OPEN

    def _open(self, state: str) -> bool:
        return state != "archived"

    # -- one action -----------------------------------------------------------------------------

    def _propose(self, data: st.DataObject, wild: bool) -> str | None:
        self.stats["proposals"] += 1
        self.attempts += 1
        case_id = f"D-{self.attempts}"
        flags = data.draw(st.sets(st.sampled_from(FLAGS), max_size=3), label="flags")
        source = data.draw(st.sampled_from(["department", "leader", "public", "lower_gov"]), label="source")
        fields: dict[str, Any] = {"title": "城区公交票价调整", "category": "public_policy", "source": source}
        if source in ("department", "lower_gov"):
            fields |= {k: v for k, v in MAIN_FIELDS["propose"].items() if k not in fields}
        if source == "public":
            fields["written"] = True
        fields |= {flag: True for flag in flags}
        if "non_disclosable" in flags:
            fields["nondisclosure_basis"] = "《保守国家秘密法》"
        start = date(2025, 1, 2) + timedelta(days=data.draw(st.integers(0, 120), label="start"))
        return self._start(data, case_id, start, fields, wild)

    def _start(self, data: st.DataObject, case_id: str, on: date, fields: dict[str, Any], wild: bool) -> str | None:
        """Start ``case_id`` with the workflow's first action carrying ``fields`` (mutated when wild)."""
        (t,) = self.wf.transitions_from(self.wf.initial)
        if wild:
            fields = self._mutate_fields(data, fields, t)
        actor = self._actor(data, t, wild)
        docs, blobs = self._documents(data, case_id, 0, t, wild)
        action = Action(t.trigger, actor, on, fields, docs)
        try:
            fired = self.service.start(self.wf.name, case_id, action, blobs)
        except ActionRefused as exc:
            self._refused(exc, action, t)
            assert self.service.repository.head(case_id) is None, f"refused start of {case_id} wrote a case"
            return None
        self._accepted(fired.record, action, self.wf.initial)
        self.versions[case_id] = 1
        self.states[case_id] = True
        return case_id

    def _act(self, decision: str, data: st.DataObject, wild: bool) -> None:
        view = self.service.view(decision)
        case = view.case
        trigger = self._trigger(data, case, wild)
        t = _transition_for(self.wf, trigger, case.state)
        actor = self._actor(data, t, wild)
        role = data.draw(st.sampled_from([None, None, *sorted(self.wf.roles)]), label="as role") if wild else None
        on = self._date(data, case, trigger, wild)
        fields = self._fields(data, case, trigger, on)
        if wild and t is not None:
            fields = self._mutate_fields(data, fields, t)
        docs, blobs = self._documents(data, decision, view.version, t, wild)
        expected = (
            data.draw(st.sampled_from([None, view.version, view.version - 1]), label="expected") if wild else None
        )
        action = Action(trigger, actor, on, fields, docs, role)
        self.stats["actions"] += 1
        try:
            fired = self.service.act(decision, action, expected_version=expected, blobs=blobs)
        except ActionRefused as exc:
            self._refused(exc, action, self.wf.transition(case.state, trigger))
            assert self.service.view(decision) == view, f"a refused {trigger} changed {decision}"
            return
        except ConflictError:
            self.stats["conflicts"] += 1
            assert expected is not None and expected != view.version, "a conflict without a stale version"
            assert self.service.view(decision) == view, f"a conflicting {trigger} changed {decision}"
            return
        except UsageError:
            self.stats["usage_errors"] += 1
            future = action.on > self.service.today()  # a date slip is a usage error, not a refusal
            assert future or trigger not in self.wf.triggers, (
                f"{trigger} is a trigger of the workflow, yet a usage error"
            )
            assert self.service.view(decision) == view, f"an unknown trigger {trigger} changed {decision}"
            return
        assert expected in (None, view.version), "an action with a stale expected version was accepted"
        self._accepted(fired.record, action, case.state)
        self.versions[decision] += 1
        self.states[decision] = self._open(fired.case.state)

    # -- invariants -----------------------------------------------------------------------------

    @invariant()
    def histories_hold_and_the_audit_agrees(self) -> None:
        for case_id, count in self.versions.items():
            view = self.service.view(case_id)
            assert view.version == count == self._events(view.case), (
                f"{case_id}: stored version {view.version} with {self._events(view.case)} events, "
                f"but {count} actions were accepted"
            )
            if self.checked.get(case_id) == count:
                continue  # unchanged since its last check (verify below proves nothing else moved)
            self.check_history(view.case)
            replay = self.audit.replay(case_id)
            flags = [f for s in replay.steps for f in s.flags if not f.startswith("note:")]
            assert replay.ok and replay.replayed_state == replay.stored_state == view.case.state, (
                f"{case_id}: replay ends in {replay.replayed_state}, stored {replay.stored_state}: {flags[:3]}"
            )
            self.checked[case_id] = count
            STATES[self.key][view.case.state] += 1
            if self._past_gate(view.case.state):
                self.stats["past_a_gate"] += 1
        REPLAY_ENGINES.update(self.audit._engines)
        stored = self._stored()
        if stored == self.verified:
            return  # nothing was written since the last verification (a refusal): its result stands
        report = self.audit.verify()
        assert report.ok, f"audit verify: {[str(f) for f in report.findings[:5]]}"
        assert (report.cases, report.events) == (len(self.versions), sum(self.versions.values())), (
            f"audit sees {report.cases} cases / {report.events} events, the model {len(self.versions)} / "
            f"{sum(self.versions.values())}"
        )
        self.verified = stored
        self.stats["checks"] += 1

    def _events(self, case: Case) -> int:
        """The events a case's snapshot stands for (a machine that corrects counts its errata too)."""
        return len(case.records)

    def _stored(self) -> object:
        """What verification reads: every chain head, the document rows and their bytes' chunk rows."""
        heads = [(h.id, h.version, h.head_hash, h.state) for h in self.service.repository.iter_heads()]
        with self.db.read() as conn:
            rows = conn.execute(text("SELECT count(*) FROM documents")).scalar_one()
            chunks = conn.execute(text("SELECT count(*) FROM document_chunks")).scalar_one()
        return heads, rows, chunks

    # -- bookkeeping ----------------------------------------------------------------------------

    def _accepted(self, record: Any, action: Action, state: str) -> None:
        t = self.wf.transition(state, action.trigger)
        assert t is not None, f"{action.trigger} accepted from {state}, where the workflow has no such edge"
        assert record.role in t.roles and record.role in action.actor.roles, (
            f"{action.trigger} accepted for {action.actor.id} as {record.role}; allowed {t.roles}"
        )
        assert action.role in (None, record.role), f"asked to act as {action.role}, recorded as {record.role}"
        self.stats["accepted"] += 1
        self.stats["accepted:" + action.trigger] += 1
        if action.trigger == "amend_draft":
            self.stats["amended_after_review"] += 1

    def _refused(self, exc: ActionRefused, action: Action, t: TransitionDef | None) -> None:
        self.stats["refused"] += 1
        ids = {u.rule_id for u in exc.unmet}
        REFUSALS[self.key].update(ids)
        if "national.reviewer_independent_of_drafter" in ids:
            self.stats["refused_drafter_reviewing"] += 1
        if ids & {g.rule for g in self.wf.gates.values()}:
            self.stats["refused_at_gate"] += 1
        assert ids, f"{action.trigger} refused without a reason"
        if any(i.startswith("service.") for i in ids):  # the service refuses bad dates, documents, links first
            links = {f"service.case_link.{n}" for n, f in self.wf.fields.items() if f.type is FieldType.CASE}
            allowed = {f"service.document.{k}" for k in self.wf.documents} | links
            assert ids <= allowed, sorted(ids)
            self.stats["refused_by_service"] += 1
            return
        if t is None:
            assert "engine.unavailable" in ids, f"{action.trigger} refused off its edges without engine.unavailable"
            return
        if action.role is None:
            may = bool(set(t.roles) & action.actor.roles)
        else:
            may = action.role in t.roles and action.role in action.actor.roles
        if may:
            assert "engine.role" not in ids, (
                f"{action.actor.id} may {action.trigger} (as {action.role}), yet engine.role"
            )
        else:
            assert "engine.role" in ids, f"{action.actor.id} may not {action.trigger} (as {action.role}): {sorted(ids)}"
            self.stats["refused_for_role"] += 1

    # -- drawing an action ----------------------------------------------------------------------

    def _trigger(self, data: st.DataObject, case: Case, wild: bool) -> str:
        if wild:
            everything = sorted(self.wf.triggers) + list(NOT_A_TRIGGER)
            return data.draw(st.sampled_from(everything), label="trigger (wild)")
        plan = self._plan(case) or sorted(self.wf.triggers)
        return data.draw(st.sampled_from(plan), label="trigger")

    def _actor(self, data: st.DataObject, t: TransitionDef | None, wild: bool) -> Actor:
        holders = sorted(p for p, a in PEOPLE.items() if t is not None and a.roles & set(t.roles))
        people = holders if holders and not wild else sorted(PEOPLE)
        return PEOPLE[data.draw(st.sampled_from(people), label="actor")]

    def _date(self, data: st.DataObject, case: Case, trigger: str, wild: bool) -> date:
        last = case.last_on or date(2025, 1, 2)
        hint = self._date_hint(case, trigger)
        if not wild:
            if hint is not None:
                return hint
            return min(last + timedelta(days=data.draw(st.integers(0, 4), label="days later")), TODAY)
        how = data.draw(st.sampled_from(["soon", "before", "future", "any", "hint"]), label="when")
        if how == "before":
            return last - timedelta(days=data.draw(st.integers(1, 30), label="days before"))
        if how == "future":
            return TODAY + timedelta(days=data.draw(st.integers(1, 30), label="days ahead"))
        if how == "any" and last < TODAY:
            return last + timedelta(days=data.draw(st.integers(0, (TODAY - last).days), label="days later"))
        if how == "hint" and hint is not None:
            return hint
        return last + timedelta(days=data.draw(st.integers(0, 4), label="days later"))

    def _fields(self, data: st.DataObject, case: Case, trigger: str, on: date) -> dict[str, Any]:
        return _seed_fields(data, case, trigger, on)

    def _mutate_fields(self, data: st.DataObject, fields: dict[str, Any], t: TransitionDef) -> dict[str, Any]:
        fields = dict(fields)
        how = data.draw(st.sampled_from(["keep", "drop", "extra", "wrong_type", "text"]), label="mutate fields")
        if how == "drop" and fields:
            del fields[data.draw(st.sampled_from(sorted(fields)), label="drop field")]
        elif how == "extra":
            others = sorted(set(self.wf.fields) - set(t.all_fields))
            if others:
                name = data.draw(st.sampled_from(others), label="extra field")
                fields[name] = _plausible_value(self.wf, name)
        elif how == "wrong_type" and fields:
            name = data.draw(st.sampled_from(sorted(fields)), label="wrong-type field")
            fields[name] = _wrong_value(self.wf, name)
        elif how == "text":
            texts = [n for n in sorted(fields) if self.wf.fields[n].type in (FieldType.STRING, FieldType.TEXT)]
            for name in texts:
                fields[name] = data.draw(TEXT, label=f"text {name}")
        return fields

    def _documents(
        self, data: st.DataObject, case_id: str, seq: int, t: TransitionDef | None, wild: bool
    ) -> tuple[tuple[Document, ...], dict[str, bytes]]:
        if t is None:
            return (), {}
        kinds = list(t.requires_documents)
        for kind in t.accepts_documents:
            if kind not in kinds and (not wild or data.draw(st.booleans(), label=f"with {kind}")):
                kinds.append(kind)
        ghost = False
        if wild:
            how = data.draw(st.sampled_from(["keep", "drop", "foreign", "ghost"]), label="mutate documents")
            if how == "drop" and kinds:
                kinds.remove(data.draw(st.sampled_from(kinds), label="drop document"))
            elif how == "foreign":
                kinds.append(
                    data.draw(st.sampled_from(sorted(set(self.wf.documents) - set(t.all_documents))), label="doc")
                )
            ghost = how == "ghost" and bool(kinds)
        docs, blobs = [], {}
        for n, kind in enumerate(kinds):
            body = f"{case_id} #{seq + 1} {kind} {n}".encode()
            sha = hashlib.sha256(body).hexdigest()
            docs.append(Document(kind, sha, name=f"{kind}.pdf"))
            if not (ghost and n == 0):  # a ghost: named by digest, but its bytes were never provided
                blobs[sha] = body
        return tuple(docs), blobs


# -- the planner: what a diligent office would do next (guided steps) ---------------------------------


def _records(case: Case, kind_or_trigger: str) -> list[Any]:
    return [r for r in case.records if kind_or_trigger in (r.kind, r.trigger)]


def _documents_of(case: Case, kind: str) -> int:
    return sum(1 for r in case.records for d in r.documents if d.kind == kind)


def _experts(case: Case) -> set[str]:
    return {r.fields.get("expert") for r in _records(case, "expert_opinion") if r.fields.get("signed")}


def _plan(case: Case) -> list[str]:
    """Triggers from the case's state, the step the procedure needs next repeated to make it likely."""
    a = {**WF.attribute_defaults(), **case.attributes}
    s = case.state
    stale = bool(_records(case, "legality_review")) and (
        _records(case, "legality_review")[-1].draft_version != case.draft_version
    )
    if s == "proposed":
        return ["launch"] * 12 + ["exclude", "decline"]
    if s == "drafting":
        if not _documents_of(case, "draft"):
            return ["submit_draft"] * 4 + ["reassess_attributes"]
        if a.get("non_disclosable"):
            return ["exempt_participation"] * 4 + ["submit_draft", "reassess_attributes"]
        return ["open_consultation"] * 3 + ["record_participation", "submit_draft", "reassess_attributes"]
    if s == "public_consultation":
        return ["close_consultation"]
    if s == "argumentation":
        needs = []
        experts_needed = len(_experts(case)) < 3 or not _records(case, "expert_argumentation")  # Youxian: 3
        if a.get("technical") and experts_needed:
            needs.append("commission_experts")
        risk = _records(case, "risk_assessment")
        if a.get("risk") and (not risk or risk[-1].fields.get("conclusion") != "controllable"):
            needs.append("start_risk_assessment")
        if a.get("market_entities") and not _records(case, "fair_competition_review"):
            needs.append("start_fair_competition_review")
        if any(a.get(f) for f in HEARING_FLAGS) and not _records(case, "hearing"):
            needs.append("announce_hearing")
        heard = _records(case, "close_consultation") or _records(case, "participation") or _records(case, "hearing")
        if not a.get("non_disclosable") and not heard:
            needs.append("open_consultation")
        return (needs[:1] or ["submit_legality_review"]) * 5 + ["revise_draft", "reassess_attributes"]
    if s == "hearing_preparation":
        return ["hold_hearing"] * 5 + ["cancel_hearing"]
    if s == "expert_argumentation":
        return ["record_expert_opinion"] * 4 + ["conclude_expert_argumentation"] * (1 + 4 * (len(_experts(case)) >= 3))
    if s == "risk_assessment":
        return ["complete_risk_assessment"]
    if s == "fair_competition_review":
        return ["complete_fair_competition_review"]
    if s == "legality_submitted":
        return ["accept_review"] * 5 + ["return_submission"]
    if s == "under_review":
        opinions = _records(case, "legal_opinion")
        if not opinions or opinions[-1].draft_version != case.draft_version:  # the adviser's opinion comes first
            return ["give_legal_opinion"] * 5 + ["find_lawful", "request_supplement"]
        risky = ["find_legal_risk"] * (3 if a.get("exploratory_reform") else 1)
        return ["find_lawful"] * 5 + risky + ["find_needs_revision", "find_unlawful", "request_supplement"]
    if s == "supplement_requested":
        return ["provide_supplement"]
    if s in ("reviewed_lawful", "reviewed_with_legal_risk"):
        if stale:  # the draft moved on after the review: a new review is due (submitting must be refused)
            return ["resubmit_legality_review"] * 3 + ["submit_for_discussion", "amend_draft"]
        return ["submit_for_discussion"] * 3 + ["amend_draft"] * 3 + ["resubmit_legality_review", "withdraw"]
    if s == "revision_required":
        return ["resubmit_legality_review"] * 3 + ["rework", "withdraw"]
    if s == "reviewed_unlawful":
        return ["rework"] * 3 + ["withdraw"]
    if s == "in_discussion":
        return ["approve"] * 5 + ["defer", "send_back_for_revision", "reject", "report_to_party_committee", "withdraw"]
    if s == "deferred":
        return ["resume_discussion"] * 3 + ["lapse"]
    if s == "decided":
        if not _records(case, "party_report"):
            return ["report_to_party_committee"] * 4 + ["publish"]
        asked = any(r.fields.get("party_report_kind") == "request" for r in _records(case, "party_report"))
        if asked and not _records(case, "party_reply"):
            return ["record_party_reply"] * 4 + ["publish"]
        if a.get("npc_report_required") and not _records(case, "npc_report"):
            return ["report_to_npc"] * 4 + ["publish"]
        if a.get("non_disclosable"):
            return ["execute_without_publication"] * 4 + ["publish"]
        return ["publish"] * 4 + ["report_to_npc", "execute_without_publication"]
    if s == "published":
        return ["assign_execution"]
    if s == "executing":
        return [
            "report_execution",
            "report_execution",
            "report_problem",
            "record_public_feedback",
            "suspend",
            "start_post_evaluation",
            "open_adjustment",
            "complete_execution",
            "complete_execution",
        ]
    if s == "suspended":
        return ["resume_execution"] * 2 + ["record_public_feedback", "open_adjustment", "terminate_execution"]
    if s == "post_evaluation":
        return ["complete_post_evaluation"]
    if s in ("completed", "superseded", "terminated", "rejected", "withdrawn", "lapsed", "not_launched", "excluded"):
        return ["archive"]
    return []


@cache
def _calendar() -> WorkCalendar:
    return shipped_definitions().calendar


def _date_hint(case: Case, trigger: str) -> date | None:
    """The day a step has to happen on, where the case fixes it."""
    if trigger == "close_consultation" and (opened := _records(case, "open_consultation")):
        # the day after the deadline (rolled past a rest day): the deadline day runs to 24:00
        ends = _calendar().last_day(opened[-1].fields["comment_deadline"])
        return max(ends + timedelta(days=1), case.last_on or TODAY)
    if trigger == "hold_hearing" and (announced := _records(case, "announce_hearing")):
        return announced[-1].fields["hearing_date"]
    if trigger == "lapse" and (meetings := _records(case, "meeting")):
        return meetings[-1].on + timedelta(days=366)
    return None


def _views(decision: str) -> list[dict[str, Any]]:
    return [
        {"member": "deputy_a", "position": decision},
        {"member": "deputy_b", "position": decision},
        {"member": "head_wang", "position": decision, "head": True},
    ]


def _seed_fields(data: st.DataObject, case: Case, trigger: str, on: date) -> dict[str, Any]:
    """Fields that make ``trigger`` plausible on ``case`` (the main path's where it has them)."""
    meeting = {"meeting_type": "executive", "attendees": ["deputy_a", "deputy_b", "head_wang"]}
    findings = {"authority": "compliant", "procedure": "compliant", "content": "compliant"}

    def reason() -> dict[str, Any]:
        return {"reason": _text(data, "情况发生变化", "reason")}

    def hearing() -> dict[str, Any]:
        announced = _records(case, "announce_hearing")
        if not announced:
            return {"materials_delivered_on": on - timedelta(days=8), "participants": ["甲"], "signed_by": ["甲"]}
        fields = announced[-1].fields
        return {
            "materials_delivered_on": fields["hearing_date"] - timedelta(days=8),
            "participants": list(fields["participants"]),
            "signed_by": list(fields["participants"]),
        }

    seeds: dict[str, Any] = {
        "exclude": lambda: {"exclusion_reason": "emergency", **reason()},
        "decline": reason,
        "launch": lambda: dict(MAIN_FIELDS["launch"]),
        "reassess_attributes": lambda: {
            **reason(),
            **{f: data.draw(st.booleans(), label=f) for f in data.draw(st.sets(st.sampled_from(FLAGS), max_size=2))},
        },
        "open_consultation": lambda: {"comment_deadline": on + timedelta(days=31), "channels": ["website"]},
        "exempt_participation": lambda: {"nondisclosure_basis": "《保守国家秘密法》"},
        "announce_hearing": lambda: {
            "hearing_date": on + timedelta(days=10),
            "selection_method_published_on": on,
            "participant_list_published_on": on,
            "participants": ["市民代表甲", "市民代表乙"],
        },
        "hold_hearing": hearing,
        "cancel_hearing": reason,
        "record_expert_opinion": lambda: {
            "expert": data.draw(
                st.sampled_from(sorted(set(EXPERTS) - _experts(case)) or list(EXPERTS)), label="expert"
            ),
            "expert_unit": "某大学",
            "signed": True,
            "conflict_of_interest": False,
            "drawn_at_random": True,
        },
        "start_risk_assessment": lambda: {"assessor_unit": "某评估公司"},
        "complete_risk_assessment": lambda: {
            "conclusion": data.draw(st.sampled_from(["controllable", "controllable", "not_controllable"])),
            "risk_points": ["票价上涨引发不满"],
            "prevention_measures": ["分步实施"],
            "contingency_plan": "应急预案",
            "dept_opinions": ["县发改局同意"],
            "assessor_unit": "某评估公司",
        },
        "complete_fair_competition_review": lambda: {"fair_competition_conclusion": "compliant"},
        "submit_legality_review": lambda: {"review_due": on + timedelta(days=21)},
        "resubmit_legality_review": lambda: {"review_due": on + timedelta(days=21)},
        "return_submission": reason,
        "request_supplement": reason,
        "find_lawful": lambda: dict(findings),
        "find_needs_revision": lambda: {**findings, "content": "non_compliant", **reason()},
        "find_unlawful": lambda: {**findings, "authority": "non_compliant", **reason()},
        "find_legal_risk": lambda: {**findings, "legal_risk": "国家尚无明确规定"},
        "rework": reason,
        "withdraw": reason,
        "report_to_party_committee": lambda: {
            "party_report_kind": data.draw(st.sampled_from(["report", "request"]), label="party_report_kind")
        },
        "record_party_reply": lambda: {"party_reply": "同意"},
        "approve": lambda: dict(MEETING),
        "reject": lambda: {**meeting, "views": _views("reject")},
        "send_back_for_revision": lambda: {**meeting, "views": _views("revise")},
        "defer": lambda: {**meeting, "views": _views("defer")},
        "resume_discussion": reason,
        "publish": lambda: {"publication_channels": ["gazette", "website"]},
        "assign_execution": lambda: {"executor_unit": "县公交公司"},
        "report_execution": lambda: {"summary": "平稳实施"},
        "report_problem": lambda: {"problem": "部分线路客流下降"},
        "record_public_feedback": lambda: {"summary": "群众反映良好"},
        "suspend": lambda: {"urgency_reason": "突发事件"},
        "resume_execution": lambda: {**reason(), **meeting, "views": _views("approve")},
        "terminate_execution": lambda: {**reason(), **meeting, "views": _views("approve")},
        "start_post_evaluation": lambda: {"evaluator_unit": "第三方评估机构", "evaluation_trigger": "discretionary"},
        "complete_post_evaluation": lambda: {
            "summary": "效果良好",
            "public_opinion_heard": "问卷调查",
            "participating_bodies": ["人大代表"],
        },
        "open_adjustment": lambda: {**reason(), **meeting, "views": _views("approve"), "new_decision": "D-2026-001"},
        "record_participation": lambda: {
            "participation_method": "forum",
            "participation_date": on,
            "summary": "座谈会",
        },
        "execute_without_publication": lambda: {"executor_unit": "县人防办"},
        "complete_execution": lambda: {"summary": "执行完毕"},
    }
    seed = seeds.get(trigger)
    return seed() if seed is not None else {}


def _plausible_value(wf: WorkflowDef, name: str) -> Any:
    return {
        FieldType.STRING: "某值",
        FieldType.TEXT: "某段文字",
        FieldType.DATE: date(2025, 6, 1),
        FieldType.INTEGER: 3,
        FieldType.BOOLEAN: True,
        FieldType.LIST: ["某项"],
    }.get(wf.fields[name].type, wf.fields[name].values[0] if wf.fields[name].values else "x")


def _wrong_value(wf: WorkflowDef, name: str) -> Any:
    return {
        FieldType.STRING: 123,
        FieldType.TEXT: ["not", "text"],
        FieldType.DATE: "2025-06-01",
        FieldType.INTEGER: "three",
        FieldType.BOOLEAN: "yes",
        FieldType.LIST: "某项",
        FieldType.ENUM: "bogus",
    }.get(wf.fields[name].type, [])


# -- the tests ------------------------------------------------------------------------------------


# -- the annual catalogue: the same machine on the catalogue workflow ------------------------------------

CAT = DEFINITIONS.workflow("catalogue")
CAT_SCREENED = frozenset({"awaiting_meeting", "adjustment_awaiting_meeting", "published"})  # the screening gate
CAT_PUBLISH = frozenset({"publish_catalogue", "publish_adjustment"})
MAX_CATALOGUES = 2  # per example (one per year)
ITEM_IDS = ("01", "02", "03", "04")


def check_catalogue_history(case: Case) -> None:
    """Every record of catalogue ``case`` obeys the three gates (screening, executive meeting, Party
    consent, each of the exact version), and every version lists what the records put in it."""
    screened = approved = consented = None  # the draft version each last covered
    suggested: set[str] = set()
    included: set[str] = set()
    compiled_from_screening: dict[int, set[str]] = {}
    published: set[int] = set()
    for where, r in _checked_records(CAT, case):
        if r.kind == "suggestion":
            suggested.add(r.fields["item_id"])
        if r.kind == "item_screening":
            (included.add if r.fields["screening_result"] == "include" else included.discard)(r.fields["item_id"])
        if r.changes_draft and r.from_state == "screening":
            compiled_from_screening[r.draft_version] = suggested & included
        if r.kind == "screening_opinion":
            screened = r.draft_version
        if r.kind == "meeting_approval":
            assert r.fields.get("meeting_type") in ("executive", "plenary"), f"{where}: approved outside a meeting"
            approved = r.draft_version
        if r.kind == "party_consent":
            consented = r.draft_version
        if r.to_state in CAT_SCREENED and r.from_state != r.to_state:
            assert r.draft_version >= 1 and screened == r.draft_version, (
                f"{where}: passed the screening gate with catalogue v{r.draft_version}, screened v{screened}"
            )
        if r.to_state == "published" and r.from_state != "published":
            assert approved == r.draft_version, (
                f"{where}: published v{r.draft_version}, the meeting approved v{approved}"
            )
            assert consented == r.draft_version, (
                f"{where}: published v{r.draft_version}, the Party consented to v{consented}"
            )
        if r.trigger in CAT_PUBLISH:
            published.add(r.draft_version)
    found = versions(case, CAT.catalogue)
    assert [v.version for v in found] == list(range(1, case.draft_version + 1)), f"{case.id}: versions {found}"
    assert {v.version for v in found if v.published_on} == published, f"{case.id}: published versions differ"
    for v in found:
        if v.version in compiled_from_screening:
            assert {i.id for i in v.items} == compiled_from_screening[v.version], (
                f"{case.id} v{v.version}: lists {[i.id for i in v.items]}, screened in "
                f"{sorted(compiled_from_screening[v.version])}"
            )


def _covered(case: Case, kind: str) -> bool:
    """Whether the latest ``kind`` record covers the current draft version."""
    found = _records(case, kind)
    return bool(found) and found[-1].draft_version == case.draft_version >= 1


def _catalogue_plan(case: Case) -> list[str]:
    s = case.state
    if s == "collecting":
        return ["suggest_item"] * 3 + ["close_call"] * 2
    if s in ("screening", "adjustment_compiled"):
        compile_ = "compile_catalogue" if s == "screening" else "compile_adjustment"
        submit = "submit_for_approval" if s == "screening" else "submit_adjustment"
        if s == "screening" and not _records(case, "item_screening"):
            return ["screen_item"] * 4 + [compile_]
        if case.draft_version == 0:
            return ["compile_catalogue"] * 4 + ["screen_item"]
        if not _covered(case, "screening_opinion"):
            return ["certify_screening"] * 4 + [submit, "compile_catalogue"]
        return [submit] * 4 + ["compile_catalogue", "screen_item"]  # recompiling makes the screening stale
    if s == "awaiting_meeting":
        return ["approve_at_meeting"] * 4 + ["return_for_rescreening"]
    if s == "awaiting_party_consent":
        return ["record_party_consent"] * 4 + ["return_for_rescreening"]
    if s == "approved":
        return ["publish_catalogue"]
    if s == "published":
        return ["request_adjustment"] * 3 + ["disclose_year_end"]
    if s == "adjustment_requested":
        return ["compile_adjustment"] * 3 + ["screen_item", "reject_adjustment"]
    if s == "adjustment_awaiting_meeting":
        return ["approve_adjustment"] * 4 + ["return_adjustment"]
    if s == "adjustment_awaiting_consent":
        return ["record_adjustment_consent"] * 4 + ["return_adjustment"]
    if s == "adjustment_approved":
        return ["publish_adjustment"]
    if s == "disclosed":
        return ["close_year"]
    return []


def _catalogue_fields(data: st.DataObject, case: Case, trigger: str, on: date) -> dict[str, Any]:
    year = case.attributes.get("year", 2025)
    item = f"{year}-{data.draw(st.sampled_from(ITEM_IDS), label='item')}"
    seeds: dict[str, Any] = {
        "suggest_item": lambda: {**CATALOGUE_ITEM, "item_id": item},
        "screen_item": lambda: {
            "item_id": item,
            "screening_result": data.draw(st.sampled_from(["include", "include", "exclude"]), label="screening"),
        },
        "approve_at_meeting": lambda: {"meeting_type": data.draw(st.sampled_from(["executive", "plenary"]))},
        "approve_adjustment": lambda: {"meeting_type": "executive"},
        "return_for_rescreening": lambda: {"reason": "须重新梳理"},
        "return_adjustment": lambda: {"reason": "须重新汇编"},
        "reject_adjustment": lambda: {"reason": "不符合调整条件"},
        "publish_catalogue": lambda: {"publication_channels": ["website"]},
        "publish_adjustment": lambda: {"publication_channels": ["website"]},
        "request_adjustment": lambda: {
            "adjustment_kind": data.draw(st.sampled_from(["add", "change", "remove"]), label="adjustment"),
            "item_id": item,
            "item_name": "城区停车收费标准调整",
            "reason": "群众反映强烈",
        },
        "disclose_year_end": lambda: {"completed_items": [f"{year}-01"]},
    }
    seed = seeds.get(trigger)
    return seed() if seed is not None else {}


class CatalogueHistories(DecisionHistories):
    """Random histories of the annual catalogue (one or two years) in one fresh database: the same
    rules, checks and bookkeeping as for decisions, with the catalogue's planner and invariants."""

    wf: ClassVar[WorkflowDef] = CAT

    def check_history(self, case: Case) -> None:
        check_catalogue_history(case)

    def _plan(self, case: Case) -> list[str]:
        return _catalogue_plan(case)

    def _date_hint(self, case: Case, trigger: str) -> date | None:
        return None

    def _past_gate(self, state: str) -> bool:
        return state in CAT_SCREENED or state.startswith("adjustment_") or state in ("disclosed", "closed")

    def _fields(self, data: st.DataObject, case: Case, trigger: str, on: date) -> dict[str, Any]:
        return _catalogue_fields(data, case, trigger, on)

    def _may_propose(self) -> bool:
        return len(self.states) < MAX_CATALOGUES

    def _propose(self, data: st.DataObject, wild: bool) -> str | None:
        self.stats["proposals"] += 1
        self.attempts += 1
        year = data.draw(st.sampled_from([2025, 2026]), label="year")
        case_id = f"CAT-{year}-{self.attempts}"
        start = date(2024, 11, 1) + timedelta(days=data.draw(st.integers(0, 60), label="start"))
        fields: dict[str, Any] = {"year": year, "deadline": start + timedelta(days=30)}
        return self._start(data, case_id, start, fields, wild)

    def _open(self, state: str) -> bool:
        return state != "closed"


def _summary(key: str, ran: Mapping[str, int], states: Mapping[str, int]) -> str:
    return (
        f"[test_properties/{key}] profile={PROFILE}: {ran['examples']} examples, {ran['steps']} steps "
        f"({ran['proposals']} proposals, {ran['actions']} actions), {ran['accepted']} accepted, "
        f"{ran['refused']} refused ({ran['refused_for_role']} for the role, {ran['refused_at_gate']} at a gate, "
        f"{ran['refused_drafter_reviewing']} a drafter reviewing), {ran['conflicts']} conflicts, "
        f"{ran['usage_errors']} usage errors, {ran['amended_after_review']} amendments after a review, "
        f"{ran['checks']} invariant checks, {ran['past_a_gate']} of them on cases past a gate; "
        f"states seen: {', '.join(f'{s}×{n}' for s, n in sorted(states.items()) if n)}"
    )


MACHINES: dict[str, type[DecisionHistories]] = {"major_decision": DecisionHistories, "catalogue": CatalogueHistories}


@pytest.mark.parametrize("workflow", sorted(MACHINES))
@pytest.mark.parametrize("backend", BACKENDS)
def test_random_histories_keep_every_invariant(backend: str, workflow: str, tmp_path: Path) -> None:
    probe = new_database_url(backend, tmp_path)  # skips (or, under CI=true, fails) if PostgreSQL is unreachable
    next(probe)
    probe.close()
    base = MACHINES[workflow]
    machine = type(f"{base.__name__}_{backend}", (base,), {"backend": backend})
    key = f"{backend}/{workflow}"
    before, states_before = Counter(STATS[key]), Counter(STATES[key])
    run_state_machine_as_test(machine, settings=SETTINGS)
    ran, states = Counter(STATS[key]), Counter(STATES[key])
    ran.subtract(before)
    states.subtract(states_before)
    report_count(_summary(key, ran, states))
    assert ran["steps"] > 0 and ran["accepted"] > 0 and ran["checks"] > 0


def test_the_machines_ran_and_counted() -> None:
    """Runs after the machines (file order): they played steps and accepted actions."""
    ran = [key for key, stats in STATS.items() if stats["steps"]]
    if not ran:
        pytest.skip("no machine ran in this session (deselected or skipped)")
    for key in ran:
        assert STATS[key]["accepted"] > 0 and STATS[key]["checks"] > 0, (key, dict(STATS[key]))


# -- the invariants can fail: fabricated bad histories (no database) -----------------------------------


@pytest.fixture(scope="module")
def decided_case() -> Case:
    story = Story(DEFINITIONS)
    return story.walk("publish").case


def _with(case: Case, seq: int, **changes: Any) -> Case:
    records = list(case.records)
    records[seq - 1] = replace(records[seq - 1], **changes)
    return replace(case, records=tuple(records))


def _seq(case: Case, trigger: str) -> int:
    return next(r.seq for r in case.records if r.trigger == trigger)


def test_the_history_check_accepts_the_main_path(decided_case: Case) -> None:
    check_history(decided_case)
    check_history(Story(DEFINITIONS).walk("end").case)


def test_the_history_check_catches_a_gate_passed_on_a_stale_review(decided_case: Case) -> None:
    # the record after the lawful review becomes an amendment of the draft; the submission keeps going
    amended = _seq(decided_case, "find_lawful") + 1
    draft = Document("draft", "0" * 64, 2, "draft-v2.pdf")
    case = _with(decided_case, amended, trigger="amend_draft", kind="", actor="clerk_li", role="organiser")
    case = _with(case, amended, documents=(draft,), changes_draft=True, draft_version=2, fields={})
    for later in range(amended + 1, len(case.records) + 1):
        case = _with(case, later, draft_version=2)
    with pytest.raises(AssertionError, match=r"legality-review gate with draft v2, but the review .* covered v1"):
        check_history(case)


def test_the_history_check_catches_a_gate_passed_on_an_unlawful_review(decided_case: Case) -> None:
    review = _seq(decided_case, "find_lawful")
    unlawful = _with(decided_case, review, fields={**decided_case.records[review - 1].fields, "outcome": "unlawful"})
    with pytest.raises(AssertionError, match="on a review that found 'unlawful'"):
        check_history(unlawful)


def test_the_history_check_catches_a_forbidden_role(decided_case: Case) -> None:
    with pytest.raises(AssertionError, match="role 'office_clerk' is not among the roles"):
        check_history(_with(decided_case, _seq(decided_case, "submit_for_discussion"), role="office_clerk"))
    with pytest.raises(AssertionError, match="auditor_qian does not hold role 'organiser'"):
        check_history(_with(decided_case, _seq(decided_case, "submit_for_discussion"), actor="auditor_qian"))


def test_the_history_check_catches_a_drafter_reviewing(decided_case: Case) -> None:
    drafted = _with(decided_case, _seq(decided_case, "submit_draft"), actor="counsel_wu")
    reviewed = _with(drafted, _seq(drafted, "accept_review"), actor="counsel_wu")
    with pytest.raises(AssertionError, match="separation of duties broken"):
        check_history(reviewed)


def test_the_history_check_catches_a_review_without_another_persons_legal_opinion(decided_case: Case) -> None:
    own = _with(decided_case, _seq(decided_case, "give_legal_opinion"), actor="counsel_lin")
    own = _with(own, _seq(own, "find_lawful"), actor="counsel_lin")
    with pytest.raises(AssertionError, match="without a legal adviser's opinion by another person"):
        check_history(own)


def test_the_history_check_catches_an_organiser_clearing_an_established_flag() -> None:
    story = Story(DEFINITIONS).walk("submit_legality_review")
    story.do("reassess_attributes", "clerk_li", date(2025, 4, 15), {"reason": "不再适用", "technical": False})
    check_history(story.case)
    propose = story.case.records[0]
    flagged = _with(story.case, 1, fields={**propose.fields, "technical": True})
    with pytest.raises(AssertionError, match="the organiser cleared technical after it was set"):
        check_history(flagged)


def test_the_history_check_catches_a_decision_on_a_risk_not_controllable() -> None:
    story = Story(DEFINITIONS).walk("approve", THOROUGH)
    check_history(story.case)
    seq = max(r.seq for r in story.case.records if r.kind == "risk_assessment")
    fields = {**story.case.records[seq - 1].fields, "conclusion": "not_controllable"}
    with pytest.raises(AssertionError, match=r"risk assessed not controllable \(Art. 24\)"):
        check_history(_with(story.case, seq, fields=fields))


def test_the_history_check_catches_a_request_published_without_the_reply() -> None:
    case = Story(DEFINITIONS).walk("assign_execution").case
    seq = _seq(case, "report_to_party_committee")
    asked = _with(case, seq, fields={"party_report_kind": "request"})
    with pytest.raises(AssertionError, match="without the committee's reply on this draft"):
        check_history(asked)


def test_after_discussion_states_are_the_ones_only_discussion_reaches() -> None:
    expected = {"in_discussion", "deferred", "decided", "published", "executing", "post_evaluation", "suspended"}
    assert expected | {"completed", "superseded", "terminated", "rejected", "lapsed"} == AFTER_DISCUSSION


@pytest.fixture(scope="module")
def published_catalogue() -> Case:
    story = Story(DEFINITIONS, "catalogue", "CAT-2025")
    for step in CATALOGUE_PATH[: 1 + [s.trigger for s in CATALOGUE_PATH].index("publish_catalogue")]:
        story.step(step)
    assert story.case.state == "published"
    return story.case


def test_the_catalogue_check_accepts_a_published_catalogue(published_catalogue: Case) -> None:
    check_catalogue_history(published_catalogue)


def test_the_catalogue_check_catches_a_gate_passed_without_screening(published_catalogue: Case) -> None:
    unscreened = _with(published_catalogue, _seq(published_catalogue, "certify_screening"), kind="")
    with pytest.raises(AssertionError, match="passed the screening gate with catalogue v1, screened vNone"):
        check_catalogue_history(unscreened)


def test_the_catalogue_check_catches_publication_without_party_consent(published_catalogue: Case) -> None:
    no_consent = _with(published_catalogue, _seq(published_catalogue, "record_party_consent"), kind="")
    with pytest.raises(AssertionError, match="published v1, the Party consented to vNone"):
        check_catalogue_history(no_consent)


def test_the_catalogue_check_catches_an_approval_outside_a_meeting(published_catalogue: Case) -> None:
    seq = _seq(published_catalogue, "approve_at_meeting")
    informal = _with(published_catalogue, seq, fields={"meeting_type": "informal"})
    with pytest.raises(AssertionError, match="approved outside a meeting"):
        check_catalogue_history(informal)


def test_the_catalogue_check_catches_a_version_listing_an_item_never_screened_in(
    published_catalogue: Case, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`decisions.catalogue.versions` derives the item lists; the check recomputes them from the records.
    A derivation that slips an item in (planted here) is caught."""
    derived = versions

    def slipping_an_item_in(case: Case, spec: CatalogueSpec | None) -> list[CatalogueVersion]:
        return [replace(v, items=(*v.items, Item("2025-99"))) for v in derived(case, spec)]

    monkeypatch.setattr(sys.modules[__name__], "versions", slipping_an_item_in)
    with pytest.raises(AssertionError, match=r"v1: lists \['2025-01', '2025-99'\], screened in \['2025-01'\]"):
        check_catalogue_history(published_catalogue)


# -- found while choosing the random text: below the `inputs` boundary, text that cannot be stored ----------


def _propose_with(service: CaseService, case_id: str, **fields: Any) -> str:
    """Start a decision with the main path's proposal and ``fields`` over it; the outcome's name."""
    step = MAIN_PATH[0]
    try:
        service.start(
            "major_decision", case_id, Action(step.trigger, PEOPLE[step.actor], step.on, {**step.fields, **fields})
        )
    except Exception as exc:
        return type(exc).__name__
    return "accepted"


def test_a_nul_in_the_title_is_refused_the_same_way_on_both_backends(tmp_path: Path) -> None:
    outcomes = {}
    for backend in BACKENDS:
        urls = new_database_url(backend, tmp_path / backend)
        (tmp_path / backend).mkdir()
        db = Database(next(urls), documents=tmp_path / backend / "documents")
        try:
            db.migrate()
            outcomes[backend] = _propose_with(
                CaseService(db, DEFINITIONS, clock=fixed_clock, outside=supplied_catalogue), "D-1", title="票价\x00调整"
            )
        finally:
            db.dispose()
            urls.close()
    assert outcomes == {"sqlite": "ActionRefused", "postgres": "ActionRefused"}, outcomes


def test_a_lone_surrogate_is_refused_within_the_error_hierarchy(tmp_path: Path) -> None:
    db = Database(f"sqlite:///{tmp_path / 'd.sqlite'}", documents=tmp_path / "documents")
    step = MAIN_PATH[0]
    clerk = PEOPLE[step.actor]
    try:
        db.migrate()
        service = CaseService(db, DEFINITIONS, clock=fixed_clock, outside=supplied_catalogue)
        in_a_field = _propose_with(service, "D-1", problem="票价\ud800")
        odd_actor = Actor("李\ud800", clerk.roles, clerk.unit)
        try:
            service.start("major_decision", "D-2", Action(step.trigger, odd_actor, step.on, dict(step.fields)))
            as_actor = "accepted"
        except Exception as exc:
            as_actor = type(exc).__name__
        assert service.repository.head("D-1") is None and service.repository.head("D-2") is None
    finally:
        db.dispose()
    assert (in_a_field, as_actor) == ("ActionRefused", "UsageError")

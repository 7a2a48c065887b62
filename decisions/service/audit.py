"""Audit: verify every chain, publish checkpoints, replay a decision under its recorded definitions.

Read-only: nothing here writes a case or an event (a checkpoint row is the one exception, and it
only adds). Verification streams the history in batches: one read transaction per batch of events,
which brings the rows of its cases along, and one query for the documents of each slice of a batch.
It keeps one chain's state at a time and the digests of the documents already checked (that map
grows with the number of distinct documents, about 240 bytes each; nothing else grows with history).
`replay_all` reads through the same batches.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date
from typing import Any

from decisions.audit import (
    GENESIS,
    Checkpoint,
    Hasher,
    build_checkpoint,
    canonical_text,
    chain_hash,
    compare_to_checkpoint,
    is_digest,
    parse_if_canonical,
)
from decisions.definitions import fingerprint_of, source_digest
from decisions.errors import ActionRefused, DecisionsError, IntegrityError, shown
from decisions.model import Action, Case, Document, Erratum, Text
from decisions.service.cases import CaseService
from decisions.service.chain import ChainBreak, first_break, stored_bytes
from decisions.store.documents import OCTET_STREAM, media_type_for
from decisions.store.events import StoredEvent, action_actor, erratum_from_body, is_erratum, record_from_body
from decisions.store.interface import CredentialStore, PeopleStore
from decisions.store.people_history import PEOPLE_FORMAT, Projection, apply_entry, credential_digest
from decisions.store.repository import CaseHead, projected_columns
from decisions.tasks import CaseTasks
from decisions.workflow.engine import Engine

__all__ = [
    "AuditService",
    "CheckpointReach",
    "Finding",
    "ReplayReport",
    "ReplayStep",
    "VerifyReport",
    "describe_erratum",
]


@dataclass(frozen=True)
class Finding:
    """One thing wrong with the stored history: which case, which event, what."""

    case_id: str
    seq: int | None
    kind: str
    message: str
    location: str = ""  # where the damage is stored: ``table[key].column`` (empty: the event or case named)

    def __str__(self) -> str:
        where = self.case_id if self.seq is None else f"{self.case_id} #{self.seq}"
        at = f" ({self.location})" if self.location else ""
        return f"{where}: [{self.kind}] {self.message}{at}"


@dataclass(frozen=True)
class VerifyReport:
    cases: int
    events: int
    documents: int
    findings: tuple[Finding, ...]
    algorithm: str
    checkpoint: str | None = None

    @property
    def ok(self) -> bool:
        return not self.findings

    def first_per_case(self) -> list[Finding]:
        """The first broken link of every damaged chain."""
        seen: set[str] = set()
        out = []
        for f in self.findings:
            if f.case_id not in seen:
                seen.add(f.case_id)
                out.append(f)
        return out


@dataclass(frozen=True)
class CheckpointReach:
    """How the chains stored now stand to an earlier checkpoint (`AuditService.reach`): whether
    they still pass through its heads is `verify(since=...)`'s to say (its ``checkpoint`` findings)."""

    algorithm: str
    root: str
    created_at: str
    unchanged: tuple[str, ...]  # in the checkpoint, no event since
    extended: tuple[tuple[str, int, int], ...]  # in the checkpoint and longer now: (chain, seq then, seq now)
    shorter: tuple[tuple[str, int, int], ...]  # in the checkpoint, fewer events now: (chain, seq then, seq now)
    missing: tuple[str, ...]  # in the checkpoint, no event now
    new: tuple[str, ...]  # begun after it


@dataclass(frozen=True)
class ReplayStep:
    seq: int
    actor: str
    role: str
    trigger: str
    label: Text
    happened_on: str
    recorded_at: str
    from_state: str
    to_state: str
    rules: tuple[tuple[str, str, str], ...]  # (rule id, outcome now, citation)
    flags: tuple[str, ...] = ()
    correction: str = ""  # an erratum: what it corrects in which event, from what to what, and why


@dataclass(frozen=True)
class ReplayReport:
    case_id: str
    workflow: str
    definitions: str
    steps: tuple[ReplayStep, ...]
    replayed_state: str
    stored_state: str
    broken: ChainBreak | None = None  # where the stored chain does not verify (None: it verifies)

    @property
    def ok(self) -> bool:
        return (
            self.broken is None
            and self.replayed_state == self.stored_state
            and not any(s.flags for s in self.steps if _is_problem(s))
        )


def _is_utf8(text: str) -> bool:
    """Whether a stored text was valid UTF-8 (read otherwise, its bad bytes are lone surrogates)."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _manifest(text: str) -> list[tuple[str, str, str]] | None:
    """A stored set's manifest, ``[[kind, name, sha256], ...]``, or None when it is not one."""
    try:
        value = json.loads(text)
    except (ValueError, RecursionError):
        return None
    if not isinstance(value, list) or not all(
        isinstance(x, list) and len(x) == 3 and all(isinstance(p, str) for p in x) for x in value
    ):
        return None
    return [(x[0], x[1], x[2]) for x in value]


def _is_problem(step: ReplayStep) -> bool:
    return any(not f.startswith("note:") for f in step.flags)


@dataclass
class _Chain:
    case_id: str
    expected_seq: int = 1
    prev_hash: str = GENESIS
    last_to: str | None = None
    last_on: str = ""
    last_action: int = 0  # the number of the latest event that records an action (not an erratum)
    last_body: dict[str, Any] = field(default_factory=dict)
    attributes: dict[str, Any] = field(default_factory=dict)
    unresolved: set[str] = field(default_factory=set)  # definition sets named but not stored (reported once)


_PARSED = 250  # event bodies parsed, and their documents looked up in one query, at a time
_UNPARSED: Any = object()  # "not given" for an argument whose None is a value


class AuditService:
    """Verification, checkpoints and replay over one database."""

    batch = 2000  # events read per transaction by verify and replay_all (with their cases' rows)

    def __init__(self, cases: CaseService) -> None:
        self.cases = cases
        self.repository = cases.repository
        self.documents = cases.documents
        self._engines: dict[tuple[str, str], Engine] = {}
        self._heads_cache: dict[str, CaseHead] = {}
        self._stored_sets: set[str] | None = None  # fingerprints of the stored definition sets (None: not read)
        self.events_followed = 0

    # -- verify ---------------------------------------------------------------------------------

    def verify(
        self,
        case_id: str | None = None,
        since: Checkpoint | None = None,
        progress: Callable[[int], None] | None = None,
        progress_every: int = 1000,
    ) -> VerifyReport:
        """Verify everything (or one case's chain and what names it); ``since``: an earlier checkpoint
        the chains must still pass through. ``progress(events)`` is called after every
        ``progress_every`` events checked, and once at the end."""
        findings: list[Finding] = []
        documents_seen: dict[str, str | None] = {}
        self._media_named: dict[str, set[str]] = {}  # a document's digest -> the media types its names imply
        chains = 0  # events arrive grouped by case: one chain at a time, no set of ids kept
        events = 0
        self.events_followed = 0
        self._heads_cache = {}
        definition_findings = self._check_definitions(case_id)  # first: events name the sets it reads
        chain: _Chain | None = None
        for batch, heads in self.repository.event_batches(case_id, self.batch):
            # the last chain of the previous batch may end just before this one: keep its row too
            carried = (
                {}
                if chain is None or chain.case_id not in self._heads_cache
                else {chain.case_id: self._heads_cache[chain.case_id]}
            )
            self._heads_cache = carried | heads
            for start in range(0, len(batch), _PARSED):  # parsed bodies are held a slice at a time
                part = batch[start : start + _PARSED]
                bodies = [parse_if_canonical(e.body) for e in part]
                self._check_documents(bodies, documents_seen)
                for e, body in zip(part, bodies, strict=True):
                    if chain is None or e.case_id != chain.case_id:
                        if chain is not None:
                            findings.extend(self._check_projection(chain, documents_seen))
                        chains += 1
                        chain = _Chain(e.case_id)
                    events += 1
                    findings.extend(self._checked_event(chain, e, documents_seen, body))
                    if progress is not None and events % max(1, progress_every) == 0:
                        progress(events)
        if chain is not None:
            findings.extend(self._check_projection(chain, documents_seen))
        # asked of the database in one snapshot: a decision proposed while the events streamed is not
        # mistaken for a case row without history
        for cid in self.repository.cases_without_events(case_id):
            findings.append(Finding(cid, None, "missing_history", "the case has no events at all"))
        if case_id is not None and not chains and self.repository.head(case_id) is None:
            findings.append(Finding(case_id, None, "unknown", "no such case"))
        if case_id is None:
            findings.extend(self._check_orphan_documents(documents_seen))
        findings.extend(self._check_media_types())
        findings.extend(definition_findings)
        findings.extend(self._check_checkpoints(case_id))
        if case_id is None:
            store = self.cases.store
            findings.extend(people_findings(store.people, self.repository.hash, store.credentials))
        findings.extend(self.check_tasks(case_id))
        compared = None
        if since is not None:
            compared = since.root
            if since.algorithm != self.repository.algorithm:
                findings.append(
                    Finding(
                        "*",
                        None,
                        "checkpoint",
                        f"checkpoint uses {since.algorithm}, the database {self.repository.algorithm}",
                    )
                )
            for f in compare_to_checkpoint(since, self.repository.hash_at):
                if case_id is None or f.chain == case_id:
                    findings.append(Finding(f.chain, f.seq, "checkpoint", f.message))
        if progress is not None:
            progress(events)
        total = events + self.events_followed  # events of decisions that advanced during the audit count too
        return VerifyReport(chains, total, len(documents_seen), tuple(findings), self.repository.algorithm, compared)

    def _check_documents(self, bodies: list[Any], documents_seen: dict[str, str | None]) -> None:
        """Check, for one batch of event bodies, every document not seen yet: their rows are read in
        one query, then their bytes; the findings are those `_document_problem` gives one by one."""
        wanted: set[str] = set()
        for body in bodies:
            if not isinstance(body, dict):
                continue
            docs = body.get("documents", [])
            for d in docs if isinstance(docs, list) else []:
                sha = str(d.get("sha256", "")) if isinstance(d, dict) else ""
                if isinstance(d, dict) and is_digest(sha):
                    self._media_named.setdefault(sha, set()).add(media_type_for(str(d.get("name", ""))))
                if sha not in documents_seen and is_digest(sha):
                    wanted.add(sha)
        if not wanted:
            return
        try:
            sizes = self.repository.document_sizes(sorted(wanted))
            inspected = self.documents.inspect_many(sorted(wanted))  # their bytes, in one transaction
        except (DecisionsError, OSError):
            return  # each document is then looked up on its own, and the error becomes its finding
        for sha in sorted(wanted):
            documents_seen[sha] = self._document_problem(sha, sizes.get(sha), inspected[sha])

    def _check_event(
        self, chain: _Chain, e: StoredEvent, documents_seen: dict[str, str | None], parsed: Any = _UNPARSED
    ) -> list[Finding]:
        """Check one event against its chain; ``parsed`` is its body already parsed (`parse_if_canonical`)."""
        out: list[Finding] = []

        def bad(kind: str, message: str) -> None:
            out.append(Finding(chain.case_id, e.seq, kind, message))

        if e.seq != chain.expected_seq:
            what = "deleted" if e.seq > chain.expected_seq else "duplicated or reordered"
            bad("sequence", f"expected event #{chain.expected_seq}, found #{e.seq}: an event was {what}")
        if not is_digest(e.prev_hash):
            bad("link", f"prev_hash {shown(e.prev_hash, 70)} is not a {self.repository.algorithm} digest")
        elif e.prev_hash != chain.prev_hash:
            bad("link", "prev_hash does not match the previous event's hash: the chain is broken here")
        if not _is_utf8(e.body):
            bad("body", "the stored event body is not valid UTF-8: bytes were written behind the engine")
        if not is_digest(e.prev_hash) or chain_hash(self.repository.hash, e.prev_hash, stored_bytes(e.body)) != e.hash:
            bad("hash", "the event's hash does not match its content: the event was edited")
        chain.expected_seq = e.seq + 1
        chain.prev_hash = e.hash
        body = parse_if_canonical(e.body) if parsed is _UNPARSED else parsed
        if not isinstance(body, dict):
            bad("body", "the event body is not valid canonical JSON")
            return out
        expected = {
            "case": e.case_id,
            "seq": e.seq,
            "trigger": e.trigger,
            "actor": e.actor,
            "on": e.happened_on,
            "recorded_at": e.recorded_at,
        }
        for key, column in expected.items():
            if body.get(key) != column:
                bad("column", f"column {key!r} ({column!r}) disagrees with the hashed body ({body.get(key)!r})")
        if chain.last_to is not None and body.get("from") != chain.last_to:
            bad("order", f"starts from {body.get('from')!r} but the previous event ended in {chain.last_to!r}")
        if chain.last_on and not is_erratum(body) and str(body.get("on", "")) < chain.last_on:
            bad("order", f"happened on {body.get('on')} before the previous event ({chain.last_on})")
        fingerprint = str(body.get("definitions"))
        if self._stored_sets is not None and fingerprint not in self._stored_sets | chain.unresolved:
            chain.unresolved.add(fingerprint)
            bad("definitions", f"it names definition set {shown(fingerprint)}, which is not stored (definition_sets)")
        documents = body.get("documents", [])
        for d in documents if isinstance(documents, list) else [None]:
            if not isinstance(d, dict):
                bad("document", "a document reference is not an object")
                continue
            sha = str(d.get("sha256", ""))
            if sha not in documents_seen:
                documents_seen[sha] = self._document_problem(sha)
            if documents_seen[sha] is not None:
                bad("document", f"document {d.get('kind')} {d.get('name', '')} {sha[:12]}…: {documents_seen[sha]}")
        chain.last_to = body.get("to")
        if not is_erratum(body):
            chain.last_on = str(body.get("on", ""))
            chain.last_action = e.seq
        elif body["erratum"].get("corrects") == chain.last_action and body["erratum"].get("on") is not None:
            chain.last_on = str(body["erratum"]["on"])  # the next action follows the corrected day
        chain.last_body = body
        self._accumulate_attributes(chain, body)
        return out

    def _checked_event(
        self, chain: _Chain, e: StoredEvent, documents_seen: dict[str, str | None], parsed: Any = _UNPARSED
    ) -> list[Finding]:
        """`_check_event`, where a value no check foresaw (a body of another shape, say) is a finding
        of that event and the other events and chains are still checked."""
        try:
            return self._check_event(chain, e, documents_seen, parsed)
        except (ValueError, TypeError, KeyError, AttributeError) as exc:
            chain.expected_seq, chain.prev_hash = e.seq + 1, e.hash
            return [Finding(chain.case_id, e.seq, "body", f"the event cannot be read as an event: {shown(str(exc))}")]

    def _columns(self, body: Mapping[str, Any]) -> Mapping[str, str]:
        """The projected columns of the case whose last event is ``body`` (none if its definitions
        cannot be read: that is a finding of its own)."""
        try:
            return self.cases.columns(str(body.get("definitions")), str(body.get("workflow")))
        except DecisionsError:
            return {}

    def _accumulate_attributes(self, chain: _Chain, body: dict[str, Any]) -> None:
        try:
            wf = self.cases.definitions_for(str(body["definitions"])).workflow(str(body["workflow"]))
        except (DecisionsError, KeyError):
            return
        fields = body.get("fields")
        if isinstance(fields, dict):
            chain.attributes = wf.attributes_after(chain.attributes, fields)

    def _check_media_types(self) -> list[Finding]:
        """Each document's recorded media type is the one a name it was attached under implies (the
        first attachment of given bytes decides it), or application/octet-stream: another type is a
        finding of the document row."""
        named = self._media_named
        findings: list[Finding] = []
        digests = sorted(named)
        for start in range(0, len(digests), 2000):
            part = digests[start : start + 2000]
            try:
                recorded = self.documents.media_types(part)
            except (DecisionsError, OSError):
                return findings  # the rows' other findings say what is wrong
            for sha in part:
                media = recorded.get(sha)
                # application/octet-stream is the type that claims nothing (a document moved in from an
                # earlier version's file store has no name to go by): served as a download, never shown
                if media is not None and media != OCTET_STREAM and media not in named[sha]:
                    findings.append(
                        Finding(
                            "documents",
                            None,
                            "document",
                            f"document {sha[:12]}…: its media type {shown(media)} is not the type of any name it was "
                            f"attached under ({', '.join(sorted(named[sha]))})",
                            f"documents[{sha}].media_type",
                        )
                    )
        return findings

    def _document_problem(
        self, sha: str, recorded: Any = _UNPARSED, inspected: tuple[str | None, int | None] | None = None
    ) -> str | None:
        """What is wrong with a stored document: its row, its recorded size, its bytes. ``recorded``
        is the size its row records (None: no row) and ``inspected`` what `DocumentBytes.inspect`
        says of its bytes, when the caller has read them already."""
        try:
            size = self.repository.document_size(sha) if recorded is _UNPARSED else recorded
            if size is None:
                return "its row in the document table is missing"
            problem, actual = inspected or self.documents.inspect(sha)  # check and size in one read of the bytes
            if problem is not None:
                return problem
            return None if actual == size else f"recorded size {size} differs from the stored bytes ({actual})"
        except (DecisionsError, OSError) as exc:
            return str(exc)

    def _check_projection(self, chain: _Chain, documents_seen: dict[str, str | None]) -> list[Finding]:
        findings: list[Finding] = []
        cached = self._heads_cache.get(chain.case_id)
        head = cached if cached is not None else self.repository.head(chain.case_id)
        # A decision may advance while the audit runs: follow its chain to the head it has now.
        for _ in range(5):
            if head is None or head.version <= chain.expected_seq - 1:
                break
            for e in self.repository.iter_events(chain.case_id, after_seq=chain.expected_seq - 1):
                self.events_followed += 1
                findings.extend(self._checked_event(chain, e, documents_seen))
            head = self.repository.head(chain.case_id)
        last = chain.last_body
        if head is None:
            return [*findings, Finding(chain.case_id, None, "projection", "events exist but the case row is missing")]
        expected = {
            "version": chain.expected_seq - 1,
            "head_hash": chain.prev_hash,
            "state": last.get("to"),
            "workflow": last.get("workflow"),
            "definitions": last.get("definitions"),
            **projected_columns(chain.attributes, self._columns(last)),
        }
        return findings + [
            Finding(
                chain.case_id,
                None,
                "projection",
                f"stored {key} {getattr(head, key)!r} differs from the history ({value!r})",
            )
            for key, value in expected.items()
            if getattr(head, key) != value
        ]

    def check_tasks(self, case_id: str | None = None) -> list[Finding]:
        """The inbox table against what the histories imply under the definitions that derived it:
        every case's rows derived again from its events (read in batches, as replay reads them), and
        no rows for a case without a history. Nothing to compare when the table was derived by other
        definitions than the deployment's: the next inbox rebuilds it."""
        if self.repository.tasks_derived_by() != self.cases.current.fingerprint:
            return []
        findings: list[Finding] = []
        pending: list[tuple[CaseHead, list[StoredEvent]]] = []

        def compare() -> None:
            expected: dict[str, CaseTasks | None] = {}
            for head, events in pending:
                try:
                    expected[head.id] = self.cases.derive_tasks(head, events)
                except DecisionsError:
                    continue  # a history that cannot be read is a finding of its own
            heads = {h.id: h for h, _ in pending}
            for cid in sorted(self.repository.tasks_differing(expected)):
                if not self._moved_on(heads[cid]):
                    findings.append(
                        Finding(cid, None, "tasks", "the inbox table's rows differ from what the history implies")
                    )
            pending.clear()

        current: list[StoredEvent] = []
        head: CaseHead | None = None
        for batch, heads in self.repository.event_batches(case_id, self.batch):
            for e in batch:
                if current and e.case_id != current[0].case_id:
                    if head is not None:
                        pending.append((head, current))
                    current = []
                current.append(e)
                head = heads.get(e.case_id, head if head is not None and head.id == e.case_id else None)
            if len(pending) >= _PARSED:
                compare()
        if current and head is not None:
            pending.append((head, current))
        compare()
        if case_id is None:
            findings += [
                Finding(c, None, "tasks", "the inbox table has rows for a case without a history")
                for c in self.repository.tasks_without_case()
            ]
        return findings

    def _moved_on(self, head: CaseHead) -> bool:
        now = self.repository.head(head.id)
        return now is None or now.version != head.version

    def _check_orphan_documents(self, documents_seen: dict[str, str | None]) -> list[Finding]:
        """Document rows that no event carries (a full verify only): their bytes must still match."""
        out = []
        for sha, size in self.repository.iter_documents():  # rows with their sizes, a batch at a time
            if sha in documents_seen:
                continue
            problem = self._document_problem(sha, size) if is_digest(sha) else "not a SHA-256 digest"
            if problem is not None:
                out.append(Finding("documents", None, "document", f"unattached document {str(sha)[:16]}…: {problem}"))
        return out

    def _check_definitions(self, case_id: str | None) -> list[Finding]:
        """The stored definitions: every text hashes to its key, every set's manifest names stored texts
        of the kind it says and hashes to the set's fingerprint. Damage to a set is reported on each
        case that runs under it (or on ``definitions`` when none does); a text no set names is reported
        when damaged. Keeps the stored sets' fingerprints: every event must name one (`_check_event`)."""
        texts: dict[str, str] = {}  # key -> kind, of the texts that hash to their key
        damaged: dict[str, str] = {}  # key -> what is wrong with the text stored under it
        for sha, kind, _name, text_ in self.repository.definition_source_rows():
            if not _is_utf8(text_):
                damaged[sha] = "its text is not valid UTF-8"
            elif source_digest(text_) != sha:
                damaged[sha] = "its text no longer hashes to its key"
            else:
                texts[sha] = kind
        scope = None if case_id is None else {h.definitions for h in [self.repository.head(case_id)] if h is not None}
        named: set[str] = set()
        out: list[Finding] = []
        self._stored_sets = set()
        for fingerprint, text_ in self.repository.definition_set_rows():
            self._stored_sets.add(fingerprint)
            manifest = _manifest(text_)
            problems: list[str] = []
            if manifest is None:
                problems.append(
                    f"its manifest (definition_sets[{fingerprint[:12]}…].manifest) is not a list of [kind, name, sha256]"
                )
                manifest = []
            for kind, name, sha in manifest:
                named.add(sha)
                where = f"definition_sources[{sha[:12]}…]"
                if sha in damaged:
                    problems.append(f"{name} ({kind}): {where} {damaged[sha]}")
                elif sha not in texts:
                    problems.append(f"{name} ({kind}): its text {where} is missing")
                elif texts[sha] != kind:
                    problems.append(f"{name}: {where}.kind is {texts[sha]!r}, the set names {kind!r}")
            if manifest and fingerprint_of((kind, sha) for kind, _, sha in manifest) != fingerprint:
                problems.append("its manifest no longer hashes to its fingerprint")
            if not problems or (scope is not None and fingerprint not in scope):
                continue
            if case_id is not None:
                users = [case_id]
            else:  # a key that is not valid UTF-8 names no case (and cannot be asked for)
                users = self.repository.cases_using(fingerprint) if _is_utf8(fingerprint) else []
            message = f"definition set {fingerprint[:12]}…: " + "; ".join(problems)
            for user in users or ["definitions"]:
                out.append(Finding(user, None, "definitions", message, f"definition_sets[{fingerprint[:12]}…]"))
        if case_id is None:
            for sha in sorted(set(damaged) - named):
                out.append(
                    Finding(
                        "definitions",
                        None,
                        "definitions",
                        f"a stored definition text no set names: {damaged[sha]}",
                        f"definition_sources[{sha[:12]}…].text",
                    )
                )
        return out

    def _check_checkpoints(self, case_id: str | None) -> list[Finding]:
        """Every stored checkpoint still reads (its root recomputes from the heads it lists, its row's
        columns repeat its body), and the chains still pass through every head it fixed. Newest first:
        a head an older checkpoint shares with a newer one is compared with that one, so the chains
        are asked only for the heads that moved between two checkpoints."""
        out: list[Finding] = []
        newer: dict[str, tuple[int, str]] = {}
        for created_at, root, body in self.repository.checkpoint_rows():
            where = f"checkpoints[{created_at}]"
            try:
                cp = Checkpoint.from_json(body)
            except (ValueError, TypeError, DecisionsError) as exc:
                out.append(
                    Finding("checkpoints", None, "checkpoint", f"stored checkpoint {shown(str(exc))}", f"{where}.body")
                )
                continue
            if cp.root != root:
                out.append(
                    Finding(
                        "checkpoints",
                        None,
                        "checkpoint",
                        "its root column differs from its body's root",
                        f"{where}.root",
                    )
                )
            if canonical_text(cp.created_at).strip('"') != created_at:
                out.append(
                    Finding(
                        "checkpoints",
                        None,
                        "checkpoint",
                        "its created_at column differs from its body",
                        f"{where}.created_at",
                    )
                )
            if cp.algorithm != self.repository.algorithm:
                out.append(
                    Finding(
                        "checkpoints",
                        None,
                        "checkpoint",
                        f"it uses {cp.algorithm}, the database {self.repository.algorithm}",
                        f"{where}.body",
                    )
                )
                continue
            for h in cp.heads:
                if case_id is not None and h.chain != case_id:
                    continue
                later = newer.get(h.chain)
                stored: str | None
                if later is not None and later[0] == h.seq:
                    stored = later[1]  # the newer checkpoint's head, itself compared with the chain
                else:
                    stored = self.repository.hash_at(h.chain, h.seq)
                if stored != h.hash:
                    message = f"the stored checkpoint of {created_at} fixed event #{h.seq} " + (
                        "that is no longer there" if stored is None else "with another hash"
                    )
                    out.append(Finding(h.chain, h.seq, "checkpoint", message, where))
            newer = {h.chain: (h.seq, h.hash) for h in cp.heads}
        return out

    # -- checkpoints ----------------------------------------------------------------------------

    def latest_checkpoint(self) -> Checkpoint | None:
        """The newest stored checkpoint (None: none was taken); one that does not read is
        `IntegrityError` (verify names it)."""
        for created_at, _root, body in self.repository.checkpoint_rows():
            try:
                return Checkpoint.from_json(body)
            except (ValueError, TypeError) as exc:
                raise IntegrityError(
                    f"{created_at} 的检查点无法读取 / the checkpoint of {created_at} does not read: {shown(str(exc))}"
                ) from exc
        return None

    def reach(self, since: Checkpoint) -> CheckpointReach:
        """Which chains ``since`` includes, unchanged or extended since, and which began after it,
        from the events as stored now."""
        now = {h.chain: h.seq for h in self.repository.chain_heads()}
        then = {h.chain: h.seq for h in since.heads}
        return CheckpointReach(
            algorithm=str(since.algorithm),
            root=since.root,
            created_at=canonical_text(since.created_at).strip('"'),
            unchanged=tuple(c for c in sorted(then) if now.get(c) == then[c]),
            extended=tuple((c, then[c], now[c]) for c in sorted(then) if now.get(c, 0) > then[c]),
            shorter=tuple((c, then[c], now[c]) for c in sorted(then) if 0 < now.get(c, 0) < then[c]),
            missing=tuple(c for c in sorted(then) if c not in now),
            new=tuple(c for c in sorted(now) if c not in then),
        )

    def checkpoint(self) -> Checkpoint:
        """A digest over every chain head, stored and returned for publication."""
        cp = build_checkpoint(
            self.repository.hash, self.repository.algorithm, self.repository.chain_heads(), self.cases.clock()
        )
        self.repository.save_checkpoint(canonical_text(cp.created_at).strip('"'), cp.root, cp.to_json())
        return cp

    # -- replay ---------------------------------------------------------------------------------

    def _replay_engine(self, fingerprint: str, workflow: str) -> Engine:
        """An engine over the definitions as *stored* (loaded and hash-checked once per audit service)."""
        key = (fingerprint, workflow)
        if key not in self._engines:
            self._engines[key] = Engine(self.cases.stored_definitions(fingerprint), workflow)
        return self._engines[key]

    def replay(self, case_id: str) -> ReplayReport:
        head, events = self.repository.load(case_id)
        return self._replay(head, events)

    def replay_all(self, case_id: str | None = None) -> Iterator[ReplayReport]:
        """Replay every decision (or only ``case_id``) in id order, reading the history as `verify`
        does: events in batches, each with its cases' rows, one read transaction per batch; one
        decision's events are held at a time. A chain whose case row is missing is not replayed
        (there is nothing to compare it with: `verify` reports it)."""
        current: list[StoredEvent] = []
        head: CaseHead | None = None
        for batch, heads in self.repository.event_batches(case_id, self.batch):
            for e in batch:
                if current and e.case_id != current[0].case_id:
                    if head is not None:
                        yield self._replay(head, current)
                    current = []
                current.append(e)
                head = heads.get(e.case_id, head if head is not None and head.id == e.case_id else None)
        if current and head is not None:
            yield self._replay(head, current)

    def _replay(self, head: CaseHead, events: Sequence[StoredEvent]) -> ReplayReport:
        """Replay ``events``; when the chain does not verify, say where (`ReplayReport.broken`) and
        replay what can still be read as events (up to the first that cannot)."""
        case_id = head.id
        broken = first_break(self.repository.hash, events, head.head_hash, head.version)
        engine = self._replay_engine(head.definitions, head.workflow)
        wf = engine.workflow
        case: Case = engine.new_case(case_id)
        steps: list[ReplayStep] = []
        for e in events:
            try:
                body = json.loads(e.body)
                if is_erratum(body):
                    case, step = self._replay_erratum(engine, case, e, body)
                    steps.append(step)
                    continue
                record = record_from_body(body, wf)
            except (ValueError, KeyError, TypeError, AttributeError) as exc:
                if broken is None:  # hashed as stored, yet not an event: rewritten with its hashes
                    raise IntegrityError(
                        f"{case_id} 第 {e.seq} 条记录无法读取 / {case_id} event #{e.seq} cannot be read: {shown(str(exc))}"
                    ) from exc
                break  # an edited event the chain check names already: nothing further can be replayed
            flags: list[str] = []
            if body.get("definitions") != head.definitions:
                flags.append("recorded under other definitions than the case's")
            t = wf.transition(case.state, record.trigger)
            sets = t.sets if t is not None else {}
            action = Action(
                trigger=record.trigger,
                actor=action_actor(body),
                on=date.fromisoformat(str(body["on"])),
                fields={k: v for k, v in record.fields.items() if k not in sets},
                documents=tuple(Document(d.kind, d.sha256, 1, d.name) for d in record.documents),
                role=record.role,
            )
            unmet, results = engine.check(case, self.cases.with_outside_facts(engine, case, action))
            if unmet:
                flags.append(
                    "the rules refuse this step now: " + "; ".join(f"{u.rule_id} ({u.citation})" for u in unmet)
                )
            if case.state != record.from_state:
                flags.append(f"recorded from {record.from_state!r} but the replay is in {case.state!r}")
            if t is not None and not unmet and t.dest != record.to_state:
                flags.append(f"recorded {record.to_state!r} but the workflow leads to {t.dest!r}")
            attributes = wf.attributes_after(case.attributes, record.fields)
            changed = [n for n, v in attributes.items() if n in case.attributes and case.attributes[n] != v]
            if changed:
                flags.append(
                    "note: attributes changed: "
                    + ", ".join(f"{n} {case.attributes[n]!r}→{attributes[n]!r}" for n in changed)
                )
            case = replace(case, state=record.to_state, attributes=attributes, records=(*case.records, record))
            steps.append(
                ReplayStep(
                    seq=e.seq,
                    actor=record.actor,
                    role=record.role,
                    trigger=record.trigger,
                    label=t.label if t is not None else Text(record.trigger, record.trigger),
                    happened_on=e.happened_on,
                    recorded_at=e.recorded_at,
                    from_state=record.from_state,
                    to_state=record.to_state,
                    rules=tuple((r.rule.id, r.outcome.value, str(r.rule.citation)) for r in results),
                    flags=tuple(flags),
                )
            )
        return ReplayReport(case_id, head.workflow, head.definitions, tuple(steps), case.state, head.state, broken)

    def _replay_erratum(
        self, engine: Engine, case: Case, e: StoredEvent, body: Mapping[str, Any]
    ) -> tuple[Case, ReplayStep]:
        """An erratum replayed: who may correct what is checked again, and the corrected record and
        every later one judged again, as when it was made; the case goes on as corrected."""
        erratum = erratum_from_body(body, engine.workflow)
        flags: list[str] = []
        try:
            engine.erratum(
                case,
                corrects=erratum.corrects,
                actor=action_actor(body),
                recorded_on=erratum.recorded_on,
                reason=erratum.reason,
                fields=erratum.fields,
                on=erratum.on,
                role=erratum.role,
            )
            engine.correct(case, erratum, lambda c, a: self.cases.with_outside_facts(engine, c, a).known)
        except ActionRefused as exc:
            flags.append(
                "the rules refuse this correction now: " + "; ".join(f"{u.rule_id} ({u.citation})" for u in exc.unmet)
            )
        except DecisionsError as exc:
            flags.append(f"the correction cannot be applied: {exc}")
        if any(r.seq == erratum.corrects for r in case.records):
            case = case.with_erratum(erratum)
        step = ReplayStep(
            seq=e.seq,
            actor=erratum.actor,
            role=erratum.role,
            trigger=str(body.get("trigger")),
            label=Text(f"更正第 {erratum.corrects} 号事件", f"correction of event #{erratum.corrects}"),
            happened_on=e.happened_on,
            recorded_at=e.recorded_at,
            from_state=case.state,
            to_state=case.state,
            rules=(),
            flags=tuple(flags),
            correction=describe_erratum(erratum),
        )
        return case, step


def describe_erratum(erratum: Erratum) -> str:
    """What an erratum changed, from what to what, and why (one line, zh / en keys as stored)."""
    parts = [f"{name}: {erratum.was.get(name)!s} → {value!s}" for name, value in erratum.fields.items()]
    if erratum.on is not None:
        parts.append(f"on: {erratum.was_on} → {erratum.on}")
    return f"#{erratum.corrects} " + "; ".join(parts) + f" (理由 reason: {erratum.reason})"


PEOPLE_CHAIN = "people"  # the chain name findings about the people history carry


def people_findings(people: PeopleStore, hash_: Hasher, credentials: CredentialStore | None) -> list[Finding]:
    """Verify the people administration history as a case chain is verified (sequence, links,
    hashes over the stored bytes, columns against the hashed body), then replay it and compare the
    people, units, delegations and credentials tables with what it implies: any edited byte is a
    finding (a credential row against the digest its ``credential_set`` entry carries)."""
    out: list[Finding] = []
    state = Projection()
    expected, prev = 1, GENESIS
    for e in people.history():

        def bad(kind: str, message: str, seq: int = e.seq) -> None:
            out.append(Finding(PEOPLE_CHAIN, seq, kind, message))

        if e.seq != expected:
            bad("sequence", f"expected entry #{expected}, found #{e.seq}: an entry was deleted or reordered")
        if e.prev_hash != prev:
            bad("link", "prev_hash does not match the previous entry's hash: the chain is broken here")
        if not is_digest(e.prev_hash):
            bad("link", "prev_hash is not a digest: the entry was edited")
        elif chain_hash(hash_, e.prev_hash, e.body.encode("utf-8", "surrogateescape")) != e.hash:
            bad("hash", "the entry's hash does not match its content: the entry was edited")
        expected, prev = e.seq + 1, e.hash
        body = parse_if_canonical(e.body)
        if not isinstance(body, dict) or body.get("format") != PEOPLE_FORMAT:
            bad("body", "the entry body is not canonical JSON of the people history's format")
            continue
        columns = {"seq": e.seq, "kind": e.kind, "person": e.person, "by": e.actor, "at": e.at}
        for key, column in columns.items():
            if body.get(key) != column:
                bad("column", f"column {key!r} ({column!r}) disagrees with the hashed body ({body.get(key)!r})")
        try:
            apply_entry(state, body)
        except (ValueError, KeyError, TypeError) as exc:
            bad("body", f"the entry does not fit the history before it: {exc}")
    stored = {p.id: p for p in people.all()}
    for pid in sorted(set(stored) | set(state.people)):
        if stored.get(pid) != state.people.get(pid):
            out.append(
                Finding(
                    PEOPLE_CHAIN,
                    None,
                    "projection",
                    f"person {pid}: stored {stored.get(pid)} differs from the history ({state.people.get(pid)})",
                )
            )
    if dict(people.units()) != state.units:  # each unit with the time it was added
        out.append(Finding(PEOPLE_CHAIN, None, "projection", "the units table differs from the history"))
    if {d.seq: d for d in people.delegations()} != state.delegations:
        out.append(Finding(PEOPLE_CHAIN, None, "projection", "the delegations table differs from the history"))
    stored_credentials = {} if credentials is None else credentials.all()  # None: a store without logins
    for pid in sorted(set(stored_credentials) | set(state.credentials)):
        recorded, row = state.credentials.get(pid), stored_credentials.get(pid)
        if row is None:
            message = "is recorded in the people history but its row is missing: it was deleted"
        elif recorded is None:
            message = "has no entry in the people history: the row was written behind the office"
        elif credential_digest(row) != recorded:
            message = "does not match the digest its people-history entry records: the row was edited"
        else:
            continue
        where = f"credentials[{shown(pid)}].hash"
        out.append(Finding(PEOPLE_CHAIN, None, "credential", f"the password of {shown(pid)} {message}", where))
    return out

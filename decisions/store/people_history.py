"""The people administration history: its entry format, its chain, and the projection it implies.

Who may act, in which roles and unit, and for whom, is itself history: every change is an entry
(`KINDS`) naming who made it (``by``) and when (``at``), serialised canonically and hash-chained
exactly like a case's events (`decisions.audit`). The people, units and delegations tables are its
projection (`project`): verification replays the entries and compares. Format version 1::

    {"format": 1, "seq": 4, "kind": "role_granted", "person": "liming", "by": "admin",
     "at": "2025-03-10T02:15:00.000000Z", "role": "organiser"}

A password set or changed is an entry too (``credential_set``): it carries the SHA-256 of the stored
credential (the Argon2 PHC string, never the password), so verification compares the credentials
table with the history and an edited, inserted or deleted credential row is a finding.

Pure: no SQL, no clock. The SQL and in-memory stores both append `chained_entry`s.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from hashlib import sha256
from typing import Any

from decisions.audit import Hasher, canonical_bytes, canonical_text, chain_hash

__all__ = [
    "KINDS",
    "PEOPLE_FORMAT",
    "PeopleEntry",
    "PeopleRows",
    "Projection",
    "StoredDelegation",
    "StoredPerson",
    "apply_entry",
    "chained_entry",
    "credential_digest",
    "project",
]

PEOPLE_FORMAT = 1
KINDS = (
    "person_added",
    "role_granted",
    "role_revoked",
    "unit_changed",
    "deactivated",
    "reactivated",
    "unit_added",
    "delegation_granted",
    "delegation_ended",
    "credential_set",
)


@dataclass(frozen=True)
class StoredPerson:
    """One row of the people table: ``id`` is what histories name, ``name`` is shown."""

    id: str
    name: str
    roles: tuple[str, ...]
    unit: str
    active: bool


@dataclass(frozen=True)
class StoredDelegation:
    """One delegation (委托代办): ``delegate`` may act for ``delegator`` in ``role`` ('' for every
    role the delegator holds) from ``start`` to ``until`` inclusive (ISO dates), unless ``ended``
    (from that ISO date on; '' while it runs). ``seq`` is the entry that granted it."""

    seq: int
    delegator: str
    delegate: str
    role: str
    start: str
    until: str
    ended: str = ""

    def in_force(self, day: str) -> bool:
        """Whether it lets the delegate act on ``day`` (ISO date)."""
        return self.start <= day <= self.until and not (self.ended and day >= self.ended)


@dataclass(frozen=True)
class PeopleEntry:
    """An entry as stored: the columns that repeat the body, and the body's exact text."""

    seq: int
    kind: str
    person: str
    actor: str  # the body's "by"
    at: str
    prev_hash: str
    hash: str
    body: str


@dataclass(frozen=True)
class PeopleRows:
    """The projection rows one entry writes: people (inserted when ``new_person``, else updated),
    units (inserted), delegations (upserted; a delegation with ``seq`` 0 is the entry's own) and a
    credential (person id, stored hash: upserted; the entry carries only its `credential_digest`)."""

    people: tuple[StoredPerson, ...] = ()
    new_person: bool = False
    units: tuple[str, ...] = ()
    delegations: tuple[StoredDelegation, ...] = ()
    credential: tuple[str, str] | None = None


@dataclass
class Projection:
    """What the history implies: people by id, units, delegations by the seq that granted them."""

    people: dict[str, StoredPerson] = field(default_factory=dict)
    units: dict[str, str] = field(default_factory=dict)  # name -> added_at
    delegations: dict[int, StoredDelegation] = field(default_factory=dict)
    credentials: dict[str, str] = field(default_factory=dict)  # person id -> credential_digest


def credential_digest(stored_hash: str) -> str:
    """What the people history records of a credential: the SHA-256 of the stored hash (a PHC
    string), whatever the chains' algorithm, so the password itself is never in the history."""
    return sha256(stored_hash.encode("utf-8", "surrogateescape")).hexdigest()


def _roles(roles: Iterable[str]) -> tuple[str, ...]:
    return tuple(sorted(set(roles)))


def apply_entry(state: Projection, body: Mapping[str, Any]) -> PeopleRows:
    """Apply one entry to ``state`` (in place) and return the rows it writes. Raises `ValueError`
    for an entry that does not fit the state (verification reports it; the service never writes one)."""
    kind, person, seq = body.get("kind"), str(body.get("person", "")), int(body.get("seq", 0))
    current = state.people.get(person)
    if kind == "person_added":
        if current is not None:
            raise ValueError(f"person {person} added twice")
        new = StoredPerson(person, str(body["name"]), _roles(body["roles"]), str(body.get("unit", "")), True)
        state.people[person] = new
        return PeopleRows(people=(new,), new_person=True)
    if kind == "unit_added":
        unit = str(body["unit"])
        if unit in state.units:
            raise ValueError(f"unit {unit} added twice")
        state.units[unit] = str(body["at"])
        return PeopleRows(units=(unit,))
    if kind == "delegation_ended":
        found = state.delegations.get(int(body["delegation"]))
        if found is None:
            raise ValueError(f"delegation #{body['delegation']} was never granted")
        ended = replace(found, ended=str(body["on"]))
        state.delegations[found.seq] = ended
        return PeopleRows(delegations=(ended,))
    if current is None:
        raise ValueError(f"{kind} of person {person}, who was never added")
    if kind == "credential_set":
        state.credentials[person] = str(body["credential"])
        return PeopleRows()
    if kind == "delegation_granted":
        granted = StoredDelegation(
            seq, person, str(body["to"]), str(body.get("role", "")), str(body["start"]), str(body["until"])
        )
        state.delegations[seq] = granted
        return PeopleRows(delegations=(replace(granted, seq=0),))
    if kind == "role_granted":
        new = replace(current, roles=_roles((*current.roles, str(body["role"]))))
    elif kind == "role_revoked":
        new = replace(current, roles=tuple(r for r in current.roles if r != body["role"]))
    elif kind == "unit_changed":
        new = replace(current, unit=str(body["unit"]))
    elif kind in ("deactivated", "reactivated"):
        new = replace(current, active=kind == "reactivated")
    else:
        raise ValueError(f"unknown kind of entry {kind!r}")
    state.people[person] = new
    return PeopleRows(people=(new,))


def project(bodies: Iterable[Mapping[str, Any]]) -> Projection:
    """The projection a whole history implies (`ValueError` at the first entry that does not fit)."""
    state = Projection()
    for body in bodies:
        apply_entry(state, body)
    return state


def chained_entry(hash_: Hasher, body: Mapping[str, Any], prev: str) -> PeopleEntry:
    """The entry that stores ``body`` after an entry whose hash is ``prev``."""
    data = canonical_bytes(body)
    return PeopleEntry(
        int(body["seq"]),
        str(body["kind"]),
        str(body.get("person", "")),
        str(body["by"]),
        canonical_text(body["at"]).strip('"'),
        prev,
        chain_hash(hash_, prev, data),
        data.decode("utf-8"),
    )

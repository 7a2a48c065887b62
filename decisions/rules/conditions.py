"""The condition language: data, not code. Pure; no I/O, no clock.

A rule's condition is a tree of a *closed* set of node classes, built by the loader from YAML
(``decisions.loading.conditions``). Nothing in a file is ever turned into a Python callable.

Values (what a comparison compares)::

    literal                      "lawful", 3, true
    {fact: action.comment_deadline}    a fact about the case or the action (`decisions.rules.facts`)
    {param: comment_period_days}       a rule-pack parameter (layered, strictest wins)
    {count: {record: expert_opinion, where: {signed: true}}}    records of a kind
    {count: {record: expert_opinion, distinct: expert}}          distinct values of a field over records
    {count: {document: adoption_explanation}}                   documents of a kind (incl. the action's)
    {latest: {record: legality_review, field: outcome}}          a field of the latest record of a kind
    {length: <value>}                                            the length of a list (absent = 0)
    {days: {from: <value>, to: <value>, unit: working}}          days between two dates
    {period_end: {from: <value>, length: <value>, unit: month}}  the last day of a period (a date)
    {period_end: {last_day: <value>}}                            the day a period ending on a date ends
    {collect: {record: [risk_report], field: unit}}              every value of a field over records
    {union: [<value>, <value>, ...]}                              the lists joined (absent = empty)

Conditions::

    {all: [...]}  {any: [...]}  {not: ...}
    {eq|ne|gt|gte|lt|lte|in|not_in|contains_all|disjoint: [<value>, <value>]}
    {present: <value>}

Evaluation is three-valued plus *pending*: a comparison whose operand has no value, or a date in a
year the calendar does not know, is an ERROR, never false. In a preview (no action yet), facts
about the action are PENDING. ``all`` is false if any part is false, else error, else pending;
``any`` is true if any part is true, else error, else pending.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from decisions.calendar import Unit
from decisions.errors import CalendarError
from decisions.model import Case, Record
from decisions.rules.facts import MISSING, OUTSIDE_FACTS, PENDING, Env, EvalFailure, FactType, record_value

__all__ = [
    "MISSING",
    "OUTSIDE_FACTS",
    "PENDING",
    "All",
    "AnyOf",
    "Collect",
    "Compare",
    "Condition",
    "Count",
    "Days",
    "Env",
    "EvalFailure",
    "Fact",
    "Latest",
    "Length",
    "Literal",
    "Not",
    "Param",
    "PeriodEnd",
    "Present",
    "Status",
    "Union",
    "Value",
    "Verdict",
]


class Status(enum.Enum):
    TRUE = "true"
    FALSE = "false"
    PENDING = "pending"
    ERROR = "error"


@dataclass(frozen=True)
class Verdict:
    """The outcome of evaluating a condition; ``errors`` explains an ERROR."""

    status: Status
    errors: tuple[str, ...] = ()

    @property
    def holds(self) -> bool:
        return self.status is Status.TRUE


TRUE = Verdict(Status.TRUE)
FALSE = Verdict(Status.FALSE)
PENDING_VERDICT = Verdict(Status.PENDING)


def _records(case: Case, kinds: frozenset[str]) -> list[Record]:
    return [r for r in case.records if r.kind in kinds]


class Value:
    """A value expression. ``type`` is the static type the loader inferred (for load-time checks)."""

    type: FactType = FactType.ANY

    def value(self, env: Env) -> Any:
        raise NotImplementedError

    def describe(self) -> str:
        raise NotImplementedError


@dataclass(frozen=True)
class Literal(Value):
    literal: Any
    type: FactType = FactType.ANY

    def value(self, env: Env) -> Any:
        return self.literal

    def describe(self) -> str:
        return repr(self.literal)


@dataclass(frozen=True)
class Fact(Value):
    path: str
    type: FactType = FactType.ANY

    def value(self, env: Env) -> Any:
        return env.fact(self.path)

    def describe(self) -> str:
        return self.path


@dataclass(frozen=True)
class Param(Value):
    name: str
    type: FactType = FactType.ANY

    def value(self, env: Env) -> Any:
        if self.name not in env.params:
            raise EvalFailure(f"parameter {self.name!r} is not set by any loaded rule pack")
        return env.params[self.name]

    def describe(self) -> str:
        return f"param {self.name}"


@dataclass(frozen=True)
class Count(Value):
    kinds: frozenset[str] = frozenset()
    where: tuple[tuple[str, Any], ...] = ()
    document: str | None = None
    distinct: str | None = None
    type: FactType = FactType.INT

    def value(self, env: Env) -> Any:
        if self.distinct is not None:
            seen = {
                record_value(r, self.distinct)
                for r in _records(env.case, self.kinds)
                if all(record_value(r, k) == v for k, v in self.where)
            }
            seen.discard(MISSING)
            return len(seen)
        if self.document is not None:
            n = sum(1 for r in env.case.records for d in r.documents if d.kind == self.document)
            if env.preview:
                return PENDING if n == 0 else n
            if env.action is not None:
                n += sum(1 for d in env.action.documents if d.kind == self.document)
            return n
        return sum(1 for r in _records(env.case, self.kinds) if all(record_value(r, k) == v for k, v in self.where))

    def describe(self) -> str:
        if self.document is not None:
            return f"count of {self.document} documents"
        if self.distinct is not None:
            return f"count of distinct {self.distinct} over {'/'.join(sorted(self.kinds))} records"
        return f"count of {'/'.join(sorted(self.kinds))} records"


@dataclass(frozen=True)
class Latest(Value):
    kinds: frozenset[str]
    field: str
    type: FactType = FactType.ANY

    def value(self, env: Env) -> Any:
        for record in reversed(env.case.records):
            if record.kind in self.kinds:
                return record_value(record, self.field)
        return MISSING

    def describe(self) -> str:
        return f"latest {'/'.join(sorted(self.kinds))}.{self.field}"


@dataclass(frozen=True)
class Collect(Value):
    kinds: frozenset[str]
    field: str
    draft_changes: bool = False
    type: FactType = FactType.LIST

    def value(self, env: Env) -> Any:
        out: list[Any] = []
        for r in env.case.records:
            if r.kind in self.kinds or (self.draft_changes and r.changes_draft):
                v = record_value(r, self.field)
                if v is not MISSING and v not in out:
                    out.append(v)
        return out

    def describe(self) -> str:
        what = sorted(self.kinds) + (["draft changes"] if self.draft_changes else [])
        return f"every {self.field} of {', '.join(what)}"


@dataclass(frozen=True)
class Length(Value):
    of: Value
    type: FactType = FactType.INT

    def value(self, env: Env) -> Any:
        v = self.of.value(env)
        if v is PENDING:
            return PENDING
        if v is MISSING:
            return 0
        if not isinstance(v, list | tuple | str):
            raise EvalFailure(f"{self.of.describe()} is not a list")
        return len(v)

    def describe(self) -> str:
        return f"length of {self.of.describe()}"


@dataclass(frozen=True)
class Days(Value):
    start: Value
    end: Value
    unit: Unit
    type: FactType = FactType.INT

    def value(self, env: Env) -> Any:
        a, b = self.start.value(env), self.end.value(env)
        if a is PENDING or b is PENDING:
            return PENDING
        for operand, v in ((self.start, a), (self.end, b)):
            if v is MISSING:
                raise EvalFailure(f"{operand.describe()} has no value")
            if not isinstance(v, date):
                raise EvalFailure(f"{operand.describe()} is not a date: {v!r}")
        try:
            return env.calendar.elapsed(a, b, self.unit, env.counting)
        except CalendarError as exc:
            raise EvalFailure(str(exc)) from exc

    def describe(self) -> str:
        what = f"whole {self.unit.value}s" if self.unit in (Unit.MONTH, Unit.YEAR) else f"{self.unit.value} days"
        return f"{what} from {self.start.describe()} to {self.end.describe()}"


@dataclass(frozen=True)
class PeriodEnd(Value):
    """The last day of a period, counted as the Civil Code counts (see `decisions.calendar`).

    With ``length``: the period of ``length`` ``unit``s starting after ``start`` (日, 工作日, 月, 年;
    Art. 201-203). Without: a period whose last day is ``start`` (a published deadline), which ends
    on the next working day when that day is a statutory rest day (Art. 203(1)). The period runs to
    24:00 of that day (Art. 203(2)): what may happen only after it compares with ``gt``."""

    start: Value
    length: Value | None = None
    unit: Unit = Unit.CALENDAR
    type: FactType = FactType.DATE

    def value(self, env: Env) -> Any:
        a = self.start.value(env)
        n = self.length.value(env) if self.length is not None else None
        if a is PENDING or n is PENDING:
            return PENDING
        if a is MISSING:
            raise EvalFailure(f"{self.start.describe()} has no value")
        if not isinstance(a, date):
            raise EvalFailure(f"{self.start.describe()} is not a date: {a!r}")
        if self.length is not None and (isinstance(n, bool) or not isinstance(n, int) or n < 1):
            raise EvalFailure(f"{self.length.describe()} is not a length of at least 1: {n!r}")
        try:
            if isinstance(n, int):
                return env.calendar.period_end(a, n, self.unit, env.counting)
            return env.calendar.last_day(a, env.counting)
        except (CalendarError, OverflowError) as exc:
            raise EvalFailure(str(exc)) from exc

    def describe(self) -> str:
        if self.length is None:
            return f"the end of a period whose last day is {self.start.describe()}"
        return f"the end of {self.length.describe()} {self.unit.value} period(s) from {self.start.describe()}"


@dataclass(frozen=True)
class Union(Value):
    """Several lists as one (a value that has no value counts as an empty list): e.g. the hearing
    participants who signed, were absent or refused to sign."""

    items: tuple[Value, ...]
    type: FactType = FactType.LIST

    def value(self, env: Env) -> Any:
        out: list[Any] = []
        for item in self.items:
            v = item.value(env)
            if v is PENDING:
                return PENDING
            if v is MISSING:
                continue
            if not isinstance(v, list | tuple):
                raise EvalFailure(f"{item.describe()} is not a list")
            out.extend(x for x in v if x not in out)
        return out

    def describe(self) -> str:
        return " + ".join(i.describe() for i in self.items)


class Condition:
    """A condition node."""

    def evaluate(self, env: Env) -> Verdict:
        raise NotImplementedError

    def references(self) -> frozenset[str]:
        """Fact paths and param names (``param:x``) this condition reads, for load-time checks."""
        raise NotImplementedError


def _value_refs(v: Value) -> frozenset[str]:
    if isinstance(v, Fact):
        return frozenset({v.path})
    if isinstance(v, Param):
        return frozenset({f"param:{v.name}"})
    if isinstance(v, Length):
        return _value_refs(v.of)
    if isinstance(v, Days):
        return _value_refs(v.start) | _value_refs(v.end)
    if isinstance(v, Union):
        return frozenset().union(*(_value_refs(i) for i in v.items))
    if isinstance(v, PeriodEnd):
        return _value_refs(v.start) | (_value_refs(v.length) if v.length is not None else frozenset())
    return frozenset()


@dataclass(frozen=True)
class All(Condition):
    items: tuple[Condition, ...]

    def evaluate(self, env: Env) -> Verdict:
        errors: list[str] = []
        pending = False
        for item in self.items:
            v = item.evaluate(env)
            if v.status is Status.FALSE:
                return FALSE
            if v.status is Status.ERROR:
                errors.extend(v.errors)
            elif v.status is Status.PENDING:
                pending = True
        if errors:
            return Verdict(Status.ERROR, tuple(errors))
        return PENDING_VERDICT if pending else TRUE

    def references(self) -> frozenset[str]:
        return frozenset().union(*(i.references() for i in self.items))


@dataclass(frozen=True)
class AnyOf(Condition):
    items: tuple[Condition, ...]

    def evaluate(self, env: Env) -> Verdict:
        errors: list[str] = []
        pending = False
        for item in self.items:
            v = item.evaluate(env)
            if v.status is Status.TRUE:
                return TRUE
            if v.status is Status.ERROR:
                errors.extend(v.errors)
            elif v.status is Status.PENDING:
                pending = True
        if errors:
            return Verdict(Status.ERROR, tuple(errors))
        return PENDING_VERDICT if pending else FALSE

    def references(self) -> frozenset[str]:
        return frozenset().union(*(i.references() for i in self.items))


@dataclass(frozen=True)
class Not(Condition):
    item: Condition

    def evaluate(self, env: Env) -> Verdict:
        v = self.item.evaluate(env)
        if v.status is Status.TRUE:
            return FALSE
        if v.status is Status.FALSE:
            return TRUE
        return v

    def references(self) -> frozenset[str]:
        return self.item.references()


def _lt(a: Any, b: Any) -> bool:
    return bool(a < b)


_ORDERED: Mapping[str, Callable[[Any, Any], bool]] = {
    "gt": lambda a, b: _lt(b, a),
    "gte": lambda a, b: not _lt(a, b),
    "lt": _lt,
    "lte": lambda a, b: not _lt(b, a),
}
COMPARISON_OPERATORS = ("eq", "ne", "gt", "gte", "lt", "lte", "in", "not_in", "contains_all", "disjoint")


@dataclass(frozen=True)
class Compare(Condition):
    op: str
    left: Value
    right: Value

    def evaluate(self, env: Env) -> Verdict:
        try:
            a, b = self.left.value(env), self.right.value(env)
        except EvalFailure as exc:
            return Verdict(Status.ERROR, (str(exc),))
        if a is PENDING or b is PENDING:
            return PENDING_VERDICT
        for operand, v in ((self.left, a), (self.right, b)):
            if v is MISSING:
                return Verdict(Status.ERROR, (f"{operand.describe()} has no value",))
        try:
            return TRUE if self._compare(a, b) else FALSE
        except TypeError:
            return Verdict(
                Status.ERROR,
                (f"cannot compare {self.left.describe()}={a!r} with {self.right.describe()}={b!r}",),
            )

    def _compare(self, a: Any, b: Any) -> bool:
        if self.op == "eq":
            return bool(a == b)
        if self.op == "ne":
            return bool(a != b)
        if self.op in _ORDERED:
            if (
                isinstance(a, bool)
                or isinstance(b, bool)
                or (type(a) is not type(b) and not (isinstance(a, int | float) and isinstance(b, int | float)))
            ):
                raise TypeError
            return _ORDERED[self.op](a, b)
        if self.op in ("in", "not_in"):
            if not isinstance(b, list | tuple | frozenset | set):
                raise TypeError
            return (a in b) == (self.op == "in")
        if self.op in ("contains_all", "disjoint"):
            if not isinstance(a, list | tuple) or not isinstance(b, list | tuple):
                raise TypeError
            if self.op == "disjoint":  # no element of the one list is in the other
                return not set(map(str, a)) & set(map(str, b))
            return set(map(str, b)) <= set(map(str, a))
        raise TypeError  # pragma: no cover - the loader admits only the operators above

    def references(self) -> frozenset[str]:
        return _value_refs(self.left) | _value_refs(self.right)


@dataclass(frozen=True)
class Present(Condition):
    of: Value

    def evaluate(self, env: Env) -> Verdict:
        try:
            v = self.of.value(env)
        except EvalFailure as exc:
            return Verdict(Status.ERROR, (str(exc),))
        if v is PENDING:
            return PENDING_VERDICT
        empty = v is MISSING or v == "" or (isinstance(v, list | tuple) and not v)
        return FALSE if empty else TRUE

    def references(self) -> frozenset[str]:
        return _value_refs(self.of)


def all_of(items: Sequence[Condition]) -> Condition:
    """``All`` of several conditions (a single one stands for itself)."""
    return items[0] if len(items) == 1 else All(tuple(items))

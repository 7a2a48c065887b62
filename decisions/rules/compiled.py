"""Conditions compiled to closures, once per definition set. Pure; no I/O, no clock.

`compile_condition` turns a condition tree (`decisions.rules.conditions`) into one Python closure
per node, built from the node's fields: a fact's reader is looked up in the fact table once, a
comparison's operator chosen once, a count's filters fixed once; evaluation then calls closures
instead of walking node classes and dispatching on them. Nothing is ever turned from text into
code (no ``eval``, no names resolved from a file): the closures are the fixed functions below,
closed over values the loader validated. Results are the interpreter's, three-valued with their
error messages (`tests/test_compiled_conditions.py` proves it over generated trees and cases).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

from decisions.calendar import Unit
from decisions.errors import CalendarError
from decisions.rules.conditions import (
    FALSE,
    PENDING_VERDICT,
    TRUE,
    All,
    AnyOf,
    Collect,
    Compare,
    Condition,
    Count,
    Days,
    Fact,
    Latest,
    Length,
    Literal,
    Not,
    Param,
    PeriodEnd,
    Present,
    Status,
    Union,
    Value,
    Verdict,
)
from decisions.rules.definitions import Rule
from decisions.rules.facts import FACTS, FIELD_FACTS, MISSING, PENDING, Env, EvalFailure, record_value

__all__ = ["Check", "CompiledRule", "Read", "compile_condition", "compile_rules", "compile_value"]

Read = Callable[[Env], Any]
Check = Callable[[Env], Verdict]
_ERROR, _FALSE, _TRUE, _PENDING = Status.ERROR, Status.FALSE, Status.TRUE, Status.PENDING


@dataclass(frozen=True)
class CompiledRule:
    """A rule's conditions as closures (``when`` None: the rule always applies)."""

    rule: Rule
    when: Check | None
    require: Check


def compile_rules(rules: Mapping[str, Rule]) -> dict[str, CompiledRule]:
    """Every rule of a rule book, compiled."""
    return {
        rule_id: CompiledRule(
            rule, None if rule.when is None else compile_condition(rule.when), compile_condition(rule.require)
        )
        for rule_id, rule in rules.items()
    }


# -- values ---------------------------------------------------------------------------------------


def compile_value(v: Value) -> Read:
    """The closure that computes ``v``'s value (`MISSING`, `PENDING`, or `EvalFailure`), as ``v.value``."""
    if isinstance(v, Literal):
        literal = v.literal
        return lambda env: literal
    if isinstance(v, Fact):
        return _fact(v.path)
    if isinstance(v, Param):
        return _param(v.name)
    if isinstance(v, Count):
        return _count(v)
    if isinstance(v, Latest):
        return _latest(v.kinds, v.field)
    if isinstance(v, Collect):
        return _collect(v.kinds, v.field, v.draft_changes)
    if isinstance(v, Length):
        return _length(compile_value(v.of), v.of.describe())
    if isinstance(v, Days):
        return _days(v)
    if isinstance(v, PeriodEnd):
        return _period_end(v)
    if isinstance(v, Union):
        return _union(v)
    return v.value  # a value class of the language compiled nowhere above: interpreted as it is


def _fact(path: str) -> Read:
    builtin = FACTS.get(path)
    if builtin is not None:
        return builtin.read
    namespace, _, name = path.partition(".")
    family = FIELD_FACTS.get(namespace)
    if family is not None and name:
        read = family.read
        return lambda env: read(env, name)
    message = f"unknown fact {path!r}"

    def unknown(env: Env) -> Any:
        raise EvalFailure(message)

    return unknown


def _param(name: str) -> Read:
    message = f"parameter {name!r} is not set by any loaded rule pack"

    def read(env: Env) -> Any:
        params = env.params
        if name not in params:
            raise EvalFailure(message)
        return params[name]

    return read


def _count(v: Count) -> Read:
    kinds, where = v.kinds, v.where
    if v.distinct is not None:
        distinct = v.distinct

        def count_distinct(env: Env) -> Any:
            seen = {
                record_value(r, distinct)
                for r in env.case.records
                if r.kind in kinds and all(record_value(r, k) == x for k, x in where)
            }
            seen.discard(MISSING)
            return len(seen)

        return count_distinct
    if v.document is not None:
        document = v.document

        def count_documents(env: Env) -> Any:
            n = sum(1 for r in env.case.records for d in r.documents if d.kind == document)
            if env.preview:
                return PENDING if n == 0 else n
            if env.action is not None:
                n += sum(1 for d in env.action.documents if d.kind == document)
            return n

        return count_documents
    if not where:
        return lambda env: sum(1 for r in env.case.records if r.kind in kinds)
    return lambda env: sum(
        1 for r in env.case.records if r.kind in kinds and all(record_value(r, k) == x for k, x in where)
    )


def _latest(kinds: frozenset[str], field: str) -> Read:
    def latest(env: Env) -> Any:
        for record in reversed(env.case.records):
            if record.kind in kinds:
                return record_value(record, field)
        return MISSING

    return latest


def _collect(kinds: frozenset[str], field: str, draft_changes: bool) -> Read:
    def collect(env: Env) -> Any:
        out: list[Any] = []
        for r in env.case.records:
            if r.kind in kinds or (draft_changes and r.changes_draft):
                v = record_value(r, field)
                if v is not MISSING and v not in out:
                    out.append(v)
        return out

    return collect


def _length(of: Read, described: str) -> Read:
    message = f"{described} is not a list"

    def length(env: Env) -> Any:
        v = of(env)
        if v is PENDING:
            return PENDING
        if v is MISSING:
            return 0
        if not isinstance(v, list | tuple | str):
            raise EvalFailure(message)
        return len(v)

    return length


def _days(v: Days) -> Read:
    start, end, unit = compile_value(v.start), compile_value(v.end), v.unit
    named = ((v.start.describe(), 0), (v.end.describe(), 1))

    def days(env: Env) -> Any:
        ab = (start(env), end(env))
        if ab[0] is PENDING or ab[1] is PENDING:
            return PENDING
        for described, i in named:
            if ab[i] is MISSING:
                raise EvalFailure(f"{described} has no value")
            if not isinstance(ab[i], date):
                raise EvalFailure(f"{described} is not a date: {ab[i]!r}")
        try:
            return env.calendar.elapsed(ab[0], ab[1], unit, env.counting)
        except CalendarError as exc:
            raise EvalFailure(str(exc)) from exc

    return days


def _period_end(v: PeriodEnd) -> Read:
    start = compile_value(v.start)
    length = compile_value(v.length) if v.length is not None else None
    unit: Unit = v.unit
    start_described = v.start.describe()
    length_described = v.length.describe() if v.length is not None else ""

    def period_end(env: Env) -> Any:
        a = start(env)
        n = length(env) if length is not None else None
        if a is PENDING or n is PENDING:
            return PENDING
        if a is MISSING:
            raise EvalFailure(f"{start_described} has no value")
        if not isinstance(a, date):
            raise EvalFailure(f"{start_described} is not a date: {a!r}")
        if length is not None and (isinstance(n, bool) or not isinstance(n, int) or n < 1):
            raise EvalFailure(f"{length_described} is not a length of at least 1: {n!r}")
        try:
            if isinstance(n, int):
                return env.calendar.period_end(a, n, unit, env.counting)
            return env.calendar.last_day(a, env.counting)
        except (CalendarError, OverflowError) as exc:
            raise EvalFailure(str(exc)) from exc

    return period_end


def _union(v: Union) -> Read:
    items = tuple((compile_value(i), f"{i.describe()} is not a list") for i in v.items)

    def union(env: Env) -> Any:
        out: list[Any] = []
        for read, message in items:
            x = read(env)
            if x is PENDING:
                return PENDING
            if x is MISSING:
                continue
            if not isinstance(x, list | tuple):
                raise EvalFailure(message)
            out.extend(y for y in x if y not in out)
        return out

    return union


# -- conditions -----------------------------------------------------------------------------------


def compile_condition(c: Condition) -> Check:
    """The closure that evaluates ``c`` to the `Verdict` ``c.evaluate`` gives."""
    if isinstance(c, All):
        return _all(tuple(compile_condition(i) for i in c.items))
    if isinstance(c, AnyOf):
        return _any(tuple(compile_condition(i) for i in c.items))
    if isinstance(c, Not):
        return _not(compile_condition(c.item))
    if isinstance(c, Compare):
        return _compare(c)
    if isinstance(c, Present):
        return _present(compile_value(c.of))
    return c.evaluate  # a condition class compiled nowhere above: interpreted as it is


def _all(items: tuple[Check, ...]) -> Check:
    def all_(env: Env) -> Verdict:
        errors: list[str] = []
        pending = False
        for item in items:
            v = item(env)
            status = v.status
            if status is _FALSE:
                return FALSE
            if status is _ERROR:
                errors.extend(v.errors)
            elif status is _PENDING:
                pending = True
        if errors:
            return Verdict(_ERROR, tuple(errors))
        return PENDING_VERDICT if pending else TRUE

    return all_


def _any(items: tuple[Check, ...]) -> Check:
    def any_(env: Env) -> Verdict:
        errors: list[str] = []
        pending = False
        for item in items:
            v = item(env)
            status = v.status
            if status is _TRUE:
                return TRUE
            if status is _ERROR:
                errors.extend(v.errors)
            elif status is _PENDING:
                pending = True
        if errors:
            return Verdict(_ERROR, tuple(errors))
        return PENDING_VERDICT if pending else FALSE

    return any_


def _not(item: Check) -> Check:
    def not_(env: Env) -> Verdict:
        v = item(env)
        if v.status is _TRUE:
            return FALSE
        if v.status is _FALSE:
            return TRUE
        return v

    return not_


def _ordered(op: str) -> Callable[[Any, Any], bool]:
    less: dict[str, Callable[[Any, Any], bool]] = {
        "gt": lambda a, b: bool(b < a),
        "gte": lambda a, b: not a < b,
        "lt": lambda a, b: bool(a < b),
        "lte": lambda a, b: not b < a,
    }
    compare = less[op]

    def ordered(a: Any, b: Any) -> bool:
        if (
            isinstance(a, bool)
            or isinstance(b, bool)
            or (type(a) is not type(b) and not (isinstance(a, int | float) and isinstance(b, int | float)))
        ):
            raise TypeError
        return bool(compare(a, b))

    return ordered


def _membership(inside: bool) -> Callable[[Any, Any], bool]:
    def member(a: Any, b: Any) -> bool:
        if not isinstance(b, list | tuple | frozenset | set):
            raise TypeError
        return (a in b) == inside

    return member


def _lists(disjoint: bool) -> Callable[[Any, Any], bool]:
    def lists(a: Any, b: Any) -> bool:
        if not isinstance(a, list | tuple) or not isinstance(b, list | tuple):
            raise TypeError
        if disjoint:
            return not set(map(str, a)) & set(map(str, b))
        return set(map(str, b)) <= set(map(str, a))

    return lists


def _operator(op: str) -> Callable[[Any, Any], bool]:
    if op == "eq":
        return lambda a, b: bool(a == b)
    if op == "ne":
        return lambda a, b: bool(a != b)
    if op in ("gt", "gte", "lt", "lte"):
        return _ordered(op)
    if op in ("in", "not_in"):
        return _membership(op == "in")
    if op in ("contains_all", "disjoint"):
        return _lists(op == "disjoint")

    def unknown(a: Any, b: Any) -> bool:  # pragma: no cover - the loader admits only the operators above
        raise TypeError

    return unknown


def _compare(c: Compare) -> Check:
    left, right, operator = compile_value(c.left), compile_value(c.right), _operator(c.op)
    left_described, right_described = c.left.describe(), c.right.describe()
    no_left = Verdict(_ERROR, (f"{left_described} has no value",))
    no_right = Verdict(_ERROR, (f"{right_described} has no value",))

    def compare(env: Env) -> Verdict:
        try:
            a, b = left(env), right(env)
        except EvalFailure as exc:
            return Verdict(_ERROR, (str(exc),))
        if a is PENDING or b is PENDING:
            return PENDING_VERDICT
        if a is MISSING:
            return no_left
        if b is MISSING:
            return no_right
        try:
            return TRUE if operator(a, b) else FALSE
        except TypeError:
            return Verdict(_ERROR, (f"cannot compare {left_described}={a!r} with {right_described}={b!r}",))

    return compare


def _present(of: Read) -> Check:
    def present(env: Env) -> Verdict:
        try:
            v = of(env)
        except EvalFailure as exc:
            return Verdict(_ERROR, (str(exc),))
        if v is PENDING:
            return PENDING_VERDICT
        empty = v is MISSING or v == "" or (isinstance(v, list | tuple) and not v)
        return FALSE if empty else TRUE

    return present

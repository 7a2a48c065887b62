"""The canonical form is written fast and still byte for byte as before (issue 15).

`decisions.audit.canonical` writes most bodies through the standard library's C encoder; every
stored hash depends on it writing exactly what the original writer wrote. These properties compare
it with that writer, frozen in `tests/canonical_reference.py`, over arbitrary values: the same bytes,
or the same refusal (error class and message) for what the original refused.
"""

from __future__ import annotations

import sys
from collections import OrderedDict
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta, timezone
from enum import IntEnum, StrEnum
from types import MappingProxyType

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from decisions.audit import canonical
from decisions.audit.canonical import canonical_bytes, canonical_text
from decisions.service.cases import CaseService
from decisions.store.memory import memory_store
from tests import canonical_reference as reference
from tests.stores import fixed_clock, play, supplied_catalogue
from tests.support import shipped_definitions


class Colour(StrEnum):
    RED = "red"
    NOT_NFC = "Cafe\u0301"


class Level(IntEnum):
    HIGH = 3


class Tricky(int):
    """An int whose ``int()`` is not its value: the original writer wrote ``int(value)``."""

    def __int__(self) -> int:
        return 7


# --- strategies -------------------------------------------------------------------------------------

# Characters where canonical forms go wrong: escapes, controls before combining marks (``\n`` then
# U+0301 would compose as ``n``+U+0301 if it were checked on the text alone), decomposed and
# excluded characters, lone surrogates, astral characters, code point vs UTF-16 order.
TRICKY_CHARACTERS = (
    '"\\/\b\f\n\r\t\x00\x1f\x7f\u2028\u2029'
    "e\u0301n\u0303\u0340\u0344\u0345\u0316\u0323\u212b\u2126\uf900\u1100\u1161\u11a8\uac00"
    "\u00e9\u0958\ufeffＡ中\ud800\udbff\udc00\udfff\U0001f600\U00010000\U0010ffff"
)
characters = st.sampled_from(TRICKY_CHARACTERS) | st.characters() | st.characters(categories=["Cs", "Mn", "Cc"])
texts = st.text(characters, max_size=10) | st.sampled_from(["", "a", "Cafe\u0301", "\n\u0301", "\\\u0301"])
bad_keys = st.integers(-2, 2) | st.none() | st.booleans() | st.floats(allow_nan=False) | st.tuples(st.integers())

big_integers = st.sampled_from([2**53 - 1, 2**53, 2**53 + 1, -(2**53), 2**63, -(2**64) - 1])
# beyond the interpreter's digit limit (4300): the C encoder refuses them, the writer must not
huge_integers = st.tuples(st.sampled_from([4299, 4300, 5000]), st.sampled_from([1, -1])).map(
    lambda p: p[1] * (10 ** p[0] + 7)
)
integers = st.integers() | big_integers | st.integers(-(2**70), 2**70) | huge_integers

offsets = st.timedeltas(min_value=timedelta(hours=-23, minutes=-59), max_value=timedelta(hours=23, minutes=59))
zones = st.builds(timezone, offsets) | st.just(UTC) | st.timezones()
aware = st.datetimes(timezones=zones)
edge_datetimes = st.sampled_from(
    [
        datetime(1, 1, 1, tzinfo=timezone(timedelta(hours=8))),  # before year 1 in UTC
        datetime(9999, 12, 31, 23, 59, tzinfo=timezone(timedelta(hours=-8))),  # after 9999 in UTC
        datetime(2025, 1, 1, 9),  # naive
    ]
)

plain_leaves = st.none() | st.booleans() | integers | texts | st.dates() | aware
other_leaves = (
    st.sampled_from([Colour.RED, Colour.NOT_NFC, Level.HIGH, Tricky(5)])  # subclasses: written as their value
    | st.floats()
    | st.decimals()
    | st.datetimes()  # naive
    | edge_datetimes
    | st.sampled_from([b"raw", bytearray(b"x"), 1j, object(), {1, 2}, frozenset({"a"})])
)


def plain_containers(children: st.SearchStrategy[object]) -> st.SearchStrategy[object]:
    return (
        st.lists(children, max_size=5)
        | st.lists(children, max_size=3).map(tuple)
        | st.dictionaries(texts, children, max_size=5)
    )


def other_containers(children: st.SearchStrategy[object]) -> st.SearchStrategy[object]:
    dicts = st.dictionaries(texts | st.sampled_from([Colour.RED, "caf\u00e9", "cafe\u0301"]), children, max_size=5)
    return (
        plain_containers(children)
        | dicts.map(OrderedDict)
        | dicts.map(MappingProxyType)
        | st.dictionaries(bad_keys, children, min_size=1, max_size=2)
    )


# What the service's bodies are made of, with every corner case of it: the fast path's domain.
plain_values = st.recursive(plain_leaves, plain_containers, max_leaves=30)
# Those with everything else mixed in: subclasses, other mappings, and what the writer refuses.
other_values = st.recursive(plain_leaves | other_leaves, other_containers, max_leaves=30)


def outcome(write: Callable[[object], object], value: object) -> tuple[str, object]:
    try:
        return "written", write(value)
    except (ValueError, TypeError, RecursionError) as exc:
        return type(exc).__name__, str(exc)


# --- properties -------------------------------------------------------------------------------------


@settings(max_examples=400, suppress_health_check=[HealthCheck.too_slow])
@given(plain_values)
@example({"n": -(10**4300), "t": "\n\u0301"})
@example({"cafe\u0301": 1, "caf\u00e9": 2})
@example(["\udc00", {"k": "\ud800"}])
def test_the_same_bytes_or_the_same_refusal_as_the_original_writer(value: object) -> None:
    assert outcome(canonical_bytes, value) == outcome(reference.canonical_bytes, value)
    assert outcome(canonical_text, value) == outcome(reference.canonical_text, value)


@settings(max_examples=400, suppress_health_check=[HealthCheck.too_slow])
@given(other_values)
def test_other_values_are_written_or_refused_as_before_wherever_they_sit(value: object) -> None:
    assert outcome(canonical_bytes, value) == outcome(reference.canonical_bytes, value)
    assert outcome(canonical_text, value) == outcome(reference.canonical_text, value)


@settings(max_examples=400, suppress_health_check=[HealthCheck.too_slow])
@given(plain_values | other_values)
def test_whatever_the_fast_path_writes_is_what_the_original_wrote(value: object) -> None:
    # The property above could hold with a broken fast path that always gave up; this one checks
    # the fast path alone, on every value it does not give up on.
    text = canonical._fast_text(value)
    if text is not None and canonical._encodable(text):
        assert text == reference.canonical_text(value)


def test_cycles_are_refused_as_before() -> None:
    loop: list[object] = []
    loop.append({"a": loop})
    assert (
        outcome(canonical_bytes, loop)
        == outcome(reference.canonical_bytes, loop)
        == (
            "ValueError",
            "at [0].a: the value contains itself (a reference cycle)",
        )
    )


def test_nesting_too_deep_for_the_stack_is_refused_as_before() -> None:
    deep: list[object] = []
    for _ in range(sys.getrecursionlimit() + 10):
        deep = [deep]
    assert outcome(canonical_bytes, deep)[0] == outcome(reference.canonical_bytes, deep)[0] == "RecursionError"


@pytest.fixture(scope="module")
def main_path_bodies() -> list[object]:
    """Every value the service serialises while it plays the main path of a decision."""
    written: list[object] = []
    service = CaseService(memory_store(), shipped_definitions(), clock=fixed_clock, outside=supplied_catalogue)
    original = canonical.canonical_bytes

    def recording(value: object) -> bytes:
        written.append(value)
        return original(value)

    with pytest.MonkeyPatch.context() as patch:
        for module in {sys.modules[name] for name in sys.modules if name.startswith("decisions")}:
            if getattr(module, "canonical_bytes", None) is original:
                patch.setattr(module, "canonical_bytes", recording)
        play(service, "D-2025-001")
    return written


def test_the_bodies_the_service_writes_take_the_fast_path(main_path_bodies: list[object]) -> None:
    # The speed is measured in bench/ (never asserted here); what a test can pin is that the bodies
    # users produce are ones the fast path vouches for, so a new type in a body cannot silently
    # send every action down the careful path.
    assert len(main_path_bodies) >= 15
    for body in main_path_bodies:
        assert canonical._fast_text(body) == reference.canonical_text(body)


def test_a_dated_body_keeps_its_documented_form() -> None:
    body = {"on": date(2025, 4, 16), "at": datetime(2025, 3, 14, 9, 30, tzinfo=timezone(timedelta(hours=8)))}
    assert canonical_text(body) == '{"at":"2025-03-14T01:30:00.000000Z","on":"2025-04-16"}'
    assert canonical._fast_text(body) == canonical_text(body)

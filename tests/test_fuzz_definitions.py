"""Fuzzing the definition loader: structure-aware mutations of the shipped files, and raw text.

The only outcomes allowed for any text given to `load_sources` / `load_yaml_text` are the loaded
`Definitions` or a `DefinitionError` whose every problem names its file, says what is wrong and, when
the file is YAML at all, on which line. Never another exception, never a hang (each load runs under a
time budget), and never an *accepted bypass*: whenever a mutated major-decision workflow loads, an
independent search written here (not `decisions.workflow.analysis`) proves from the file's own data
that every path from the initial state into ``in_discussion``, ``decided`` or ``published`` fires a
transition naming the legality-review rule after the last transition that changed the draft. And
never an *accepted weak gate*: whenever a national pack whose gate rules were weakened loads (a clause
dropped, a ``when`` added, the strength lowered, a record reference retargeted, the rules beside the
gate unbound), and whenever any mutated workflow or pack loads, attacks driven through the engine (a stale review, a legal-risk opinion on an ordinary
matter, a review by the drafter, a stale or draft-less catalogue screening) leave no case in a protected
state without the statutory guarantee, judged by a checker written here from the case's records.

How the mutations are made: the shipped files are read with ``yaml.safe_load`` (here only, to get a
Python structure), changed field by field by Hypothesis (a key dropped or renamed, a value replaced by
another type, huge or with control or non-BMP characters, a reference renamed, an edge added between
two states, ``changes_draft`` flipped, a gate rule removed from a transition, a transition duplicated,
a condition operator or fact renamed, a condition nested 200+ deep, a list made thousands long), and
written back with PyYAML's safe dumper (``allow_unicode=True``).

Profiles: ``fuzz-ci`` (default, about 200 examples over the four generated tests) and ``fuzz-long``
(25 times more), chosen by ``FUZZ_PROFILE``; ``HYPOTHESIS_PROFILE=long`` also selects ``fuzz-long``.

The bugs this suite found (deep nesting overflowing the stack, 4,300+ digit numbers, lone surrogates,
quadratic time on long reference lists) are fixed; the regression tests at the end keep them fixed,
and the generators now reach past the old thresholds.
"""

from __future__ import annotations

import copy
import dataclasses
import functools
import itertools
import os
import signal
import sys
import threading
import time
import traceback
from collections import Counter, deque
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, note, settings
from hypothesis import strategies as st

from decisions.definitions import Definitions, Source
from decisions.errors import ActionRefused, DefinitionError, UsageError
from decisions.loading import load_sources
from decisions.loading.yamlsafe import MAX_BYTES, load_yaml_text
from decisions.model import Case, Record
from tests.support import CATALOGUE_PATH, MAIN_PATH, ROOT, Step, Story, report_count

# -- profiles -----------------------------------------------------------------------------------------

_COMMON: dict[str, Any] = {
    "deadline": None,
    "derandomize": False,
    "suppress_health_check": [
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
        HealthCheck.large_base_example,
        HealthCheck.filter_too_much,
    ],
}
settings.register_profile("fuzz-ci", max_examples=100, **_COMMON)
settings.register_profile("fuzz-long", max_examples=2500, **_COMMON)
PROFILE = os.environ.get("FUZZ_PROFILE") or (
    "fuzz-long" if os.environ.get("HYPOTHESIS_PROFILE") == "long" else "fuzz-ci"
)
BASE_SETTINGS = settings.get_profile(PROFILE)


def fuzz_settings(share: float) -> settings:
    """The profile's settings with ``share`` of its example budget (the shares add up to 2)."""
    return settings(BASE_SETTINGS, max_examples=max(1, int(BASE_SETTINGS.max_examples * share)))


# -- the shipped definitions --------------------------------------------------------------------------

MAJOR = "workflows/major_decision.yaml"
CATALOGUE = "workflows/catalogue.yaml"
CALENDAR = "rules/calendar.yaml"
PACKS = ("rules/national.yaml", "rules/hunan.yaml", "rules/youxian.yaml")
SHIPPED: tuple[tuple[str, str], ...] = (
    ("workflow", MAJOR),
    ("workflow", CATALOGUE),
    *(("rule_pack", p) for p in PACKS),
    ("calendar", CALENDAR),
)
TEXTS = {name: (ROOT / name).read_text(encoding="utf-8") for _, name in SHIPPED}
GATE_RULE = "national.legality_review_lawful_for_current_draft"
PROTECTED = frozenset({"in_discussion", "decided", "published"})
LOAD_BUDGET = 5.0  # seconds one load may take
HANG = 30.0  # seconds after which a load is interrupted and reported as a hang
# Past the old thresholds (see the regression tests at the end): YAML nesting beyond about 450 levels
# used to overflow the Python stack, integers of more than 4300 digits to crash int(), and reference
# lists of several thousand names to take quadratic time.
SAFE_YAML_DEPTH = 600
DEFAULT_RECURSION_LIMIT = 1000
SAFE_DIGITS = 6000
SAFE_LIST = 6000


def _yaml11_repair(node: Any) -> Any:
    """``yaml.safe_load`` is YAML 1.1: the shipped ``field: on`` (the builtin record field ``on``) comes
    back as True. The project reads YAML 1.2 (``on`` is a string); put the string back."""
    if isinstance(node, dict):
        return {k: ("on" if k == "field" and v is True else _yaml11_repair(v)) for k, v in node.items()}
    if isinstance(node, list):
        return [_yaml11_repair(v) for v in node]
    return node


def _calendar_example() -> Any:
    """The calendar file ships ``years: {}``; its commented example (the real 2025 schedule) is a
    richer structure to mutate."""
    text = TEXTS[CALENDAR]
    block = text.split("# --- example begins ---\n", 1)[1].split("# --- example ends ---", 1)[0]
    return yaml.safe_load("\n".join(line[2:] for line in block.splitlines()))


BASE: dict[str, Any] = {name: _yaml11_repair(yaml.safe_load(TEXTS[name])) for _, name in SHIPPED}
BASE[CALENDAR] = _calendar_example()


def sources_with(replaced: dict[str, str]) -> list[Source]:
    """The shipped sources in deployment order, with some texts replaced."""
    return [Source(kind, name, replaced.get(name, TEXTS[name])) for kind, name in SHIPPED]


# -- writing a structure back as YAML -------------------------------------------------------------------


class Digits(str):
    """A plain decimal numeral of any length (``str(int)`` refuses more than 4300 digits)."""


class Raw(str):
    """YAML text spliced verbatim into the dump (deep nesting: PyYAML's representer would recurse)."""


class _Dumper(yaml.SafeDumper):
    pass


class _CDumper(getattr(yaml, "CSafeDumper", yaml.SafeDumper)):  # type: ignore[misc]
    pass


_RAW_TOKENS: dict[str, str] = {}
_TOKEN_COUNTER = itertools.count()


def _represent_digits(dumper: yaml.SafeDumper, data: Digits) -> yaml.Node:
    return dumper.represent_scalar("tag:yaml.org,2002:int", str(data))


def _represent_raw(dumper: yaml.SafeDumper, data: Raw) -> yaml.Node:
    token = f"rawtoken{next(_TOKEN_COUNTER)}x"
    _RAW_TOKENS[token] = str(data)
    return dumper.represent_scalar("tag:yaml.org,2002:str", token)


for _d in (_Dumper, _CDumper):
    _d.add_representer(Digits, _represent_digits)
    _d.add_representer(Raw, _represent_raw)


def dump(data: Any) -> str:
    """``yaml.safe_dump(data, allow_unicode=True)`` (libyaml's emitter when it can: it cannot write lone
    surrogates, the pure-Python one escapes them), with `Raw` placeholders replaced."""
    _RAW_TOKENS.clear()
    try:
        text = yaml.dump(data, Dumper=_CDumper, allow_unicode=True, sort_keys=False)
    except UnicodeEncodeError:
        _RAW_TOKENS.clear()
        text = yaml.dump(data, Dumper=_Dumper, allow_unicode=True, sort_keys=False)
    for token, raw in _RAW_TOKENS.items():
        text = text.replace(token, raw)
    return text


def flow(data: Any) -> str:
    """``data`` as one line of flow-style YAML."""
    return yaml.dump(data, Dumper=_CDumper, allow_unicode=True, default_flow_style=True, width=1 << 30).strip()


# -- loading under a budget and judging the outcome -----------------------------------------------------


class Hang(Exception):
    """A load ran past `HANG` seconds and was interrupted."""


@contextmanager
def interrupt_after(seconds: float) -> Iterator[None]:
    """Raise `Hang` in the main thread after ``seconds`` (a no-op elsewhere)."""
    if threading.current_thread() is not threading.main_thread() or not hasattr(signal, "setitimer"):
        yield
        return

    def _hang(signum: int, frame: object) -> None:
        raise Hang(f"still running after {seconds} s")

    previous = signal.signal(signal.SIGALRM, _hang)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


@contextmanager
def production_stack() -> Iterator[None]:
    """Python's default recursion limit, as the CLI has it: Hypothesis raises the limit while a test
    runs, which would hide a stack overflow that a real `decisions workflow check` meets."""
    previous = sys.getrecursionlimit()
    sys.setrecursionlimit(min(previous, DEFAULT_RECURSION_LIMIT))
    try:
        yield
    finally:
        sys.setrecursionlimit(previous)


def _crash(what: str, exc: BaseException) -> None:
    tb = "".join(traceback.format_exception(exc))
    pytest.fail(f"{what} raised {type(exc).__name__} (only DefinitionError is allowed):\n{tb[-6000:]}")


@functools.lru_cache(maxsize=16)
def _parses(text: str, name: str) -> bool:
    try:
        with production_stack():
            load_yaml_text(text, name)
    except DefinitionError:
        return False
    except Exception as exc:
        _crash(f"load_yaml_text({name})", exc)
    return True


def check_located(error: DefinitionError, sources: Sequence[Source]) -> None:
    """Every problem names one of the files, says something, and has a line in a file that is YAML
    (a problem without a line is allowed only for a file that does not parse)."""
    texts = {s.name: s.text for s in sources}
    assert error.problems, "a DefinitionError without problems"
    for p in error.problems:
        assert p.file in texts, f"problem names an unknown file: {p}"
        assert isinstance(p.message, str) and p.message.strip(), f"problem without a message: {p!r}"
        if p.line is None:
            assert not _parses(texts[p.file], p.file), f"problem without a line in a file that parses: {p!r}"
        else:
            # libyaml places an error at the end of the input one line past a last line without "\n"
            lines = texts[p.file].count("\n") + 2
            assert isinstance(p.line, int) and 1 <= p.line <= lines, f"problem with an invalid line: {p!r}"
    str(error)  # the message renders


def load(sources: Sequence[Source]) -> Definitions | DefinitionError:
    """`load_sources` under the time budget; any exception but DefinitionError fails the test."""
    start = time.perf_counter()
    try:
        with interrupt_after(HANG), production_stack():
            result: Definitions | DefinitionError = load_sources(sources)
    except DefinitionError as exc:
        result = exc
    except Exception as exc:
        _crash("load_sources", exc)
    elapsed = time.perf_counter() - start
    assert elapsed < LOAD_BUDGET, f"loading took {elapsed:.1f} s (budget {LOAD_BUDGET} s)"
    if isinstance(result, DefinitionError):
        check_located(result, sources)
    return result


# -- the independent gate property ----------------------------------------------------------------------


def _as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def edges_of(wf: dict[str, Any]) -> list[tuple[str, str, str, tuple[str, ...], bool]]:
    """(source, trigger, dest, rules, changes_draft) for every edge the file declares: a list of sources
    is one edge per source, ``stays: true`` a self-loop."""
    out = []
    for t in wf["transitions"]:
        rules = tuple(_as_list(t.get("rules")))
        for source in _as_list(t["source"]):
            dest = source if t.get("stays") is True else t["dest"]
            out.append((source, t["trigger"], dest, rules, t.get("changes_draft") is True))
    return out


def statutory_bypass(wf: dict[str, Any]) -> list[str] | None:
    """A shortest path from the initial state into a protected state on which no transition naming the
    legality-review rule fires after the last draft change (one that both names it and changes the draft
    does not count: the rule is checked before the change), or None. Breadth-first over
    (state, reviewed-for-the-current-draft)."""
    by_source: dict[str, list[tuple[str, str, str, tuple[str, ...], bool]]] = {}
    for edge in edges_of(wf):
        by_source.setdefault(edge[0], []).append(edge)
    start = (wf["workflow"]["initial"], False)
    parent: dict[tuple[str, bool], tuple[tuple[str, bool], str] | None] = {start: None}
    queue = deque([start])
    while queue:
        node = queue.popleft()
        state, reviewed = node
        for _, trigger, dest, rules, changes_draft in by_source.get(state, []):
            now = False if changes_draft else reviewed or GATE_RULE in rules
            nxt = (dest, now)
            if nxt in parent:
                continue
            parent[nxt] = (node, trigger)
            if dest in PROTECTED and not now:
                path: list[str] = []
                at: tuple[str, bool] | None = nxt
                while at is not None and parent[at] is not None:
                    prev, trig = parent[at]  # type: ignore[misc]
                    path.append(f"--{trig}--> {at[0]}")
                    at = prev
                return [start[0], *reversed(path)]
            queue.append(nxt)
    return None


def gate_declared_as_shipped(wf: dict[str, Any]) -> bool:
    """The file still declares the legality gate as shipped: the review gate is ``legality_review``, on
    the legality rule, protecting at least the three states, reset by a draft change."""
    gate = (wf.get("gates") or {}).get("legality_review") or {}
    return (
        wf["workflow"].get("review_gate") == "legality_review"
        and gate.get("rule") == GATE_RULE
        and set(_as_list(gate.get("protects"))) >= PROTECTED
        and gate.get("reset_on_draft_change") is True
    )


def check_major_workflow(data: dict[str, Any], result: Definitions | DefinitionError, stats: Counter[str]) -> None:
    """The bypass property, and: the loaded workflow has exactly the edges the file declares."""
    if isinstance(result, DefinitionError):
        return
    loaded = next(wf for wf in result.workflows.values() if wf.file == MAJOR)
    declared = {(s, trig): (dest, rules, cd) for s, trig, dest, rules, cd in edges_of(data)}
    got = {(t.source, t.trigger): (t.dest, t.rules, t.changes_draft) for t in loaded.transitions}
    assert got == declared, "the loaded workflow differs from the file's transitions"
    assert loaded.initial == data["workflow"]["initial"]
    bypass = statutory_bypass(data)
    if not gate_declared_as_shipped(data):
        stats["loaded with the legality gate re-declared" + (" (statutory bypass)" if bypass else "")] += 1
        # whatever the file says its review gate protects, the gate may not be skipped on the way into a
        # state the file itself flags as the meeting or a decision while the gate still checks the review
        entered = (data.get("states") or {}).get(bypass[-1].split()[-1]) if bypass else None
        flagged = isinstance(entered, dict) and (entered.get("discussion") is True or entered.get("approval") is True)
        review = (data.get("gates") or {}).get(data["workflow"].get("review_gate")) or {}
        assert not (flagged and review.get("rule") == GATE_RULE), (
            "ACCEPTED BYPASS of the legality review into a flagged state: " + " ".join(bypass or [])
        )
        return
    assert bypass is None, "ACCEPTED BYPASS of the legality review: " + " ".join(bypass)


# -- mutations ----------------------------------------------------------------------------------------

Path = tuple[Any, ...]

CONTROL = st.text(
    alphabet=st.sampled_from(["\x00", "\x07", "\x1b", "\x7f", "\x85", "\u2028", "\u202e", "\ufeff", "\t", "\r", "\n"]),
    min_size=1,
    max_size=8,
)
NON_BMP = st.text(alphabet=st.characters(min_codepoint=0x10000, max_codepoint=0x10FFFF), min_size=1, max_size=8)
TRICKY = st.sampled_from(
    [
        "",
        " ",
        "yes",
        "no",
        "on",
        "off",
        "~",
        "null",
        "1_000",
        "12:30",
        "0x1F",
        "0o17",
        ".inf",
        "-.nan",
        "2025-02-29",
        "9999-12-31",
        "0001-01-01",
        "\x1b[31mred\x1b[0m",
        "abc\u202efdp.exe",
        "\ud800",
        "\udcff\udcfe",
        "<<",
        "&anchor",
        "*alias",
        "!!python/object/apply:os.system",
        "{not: flow}",
        "- item",
        "# comment",
        "'",
        '"',
        "\\",
        "../../etc/passwd",
    ]
)
SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(),
    st.integers(1, SAFE_DIGITS).map(lambda n: Digits("9" * n)),
    st.text(max_size=30),
    CONTROL,
    NON_BMP,
    TRICKY,
    st.integers(10_000, 300_000).map(lambda n: "x" * n),
)
VALUES = st.recursive(
    SCALARS,
    lambda children: (
        st.lists(children, max_size=4)
        | st.dictionaries(
            st.one_of(st.text(max_size=10), st.integers(), st.booleans(), st.none()), children, max_size=4
        )
    ),
    max_leaves=8,
)
IDENTIFIERS = st.from_regex(r"[a-z][a-z0-9_]{0,20}", fullmatch=True)


def _get(data: Any, path: Path) -> Any:
    for key in path:
        data = data[key]
    return data


def _paths(node: Any, prefix: Path = ()) -> Iterator[Path]:
    """Every path below the root."""
    if isinstance(node, dict):
        items: Any = node.items()
    elif isinstance(node, list):
        items = enumerate(node)
    else:
        return
    for key, child in items:
        yield (*prefix, key)
        yield from _paths(child, (*prefix, key))


def _strings(node: Any) -> set[str]:
    """Every string key and value: the names a reference may be renamed to."""
    out: set[str] = set()
    if isinstance(node, dict):
        for k, v in node.items():
            if isinstance(k, str):
                out.add(k)
            out |= _strings(v)
    elif isinstance(node, list):
        for v in node:
            out |= _strings(v)
    elif isinstance(node, str):
        out.add(node)
    return out


def _pick(draw: st.DrawFn, paths: list[Path]) -> Path | None:
    return draw(st.sampled_from(paths)) if paths else None


def op_drop(draw: st.DrawFn, data: Any) -> str:
    path = _pick(draw, list(_paths(data)))
    if path is None:
        return "drop: nothing"
    parent = _get(data, path[:-1])
    del parent[path[-1]]
    return f"drop {path}"


def op_replace(draw: st.DrawFn, data: Any) -> str:
    path = _pick(draw, list(_paths(data)))
    if path is None:
        return "replace: nothing"
    value = draw(VALUES)
    _get(data, path[:-1])[path[-1]] = value
    return f"replace {path} by {value!r:.80}"


def op_retext(draw: st.DrawFn, data: Any) -> str:
    """Rename a reference: a string value becomes another name of the file, or random text."""
    paths = [p for p in _paths(data) if isinstance(_get(data, p), str)]
    path = _pick(draw, paths)
    if path is None:
        return "retext: nothing"
    pool = sorted(_strings(data))
    value = draw(st.one_of(st.sampled_from(pool), IDENTIFIERS, st.text(max_size=20), CONTROL, TRICKY))
    _get(data, path[:-1])[path[-1]] = value
    return f"retext {path} = {value!r:.80}"


def op_rename_key(draw: st.DrawFn, data: Any) -> str:
    """Rename a mapping key (a state, role, gate, field, rule key ...) without touching its references."""
    paths = [p for p in _paths(data) if isinstance(_get(data, p[:-1]), dict)]
    path = _pick(draw, paths)
    if path is None:
        return "rename: nothing"
    parent = _get(data, path[:-1])
    new = draw(st.one_of(st.sampled_from(sorted(_strings(data))), IDENTIFIERS, st.text(max_size=12), st.integers()))
    renamed = {(new if k == path[-1] else k): v for k, v in parent.items()}
    parent.clear()
    parent.update(renamed)
    return f"rename key {path} -> {new!r:.60}"


def op_long_list(draw: st.DrawFn, data: Any) -> str:
    """Make a list thousands long: new distinct names (or copies of its items)."""
    paths = [p for p in _paths(data) if isinstance(_get(data, p), list)]
    path = _pick(draw, paths)
    if path is None:
        return "long list: nothing"
    items = _get(data, path)
    n = draw(st.integers(500, SAFE_LIST))
    distinct = draw(st.booleans())
    seed = items or ["x"]
    if any(len(repr(item)) > 2000 for item in seed):  # no thousand copies of a huge value
        distinct, seed = True, ["x"]
    if distinct:
        grown = [f"{seed[i % len(seed)]}_{i}" if isinstance(seed[i % len(seed)], str) else i for i in range(n)]
    else:
        grown = [copy.deepcopy(seed[i % len(seed)]) for i in range(n)]
    _get(data, path[:-1])[path[-1]] = grown
    return f"long list {path}: {n} items ({'distinct' if distinct else 'copies'})"


def _transitions(data: Any) -> list[Any]:
    t = data.get("transitions") if isinstance(data, dict) else None
    return t if isinstance(t, list) else []


def _names(data: Any, key: str, fallback: Sequence[str]) -> list[str]:
    section = data.get(key) if isinstance(data, dict) else None
    names = [k for k in section if isinstance(k, str)] if isinstance(section, dict) else []
    return sorted(names) or list(fallback)


def op_add_edge(draw: st.DrawFn, data: Any) -> str:
    """A new transition between two states (often into a protected or approval state)."""
    states = _names(data, "states", ["new"])
    section = data.get("states") if isinstance(data.get("states"), dict) else {}
    approval = [s for s in states if isinstance(section.get(s), dict) and section[s].get("approval") is True]
    src = draw(st.sampled_from(states))
    dest = draw(
        st.one_of(st.sampled_from(sorted(PROTECTED)), st.sampled_from(approval or states), st.sampled_from(states))
    )
    roles = draw(st.lists(st.sampled_from(_names(data, "roles", ["head"])), min_size=1, max_size=3, unique=True))
    rules = draw(
        st.sampled_from([[], [], [GATE_RULE], ["national.collective_discussion_held"], [GATE_RULE, "hunan.no_such"]])
    )
    t: dict[str, Any] = {
        "trigger": draw(st.sampled_from(["fuzz_edge", "approve", "publish", "launch"]) | IDENTIFIERS),
        "source": src,
        "dest": dest,
        "label": {"zh": "模糊测试", "en": "fuzz edge"},
        "roles": roles,
    }
    if rules:
        t["rules"] = rules
    if draw(st.booleans()):
        t["changes_draft"] = True
        t["accepts"] = {"documents": ["draft"]}
    transitions = _transitions(data)
    transitions.insert(draw(st.integers(0, len(transitions))), t)
    return f"add edge {src} --{t['trigger']}--> {dest} rules={rules} changes_draft={t.get('changes_draft', False)}"


def op_flip_changes_draft(draw: st.DrawFn, data: Any) -> str:
    ts = [t for t in _transitions(data) if isinstance(t, dict)]
    if not ts:
        return "flip: nothing"
    t = draw(st.sampled_from(ts))
    t["changes_draft"] = not t.get("changes_draft", False)
    if t["changes_draft"] and draw(st.booleans()):  # and make it carry a draft, so that it may load
        t.setdefault("accepts", {})
        if isinstance(t["accepts"], dict):
            t["accepts"]["documents"] = [*_as_list(t["accepts"].get("documents")), "draft"]
    return f"flip changes_draft of {t.get('trigger')!r} to {t['changes_draft']}"


def op_remove_rule(draw: st.DrawFn, data: Any) -> str:
    ts = [t for t in _transitions(data) if isinstance(t, dict) and _as_list(t.get("rules"))]
    if not ts:
        return "remove rule: nothing"
    t = draw(st.sampled_from(ts))
    rules = _as_list(t["rules"])
    gone = rules.pop(draw(st.integers(0, len(rules) - 1)))
    if rules:
        t["rules"] = rules
    else:
        del t["rules"]
    return f"remove rule {gone!r} from {t.get('trigger')!r}"


def op_duplicate_transition(draw: st.DrawFn, data: Any) -> str:
    ts = _transitions(data)
    if not ts:
        return "duplicate: nothing"
    i = draw(st.integers(0, len(ts) - 1))
    twin = copy.deepcopy(ts[i])
    if isinstance(twin, dict) and draw(st.booleans()):
        twin["trigger"] = draw(IDENTIFIERS)
    ts.insert(draw(st.integers(0, len(ts))), twin)
    return f"duplicate transitions[{i}]"


CONDITION_OPS = ("all", "any", "not", "present", "eq", "ne", "gt", "gte", "lt", "lte", "in", "not_in", "contains_all")
VALUE_OPS = ("fact", "param", "count", "latest", "length", "days", "collect")


def _condition_nodes(data: Any) -> list[Path]:
    return [
        p
        for p in _paths(data)
        if p[:1] == ("rules",)
        and isinstance(_get(data, p), dict)
        and len(_get(data, p)) == 1
        and next(iter(_get(data, p))) in CONDITION_OPS + VALUE_OPS
    ]


def op_condition_operator(draw: st.DrawFn, data: Any) -> str:
    path = _pick(draw, _condition_nodes(data))
    if path is None:
        return "operator: nothing"
    node = _get(data, path)
    (old, arg), new = next(iter(node.items())), draw(st.sampled_from(CONDITION_OPS + VALUE_OPS) | st.text(max_size=12))
    node.clear()
    node[new] = arg
    return f"operator {path}: {old} -> {new!r}"


def op_fact_name(draw: st.DrawFn, data: Any) -> str:
    paths = [p for p in _paths(data) if p[-1] in ("fact", "param", "field", "record", "document")]
    path = _pick(draw, paths)
    if path is None:
        return "fact: nothing"
    pool = sorted(s for s in _strings(data) if "." in s)
    value = draw(st.one_of(st.sampled_from(pool or ["action.x"]), st.text(max_size=30), TRICKY, VALUES))
    _get(data, path[:-1])[path[-1]] = value
    return f"fact {path} = {value!r:.60}"


def op_deep_nest(draw: st.DrawFn, data: Any) -> str:
    """Wrap a rule's requirement in 200+ ``not`` (an even number keeps its meaning) or in ``all``/``any``."""
    rules: Any = data.get("rules") if isinstance(data, dict) else None
    if not isinstance(rules, list):
        return "nest: no list of rules"
    candidates = [i for i, r in enumerate(rules) if isinstance(r, dict) and "require" in r]
    if not candidates:
        return "nest: nothing"
    i = draw(st.sampled_from(candidates))
    if isinstance(rules[i]["require"], Raw):  # nested once already: keep one nesting per rule
        return f"nest rules[{i}]: already nested"
    inner = flow(rules[i]["require"])
    form = draw(st.sampled_from(["not", "all", "any"]))
    if form == "not":
        depth = draw(st.integers(200, SAFE_YAML_DEPTH - 40))
        text = "{not: " * depth + inner + "}" * depth
    else:  # two YAML levels per condition level
        depth = draw(st.integers(1, (SAFE_YAML_DEPTH - 40) // 2))
        text = f"{{{form}: [" * depth + inner + "]}" * depth
    rules[i]["require"] = Raw(text)
    return f"nest rules[{i}].require in {depth} x {form}"


GENERIC: dict[str, Callable[[st.DrawFn, Any], str]] = {
    "drop": op_drop,
    "replace": op_replace,
    "retext": op_retext,
    "rename_key": op_rename_key,
    "long_list": op_long_list,
}
WORKFLOW_OPS = {
    **GENERIC,
    "add_edge": op_add_edge,
    "flip_changes_draft": op_flip_changes_draft,
    "remove_rule": op_remove_rule,
    "duplicate_transition": op_duplicate_transition,
}
PACK_OPS = {
    **GENERIC,
    "condition_operator": op_condition_operator,
    "fact_name": op_fact_name,
    "deep_nest": op_deep_nest,
}
# The ops that target the gate get more draws than the generic ones.
WORKFLOW_WEIGHTS = ["add_edge"] * 4 + ["remove_rule", "flip_changes_draft"] * 2 + list(WORKFLOW_OPS)
PACK_WEIGHTS = ["condition_operator", "fact_name", "deep_nest"] * 2 + list(PACK_OPS)


@st.composite
def mutated(draw: st.DrawFn, files: Sequence[str], ops: dict[str, Callable[..., str]], weights: list[str]) -> Any:
    """(file name, mutated structure, its YAML text, what was done)."""
    name = draw(st.sampled_from(list(files)))
    data = copy.deepcopy(BASE[name])
    done = []
    for _ in range(draw(st.integers(1, 3))):
        done.append(ops[draw(st.sampled_from(weights))](draw, data))
    return name, data, dump(data), done


# -- the gate rules: weakened in a pack, the guarantee still holds at run time ---------------------------

# The four gate rules of the national pack (by local id) and their workflow.
GATE_RULES = {
    "legality_review_lawful_for_current_draft": "major_decision",
    "catalogue_screened_current_version": "catalogue",
    "catalogue_meeting_approval": "catalogue",
    "catalogue_party_consent_current_version": "catalogue",
}
# Rules beside the legality gate that stop a weak review earlier (at the review itself); a pack that
# unbinds them as well must still not get an unlawful, stale or self-made review past the gate.
COMPANIONS = ("reviewer_independent_of_drafter", "legal_risk_only_for_exploratory_reform")
RECORD_KINDS = {
    name: sorted({t.get("record", t["trigger"]) for t in BASE[path]["transitions"]})
    for name, path in (("major_decision", MAJOR), ("catalogue", CATALOGUE))
}
WHEN = {
    "major_decision": [{"eq": [{"fact": "decision.risk"}, True]}, {"eq": [{"fact": "decision.technical"}, False]}],
    "catalogue": [{"eq": [{"fact": "decision.year"}, 2025]}],
}


def _national_rules(data: Any, ids: Sequence[str]) -> list[dict[str, Any]]:
    rules = data.get("rules") if isinstance(data, dict) else None
    return [r for r in rules if isinstance(r, dict) and r.get("id") in ids] if isinstance(rules, list) else []


def _trivially_true(workflow: str, draw: st.DrawFn) -> dict[str, Any]:
    kind = draw(st.sampled_from(RECORD_KINDS[workflow]))
    return draw(st.sampled_from([{"gte": [{"count": {"record": kind}}, 0]}, {"present": {"fact": "action.on"}}]))


def op_gate_drop_clause(draw: st.DrawFn, data: Any) -> str:
    """Drop one clause of a gate rule's requirement (or all of it, for a trivially true one)."""
    rules = _national_rules(data, list(GATE_RULES))
    if not rules:
        return "gate clause: nothing"
    rule = draw(st.sampled_from(rules))
    require = rule.get("require")
    clauses = require.get("all") if isinstance(require, dict) else None
    if isinstance(clauses, list) and len(clauses) > 1 and draw(st.integers(0, 4)):
        gone = clauses.pop(draw(st.integers(0, len(clauses) - 1)))
        return f"gate {rule['id']}: drop clause {gone!r:.80}"
    rule["require"] = _trivially_true(GATE_RULES[rule["id"]], draw)
    return f"gate {rule['id']}: require {rule['require']!r}"


def op_gate_when(draw: st.DrawFn, data: Any) -> str:
    rules = _national_rules(data, list(GATE_RULES))
    if not rules:
        return "gate when: nothing"
    rule = draw(st.sampled_from(rules))
    rule["when"] = draw(st.sampled_from(WHEN[GATE_RULES[rule["id"]]]))
    return f"gate {rule['id']}: when {rule['when']!r}"


def op_gate_strength(draw: st.DrawFn, data: Any) -> str:
    rules = _national_rules(data, list(GATE_RULES))
    if not rules:
        return "gate strength: nothing"
    rule = draw(st.sampled_from(rules))
    rule["strength"] = draw(st.sampled_from(["policy", "default_minimum"]))
    if rule["strength"] == "default_minimum" and draw(st.booleans()):
        rule["waiver"] = "reason"
    return f"gate {rule['id']}: strength {rule['strength']} waiver={rule.get('waiver')}"


def op_gate_retarget(draw: st.DrawFn, data: Any) -> str:
    """Point a record reference in a gate rule at another record kind of its workflow."""
    rules = _national_rules(data, list(GATE_RULES))
    targets = [(r, p) for r in rules for p in _paths(r) if p[-1] == "record" and p[0] in ("require", "when")]
    if not targets:
        return "gate retarget: nothing"
    rule, where = draw(st.sampled_from(targets))
    kind = draw(st.sampled_from(RECORD_KINDS[GATE_RULES[rule["id"]]]))
    _get(rule, where[:-1])[where[-1]] = kind
    return f"gate {rule['id']}: {where} -> {kind}"


def op_unbind_companion(draw: st.DrawFn, data: Any) -> str:
    rules = _national_rules(data, COMPANIONS)
    if not rules:
        return "companion: nothing"
    rule = draw(st.sampled_from(rules))
    rule["triggers"] = ["return_submission"]
    return f"companion {rule['id']} unbound"


GATE_OPS = {
    "gate_drop_clause": op_gate_drop_clause,
    "gate_when": op_gate_when,
    "gate_strength": op_gate_strength,
    "gate_retarget": op_gate_retarget,
    "unbind_companion": op_unbind_companion,
}
GATE_WEIGHTS = ["gate_drop_clause"] * 3 + ["gate_retarget", "unbind_companion"] * 2 + list(GATE_OPS)

MAJOR_PROTECTED = PROTECTED
SCREENED_STATES = frozenset({"awaiting_meeting", "adjustment_awaiting_meeting", "published"})


def _latest(case: Case, kind: str) -> Record | None:
    return next((r for r in reversed(case.records) if r.kind == kind), None)


def statutory_guarantee(case: Case) -> str | None:
    """What the law asks of a case in a protected state, judged here from its records alone (not by
    `decisions.workflow.guarantees`): None when it holds, else what is missing."""
    current = case.draft_version
    if case.workflow == "major_decision":
        if case.state not in MAJOR_PROTECTED:
            return None
        review = _latest(case, "legality_review")
        if review is None:
            return "no legality review"
        if current < 1 or review.draft_version != current:
            return f"the review covers draft {review.draft_version}, the draft is {current}"
        outcome = review.fields.get("outcome")
        exploratory = case.attributes.get("exploratory_reform") is True
        if not (outcome == "lawful" or (outcome == "legal_risk_disclosed" and exploratory)):
            return f"the review's outcome is {outcome!r} (exploratory reform: {exploratory})"
        if review.actor in {r.actor for r in case.records if r.changes_draft or r.kind == "review_submission"}:
            return f"the review is by {review.actor}, who drafted or submitted it"
        return None
    needed = (["screening_opinion"] if case.state in SCREENED_STATES else []) + (
        ["meeting_approval", "party_consent"] if case.state == "published" else []
    )
    for kind in needed:
        record = _latest(case, kind)
        if record is None or current < 1 or record.draft_version != current:
            return f"no {kind} of catalogue version {current}"
    meeting = _latest(case, "meeting_approval")
    if case.state == "published" and (
        meeting is None or meeting.fields.get("meeting_type") not in ("executive", "plenary")
    ):
        return "no executive or plenary meeting approved it"
    return None


def _until(steps: tuple[Step, ...], trigger: str) -> list[Step]:
    return list(itertools.takewhile(lambda s: s.trigger != trigger, steps))


def _main(trigger: str, **changes: Any) -> Step:
    step = next(s for s in MAIN_PATH if s.trigger == trigger)
    return dataclasses.replace(step, **changes)


def _cat(trigger: str, **changes: Any) -> Step:
    step = next(s for s in CATALOGUE_PATH if s.trigger == trigger)
    return dataclasses.replace(step, **changes)


_FINDINGS = {"authority": "compliant", "procedure": "compliant", "content": "compliant"}
_OPINION = ("review_opinion", "legal_counsel_opinion")
_D = _main("submit_for_discussion").on
_LATER = [
    _main(t, on=_D.replace(month=5, day=20 + i)) for i, t in enumerate(("submit_for_discussion", "approve", "publish"))
]
ATTACKS: dict[str, list[list[Step]]] = {
    "major_decision": [
        # the reviewed draft amended, then straight on to the meeting
        [*_until(MAIN_PATH, "submit_for_discussion"), Step("amend_draft", "clerk_li", _D, {}, ("draft",)), *_LATER],
        # a legal-risk opinion on an ordinary matter
        [
            *_until(MAIN_PATH, "find_lawful"),
            Step("find_legal_risk", "counsel_zhao", _D, {**_FINDINGS, "legal_risk": "风险"}, _OPINION),
            _main("report_to_party_committee", on=_D),
            *_LATER,
        ],
        # the drafter reviews his own amendment
        [
            *_until(MAIN_PATH, "submit_for_discussion"),
            Step("amend_draft", "counsel_wu", _D, {}, ("draft",)),
            Step("resubmit_legality_review", "clerk_li", _D, {"review_due": _D.replace(month=5, day=14)}),
            Step("accept_review", "counsel_wu", _D),
            Step("find_lawful", "counsel_wu", _D.replace(month=5, day=9), _FINDINGS, _OPINION),
            *_LATER,
        ],
    ],
    "catalogue": [
        # recompiled after the screening
        [
            *_until(CATALOGUE_PATH, "submit_for_approval"),
            _cat("compile_catalogue", on=_cat("submit_for_approval").on),
            *[s for s in CATALOGUE_PATH if s.trigger in ("submit_for_approval", "approve_at_meeting")],
            *[s for s in CATALOGUE_PATH if s.trigger in ("record_party_consent", "publish_catalogue")],
        ],
        # screened before anything was compiled
        [
            *_until(CATALOGUE_PATH, "compile_catalogue"),
            _cat("certify_screening", on=_cat("compile_catalogue").on),
            *[s for s in CATALOGUE_PATH if s.trigger in ("submit_for_approval", "approve_at_meeting")],
            *[s for s in CATALOGUE_PATH if s.trigger in ("record_party_consent", "publish_catalogue")],
        ],
        # an adjustment submitted and published on the old screening
        [s for s in CATALOGUE_PATH if not (s.trigger == "certify_screening" and s.on.year == 2025)],
    ],
}


def run_attacks(definitions: Definitions, stats: Counter[str]) -> None:
    """Every attack through the engine, skipping refused steps (and triggers a mutated workflow lacks);
    every accepted step that leaves a case in a protected state must leave it holding the statutory
    guarantee."""
    for workflow, attacks in ATTACKS.items():
        for i, steps in enumerate(attacks):
            if workflow not in definitions.workflows:
                continue
            story = Story(definitions, workflow, f"F-{workflow[:3]}-{i}")
            for step in steps:
                try:
                    story.step(step)
                except ActionRefused as exc:
                    stats["engine gate refusals"] += any(u.rule_id.startswith("engine.gate.") for u in exc.unmet)
                    continue
                except UsageError:  # a trigger the mutated workflow no longer has
                    continue
                why = statutory_guarantee(story.case)
                assert why is None, f"ACCEPTED {step.trigger} into {story.case.state} without the guarantee: {why}"
                stats["accepted steps"] += 1


# -- the properties -----------------------------------------------------------------------------------


def test_the_shipped_files_survive_the_round_trip_unchanged() -> None:
    """The harness itself: written back unmutated, the files load to the same definitions."""
    original = load_sources(sources_with({}))
    replaced = {name: dump(BASE[name]) for _, name in SHIPPED if name != CALENDAR}
    again = load(sources_with(replaced))
    assert isinstance(again, Definitions), again
    for name, wf in original.workflows.items():
        unlined = [dataclasses.replace(t, line=None) for t in wf.transitions]
        assert [dataclasses.replace(t, line=None) for t in again.workflows[name].transitions] == unlined
    assert set(again.rulebook.rules) == set(original.rulebook.rules)
    assert statutory_bypass(BASE[MAJOR]) is None
    calendar = load(sources_with({CALENDAR: dump(BASE[CALENDAR])}))
    assert isinstance(calendar, Definitions), calendar


def test_the_independent_bypass_search_sees_a_jump_and_a_late_draft_change() -> None:
    """The property is not vacuous: it finds the bypasses the loader refuses."""
    jump = copy.deepcopy(BASE[MAJOR])
    jump["transitions"].append(
        {"trigger": "fast_track", "source": "drafting", "dest": "decided", "label": {"zh": "快", "en": "fast"}}
    )
    assert statutory_bypass(jump) == ["new", "--propose--> proposed", "--launch--> drafting", "--fast_track--> decided"]
    late = copy.deepcopy(BASE[MAJOR])
    late["transitions"].append(
        {"trigger": "edit", "source": "in_discussion", "dest": "deferred", "changes_draft": True, "label": {}}
    )
    bypass = statutory_bypass(late)
    assert bypass is not None and bypass[-2:] == ["--edit--> deferred", "--resume_discussion--> in_discussion"]


SWEEP = (
    *("new", "proposed", "drafting", "public_consultation", "argumentation", "under_review", "reviewed_lawful"),
    *("revision_required", "in_discussion", "deferred", "decided", "published", "executing", "suspended"),
)


def test_every_edge_into_decided_without_the_rule_is_refused_or_harmless() -> None:
    """Deterministic sweep: from each state a transition straight into ``decided`` naming no rule."""
    refused: list[str] = []
    stats: Counter[str] = Counter()
    for state in SWEEP:
        data = copy.deepcopy(BASE[MAJOR])
        data["transitions"].append(
            {
                "trigger": "fuzz_jump",
                "source": state,
                "dest": "decided",
                "label": {"zh": "跳转", "en": "jump"},
                "roles": ["head"],
            }
        )
        result = load(sources_with({MAJOR: dump(data)}))
        check_major_workflow(data, result, stats)  # accepted only where no path bypasses the review
        if isinstance(result, DefinitionError):
            refused.append(state)
    assert {"new", "drafting", "argumentation", "under_review", "reviewed_lawful", "in_discussion"} <= set(refused)


def test_mutated_workflows_load_or_fail_located_and_never_accept_a_bypass() -> None:
    stats: Counter[str] = Counter()

    @fuzz_settings(0.7)
    @given(mutated([MAJOR, MAJOR, MAJOR, CATALOGUE], WORKFLOW_OPS, WORKFLOW_WEIGHTS))
    def run(case: Any) -> None:
        name, data, text, done = case
        note(f"{name}: {done}")
        result = load(sources_with({name: text}))
        stats["examples"] += 1
        stats["loaded" if isinstance(result, Definitions) else "refused"] += 1
        if name == MAJOR:
            check_major_workflow(data, result, stats)
        if isinstance(result, Definitions):  # its gates' guarantees, as loaded, hold at run time too
            run_attacks(result, stats)

    run()
    report_count(f"[fuzz workflows, profile {PROFILE}] {dict(stats)}")


def test_mutated_rule_packs_and_calendar_load_or_fail_located() -> None:
    stats: Counter[str] = Counter()

    @fuzz_settings(0.4)
    @given(mutated([*PACKS, "rules/national.yaml", CALENDAR], PACK_OPS, PACK_WEIGHTS))
    def run(case: Any) -> None:
        name, _, text, done = case
        note(f"{name}: {done}")
        result = load(sources_with({name: text}))
        stats["examples"] += 1
        stats["loaded" if isinstance(result, Definitions) else "refused"] += 1
        if isinstance(result, Definitions) and name != CALENDAR:
            run_attacks(result, stats)

    run()
    report_count(f"[fuzz rule packs, profile {PROFILE}] {dict(stats)}")


def test_mutated_gate_rules_never_let_a_case_in_without_the_guarantee() -> None:
    """The national pack's gate rules weakened (a clause dropped, a ``when`` added, the strength lowered,
    a record retargeted, the companion rules unbound): refused at load, located, or every attack through
    the engine leaves no case in a protected state without the statutory guarantee."""
    stats: Counter[str] = Counter()

    @fuzz_settings(0.3)
    @given(mutated(["rules/national.yaml"], GATE_OPS, GATE_WEIGHTS))
    def run(case: Any) -> None:
        name, _, text, done = case
        note(f"{name}: {done}")
        result = load(sources_with({name: text}))
        stats["examples"] += 1
        if isinstance(result, DefinitionError):
            stats["refused"] += 1
            return
        stats["loaded"] += 1
        run_attacks(result, stats)

    run()
    report_count(f"[fuzz gate rules, profile {PROFILE}] {dict(stats)}")


def test_the_attacks_reach_the_gates_and_the_checker_sees_a_missing_guarantee() -> None:
    """The property is not vacuous: under the shipped pack the attacks end at gate refusals, with the
    version clause dropped the engine's own refusals stop them, and the checker flags a case that sits
    in the meeting on a review of an older draft."""
    shipped: Counter[str] = Counter()
    run_attacks(load_sources(sources_with({})), shipped)
    data = copy.deepcopy(BASE["rules/national.yaml"])
    gate = _national_rules(data, ["legality_review_lawful_for_current_draft"])[0]
    gate["require"]["all"] = [c for c in gate["require"]["all"] if "draft_version" not in flow(c)]
    for screening in _national_rules(data, ["catalogue_screened_current_version"]):
        screening["require"] = {"gte": [{"count": {"record": "screening_opinion"}}, 1]}
    weak: Counter[str] = Counter()
    loaded = load(sources_with({"rules/national.yaml": dump(data)}))
    assert isinstance(loaded, Definitions), loaded
    run_attacks(loaded, weak)
    assert weak["engine gate refusals"] >= 3, weak
    story = Story(loaded).walk("submit_for_discussion")
    story.step(Step("amend_draft", "clerk_li", _D, {}, ("draft",)))
    assert statutory_guarantee(dataclasses.replace(story.case, state="in_discussion")) is not None
    assert statutory_guarantee(story.case) is None  # reviewed_lawful is not protected


# -- raw text -----------------------------------------------------------------------------------------


def _billion_laughs(levels: int) -> str:
    lines = ["a0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol]"]
    lines += [f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 9)}]" for i in range(1, levels)]
    return "\n".join(lines) + "\n"


def _splice(draw: st.DrawFn) -> str:
    """A shipped file with a random slice replaced by random text."""
    text = TEXTS[draw(st.sampled_from([name for _, name in SHIPPED]))]
    a = draw(st.integers(0, len(text)))
    b = draw(st.integers(a, min(len(text), a + 200)))
    return text[:a] + draw(st.text(max_size=40) | CONTROL | TRICKY | NON_BMP) + text[b:]


@st.composite
def raw_texts(draw: st.DrawFn) -> str:
    kind = draw(
        st.sampled_from(["binary", "text", "deep", "too_deep", "laughs", "tags", "splice", "big", "documents", "keys"])
    )
    if kind == "binary":
        return draw(st.binary(max_size=3000)).decode("utf-8", errors="replace")
    if kind == "text":
        return draw(st.text(max_size=3000))
    if kind == "deep":
        depth = draw(st.integers(1, SAFE_YAML_DEPTH))
        opener, closer = draw(st.sampled_from([("[", "]"), ("{a: ", "}"), ("- ", "")]))
        if opener == "- ":
            return "".join("  " * i + "-\n" for i in range(depth)) + "  " * depth + "x\n"
        return opener * depth + draw(st.sampled_from(["", "1", "x"])) + closer * depth
    if kind == "too_deep":  # past libyaml's own limit of 1000 levels: refused before the converter
        depth = draw(st.integers(1001, 200_000))
        return draw(st.sampled_from(["[", "{a: ", "[{"])) * depth
    if kind == "laughs":
        return _billion_laughs(draw(st.integers(2, 12)))
    if kind == "tags":
        return draw(
            st.sampled_from(
                [
                    "!!python/object/apply:os.system ['id']",
                    "a: !!python/name:os.system",
                    "!custom x",
                    "a: !!binary aGVsbG8=",
                    "!!set {a, b}",
                    "!!omap [a: 1]",
                    "%TAG ! tag:example.com,2000:\n--- !foo x",
                    "%YAML 1.1\n--- x",
                    "a: &x 1\nb: *x",
                    "<<: {a: 1}",
                    "? [a, b]\n: c",
                    "a: 1\na: 2",
                    "{? {a: 1} : 2}",
                ]
            )
        )
    if kind == "splice":
        return _splice(draw)
    if kind == "big":
        unit = draw(st.sampled_from(["x", "- a\n", "é", "😀"]))
        return unit * ((MAX_BYTES + draw(st.integers(1, 4096))) // len(unit.encode()) + 1)
    if kind == "documents":
        return "---\na: 1\n" * draw(st.integers(2, 200))
    # many keys
    return "".join(f"k{i}: {i}\n" for i in range(draw(st.integers(1, 3000))))


def test_raw_text_is_a_document_or_a_located_error() -> None:
    """`load_yaml_text`, then the whole loader with the text as a workflow or a rule pack."""
    stats: Counter[str] = Counter()

    @fuzz_settings(0.6)
    @given(raw_texts(), st.sampled_from([MAJOR, "rules/national.yaml"]))
    def run(text: str, as_file: str) -> None:
        note(f"{len(text)} characters as {as_file}: {text[:200]!r}")
        start = time.perf_counter()
        try:
            with interrupt_after(HANG), production_stack():
                load_yaml_text(text, as_file)
        except DefinitionError as exc:
            check_located(exc, [Source("workflow", as_file, text)])
            stats["refused by the YAML reader"] += 1
            return
        except Exception as exc:
            _crash("load_yaml_text", exc)
        finally:
            assert time.perf_counter() - start < LOAD_BUDGET
        result = load(sources_with({as_file: text}))
        stats["loaded" if isinstance(result, Definitions) else "refused by the loader"] += 1

    run()
    report_count(f"[fuzz raw text, profile {PROFILE}] {dict(stats)}")


@pytest.mark.parametrize(
    "text",
    [
        "[" * 2000,
        "[" * 1001 + "]" * 1001,
        "{a: " * 5000,
        "\x00",
        "a: \x00",
        _billion_laughs(10),
        "x" * (MAX_BYTES + 1),
        "é" * (MAX_BYTES // 2 + 1),
        "",
        "---\n---\n",
        "a: [1, 2",
        "\t- tab",
        "a: 1\n" + "b: 2\n" * 3 + "a: 3",
    ],
    ids=lambda t: f"{t[:12]!r}..{len(t)}",
)
def test_hostile_texts_are_located_definition_errors(text: str) -> None:
    with pytest.raises(DefinitionError) as caught:
        load_yaml_text(text, "hostile.yaml")
    check_located(caught.value, [Source("workflow", "hostile.yaml", text)])


def test_a_requirement_nested_250_times_in_not_is_a_located_refusal() -> None:
    """250 ``not`` around a requirement is no rule a person wrote: refused, located, never a crash
    (nesting is capped at `decisions.loading.yamlsafe.MAX_DEPTH`)."""
    data = copy.deepcopy(BASE["rules/national.yaml"])
    inner = flow(data["rules"][0]["require"])
    data["rules"][0]["require"] = Raw("{not: " * 250 + inner + "}" * 250)
    sources = sources_with({"rules/national.yaml": dump(data)})
    with pytest.raises(DefinitionError) as refused:
        load_sources(sources)
    check_located(refused.value, sources)
    assert any("nested deeper than" in p.message for p in refused.value.problems)


# -- regressions: bugs this suite found, fixed ------------------------------------------------------


def test_yaml_nested_600_levels_is_a_located_error() -> None:
    with pytest.raises(DefinitionError):
        load_yaml_text("[" * 600 + "]" * 600, "deep.yaml")


def test_a_requirement_nested_250_times_in_all_is_loaded_or_refused() -> None:
    data = copy.deepcopy(BASE["rules/national.yaml"])
    inner = flow(data["rules"][0]["require"])
    data["rules"][0]["require"] = Raw("{all: [" * 250 + inner + "]}" * 250)
    sources = sources_with({"rules/national.yaml": dump(data)})
    try:
        load_sources(sources)
    except DefinitionError as exc:
        check_located(exc, sources)


def test_an_integer_of_5000_digits_is_a_located_error_or_a_value() -> None:
    text = "a: " + "9" * 5000 + "\n"
    try:
        load_yaml_text(text, "big-number.yaml")
    except DefinitionError as exc:
        check_located(exc, [Source("workflow", "big-number.yaml", text)])


def test_a_lone_surrogate_is_a_located_error() -> None:
    with pytest.raises(DefinitionError):
        load_yaml_text("a: \ud800\n", "surrogate.yaml")


def _long_list(old: str, new: Callable[[str], str], n: int) -> list[Source]:
    items = ", ".join(f"x{i}" for i in range(n))
    text = TEXTS[MAJOR].replace(old, new(items), 1)
    assert text != TEXTS[MAJOR]
    return sources_with({MAJOR: text})


@pytest.mark.parametrize(
    "old, new, n",
    [
        (
            "    rules: [national.legality_review_lawful_for_current_draft]\n",
            lambda items: f"    rules: [{items}]\n",
            8000,
        ),
        ("    roles: [head]\n", lambda items: f"    roles: [{items}]\n", 12000),
    ],
    ids=["rules", "roles"],
)
def test_a_long_reference_list_is_refused_naming_each_unknown_name(old: str, new: Callable[[str], str], n: int) -> None:
    """Thousands of unknown names in one list: each is a located problem. (That this takes linear time,
    once quadratic, is a benchmark figure: `python -m bench`, "loading: long reference list".)"""
    sources = _long_list(old, new, n)
    with pytest.raises(DefinitionError) as refused:
        load_sources(sources)
    check_located(refused.value, sources)
    named = {p.message for p in refused.value.problems}
    assert any("'x0'" in m for m in named) and any(f"'x{n - 1}'" in m for m in named)

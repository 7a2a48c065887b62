"""Case-id patterns (``case: id:`` of a workflow): parsing, rendering, numbering. Pure.

A pattern is literal text with placeholders: ``{year}`` (the year of the start date), ``{seq:N}``
(the next free number, at least N digits) and ``{field.NAME}`` (the value of a start field):
``D-{year}-{seq:3}`` gives ``D-2025-001``, ``CAT-{field.year}`` gives ``CAT-2025``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

__all__ = ["IdPart", "next_case_id", "parse_pattern", "render_pattern", "year_case_id"]

_PLACEHOLDER = re.compile(r"\{([^{}]*)\}")
_SEQ = re.compile(r"seq:([1-9])\Z")
_FIELD = re.compile(r"field\.([a-z][a-z0-9_]{0,63})\Z")


@dataclass(frozen=True)
class IdPart:
    """One piece of a pattern: ``kind`` is ``text`` (``value`` literal), ``year``, ``seq`` (``digits``)
    or ``field`` (``value`` the field's name)."""

    kind: str
    value: str = ""
    digits: int = 0


def parse_pattern(pattern: str) -> tuple[list[IdPart], list[str]]:
    """The parts of ``pattern`` and the problems found (each a sentence naming the offender)."""
    parts: list[IdPart] = []
    problems: list[str] = []
    at = 0
    for m in _PLACEHOLDER.finditer(pattern):
        if m.start() > at:
            parts.append(IdPart("text", pattern[at : m.start()]))
        at = m.end()
        name = m.group(1)
        if name == "year":
            parts.append(IdPart("year"))
        elif seq := _SEQ.match(name):
            parts.append(IdPart("seq", digits=int(seq.group(1))))
        elif field := _FIELD.match(name):
            parts.append(IdPart("field", field.group(1)))
        else:
            problems.append(
                f"unknown placeholder {{{name}}} (known: {{year}}, {{seq:N}} with N from 1 to 9, {{field.NAME}})"
            )
    if at < len(pattern):
        parts.append(IdPart("text", pattern[at:]))
    for part in parts:
        if part.kind == "text" and ("{" in part.value or "}" in part.value):
            problems.append(f"unbalanced brace in {part.value!r} (a placeholder is written {{year}})")
        elif part.kind == "text" and any(c.isspace() or not c.isprintable() for c in part.value):
            problems.append(f"the literal text {part.value!r} holds white space or an unprintable character")
    if sum(1 for p in parts if p.kind == "seq") > 1:
        problems.append("at most one {seq:N} placeholder")
    return parts, problems


def _value(value: Any) -> str:
    return str(value).lower() if isinstance(value, bool) else str(value)


def render_pattern(parts: Iterable[IdPart], year: int, fields: Mapping[str, Any], seq: str = "") -> str:
    """The id ``parts`` give for a start in ``year`` with ``fields``; ``{seq}`` becomes ``seq``."""
    out = []
    for p in parts:
        if p.kind == "text":
            out.append(p.value)
        elif p.kind == "year":
            out.append(str(year))
        elif p.kind == "seq":
            out.append(seq)
        else:
            out.append(_value(fields.get(p.value, "")))
    return "".join(out)


def next_case_id(pattern: str, year: int, fields: Mapping[str, Any], existing: Iterable[str]) -> str:
    """The id of a new case: the pattern rendered, its ``{seq:N}`` the next free number after the
    highest of the ``existing`` ids that fit (not concurrency-safe: two starts may compute the same
    number; the second is then refused as a duplicate id)."""
    parts, _ = parse_pattern(pattern)
    seq = next((p for p in parts if p.kind == "seq"), None)
    if seq is None:
        return render_pattern(parts, year, fields)
    regex = re.compile("".join(r"(\d+)" if p is seq else re.escape(render_pattern([p], year, fields)) for p in parts))
    numbers = [int(m.group(1)) for case_id in existing if (m := regex.fullmatch(case_id))]
    return render_pattern(parts, year, fields, f"{max(numbers, default=0) + 1:0{seq.digits}d}")


def year_case_id(pattern: str, year_field: str, year: int) -> str:
    """The id of the case about ``year`` of a workflow that has one case a year (``CAT-{field.year}``
    with ``year_field: year`` gives ``CAT-2025``; ``{year}`` is the same year)."""
    return render_pattern(parse_pattern(pattern)[0], year, {year_field: year})

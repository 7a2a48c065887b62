"""The canonical writer as it was before the fast path (issue 15), frozen as the reference.

`decisions.audit.canonical` must write exactly these bytes for every value this writer accepts and
refuse, with the same error, every value it refuses (tests/test_canonical_fast_path.py). This copy
is never edited: it is the meaning of "the same bytes" for every hash already stored.
"""

from __future__ import annotations

import json
import re
import unicodedata
from collections.abc import Mapping
from datetime import UTC, date, datetime
from decimal import Decimal

__all__ = ["canonical_bytes", "canonical_text"]

# Inside JSON strings: the two mandatory escapes, the five short control escapes, then \u00xx.
_ESCAPES: dict[str, str] = {
    '"': '\\"',
    "\\": "\\\\",
    "\b": "\\b",
    "\f": "\\f",
    "\n": "\\n",
    "\r": "\\r",
    "\t": "\\t",
}
for _code in range(0x20):
    _ESCAPES.setdefault(chr(_code), f"\\u{_code:04x}")
del _code

_NEEDS_ESCAPE = re.compile('["\\\\\x00-\x1f]')
_SURROGATE = re.compile("[\ud800-\udfff]")
_PLAIN_KEY = re.compile(r"[^\s.\[\]\"']+")

# Python refuses to convert integers of more than sys.get_int_max_str_digits() digits (4300 by default)
# to or from text in one step. Bodies are allowed integers of any size, so longer ones go in chunks.
_CHUNK_DIGITS = 1000


def canonical_text(value: object) -> str:
    """The canonical JSON text of ``value`` (every rule: `decisions.audit.canonical`)."""
    parts: list[str] = []
    _emit(value, "", parts, set())
    return "".join(parts)


def canonical_bytes(value: object) -> bytes:
    """The canonical bytes of ``value``: `canonical_text` encoded as UTF-8. This is what gets hashed."""
    return canonical_text(value).encode("utf-8")


# --- serialization -------------------------------------------------------------------------------


def _emit(value: object, path: str, out: list[str], active: set[int]) -> None:
    # bool before int (bool is a subclass of int); datetime before date (likewise).
    if value is None:
        out.append("null")
    elif value is True:
        out.append("true")
    elif value is False:
        out.append("false")
    elif isinstance(value, int):
        out.append(_int_text(int(value)))
    elif isinstance(value, str):
        out.append(_quote(_nfc(value, path)))
    elif isinstance(value, float | Decimal):
        raise ValueError(
            f"{_where(path)}: {_type_name(value)} is not allowed in a canonical body; write money and "
            f'measures as strings (e.g. "1250000.00") or scale them to integers'
        )
    elif isinstance(value, datetime):
        out.append(_quote(_datetime_text(value, path)))
    elif isinstance(value, date):
        out.append(_quote(f"{value.year:04d}-{value.month:02d}-{value.day:02d}"))
    elif isinstance(value, Mapping):
        _enter(value, path, active)
        out.append("{")
        for index, (key, item) in enumerate(_sorted_items(value, path)):
            if index:
                out.append(",")
            out.append(_quote(key))
            out.append(":")
            _emit(item, _key_path(path, key), out, active)
        out.append("}")
        active.discard(id(value))
    elif isinstance(value, list | tuple):
        _enter(value, path, active)
        out.append("[")
        for index, item in enumerate(value):
            if index:
                out.append(",")
            _emit(item, f"{path}[{index}]", out, active)
        out.append("]")
        active.discard(id(value))
    elif isinstance(value, set | frozenset):
        raise TypeError(
            f"{_where(path)}: {_type_name(value)} is not allowed in a canonical body: its order is "
            f"undefined; sort it into a list first"
        )
    else:
        raise TypeError(f"{_where(path)}: cannot serialize a value of type {_type_name(value)} canonically")


def _enter(container: object, path: str, active: set[int]) -> None:
    if id(container) in active:
        raise ValueError(f"{_where(path)}: the value contains itself (a reference cycle)")
    active.add(id(container))


def _sorted_items(mapping: Mapping[object, object], path: str) -> list[tuple[str, object]]:
    by_key: dict[str, tuple[str, object]] = {}
    for key, item in mapping.items():
        if not isinstance(key, str):
            raise TypeError(
                f"{_where(path)}: object keys must be strings, found a key of type {_type_name(key)}: {key!r}"
            )
        normalized = _nfc(key, _key_path(path, key))
        if normalized in by_key:
            raise ValueError(
                f"{_where(path)}: keys {by_key[normalized][0]!r} and {key!r} are the same after Unicode NFC "
                f"normalization"
            )
        by_key[normalized] = (key, item)
    return [(normalized, by_key[normalized][1]) for normalized in sorted(by_key)]


def _nfc(text: str, path: str) -> str:
    found = _SURROGATE.search(text)
    if found is not None:
        raise ValueError(
            f"{_where(path)}: string contains the lone surrogate U+{ord(found.group()):04X}, which cannot be "
            f"encoded as UTF-8"
        )
    text = str.__str__(text)  # the plain value of a str subclass, whatever its __str__ says
    return text if unicodedata.is_normalized("NFC", text) else unicodedata.normalize("NFC", text)


def _quote(text: str) -> str:
    return '"' + _NEEDS_ESCAPE.sub(lambda m: _ESCAPES[m.group()], text) + '"'


def _datetime_text(value: datetime, path: str) -> str:
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(
            f"{_where(path)}: naive datetime {value.isoformat()} is not allowed; give it a timezone "
            f"(e.g. Asia/Shanghai or UTC)"
        )
    try:
        utc = value.astimezone(UTC)
    except OverflowError as exc:
        raise ValueError(f"{_where(path)}: datetime {value.isoformat()} is out of range in UTC") from exc
    return (
        f"{utc.year:04d}-{utc.month:02d}-{utc.day:02d}T"
        f"{utc.hour:02d}:{utc.minute:02d}:{utc.second:02d}.{utc.microsecond:06d}Z"
    )


def _int_text(number: int) -> str:
    try:
        return str(number)
    except ValueError:  # beyond the interpreter's digit limit: convert in chunks
        sign, rest = ("-", -number) if number < 0 else ("", number)
        base = 10**_CHUNK_DIGITS
        chunks: list[str] = []
        while rest >= base:
            rest, low = divmod(rest, base)
            chunks.append(f"{low:0{_CHUNK_DIGITS}d}")
        chunks.append(str(rest))
        return sign + "".join(reversed(chunks))


def _key_path(path: str, key: str) -> str:
    if _PLAIN_KEY.fullmatch(key):
        return f"{path}.{key}" if path else key
    return f"{path}[{json.dumps(key, ensure_ascii=False)}]"


def _where(path: str) -> str:
    return f"at {path}" if path else "at the top level"


def _type_name(value: object) -> str:
    kind = type(value)
    return kind.__qualname__ if kind.__module__ == "builtins" else f"{kind.__module__}.{kind.__qualname__}"

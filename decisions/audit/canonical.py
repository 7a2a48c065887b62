"""Canonical serialization of event bodies: the one byte form whose hash identifies an event, forever.

Pure: standard library only, no I/O, no clock. The specification, with a worked example, is
``docs/canonical-serialization.md``; this module is its reference implementation. In short:

* JSON (RFC 8259) encoded as UTF-8, no byte order mark, no whitespace outside strings
  (separators ``,`` and ``:``), no trailing newline.
* Object keys are sorted by Unicode code point (Python's default ``str`` ordering; note this differs
  from RFC 8785, which sorts by UTF-16 code unit, only for keys containing characters above U+FFFF).
* Every string, key or value, is normalized to NFC first; two keys of one object that become equal
  under NFC are an error, never a silent merge.
* Non-ASCII characters are written as themselves (``ensure_ascii=False``): 中文 stays readable UTF-8.
  Inside strings only ``"`` ``\\`` and U+0000..U+001F are escaped: ``\\"`` ``\\\\`` ``\\b`` ``\\f``
  ``\\n`` ``\\r`` ``\\t``, and ``\\u00xx`` (lowercase hex) for the other control characters. This is
  exactly what Python's ``json.dumps(..., ensure_ascii=False)`` and RFC 8785 write.
* Allowed values: ``dict`` / any mapping with ``str`` keys (→ object), ``list`` and ``tuple``
  (→ array), ``str``, ``int`` of any size (→ decimal digits, ``-`` for negatives), ``bool``
  (→ ``true`` / ``false``, never 1 / 0), ``None`` (→ ``null``), ``datetime.date`` (→ ``"YYYY-MM-DD"``)
  and timezone-aware ``datetime.datetime`` (→ converted to UTC, ``"YYYY-MM-DDTHH:MM:SS.ffffffZ"``,
  always six fractional digits). Subclasses of ``str`` and ``int`` (e.g. ``StrEnum`` members) are
  written as their plain value.
* Rejected: ``float`` and ``decimal.Decimal`` (``ValueError``: money and measures are strings in this
  domain, so no binary rounding ever enters a hash), naive datetimes (``ValueError``), lone
  surrogates (``ValueError``: not encodable as UTF-8), ``set`` / ``frozenset`` (``TypeError``: their
  order is undefined, the caller sorts them into a list), and every other type (``TypeError``). Each
  error names the key path where the value was found, e.g. ``fields.views[2].member``.

Dates and datetimes come back from `parse_canonical` as strings. That is intended: a body is stored
and verified as bytes, and its hash is computed over those bytes, never over a re-serialization.

Two paths write the same bytes. The fast one serves the bodies the service builds (plain dicts, lists,
strings, integers, dates): a type check over the value, then one call of the standard library's C
encoder, then an NFC and surrogate check over the whole text. Anything it does not vouch for (another
type, a subclass, a non-NFC string, an integer beyond the interpreter's digit limit, a refusal) goes
to the careful path, `_emit`, which applies every rule itself and names the key path in its errors.
`tests/test_canonical_fast_path.py` proves the two byte-identical against the original writer.
"""

from __future__ import annotations

import json
import re
import unicodedata
from collections.abc import Iterable, Mapping
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any, NoReturn

__all__ = ["canonical_bytes", "canonical_text", "is_canonical", "parse_canonical"]

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
    """The canonical JSON text of ``value`` (see the module docstring for every rule)."""
    text = _fast_text(value)
    if text is not None and (text.isascii() or _encodable(text)):
        return text
    return _careful_text(value)


def canonical_bytes(value: object) -> bytes:
    """The canonical bytes of ``value``: `canonical_text` encoded as UTF-8. This is what gets hashed."""
    text = _fast_text(value)
    if text is not None:
        try:
            return text.encode("utf-8")
        except UnicodeEncodeError:  # a lone surrogate: the careful path names where
            pass
    return _careful_text(value).encode("utf-8")


def parse_canonical(data: bytes) -> object:
    """Parse canonical bytes back to plain values (dict, list, str, int, bool, None).

    Strict: the bytes must be valid UTF-8 JSON without duplicate object keys and without fractions,
    exponents, NaN or Infinity, since none of those can occur in canonical output. Raises
    ``ValueError`` otherwise. It does not check the byte form itself; use `is_canonical` for that.
    """
    if not isinstance(data, bytes | bytearray | memoryview):
        raise TypeError(f"parse_canonical expects bytes, not {_type_name(data)}")
    text = bytes(data).decode("utf-8")  # strict: invalid UTF-8 raises UnicodeDecodeError (a ValueError)
    return json.loads(
        text,
        object_pairs_hook=_object_without_duplicates,
        parse_float=_reject_fraction,
        parse_constant=_reject_constant,
        parse_int=_parse_int,
    )


def is_canonical(data: bytes) -> bool:
    """Whether ``data`` is exactly the canonical serialization of the value it encodes."""
    try:
        return canonical_bytes(parse_canonical(data)) == bytes(data)
    except (ValueError, TypeError, RecursionError):
        return False


def parse_if_canonical(text: str) -> object | None:
    """The value ``text`` encodes if ``text`` is canonical, else None. The fast path for verifying
    millions of stored bodies: a body parsed strictly (no fractions, exponents or NaN) contains only
    objects, arrays, strings, integers, booleans and null, and for those values Python's
    ``json.dumps(sort_keys, compact, ensure_ascii=False)`` writes exactly the canonical form
    (`tests/test_audit_primitives.py` proves the escaping matches); NFC is checked on the text."""
    try:
        value: object = json.loads(text, parse_float=_reject_fraction, parse_constant=_reject_constant)
    except (ValueError, RecursionError):
        return None
    if not unicodedata.is_normalized("NFC", text):
        return None
    if json.dumps(value, ensure_ascii=False, separators=(",", ":"), sort_keys=True) != text:
        return None
    return value


# --- the fast path -------------------------------------------------------------------------------

# The exact types the C encoder writes as `_emit` does: for these it emits the same literals, the
# same digits (``int.__repr__``), the same escapes (``tests/test_audit_primitives.py``), and with
# ``sort_keys`` the same code point order of keys. Dates reach ``_fast_default``.
_LEAVES: frozenset[type] = frozenset({str, int, bool, type(None), date, datetime})
_CONTAINERS: frozenset[type] = frozenset({dict, list, tuple})
_STR: frozenset[type] = frozenset({str})


class _Careful(Exception):
    """Raised inside the fast path for a value only the careful path may write or refuse."""


def _fast_default(value: object) -> str:
    # The forms of `_datetime_text` and `_date_text`, by the C formatter (``isoformat`` pads the year
    # to four digits; in UTC it ends "+00:00").
    if type(value) is datetime:
        if value.utcoffset() is None:  # naive: the careful path refuses it and names where
            raise _Careful
        return value.astimezone(UTC).isoformat(timespec="microseconds")[:-6] + "Z"
    if type(value) is date:
        return value.isoformat()
    raise _Careful


_ENCODER = json.JSONEncoder(
    ensure_ascii=False, sort_keys=True, separators=(",", ":"), check_circular=False, default=_fast_default
)


def _fast_text(value: object) -> str | None:
    """The canonical text of ``value`` if the fast path can vouch for it, else None.

    None when some part of ``value`` is of a type outside the fast set, or when the encoder
    refuses it (an integer beyond the digit limit, a naive datetime, nesting too deep for the
    stack, or a reference cycle, which the type check meets as unbounded recursion), or when the
    text is not NFC. NFC is checked on the whole text rather than on each string: the characters
    the encoder escapes (``"`` ``\\`` and controls) are starters that never compose, so a string
    that is not NFC leaves its offending run, intact, in the text; a text that is NFC therefore
    holds only NFC strings, and only NFC keys, which cannot collide. (The converse can fail, e.g.
    ``"\\n"`` before a combining accent, and then the careful path writes the value.) Lone
    surrogates are left for the caller to find when it encodes the text.
    """
    try:
        kind = type(value)
        if not (kind in _LEAVES or (kind in _CONTAINERS and _plain(value))):
            return None
        text = _ENCODER.encode(value)
    except (_Careful, ValueError, OverflowError, RecursionError):
        return None
    return text if text.isascii() or unicodedata.is_normalized("NFC", text) else None


def _plain(container: Any) -> bool:
    """Whether every key in ``container`` (a dict, list or tuple) and its descendants is a plain str
    and every value is of a fast type. Strings are vouched for by their type alone: their content is
    checked on the text."""
    items: Iterable[object]
    if type(container) is dict:
        if not _STR.issuperset(map(type, container)):
            return False
        items = container.values()
    else:
        items = container
    for item in items:
        kind = type(item)
        if kind not in _LEAVES and (kind not in _CONTAINERS or not _plain(item)):
            return False
    return True


def _encodable(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


# --- the careful path ----------------------------------------------------------------------------


def _careful_text(value: object) -> str:
    parts: list[str] = []
    _emit(value, "", parts, set())
    return "".join(parts)


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
        out.append(_quote(_date_text(value)))
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


def _date_text(value: date) -> str:
    return f"{value.year:04d}-{value.month:02d}-{value.day:02d}"


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


# --- parsing -------------------------------------------------------------------------------------


def _object_without_duplicates(pairs: list[tuple[str, object]]) -> dict[str, object]:
    result: dict[str, object] = {}
    for key, item in pairs:
        if key in result:
            raise ValueError(f"duplicate object key {key!r}")
        result[key] = item
    return result


def _reject_fraction(text: str) -> NoReturn:
    raise ValueError(f"number {text} has a fraction or exponent; canonical bodies hold integers only")


def _reject_constant(text: str) -> NoReturn:
    raise ValueError(f"{text} is not JSON and never canonical")


def _parse_int(text: str) -> int:
    try:
        return int(text)
    except ValueError:  # beyond the interpreter's digit limit: convert in chunks
        sign, digits = (-1, text[1:]) if text.startswith("-") else (1, text)
        number = 0
        for start in range(0, len(digits), _CHUNK_DIGITS):
            chunk = digits[start : start + _CHUNK_DIGITS]
            number = number * 10 ** len(chunk) + int(chunk)
        return sign * number

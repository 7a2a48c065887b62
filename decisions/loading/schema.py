"""Structure of definition files, checked against the JSON Schemas in ``decisions/schemas/``.

The schemas are published for editors (``# yaml-language-server: $schema=...``) and are the one
statement of each file's shape: keys, types, identifiers, bilingual labels. Each ``jsonschema``
error becomes a located `Problem` (file, line of the key path, key path, a message naming the key
and what is allowed), every error at once. Meaning (unknown states, rules, facts, the gate proof)
is checked after, by the readers. A validator is compiled once per kind of file.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from importlib import resources
from typing import TYPE_CHECKING, Any, Literal

from decisions.definitions import source_digest
from decisions.errors import Problem, shown
from decisions.loading.yamlsafe import KeyPath, YamlDocument

if TYPE_CHECKING:
    from jsonschema import Draft202012Validator, ValidationError

__all__ = ["KINDS", "Kind", "Structure", "check_structure", "check_structure_of", "remember_structure", "schema_text"]

Kind = Literal["workflow", "rulepack", "calendar", "deployment", "demo"]
KINDS: tuple[Kind, ...] = ("workflow", "rulepack", "calendar", "deployment", "demo")

_NOUNS = {
    "object": "a mapping",
    "array": "a list",
    "string": "a string",
    "boolean": "true or false",
    "integer": "an integer",
    "number": "a number",
    "null": "nothing",
}


def schema_text(kind: Kind) -> str:
    """The published JSON Schema of one kind of definition file."""
    return (resources.files("decisions") / "schemas" / f"{kind}.schema.json").read_text(encoding="utf-8")


def _inlined(node: Any, defs: Mapping[str, Any]) -> Any:
    """``node`` with every local ``$ref`` replaced by its definition (ours are not recursive):
    resolving references costs ``jsonschema`` more than the checks themselves."""
    if isinstance(node, dict):
        ref = node.get("$ref")
        if isinstance(ref, str) and ref.startswith("#/$defs/"):
            rest = {k: _inlined(v, defs) for k, v in node.items() if k != "$ref"}
            return {**_inlined(defs[ref.removeprefix("#/$defs/")], defs), **rest}
        return {k: _inlined(v, defs) for k, v in node.items() if k != "$defs"}
    if isinstance(node, list):
        return [_inlined(v, defs) for v in node]
    return node


@functools.cache
def _validator(kind: Kind) -> Draft202012Validator:
    """The compiled validator of one kind of file, built once per process."""
    from jsonschema import Draft202012Validator  # imported on first use: ~0.1 s, not on every CLI start

    schema = json.loads(schema_text(kind))
    return Draft202012Validator(_inlined(schema, schema.get("$defs", {})))


@dataclass(frozen=True)
class Structure:
    """The structural problems of one document, and the key paths they cover: a reader that meets
    a malformed value there reports nothing more about it (the schema already has)."""

    problems: tuple[Problem, ...]
    covered: frozenset[KeyPath]

    def covers(self, path: Sequence[str | int]) -> bool:
        """Whether ``path`` or one of its ancestors already has a structural problem."""
        key = tuple(path)
        return any(key[:n] in self.covered for n in range(len(key) + 1))


def _type_name(value: Any) -> str:
    if value is None:
        return "nothing"
    if isinstance(value, bool):
        return f"a boolean {value!r}".lower()
    return {dict: "a mapping", list: "a list", str: "a string", int: "an integer", float: "a number"}.get(
        type(value), type(value).__name__
    )


def _jsonable(value: Any) -> Any:
    """The data as JSON sees it: keys are strings, dates ISO strings (YAML keys may be integers)."""
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if isinstance(value, date):
        return value.isoformat()
    return value


def _original_path(data: Any, json_path: Iterable[str | int]) -> KeyPath:
    """The key path in the YAML data of a path in its JSON form (``"2027"`` back to ``2027``)."""
    out: list[str | int] = []
    node = data
    for part in json_path:
        if isinstance(node, dict) and part not in node:
            part = next((k for k in node if str(k) == part), part)
        out.append(part)
        if isinstance(node, dict):
            node = node.get(part)
        else:
            node = node[part] if isinstance(node, list) and isinstance(part, int) and 0 <= part < len(node) else None
    return tuple(out)


def _format(data: Any, path: KeyPath) -> str:
    """``path`` as text: list indexes in brackets, mapping keys (integers too: ``years.2027``) dotted."""
    out, node = "", data
    for part in path:
        if isinstance(node, list) and isinstance(part, int):
            out += f"[{part}]"
            node = node[part] if 0 <= part < len(node) else None
        else:
            out += f".{part}" if out else str(part)
            node = node.get(part) if isinstance(node, dict) else None
    return out


def _expected(schema: Mapping[str, Any]) -> str:
    types = schema.get("type", [])
    types = [types] if isinstance(types, str) else list(types)
    noun = " or ".join(_NOUNS.get(t, t) for t in types)
    title = schema.get("title")
    return f"{noun} ({title})" if title else noun


_Message = tuple[KeyPath, str] | tuple[KeyPath, str, KeyPath]


def _messages(error: ValidationError) -> list[_Message]:
    """(path relative to the error's instance, message[, the path it covers if not that one]) for one
    ``jsonschema`` error. A missing key is reported on its mapping and covers only the key."""
    schema, instance, validator = error.schema, error.instance, error.validator
    if not isinstance(schema, Mapping):  # pragma: no cover - a boolean schema; ours are all objects
        return [((), error.message)]
    if validator == "type":
        quoted = f" {shown(instance)}" if schema.get("type") == "boolean" and isinstance(instance, str) else ""
        return [((), f"expected {_expected(schema)}, found {_type_name(instance)}{quoted}")]
    if validator == "required":
        out: list[_Message] = []
        for key in error.validator_value:
            if isinstance(instance, dict) and key not in instance:
                hint = schema.get("properties", {}).get(key, {}).get("title")
                out.append(((), f"missing required key {shown(key)}" + (f" ({hint})" if hint else ""), (key,)))
        return out
    if validator in ("additionalProperties", "unevaluatedProperties"):
        allowed = sorted(schema.get("properties", {}))
        hint = f" (expected one of: {', '.join(allowed)})" if allowed else ""
        return [
            ((key,), f"unknown key {shown(key)}{hint}") for key in instance if key not in schema.get("properties", {})
        ]
    if validator == "uniqueItems":
        seen: set[str] = set()  # linear: a list may name thousands of things
        twice: list[_Message] = []
        for i, item in enumerate(instance):
            key = json.dumps(item, sort_keys=True)
            if key in seen:
                twice.append(((i,), f"{shown(item)} is listed twice"))
            seen.add(key)
        return twice
    if validator == "enum":
        key = error.path[-1] if error.path else "value"
        values = ", ".join(str(v) for v in error.validator_value)
        return [((), f"{key} must be one of {values}, found {shown(instance)}")]
    if validator == "minItems":
        return [((), f"expected {schema.get('title') or 'a non-empty list'}, found an empty list")]
    if validator == "pattern" and isinstance(instance, str):
        if not instance.strip():
            return [((), "must be a non-empty string")]
        last = error.path[-1] if error.path else None
        what = last if isinstance(last, str) and "propertyNames" not in error.relative_schema_path else None
        return [
            ((), f"{what or schema.get('title', 'value')} {shown(instance)} {schema.get('description', '')}".rstrip())
        ]
    return [((), error.message)]


def check_structure_of(data: Any, kind: Kind, file: str, line_of: Any) -> Structure:
    """Check ``data`` (parsed YAML) against the schema of ``kind``; ``line_of`` locates a key path."""
    problems: list[Problem] = []
    covered: set[KeyPath] = set()
    seen: set[tuple[KeyPath, str]] = set()
    for error in _validator(kind).iter_errors(_jsonable(data)):
        base = _original_path(data, error.absolute_path)
        for rel, message, *cover in _messages(error):
            if error.validator == "pattern" and "propertyNames" in error.relative_schema_path:
                rel = (error.instance,)  # a key of the mapping, located on itself
            path = _original_path(data, (*error.absolute_path, *rel)) if rel else base
            if (path, message) in seen:
                continue
            seen.add((path, message))
            covered.add(_original_path(data, (*error.absolute_path, *cover[0])) if cover else path)
            problems.append(Problem(file, line_of(path), _format(data, path), message))
    problems.sort(key=lambda p: (p.line or 0, p.path))
    return Structure(tuple(problems), frozenset(covered))


_CHECKED: dict[tuple[Kind, str, str], Structure] = {}
_CHECKED_MAX = 256


def check_structure(doc: YamlDocument, kind: Kind) -> Structure:
    """Check a parsed definition file against the schema of its kind. The result depends only on
    the file's name and text, so a text already checked in this process is not checked again."""
    key = (kind, doc.file, source_digest(doc.text))
    if not doc.text or key not in _CHECKED:
        if len(_CHECKED) >= _CHECKED_MAX:
            _CHECKED.clear()
        structure = check_structure_of(doc.data, kind, doc.file, doc.line_of)
        if not doc.text:  # a document built from data alone: nothing to key it by
            return structure
        _CHECKED[key] = structure
    return _CHECKED[key]


def remember_structure(doc: YamlDocument, kind: Kind, structure: Structure) -> None:
    """Record the structure of a document checked before (by `decisions.loading.cache`), so the
    readers' `check_structure` of it is a lookup."""
    if doc.text:
        if len(_CHECKED) >= _CHECKED_MAX:
            _CHECKED.clear()
        _CHECKED[(kind, doc.file, source_digest(doc.text))] = structure

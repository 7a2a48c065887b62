"""Literal, safe YAML reading for definition files, with a line number for every key path.

Definition files are untrusted input. PyYAML's ``SafeLoader`` is still YAML 1.1: ``yes``/``no``/
``on``/``off`` become booleans, ``1_000`` an integer, ``12:30`` a sexagesimal number, and duplicate
keys silently keep the last value. Here the document is only *composed* (a node tree; no object is
ever constructed by PyYAML) and converted by hand with the YAML 1.2 core-schema rules:

- plain ``true``/``false`` (any case) are booleans; ``null``, ``~`` and empty are ``None``;
- plain decimal integers are ``int``, plain decimals ``float``; everything else is ``str``
  (dates stay strings: the schema layer parses them and locates the error if malformed);
- quoted scalars are always strings;
- tags (``!!python/object``, ``!custom``...) and aliases are refused;
- mapping keys must be unique scalars.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from decisions.errors import DefinitionError, Problem

__all__ = ["KeyPath", "YamlDocument", "format_path", "load_yaml_file", "load_yaml_text", "read_text"]

KeyPath = tuple[str | int, ...]

_INT = re.compile(r"[-+]?(0|[1-9][0-9]*)\Z")
_FLOAT = re.compile(r"[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?\Z")
_BOOL = {"true": True, "false": False}
_NULL = {"", "~", "null"}
_STANDARD_TAGS = {
    "tag:yaml.org,2002:str",
    "tag:yaml.org,2002:int",
    "tag:yaml.org,2002:float",
    "tag:yaml.org,2002:bool",
    "tag:yaml.org,2002:null",
    "tag:yaml.org,2002:timestamp",
    "tag:yaml.org,2002:map",
    "tag:yaml.org,2002:seq",
    "tag:yaml.org,2002:value",
    "tag:yaml.org,2002:merge",
}
MAX_BYTES = 2 * 1024 * 1024
MAX_DEPTH = 64  # deeper nesting is no definition a person wrote; refusing it also bounds recursion
MAX_NUMBER_DIGITS = 30


def format_path(path: Sequence[str | int]) -> str:
    """``("transitions", 3, "source")`` -> ``transitions[3].source``."""
    out = ""
    for part in path:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out


@dataclass(frozen=True)
class YamlDocument:
    """A parsed definition file: plain data plus the line of every key path."""

    file: str
    data: Any
    lines: Mapping[KeyPath, int] = field(default_factory=dict)
    text: str = ""

    def line_of(self, path: Sequence[str | int]) -> int | None:
        """Line of ``path``, or of its nearest ancestor that has one."""
        key = tuple(path)
        while True:
            if key in self.lines:
                return self.lines[key]
            if not key:
                return None
            key = key[:-1]

    def problem(self, path: Sequence[str | int], message: str) -> Problem:
        """A located problem at ``path`` in this document."""
        return Problem(self.file, self.line_of(path), format_path(path), message)


_Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml when present: same nodes, 20x faster


class _Converter:
    def __init__(self, file: str) -> None:
        self.file = file
        self.lines: dict[KeyPath, int] = {}
        self.problems: list[Problem] = []
        self._seen: set[int] = set()

    def _problem(self, node: yaml.Node, path: KeyPath, message: str) -> None:
        self.problems.append(Problem(self.file, node.start_mark.line + 1, format_path(path), message))

    def convert(self, node: yaml.Node, path: KeyPath) -> Any:
        self.lines.setdefault(path, node.start_mark.line + 1)
        if len(path) > MAX_DEPTH:
            self._problem(node, path, f"nested deeper than {MAX_DEPTH} levels")
            return None
        # An alias is the same node object reached twice: refused (no "billion laughs").
        if id(node) in self._seen:
            self._problem(node, path, "YAML anchors and aliases are not allowed")
            return None
        self._seen.add(id(node))
        if node.tag not in _STANDARD_TAGS:
            self._problem(node, path, f"YAML tags are not allowed here: {node.tag!r}")
            return None
        if isinstance(node, yaml.ScalarNode):
            if len(node.value) > MAX_NUMBER_DIGITS and _INT.match(node.value) and not node.style:
                self._problem(node, path, f"number longer than {MAX_NUMBER_DIGITS} digits")
                return None
            return self._scalar(node)
        if isinstance(node, yaml.SequenceNode):
            return [self.convert(item, (*path, i)) for i, item in enumerate(node.value)]
        if isinstance(node, yaml.MappingNode):
            return self._mapping(node, path)
        self._problem(node, path, "unsupported YAML node")  # pragma: no cover - exhaustive above
        return None

    def _scalar(self, node: yaml.ScalarNode) -> Any:
        value: str = node.value
        if node.style is not None and node.style != "":
            return value  # quoted or block scalar: always a string
        lowered = value.lower()
        if lowered in _BOOL:
            return _BOOL[lowered]
        if lowered in _NULL:
            return None
        if _INT.match(value):
            return int(value)
        if _FLOAT.match(value) and any(c.isdigit() for c in value):
            return float(value)
        return value

    def _mapping(self, node: yaml.MappingNode, path: KeyPath) -> dict[str | int, Any]:
        out: dict[str | int, Any] = {}
        for key_node, value_node in node.value:
            if not isinstance(key_node, yaml.ScalarNode):
                self._problem(key_node, path, "mapping keys must be plain scalars")
                continue
            if key_node.tag == "tag:yaml.org,2002:merge" or key_node.value == "<<":
                self._problem(key_node, path, "merge keys (<<) are not allowed")
                continue
            key = self._scalar(key_node)
            if not isinstance(key, str | int) or isinstance(key, bool):
                self._problem(key_node, path, f"mapping key must be a string or integer: {key_node.value!r}")
                continue
            child = (*path, key)
            if key in out:
                self._problem(key_node, child, f"duplicate key {key!r}")
                continue
            self.lines[child] = key_node.start_mark.line + 1
            out[key] = self.convert(value_node, child)
        return out


def load_yaml_text(text: str, file: str) -> YamlDocument:
    """Parse one YAML document literally. Raises `DefinitionError` listing every problem found."""
    try:
        size = len(text.encode("utf-8"))
    except UnicodeEncodeError as exc:
        raise DefinitionError([Problem(file, None, "", f"text is not valid Unicode (character {exc.start})")]) from exc
    if size > MAX_BYTES:
        raise DefinitionError([Problem(file, None, "", f"file is larger than {MAX_BYTES} bytes")])
    try:
        nodes = list(yaml.compose_all(text, Loader=_Loader))
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark is not None else None
        raise DefinitionError([Problem(file, line, "", f"YAML syntax error: {exc.problem or exc}")]) from exc
    except yaml.YAMLError as exc:
        raise DefinitionError([Problem(file, None, "", f"YAML error: {exc}")]) from exc
    if len(nodes) != 1 or nodes[0] is None:
        raise DefinitionError([Problem(file, None, "", "expected exactly one YAML document")])
    converter = _Converter(file)
    data = converter.convert(nodes[0], ())
    if converter.problems:
        raise DefinitionError(converter.problems)
    return YamlDocument(file=file, data=data, lines=converter.lines, text=text)


def load_yaml_file(path: Path, *, display: str | None = None) -> YamlDocument:
    """Read and parse ``path``; undecodable or unreadable files are located definition errors."""
    name = display or str(path)
    return load_yaml_text(read_text(path, name), name)


def read_text(path: Path, name: str) -> str:
    """The text of ``path``; undecodable or unreadable files are definition errors on ``name``."""
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise DefinitionError([Problem(name, None, "", f"cannot read file: {exc.strerror}")]) from exc
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise DefinitionError([Problem(name, None, "", f"file is not valid UTF-8 (byte {exc.start})")]) from exc
    return text

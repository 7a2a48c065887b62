"""Typed getters over parsed YAML that collect every problem with its location.

A file's structure is checked first against its JSON Schema (`decisions.loading.schema`); a reader
given that `Structure` starts with its problems, and its getters report a malformed value only
where the schema said nothing about it (a safety net, never a second message for one mistake).
Meaning is reported with `Reader.error`, always."""

from __future__ import annotations

import re
from collections.abc import Collection, Sequence
from typing import Any

from decisions.errors import Problem
from decisions.loading.schema import Structure
from decisions.loading.yamlsafe import YamlDocument
from decisions.model import Text

__all__ = ["IDENTIFIER", "Reader"]

IDENTIFIER = re.compile(r"[a-z][a-z0-9_]{0,63}\Z")
Path = tuple[str | int, ...]


def _type_name(value: Any) -> str:
    if value is None:
        return "nothing"
    return {
        dict: "a mapping",
        list: "a list",
        str: "a string",
        bool: "a boolean",
        int: "an integer",
    }.get(type(value), type(value).__name__)


class Reader:
    """Typed getters that record a located `Problem` instead of raising, so all are reported."""

    def __init__(self, doc: YamlDocument, structure: Structure | None = None) -> None:
        self.doc = doc
        self.structure = structure
        self.problems: list[Problem] = list(structure.problems) if structure is not None else []

    def error(self, path: Sequence[str | int], message: str) -> None:
        """A problem of meaning at ``path``."""
        self.problems.append(self.doc.problem(path, message))

    def shape_error(self, path: Sequence[str | int], message: str, *, about: Sequence[str | int] | None = None) -> None:
        """A problem of structure at ``path`` (about the value at ``about``, by default the same), unless
        the schema already reported one there or above."""
        if self.structure is None or not self.structure.covers(path if about is None else about):
            self.problems.append(self.doc.problem(path, message))

    def mapping(
        self,
        value: Any,
        path: Path,
        *,
        required: Collection[str] = (),
        optional: Collection[str] = (),
        open_keys: bool = False,
    ) -> dict[str, Any] | None:
        """A mapping with the given keys; unknown keys are problems unless ``open_keys``."""
        if not isinstance(value, dict):
            self.shape_error(path, f"expected a mapping, found {_type_name(value)}")
            return None
        for key in required:
            if key not in value:
                self.shape_error(path, f"missing required key {key!r}", about=(*path, key))
        if not open_keys:
            allowed = set(required) | set(optional)
            for key in value:
                if key not in allowed:
                    hint = f" (expected one of: {', '.join(sorted(allowed))})" if allowed else ""
                    self.shape_error((*path, key), f"unknown key {key!r}{hint}")
        return value

    def string(self, value: Any, path: Path, *, allow_empty: bool = False) -> str | None:
        if not isinstance(value, str):
            self.shape_error(path, f"expected a string, found {_type_name(value)}")
            return None
        if not allow_empty and not value.strip():
            self.shape_error(path, "must be a non-empty string")
            return None
        return value

    def identifier(self, value: Any, path: Path, what: str = "identifier") -> str | None:
        text = self.string(value, path)
        if text is not None and not IDENTIFIER.match(text):
            self.shape_error(path, f"{what} {text!r} must be lower_snake_case (a-z, 0-9, _)")
            return None
        return text

    def boolean(self, value: Any, path: Path, default: bool = False) -> bool:
        if value is None:
            return default
        if not isinstance(value, bool):
            self.shape_error(path, f"expected true or false, found {_type_name(value)} {value!r}")
            return default
        return value

    def integer(self, value: Any, path: Path) -> int | None:
        if not isinstance(value, int) or isinstance(value, bool):
            self.shape_error(path, f"expected an integer, found {_type_name(value)}")
            return None
        return value

    def text(self, value: Any, path: Path) -> Text | None:
        """A bilingual label ``{zh: ..., en: ...}``."""
        m = self.mapping(value, path, required=("zh", "en"))
        if m is None:
            return None
        zh = self.string(m.get("zh"), (*path, "zh")) if "zh" in m else None
        en = self.string(m.get("en"), (*path, "en")) if "en" in m else None
        if zh is None or en is None:
            return None
        return Text(zh, en)

    def string_list(self, value: Any, path: Path, *, identifiers: bool = False) -> list[str]:
        if value is None:
            return []
        if isinstance(value, str):
            value = [value]
        if not isinstance(value, list):
            self.shape_error(path, f"expected a list, found {_type_name(value)}")
            return []
        out: dict[str, None] = {}  # ordered, with constant-time membership: lists may be long
        for i, item in enumerate(value):
            got = self.identifier(item, (*path, i)) if identifiers else self.string(item, (*path, i))
            if got is not None:
                if got in out:
                    self.shape_error((*path, i), f"{got!r} is listed twice")
                else:
                    out[got] = None
        return list(out)

"""A cache of parsed and schema-checked definition files, by content hash, stored as data.

Parsing the YAML of a deployment and checking it against the JSON Schemas costs every command that
opens the definitions about 0.4 s (``jsonschema`` alone ~0.15 s to import). The result of those two
steps depends only on the file's exact text, its name, its kind, the schema of that kind and the
code of this loader, so it is kept in one JSON file per input under a key that hashes all of them:
any change of any input byte is a miss. Only documents without structural problems are kept (a
file with problems is parsed again, and its problems reported as ever). What comes back is plain
data (mappings, lists, strings, numbers), rebuilt into the same `YamlDocument`; the readers still
check its meaning, so the `Definitions` are built exactly as without the cache.

A cache file is never trusted: one that does not parse, names another key, or whose payload does
not match the SHA-256 in its header is ignored and rewritten. Writes go to a temporary file renamed
into place, so two processes writing the same entry are safe. The directory is ``$DECISIONS_CACHE``
(``off`` turns the cache off), else ``$XDG_CACHE_HOME/decisions``, else ``~/.cache/decisions``.
Like ``__pycache__``, it must be writable only by those who may change the definitions: a hand-made
entry with a matching header is accepted (its content still passes the readers' checks).
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import json
import os
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from decisions.loading.schema import Kind, Structure, check_structure, remember_structure, schema_text
from decisions.loading.yamlsafe import KeyPath, YamlDocument, load_yaml_text

__all__ = ["CACHE_ENV", "FORMAT", "cache_directory", "parse_checked"]

CACHE_ENV = "DECISIONS_CACHE"
FORMAT = "decisions-definition-cache/1"
_NO_STRUCTURE = Structure((), frozenset())


def cache_directory(environ: Mapping[str, str] | None = None) -> Path | None:
    """Where entries are kept; None when the cache is turned off (``DECISIONS_CACHE=off``)."""
    env = os.environ if environ is None else environ
    chosen = env.get(CACHE_ENV)
    if chosen:
        return None if chosen == "off" else Path(chosen)
    base = env.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "decisions"


@functools.cache
def _loader_digest() -> str | None:
    """SHA-256 of the package version and of the code that turns a text into a checked document;
    None (no cache) where that code cannot be read (an install without its ``.py`` files)."""
    import decisions
    from decisions.loading import schema, yamlsafe

    h = hashlib.sha256(f"{FORMAT}\n{decisions.__version__}\n".encode())
    try:
        for file in (yamlsafe.__file__, schema.__file__, __file__):
            h.update(Path(str(file)).read_bytes())
    except OSError:
        return None
    return h.hexdigest()


def entry_key(text: str, file: str, kind: Kind) -> str | None:
    """The key of one input: its text, name and kind, the schema of the kind, and the loader."""
    loader = _loader_digest()
    if loader is None:
        return None
    h = hashlib.sha256()
    for part in (loader, kind, file, schema_text(kind), text):
        encoded = part.encode("utf-8")
        h.update(len(encoded).to_bytes(8, "big"))
        h.update(encoded)
    return h.hexdigest()


def parse_checked(text: str, file: str, kind: Kind, where: Path | None) -> tuple[YamlDocument, Structure]:
    """`load_yaml_text` and `check_structure` of one definition text, through the cache in
    ``where`` (None: no cache). Raises `DefinitionError` exactly as they do."""
    key = entry_key(text, file, kind) if where is not None else None
    if where is not None and key is not None:
        found = _read(where / f"{key}.json", key, file, text)
        if found is not None:
            remember_structure(found, kind, _NO_STRUCTURE)  # the readers' own check is then a lookup
            return found, _NO_STRUCTURE
    doc = load_yaml_text(text, file)
    structure = check_structure(doc, kind)
    if where is not None and key is not None and not structure.problems:
        _write(where, key, doc)
    return doc, structure


# -- entries: a header line {format, key, sha256 of the payload}, then the payload ---------------


def _encode(value: Any) -> Any:
    """YAML data with integer keys as JSON that keeps them apart from string keys: ``["d", [[k, v],
    ...]]`` for a mapping, ``["l", [...]]`` for a list, scalars as themselves."""
    if isinstance(value, dict):
        return ["d", [[k, _encode(v)] for k, v in value.items()]]
    if isinstance(value, list):
        return ["l", [_encode(v) for v in value]]
    return value


class _Foreign(ValueError):
    """An entry that is not what this loader wrote."""


def _decode(value: Any) -> Any:
    if isinstance(value, list):
        if len(value) != 2 or not isinstance(value[1], list):
            raise _Foreign("malformed node")
        tag, items = value
        if tag == "l":
            return [_decode(v) for v in items]
        if tag != "d":
            raise _Foreign("unknown node tag")
        out: dict[str | int, Any] = {}
        for pair in items:
            if not isinstance(pair, list) or len(pair) != 2 or not _is_key(pair[0]) or pair[0] in out:
                raise _Foreign("malformed mapping")
            out[pair[0]] = _decode(pair[1])
        return out
    if value is None or isinstance(value, str | int | float):  # bool is an int
        return value
    raise _Foreign("unexpected value")


def _is_key(key: Any) -> bool:
    return isinstance(key, str) or (isinstance(key, int) and not isinstance(key, bool))


def _read(path: Path, key: str, file: str, text: str) -> YamlDocument | None:
    """The entry at ``path`` if it is whole and is the one for ``key``; None (a miss) otherwise."""
    try:
        raw = path.read_bytes()
        header_bytes, payload = raw.split(b"\n", 1)
        header = json.loads(header_bytes)
        if header != {"format": FORMAT, "key": key, "sha256": hashlib.sha256(payload).hexdigest()}:
            return None
        body = json.loads(payload)
        if not isinstance(body, dict) or body.get("file") != file:
            return None
        paths, numbers = body.get("paths"), body.get("lines")
        if not (isinstance(paths, list) and isinstance(numbers, list) and len(paths) == len(numbers)):
            return None
        if not all(type(n) is int for n in numbers) or {type(e) for p in paths for e in p} - {str, int}:
            return None
        lines: dict[KeyPath, int] = dict(zip(map(tuple, paths), numbers, strict=True))
        data = body.get("data") if body.get("plain") is True else _decode(body.get("tagged"))
        return YamlDocument(file=file, data=data, lines=lines, text=text)
    except (OSError, ValueError, TypeError, RecursionError):  # missing, torn, not JSON, foreign
        return None


def _has_integer_key(value: Any) -> bool:
    if isinstance(value, dict):
        return any(not isinstance(k, str) or _has_integer_key(v) for k, v in value.items())
    if isinstance(value, list):
        return any(_has_integer_key(v) for v in value)
    return False


def _write(directory: Path, key: str, doc: YamlDocument) -> None:
    """Store ``doc`` under ``key``: written to a temporary file and renamed into place. A cache that
    cannot be written (read-only, full) only costs the next run a parse."""
    body: dict[str, Any] = {"file": doc.file, "paths": [list(k) for k in doc.lines], "lines": list(doc.lines.values())}
    if _has_integer_key(doc.data):  # JSON would turn the keys into strings: each mapping tagged instead
        body["tagged"] = _encode(doc.data)
    else:  # the usual case: the data is JSON as it stands, and JSON gives back the same values
        body["plain"], body["data"] = True, doc.data
    payload = json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    header = json.dumps({"format": FORMAT, "key": key, "sha256": hashlib.sha256(payload).hexdigest()})
    tmp = ""
    try:
        directory.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{key[:16]}.", suffix=".tmp", dir=directory)
        with os.fdopen(fd, "wb") as out:
            out.write(header.encode("ascii") + b"\n" + payload)
        os.replace(tmp, directory / f"{key}.json")
    except OSError:
        if tmp:
            with contextlib.suppress(OSError):
                os.unlink(tmp)

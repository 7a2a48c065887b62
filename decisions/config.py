"""Deployment configuration: which workflows, rule packs and calendar file an office runs under.

Found, in order: an explicit path, ``$DECISIONS_CONFIG``, ``./decisions.yaml``, then the
``decisions.yaml`` shipped beside the package (national + Hunan + 攸县 packs).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from decisions.errors import DefinitionError
from decisions.loading.cache import cache_directory, parse_checked
from decisions.loading.reader import Reader
from decisions.loading.yamlsafe import read_text

__all__ = ["CONFIG_ENV", "Deployment", "find_config", "load_deployment", "shipped_root"]

CONFIG_ENV = "DECISIONS_CONFIG"
CONFIG_NAME = "decisions.yaml"


def shipped_root() -> Path:
    """The directory holding the shipped ``workflows/``, ``rules/`` and ``decisions.yaml``: the copy
    inside an installed wheel (``decisions/_shipped/``, written by setup.py), else the source checkout."""
    package = Path(__file__).resolve().parent
    inside = package / "_shipped"
    return inside if (inside / CONFIG_NAME).is_file() else package.parent


@dataclass(frozen=True)
class Deployment:
    """The definition files of one deployment, as absolute paths."""

    config: Path
    workflows: tuple[Path, ...]
    rule_packs: tuple[Path, ...]
    calendar: Path | None


def find_config(
    explicit: Path | None = None, environ: Mapping[str, str] | None = None, cwd: Path | None = None
) -> Path:
    env = os.environ if environ is None else environ
    if explicit is not None:
        return explicit
    if env.get(CONFIG_ENV):
        return Path(env[CONFIG_ENV])
    local = (cwd or Path.cwd()) / CONFIG_NAME
    return local if local.is_file() else shipped_root() / CONFIG_NAME


def load_deployment(path: Path) -> Deployment:
    """Read a deployment file; paths in it are relative to the file. Missing files are errors."""
    doc, structure = parse_checked(read_text(path, str(path)), str(path), "deployment", cache_directory())
    r = Reader(doc, structure)
    data = r.mapping(doc.data, (), required=("workflows", "rule_packs"), optional=("calendar",)) or {}
    base = path.resolve().parent

    def files(key: str) -> tuple[Path, ...]:
        out = []
        for i, name in enumerate(r.string_list(data.get(key), (key,))):
            p = base / name
            if not p.is_file():
                r.error((key, i), f"file not found: {p}")
            out.append(p)
        if not out and key in data:
            r.shape_error((key,), "lists at least one file")
        return tuple(out)

    workflows, packs = files("workflows"), files("rule_packs")
    calendar = None
    if data.get("calendar") is not None:
        name = r.string(data["calendar"], ("calendar",))
        if name is not None:
            calendar = base / name
            if not calendar.is_file():
                r.error(("calendar",), f"file not found: {calendar}")
    if r.problems:
        raise DefinitionError(r.problems)
    return Deployment(path.resolve(), workflows, packs, calendar)

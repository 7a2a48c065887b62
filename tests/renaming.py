"""The shipped deployment with its vocabulary renamed: the proof that the engine is general.

`renamed_tree` copies the deployment (``decisions.yaml``, ``workflows/``, ``rules/`` and ``demo/``
when it exists) and gives every state, trigger, record kind, field, document kind, role and enum
value of every shipped workflow an opaque name (``n_`` and six hex digits of its SHA-1), the same
new name wherever the old one appears: in the workflows, the rule packs and the demo scenarios.
The names are read from the loaded definitions, so a new workflow is covered without a change here.

The rewrite is structural: the YAML data is walked, never its text. Where a name may appear is
decided by position, not by section, so that sections added later are covered as they come:

- a mapping key is renamed when it is a vocabulary name and either not a keyword of the definition
  language (a property name of ``decisions/schemas/*.schema.json``), or its mapping lists names
  (`NAME_KEYED`: ``states:``, ``fields:``, ``sets:``, a count's ``where:`` ...), where a field may
  be called ``source`` or ``outcome`` like a keyword;
- a string value is renamed when it is a vocabulary name, unless it is free text or a name of
  another kind (`VERBATIM`: labels, messages, citations, rule ids, workflow names);
- a dotted fact path (``action.views.majority``, ``decision.category``) is renamed segment by
  segment after its namespace (``action``, ``decision``, ``catalogue`` are the engine's own);
- two special cases, names inside a string: a case-id template's ``{field.NAME}`` placeholder
  (``case: {id: "CAT-{field.year}"}``, renamed under any key), and a views value written as the CLI
  takes it in a demo scenario (``"张三:approve,王县长:approve:head"``: the positions are renamed).

One name is one new name whatever it names (a views position ``approve`` and the trigger
``approve`` both become ``n_…``): the copy stays consistent however the namespaces overlap. Stage,
gate and parameter names that coincide with a vocabulary name are renamed with it, consistently.
Workflow names are not renamed (they name the files' procedures, and the tests pick them by name).
Comments are lost in the copy (the YAML is written back with PyYAML's safe dumper).
"""

from __future__ import annotations

import hashlib
import json
import re
import shutil
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import yaml

from decisions.definitions import Definitions
from decisions.loading.yamlsafe import load_yaml_file
from decisions.rules.facts import FACTS
from decisions.workflow.definition import WorkflowDef

__all__ = ["KEYWORDS", "NAME_KEYED", "VERBATIM", "new_name", "rename_data", "renamed_tree", "vocabulary"]

ROOT = Path(__file__).resolve().parent.parent
SCHEMAS = ROOT / "decisions" / "schemas"
TREE = ("workflows", "rules", "demo")

NAME_KEYED = frozenset(
    {"states", "fields", "documents", "roles", "stages", "gates", "value_labels", "sets", "where", "passing_if"}
)
"""Keys whose mapping is keyed by names: its keys are renamed even where they look like keywords."""

VERBATIM = frozenset(
    {
        "zh", "en", "label", "message", "basis", "article", "article_en", "description", "heading", "say",
        "title_text", "sources", "name", "version", "citation", "id", "ids", "rules", "rule", "workflow",
        "type", "pack", "level", "effective_from", "strength", "workflows", "rule_packs", "calendar",
    }
)  # fmt: skip
"""Keys whose string values are not vocabulary: free text, citations, rule and pack ids, workflow
names, the definition language's own words (a field's ``type``). A mapping under them is still
walked (a label's ``zh``/``en`` are themselves verbatim)."""

_DOTTED = re.compile(r"^[a-z_][a-z0-9_]*(\.[a-z0-9_]+)+$")
_TEMPLATE_FIELD = re.compile(r"\{field\.([a-z0-9_]+)\}")
_VIEWS_TEXT = re.compile(r"^[^:,，\s]+:[a-z_][a-z0-9_]*(:head)?([,，]\s*[^:,，\s]+:[a-z_][a-z0-9_]*(:head)?)*$")
_VIEW = re.compile(r"((?:^|[,，]\s*)[^:,，\s]+:)([a-z_][a-z0-9_]*)")


def _schema_keywords() -> frozenset[str]:
    out: set[str] = set()

    def walk(x: Any) -> None:
        if isinstance(x, dict):
            props = x.get("properties")
            if isinstance(props, dict):
                out.update(props)
            for v in x.values():
                walk(v)
        elif isinstance(x, list):
            for v in x:
                walk(v)

    for f in sorted(SCHEMAS.glob("*.schema.json")):
        walk(json.loads(f.read_text(encoding="utf-8")))
    return frozenset(out)


KEYWORDS = _schema_keywords()
"""The definition language's own keys (every property name of the JSON Schemas)."""


def workflow_names(wf: WorkflowDef) -> set[str]:
    """Every state, trigger, record kind, field, enum value, document kind and role of ``wf``."""
    names: set[str] = set(wf.states) | set(wf.fields) | set(wf.documents) | set(wf.roles)
    for t in wf.transitions:
        names.update((t.trigger, t.record or t.trigger))
    for f in wf.fields.values():
        names.update(f.values)
        names.update(f.value_labels)
    return names


def vocabulary(definitions: Definitions) -> dict[str, str]:
    """old name → new name, for every name of every workflow of ``definitions``."""
    names: set[str] = set()
    for wf in definitions.workflows.values():
        names |= workflow_names(wf)
    names -= set(definitions.workflows)  # a workflow's name is not renamed (see the module docstring)
    mapping = {n: new_name(n) for n in sorted(names)}
    clashes = len(set(mapping.values())) != len(mapping) or set(mapping.values()) & names
    assert not clashes, "two names renamed alike: lengthen new_name's digest"
    return mapping


def new_name(name: str) -> str:
    return "n_" + hashlib.sha1(name.encode("utf-8")).hexdigest()[:6]


def _scalar(value: str, key: str | None, mapping: Mapping[str, str]) -> str:
    value = _TEMPLATE_FIELD.sub(lambda m: "{field." + mapping.get(m.group(1), m.group(1)) + "}", value)
    if key in VERBATIM:
        return value
    if value in mapping:
        return mapping[value]
    if _DOTTED.match(value) and value not in FACTS:  # a built-in fact (`action.unit`) is the language's
        head, *rest = value.split(".")
        return ".".join([head, *(mapping.get(s, s) for s in rest)])
    if _VIEWS_TEXT.match(value):
        return _VIEW.sub(lambda m: m.group(1) + mapping.get(m.group(2), m.group(2)), value)
    return value


def rename_data(data: Any, mapping: Mapping[str, str], key: str | None = None, listed: bool = False) -> Any:
    """``data`` (parsed YAML) with the names of ``mapping`` renamed. ``key``: the key it sits under;
    ``listed``: it is an item of the list under ``key`` (a demo's ``documents: [{kind, title}]`` is
    not keyed by names, the workflow's ``documents: {draft: ...}`` is)."""
    if isinstance(data, dict):
        keyed = key in NAME_KEYED and not listed
        out: dict[Any, Any] = {}
        for k, v in data.items():
            new_key = k
            if isinstance(k, str) and k in mapping and (keyed or k not in KEYWORDS):
                new_key = mapping[k]
            out[new_key] = rename_data(v, mapping, k if isinstance(k, str) else None)
        return out
    if isinstance(data, list):
        return [rename_data(v, mapping, key, listed=True) for v in data]
    if isinstance(data, str):
        return _scalar(data, key, mapping)
    return data


def _yaml_files(root: Path) -> Iterable[Path]:
    for sub in TREE:
        if (root / sub).is_dir():
            yield from sorted((root / sub).rglob("*.yaml"))


def renamed_tree(definitions: Definitions, into: Path, source: Path = ROOT) -> dict[str, str]:
    """Write the renamed copy of the deployment at ``source`` into ``into``; return old → new."""
    mapping = vocabulary(definitions)
    shutil.copy2(source / "decisions.yaml", into / "decisions.yaml")
    for f in _yaml_files(source):
        target = into / f.relative_to(source)
        target.parent.mkdir(parents=True, exist_ok=True)
        data = load_yaml_file(f).data  # read as the loader reads it (YAML 1.2: `on` is a string)
        text = yaml.safe_dump(
            rename_data(data, mapping), allow_unicode=True, sort_keys=False, default_flow_style=None, width=1 << 16
        )
        target.write_text(text, encoding="utf-8")
    return mapping

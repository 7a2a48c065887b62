"""The JSON Schemas of the command line's ``--json`` views (``decisions/schemas/cli/``), as validators."""

from __future__ import annotations

import functools
import json
from pathlib import Path
from typing import Any

import jsonschema
from referencing import Registry, Resource

import decisions

SCHEMAS = Path(decisions.__file__).parent / "schemas" / "cli"


@functools.cache
def _registry() -> Registry[Any]:
    resources = []
    for path in sorted(SCHEMAS.glob("*.schema.json")):
        schema = json.loads(path.read_text(encoding="utf-8"))
        resources += [(schema["$id"], Resource.from_contents(schema)), (path.name, Resource.from_contents(schema))]
    return Registry().with_resources(resources)


def validator(name: str) -> jsonschema.Draft202012Validator:
    """The validator of ``decisions/schemas/cli/<name>`` (references between the files resolved)."""
    schema = json.loads((SCHEMAS / name).read_text(encoding="utf-8"))
    jsonschema.Draft202012Validator.check_schema(schema)
    return jsonschema.Draft202012Validator(schema, registry=_registry())


def validate(name: str, payload: Any) -> None:
    """Raise unless ``payload`` has the shape ``name`` documents."""
    validator(name).validate(payload)

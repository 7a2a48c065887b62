"""decisions: an engine for China's major administrative decision procedure (重大行政决策程序).

The public surface is below and in `__all__`; everything else is internal and may change. Names are
imported on first use (PEP 562), so ``import decisions`` loads nothing heavy: a command that never
touches the database never imports the store.

- `Office`: the service layer as one object (what the CLI uses; the Python API for scripts);
- `Definitions`, `load_definitions`, `load_deployment`, `find_config`: definitions and deployments;
- `Action`, `Actor`, `Case`, `Document`, `Record`, `Text`: the domain values;
- `ActionSchema`: what an action takes (`Office.action_schema`, `Office.start_schema`); `Remedy`: how
  to meet an unmet requirement (`Unmet.remedy`);
- the error hierarchy, rooted at `DecisionsError` (see `decisions.errors`).
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

_EXPORTS = {
    "ActionRefused": "decisions.errors",
    "ActionSchema": "decisions.workflow.needs",
    "Action": "decisions.model",
    "Actor": "decisions.model",
    "CalendarYearUnknown": "decisions.errors",
    "Case": "decisions.model",
    "ConflictError": "decisions.errors",
    "DecisionsError": "decisions.errors",
    "DefinitionError": "decisions.errors",
    "Definitions": "decisions.definitions",
    "Document": "decisions.model",
    "IntegrityError": "decisions.errors",
    "Office": "decisions.service.office",
    "Record": "decisions.model",
    "Remedy": "decisions.errors",
    "StoreError": "decisions.errors",
    "Text": "decisions.model",
    "UnknownName": "decisions.errors",
    "Unmet": "decisions.errors",
    "UsageError": "decisions.errors",
    "find_config": "decisions.config",
    "load_definitions": "decisions.loading",
    "load_deployment": "decisions.config",
}

__all__ = [
    "Action",
    "ActionRefused",
    "ActionSchema",
    "Actor",
    "CalendarYearUnknown",
    "Case",
    "ConflictError",
    "DecisionsError",
    "DefinitionError",
    "Definitions",
    "Document",
    "IntegrityError",
    "Office",
    "Record",
    "Remedy",
    "StoreError",
    "Text",
    "UnknownName",
    "Unmet",
    "UsageError",
    "__version__",
    "find_config",
    "load_definitions",
    "load_deployment",
]

if TYPE_CHECKING:
    from decisions.config import find_config, load_deployment
    from decisions.definitions import Definitions
    from decisions.errors import (
        ActionRefused,
        CalendarYearUnknown,
        ConflictError,
        DecisionsError,
        DefinitionError,
        IntegrityError,
        Remedy,
        StoreError,
        UnknownName,
        Unmet,
        UsageError,
    )
    from decisions.loading import load_definitions
    from decisions.model import Action, Actor, Case, Document, Record, Text
    from decisions.service.office import Office
    from decisions.workflow.needs import ActionSchema


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'decisions' has no attribute {name!r}")
    value = getattr(import_module(module), name)
    globals()[name] = value  # later lookups skip this hook
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))

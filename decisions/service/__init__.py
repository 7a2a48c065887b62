"""The service layer: the one place that loads, calls the core and commits.

The CLI and any web app call only this layer. Names are imported on first use, so a command that
only checks definitions (`DefinitionsService`) never imports the store.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

_EXPORTS = {
    "CaseService": "decisions.service.cases",
    "CaseView": "decisions.service.cases",
    "CheckReport": "decisions.service.definitions",
    "DefinitionsService": "decisions.service.definitions",
    "FileCheck": "decisions.service.definitions",
}

__all__ = ["CaseService", "CaseView", "CheckReport", "DefinitionsService", "FileCheck"]

if TYPE_CHECKING:
    from decisions.service.cases import CaseService, CaseView
    from decisions.service.definitions import CheckReport, DefinitionsService, FileCheck


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'decisions.service' has no attribute {name!r}")
    value = getattr(import_module(module), name)
    globals()[name] = value
    return value

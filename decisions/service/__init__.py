"""The service layer: the one place that loads, calls the core and (later) commits.

The CLI and any web app call only this layer.
"""

from decisions.service.cases import CaseService, CaseView
from decisions.service.definitions import CheckReport, DefinitionsService, FileCheck

__all__ = ["CaseService", "CaseView", "CheckReport", "DefinitionsService", "FileCheck"]

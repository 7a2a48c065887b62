"""The annual 法治政府建设 report: what each workflow declares it counts (`spec`), the figures computed
from the histories (`figures`), their charts (`charts`) and exports (`export`). See docs/report.md.

Importing the package loads nothing heavy: matplotlib and openpyxl are imported by the modules that
draw and export, when they are used."""

from __future__ import annotations

from decisions.report.spec import FIGURE_KINDS, OUTCOME_KINDS, ReportSpec, ReviewMinimum, Shortened

__all__ = ["FIGURE_KINDS", "OUTCOME_KINDS", "ReportSpec", "ReviewMinimum", "Shortened"]

"""What a workflow's records count for in the annual report (its ``report:`` section), pure data.

The figure kinds are the engine's vocabulary (a closed set, each defined in docs/report.md); which
triggers, fields, states and pack parameters feed them is the workflow's, declared in its YAML and
checked at load by `decisions.loading.report_spec`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

__all__ = ["FIGURE_KINDS", "OUTCOME_KINDS", "ReportSpec", "ReviewMinimum", "Shortened"]

OUTCOME_KINDS: tuple[str, ...] = (
    "review_lawful",
    "review_risk_disclosed",
    "review_needs_revision",
    "review_unlawful",
)
"""The kinds whose records are a legality review's opinion (each ends the review a submission opened)."""

FIGURE_KINDS: tuple[str, ...] = (
    "review_submitted",
    "review_returned",
    *OUTCOME_KINDS,
    "procedure_consultation",
    "procedure_hearing",
    "procedure_expert_argumentation",
    "procedure_risk_assessment",
    "procedure_party_report",
    "execution_reported",
    "evaluation_done",
)
"""Every kind of record the report counts, in the order it prints them."""


@dataclass(frozen=True)
class Shortened:
    """A shortened period (缩短期限) and its reason: the records of ``triggers`` that carry ``reason``."""

    triggers: frozenset[str]
    reason: str


@dataclass(frozen=True)
class ReviewMinimum:
    """The review's minimum time: a submission whose ``due`` date leaves fewer working days than the
    pack parameter ``parameter`` gave the reviewer less than the minimum."""

    parameter: str
    due: str


@dataclass(frozen=True)
class ReportSpec:
    """A workflow's ``report:`` section.

    ``counts``: figure kind → the triggers whose records it counts. ``unit`` / ``category``: the case
    attributes naming the responsible unit and the category (empty: the unit of the person who
    started the case; no category). ``execution_in``: the states in which a case owes execution
    reports. ``item_unit``: for a catalogue, the item field naming the unit responsible."""

    counts: Mapping[str, frozenset[str]] = field(default_factory=dict)
    unit: str = ""
    category: str = ""
    shortened: Shortened | None = None
    review_minimum: ReviewMinimum | None = None
    execution_in: frozenset[str] = frozenset()
    item_unit: str = ""

    def kind_of(self, trigger: str) -> str | None:
        """The figure kind a record of ``trigger`` counts for (none: it counts for none)."""
        for kind in FIGURE_KINDS:
            if trigger in self.counts.get(kind, ()):
                return kind
        return None

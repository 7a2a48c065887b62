"""The annual report's charts, where a picture reads better than a table (matplotlib, Agg: no display).

Pure in the house's sense: figures in, image bytes out (nothing is written to disk here; the CLI
writes the files, the web page inlines them). Three charts: legality reviews per month (opinions
given, each reviewing workflow a stacked bar), review outcomes per workflow, catalogue completion.
"""

from __future__ import annotations

import io
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from decisions.model import Text
from decisions.report.figures import KIND_LABELS, Report
from decisions.report.spec import OUTCOME_KINDS

if TYPE_CHECKING:
    from matplotlib.figure import Figure

__all__ = ["CHART_FORMATS", "CHART_NAMES", "chart_titles", "charts"]

CHART_FORMATS = ("png", "svg")
CHART_NAMES = ("reviews-per-month", "review-outcomes", "catalogue-completion")
_FONTS = ["Noto Sans CJK SC", "Noto Sans CJK JP", "Noto Serif CJK SC", "WenQuanYi Zen Hei", "DejaVu Sans"]
_COLOURS = ["#1f5c99", "#c0392b", "#2e8b57", "#d68910", "#7d3c98", "#566573"]
_OUTCOME_COLOURS = {
    "review_lawful": "#2e8b57",
    "review_risk_disclosed": "#d68910",
    "review_needs_revision": "#1f5c99",
    "review_unlawful": "#c0392b",
}


def chart_titles(report: Report) -> dict[str, Text]:
    """Each chart's title (zh / en), by name."""
    scope = f"（{report.unit}）" if report.unit else ""
    return {
        "reviews-per-month": Text(
            f"{report.year} 年合法性审查意见（按月）{scope}", f"{report.year}: legality review opinions per month"
        ),
        "review-outcomes": Text(f"{report.year} 年合法性审查结论{scope}", f"{report.year}: legality review outcomes"),
        "catalogue-completion": Text(
            f"{report.year} 年度目录事项完成情况{scope}", f"{report.year}: catalogue items, done and carried over"
        ),
    }


def _label(text: Text) -> str:
    return f"{text.zh} / {text.en}"


def _reviews_per_month(report: Report, fig: Figure) -> None:
    from matplotlib.ticker import MaxNLocator

    ax = fig.subplots()
    months = list(range(1, 13))
    bottom = [0] * 12
    for i, reviews in enumerate(report.reviews):
        ax.bar(months, reviews.by_month, bottom=bottom, label=reviews.label.zh, color=_COLOURS[i % len(_COLOURS)])
        bottom = [b + n for b, n in zip(bottom, reviews.by_month, strict=True)]
    ax.set_xticks(months, [f"{m}月" for m in months])
    ax.set_ylabel("审查意见 / opinions")
    ax.yaxis.set_major_locator(MaxNLocator(integer=True))
    if report.reviews:
        ax.legend(fontsize="small")


def _review_outcomes(report: Report, fig: Figure) -> None:
    from matplotlib.ticker import MaxNLocator

    ax = fig.subplots()
    names = [r.label.zh for r in report.reviews]
    left = [0] * len(report.reviews)
    for kind in OUTCOME_KINDS:
        counts = [r.counts.get(kind, 0) for r in report.reviews]
        if not any(counts):
            continue
        ax.barh(names, counts, left=left, label=_label(KIND_LABELS[kind]), color=_OUTCOME_COLOURS[kind])
        left = [a + b for a, b in zip(left, counts, strict=True)]
    ax.invert_yaxis()
    ax.set_xlabel("审查意见 / opinions")
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    if any(left):
        ax.legend(fontsize="small")


def _catalogue_completion(report: Report, fig: Figure) -> None:
    from matplotlib.ticker import MaxNLocator

    ax = fig.subplots()
    names = [f"{c.case_id} {c.label.zh}" for c in report.catalogues]
    done = [len(c.done) for c in report.catalogues]
    overdue = [len(c.overdue) for c in report.catalogues]
    carried = [len(c.carried_over) - len(c.overdue) for c in report.catalogues]
    stacked = [a + b for a, b in zip(done, carried, strict=True)]
    ax.barh(names, done, height=0.5, label="已完成 / done", color="#2e8b57")
    ax.barh(names, carried, height=0.5, left=done, label="结转（未逾期）/ carried over, not yet due", color="#d68910")
    ax.barh(names, overdue, height=0.5, left=stacked, label="久拖不决 / overdue", color="#c0392b")
    ax.invert_yaxis()
    ax.set_xlabel("目录事项 / catalogue items")
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    if report.catalogues:
        fig.legend(loc="outside lower center", ncols=3, fontsize="small")


_KEPT = 16
_DRAWN: dict[tuple[str, str], dict[str, bytes]] = {}
"""The charts of the last figures drawn (a page shown again draws nothing: the same figures, the same bytes)."""
_LOCK = threading.Lock()  # rc_context changes matplotlib's global settings: one drawing at a time

_DRAW: dict[str, Callable[[Report, Any], None]] = {
    "reviews-per-month": _reviews_per_month,
    "review-outcomes": _review_outcomes,
    "catalogue-completion": _catalogue_completion,
}


def charts(report: Report, fmt: str = "png") -> dict[str, bytes]:
    """Every chart of ``report`` as ``fmt`` (png or svg), by file name (``reviews-per-month.png`` ...)."""
    if fmt not in CHART_FORMATS:
        raise ValueError(f"chart format {fmt!r} is not one of {CHART_FORMATS}")
    from matplotlib import rc_context
    from matplotlib.figure import Figure

    key = (repr(report), fmt)
    with _LOCK:
        if key in _DRAWN:
            return dict(_DRAWN[key])
    titles = chart_titles(report)
    out: dict[str, bytes] = {}
    settings: Any = {
        "font.family": "sans-serif",
        "font.sans-serif": _FONTS,
        "svg.hashsalt": "decisions",
        "axes.unicode_minus": False,
    }
    with _LOCK, rc_context(settings):
        for name in CHART_NAMES:
            fig = Figure(figsize=(8, 4.2), dpi=100, layout="constrained")
            _DRAW[name](report, fig)
            fig.suptitle(_label(titles[name]))
            buffer = io.BytesIO()
            metadata = {"Date": None} if fmt == "svg" else {"Software": None}
            fig.savefig(buffer, format=fmt, metadata=metadata)
            out[f"{name}.{fmt}"] = buffer.getvalue()
        if len(_DRAWN) >= _KEPT:
            _DRAWN.pop(next(iter(_DRAWN)))
        _DRAWN[key] = dict(out)
    return out

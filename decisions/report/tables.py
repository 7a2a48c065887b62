"""The annual report's figures as tables (title, header, rows) in one language: what the CLI prints,
the spreadsheet's sheets and the HTML page's tables are made from these, so they say the same
(pure: figures in, text out)."""

from __future__ import annotations

from dataclasses import dataclass

from decisions.model import Text
from decisions.report.figures import KIND_LABELS, Report
from decisions.report.spec import FIGURE_KINDS

__all__ = ["Table", "in_language", "report_tables", "report_title"]

Cell = str | int | float


@dataclass(frozen=True)
class Table:
    """One table: its sheet name (short, ASCII), title, header and rows."""

    sheet: str
    title: str
    header: tuple[str, ...]
    rows: tuple[tuple[Cell, ...], ...]


def in_language(text: Text, language: str) -> str:
    """``text`` in ``language`` (``zh``, ``en``, or ``both``: 中文 / English)."""
    if language == "en":
        return text.en
    if language == "zh":
        return text.zh
    return text.zh if text.zh == text.en else f"{text.zh} / {text.en}"


def report_title(report: Report, language: str) -> str:
    scope = f" — {report.unit}" if report.unit else ""
    return in_language(
        Text(
            f"{report.year} 年度法治政府建设报告数据（截至 {report.as_of.isoformat()}）{scope}",
            f"{report.year} rule-of-law government report figures (as of {report.as_of.isoformat()}){scope}",
        ),
        language,
    )


def _none(value: float | int | None) -> Cell:
    return "—" if value is None else value


def report_tables(report: Report, language: str = "zh") -> list[Table]:
    """Every table of ``report``, in the order the report reads: decisions, catalogue, reviews,
    procedures and shortened periods, execution."""

    def t(zh: str, en: str) -> str:
        return in_language(Text(zh, en), language)

    wf_header = t("程序", "workflow")
    out: list[Table] = []
    out.append(
        Table(
            "decisions",
            t("办理的事项（按阶段）", "matters handled, by stage"),
            (wf_header, t("阶段", "stage"), t("件数", "cases")),
            tuple(
                (in_language(d.label, language), in_language(label, language), n)
                for d in report.decisions
                for _, label, n in d.by_stage
            ),
        )
    )
    out.append(
        Table(
            "categories",
            t("办理的事项（按类别）", "matters handled, by category"),
            (wf_header, t("类别", "category value"), t("件数", "cases")),
            tuple(
                (in_language(d.label, language), in_language(label, language), n)
                for d in report.decisions
                for _, label, n in d.by_category
            ),
        )
    )
    out.append(
        Table(
            "by_unit",
            t("办理的事项（按单位）", "matters handled, by unit"),
            (wf_header, t("单位", "unit"), t("件数", "cases")),
            tuple((in_language(d.label, language), unit or "—", n) for d in report.decisions for unit, n in d.by_unit),
        )
    )
    out.append(
        Table(
            "catalogue",
            t("年度目录事项", "catalogue items"),
            (
                t("目录", "catalogue"),
                t("计划", "planned"),
                t("已完成", "done"),
                t("结转", "carried over"),
                t("久拖不决", "overdue"),
                t("久拖不决事项", "overdue items"),
            ),
            tuple(
                (
                    c.case_id,
                    len(c.planned),
                    len(c.done),
                    len(c.carried_over),
                    len(c.overdue),
                    "；".join(f"{i} {name}（{due.isoformat()}）" for i, name, due in c.overdue),
                )
                for c in report.catalogues
            ),
        )
    )
    review_kinds = [k for k in FIGURE_KINDS if k.startswith("review_")]
    review_rows: list[tuple[str, list[Cell]]] = [
        *(
            (in_language(KIND_LABELS[k], language), [_none(r.counts.get(k)) for r in report.reviews])
            for k in review_kinds
        ),
        (
            t("平均审查时间（工作日）", "average review time (working days)"),
            [_none(r.average_days) for r in report.reviews],
        ),
        (
            t("最长审查时间（工作日）", "longest review time (working days)"),
            [_none(r.longest_days) for r in report.reviews],
        ),
        (
            t("审查时间少于最低时限", "given less than the minimum time"),
            [_none(r.below_minimum) for r in report.reviews],
        ),
        (t("最低时限（工作日）", "minimum (working days)"), [_none(r.minimum) for r in report.reviews]),
    ]
    out.append(
        Table(
            "reviews",
            t("合法性审查", "legality reviews"),
            (t("项目", "figure"), *(in_language(r.label, language) for r in report.reviews)),
            tuple((name, *cells) for name, cells in review_rows),
        )
    )
    procedure_kinds = [k for k in FIGURE_KINDS if k.startswith("procedure_")]
    procedure_rows: list[tuple[str, list[Cell]]] = [
        *(
            (in_language(KIND_LABELS[k], language), [_none(p.counts.get(k)) for p in report.procedures])
            for k in procedure_kinds
        ),
        (t("缩短期限", "shortened periods"), [len(p.shortened) for p in report.procedures]),
    ]
    out.append(
        Table(
            "procedures",
            t("履行的法定程序", "procedures performed"),
            (t("项目", "figure"), *(in_language(p.label, language) for p in report.procedures)),
            tuple((name, *cells) for name, cells in procedure_rows),
        )
    )
    out.append(
        Table(
            "shortened",
            t("缩短的期限及其理由", "shortened periods and their reasons"),
            (wf_header, t("案卷", "case"), t("日期", "date"), t("理由", "reason given")),
            tuple(
                (in_language(p.label, language), s.case_id, s.on.isoformat(), s.reason)
                for p in report.procedures
                for s in p.shortened
            ),
        )
    )
    out.append(
        Table(
            "execution_reports",
            t("决策执行与后评估", "execution and evaluation"),
            (
                wf_header,
                in_language(KIND_LABELS["execution_reported"], language),
                t("缺少执行情况报告", "execution reports missing"),
                t("缺少报告的案卷", "cases without a report"),
                in_language(KIND_LABELS["evaluation_done"], language),
            ),
            tuple(
                (in_language(e.label, language), e.reports, len(e.missing), "、".join(e.missing), e.evaluations)
                for e in report.execution
            ),
        )
    )
    return out

"""The annual report (issue 16 item 3, docs/report.md): `decisions report 2025` on the demo's year
gives figures that this file recomputes on its own from the stored event rows (read through the
store, never through decisions.report), on SQLite and PostgreSQL; the spreadsheet reads back with
openpyxl, the HTML page parses with its tables and inlined charts; the charts are real PNG and SVG;
a unit narrows every figure; what each workflow counts is declared in its YAML and checked at load.

Every workflow name here goes through `tests.support.V`: the file runs again under renamed names
(tests/test_vocabulary.py)."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from collections import Counter
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import date
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest
from openpyxl import load_workbook
from typer.testing import CliRunner

from decisions.cli import app, exit_code
from decisions.definitions import Definitions
from decisions.demo import run_demo
from decisions.errors import UnknownName, UsageError
from decisions.loading.scenarios import load_scenarios
from decisions.model import ERRATUM
from decisions.service.office import Office
from decisions.store.database import Database
from decisions.store.memory import memory_store
from tests.json_schemas import validate
from tests.stores import BACKENDS, fixed_clock, new_database_url, play, play_catalogue
from tests.support import DEPLOYMENT, MAIN_PATH, TREE, V, shipped_definitions

runner = CliRunner()
YEAR = 2025
END = date(2025, 12, 31)  # the fixed clock reads 2026-01-05: the whole year counts

# -- what this file itself holds each figure to be fed by (the shipped names, through V) -----------

MD, ND, EN, HT, CAT = "major_decision", "normative_document", "enforcement_decision", "government_contract", "catalogue"
UNIT_AND_CATEGORY = {
    MD: ("organiser_unit", "category"),
    ND: ("drafting_unit", "issuer"),
    EN: (None, "action_type"),
    HT: ("organiser_unit", "contract_kind"),
}
REVIEWS = {
    MD: {
        "review_submitted": ["submit_legality_review", "resubmit_legality_review"],
        "review_returned": ["return_submission", "request_supplement"],
        "review_lawful": ["find_lawful"],
        "review_risk_disclosed": ["find_legal_risk"],
        "review_needs_revision": ["find_needs_revision"],
        "review_unlawful": ["find_unlawful"],
    },
    ND: {
        "review_submitted": ["submit_for_review"],
        "review_returned": ["return_incomplete", "return_submission", "request_supplement"],
        "review_lawful": ["find_lawful"],
        "review_needs_revision": ["find_needs_revision"],
        "review_unlawful": ["find_unlawful"],
    },
    EN: {
        "review_submitted": ["submit_for_review", "resubmit_for_review"],
        "review_returned": ["return_incomplete", "request_supplement", "return_unsupplemented"],
        "review_lawful": ["agree"],
        "review_needs_revision": ["find_problems"],
    },
    HT: {
        "review_submitted": ["submit_for_review", "resubmit_for_review"],
        "review_returned": ["return_submission"],
        "review_lawful": ["find_approve"],
        "review_needs_revision": ["find_revise"],
        "review_unlawful": ["find_not_advisable"],
    },
}
MINIMUM = {MD: ("legality_review_working_days", "review_due"), ND: ("nd_review_min_working_days", "review_due")}
PROCEDURES = {
    MD: {
        "procedure_consultation": ["open_consultation"],
        "procedure_hearing": ["hold_hearing"],
        "procedure_expert_argumentation": ["conclude_expert_argumentation"],
        "procedure_risk_assessment": ["complete_risk_assessment", "reference_prior_risk_assessment"],
        "procedure_party_report": ["report_to_party_committee"],
    },
    ND: {"procedure_consultation": ["open_comment"]},
}
SHORTENED = {
    MD: (["open_consultation", "change_comment_period"], "shortening_reason"),
    ND: (["open_comment", "change_comment_period"], "shortening_reason"),
}
EXECUTION = {MD: ("report_execution", "complete_post_evaluation", ["executing"])}
OUTCOMES = ("review_lawful", "review_risk_disclosed", "review_needs_revision", "review_unlawful")


@dataclass
class Row:
    """One stored event as this file reads it back (errata applied by this file, not by the engine)."""

    seq: int
    trigger: str
    on: date
    to: str
    unit: str
    fields: dict[str, Any] = field(default_factory=dict)


def stored_histories(office: Office) -> dict[str, tuple[str, list[Row]]]:
    """case id → (workflow, its rows), from the store's event rows (their JSON bodies)."""
    cases: dict[str, tuple[str, list[Row]]] = {}
    errata: list[dict[str, Any]] = []
    for event in office.cases.repository.iter_events():
        body = json.loads(event.body)
        if body["trigger"] == ERRATUM:
            errata.append(body)
            continue
        row = Row(body["seq"], body["trigger"], date.fromisoformat(body["on"]), body["to"], body.get("unit") or "")
        row.fields = dict(body.get("fields") or {})
        cases.setdefault(body["case"], (body["workflow"], []))[1].append(row)
    for body in errata:
        fix = body["erratum"]
        (row,) = [r for r in cases[body["case"]][1] if r.seq == fix["corrects"]]
        row.fields.update(fix.get("fields") or {})
        if fix.get("on"):
            row.on = date.fromisoformat(fix["on"])
    for _, rows in cases.values():
        rows.sort(key=lambda r: r.seq)
    return cases


def latest(rows: list[Row], name: str) -> Any:
    values = [r.fields[name] for r in rows if name in r.fields]
    return values[-1] if values else None


def names(triggers: list[str]) -> set[str]:
    return {V(t) for t in triggers}


def working_days(definitions: Definitions, start: date, end: date) -> int:
    return definitions.calendar.working_days_between(start, end)


def expected(office: Office, unit: str | None = None) -> dict[str, Any]:
    """Every figure of the year, recomputed from the event rows by this file's own reading."""
    definitions = office.definitions
    histories = stored_histories(office)
    out: dict[str, Any] = {"decisions": {}, "reviews": {}, "procedures": {}, "execution": {}}
    counted: dict[str, list[tuple[str, list[Row]]]] = {}
    for case_id, (workflow, rows) in sorted(histories.items()):
        rows = [r for r in rows if r.on <= END]
        if workflow == CAT or not any(r.on.year == YEAR for r in rows):
            continue
        unit_field, _ = UNIT_AND_CATEGORY[workflow]
        case_unit = (latest(rows, V(unit_field)) if unit_field else None) or rows[0].unit
        if unit is None or case_unit == unit:
            counted.setdefault(workflow, []).append((case_id, rows))
    for workflow, cases in counted.items():
        wf = definitions.workflow(workflow)
        unit_field, category = UNIT_AND_CATEGORY[workflow]
        out["decisions"][workflow] = {
            "cases": len(cases),
            "by_stage": Counter(wf.states[rows[-1].to].stage for _, rows in cases),
            "by_category": Counter(str(latest(rows, V(category)) or "") for _, rows in cases),
            "by_unit": Counter(
                (latest(rows, V(unit_field)) if unit_field else None) or rows[0].unit for _, rows in cases
            ),
        }
        in_year = [r for _, rows in cases for r in rows if r.on.year == YEAR]
        kinds = REVIEWS[workflow]
        counts = {kind: sum(r.trigger in names(ts) for r in in_year) for kind, ts in kinds.items()}
        days, below, months = [], 0, [0] * 12
        outcomes = set().union(*(names(kinds[k]) for k in OUTCOMES if k in kinds))
        parameter, due_field = MINIMUM.get(workflow, (None, None))
        minimum = definitions.rulebook.parameters[parameter].value if parameter else None
        for _, rows in cases:
            submitted: Row | None = None
            for r in rows:
                if r.trigger in names(kinds["review_submitted"]):
                    submitted = r
                    if minimum is not None and r.on.year == YEAR:
                        below += working_days(definitions, r.on, date.fromisoformat(r.fields[V(due_field)])) < minimum
                elif r.trigger in outcomes:
                    if r.on.year == YEAR:
                        months[r.on.month - 1] += 1
                        if submitted is not None:
                            days.append(working_days(definitions, submitted.on, r.on))
                    submitted = None
        out["reviews"][workflow] = {
            "counts": counts,
            "review_days": days,
            "average_days": round(sum(days) / len(days), 1) if days else None,
            "longest_days": max(days) if days else None,
            "below_minimum": below if minimum is not None else None,
            "minimum": minimum,
            "by_month": months,
        }
        if workflow in PROCEDURES:
            triggers, reason = SHORTENED[workflow]
            out["procedures"][workflow] = {
                "counts": {
                    kind: sum(r.trigger in names(ts) for r in in_year) for kind, ts in PROCEDURES[workflow].items()
                },
                "shortened": sorted(
                    (r.on.isoformat(), case_id, r.fields[V(reason)])
                    for case_id, rows in cases
                    for r in rows
                    if r.on.year == YEAR and r.trigger in names(triggers) and str(r.fields.get(V(reason)) or "").strip()
                ),
            }
        if workflow in EXECUTION:
            report, evaluation, owing = EXECUTION[workflow]
            out["execution"][workflow] = {
                "reports": sum(r.trigger == V(report) for r in in_year),
                "evaluations": sum(r.trigger == V(evaluation) for r in in_year),
                "missing": sorted(
                    case_id
                    for case_id, rows in cases
                    if rows[-1].to in names(owing)
                    and not any(r.on.year == YEAR and r.trigger == V(report) for r in rows)
                ),
            }
    out["catalogue"] = expected_catalogue(definitions, histories, unit)
    return out


def expected_catalogue(
    definitions: Definitions, histories: Mapping[str, tuple[str, list[Row]]], unit: str | None
) -> dict[str, Any]:
    """The published catalogue's items, read off the catalogue's rows: screened in, added or removed
    by a published adjustment; done when a decision naming the item reached a decided state."""
    _, rows = histories[f"CAT-{YEAR}"]
    items: dict[str, dict[str, Any]] = {}
    suggested = {r.fields[V("item_id")]: r.fields for r in rows if r.trigger == V("suggest_item")}
    pending: list[Row] = []
    for r in rows:
        if r.trigger == V("screen_item") and r.fields[V("screening_result")] == V("include"):
            items[r.fields[V("item_id")]] = suggested[r.fields[V("item_id")]]
        elif r.trigger == V("request_adjustment"):
            pending.append(r)
        elif r.trigger == V("publish_adjustment"):
            for p in pending:
                if p.fields[V("adjustment_kind")] == V("add"):
                    items[p.fields[V("item_id")]] = p.fields
                else:
                    items.pop(p.fields[V("item_id")], None)
            pending = []
    if unit is not None:
        items = {i: f for i, f in items.items() if f[V("organiser_unit")] == unit}
    decided_states = definitions.workflow(MD).decided_states
    decided = {
        latest(rs, V("catalogue_item"))
        for wf, rs in histories.values()
        if wf == MD and any(r.to in decided_states and r.on <= END for r in rs)
    }
    carried = sorted(i for i in items if i not in decided)
    return {
        "case": f"CAT-{YEAR}",
        "planned": sorted(items),
        "done": sorted(i for i in items if i in decided),
        "carried_over": carried,
        "overdue": sorted(i for i in carried if date.fromisoformat(items[i][V("planned_by")]) < END),
    }


def actual(payload: dict[str, Any]) -> dict[str, Any]:
    """The figures of ``report --format json`` in the shape of `expected`."""
    out: dict[str, Any] = {
        "decisions": {
            d["workflow"]: {
                "cases": d["cases"],
                "by_stage": Counter({s["stage"]: s["cases"] for s in d["by_stage"]}),
                "by_category": Counter({c["value"]: c["cases"] for c in d["by_category"]}),
                "by_unit": Counter({u["unit"]: u["cases"] for u in d["by_unit"]}),
            }
            for d in payload["decisions"]
        },
        "reviews": {r.pop("workflow"): {k: v for k, v in r.items() if k != "label"} for r in payload["reviews"]},
        "procedures": {
            p["workflow"]: {
                "counts": p["counts"],
                "shortened": sorted((s["on"], s["case"], s["reason_given"]) for s in p["shortened"]),
            }
            for p in payload["procedures"]
        },
        "execution": {
            e["workflow"]: {k: e[k] for k in ("reports", "evaluations", "missing")} for e in payload["executions"]
        },
    }
    (catalogue,) = payload["catalogues"]
    out["catalogue"] = {
        "case": catalogue["case"],
        "planned": sorted(catalogue["planned_items"]),
        "done": sorted(catalogue["done_items"]),
        "carried_over": sorted(catalogue["carried_over_items"]),
        "overdue": sorted(o["item"] for o in catalogue["overdue_items"]),
    }
    return out


# -- the demo's year, on both databases ---------------------------------------------------------------


@pytest.fixture(scope="module", params=BACKENDS)
def demo(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Office]]:
    """The demo's scenario files (renamed with the definitions, when they are) played on a fresh database."""
    tmp = tmp_path_factory.mktemp(f"report-{request.param}")
    for url in new_database_url(request.param, tmp):
        database = Database(url, documents=tmp / "documents")
        database.migrate()
        office = Office(database, shipped_definitions(), clock=fixed_clock)
        run_demo(office, lambda line: None, load_scenarios(TREE / "demo"))
        yield url, office
        database.dispose()


def report_json(url: str, *args: str) -> dict[str, Any]:
    result = runner.invoke(
        app, ["report", str(YEAR), "--format", "json", "--db", url, "--config", str(DEPLOYMENT), *args]
    )
    assert result.exit_code == 0, result.output
    payload = json.loads(result.stdout)
    validate("report.schema.json", payload)
    return payload


def test_every_figure_of_the_demo_year_is_what_the_stored_events_say(demo: tuple[str, Office]) -> None:
    url, office = demo
    payload = report_json(url)
    assert payload["year"] == YEAR and payload["as_of"] == END.isoformat() and payload["unit"] is None
    want = expected(office)
    assert actual(payload) == want
    # the demo's year is not empty: the comparison above compares something in every section
    assert want["decisions"][MD]["cases"] == 2 and set(want["decisions"]) == {MD, ND, EN, HT}
    assert sum(want["reviews"][MD]["counts"].values()) >= 5 and want["reviews"][MD]["review_days"]
    assert all(want["procedures"][MD]["counts"].values()) and want["execution"][MD]["reports"] >= 1
    assert want["catalogue"]["done"] and want["catalogue"]["overdue"] and want["catalogue"]["carried_over"]


def test_a_unit_narrows_every_figure_to_its_own_cases_and_items(demo: tuple[str, Office]) -> None:
    url, office = demo
    unit = "县交通运输局"
    payload = report_json(url, "--unit", unit)
    assert payload["unit"] == unit
    want = expected(office, unit)
    assert actual(payload) == want
    assert set(want["decisions"]) == {MD, HT} and want["decisions"][MD]["cases"] == 1
    assert want["catalogue"]["planned"] and len(want["catalogue"]["planned"]) < len(
        expected(office)["catalogue"]["planned"]
    )


def test_an_unknown_unit_year_or_format_is_a_clear_usage_error_and_nothing_is_written(
    demo: tuple[str, Office], tmp_path: Path
) -> None:
    url, office = demo
    with pytest.raises(UnknownName) as unknown:
        office.report(YEAR, "县交通运输")
    assert "县交通运输局" in unknown.value.suggestions
    assert exit_code(unknown.value) == 2
    for year in (20251, 2026 + 1):  # not a year; a year that has not begun (the clock reads 2026-01-05)
        with pytest.raises(UsageError):
            office.report(year)
    out = tmp_path / "x.xlsx"
    for args in (["--unit", "县交通运输"], ["--format", "csv"], ["--format", "xlsx"]):
        target = [] if args == ["--format", "xlsx"] else ["--out", str(out)]
        result = runner.invoke(app, ["report", "2025", *args, *target, "--db", url, "--config", str(DEPLOYMENT)])
        assert isinstance(result.exception, UsageError) and exit_code(result.exception) == 2, args
        assert not out.exists()


def test_the_spreadsheet_reads_back_with_the_figures(demo: tuple[str, Office], tmp_path: Path) -> None:
    url, office = demo
    out = tmp_path / "report.xlsx"
    result = runner.invoke(
        app,
        [
            "--lang",
            "zh",
            "report",
            "2025",
            "--format",
            "xlsx",
            "--out",
            str(out),
            "--db",
            url,
            "--config",
            str(DEPLOYMENT),
        ],
    )
    assert result.exit_code == 0, result.output
    book = load_workbook(out)
    assert {"about", "by_unit", "catalogue", "reviews", "procedures", "execution_reports"} <= set(book.sheetnames)
    want = expected(office)
    reviews = [[c.value for c in row] for row in book["reviews"].iter_rows(min_row=2)]
    header, body = reviews[0], {row[0]: row[1:] for row in reviews[1:]}
    md = header.index(office.definitions.workflow(MD).label.zh) - 1
    assert body["送审"][md] == want["reviews"][MD]["counts"]["review_submitted"]
    assert body["需修改"][md] == want["reviews"][MD]["counts"]["review_needs_revision"]
    assert body["最长审查时间（工作日）"][md] == want["reviews"][MD]["longest_days"]
    catalogue = [[c.value for c in row] for row in book["catalogue"].iter_rows(min_row=3)]
    (row,) = catalogue
    assert row[:5] == [
        "CAT-2025",
        len(want["catalogue"]["planned"]),
        len(want["catalogue"]["done"]),
        len(want["catalogue"]["carried_over"]),
        len(want["catalogue"]["overdue"]),
    ]
    assert "行政复议" in str(book["about"]["A2"].value)  # no source in the histories: said, not invented


class _Page(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tables: list[list[list[str]]] = []
        self.images: list[str] = []
        self._row: list[str] | None = None
        self._cell: list[str] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "table":
            self.tables.append([])
        elif tag == "tr":
            self._row = []
        elif tag in ("td", "th"):
            self._cell = []
        elif tag == "img":
            self.images.append(dict(attrs).get("src") or "")

    def handle_endtag(self, tag: str) -> None:
        if tag in ("td", "th") and self._cell is not None and self._row is not None:
            self._row.append("".join(self._cell).strip())
            self._cell = None
        elif tag == "tr" and self._row is not None:
            self.tables[-1].append(self._row)
            self._row = None

    def handle_data(self, data: str) -> None:
        if self._cell is not None:
            self._cell.append(data)


def test_the_html_page_parses_with_the_figures_and_its_charts_inlined(demo: tuple[str, Office], tmp_path: Path) -> None:
    url, office = demo
    out = tmp_path / "report.html"
    result = runner.invoke(
        app,
        [
            "--lang",
            "zh",
            "report",
            "2025",
            "--format",
            "html",
            "--out",
            str(out),
            "--db",
            url,
            "--config",
            str(DEPLOYMENT),
        ],
    )
    assert result.exit_code == 0, result.output
    page = _Page()
    page.feed(out.read_text(encoding="utf-8"))
    want = expected(office)
    reviews = next(t for t in page.tables if t[1][0] == "送审")
    md = reviews[0].index(office.definitions.workflow(MD).label.zh)
    assert reviews[1][md] == str(want["reviews"][MD]["counts"]["review_submitted"])
    stages = next(t for t in page.tables if t[0][1] == "阶段")
    assert sum(int(row[2]) for row in stages[1:]) == sum(d["cases"] for d in want["decisions"].values())
    assert len(page.images) == 3 and all(src.startswith("data:image/png;base64,") for src in page.images)


def test_the_charts_are_written_as_png_and_svg(demo: tuple[str, Office], tmp_path: Path) -> None:
    url, _ = demo
    charts = tmp_path / "charts"
    result = runner.invoke(app, ["report", "2025", "--charts", str(charts), "--db", url, "--config", str(DEPLOYMENT)])
    assert result.exit_code == 0, result.output
    names = {"reviews-per-month", "review-outcomes", "catalogue-completion"}
    assert {p.name for p in charts.iterdir()} == {f"{n}.{k}" for n in names for k in ("png", "svg")}
    for n in names:
        assert (charts / f"{n}.png").read_bytes().startswith(b"\x89PNG\r\n\x1a\n")
        assert ET.parse(charts / f"{n}.svg").getroot().tag.endswith("svg")


def test_the_text_report_prints_every_section(demo: tuple[str, Office]) -> None:
    url, _ = demo
    result = runner.invoke(app, ["--lang", "zh", "report", "2025", "--db", url, "--config", str(DEPLOYMENT)])
    assert result.exit_code == 0, result.output
    for title in ("办理的事项（按阶段）", "年度目录事项", "合法性审查", "履行的法定程序", "决策执行与后评估"):
        assert title in result.output
    assert "行政复议" in result.output


# -- figures the demo's year does not exercise: a shortened period, a missing execution report -------


def test_a_shortened_comment_period_is_listed_with_its_reason_and_an_unreported_execution_is_missing() -> None:
    """The main path with a 20-day consultation (its reason stated in the notice), stopped once the
    executing unit is named: the report lists the shortening and counts the execution report missing."""
    definitions = shipped_definitions()
    office = Office(memory_store(), definitions, clock=fixed_clock)
    play_catalogue(office.cases, "2025-03")
    steps = list(MAIN_PATH[: [s.trigger for s in MAIN_PATH].index(V("report_execution"))])
    i = [s.trigger for s in steps].index(V("open_consultation"))
    reason = "春运前须完成调价，公告中说明"
    shortened = {**steps[i].fields, V("comment_deadline"): date(2025, 4, 1), V("shortening_reason"): reason}
    steps[i] = type(steps[i])(steps[i].trigger, steps[i].actor, steps[i].on, shortened, steps[i].docs)
    play(office.cases, "D-2025-001", steps, workflow=MD)
    figures = office.report(YEAR)
    (procedures,) = [p for p in figures.procedures if p.workflow == MD]
    assert [(s.case_id, s.on, s.reason) for s in procedures.shortened] == [("D-2025-001", steps[i].on, reason)]
    (execution,) = [e for e in figures.execution if e.workflow == MD]
    assert execution.missing == ("D-2025-001",) and execution.reports == 0
    assert expected(office)["execution"][MD]["missing"] == ["D-2025-001"]

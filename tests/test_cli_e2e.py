"""End to end through the command line, on SQLite and PostgreSQL.

1. The demo story (`decisions/demo.py`) replayed entirely through `decisions ...` invocations, each
   step by the person whose role does it: 陈秘书 (office clerk), 李明 (organiser), 王县长 (head),
   赵律师 (legality reviewer), 钱律师 (legal adviser), 孙经理 (executor), and 钱审计 (auditor), who audits
   and may act on nothing.
2. Every refusal of point 8: bad input gets one clear message and a non-zero exit code, and writes
   nothing (compared through the CLI itself and through a dump of every table and of the document store).

`CliRunner` does not go through `decisions.cli.main`, which turns a `DecisionsError` into its exit
code and one message on stderr; `run` does that translation, and a few refusals also go through the
installed `decisions` executable to prove the real entry point behaves the same.
"""

from __future__ import annotations

import itertools
import json
import os
import subprocess
import sys
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from typing import Any, NamedTuple

import pytest
from typer.testing import CliRunner

from decisions.cli import app, exit_code
from decisions.demo import demo_people
from decisions.errors import DecisionsError
from tests.cli_support import definitions_parsed_once, every_row
from tests.stores import BACKENDS, new_database_url

runner = CliRunner()
EXECUTABLE = str(Path(sys.executable).parent / "decisions")
CST = timezone(timedelta(hours=8))
PEOPLE = [(p.name, p.roles, p.unit) for p in demo_people()]
ADMIN = "管理员"  # the office's first people administrator (bootstrapped with --admin)  # the county's people, as demo/ declares them
UNREACHABLE = "postgresql://postgres@127.0.0.1:1/x"
D1 = "D-2025-001"


@pytest.fixture(scope="module", autouse=True)
def parse_definitions_once() -> Iterator[None]:
    """~500 invocations fit the time budget; the subprocess tests run the installed command unchanged."""
    with definitions_parsed_once():
        yield


def today() -> date:
    """Today in China Standard Time, as the service counts it (the real clock: 2025 is the past)."""
    return datetime.now(CST).date()


# -- driving the CLI ----------------------------------------------------------------------------


class Run(NamedTuple):
    """One invocation: exit code, what went to stdout, and the error text (stderr or the exception)."""

    code: int
    out: str
    err: str

    def json(self) -> Any:
        assert self.code == 0, self.err
        return json.loads(self.out)


def run(*args: str, env: Mapping[str, str | None]) -> Run:
    """Invoke the app in-process and translate a `DecisionsError` exactly as `decisions.cli.main` does."""
    result = runner.invoke(app, list(args), env=dict(env))
    exc = result.exception
    if isinstance(exc, DecisionsError):
        return Run(exit_code(exc), result.stdout, str(exc))
    if exc is not None and not isinstance(exc, SystemExit):
        raise exc  # an unexpected crash: let pytest show its traceback
    return Run(result.exit_code, result.stdout, result.stderr)


@dataclass
class Cli:
    """The `decisions` command against one database, with `--db` on every command."""

    url: str
    documents: Path

    def env(self) -> dict[str, str | None]:
        return {
            "DECISIONS_DOCUMENTS": str(self.documents),
            "DECISIONS_USER": None,
            "DECISIONS_DATABASE_URL": None,
            "DECISIONS_CONFIG": None,
        }

    def __call__(self, *args: str, lang: str | None = None, db: str | None = None) -> Run:
        prefix = ["--lang", lang] if lang else []
        return run(*prefix, *args, "--db", db or self.url, env=self.env())

    def ok(self, *args: str, lang: str | None = None) -> Run:
        r = self(*args, lang=lang)
        assert r.code == 0, f"decisions {' '.join(args)} → exit {r.code}: {r.err}"
        return r

    def json(self, *args: str) -> Any:
        return self.ok(*args, "--json").json()


@dataclass
class Files:
    """Real attachment files, written where a clerk would keep them."""

    root: Path
    count: int = 0

    def write(self, title: str, body: bytes | None = None) -> Path:
        self.count += 1
        self.root.mkdir(parents=True, exist_ok=True)
        path = self.root / f"{self.count:03d}-{title}.txt"
        path.write_bytes(body if body is not None else f"{title}\n（演示文件 demo document #{self.count}）\n".encode())
        return path

    def attach(self, kind: str, title: str) -> str:
        return f"{kind}={self.write(title)}"


def action_args(
    case_id: str,
    trigger: str,
    actor: str,
    on: str,
    fields: Mapping[str, str] | None = None,
    attachments: Sequence[str] = (),
) -> list[str]:
    args = ["act", case_id, trigger, "--as", actor, "--on", on]
    for name, value in (fields or {}).items():
        args += ["--set", f"{name}={value}"]
    for spec in attachments:
        args += ["--attach", spec]
    return args


def check_reasons(details: Mapping[str, Any]) -> None:
    """Every blocked action of `show --json` explains itself: rule id, citation, Chinese and English."""
    for blocked in details["blocked_actions"]:
        assert blocked["reasons"], blocked
        for reason in blocked["reasons"]:
            for key in ("rule_id", "citation", "message_zh", "message_en"):
                assert isinstance(reason[key], str) and reason[key].strip(), (blocked["action"], key)


# -- 1. the demo story, as each role ------------------------------------------------------------

CATALOGUE_ITEMS = [
    ("2025-01", "生活垃圾分类管理办法", "县城市管理局", "public_policy", "2025-06-30"),
    ("2025-02", "城区公交票价调整", "县交通运输局", "public_policy", "2025-09-30"),
    ("2025-03", "县人民医院新院区建设项目", "县住房和城乡建设局", "public_construction", "2025-12-31"),
]
PARTICIPANTS = "市民代表甲,市民代表乙,公交企业代表,人大代表丙,价格专家丁"
VIEWS = "副县长甲:approve,副县长乙:approve,交通局长丙:reject,王县长:approve:head"

# (trigger, actor, the role the record must show)
D1_STEPS = [
    ("propose", "李明", "proposer"),
    ("launch", "王县长", "head"),
    ("submit_draft", "李明", "organiser"),
    ("open_consultation", "李明", "organiser"),
    ("close_consultation", "李明", "organiser"),
    ("announce_hearing", "李明", "organiser"),
    ("hold_hearing", "李明", "organiser"),
    ("submit_legality_review", "李明", "organiser"),
    ("accept_review", "赵律师", "legal_counsel"),
    ("give_legal_opinion", "钱律师", "legal_adviser"),
    ("find_needs_revision", "赵律师", "legal_counsel"),
    ("resubmit_legality_review", "李明", "organiser"),
    ("accept_review", "赵律师", "legal_counsel"),
    ("give_legal_opinion", "钱律师", "legal_adviser"),
    ("find_lawful", "赵律师", "legal_counsel"),
    ("report_to_party_committee", "陈秘书", "office_clerk"),
    ("record_party_reply", "陈秘书", "office_clerk"),
    ("submit_for_discussion", "李明", "organiser"),
    ("approve", "陈秘书", "office_clerk"),
    ("publish", "陈秘书", "office_clerk"),
    ("assign_execution", "王县长", "head"),
    ("report_execution", "孙经理", "executor"),
]


@dataclass
class Story:
    """What the story produced, for the tests below to examine."""

    cli: Cli
    tmp: Path
    runs: dict[str, Run] = field(default_factory=dict)
    shown: dict[str, dict[str, Any]] = field(default_factory=dict)  # show --json, by state


class Player:
    def __init__(self, cli: Cli, files: Files, story: Story) -> None:
        self.cli, self.files, self.story = cli, files, story

    def act(
        self,
        case_id: str,
        trigger: str,
        actor: str,
        on: str,
        to: str,
        fields: Mapping[str, str] | None = None,
        docs: Sequence[tuple[str, str]] = (),
    ) -> dict[str, Any]:
        attachments = [self.files.attach(kind, title) for kind, title in docs]
        fired = self.cli.json(*action_args(case_id, trigger, actor, on, fields, attachments))
        assert (fired["case"], fired["trigger"], fired["to"]) == (case_id, trigger, to), fired
        assert sorted(d["kind"] for d in fired["documents"]) == sorted(kind for kind, _ in docs)
        return fired

    def show(self, case_id: str, as_: str | None = None) -> dict[str, Any]:
        details = self.cli.json("show", case_id, *(["--as", as_] if as_ else []))
        check_reasons(details)
        self.story.shown[details["state"]] = details
        return details


def play_story(cli: Cli, tmp: Path) -> Story:
    story = Story(cli, tmp)
    files = Files(tmp / "files")
    p = Player(cli, files, story)
    keep = story.runs

    keep["init"] = cli.ok("init")
    keep["admin"] = cli.ok("user", "add", ADMIN, "--admin")  # the first administrator adds themselves
    keep["units"] = cli.ok("unit", "add", *sorted({unit for _, _, unit in PEOPLE}), "--as", ADMIN)
    for name, roles, unit in PEOPLE:
        keep[f"user {name}"] = cli.ok(
            "user", "add", name, *[x for r in roles for x in ("--role", r)], "--unit", unit, "--as", ADMIN
        )

    # -- the 2025 catalogue, by the government office clerk and the Justice Bureau ------------------
    keep["catalogue open"] = cli.ok(
        "catalogue",
        "open",
        "2025",
        "--as",
        "陈秘书",
        "--set",
        "deadline=2024-12-10",
        "--attach",
        files.attach("call_notice", "关于征集2025年度重大行政决策事项的通知"),
        "--on",
        "2024-11-10",
    )
    for item_id, name, unit, category, planned in CATALOGUE_ITEMS:
        p.act(
            "CAT-2025",
            "suggest_item",
            "陈秘书",
            "2024-11-25",
            "collecting",
            {
                "item_id": item_id,
                "item_name": name,
                "organiser_unit": unit,
                "category": category,
                "planned_by": planned,
                "basis_and_reasons": "《重大行政决策程序暂行条例》第三条",
                "problem_to_solve": f"{name}相关问题",
                "proposed_measures": "按程序拟定方案",
            },
            [("suggestion_form", f"{name}建议表")],
        )
    p.act("CAT-2025", "close_call", "陈秘书", "2024-12-11", "screening")
    for item_id, *_ in CATALOGUE_ITEMS:
        p.act(
            "CAT-2025",
            "screen_item",
            "赵律师",
            "2024-12-16",
            "screening",
            {"item_id": item_id, "screening_result": "include"},
        )
    p.act(
        "CAT-2025",
        "compile_catalogue",
        "陈秘书",
        "2024-12-18",
        "screening",
        docs=[("catalogue_draft", "2025年度目录（草案）")],
    )
    p.act(
        "CAT-2025",
        "certify_screening",
        "赵律师",
        "2024-12-19",
        "screening",
        docs=[("screening_opinion", "目录合法性审核意见")],
    )
    p.act("CAT-2025", "submit_for_approval", "陈秘书", "2024-12-20", "awaiting_meeting")
    p.act(
        "CAT-2025",
        "approve_at_meeting",
        "陈秘书",
        "2025-01-08",
        "awaiting_party_consent",
        {"meeting_type": "executive"},
        [("minutes", "县政府第3次常务会议纪要")],
    )
    p.act(
        "CAT-2025", "record_party_consent", "陈秘书", "2025-01-15", "approved", docs=[("party_consent", "县委同意意见")]
    )
    p.act(
        "CAT-2025",
        "publish_catalogue",
        "陈秘书",
        "2025-01-20",
        "published",
        {"publication_channels": "website,gazette"},
        [("publication", "2025年度目录公布页面")],
    )
    keep["catalogue v1 before adjustment"] = cli.ok("catalogue", "show", "2025", "--json")

    # -- mid-year adjustment: the organiser asks, the office compiles, the Justice Bureau certifies --
    p.act(
        "CAT-2025",
        "request_adjustment",
        "李明",
        "2025-06-10",
        "adjustment_requested",
        {
            "adjustment_kind": "add",
            "item_id": "2025-04",
            "item_name": "城区停车收费标准调整",
            "organiser_unit": "县交通运输局",
            "category": "public_policy",
            "planned_by": "2025-12-31",
            "reason": "城区停车矛盾突出，群众反映强烈",
        },
        [("adjustment_request", "目录调整申请")],
    )
    p.act(
        "CAT-2025",
        "compile_adjustment",
        "陈秘书",
        "2025-06-12",
        "adjustment_compiled",
        docs=[("catalogue_draft", "2025年度目录（调整稿）")],
    )
    p.act(
        "CAT-2025",
        "certify_screening",
        "赵律师",
        "2025-06-13",
        "adjustment_compiled",
        docs=[("screening_opinion", "调整审核意见")],
    )
    p.act("CAT-2025", "submit_adjustment", "陈秘书", "2025-06-16", "adjustment_awaiting_meeting")
    p.act(
        "CAT-2025",
        "approve_adjustment",
        "陈秘书",
        "2025-06-20",
        "adjustment_awaiting_consent",
        {"meeting_type": "executive"},
        [("minutes", "县政府第9次常务会议纪要")],
    )
    p.act(
        "CAT-2025",
        "record_adjustment_consent",
        "陈秘书",
        "2025-06-25",
        "adjustment_approved",
        docs=[("party_consent", "县委同意调整意见")],
    )
    p.act(
        "CAT-2025",
        "publish_adjustment",
        "陈秘书",
        "2025-06-30",
        "published",
        {"publication_channels": "website"},
        [("publication", "调整后目录公布页面")],
    )

    # -- D-2025-001 bus fares ------------------------------------------------------------------------
    proposal = {
        "title": "城区公交票价调整",
        "category": "public_policy",
        "source": "department",
        "catalogue_item": "2025-02",
        "problem": "票价十年未调整，公交企业持续亏损",
        "reasons_and_basis": "《价格法》《湖南省定价目录》",
        "preliminary_plan": "基础票价由1元调整为2元，老年人等群体免费",
        "necessity": "保障公共交通可持续运营",
        "feasibility": "财政补贴与票价联动，企业减亏",
        "major_public_interest": "true",
        "high_public_interest": "true",
        "regulated_public_price": "true",
    }
    propose = ["propose", "--as", "李明", "--on", "2025-03-03", "--id", D1]
    for name, value in proposal.items():
        propose += ["--set", f"{name}={value}"]
    keep["propose"] = cli.ok(*propose, "--attach", files.attach("proposal", "关于调整城区公交票价的建议"))
    p.show(D1)
    p.act(
        D1,
        "launch",
        "王县长",
        "2025-03-05",
        "drafting",
        {"organiser_unit": "县交通运输局", "catalogue_item": "2025-02"},
        [("launch_decision", "启动决定")],
    )
    p.act(
        D1,
        "submit_draft",
        "李明",
        "2025-03-10",
        "drafting",
        docs=[
            ("draft", "票价调整方案（征求意见稿）"),
            ("drafting_explanation", "起草说明"),
            ("legal_basis_inventory", "法律法规政策梳理"),
        ],
    )
    p.act(
        D1,
        "open_consultation",
        "李明",
        "2025-03-12",
        "public_consultation",
        {"comment_deadline": "2025-04-14", "channels": "政府网站,微信公众号"},
        [("consultation_notice", "征求意见公告")],
    )
    p.act(
        D1,
        "close_consultation",
        "李明",
        "2025-04-15",
        "argumentation",
        docs=[("opinion_summary", "意见汇总"), ("adoption_statement", "采纳情况说明")],
    )
    p.act(
        D1,
        "announce_hearing",
        "李明",
        "2025-04-18",
        "hearing_preparation",
        {
            "hearing_date": "2025-04-28",
            "selection_method_published_on": "2025-04-16",
            "participant_list_published_on": "2025-04-18",
            "participants": PARTICIPANTS,
        },
        [("hearing_notice", "听证公告"), ("participant_list", "听证参加人名单")],
    )
    p.act(
        D1,
        "hold_hearing",
        "李明",
        "2025-04-28",
        "argumentation",
        {
            "materials_delivered_on": "2025-04-21",
            "participants": PARTICIPANTS,
            "signed_by": "市民代表甲,市民代表乙,公交企业代表,价格专家丁",
            "absent": "人大代表丙",
            "signature_note": "人大代表丙因公出差未到场，已书面提交意见",
        },
        [("hearing_record", "听证笔录（缺席者已注明）")],
    )
    p.show(D1, "李明")

    # the organiser tries to skip the legality review: refused, nothing written
    keep["history before skip"] = cli.ok("history", D1, "--json")
    keep["skip review"] = cli(
        *action_args(
            D1,
            "submit_for_discussion",
            "李明",
            "2025-04-29",
            attachments=[files.attach("discussion_package", "提请审议报告")],
        )
    )
    keep["history after skip"] = cli.ok("history", D1, "--json")

    p.act(
        D1,
        "submit_legality_review",
        "李明",
        "2025-04-29",
        "legality_submitted",
        {"review_due": "2025-05-14"},
        [("legal_basis", "制定依据"), ("procedure_statement", "法定程序履行情况说明")],
    )
    p.show(D1, "李明")
    keep["inbox 赵律师 review"] = cli.ok("inbox", "--as", "赵律师", "--json")
    keep["inbox 赵律师 review human"] = cli.ok("inbox", "--as", "赵律师")
    p.act(D1, "accept_review", "赵律师", "2025-04-30", "under_review")
    p.act(
        D1,
        "give_legal_opinion",
        "钱律师",
        "2025-05-08",
        "under_review",
        docs=[("legal_counsel_opinion", "法律顾问法律意见书")],
    )
    p.act(
        D1,
        "find_needs_revision",
        "赵律师",
        "2025-05-09",
        "revision_required",
        {
            "authority": "compliant",
            "procedure": "compliant",
            "content": "non_compliant",
            "reason": "票价与补贴联动条款缺少调价听证程序，须修改",
        },
        [("review_opinion", "合法性审查意见书（需修改）")],
    )
    p.show(D1, "李明")
    p.act(
        D1,
        "resubmit_legality_review",
        "李明",
        "2025-05-12",
        "legality_submitted",
        {"review_due": "2025-05-23"},
        [("draft", "票价调整方案（修改稿）"), ("revision_explanation", "修改说明")],
    )
    p.act(D1, "accept_review", "赵律师", "2025-05-12", "under_review")
    p.act(
        D1,
        "give_legal_opinion",
        "钱律师",
        "2025-05-20",
        "under_review",
        docs=[("legal_counsel_opinion", "法律顾问法律意见书（修改稿）")],
    )
    p.act(
        D1,
        "find_lawful",
        "赵律师",
        "2025-05-22",
        "reviewed_lawful",
        {"authority": "compliant", "procedure": "compliant", "content": "compliant"},
        [("review_opinion", "合法性审查意见书（合法）")],
    )
    p.show(D1, "李明")
    p.act(
        D1,
        "report_to_party_committee",
        "陈秘书",
        "2025-05-23",
        "reviewed_lawful",
        {"party_report_kind": "request"},
        [("party_report", "关于城区公交票价调整的请示")],
    )
    p.act(
        D1,
        "record_party_reply",
        "陈秘书",
        "2025-05-26",
        "reviewed_lawful",
        {"party_reply": "同意提交政府常务会议审议"},
        [("party_committee_reply", "县委办公室复函")],
    )
    keep["submit for discussion"] = cli.ok(
        *action_args(
            D1,
            "submit_for_discussion",
            "李明",
            "2025-05-26",
            attachments=[files.attach("discussion_package", "提请审议报告及材料清单")],
        )
    )
    p.show(D1, "陈秘书")
    p.act(
        D1,
        "approve",
        "陈秘书",
        "2025-06-03",
        "decided",
        {"meeting_type": "executive", "attendees": "副县长甲,副县长乙,交通局长丙,王县长", "views": VIEWS},
        [("minutes", "县政府第8次常务会议记录（含不同意见）")],
    )
    p.show(D1, "陈秘书")
    p.act(
        D1,
        "publish",
        "陈秘书",
        "2025-06-05",
        "published",
        {"publication_channels": "gazette,website"},
        [
            ("publication", "县政府公报2025年第6期"),
            ("interpretation", "政策解读"),
            ("adoption_explanation", "意见采纳情况说明"),
        ],
    )
    p.show(D1, "王县长")
    p.act(D1, "assign_execution", "王县长", "2025-06-06", "executing", {"executor_unit": "县公交公司"})
    p.act(
        D1,
        "report_execution",
        "孙经理",
        "2025-09-30",
        "executing",
        {"summary": "新票价平稳实施，日均客流下降3%"},
        [("execution_report", "第三季度执行情况报告")],
    )
    p.show(D1, "孙经理")

    # -- the auditor audits, and may act on nothing ---------------------------------------------------
    keep["auditor acts"] = cli(
        *action_args(
            D1,
            "report_execution",
            "钱审计",
            "2025-10-08",
            {"summary": "审计意见"},
        )
    )
    keep["auditor acts on the catalogue"] = cli(
        *action_args("CAT-2025", "disclose_year_end", "钱审计", "2025-12-31", {"completed_items": "2025-02"})
    )
    keep["history after auditor"] = cli.ok("history", D1, "--json")
    keep["audit verify"] = cli.ok("audit", "verify")
    keep["audit verify json"] = cli.ok("audit", "verify", "--json")
    keep["audit replay"] = cli.ok("audit", "replay", D1, "--json")
    keep["audit checkpoint"] = cli.ok("audit", "checkpoint", "--out", str(tmp / "2025-q4.json"))
    keep["inbox 钱审计"] = cli.ok("inbox", "--as", "钱审计", "--json")
    keep["inbox 赵律师 after"] = cli.ok("inbox", "--as", "赵律师")

    # -- reading --------------------------------------------------------------------------------------
    keep["history"] = cli.ok("history", D1, "--json")
    keep["history human"] = cli.ok("history", D1)
    keep["catalogue show"] = cli.ok("catalogue", "show", "2025", "--json")
    keep["catalogue show v1"] = cli.ok("catalogue", "show", "2025", "--version", "1", "--json")
    keep["catalogue diff"] = cli.ok("catalogue", "diff", "2025", "1", "2", "--json")
    keep["catalogue diff human"] = cli.ok("catalogue", "diff", "2025", "1", "2")
    keep["catalogue show human"] = cli.ok("catalogue", "show", "2025")
    keep["list"] = cli.ok("list", "--json")
    keep["users"] = cli.ok("user", "list", "--json")
    keep["show en"] = cli.ok("show", D1, "--as", "李明", lang="en")
    keep["show zh"] = cli.ok("show", D1, "--as", "李明", lang="zh")
    return story


@pytest.fixture(scope="module", params=BACKENDS)
def story(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Story]:
    tmp = tmp_path_factory.mktemp(f"story-{request.param}")
    urls = new_database_url(request.param, tmp)
    url = next(urls)
    try:
        yield play_story(Cli(url, tmp / "documents"), tmp)
    finally:
        urls.close()


def test_every_person_sets_up_and_the_catalogue_is_published_with_its_adjustment(story: Story) -> None:
    runs = story.runs
    assert "sha256" in runs["init"].out
    assert "✓ 李明 (organiser, proposer) 县交通运输局" in runs["user 李明"].out
    users = {u["name"]: u for u in runs["users"].json()}
    assert {name: (tuple(u["roles"]), u["unit"], u["active"]) for name, u in users.items()} == {
        ADMIN: (("admin",), "", True),
        **{name: (tuple(sorted(roles)), unit, True) for name, roles, unit in PEOPLE},
    }
    assert "✓ CAT-2025 #1 open_call: new → collecting (2024-11-10, 陈秘书 [office_clerk])" in runs["catalogue open"].out
    assert "📎 call_notice v1 " in runs["catalogue open"].out

    before = runs["catalogue v1 before adjustment"].json()
    assert (before["version"], before["versions"], before["published_on"]) == (1, [1], "2025-01-20")
    latest = runs["catalogue show"].json()
    assert (latest["version"], latest["versions"], latest["published_on"]) == (2, [1, 2], "2025-06-30")
    assert latest["reason"] == "城区停车矛盾突出，群众反映强烈"
    assert [i["id"] for i in latest["items"]] == ["2025-01", "2025-02", "2025-03", "2025-04"]
    assert latest["items"][3]["item_name"] == "城区停车收费标准调整"
    v1 = runs["catalogue show v1"].json()
    assert v1["version"] == 1 and [i["id"] for i in v1["items"]] == ["2025-01", "2025-02", "2025-03"]
    assert runs["catalogue diff"].json() == [{"item": "2025-04", "kind": "added", "changes": []}]
    assert "+ 新增 added 2025-04" in runs["catalogue diff human"].out
    assert "第 2 版 / catalogue version 2" in runs["catalogue show human"].out
    assert "调整理由 / adjustment reason: 城区停车矛盾突出，群众反映强烈" in runs["catalogue show human"].out

    listed = {row["id"]: row for row in runs["list"].json()}
    assert listed["CAT-2025"]["state"] == "published" and listed["CAT-2025"]["workflow"] == "catalogue"
    assert listed[D1] == {
        "id": D1,
        "workflow": "major_decision",
        "state": "executing",
        "title": "城区公交票价调整",
        "version": len(D1_STEPS),
    }


def test_skipping_the_legality_review_is_refused_with_article_25_and_writes_nothing(story: Story) -> None:
    refused = story.runs["skip review"]
    assert refused.code == 3 and refused.out == ""
    assert refused.err.startswith("操作被拒绝 / action refused: submit_for_discussion (state 状态: argumentation)")
    assert "第二十五条" in refused.err and "Art. 25" in refused.err
    assert "[national.legality_review_lawful_for_current_draft]" in refused.err
    assert story.runs["history before skip"].json() == story.runs["history after skip"].json()
    # once the review found the current draft lawful, the same person may submit it
    assert (
        f"✓ {D1} #18 submit_for_discussion: reviewed_lawful → in_discussion" in story.runs["submit for discussion"].out
    )


def test_show_json_explains_state_approval_and_every_blocked_action(story: Story) -> None:
    shown = story.shown
    assert set(shown) >= {
        "proposed",
        "argumentation",
        "legality_submitted",
        "revision_required",
        "reviewed_lawful",
        "in_discussion",
        "decided",
        "published",
        "executing",
    }
    for state, details in shown.items():
        assert details["state"] == state and details["id"] == D1
        assert details["approval_state"] is (state in ("decided", "published")), state
        assert {"available_actions", "blocked_actions", "state_label", "stage", "deadlines"} <= set(details)

    # the organiser may submit for review, but may not review his own draft
    assert "submit_legality_review" in [a["action"] for a in shown["argumentation"]["available_actions"]]
    blocked = {b["action"]: b for b in shown["legality_submitted"]["blocked_actions"]}
    reasons = {r["rule_id"]: r for r in blocked["accept_review"]["reasons"]}
    assert {"engine.role", "national.reviewer_independent_of_drafter"} <= set(reasons)
    independence = reasons["national.reviewer_independent_of_drafter"]
    assert "第二十五条" in independence["citation"] and "Art. 25(1)" in independence["citation"]
    assert independence["message_en"] == "whoever drafted or submitted the draft may not review its legality"
    assert reasons["engine.role"]["message_zh"].startswith("李明 无权执行「受理合法性审查」")

    lawful = shown["reviewed_lawful"]
    submit = next(a for a in lawful["available_actions"] if a["action"] == "submit_for_discussion")
    assert submit["to"] == "in_discussion" and submit["requires_documents"] == ["discussion_package"]
    assert shown["decided"]["state_label"] == {"zh": "集体讨论通过", "en": "Decided"}
    assert "approve" in [a["action"] for a in shown["in_discussion"]["available_actions"]]
    assert "report_execution" in [a["action"] for a in shown["executing"]["available_actions"]]
    assert shown["executing"]["attributes"]["executor_unit"] == "县公交公司"


def test_the_reviewers_inbox_lists_the_review_with_its_due_date_and_overdue_from_today(story: Story) -> None:
    box = story.runs["inbox 赵律师 review"].json()
    assert box["user"] == "赵律师" and box["roles"] == ["legal_counsel"]
    tasks = {t["action"]: t for t in box["tasks"] if t["case"] == D1}
    assert set(tasks) == {"accept_review", "return_submission"}
    accept = tasks["accept_review"]
    assert accept["available"] is True and accept["title"] == "城区公交票价调整"
    assert accept["state"] == {"zh": "已送合法性审查待受理", "en": "Submitted for legality review"}
    [deadline] = accept["deadlines"]
    assert deadline["what"]["en"] == "legality review due" and deadline["due"] == "2025-05-14"
    overdue = today() > date(2025, 5, 14)
    assert deadline["overdue"] is overdue
    assert (deadline["remaining_working_days"] is None) is overdue
    assert box["overdue"] == (1 if overdue else 0)
    human = story.runs["inbox 赵律师 review human"].out
    assert "▶ accept_review" in human and "2025-05-14" in human
    assert ("已逾期 / OVERDUE" in human) is overdue
    # once the decision is executing, nothing waits on the reviewer
    assert "暂无待办 / nothing to do" in story.runs["inbox 赵律师 after"].out


def test_history_has_every_step_with_actor_role_fields_and_documents(story: Story) -> None:
    history = story.runs["history"].json()
    assert [(r["trigger"], r["actor"], r["role"]) for r in history] == D1_STEPS
    assert [r["seq"] for r in history] == list(range(1, len(D1_STEPS) + 1))
    assert all(r["on"] <= s["on"] for r, s in itertools.pairwise(history))
    units = {name: unit for name, _, unit in PEOPLE}
    assert all(r["unit"] == units[r["actor"]] for r in history)
    meeting = history[18]
    assert meeting["trigger"] == "approve" and meeting["to"] == "decided"
    assert {"member": "交通局长丙", "position": "reject"} in meeting["fields"]["views"]
    assert {"member": "王县长", "position": "approve", "head": True} in meeting["fields"]["views"]
    assert [d["name"] for d in meeting["documents"]] and meeting["documents"][0]["name"].endswith(
        "县政府第8次常务会议记录（含不同意见）.txt"
    )
    revision = history[11]
    assert revision["draft_version"] == 2 and history[10]["fields"]["content"] == "non_compliant"
    assert history[0]["documents"][0]["kind"] == "proposal"
    human = story.runs["history human"].out
    assert "#19 2025-06-03 陈秘书 [office_clerk] approve: in_discussion → decided" in human
    assert "交通局长丙:reject" in human and "王县长:approve(主持)" in human


def test_the_auditor_verifies_replays_and_checkpoints_but_may_not_act(story: Story) -> None:
    runs = story.runs
    for key in ("auditor acts", "auditor acts on the catalogue"):
        refused = runs[key]
        assert refused.code == 3, refused
        assert "[engine.role]" in refused.err and "钱审计" in refused.err, refused.err
    assert runs["history after auditor"].json() == runs["history"].json()

    assert "历史完整，未发现篡改 / history intact" in runs["audit verify"].out
    verified = runs["audit verify json"].json()
    assert verified["ok"] is True and verified["cases"] == 2 and verified["findings"] == []
    catalogue_events = 1 + 3 + 1 + 3 + 6 + 7
    assert verified["events"] == len(D1_STEPS) + catalogue_events
    replay = runs["audit replay"].json()
    assert replay["ok"] is True and replay["replayed_state"] == replay["stored_state"] == "executing"
    assert [(s["trigger"], s["actor"], s["role"]) for s in replay["steps"]] == D1_STEPS
    assert any("Art. 25" in r["citation"] for s in replay["steps"] for r in s["rules"])
    checkpoint = json.loads((story.tmp / "2025-q4.json").read_text(encoding="utf-8"))
    assert checkpoint["events"] == verified["events"] and checkpoint["chains"] == 2
    assert checkpoint["root"] in runs["audit checkpoint"].out

    box = runs["inbox 钱审计"].json()
    assert box["tasks"] == []  # every action is another role's
    late = {x["item"] for x in box["late_catalogue_items"]}
    planned = {"2025-01": "2025-06-30", "2025-03": "2025-12-31", "2025-04": "2025-12-31"}  # 2025-02 was decided
    assert late == {i for i, due in planned.items() if date.fromisoformat(due) < today()}


def test_lang_en_shows_english_labels_and_lang_zh_chinese(story: Story) -> None:
    en = story.runs["show en"].out
    assert "Execution · " in en and "Executing (executing)" in en
    assert "report on execution" in en and "requires one of the roles Executing unit" in en
    for chinese in ("执行中", "决策执行", "报告执行情况", "无权执行"):
        assert chinese not in en, chinese
    zh = story.runs["show zh"].out
    assert "状态：[bold]执行中" in zh or ("状态：执行中" in zh and "报告执行情况" in zh)
    assert "(executing)" not in zh, "a state id under --lang zh"  # Chinese first: labels only (issue 13, item 6)
    assert "Executing (executing)" not in zh and "report on execution" not in zh


def test_lang_en_prints_no_chinese_headings(story: Story) -> None:
    en = story.runs["show en"].out
    for heading in ("阶段", "状态", "版本", "草案", "记录", "可执行", "受阻"):
        assert heading not in en, heading


def test_catalogue_table_prints_whole_item_names(story: Story) -> None:
    out = story.runs["catalogue show human"].out
    for _, name, unit, _, _ in CATALOGUE_ITEMS:
        assert name in out and unit in out, name


# -- the demo command ----------------------------------------------------------------------------


def test_demo_plays_on_an_empty_database_and_refuses_a_postgres_database_with_cases(
    database_url: str, tmp_path: Path
) -> None:
    cli = Cli(database_url, tmp_path / "demo-documents")
    first = cli("demo")
    assert first.code == 0, first.err
    assert "history intact" in first.out and "历史完整，未发现篡改" in first.out
    assert "✗ [national.legality_review_lawful_for_current_draft]" in first.out
    assert "✗ [national.risk_flag_stays]" in first.out and "Art. 24" in first.out  # the assessed risk stays
    # the county's other legality reviews, each refused at its gate once: no deliberation, decision or
    # signature without a passing review of the current text
    for gate_rule in (
        "normative_document.lawful_review_of_current_text",
        "enforcement_decision.review_agreed_for_current_draft",
        "youxian_government_contract.reviewed_before_signing",
    ):
        assert f"✗ [{gate_rule}]" in first.out, gate_rule
    again = cli("demo")
    if database_url.startswith("sqlite"):  # the demo's own SQLite file is recreated
        assert again.code == 0, again.err
        assert "history intact" in again.out
        assert [r["id"] for r in cli.json("list")] == [
            "CAT-2025",
            "D-2025-001",
            "D-2025-002",
            "EN-2025-001",
            "HT-2025-001",
            "ND-2025-001",
        ]
    else:
        assert again.code == 2 and again.out == ""
        assert "the demo needs an empty database" in again.err and "has cases" in again.err
        assert "\n" not in again.err
        assert cli.json("audit", "verify")["cases"] == 6  # untouched


def test_demo_on_sqlite_leaves_the_offices_document_store_alone(tmp_path: Path) -> None:
    store = tmp_path / "office-documents"
    (store / "ab").mkdir(parents=True)
    evidence = store / "ab" / "evidence-of-a-real-decision"
    evidence.write_bytes(b"an office's document")
    cli = Cli(f"sqlite:///{tmp_path / 'decisions-demo.sqlite'}", store)
    assert cli("demo").code == 0
    assert evidence.is_file()


# -- 2. every refusal of point 8 ------------------------------------------------------------------


@dataclass(frozen=True)
class Refusal:
    id: str
    args: tuple[str, ...]
    code: int
    fragments: tuple[str, ...]
    db: str | None = None  # "unreachable", "uninitialised", or None: the office's database
    one_line: bool = True  # DecisionsErrors but ActionRefused are one line; a refusal lists each unmet rule


LAUNCH = ("act", D1, "launch")
KIND_AND_SOURCE = ("--set", "category=public_policy", "--set", "source=leader")
LAUNCH_OK = (*LAUNCH, "--as", "王县长", "--set", "organiser_unit=县交通运输局")

REFUSALS = [
    Refusal("unknown-case", ("act", "D-2099-999", "launch", "--as", "王县长"), 2, ("unknown case", "D-2099-999")),
    Refusal("unknown-case-show", ("show", "D-2099-999"), 2, ("unknown case", "D-2099-999")),
    Refusal("unknown-case-history", ("history", "D-2099-999", "--json"), 2, ("unknown case",)),
    Refusal(
        "unknown-user",
        (*LAUNCH, "--as", "nobody", "--set", "organiser_unit=县交通运输局"),
        2,
        ("unknown user", "nobody", "decisions user add"),
    ),
    Refusal("deactivated-user", (*LAUNCH, "--as", "老周"), 2, ("deactivated", "老周")),
    Refusal("missing-as", (*LAUNCH, "--set", "organiser_unit=县交通运输局"), 2, ("--as", "DECISIONS_USER")),
    Refusal(
        "unknown-role-user-add",
        ("user", "add", "新人", "--role", "mayor", "--as", "管理员"),
        2,
        ("unknown role", "mayor", "organiser"),
    ),
    Refusal("unknown-role-act", (*LAUNCH_OK, "--role", "mayor"), 2, ("unknown role", "mayor")),
    Refusal(
        "deactivate-unknown-user", ("user", "deactivate", "nobody", "--as", "管理员"), 2, ("unknown user", "nobody")
    ),
    Refusal("unknown-action", ("act", D1, "fly", "--as", "王县长"), 2, ("unknown action", "'fly'", "launch")),
    Refusal(
        "wrong-role",
        (*LAUNCH, "--as", "李明", "--set", "organiser_unit=县交通运输局"),
        3,
        ("action refused: launch", "[engine.role]", "李明", "Head of government"),
        one_line=False,
    ),
    Refusal(
        "missing-field",
        (*LAUNCH, "--as", "王县长"),
        3,
        ("[engine.field.organiser_unit]", "organiser_unit", "[engine.document.launch_decision]"),
        one_line=False,
    ),
    Refusal(
        "propose-missing-title",
        ("propose", "--as", "李明", "--on", "2025-03-04", "--set", "category=public_policy", "--set", "source=leader"),
        3,
        ("[engine.field.title]",),
        one_line=False,
    ),
    Refusal("unknown-field", (*LAUNCH_OK, "--set", "nonsense=1"), 2, ("'nonsense'", "organiser_unit")),
    Refusal(
        "bad-enum",
        ("propose", "--as", "李明", "--set", "title=X", "--set", "category=cheap", "--set", "source=leader"),
        2,
        ("category", "'cheap'", "public_policy"),
    ),
    Refusal("malformed-on", (*LAUNCH_OK, "--on", "2025-13-01"), 2, ("malformed date", "2025-13-01", "YYYY-MM-DD")),
    Refusal(
        "malformed-date-field",
        ("act", D1, "open_consultation", "--as", "李明", "--set", "comment_deadline=tomorrow"),
        2,
        ("malformed date", "comment_deadline", "'tomorrow'"),
    ),
    Refusal("implausible-date", (*LAUNCH_OK, "--on", "1900-01-01"), 2, ("implausible date", "1949-10-01")),
    Refusal(
        "future-date",
        (*LAUNCH_OK, "--on", "2099-01-01"),
        2,
        ("[service.future_date]", "2099-01-01", "in the future", "YYYY-MM-DD"),
    ),
    Refusal(
        "before-previous-event",
        (*LAUNCH_OK, "--on", "2025-03-01"),
        3,
        ("[engine.date_order]", "2025-03-03"),
        one_line=False,
    ),
    Refusal(
        "attachment-missing",
        (*LAUNCH_OK, "--attach", "launch_decision={missing}"),
        2,
        ("not a regular file", "no-such-file.pdf"),
    ),
    Refusal("attachment-empty", (*LAUNCH_OK, "--attach", "launch_decision={empty}"), 2, ("attachment is empty",)),
    Refusal("attachment-directory", (*LAUNCH_OK, "--attach", "launch_decision={dir}"), 2, ("not a regular file",)),
    Refusal(
        "attachment-unknown-kind",
        (*LAUNCH_OK, "--attach", "passport={file}"),
        2,
        ("unknown document kind", "'passport'", "launch_decision"),
    ),
    Refusal("attachment-without-kind", (*LAUNCH_OK, "--attach", "{file}"), 2, ("--attach expects KIND=PATH",)),
    Refusal("set-without-equals", (*LAUNCH, "--as", "王县长", "--set", "organiser_unit"), 2, ("name=value",)),
    Refusal(
        "set-twice",
        (*LAUNCH_OK, "--set", "organiser_unit=县城市管理局"),
        2,
        ("organiser_unit given twice",),
    ),
    Refusal(
        "propose-existing-id",
        ("propose", "--as", "李明", "--id", D1, "--on", "2025-03-04", "--set", "title=重复", *KIND_AND_SOURCE),
        2,
        ("already exists", D1),
    ),
    Refusal(
        "stale-version",
        (*LAUNCH_OK, "--on", "2025-03-05", "--expect-version", "0"),
        5,
        ("conflict", D1, "by 李明 at 20", "Beijing time", "version 0 -> 1", "nothing was written"),
    ),
    Refusal("expect-version-negative", (*LAUNCH_OK, "--expect-version", "-1"), 2, ("--expect-version", "from 0 to")),
    Refusal(
        "expect-version-not-a-number", (*LAUNCH_OK, "--expect-version", "two"), 2, ("expect-version",), one_line=False
    ),
    Refusal("db-unreachable", ("list", "--json"), 6, ("does not answer", "127.0.0.1"), db="unreachable"),
    Refusal("db-unreachable-act", LAUNCH_OK, 6, ("does not answer",), db="unreachable"),
    Refusal("db-uninitialised", ("list", "--json"), 6, ("does not exist", "decisions init"), db="uninitialised"),
    Refusal("lang", ("--lang", "xx", "list"), 2, ("--lang must be zh, en or both", "'xx'")),
]


@dataclass
class SmallOffice:
    """A small office: four people (one deactivated) and one proposed decision."""

    cli: Cli
    tmp: Path
    paths: dict[str, str]
    baseline: dict[str, Any] = field(default_factory=dict)

    def db_for(self, which: str | None) -> str:
        if which == "unreachable":
            return UNREACHABLE
        if which == "uninitialised":
            return f"sqlite:///{self.tmp / 'uninitialised.sqlite'}"
        return self.cli.url

    def args(self, refusal: Refusal) -> list[str]:
        return [a.format(**self.paths) for a in refusal.args]

    def snapshot(self) -> dict[str, Any]:
        """What the CLI shows, every row of every table, and every file of the document store."""
        tables = every_row(self.cli.url, self.cli.documents)
        verified = self.cli.json("audit", "verify")
        return {
            "list": self.cli.json("list"),
            "history": self.cli.json("history", D1),
            "events": verified["events"],
            "verify": verified,
            "tables": tables,
            "files": sorted(str(p.relative_to(self.cli.documents)) for p in self.cli.documents.rglob("*")),
        }


@pytest.fixture(scope="module", params=BACKENDS)
def office(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[SmallOffice]:
    tmp = tmp_path_factory.mktemp(f"refusals-{request.param}")
    urls = new_database_url(request.param, tmp)
    url = next(urls)
    try:
        cli = Cli(url, tmp / "documents")
        files = Files(tmp / "files")
        (tmp / "empty.pdf").write_bytes(b"")
        (tmp / "a-directory.pdf").mkdir()
        paths = {
            "file": str(files.write("启动决定")),
            "empty": str(tmp / "empty.pdf"),
            "dir": str(tmp / "a-directory.pdf"),
            "missing": str(tmp / "no-such-file.pdf"),
        }
        cli.ok("init")
        cli.ok("user", "add", ADMIN, "--admin")
        cli.ok("unit", "add", "县交通运输局", "县人民政府", "县司法局", "--as", ADMIN)
        for name, roles, unit in [
            ("李明", ("organiser", "proposer"), "县交通运输局"),
            ("王县长", ("head",), "县人民政府"),
            ("赵律师", ("legal_counsel",), "县司法局"),
            ("老周", ("organiser",), "县交通运输局"),
        ]:
            cli.ok("user", "add", name, *[x for r in roles for x in ("--role", r)], "--unit", unit, "--as", ADMIN)
        cli.ok("user", "deactivate", "老周", "--as", ADMIN)
        cli.ok(
            "propose",
            *("--as", "李明", "--on", "2025-03-03", "--id", D1),
            *("--set", "title=城区公交票价调整", *KIND_AND_SOURCE),
            *("--attach", files.attach("proposal", "关于调整城区公交票价的建议")),
        )
        office = SmallOffice(cli, tmp, paths)
        office.baseline = office.snapshot()
        assert office.baseline["events"] == 1 and office.baseline["list"][0]["state"] == "proposed"
        yield office
    finally:
        urls.close()


@pytest.mark.parametrize("refusal", REFUSALS, ids=[r.id for r in REFUSALS])
def test_bad_input_is_one_clear_refusal_and_writes_nothing(office: SmallOffice, refusal: Refusal) -> None:
    result = office.cli(*office.args(refusal), db=office.db_for(refusal.db))
    assert result.code == refusal.code, result
    for fragment in refusal.fragments:
        assert fragment in result.err, (fragment, result.err)
    assert result.out == ""
    assert "Traceback" not in result.err
    lines = result.err.strip().splitlines()
    if refusal.one_line:
        assert len(lines) == 1, result.err
    elif refusal.code == 3:  # a header, then one line per unmet requirement with its rule id and citation
        assert lines[0].startswith("操作被拒绝 / action refused: ")
        assert lines[1:] and all(line.startswith("  - [") and line.endswith(")") for line in lines[1:]), lines
    assert office.snapshot() == office.baseline


def test_a_mistyped_sqlite_path_creates_no_file(tmp_path: Path) -> None:
    target = tmp_path / "decisons.sqlite"  # a typo for decisions.sqlite
    result = Cli(f"sqlite:///{target}", tmp_path / "documents")("list")
    assert result.code == 6 and "decisions init" in result.err
    assert not target.exists(), sorted(p.name for p in tmp_path.iterdir())


# -- the real entry point -----------------------------------------------------------------------


SUBPROCESS_REFUSALS = {  # a handful, different on each backend (each process takes ~2 s to import)
    "sqlite": ["unknown-user", "wrong-role", "db-unreachable"],
    "postgres": ["stale-version", "before-previous-event", "db-uninitialised"],
}


def test_the_installed_command_prints_the_refusal_on_stderr_and_exits_with_its_code(office: SmallOffice) -> None:
    """`decisions.cli.main`: no traceback; a usage, conflict or store error is one line; a procedure refusal is
    its header and one line per unmet rule."""
    by_id = {r.id: r for r in REFUSALS}
    chosen = SUBPROCESS_REFUSALS["sqlite" if office.cli.url.startswith("sqlite") else "postgres"]
    env = {k: v for k, v in os.environ.items() if k not in ("DECISIONS_USER", "DECISIONS_DATABASE_URL")}
    env["DECISIONS_DOCUMENTS"] = str(office.cli.documents)
    procs = [
        subprocess.Popen(
            [EXECUTABLE, *office.args(by_id[i]), "--db", office.db_for(by_id[i].db)],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for i in chosen
    ]
    for refusal_id, proc in zip(chosen, procs, strict=True):
        out, err = proc.communicate(timeout=120)
        refusal = by_id[refusal_id]
        assert proc.returncode == refusal.code, (refusal_id, err)
        if "--json" in refusal.args:  # under --json the error is JSON on stdout (docs/json.md), stderr silent
            error = json.loads(out)["error"]
            assert error["exit_code"] == refusal.code and err == "", (refusal_id, out, err)
            out, err = "", error["message"] + "\n"
        assert out == "" and "Traceback" not in err, (refusal_id, err)
        lines = err.splitlines()
        for fragment in refusal.fragments:
            assert fragment in err, (refusal_id, fragment, err)
        if refusal.one_line:
            assert len(lines) == 1, (refusal_id, err)
        else:
            assert lines[0].startswith("操作被拒绝 / action refused: launch") and all(
                line.startswith("  - [") for line in lines[1:]
            ), err
    assert office.snapshot() == office.baseline


class WroteSomething(Exception):
    """A refused action left something behind."""


@pytest.mark.parametrize(
    "extra, code, rule",
    [
        (("--as", "李明", "--set", "organiser_unit=县交通运输局"), 3, "[engine.role]"),
        (("--as", "王县长"), 3, "[engine.field.organiser_unit]"),
        (("--as", "王县长", "--set", "organiser_unit=县交通运输局", "--on", "2099-01-01"), 2, "[service.future_date]"),
        (("--as", "王县长", "--set", "organiser_unit=县交通运输局", "--on", "2025-03-01"), 3, "[engine.date_order]"),
        (("--as", "王县长", "--set", "organiser_unit=县交通运输局", "--expect-version", "0"), 5, "nothing was written"),
    ],
    ids=["wrong-role", "missing-field", "future-date", "before-previous-event", "stale-version"],
)
def test_a_refused_action_with_an_attachment_stores_no_document(
    office: SmallOffice, extra: tuple[str, ...], code: int, rule: str
) -> None:
    fresh = Files(office.tmp / "fresh").write(f"启动决定 {rule}", f"fresh bytes for {rule}".encode())
    result = office.cli(*LAUNCH, *extra, "--attach", f"launch_decision={fresh}")
    assert result.code == code and rule in result.err, result
    after = office.snapshot()
    baseline, office.baseline = office.baseline, after  # whatever is left over is this test's finding only
    assert {k: v for k, v in after.items() if k not in ("tables", "files")} == {
        k: v for k, v in baseline.items() if k not in ("tables", "files")
    }
    assert {t: r for t, r in after["tables"].items() if t != "documents"} == {
        t: r for t, r in baseline["tables"].items() if t != "documents"
    }
    if after != baseline:
        leftover = sorted(set(after["files"]) - set(baseline["files"]))
        rows = {t for t in after["tables"] if after["tables"][t] != baseline["tables"][t]}
        raise WroteSomething(f"left behind: files {leftover}, rows changed in {rows}")


# -- --json is a contract: every view of the story has the shape its JSON Schema documents ----------

JSON_VIEWS = [
    ("history", "history.schema.json"),
    ("list", "list.schema.json"),
    ("users", "users.schema.json"),
    ("inbox 赵律师 review", "inbox.schema.json"),
    ("inbox 钱审计", "inbox.schema.json"),
    ("catalogue show", "catalogue-show.schema.json"),
    ("catalogue show v1", "catalogue-show.schema.json"),
    ("catalogue diff", "catalogue-diff.schema.json"),
    ("audit verify json", "verify.schema.json"),
    ("audit replay", "replay.schema.json"),
]


@pytest.mark.parametrize(("run_name", "schema"), JSON_VIEWS, ids=[s for _, s in JSON_VIEWS])
def test_every_json_view_of_the_story_has_its_documented_shape(story: Story, run_name: str, schema: str) -> None:
    from tests.json_schemas import validate

    validate(schema, story.runs[run_name].json())


def test_show_json_has_its_documented_shape_in_every_state_of_the_story(story: Story) -> None:
    from tests.json_schemas import validate

    assert len(story.shown) > 5
    for details in story.shown.values():
        validate("show.schema.json", details)
        for record in details["records"]:
            for d in record["documents"]:  # objects with the full hash, never a display string
                assert len(d["sha256"]) == 64 and d["size"] > 0

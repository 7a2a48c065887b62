"""The demo: one realistic county year, played through the service layer exactly as clerks would.

攸县-style county, 2025: the annual catalogue (three items, a mid-year adjustment), a bus-fare decision
carried through the full procedure (the price hearing the Price Law requires, one participant absent
and noted; a legality review sent back for revision and reviewed again with the legal adviser's opinion
each time, a refused attempt to skip the review, a meeting with a dissenting member, a request (请示) to
the Party committee and its reply, publication, execution report), and a hospital project with expert
argumentation and risk assessment (a refused attempt to clear its risk flag afterwards) waiting on the
legality reviewer. Output goes to the injected ``say``; nothing here prints.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

from decisions.errors import ActionRefused
from decisions.model import Text
from decisions.service.office import Office

__all__ = ["PEOPLE", "run_demo"]

Say = Callable[[str], None]

PEOPLE: tuple[tuple[str, tuple[str, ...], str], ...] = (
    ("王县长", ("head",), "县人民政府"),
    ("李明", ("organiser", "proposer"), "县交通运输局"),
    ("周敏", ("organiser",), "县城市管理局"),
    ("吴刚", ("organiser",), "县住房和城乡建设局"),
    ("赵律师", ("legal_counsel",), "县司法局"),
    ("钱律师", ("legal_adviser",), "县政府法律顾问（律师事务所）"),
    ("陈秘书", ("office_clerk",), "县政府办公室"),
    ("孙经理", ("executor",), "县公交公司"),
    ("钱审计", ("auditor",), "县审计局"),
)


class _Player:
    def __init__(self, office: Office, say: Say) -> None:
        self.office = office
        self.say = say
        self.count = 0

    def doc(self, kind: str, title: str) -> tuple[str, bytes, str]:
        self.count += 1
        body = f"{title}\n（演示文件 demo document #{self.count}）\n".encode()
        return kind, body, f"{title}.txt"

    def act(
        self,
        case_id: str,
        trigger: str,
        actor: str,
        on: str,
        fields: Mapping[str, str] | None = None,
        docs: Sequence[tuple[str, str]] = (),
    ) -> None:
        attachments = [self.doc(kind, title) for kind, title in docs]
        fired = self.office.act(case_id, trigger, actor, fields or {}, attachments, on)
        r = fired.record
        wf = self.office.definitions.workflow(fired.case.workflow)
        label = wf.states[r.to_state].label
        self.say(f"  {on}  {actor:<4} {trigger:<30} → {label.zh} / {label.en}")


def run_demo(office: Office, say: Say) -> dict[str, str]:
    """Play the county year; returns the ids of what it created."""
    p = _Player(office, say)
    say("人员 / people")
    for name, roles, unit in PEOPLE:
        office.users.add(name, list(roles), unit)
        say(f"  {name}  {', '.join(roles)}  {unit}")

    say("\n2025 年度重大行政决策事项目录 / the 2025 catalogue")
    office.open_catalogue(
        2025,
        "陈秘书",
        {"deadline": "2024-12-10"},
        [p.doc("call_notice", "关于征集2025年度重大行政决策事项的通知")],
        "2024-11-10",
    )
    say("  2024-11-10  陈秘书 open_call                      → 征集中 / Collecting suggestions")
    items = [
        ("2025-01", "生活垃圾分类管理办法", "县城市管理局", "public_policy", "2025-06-30"),
        ("2025-02", "城区公交票价调整", "县交通运输局", "public_policy", "2025-09-30"),
        ("2025-03", "县人民医院新院区建设项目", "县住房和城乡建设局", "public_construction", "2025-12-31"),
    ]
    for item_id, name, unit, category, planned in items:
        p.act(
            "CAT-2025",
            "suggest_item",
            "陈秘书",
            "2024-11-25",
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
    p.act("CAT-2025", "close_call", "陈秘书", "2024-12-11")
    for item_id, *_ in items:
        p.act("CAT-2025", "screen_item", "赵律师", "2024-12-16", {"item_id": item_id, "screening_result": "include"})
    p.act("CAT-2025", "compile_catalogue", "陈秘书", "2024-12-18", docs=[("catalogue_draft", "2025年度目录（草案）")])
    p.act("CAT-2025", "certify_screening", "赵律师", "2024-12-19", docs=[("screening_opinion", "目录合法性审核意见")])
    p.act("CAT-2025", "submit_for_approval", "陈秘书", "2024-12-20")
    p.act(
        "CAT-2025",
        "approve_at_meeting",
        "陈秘书",
        "2025-01-08",
        {"meeting_type": "executive"},
        [("minutes", "县政府第3次常务会议纪要")],
    )
    p.act("CAT-2025", "record_party_consent", "陈秘书", "2025-01-15", docs=[("party_consent", "县委同意意见")])
    p.act(
        "CAT-2025",
        "publish_catalogue",
        "陈秘书",
        "2025-01-20",
        {"publication_channels": "website,gazette"},
        [("publication", "2025年度目录公布页面")],
    )

    say("\n年中调整：新增停车收费事项 / mid-year adjustment: add an item")
    p.act(
        "CAT-2025",
        "request_adjustment",
        "李明",
        "2025-06-10",
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
        "CAT-2025", "compile_adjustment", "陈秘书", "2025-06-12", docs=[("catalogue_draft", "2025年度目录（调整稿）")]
    )
    p.act("CAT-2025", "certify_screening", "赵律师", "2025-06-13", docs=[("screening_opinion", "调整审核意见")])
    p.act("CAT-2025", "submit_adjustment", "陈秘书", "2025-06-16")
    p.act(
        "CAT-2025",
        "approve_adjustment",
        "陈秘书",
        "2025-06-20",
        {"meeting_type": "executive"},
        [("minutes", "县政府第9次常务会议纪要")],
    )
    p.act("CAT-2025", "record_adjustment_consent", "陈秘书", "2025-06-25", docs=[("party_consent", "县委同意调整意见")])
    p.act(
        "CAT-2025",
        "publish_adjustment",
        "陈秘书",
        "2025-06-30",
        {"publication_channels": "website"},
        [("publication", "调整后目录公布页面")],
    )

    say("\nD-2025-001 城区公交票价调整（价格听证、合法性审查退回修改后重审）/ bus fares")
    office.propose(
        "李明",
        {
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
        },
        [p.doc("proposal", "关于调整城区公交票价的建议")],
        "2025-03-03",
        "D-2025-001",
    )
    say("  2025-03-03  李明   propose                        → 已提议待研究 / Proposed")
    d = "D-2025-001"
    p.act(
        d,
        "launch",
        "王县长",
        "2025-03-05",
        {"organiser_unit": "县交通运输局", "catalogue_item": "2025-02"},
        [("launch_decision", "启动决定")],
    )
    p.act(
        d,
        "submit_draft",
        "李明",
        "2025-03-10",
        docs=[
            ("draft", "票价调整方案（征求意见稿）"),
            ("drafting_explanation", "起草说明"),
            ("legal_basis_inventory", "法律法规政策梳理"),
        ],
    )
    p.act(
        d,
        "open_consultation",
        "李明",
        "2025-03-12",
        {"comment_deadline": "2025-04-14", "channels": "政府网站,微信公众号"},
        [("consultation_notice", "征求意见公告")],
    )
    p.act(
        d,
        "close_consultation",
        "李明",
        "2025-04-15",
        docs=[("opinion_summary", "意见汇总"), ("adoption_statement", "采纳情况说明")],
    )
    hearing = office.definitions.rulebook.rules.get("national.price_hearing_held")
    basis = f"（{hearing.citation}）" if hearing is not None else ""
    say(f"  公交票价属公用事业价格，须举行价格听证{basis} / a bus fare is a public-utility price: hearing required")
    participants = "市民代表甲,市民代表乙,公交企业代表,人大代表丙,价格专家丁"
    p.act(
        d,
        "announce_hearing",
        "李明",
        "2025-04-18",
        {
            "hearing_date": "2025-04-28",
            "selection_method_published_on": "2025-04-16",
            "participant_list_published_on": "2025-04-18",
            "participants": participants,
        },
        [("hearing_notice", "听证公告"), ("participant_list", "听证参加人名单")],
    )
    p.act(
        d,
        "hold_hearing",
        "李明",
        "2025-04-28",
        {
            "materials_delivered_on": "2025-04-21",
            "participants": participants,
            "signed_by": "市民代表甲,市民代表乙,公交企业代表,价格专家丁",
            "absent": "人大代表丙",
            "signature_note": "人大代表丙因公出差未到场，已书面提交意见",
        },
        [("hearing_record", "听证笔录（缺席者已注明）")],
    )

    say("  尝试未经合法性审查直接提请审议 / attempt to skip the legality review:")
    try:
        office.act(d, "submit_for_discussion", "李明", {}, [p.doc("discussion_package", "提请审议报告")], "2025-04-29")
    except ActionRefused as refused:
        for u in refused.unmet:
            say(f"    ✗ [{u.rule_id}] {u.message_zh} ({u.citation})")

    p.act(
        d,
        "submit_legality_review",
        "李明",
        "2025-04-29",
        {"review_due": "2025-05-14"},
        [("legal_basis", "制定依据"), ("procedure_statement", "法定程序履行情况说明")],
    )
    p.act(d, "accept_review", "赵律师", "2025-04-30")
    p.act(d, "give_legal_opinion", "钱律师", "2025-05-08", docs=[("legal_counsel_opinion", "法律顾问法律意见书")])
    p.act(
        d,
        "find_needs_revision",
        "赵律师",
        "2025-05-09",
        {
            "authority": "compliant",
            "procedure": "compliant",
            "content": "non_compliant",
            "reason": "票价与补贴联动条款缺少调价听证程序，须修改",
        },
        [("review_opinion", "合法性审查意见书（需修改）")],
    )
    p.act(
        d,
        "resubmit_legality_review",
        "李明",
        "2025-05-12",
        {"review_due": "2025-05-23"},
        [("draft", "票价调整方案（修改稿）"), ("revision_explanation", "修改说明")],
    )
    p.act(d, "accept_review", "赵律师", "2025-05-12")
    p.act(
        d,
        "give_legal_opinion",
        "钱律师",
        "2025-05-20",
        docs=[("legal_counsel_opinion", "法律顾问法律意见书（修改稿）")],
    )
    p.act(
        d,
        "find_lawful",
        "赵律师",
        "2025-05-22",
        {"authority": "compliant", "procedure": "compliant", "content": "compliant"},
        [("review_opinion", "合法性审查意见书（合法）")],
    )
    p.act(
        d,
        "report_to_party_committee",
        "陈秘书",
        "2025-05-23",
        {"party_report_kind": "request"},
        [("party_report", "关于城区公交票价调整的请示")],
    )
    p.act(
        d,
        "record_party_reply",
        "陈秘书",
        "2025-05-26",
        {"party_reply": "同意提交政府常务会议审议"},
        [("party_committee_reply", "县委办公室复函")],
    )
    p.act(d, "submit_for_discussion", "李明", "2025-05-26", docs=[("discussion_package", "提请审议报告及材料清单")])
    p.act(
        d,
        "approve",
        "陈秘书",
        "2025-06-03",
        {
            "meeting_type": "executive",
            "attendees": "副县长甲,副县长乙,交通局长丙,王县长",
            "views": "副县长甲:approve,副县长乙:approve,交通局长丙:reject,王县长:approve:head",
        },
        [("minutes", "县政府第8次常务会议记录（含不同意见）")],
    )
    p.act(
        d,
        "publish",
        "陈秘书",
        "2025-06-05",
        {"publication_channels": "gazette,website"},
        [
            ("publication", "县政府公报2025年第6期"),
            ("interpretation", "政策解读"),
            ("adoption_explanation", "意见采纳情况说明"),
        ],
    )
    p.act(d, "assign_execution", "王县长", "2025-06-06", {"executor_unit": "县公交公司"})
    p.act(
        d,
        "report_execution",
        "孙经理",
        "2025-09-30",
        {"summary": "新票价平稳实施，日均客流下降3%"},
        [("execution_report", "第三季度执行情况报告")],
    )

    say("\nD-2025-002 县人民医院新院区（专家论证、风险评估）/ hospital project")
    office.propose(
        "吴刚",
        {
            "title": "县人民医院新院区建设项目",
            "category": "public_construction",
            "source": "leader",
            "technical": "true",
            "risk": "true",
            "catalogue_item": "2025-03",
        },
        [],
        "2025-07-01",
        "D-2025-002",
    )
    say("  2025-07-01  吴刚   propose                        → 已提议待研究 / Proposed")
    h = "D-2025-002"
    p.act(
        h,
        "launch",
        "王县长",
        "2025-07-03",
        {"organiser_unit": "县住房和城乡建设局", "catalogue_item": "2025-03"},
        [("launch_decision", "启动决定")],
    )
    p.act(
        h,
        "submit_draft",
        "吴刚",
        "2025-07-20",
        docs=[
            ("draft", "新院区建设方案"),
            ("drafting_explanation", "起草说明"),
            ("legal_basis_inventory", "法律法规政策梳理"),
        ],
    )
    p.act(
        h,
        "open_consultation",
        "吴刚",
        "2025-07-22",
        {"comment_deadline": "2025-08-22", "channels": "政府网站"},
        [("consultation_notice", "征求意见公告")],
    )
    p.act(
        h,
        "close_consultation",
        "吴刚",
        "2025-08-25",
        docs=[("opinion_summary", "意见汇总"), ("adoption_statement", "采纳情况说明")],
    )
    p.act(h, "commission_experts", "吴刚", "2025-08-26")
    for i, expert in enumerate(("张教授", "李高工", "黄研究员"), 1):
        p.act(
            h,
            "record_expert_opinion",
            "吴刚",
            f"2025-09-0{i}",
            {
                "expert": expert,
                "expert_unit": f"省专家库-{i}",
                "signed": "true",
                "conflict_of_interest": "false",
                "drawn_at_random": "true",
            },
            [("expert_opinion", f"{expert}书面论证意见")],
        )
    p.act(h, "conclude_expert_argumentation", "吴刚", "2025-09-05", docs=[("adoption_statement", "专家意见采纳情况")])
    p.act(h, "start_risk_assessment", "吴刚", "2025-09-08", {"assessor_unit": "县社会稳定风险评估中心"})
    p.act(
        h,
        "complete_risk_assessment",
        "吴刚",
        "2025-09-30",
        {
            "conclusion": "controllable",
            "risk_points": "征地拆迁,施工扰民",
            "prevention_measures": "公开补偿标准,夜间禁止施工",
            "contingency_plan": "成立专班处置群体性诉求",
            "dept_opinions": "自然资源局同意,卫健局同意",
            "assessor_unit": "县社会稳定风险评估中心",
        },
        [("risk_report", "社会稳定风险评估报告")],
    )
    say("  尝试取消已评估的风险属性 / attempt to clear the assessed risk flag:")
    try:
        office.act(
            h,
            "reassess_attributes",
            "吴刚",
            {"risk": "false", "reason": "风险已可控，不再列为风险事项"},
            [],
            "2025-10-08",
        )
    except ActionRefused as refused:
        for u in refused.unmet:
            say(f"    ✗ [{u.rule_id}] {u.message_zh} ({u.citation})")
    p.act(
        h,
        "submit_legality_review",
        "吴刚",
        "2025-10-09",
        {"review_due": "2025-10-20"},
        [("legal_basis", "制定依据"), ("procedure_statement", "法定程序履行情况说明")],
    )

    timeline = office.audit.replay(d)
    say(f"\n时间线 / timeline of {d} (replayed under its recorded definitions, every rule re-evaluated)")
    for s in timeline.steps:
        checked = sum(1 for r in s.rules if r[1] != "not_applicable")
        say(
            f"  #{s.seq:<2} {s.happened_on} {s.actor:<4} [{s.role}] {s.label.zh} / {s.label.en} · {checked} rules applied"
        )
    report = office.audit.verify()
    verdict = Text("历史完整，未发现篡改", "history intact") if report.ok else Text("发现问题", "FINDINGS")
    say(
        f"\n校验 / audit verify: {report.cases} cases, {report.events} events, {report.documents} documents: "
        f"{verdict.zh} / {verdict.en}"
    )
    return {"catalogue": "CAT-2025", "bus_fares": d, "hospital": h}

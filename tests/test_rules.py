"""Every rule of the shipped packs, case by case: an allowed and a refused action for each.

Issue "Done when": *a table-driven test per rule shows an allowed and a refused case and asserts the
citation in the refusal*.

- A **refused** case fires the action through the real engine and asserts: `ActionRefused` was raised,
  the rule is among the unmet requirements as a violation, its citation carries the article (Chinese
  and English, from `CITATIONS` below, written out by hand rather than read from the pack), and the
  case did not change.
- An **allowed** case asks the engine for the rule's result on that action (`passed`,
  `not_applicable` or `waived`), checks that nothing else blocks the action, and fires it.

So every case fails if its rule is removed from the pack: a refused case no longer names the rule,
and an allowed case finds no result for it.

Cases are built from two stories: `MAIN_PATH` (tests/support.py: a bus-fare decision that needs no
hearing, expert, risk or fair-competition stage) and `THOROUGH`, below: a technical, risky,
market-affecting matter of wide interest that runs every stage. A case walks one of them up to the
action it tries, with small replacements, removals or extra steps. Dates are real 2025 (and 2026)
days in order.

The tables follow the stages of the procedure; named tests after them go through the points the
issue asks about in more detail.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass, replace
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from decisions.config import load_deployment
from decisions.definitions import Definitions
from decisions.errors import ActionRefused, Unmet
from decisions.loading import load_definitions
from decisions.model import Case
from decisions.rules.evaluate import Outcome, RuleResult
from tests.support import MAIN_PATH, MEETING, TREE, F, Step, Story, V, rule_ids

D = date
WORKFLOWS = ("major_decision", "catalogue")

# ------------------------------------------------------------------------------------------------
# The citation each rule's refusal must carry: fragments of the legal text, written out by hand.
# ------------------------------------------------------------------------------------------------
DECREE = "国务院令第713号"
PRICE_LAW = "《中华人民共和国价格法》"
HUNAN_PROCEDURE = "《湖南省行政程序规定》"
HUNAN_CATALOGUE = "湘政办发〔2022〕33号"
PROPOSED_FOR_YOUXIAN = "攸县建议值，待县政府正式文本核定"
# Every citation whose source was not read in the primary text carries this mark; Decree 713's do not.
UNVERIFIED_MARK = "（出处未核实 / source not verified）"

CITATIONS: dict[str, tuple[str, ...]] = {
    "national.proposal_argued_by_department": (DECREE, "第十条第二项", "Art. 10 item (2)"),
    "national.public_proposal_in_writing": (DECREE, "第十条第三项", "Art. 10 item (3)"),
    "national.organiser_named": (DECREE, "第十一条", "Art. 11"),
    "national.lead_unit_when_several": (DECREE, "第十一条", "Art. 11"),
    "national.excluded_matter_recorded": (DECREE, "第三条第二款", "Art. 3(2)"),
    "national.drafting_materials_ready": (DECREE, "第十二条第一款、第二款，第十五条第一款", "Art. 12(1), 12(2), 15(1)"),
    "national.dispute_statement_when_disagreement": (DECREE, "第十三条", "Art. 13"),
    "national.non_disclosable_exemption": (DECREE, "第十四条第一款", "Art. 14(1)"),
    "national.public_participation_done": (DECREE, "第十四条第一款、第二款", "Art. 14(1), 14(2)"),
    "national.specific_group_consulted": (DECREE, "第十四条第三款", "Art. 14(3)"),
    "national.comment_period_minimum": (DECREE, "第十五条第一款", "Art. 15(1)"),
    "national.consultation_ran_its_period": (DECREE, "第十五条第一款", "Art. 15(1)"),
    "national.comment_period_change_minimum": (DECREE, "第十五条第一款（未规定期限变更）", "Art. 15(1)"),
    "national.comment_period_change_not_past": (DECREE, "第十五条第一款（未规定期限变更）", "Art. 15(1)"),
    "national.consultation_cancelled_with_reason": (DECREE, "第十五条第一款（未规定终止征求意见）", "Art. 15(1)"),
    "national.withdrawal_before_decision": (DECREE, "第三十条第一款（未规定撤回程序）", "Art. 30(1)"),
    "national.hearing_announced_in_advance": (DECREE, "第十六条第三款", "Art. 16(3)"),
    "national.hearing_materials_in_advance": (DECREE, "第十六条第三款", "Art. 16(3)"),
    "national.hearing_held_as_announced": (DECREE, "第十六条第二款", "Art. 16(2)"),
    "national.hearing_record_signed_by_all": (DECREE, "第十七条第三项", "Art. 17 item (3)"),
    "national.unsigned_participants_noted": (DECREE, "第十七条第三项", "Art. 17 item (3)"),
    "national.hearing_when_law_requires": (DECREE, "第十六条第一款", "Art. 16(1)"),
    "national.price_hearing_held": (PRICE_LAW, "第二十三条", "Price Law Art. 23"),
    "national.participation_recorded_after_it_took_place": (DECREE, "第十四条第二款", "Art. 14(2)"),
    "national.open_consultation_when_required": (DECREE, "第十五条第一款", "Art. 15(1)"),
    "national.stability_risk_is_a_risk": (DECREE, "第二十二条第一款", "Art. 22(1)"),
    "national.post_evaluation_heard_public_and_bodies": (DECREE, "第三十六条第三款", "Art. 36(3)"),
    "national.unpublished_only_when_non_disclosable": (DECREE, "第三十二条", "Art. 32"),
    "national.follow_up_decided_collectively": (DECREE, "第三十七条", "Art. 37"),
    "national.expert_opinion_signed": (DECREE, "第十九条第二款", "Art. 19(2)"),
    "national.expert_without_conflict": (DECREE, "第二十条", "Art. 20"),
    "national.expert_argumentation_when_technical": (DECREE, "第十九条第一款", "Art. 19(1)"),
    "national.risk_assessment_when_risky": (DECREE, "第二十二条第一款", "Art. 22(1)"),
    "national.risk_report_complete": (DECREE, "第二十三条第二款", "Art. 23(2)"),
    "national.risk_controllable": (DECREE, "第二十四条", "Art. 24"),
    "national.fair_competition_when_market": (DECREE, "第二十九条第一项", "Art. 29 item (1)"),
    "national.review_submission_complete": (DECREE, "第二十六条第一款", "Art. 26(1)"),
    "national.review_period_minimum": (DECREE, "第二十六条第二款", "Art. 26(2)"),
    "national.review_three_findings": (DECREE, "第二十七条", "Art. 27"),
    "national.lawful_only_with_lawful_findings": (DECREE, "第二十七条", "Art. 27"),
    "national.legal_counsel_consulted": (DECREE, "第二十八条", "Art. 28"),
    "national.reviewer_independent_of_drafter": (
        DECREE,
        "第二十五条第一款、第二十八条（起草人不得审查系据此推定，条文未明文规定）",
        "Art. 25(1), 28 (separation of duties inferred; not stated in the text)",
    ),
    "national.legal_risk_only_for_exploratory_reform": (DECREE, "第二十五条第二款", "Art. 25(2)"),
    "national.legality_review_lawful_for_current_draft": (DECREE, "第二十五条第二款", "Art. 25(2)"),
    "national.discussion_materials_complete": (DECREE, "第二十九条", "Art. 29"),
    "national.party_report_before_discussion": (DECREE, "第三十一条", "Art. 31"),
    "national.collective_discussion_held": (DECREE, "第三十条第一款、第三款", "Art. 30(1), 30(3)"),
    "national.head_speaks_last": (DECREE, "第三十条第二款", "Art. 30(2)"),
    "national.head_decides": (DECREE, "第三十条第一款", "Art. 30(1)"),
    "national.head_reasons_when_departing_from_majority": (DECREE, "第三十条第二款", "Art. 30(2)"),
    "national.every_member_view_recorded": (DECREE, "第三十条第三款", "Art. 30(3)"),
    "national.party_report_before_publication": (DECREE, "第三十一条", "Art. 31"),
    "national.npc_report_when_required": (DECREE, "第八条第一款", "Art. 8(1)"),
    "national.published_through_official_channel": (DECREE, "第三十二条", "Art. 32"),
    "national.adoption_explained_and_interpreted": (DECREE, "第三十二条", "Art. 32"),
    "national.executor_named": (DECREE, "第三十四条", "Art. 34"),
    "national.evaluator_independent": (DECREE, "第三十六条第二款", "Art. 36(2)"),
    "national.suspension_needs_urgency_and_problem_report": (DECREE, "第三十七条", "Art. 37"),
    "national.catalogue_screened_current_version": (HUNAN_CATALOGUE, "目录审核相关条款（条号待核", "not in Art. 3(3)"),
    "national.catalogue_meeting_approval": (HUNAN_CATALOGUE, "目录审议相关条款（条号待核", "not in Art. 3(3)"),
    "national.catalogue_party_consent_current_version": (DECREE, "第三条第三款", "Art. 3(3)"),
    "national.risk_flag_stays": (DECREE, "第二十二条第一款、第二十四条", "Art. 24"),
    "national.technical_flag_stays": (DECREE, "第十九条第一款", "Art. 19(1)"),
    "national.market_flag_stays": (DECREE, "第二十九条第一项", "Art. 29 item (1)"),
    "national.specific_group_flag_stays": (DECREE, "第十四条第三款", "Art. 14(3)"),
    "national.npc_flags_stay": (DECREE, "第八条第一款", "Art. 8(1)"),
    "national.attribute_clearance_concurred": (DECREE, "第七条", "internal control", "条例无明文"),
    "national.adverse_opinion_names_a_defect": (DECREE, "第二十七条", "Art. 27"),
    "national.unrevised_resubmission_explained": (DECREE, "第二十八条", "Art. 28"),
    "national.legal_opinion_by_another_person": (DECREE, "第二十八条", "Art. 28"),
    "national.reviewer_in_designated_department": (DECREE, "第二十五条第一款", "Art. 25(1)"),
    "national.party_reply_to_request": (DECREE, "第三十一条", "Art. 31"),
    "national.party_reply_answers_a_request": (DECREE, "第三十一条", "Art. 31"),
    "national.npc_resolution_when_npc_decides": (DECREE, "第八条第一款", "Art. 8(1)"),
    "hunan.hearing_triggers_stay": (HUNAN_PROCEDURE, "听证相关条款（条号待核）", "hearing provisions"),
    "hunan.hearing_mandatory": (HUNAN_PROCEDURE, "听证相关条款（条号待核）", "hearing provisions"),
    "hunan.on_catalogue_or_reason": (HUNAN_CATALOGUE, "目录外事项相关条款（条号待核）", "off-catalogue"),
    "hunan.catalogue_suggestion_fields": (HUNAN_CATALOGUE, "事项征集相关条款（条号待核）", "call-for-items"),
    "hunan.adjustment_has_reason": (HUNAN_CATALOGUE, "目录调整相关条款（条号待核）", "adjustment provisions"),
    "youxian.experts_drawn_at_random": (PROPOSED_FOR_YOUXIAN, "procedure.md", "at least 3 experts drawn at random"),
    "youxian.deferral_not_expired": (PROPOSED_FOR_YOUXIAN, "procedure.md", "a deferral over one year"),
    "youxian.deferral_expired": (PROPOSED_FOR_YOUXIAN, "procedure.md", "a deferral over one year"),
    "youxian.organiser_acts_for_own_unit": ("本项目建议值", "第十一条", "Art. 11"),
}

# ------------------------------------------------------------------------------------------------
# Building steps and paths
# ------------------------------------------------------------------------------------------------
_MAIN = {s.trigger: s for s in MAIN_PATH}
ARGUMENT_FIELDS = (V("problem"), V("reasons_and_basis"), V("preliminary_plan"), V("necessity"), V("feasibility"))


def main(
    trigger: str,
    *,
    actor: str | None = None,
    on: date | None = None,
    docs: tuple[str, ...] | None = None,
    drop: Collection[str] = (),
    **fields: Any,
) -> Step:
    """The main path's step for ``trigger``, with some of its actor, date, documents or fields changed."""
    s = _MAIN[trigger]
    kept = {k: v for k, v in s.fields.items() if k not in drop}
    return Step(trigger, actor or s.actor, on or s.on, {**kept, **F(**fields)}, s.docs if docs is None else docs)


def path(
    base: tuple[Step, ...] = MAIN_PATH,
    *,
    swap: Mapping[str, Step] | None = None,
    drop: Collection[str] = (),
) -> tuple[Step, ...]:
    """``base`` with some steps replaced (by trigger) and some left out."""
    swap = swap or {}
    return tuple(swap.get(s.trigger, s) for s in base if s.trigger not in drop)


def proposing(**flags: Any) -> Step:
    """The main path's proposal, with attributes of the matter set (technical, risk, ...)."""
    return main(V("propose"), **flags)


def main_with(**flags: Any) -> tuple[Step, ...]:
    """The main path for a matter with these attributes."""
    return path(swap={V("propose"): proposing(**flags)})


# -- extra steps used around the main path (after close_consultation on 2025-04-15) --------------
REASSESS_DISAGREE = Step(
    V("reassess_attributes"),
    "clerk_li",
    D(2025, 4, 15),
    {V("reason"): "财政局与交通运输局对补贴比例意见分歧，协调未果", V("departments_disagree"): True},
)
PARTICIPANTS = ["市民代表甲", "市民代表乙", "公交企业代表", "人大代表丙", "价格专家丁"]


def announce(on: date | None = None, **changes: Any) -> Step:
    fields = {
        V("selection_method_published_on"): D(2025, 4, 16),
        V("participant_list_published_on"): D(2025, 4, 18),
        V("hearing_date"): D(2025, 4, 28),
        V("participants"): PARTICIPANTS,
        **F(**changes),
    }
    return Step(
        V("announce_hearing"), "clerk_li", on or D(2025, 4, 18), fields, (V("hearing_notice"), V("participant_list"))
    )


def hold(on: date | None = None, **changes: Any) -> Step:
    fields = {
        V("materials_delivered_on"): D(2025, 4, 21),
        V("participants"): PARTICIPANTS,
        V("signed_by"): PARTICIPANTS,
        **F(**changes),
    }
    return Step(V("hold_hearing"), "clerk_li", on or D(2025, 4, 28), fields, (V("hearing_record"),))


def commission(on: date) -> Step:
    return Step(V("commission_experts"), "clerk_li", on)


def opinion(on: date, expert: str, unit: str, **changes: Any) -> Step:
    fields = {
        V("expert"): expert,
        V("expert_unit"): unit,
        V("signed"): True,
        V("conflict_of_interest"): False,
        V("drawn_at_random"): True,
        **F(**changes),
    }
    return Step(V("record_expert_opinion"), "clerk_li", on, fields, (V("expert_opinion"),))


def conclude(on: date) -> Step:
    return Step(V("conclude_expert_argumentation"), "clerk_li", on, {}, (V("adoption_statement"),))


def start_risk(on: date, **fields: Any) -> Step:
    return Step(V("start_risk_assessment"), "clerk_li", on, F(**fields))


RISK_REPORT = {
    V("risk_points"): ["低收入群体出行负担加重", "线路调整引发沿线居民不满"],
    V("prevention_measures"): ["老年人、学生票价优惠", "调整前30日公告"],
    V("contingency_plan"): "设立投诉专线，发生聚集事件时由县信访局牵头处置",
    V("dept_opinions"): ["县财政局：同意", "县公安局：风险可控"],
    V("assessor_unit"): "县社会稳定风险评估中心",
}


def complete_risk(on: date, conclusion: str = V("controllable"), drop: Collection[str] = (), **changes: Any) -> Step:
    fields = {k: v for k, v in {V("conclusion"): conclusion, **RISK_REPORT, **F(**changes)}.items() if k not in drop}
    return Step(V("complete_risk_assessment"), "clerk_li", on, fields, (V("risk_report"),))


def submit_review(on: date, due: date, **changes: Any) -> Step:
    return main(V("submit_legality_review"), on=on, review_due=due, **changes)


def find(
    trigger: str, on: date, actor: str = "counsel_zhao", docs: tuple[str, ...] | None = None, **changes: Any
) -> Step:
    fields = {
        V("authority"): V("compliant"),
        V("procedure"): V("compliant"),
        V("content"): V("compliant"),
        **F(**changes),
    }
    return Step(trigger, actor, on, fields, (V("review_opinion"),) if docs is None else docs)


def legal_opinion(on: date, actor: str = "lawyer_zheng") -> Step:
    """The legal adviser's opinion the reviewer must have before giving the review opinion (Art. 28)."""
    return Step(V("give_legal_opinion"), actor, on, {}, (V("legal_counsel_opinion"),))


LEGAL_RISK = "国家尚无明确规定，票价与财政补贴联动机制存在被认定越权定价的法律风险"


def meeting(
    trigger: str = V("approve"),
    on: date | None = None,
    views: list[dict[str, Any]] | None = None,
    attendees: list[str] | None = None,
    docs: tuple[str, ...] = (V("minutes"),),
    **extra: Any,
) -> Step:
    """The meeting of 2025-05-06 (the main path's), recorded as ``trigger``, with these views."""
    views = MEETING[V("views")] if views is None else views
    attendees = [v["member"] for v in views] if attendees is None else attendees
    return Step(
        trigger,
        "office_chen",
        on or D(2025, 5, 6),
        {V("meeting_type"): V("executive"), V("attendees"): attendees, V("views"): views, **F(**extra)},
        docs,
    )


def spoken(*positions: str, head: str, head_first: bool = False) -> list[dict[str, Any]]:
    """Members' views in speaking order (deputies a, b, c ...), the head last unless ``head_first``."""
    members = [{"member": f"deputy_{chr(97 + i)}", "position": p} for i, p in enumerate(positions)]
    head_view = {"member": "head_wang", "position": head, "head": True}
    return [head_view, *members] if head_first else [*members, head_view]


# -- THOROUGH: a matter that runs every stage ------------------------------------------------------
T_START = (
    Step(
        V("propose"),
        "clerk_li",
        D(2025, 2, 10),
        {
            V("title"): "城区公交线网优化与票价改革",
            V("category"): V("public_policy"),
            V("source"): V("department"),
            V("problem"): "线网重复、票价倒挂，公交企业连年亏损",
            V("reasons_and_basis"): "《价格法》《湖南省定价目录》",
            V("preliminary_plan"): "撤并重复线路，基础票价调至2元并实行换乘优惠",
            V("necessity"): "保障公交持续运营",
            V("feasibility"): "财政补贴与票价联动",
            V("technical"): True,
            V("risk"): True,
            V("market_entities"): True,
            V("high_public_interest"): True,
            V("major_public_interest"): True,
        },
        (V("proposal"),),
    ),
    Step(
        V("launch"),
        "head_wang",
        D(2025, 2, 12),
        {V("organiser_unit"): "县交通运输局", V("catalogue_item"): "2025-01"},
        (V("launch_decision"),),
    ),
    Step(
        V("submit_draft"),
        "clerk_li",
        D(2025, 2, 17),
        {},
        (V("draft"), V("drafting_explanation"), V("legal_basis_inventory")),
    ),
    Step(
        V("open_consultation"),
        "clerk_li",
        D(2025, 2, 19),
        {V("comment_deadline"): D(2025, 3, 24), V("channels"): ["website", "wechat"]},
        (V("consultation_notice"),),
    ),
    Step(V("close_consultation"), "clerk_li", D(2025, 3, 25), {}, (V("opinion_summary"), V("adoption_statement"))),
)
T_HEARING = (
    announce(
        D(2025, 3, 31),
        selection_method_published_on=D(2025, 3, 26),
        participant_list_published_on=D(2025, 3, 31),
        hearing_date=D(2025, 4, 10),
    ),
    hold(D(2025, 4, 10), materials_delivered_on=D(2025, 4, 2)),
)
EXPERT_UNIT = "长沙理工大学交通运输工程学院"
T_EXPERTS = (
    commission(D(2025, 4, 11)),
    opinion(D(2025, 4, 15), "张教授", EXPERT_UNIT),
    opinion(D(2025, 4, 16), "李研究员", "湖南省交通规划勘察设计院"),
    opinion(D(2025, 4, 17), "王高工", "株洲市公共交通研究所"),
    conclude(D(2025, 4, 18)),
)
T_RISK = (start_risk(D(2025, 4, 21)), complete_risk(D(2025, 4, 30)))
T_FAIR = (
    Step(V("start_fair_competition_review"), "clerk_li", D(2025, 5, 6)),
    Step(
        V("complete_fair_competition_review"),
        "clerk_li",
        D(2025, 5, 9),
        {V("fair_competition_conclusion"): V("compliant")},
        (V("fair_competition_record"),),
    ),
)
T_END = (
    submit_review(D(2025, 5, 12), D(2025, 5, 23)),
    Step(V("accept_review"), "counsel_zhao", D(2025, 5, 13)),
    legal_opinion(D(2025, 5, 19)),
    find(V("find_lawful"), D(2025, 5, 21)),
    Step(
        V("report_to_party_committee"),
        "office_chen",
        D(2025, 5, 23),
        {V("party_report_kind"): V("report")},
        (V("party_report"),),
    ),
    Step(V("submit_for_discussion"), "clerk_li", D(2025, 5, 26), {}, (V("discussion_package"),)),
    meeting(on=D(2025, 6, 3)),
    Step(
        V("publish"),
        "office_chen",
        D(2025, 6, 6),
        {V("publication_channels"): ["gazette", "website"]},
        (V("publication"), V("interpretation"), V("adoption_explanation")),
    ),
    Step(V("assign_execution"), "head_wang", D(2025, 6, 9), {V("executor_unit"): "县公交公司"}),
    Step(V("report_execution"), "exec_sun", D(2025, 7, 31), {V("summary"): "新线网运行平稳"}, (V("execution_report"),)),
    Step(V("complete_execution"), "exec_sun", D(2025, 12, 15), {V("summary"): "执行完毕"}, (V("execution_report"),)),
    Step(V("archive"), "office_chen", D(2025, 12, 24), {}, (V("archive_index"),)),
)


def thorough(
    *,
    hearing: tuple[Step, ...] = T_HEARING,
    experts: tuple[Step, ...] = T_EXPERTS,
    risk: tuple[Step, ...] = T_RISK,
    fair: tuple[Step, ...] = T_FAIR,
    swap: Mapping[str, Step] | None = None,
) -> tuple[Step, ...]:
    return path((*T_START, *hearing, *experts, *risk, *fair, *T_END), swap=swap)


THOROUGH = thorough()

# -- the catalogue: the 2025 annual catalogue, compiled in late 2024 -------------------------------
SUGGESTION = {
    V("item_id"): "2025-03",
    V("item_name"): "城区公交票价调整",
    V("basis_and_reasons"): "《价格法》；票价多年未调整",
    V("problem_to_solve"): "公交企业运营亏损",
    V("proposed_measures"): "基础票价由1元调至2元",
    V("organiser_unit"): "县交通运输局",
    V("category"): V("public_policy"),
    V("planned_period"): "2025年第二季度",
}
CATALOGUE_PATH: tuple[Step, ...] = (
    Step(
        V("open_call"),
        "office_chen",
        D(2024, 11, 4),
        {V("year"): 2025, V("deadline"): D(2024, 12, 10)},
        (V("call_notice"),),
    ),
    Step(V("suggest_item"), "clerk_li", D(2024, 11, 20), SUGGESTION, (V("suggestion_form"),)),
    Step(V("close_call"), "office_chen", D(2024, 12, 11)),
    Step(V("compile_catalogue"), "office_chen", D(2024, 12, 20), {}, (V("catalogue_draft"),)),
    Step(V("certify_screening"), "counsel_zhao", D(2024, 12, 27), {}, (V("screening_opinion"),)),
    Step(V("submit_for_approval"), "office_chen", D(2025, 1, 6)),
    Step(V("approve_at_meeting"), "office_chen", D(2025, 1, 10), {V("meeting_type"): V("executive")}, (V("minutes"),)),
    Step(V("record_party_consent"), "office_chen", D(2025, 1, 17), {}, (V("party_consent"),)),
    Step(
        V("publish_catalogue"),
        "office_chen",
        D(2025, 1, 24),
        {V("publication_channels"): ["gazette", "website"]},
        (V("publication"),),
    ),
)
_CAT = {s.trigger: s for s in CATALOGUE_PATH}
REQUEST_ADJUSTMENT = Step(
    V("request_adjustment"),
    "clerk_li",
    D(2025, 6, 3),
    {
        V("adjustment_kind"): V("add"),
        V("item_id"): "2025-07",
        V("item_name"): "城乡公交一体化",
        V("reason"): "省里部署城乡公交一体化，年中新增",
    },
    (V("adjustment_request"),),
)
COMPILE_ADJUSTMENT = Step(V("compile_adjustment"), "office_chen", D(2025, 6, 10), {}, (V("catalogue_draft"),))
RESCREEN = Step(V("certify_screening"), "counsel_zhao", D(2025, 6, 13), {}, (V("screening_opinion"),))
SUBMIT_ADJUSTMENT = Step(V("submit_adjustment"), "office_chen", D(2025, 6, 16))


def catalogue_step(trigger: str, **fields: Any) -> Step:
    s = _CAT[trigger]
    return replace(s, fields={**s.fields, **F(**fields)})


# ------------------------------------------------------------------------------------------------
# The case table machinery
# ------------------------------------------------------------------------------------------------
REFUSED = "refused"
PASSED = Outcome.PASSED.value
NOT_APPLICABLE = Outcome.NOT_APPLICABLE.value
WAIVED = Outcome.WAIVED.value


@dataclass(frozen=True)
class RuleCase:
    rule: str  # qualified rule id
    name: str  # what is special about the case
    expect: str  # REFUSED, or the rule's outcome when allowed
    attempt: Step
    steps: tuple[Step, ...] = MAIN_PATH  # the story walked ...
    until: str | None = None  # ... up to this trigger (default: the attempt's)
    then: tuple[Step, ...] = ()  # extra steps fired before the attempt
    workflow: str = "major_decision"
    deployment: str = "shipped"  # "party_first": Party report before the meeting; "consultation_required"
    tamper: Callable[[Case], Case] | None = None  # only for requirements the workflow already forces

    @property
    def id(self) -> str:
        return f"{self.rule.split('.', 1)[1]}-{self.name}-{self.expect.replace('_', '-')}"


def refused(rule: str, name: str, attempt: Step, **kw: Any) -> RuleCase:
    return RuleCase(rule, name, REFUSED, attempt, **kw)


def allowed(rule: str, name: str, *outcome_and_attempt: str | Step, **kw: Any) -> RuleCase:
    """``allowed(rule, name, step)``: the rule passes; ``allowed(rule, name, WAIVED, step)``: as said."""
    *outcome, attempt = outcome_and_attempt
    assert isinstance(attempt, Step) and all(isinstance(o, str) for o in outcome)
    return RuleCase(rule, name, str(outcome[0]) if outcome else PASSED, attempt, **kw)


def prepare(definitions: Definitions, c: RuleCase) -> Story:
    story = Story(definitions, c.workflow, case_id="C-2025" if c.workflow == "catalogue" else "D-2025-001")
    story.walk(c.until or c.attempt.trigger, c.steps)
    for s in c.then:
        story.step(s)
    if c.tamper is not None:
        story.case = c.tamper(story.case)
    return story


def result_of(results: tuple[RuleResult, ...], rule: str) -> RuleResult:
    found = [r for r in results if r.rule.id == rule]
    assert found, f"{rule} was not evaluated for this action (rules: {[r.rule.id for r in results]})"
    return found[0]


def the_unmet(exc: ActionRefused, rule: str) -> Unmet:
    assert rule in rule_ids(exc), f"{rule} not among the refusal's reasons {sorted(rule_ids(exc))}"
    return next(u for u in exc.unmet if u.rule_id == rule)


def assert_cited(exc: ActionRefused, rule: str) -> Unmet:
    """The refusal names ``rule`` as violated, with its article in Chinese and English."""
    unmet = the_unmet(exc, rule)
    assert unmet.kind == "violation", unmet
    for fragment in CITATIONS[rule]:
        assert fragment in unmet.citation, (fragment, unmet.citation)
    verified = CITATIONS[rule][0] == DECREE
    assert (UNVERIFIED_MARK in unmet.citation) is not verified, unmet.citation
    return unmet


def attempt_refused(story: Story, step: Step, rule: str) -> Unmet:
    """Fire ``step``, expect a refusal citing ``rule``, and check the case is unchanged."""
    before = story.case
    exc = story.refused(step.trigger, step.actor, step.on, step.fields, step.docs)
    assert story.case is before
    assert story.case.records == before.records and story.case.state == before.state
    return assert_cited(exc, rule)


def attempt_allowed(story: Story, step: Step, rule: str, outcome: str = PASSED) -> RuleResult:
    """Check ``step``: ``rule`` gives ``outcome`` and nothing blocks it; then fire it."""
    unmet, results = story.engine.check(story.case, story.action(step))
    result = result_of(results, rule)
    assert result.outcome == outcome, result
    assert not unmet, [str(u) for u in unmet]
    before = len(story.case.records)
    story.step(step)
    assert len(story.case.records) == before + 1
    return result


def outcome_now(story: Story, step: Step, rule: str) -> str:
    _, results = story.engine.check(story.case, story.action(step))
    return result_of(results, rule).outcome.value


# ------------------------------------------------------------------------------------------------
# Tables, stage by stage
# ------------------------------------------------------------------------------------------------
R = "national."

PROPOSAL = [
    allowed(R + "proposal_argued_by_department", "department-argued", main(V("propose"))),
    refused(
        R + "proposal_argued_by_department",
        "department-without-feasibility",
        main(V("propose"), drop=(V("feasibility"),)),
    ),
    refused(
        R + "proposal_argued_by_department",
        "lower-gov-without-plan",
        main(V("propose"), source=V("lower_gov"), drop=(V("preliminary_plan"),)),
    ),
    allowed(
        R + "proposal_argued_by_department",
        "leader-proposal",
        NOT_APPLICABLE,
        main(V("propose"), actor="office_chen", source=V("leader"), drop=ARGUMENT_FIELDS),
    ),
    allowed(
        R + "public_proposal_in_writing",
        "citizen-in-writing",
        main(V("propose"), actor="proposer_liu", source=V("public"), written=True, drop=ARGUMENT_FIELDS),
    ),
    refused(
        R + "public_proposal_in_writing",
        "citizen-not-in-writing",
        main(V("propose"), actor="proposer_liu", source=V("public"), written=False, drop=ARGUMENT_FIELDS),
    ),
    refused(
        R + "public_proposal_in_writing",
        "npc-deputy-not-in-writing",
        main(V("propose"), actor="proposer_liu", source=V("npc_deputy"), written=False, drop=ARGUMENT_FIELDS),
    ),
    allowed(R + "public_proposal_in_writing", "department-proposal", NOT_APPLICABLE, main(V("propose"))),
]

EXCLUDE = Step(
    V("exclude"),
    "head_wang",
    D(2025, 3, 5),
    {V("exclusion_reason"): V("legislation"), V("reason"): "属于政府立法事项，依立法程序办理"},
)
LAUNCH = [
    allowed(R + "organiser_named", "organiser-named", main(V("launch"))),
    refused(R + "organiser_named", "no-organiser", main(V("launch"), drop=(V("organiser_unit"),))),
    allowed(
        R + "lead_unit_when_several",
        "two-units-with-lead",
        main(V("launch"), units=["县交通运输局", "县发展和改革局"], lead_unit="县交通运输局"),
    ),
    refused(
        R + "lead_unit_when_several",
        "two-units-without-lead",
        main(V("launch"), units=["县交通运输局", "县发展和改革局"]),
    ),
    allowed(R + "lead_unit_when_several", "single-unit", NOT_APPLICABLE, main(V("launch"))),
    allowed("hunan.on_catalogue_or_reason", "on-catalogue", main(V("launch"))),
    allowed(
        "hunan.on_catalogue_or_reason",
        "off-catalogue-with-reason",
        main(V("launch"), drop=(V("catalogue_item"),), off_catalogue_reason="年中群众集中反映，已申请目录调整"),
    ),
    refused(
        "hunan.on_catalogue_or_reason", "off-catalogue-without-reason", main(V("launch"), drop=(V("catalogue_item"),))
    ),
    allowed(R + "excluded_matter_recorded", "reason-recorded", EXCLUDE, until=V("launch")),
    refused(
        R + "excluded_matter_recorded",
        "no-reason",
        replace(EXCLUDE, fields={V("exclusion_reason"): V("legislation")}),
        until=V("launch"),
    ),
]

NON_DISCLOSABLE = main_with(non_disclosable=True, title="县人民防空重点工程布局调整", category=V("public_construction"))
EXEMPT = Step(
    V("exempt_participation"),
    "clerk_li",
    D(2025, 3, 12),
    {V("nondisclosure_basis"): "《保守国家秘密法》第十三条：涉及国家秘密"},
)
REASSESS_DISCLOSABLE = Step(
    V("reassess_attributes"), "clerk_li", D(2025, 3, 14), {V("reason"): "经保密审查不涉密", V("non_disclosable"): False}
)
SUBMIT_EXEMPTED = submit_review(D(2025, 3, 17), D(2025, 3, 26))
DRAFTING = [
    allowed(R + "drafting_materials_ready", "draft-explanation-inventory", main(V("open_consultation"))),
    refused(
        R + "drafting_materials_ready",
        "no-legal-basis-inventory",
        main(V("open_consultation")),
        steps=path(swap={V("submit_draft"): main(V("submit_draft"), docs=(V("draft"), V("drafting_explanation")))}),
    ),
    allowed(
        R + "drafting_materials_ready",
        "exempted-with-materials",
        EXEMPT,
        steps=NON_DISCLOSABLE,
        until=V("open_consultation"),
    ),
    refused(
        R + "dispute_statement_when_disagreement",
        "disagreement-unstated",
        main(V("submit_legality_review")),
        then=(REASSESS_DISAGREE,),
    ),
    allowed(
        R + "dispute_statement_when_disagreement",
        "disagreement-stated",
        main(V("submit_legality_review")),
        then=(REASSESS_DISAGREE,),
        steps=path(
            swap={
                V("submit_draft"): main(
                    V("submit_draft"), docs=(*_MAIN[V("submit_draft")].docs, V("dispute_statement"))
                )
            }
        ),
    ),
    allowed(
        R + "dispute_statement_when_disagreement",
        "departments-agree",
        NOT_APPLICABLE,
        main(V("submit_legality_review")),
    ),
]

GROUP = main_with(affects_specific_group=True)
PARTICIPATION = [
    allowed(
        R + "non_disclosable_exemption",
        "non-disclosable-matter",
        EXEMPT,
        steps=NON_DISCLOSABLE,
        until=V("open_consultation"),
    ),
    refused(R + "non_disclosable_exemption", "disclosable-matter", EXEMPT, until=V("open_consultation")),
    allowed(R + "public_participation_done", "consultation-held", main(V("submit_legality_review"))),
    allowed(
        R + "public_participation_done",
        "non-disclosable-exempted",
        SUBMIT_EXEMPTED,
        steps=NON_DISCLOSABLE,
        until=V("open_consultation"),
        then=(EXEMPT,),
    ),
    refused(
        R + "public_participation_done",
        "reassessed-disclosable-never-consulted",
        SUBMIT_EXEMPTED,
        steps=NON_DISCLOSABLE,
        until=V("open_consultation"),
        then=(EXEMPT, REASSESS_DISCLOSABLE),
    ),
    refused(R + "specific_group_consulted", "group-not-consulted", main(V("submit_legality_review")), steps=GROUP),
    allowed(
        R + "specific_group_consulted",
        "group-consulted",
        main(V("submit_legality_review")),
        steps=path(
            GROUP,
            swap={
                V("close_consultation"): main(
                    V("close_consultation"),
                    docs=(V("opinion_summary"), V("adoption_statement"), V("group_consultation")),
                )
            },
        ),
    ),
    allowed(R + "specific_group_consulted", "no-specific-group", NOT_APPLICABLE, main(V("submit_legality_review"))),
    # 2025-03-12 + 30 calendar days = 2025-04-11 (the day of the notice is not counted)
    allowed(R + "comment_period_minimum", "30-days", main(V("open_consultation"), comment_deadline=D(2025, 4, 11))),
    refused(R + "comment_period_minimum", "29-days", main(V("open_consultation"), comment_deadline=D(2025, 4, 10))),
    allowed(
        R + "comment_period_minimum",
        "29-days-with-reason",
        WAIVED,
        main(
            V("open_consultation"),
            comment_deadline=D(2025, 4, 10),
            shortening_reason="省定价目录调整时限紧迫，已在公告中说明",
        ),
    ),
    allowed(
        R + "consultation_ran_its_period", "closed-after-deadline", main(V("close_consultation"), on=D(2025, 4, 15))
    ),
    refused(R + "consultation_ran_its_period", "closed-on-deadline", main(V("close_consultation"), on=D(2025, 4, 14))),
    refused(
        R + "consultation_ran_its_period", "closed-before-deadline", main(V("close_consultation"), on=D(2025, 4, 13))
    ),
]

AFTER_CLOSE = V("submit_legality_review")  # walking the main path up to here leaves the case in argumentation
# submitted after a hearing held on 2025-04-28: 2025-04-29 .. 2025-05-14 is 7 working days
SUBMIT_AFTER_HEARING = submit_review(D(2025, 4, 29), D(2025, 5, 14))
HEARING = [
    allowed(R + "hearing_announced_in_advance", "list-before-hearing", announce(), until=AFTER_CLOSE),
    refused(
        R + "hearing_announced_in_advance",
        "list-published-on-hearing-day",
        announce(D(2025, 4, 28), participant_list_published_on=D(2025, 4, 28)),
        until=AFTER_CLOSE,
    ),
    refused(
        R + "hearing_announced_in_advance",
        "selection-method-after-list",
        announce(selection_method_published_on=D(2025, 4, 18), participant_list_published_on=D(2025, 4, 17)),
        until=AFTER_CLOSE,
    ),
    refused(
        R + "hearing_announced_in_advance",
        "announced-after-its-date",
        announce(
            D(2025, 4, 18),
            selection_method_published_on=D(2025, 4, 16),
            participant_list_published_on=D(2025, 4, 16),
            hearing_date=D(2025, 4, 17),
        ),
        until=AFTER_CLOSE,
    ),
    allowed(R + "hearing_held_as_announced", "on-the-announced-date", hold(), until=AFTER_CLOSE, then=(announce(),)),
    refused(R + "hearing_held_as_announced", "a-day-late", hold(D(2025, 4, 29)), until=AFTER_CLOSE, then=(announce(),)),
    allowed(R + "hearing_materials_in_advance", "7-days", hold(), until=AFTER_CLOSE, then=(announce(),)),
    refused(
        R + "hearing_materials_in_advance",
        "6-days",
        hold(materials_delivered_on=D(2025, 4, 22)),
        until=AFTER_CLOSE,
        then=(announce(),),
    ),
    allowed(R + "hearing_record_signed_by_all", "all-signed", hold(), until=AFTER_CLOSE, then=(announce(),)),
    refused(
        R + "hearing_record_signed_by_all",
        "one-did-not-sign",
        hold(signed_by=PARTICIPANTS[:-1]),
        until=AFTER_CLOSE,
        then=(announce(),),
    ),
    refused(
        R + "hearing_record_signed_by_all",
        "listed-participant-left-out",
        hold(participants=PARTICIPANTS[:-1], signed_by=PARTICIPANTS[:-1]),
        until=AFTER_CLOSE,
        then=(announce(),),
    ),
    allowed(
        "hunan.hearing_mandatory",
        "hearing-held",
        SUBMIT_AFTER_HEARING,
        steps=main_with(major_public_interest=True),
        then=(announce(), hold()),
    ),
    refused(
        "hunan.hearing_mandatory",
        "major-public-interest-unheard",
        main(V("submit_legality_review")),
        steps=main_with(major_public_interest=True),
    ),
    refused(
        "hunan.hearing_mandatory",
        "opinion-divided-unheard",
        main(V("submit_legality_review")),
        steps=main_with(opinion_divided=True),
    ),
    refused(
        "hunan.hearing_mandatory",
        "stability-risk-unheard",
        main(V("submit_legality_review")),
        steps=main_with(stability_risk=True),
    ),
    allowed(
        "hunan.hearing_mandatory",
        "law-required-hearing-is-national",
        NOT_APPLICABLE,
        SUBMIT_AFTER_HEARING,
        steps=main_with(law_requires_hearing=True, regulated_public_price=True),
        then=(announce(), hold()),
    ),
    allowed("hunan.hearing_mandatory", "ordinary-matter", NOT_APPLICABLE, main(V("submit_legality_review"))),
    allowed("hunan.hearing_mandatory", "thorough-hearing-held", T_END[0], steps=THOROUGH),
    refused("hunan.hearing_mandatory", "thorough-without-hearing", T_END[0], steps=thorough(hearing=())),
]

COMMISSIONED = (commission(D(2025, 4, 16)),)
OPINION = opinion(D(2025, 4, 18), "张教授", EXPERT_UNIT)
TECHNICAL = main_with(technical=True)
TWO_OPINIONS = (*T_EXPERTS[:3], T_EXPERTS[-1])
EXPERTS = [
    allowed(R + "expert_opinion_signed", V("signed"), OPINION, until=AFTER_CLOSE, then=COMMISSIONED),
    refused(
        R + "expert_opinion_signed",
        "unsigned",
        replace(OPINION, fields={**OPINION.fields, V("signed"): False}),
        until=AFTER_CLOSE,
        then=COMMISSIONED,
    ),
    allowed(R + "expert_without_conflict", "no-interest", OPINION, until=AFTER_CLOSE, then=COMMISSIONED),
    refused(
        R + "expert_without_conflict",
        "works-for-the-bus-company",
        opinion(D(2025, 4, 18), "赵经理", "县公交公司", conflict_of_interest=True),
        until=AFTER_CLOSE,
        then=COMMISSIONED,
    ),
    allowed("youxian.experts_drawn_at_random", "drawn-from-pool", OPINION, until=AFTER_CLOSE, then=COMMISSIONED),
    refused(
        "youxian.experts_drawn_at_random",
        "hand-picked",
        opinion(D(2025, 4, 18), "张教授", EXPERT_UNIT, drawn_at_random=False),
        until=AFTER_CLOSE,
        then=COMMISSIONED,
    ),
    allowed(R + "expert_argumentation_when_technical", "three-signed-opinions", T_END[0], steps=THOROUGH),
    refused(
        R + "expert_argumentation_when_technical", "two-signed-opinions", T_END[0], steps=thorough(experts=TWO_OPINIONS)
    ),
    refused(
        R + "expert_argumentation_when_technical",
        "technical-without-experts",
        main(V("submit_legality_review")),
        steps=TECHNICAL,
    ),
    allowed(
        R + "expert_argumentation_when_technical", "not-technical", NOT_APPLICABLE, main(V("submit_legality_review"))
    ),
]

RISKY = main_with(risk=True)
RISK = [
    allowed(R + "risk_assessment_when_risky", "assessed", T_END[0], steps=THOROUGH),
    refused(R + "risk_assessment_when_risky", "not-assessed", T_END[0], steps=thorough(risk=())),
    refused(
        R + "risk_assessment_when_risky", "bus-fare-risky-not-assessed", main(V("submit_legality_review")), steps=RISKY
    ),
    allowed(R + "risk_assessment_when_risky", "no-risk", NOT_APPLICABLE, main(V("submit_legality_review"))),
    allowed(
        R + "risk_report_complete",
        "complete-report",
        complete_risk(D(2025, 4, 24)),
        until=AFTER_CLOSE,
        then=(start_risk(D(2025, 4, 16)),),
    ),
    refused(
        R + "risk_report_complete",
        "no-contingency-plan",
        complete_risk(D(2025, 4, 24), drop=(V("contingency_plan"),)),
        until=AFTER_CLOSE,
        then=(start_risk(D(2025, 4, 16)),),
    ),
    refused(
        R + "risk_report_complete",
        "no-departments-opinions",
        complete_risk(D(2025, 4, 24), drop=(V("dept_opinions"),)),
        until=AFTER_CLOSE,
        then=(start_risk(D(2025, 4, 16)),),
    ),
    allowed(R + "risk_controllable", V("controllable"), T_END[5], steps=THOROUGH),
    refused(
        R + "risk_controllable",
        "not-controllable",
        T_END[5],
        steps=thorough(risk=(T_RISK[0], complete_risk(D(2025, 4, 30), V("not_controllable")))),
    ),
    allowed(R + "risk_controllable", "no-risk", NOT_APPLICABLE, main(V("submit_for_discussion"))),
    allowed(R + "fair_competition_when_market", "reviewed", T_END[0], steps=THOROUGH),
    refused(R + "fair_competition_when_market", "not-reviewed", T_END[0], steps=thorough(fair=())),
    allowed(
        R + "fair_competition_when_market", "no-market-entities", NOT_APPLICABLE, main(V("submit_legality_review"))
    ),
]

# separation of duties: counsel_wu holds both legal_counsel and organiser


def organised_by_justice_bureau(steps: tuple[Step, ...]) -> tuple[Step, ...]:
    """``steps`` on a decision the Justice Bureau organises itself (an organiser acts only on its own
    unit's decisions, youxian.organiser_acts_for_own_unit): its clerk clerk_sf takes the organiser's
    steps the transport bureau's clerks took, unless another of the bureau's people already does."""
    launch = V("launch")
    out = []
    for s in steps:
        if s.trigger == launch:
            s = replace(s, fields={**s.fields, V("organiser_unit"): "县司法局"})
        elif s.actor in ("clerk_li", "clerk_he") and s.trigger != V("propose"):
            s = replace(s, actor="clerk_sf")
        out.append(s)
    return tuple(out)


DRAFTED_BY_WU = organised_by_justice_bureau(path(swap={V("submit_draft"): main(V("submit_draft"), actor="counsel_wu")}))
SUBMITTED_BY_WU = organised_by_justice_bureau(
    path(swap={V("submit_legality_review"): main(V("submit_legality_review"), actor="counsel_wu")})
)
EXPLORATORY = main_with(exploratory_reform=True)
FIND_LEGAL_RISK = find(V("find_legal_risk"), D(2025, 4, 25), legal_risk=LEGAL_RISK)
FIND_UNLAWFUL = find(
    V("find_unlawful"), D(2025, 4, 25), content=V("non_compliant"), reason="与《价格法》定价权限规定抵触"
)
AMEND = Step(V("amend_draft"), "clerk_li", D(2025, 4, 28), {}, (V("draft"), V("revision_explanation")))
# 2025-04-29 + 6 working days = 2025-05-12, + 7 = 2025-05-13: the May Day holiday 05-01..05-05 is not counted
REVIEW = [
    allowed(R + "review_submission_complete", "draft-basis-statement", main(V("submit_legality_review"))),
    refused(
        R + "review_submission_complete",
        "no-procedure-statement",
        main(V("submit_legality_review"), docs=(V("legal_basis"),)),
    ),
    refused(
        R + "review_submission_complete",
        "no-legal-basis",
        main(V("submit_legality_review"), docs=(V("procedure_statement"),)),
    ),
    allowed(R + "review_period_minimum", "11-working-days", main(V("submit_legality_review"))),
    allowed(R + "review_period_minimum", "7-working-days-over-may-day", submit_review(D(2025, 4, 29), D(2025, 5, 13))),
    refused(R + "review_period_minimum", "6-working-days-over-may-day", submit_review(D(2025, 4, 29), D(2025, 5, 12))),
    allowed(
        R + "review_period_minimum",
        "6-working-days-with-reason",
        WAIVED,
        submit_review(D(2025, 4, 29), D(2025, 5, 12), short_review_reason="须在省定价目录调整生效前完成审查"),
    ),
    allowed(R + "review_three_findings", "three-findings", main(V("find_lawful"))),
    refused(R + "review_three_findings", "no-content-finding", main(V("find_lawful"), drop=(V("content"),))),
    refused(
        R + "review_three_findings",
        "needs-revision-without-authority-finding",
        Step(
            V("find_needs_revision"),
            "counsel_zhao",
            D(2025, 4, 25),
            {V("procedure"): V("compliant"), V("content"): V("non_compliant"), V("reason"): "补贴条款需修改"},
            (V("review_opinion"),),
        ),
        until=V("find_lawful"),
    ),
    allowed(R + "lawful_only_with_lawful_findings", "all-compliant", main(V("find_lawful"))),
    refused(
        R + "lawful_only_with_lawful_findings",
        "content-non-compliant",
        main(V("find_lawful"), content=V("non_compliant")),
    ),
    allowed(R + "legal_counsel_consulted", "counsel-opinion-attached", main(V("find_lawful"))),
    refused(
        R + "legal_counsel_consulted",
        "no-counsel-opinion",
        main(V("find_lawful")),
        steps=path(drop=(V("give_legal_opinion"),)),
    ),
    allowed(R + "reviewer_independent_of_drafter", "other-counsel-accepts", main(V("accept_review"))),
    allowed(
        R + "reviewer_independent_of_drafter",
        "uninvolved-dual-role-counsel-accepts",
        main(V("accept_review"), actor="counsel_wu"),
    ),
    refused(
        R + "reviewer_independent_of_drafter",
        "drafter-accepts",
        main(V("accept_review"), actor="counsel_wu"),
        steps=DRAFTED_BY_WU,
    ),
    refused(
        R + "reviewer_independent_of_drafter",
        "submitter-accepts",
        main(V("accept_review"), actor="counsel_wu"),
        steps=SUBMITTED_BY_WU,
    ),
    refused(
        R + "reviewer_independent_of_drafter",
        "drafter-signs-opinion",
        main(V("find_lawful"), actor="counsel_wu"),
        steps=DRAFTED_BY_WU,
    ),
    allowed(
        R + "legal_risk_only_for_exploratory_reform",
        "exploratory-reform",
        FIND_LEGAL_RISK,
        steps=EXPLORATORY,
        until=V("find_lawful"),
    ),
    refused(R + "legal_risk_only_for_exploratory_reform", "ordinary-matter", FIND_LEGAL_RISK, until=V("find_lawful")),
    allowed(R + "legality_review_lawful_for_current_draft", "reviewed-lawful", main(V("submit_for_discussion"))),
    allowed(
        R + "legality_review_lawful_for_current_draft",
        "exploratory-legal-risk-disclosed",
        main(V("submit_for_discussion")),
        steps=path(EXPLORATORY, swap={V("find_lawful"): FIND_LEGAL_RISK}),
    ),
    refused(
        R + "legality_review_lawful_for_current_draft",
        "amended-after-review",
        main(V("submit_for_discussion")),
        then=(AMEND,),
    ),
    refused(
        R + "legality_review_lawful_for_current_draft",
        "found-unlawful",
        main(V("submit_for_discussion")),
        steps=path(swap={V("find_lawful"): FIND_UNLAWFUL}, drop=(V("report_to_party_committee"),)),
    ),
]


def _without_adoption_statement(case: Case) -> Case:
    """The case as if the consultation had been closed without its adoption statement."""
    records = tuple(
        replace(r, documents=tuple(d for d in r.documents if d.kind != V("adoption_statement"))) for r in case.records
    )
    return replace(case, records=records)


DISCUSSION = [
    allowed(R + "discussion_materials_complete", "bus-fare-package", main(V("submit_for_discussion"))),
    allowed(R + "discussion_materials_complete", "thorough-package", T_END[5], steps=THOROUGH),
    # Every document of the package is already required by an earlier transition (close_consultation,
    # complete_risk_assessment, ...), so the rule cannot be broken by firing actions: it is shown on a
    # snapshot whose consultation record lost its adoption statement (defence in depth).
    refused(
        R + "discussion_materials_complete",
        "no-adoption-statement",
        main(V("submit_for_discussion")),
        tamper=_without_adoption_statement,
    ),
    allowed(
        R + "party_report_before_discussion",
        "shipped-county-reports-before-publication",
        NOT_APPLICABLE,
        main(V("submit_for_discussion")),
        steps=path(drop=(V("report_to_party_committee"),)),
    ),
    allowed(
        R + "party_report_before_discussion",
        "party-first-county-reported",
        main(V("submit_for_discussion")),
        deployment="party_first",
    ),
    refused(
        R + "party_report_before_discussion",
        "party-first-county-not-reported",
        main(V("submit_for_discussion")),
        steps=path(drop=(V("report_to_party_committee"),)),
        deployment="party_first",
    ),
]

DEPARTING = spoken(V("reject"), V("reject"), V("approve"), head=V("approve"))
TIE = spoken(V("approve"), V("reject"), head=V("approve"))
MEETINGS = [
    allowed(R + "collective_discussion_held", "executive-meeting-minuted", main(V("approve"))),
    refused(R + "collective_discussion_held", "no-minutes", meeting(docs=())),
    allowed(R + "head_speaks_last", "head-last", main(V("approve"))),
    refused(
        R + "head_speaks_last",
        "head-first",
        meeting(views=spoken(V("approve"), V("approve"), V("reject"), head=V("approve"), head_first=True)),
    ),
    allowed(R + "head_decides", "head-approves", main(V("approve"))),
    refused(
        R + "head_decides",
        "head-rejects-minutes-say-approved",
        meeting(views=spoken(V("approve"), V("approve"), V("reject"), head=V("reject")), head_reasons="票价涨幅过大"),
    ),
    refused(R + "head_reasons_when_departing_from_majority", "departs-without-reasons", meeting(views=DEPARTING)),
    allowed(
        R + "head_reasons_when_departing_from_majority",
        "departs-with-reasons",
        meeting(views=DEPARTING, head_reasons="公交企业亏损已影响正常运营，必须及时调整"),
    ),
    allowed(R + "head_reasons_when_departing_from_majority", "follows-majority", NOT_APPLICABLE, main(V("approve"))),
    allowed(R + "head_reasons_when_departing_from_majority", "tie", NOT_APPLICABLE, meeting(views=TIE)),
    allowed(R + "every_member_view_recorded", "all-views", main(V("approve"))),
    refused(
        R + "every_member_view_recorded",
        "attendee-without-view",
        meeting(attendees=[*MEETING[V("attendees")], "deputy_d"]),
    ),
]

REPORT_TO_NPC = Step(V("report_to_npc"), "office_chen", D(2025, 5, 7), {}, (V("npc_report"),))
LATE_PARTY_REPORT = Step(
    V("report_to_party_committee"),
    "office_chen",
    D(2025, 5, 7),
    {V("party_report_kind"): V("report")},
    (V("party_report"),),
)
NO_PARTY_REPORT = path(drop=(V("report_to_party_committee"),))
HIGH_INTEREST = main_with(high_public_interest=True)
WITH_INTERPRETATION = main(V("publish"), docs=(V("publication"), V("interpretation"), V("adoption_explanation")))
PUBLICATION = [
    allowed(R + "party_report_before_publication", "reported-before-discussion", main(V("publish"))),
    allowed(
        R + "party_report_before_publication",
        "reported-after-decision",
        main(V("publish")),
        steps=NO_PARTY_REPORT,
        then=(LATE_PARTY_REPORT,),
    ),
    refused(R + "party_report_before_publication", "never-reported", main(V("publish")), steps=NO_PARTY_REPORT),
    allowed(
        R + "npc_report_when_required",
        "npc-reported",
        main(V("publish")),
        steps=main_with(npc_report_required=True),
        then=(REPORT_TO_NPC,),
    ),
    refused(
        R + "npc_report_when_required",
        "npc-not-reported",
        main(V("publish")),
        steps=main_with(npc_report_required=True),
    ),
    allowed(R + "npc_report_when_required", "no-npc-report-required", NOT_APPLICABLE, main(V("publish"))),
    allowed(R + "published_through_official_channel", "gazette-and-website", main(V("publish"))),
    allowed(
        R + "published_through_official_channel", "website-only", main(V("publish"), publication_channels=["website"])
    ),
    refused(
        R + "published_through_official_channel",
        "newspaper-only",
        main(V("publish"), publication_channels=["newspaper", "wechat"]),
    ),
    allowed(
        R + "adoption_explained_and_interpreted", "wide-interest-explained", WITH_INTERPRETATION, steps=HIGH_INTEREST
    ),
    refused(
        R + "adoption_explained_and_interpreted", "wide-interest-unexplained", main(V("publish")), steps=HIGH_INTEREST
    ),
    refused(
        R + "adoption_explained_and_interpreted",
        "wide-interest-no-interpretation",
        main(V("publish"), docs=(V("publication"), V("adoption_explanation"))),
        steps=HIGH_INTEREST,
    ),
    allowed(R + "adoption_explained_and_interpreted", "technical-explained", T_END[7], steps=THOROUGH),
    refused(
        R + "adoption_explained_and_interpreted",
        "technical-unexplained",
        replace(T_END[7], docs=(V("publication"),)),
        steps=THOROUGH,
    ),
    allowed(R + "adoption_explained_and_interpreted", "ordinary-matter", NOT_APPLICABLE, main(V("publish"))),
]


# -- issue 11: attributes that stay, the review's actors and details, the Party request, the NPC's decision --
AFTER_CLOSE_ON = D(2025, 4, 15)  # the main path's consultation closes on this day


def reassess(on: date = AFTER_CLOSE_ON, **flags: Any) -> Step:
    """The organiser re-assesses the matter's attributes (in argumentation after the consultation)."""
    return Step(V("reassess_attributes"), "clerk_li", on, {V("reason"): "重新研判后认为不再适用", **F(**flags)})


def concur(on: date = AFTER_CLOSE_ON, actor: str = "counsel_zhao") -> Step:
    return Step(V("concur_attribute_clearance"), actor, on, {V("reason"): "经核查，该情形已由市级统一评估处置"})


def clear(on: date = AFTER_CLOSE_ON, **flags: Any) -> Step:
    return Step(
        V("clear_attributes"), "head_wang", on, {V("reason"): "经合法性审查人员同意，属性认定有误", **F(**flags)}
    )


WITH_GROUP_CONSULTATION = path(
    swap={
        V("close_consultation"): main(
            V("close_consultation"), docs=(V("opinion_summary"), V("adoption_statement"), V("group_consultation"))
        )
    }
)
# (rule, flag, the steps that leave a stage record, and the path they run on, the day the stage ends)
STAGES: tuple[tuple[str, str, tuple[Step, ...], tuple[Step, ...], date], ...] = (
    (
        R + "risk_flag_stays",
        V("risk"),
        (start_risk(D(2025, 4, 16)), complete_risk(D(2025, 4, 24))),
        MAIN_PATH,
        D(2025, 4, 24),
    ),
    (
        R + "technical_flag_stays",
        V("technical"),
        (commission(D(2025, 4, 16)), opinion(D(2025, 4, 17), "张教授", EXPERT_UNIT), conclude(D(2025, 4, 18))),
        MAIN_PATH,
        D(2025, 4, 18),
    ),
    (R + "market_flag_stays", V("market_entities"), T_FAIR, MAIN_PATH, D(2025, 5, 9)),
    (R + "specific_group_flag_stays", V("affects_specific_group"), (), WITH_GROUP_CONSULTATION, D(2025, 4, 15)),
    ("hunan.hearing_triggers_stay", V("major_public_interest"), (announce(), hold()), MAIN_PATH, D(2025, 4, 28)),
)
ATTRIBUTES: list[RuleCase] = [
    case
    for rule, flag, stage, base, after in STAGES
    for case in (
        refused(rule, "set-at-proposal", reassess(**{flag: False}), steps=main_with(**{flag: True}), until=AFTER_CLOSE),
        refused(
            rule, "stage-record-exists", reassess(after, **{flag: False}), steps=base, until=AFTER_CLOSE, then=stage
        ),
        allowed(rule, "never-set", reassess(**{flag: False}), until=AFTER_CLOSE),
        allowed(
            rule,
            "flag-kept",
            NOT_APPLICABLE,
            reassess(**{flag: True}),
            steps=main_with(**{flag: True}),
            until=AFTER_CLOSE,
        ),
    )
]
ATTRIBUTES += [
    refused(
        R + "npc_flags_stay",
        "report-set-at-proposal",
        reassess(npc_report_required=False),
        steps=main_with(npc_report_required=True),
        until=AFTER_CLOSE,
    ),
    refused(
        R + "npc_flags_stay",
        "decision-set-at-proposal",
        reassess(npc_decision_required=False),
        steps=main_with(npc_decision_required=True),
        until=AFTER_CLOSE,
    ),
    allowed(R + "npc_flags_stay", "never-set", reassess(npc_report_required=False), until=AFTER_CLOSE),
    allowed(R + "npc_flags_stay", "other-attribute", NOT_APPLICABLE, REASSESS_DISAGREE, until=AFTER_CLOSE),
    allowed(
        R + "attribute_clearance_concurred",
        "concurred-by-reviewer",
        clear(risk=False),
        steps=main_with(risk=True),
        until=AFTER_CLOSE,
        then=(concur(),),
    ),
    refused(
        R + "attribute_clearance_concurred",
        "no-concurrence",
        clear(risk=False),
        steps=main_with(risk=True),
        until=AFTER_CLOSE,
    ),
    refused(
        R + "attribute_clearance_concurred",
        "concurrence-used-up",
        clear(technical=False),
        steps=main_with(risk=True, technical=True),
        until=AFTER_CLOSE,
        then=(concur(), clear(risk=False)),
    ),
]

NEEDS_REVISION = find(V("find_needs_revision"), D(2025, 4, 25), content=V("non_compliant"), reason="补贴条款需修改")
SENT_BACK = path(swap={V("find_lawful"): NEEDS_REVISION})
AFTER_REVIEW = V("report_to_party_committee")  # walking the main path up to here ends just after the opinion


def resubmit(docs: tuple[str, ...] = (), **fields: Any) -> Step:
    return Step(
        V("resubmit_legality_review"),
        "clerk_li",
        D(2025, 4, 28),
        {V("review_due"): D(2025, 5, 13), **F(**fields)},
        docs,
    )


REQUEST = main(V("report_to_party_committee"), party_report_kind=V("request"))
ASKED = path(swap={V("report_to_party_committee"): REQUEST})


AFTER_MEETING_ON = D(2025, 5, 7)  # the main path's meeting was on 05-06, publication on 05-08


def reply(on: date = AFTER_MEETING_ON) -> Step:
    return Step(
        V("record_party_reply"), "office_chen", on, {V("party_reply"): "同意出台"}, (V("party_committee_reply"),)
    )


RESOLUTION = Step(V("record_npc_resolution"), "office_chen", D(2025, 5, 7), {}, (V("npc_resolution"),))
SUPPLEMENTED = (
    Step(V("request_supplement"), "counsel_zhao", D(2025, 4, 23), {V("reason"): "缺少成本测算"}),
    Step(V("provide_supplement"), "clerk_li", D(2025, 4, 24), {}, (V("supplement"), V("draft"))),
)
REVIEW_DETAILS = [
    allowed(R + "legal_opinion_by_another_person", "adviser-opinion-on-this-draft", main(V("find_lawful"))),
    refused(
        R + "legal_opinion_by_another_person",
        "no-adviser-opinion",
        main(V("find_lawful")),
        steps=path(drop=(V("give_legal_opinion"),)),
    ),
    refused(
        R + "legal_opinion_by_another_person",
        "reviewer-own-opinion",
        main(V("find_lawful"), actor="counsel_lin"),
        steps=path(drop=(V("give_legal_opinion"),)),
        until=V("find_lawful"),
        then=(legal_opinion(D(2025, 4, 22), actor="counsel_lin"),),
    ),
    refused(
        R + "legal_opinion_by_another_person",
        "opinion-on-an-earlier-draft",
        main(V("find_lawful")),
        then=SUPPLEMENTED,
    ),
    allowed(R + "reviewer_in_designated_department", "justice-bureau-reviewer", main(V("accept_review"))),
    refused(
        R + "reviewer_in_designated_department",
        "reviewer-of-another-unit",
        main(V("accept_review"), actor="counsel_gao"),
    ),
    allowed(
        R + "reviewer_in_designated_department",
        "no-department-designated",
        NOT_APPLICABLE,
        main(V("accept_review"), actor="counsel_gao"),
        deployment="no_department",
    ),
    allowed(R + "adverse_opinion_names_a_defect", "content-non-compliant", NEEDS_REVISION, until=V("find_lawful")),
    refused(
        R + "adverse_opinion_names_a_defect",
        "needs-revision-all-compliant",
        find(V("find_needs_revision"), D(2025, 4, 25), reason="建议完善文字表述"),
        until=V("find_lawful"),
    ),
    refused(
        R + "adverse_opinion_names_a_defect",
        "unlawful-all-compliant",
        find(V("find_unlawful"), D(2025, 4, 25), reason="不合法"),
        until=V("find_lawful"),
    ),
    allowed(
        R + "unrevised_resubmission_explained",
        "revised-draft",
        resubmit((V("draft"), V("revision_explanation"))),
        steps=SENT_BACK,
        until=AFTER_REVIEW,
    ),
    allowed(
        R + "unrevised_resubmission_explained",
        "unrevised-with-statement",
        resubmit(resubmission_statement="审查意见所指条款系对上位法的误读，已书面说明，草案无需修改"),
        steps=SENT_BACK,
        until=AFTER_REVIEW,
    ),
    refused(
        R + "unrevised_resubmission_explained",
        "unrevised-without-statement",
        resubmit(),
        steps=SENT_BACK,
        until=AFTER_REVIEW,
    ),
    allowed(
        R + "unrevised_resubmission_explained", "after-lawful-opinion", NOT_APPLICABLE, resubmit(), until=AFTER_REVIEW
    ),
    allowed(R + "party_reply_to_request", "reply-received", main(V("publish")), steps=ASKED, then=(reply(),)),
    refused(R + "party_reply_to_request", "request-unanswered", main(V("publish")), steps=ASKED),
    allowed(R + "party_reply_to_request", "report-not-request", NOT_APPLICABLE, main(V("publish"))),
    allowed(
        R + "party_reply_answers_a_request",
        "after-request",
        reply(D(2025, 4, 28)),
        steps=ASKED,
        until=V("submit_for_discussion"),
    ),
    refused(
        R + "party_reply_answers_a_request", "after-report", reply(D(2025, 4, 28)), until=V("submit_for_discussion")
    ),
    allowed(
        R + "npc_resolution_when_npc_decides",
        "resolution-recorded",
        main(V("publish")),
        steps=main_with(npc_decision_required=True),
        then=(RESOLUTION,),
    ),
    refused(
        R + "npc_resolution_when_npc_decides",
        "no-resolution",
        main(V("publish")),
        steps=main_with(npc_decision_required=True),
    ),
    refused(
        R + "npc_resolution_when_npc_decides",
        "report-instead-of-resolution",
        main(V("publish")),
        steps=main_with(npc_decision_required=True),
        then=(REPORT_TO_NPC,),
    ),
    allowed(R + "npc_resolution_when_npc_decides", "not-for-the-congress", NOT_APPLICABLE, main(V("publish"))),
]

REPORT_PROBLEM = Step(
    V("report_problem"),
    "exec_sun",
    D(2025, 7, 15),
    {V("problem"): "早高峰运力不足，乘客投诉集中"},
    (V("problem_report"),),
)
SUSPEND = Step(
    V("suspend"),
    "head_wang",
    D(2025, 7, 16),
    {V("urgency_reason"): "连续两日发生乘客滞留，须立即中止新线网"},
    (V("suspension_decision"),),
)
EVALUATE = Step(
    V("start_post_evaluation"),
    "head_wang",
    D(2025, 10, 20),
    {V("evaluator_unit"): "湖南省社会科学院评估中心", V("evaluation_trigger"): V("many_complaints")},
)
EXECUTION = [
    allowed(R + "executor_named", "executor-named", main(V("assign_execution"))),
    refused(R + "executor_named", "no-executor", main(V("assign_execution"), drop=(V("executor_unit"),))),
    allowed(
        R + "suspension_needs_urgency_and_problem_report",
        "urgent-after-problem-report",
        SUSPEND,
        until=V("complete_execution"),
        then=(REPORT_PROBLEM,),
    ),
    refused(
        R + "suspension_needs_urgency_and_problem_report", "no-problem-report", SUSPEND, until=V("complete_execution")
    ),
    refused(
        R + "suspension_needs_urgency_and_problem_report",
        "no-urgency",
        replace(SUSPEND, fields={}),
        until=V("complete_execution"),
        then=(REPORT_PROBLEM,),
    ),
    allowed(
        R + "evaluator_independent", "independent-evaluator", EVALUATE, steps=THOROUGH, until=V("complete_execution")
    ),
    allowed(R + "evaluator_independent", "no-pre-decision-units", EVALUATE, until=V("complete_execution")),
    refused(
        R + "evaluator_independent",
        "evaluator-gave-expert-opinion",
        replace(EVALUATE, fields={**EVALUATE.fields, V("evaluator_unit"): EXPERT_UNIT}),
        steps=THOROUGH,
        until=V("complete_execution"),
    ),
    refused(
        R + "evaluator_independent",
        "evaluator-assessed-risk",
        replace(EVALUATE, fields={**EVALUATE.fields, V("evaluator_unit"): RISK_REPORT[V("assessor_unit")]}),
        steps=THOROUGH,
        until=V("complete_execution"),
    ),
]

# deferred at the meeting of 2025-05-06; twelve months later, the corresponding day, is 2026-05-06
DEFER = meeting(V("defer"), views=spoken(V("defer"), V("defer"), V("approve"), head=V("defer")))
RESUME = Step(V("resume_discussion"), "office_chen", D(2026, 5, 6), {V("reason"): "配套补贴资金已落实"})
LAPSE = Step(V("lapse"), "office_chen", D(2026, 5, 7))
DEFERRAL = [
    allowed("youxian.deferral_not_expired", "resumed-on-the-last-day", RESUME, until=V("approve"), then=(DEFER,)),
    refused(
        "youxian.deferral_not_expired",
        "resumed-the-day-after",
        replace(RESUME, on=D(2026, 5, 7)),
        until=V("approve"),
        then=(DEFER,),
    ),
    allowed("youxian.deferral_expired", "lapsed-the-day-after", LAPSE, until=V("approve"), then=(DEFER,)),
    refused(
        "youxian.deferral_expired",
        "lapsed-on-the-last-day",
        replace(LAPSE, on=D(2026, 5, 6)),
        until=V("approve"),
        then=(DEFER,),
    ),
]

C = {"steps": CATALOGUE_PATH, "workflow": "catalogue"}
CATALOGUE = [
    allowed("hunan.catalogue_suggestion_fields", "complete-suggestion", _CAT[V("suggest_item")], **C),
    refused(
        "hunan.catalogue_suggestion_fields",
        "no-proposed-measures",
        replace(_CAT[V("suggest_item")], fields={k: v for k, v in SUGGESTION.items() if k != V("proposed_measures")}),
        **C,
    ),
    allowed(R + "catalogue_screened_current_version", "screened", _CAT[V("submit_for_approval")], **C),
    refused(
        R + "catalogue_screened_current_version",
        "not-screened",
        _CAT[V("submit_for_approval")],
        steps=path(CATALOGUE_PATH, drop=(V("certify_screening"),)),
        workflow="catalogue",
    ),
    refused(
        R + "catalogue_screened_current_version",
        "recompiled-after-screening",
        _CAT[V("submit_for_approval")],
        then=(replace(_CAT[V("compile_catalogue")], on=D(2024, 12, 30)),),
        **C,
    ),
    allowed(
        R + "catalogue_screened_current_version",
        "adjustment-rescreened",
        SUBMIT_ADJUSTMENT,
        until="end",
        then=(REQUEST_ADJUSTMENT, COMPILE_ADJUSTMENT, RESCREEN),
        **C,
    ),
    refused(
        R + "catalogue_screened_current_version",
        "adjustment-not-rescreened",
        SUBMIT_ADJUSTMENT,
        until="end",
        then=(REQUEST_ADJUSTMENT, COMPILE_ADJUSTMENT),
        **C,
    ),
    allowed(R + "catalogue_meeting_approval", "executive-meeting", _CAT[V("approve_at_meeting")], **C),
    allowed(
        R + "catalogue_meeting_approval",
        "plenary-meeting",
        catalogue_step(V("approve_at_meeting"), meeting_type=V("plenary")),
        **C,
    ),
    refused(
        R + "catalogue_meeting_approval",
        "head-office-meeting",
        catalogue_step(V("approve_at_meeting"), meeting_type="head_office_meeting"),
        **C,
    ),
    allowed(R + "catalogue_party_consent_current_version", "consented", _CAT[V("publish_catalogue")], **C),
    refused(
        R + "catalogue_party_consent_current_version",
        "before-party-consent",
        replace(_CAT[V("publish_catalogue")], on=D(2025, 1, 13)),
        until=V("record_party_consent"),
        **C,
    ),
    allowed("hunan.adjustment_has_reason", "request-with-reason", REQUEST_ADJUSTMENT, until="end", **C),
    refused(
        "hunan.adjustment_has_reason",
        "request-without-reason",
        replace(REQUEST_ADJUSTMENT, fields={k: v for k, v in REQUEST_ADJUSTMENT.fields.items() if k != V("reason")}),
        until="end",
        **C,
    ),
    allowed(
        "hunan.adjustment_has_reason",
        "rejection-with-reason",
        Step(V("reject_adjustment"), "head_wang", D(2025, 6, 10), {V("reason"): "该事项已由市级统一决策"}),
        until="end",
        then=(REQUEST_ADJUSTMENT,),
        **C,
    ),
    refused(
        "hunan.adjustment_has_reason",
        "rejection-without-reason",
        Step(V("reject_adjustment"), "head_wang", D(2025, 6, 10)),
        until="end",
        then=(REQUEST_ADJUSTMENT,),
        **C,
    ),
]

# -- issue 11: participation by any method, hearings a law requires, unpublished non-disclosable
#    decisions, the follow-up of a suspension, participation in the post-evaluation ---------------
NO_CONSULTATION = (V("open_consultation"), V("close_consultation"))
FORUM = Step(
    V("record_participation"),
    "clerk_li",
    D(2025, 3, 20),
    {
        V("participation_method"): V("forum"),
        V("participation_date"): D(2025, 3, 18),
        V("summary"): "召开市民、公交企业座谈会，听取对票价方案的意见",
        V("participants"): ["市民代表甲", "公交企业代表"],
    },
    (V("participation_record"),),
)
FORUM_ONLY = path(drop=NO_CONSULTATION)
LAW_HEARING = main_with(law_requires_hearing=True)
PRICE = main_with(regulated_public_price=True)
STABILITY = main_with(stability_risk=True, risk=True)
STABILITY_ASSESSED = (
    announce(),
    hold(),
    start_risk(D(2025, 4, 29)),
    complete_risk(D(2025, 4, 30)),
)
SUBMIT_AFTER_RISK = submit_review(D(2025, 5, 6), D(2025, 5, 16))
HEARD_WITH_ABSENTEES = hold(
    signed_by=PARTICIPANTS[:3],
    absent=[PARTICIPANTS[3]],
    refused_to_sign=[PARTICIPANTS[4]],
    signature_note="人大代表丙因公出差未到场；价格专家丁对笔录第三页记载有异议，拒绝签字",
)
BASIS = "《保守国家秘密法》第十三条：涉及国家秘密"
SECRET = main_with(non_disclosable=True, nondisclosure_basis=BASIS)
EXECUTE_UNPUBLISHED = Step(
    V("execute_without_publication"), "head_wang", D(2025, 5, 9), {V("executor_unit"): "县人防办"}
)
SUSPENDED = (REPORT_PROBLEM, SUSPEND)
FOLLOW_UP_VIEWS = spoken(V("approve"), V("approve"), V("reject"), head=V("approve"))


def follow_up(trigger: str, **extra: Any) -> Step:
    """A meeting of 2025-08-05 after the suspension, recorded by the head as ``trigger``."""
    return replace(
        meeting(trigger, D(2025, 8, 5), FOLLOW_UP_VIEWS, reason="问题已整改，经常务会议研究", **extra),
        actor="head_wang",
    )


RESUME_EXECUTION = follow_up(V("resume_execution"))
COMPLETE_EVALUATION = Step(
    V("complete_post_evaluation"),
    "eval_zhou",
    D(2025, 11, 20),
    {
        V("summary"): "新票价总体达到预期，早高峰运力仍需加强",
        V("public_opinion_heard"): "网上问卷1,200份，召开乘客座谈会2场",
        V("participating_bodies"): ["人大代表丙", "政协委员戊", "县总工会", "城关镇社区居委会"],
    },
    (V("evaluation_report"),),
)
ISSUE_11 = [
    allowed(
        R + "public_participation_done",
        "forum-without-open-consultation",
        main(V("submit_legality_review")),
        steps=FORUM_ONLY,
        then=(FORUM,),
    ),
    allowed(R + "participation_recorded_after_it_took_place", "forum-held-before", FORUM, until=V("open_consultation")),
    refused(
        R + "participation_recorded_after_it_took_place",
        "forum-dated-in-the-future",
        replace(FORUM, fields={**FORUM.fields, V("participation_date"): D(2025, 3, 25)}),
        until=V("open_consultation"),
    ),
    allowed(
        R + "open_consultation_when_required",
        "county-requires-consultation-held",
        main(V("submit_legality_review")),
        deployment="consultation_required",
    ),
    refused(
        R + "open_consultation_when_required",
        "county-requires-forum-only",
        main(V("submit_legality_review")),
        steps=FORUM_ONLY,
        then=(FORUM,),
        deployment="consultation_required",
    ),
    allowed(
        R + "open_consultation_when_required",
        "organiser-chooses-nationally",
        NOT_APPLICABLE,
        main(V("submit_legality_review")),
        steps=FORUM_ONLY,
        then=(FORUM,),
    ),
    allowed(
        R + "hearing_record_signed_by_all",
        "absent-and-refusing-listed",
        HEARD_WITH_ABSENTEES,
        until=AFTER_CLOSE,
        then=(announce(),),
    ),
    refused(
        R + "hearing_record_signed_by_all",
        "absent-not-listed",
        replace(HEARD_WITH_ABSENTEES, fields={**HEARD_WITH_ABSENTEES.fields, V("absent"): []}),
        until=AFTER_CLOSE,
        then=(announce(),),
    ),
    refused(
        R + "hearing_record_signed_by_all",
        "signed-and-refused",
        replace(HEARD_WITH_ABSENTEES, fields={**HEARD_WITH_ABSENTEES.fields, V("signed_by"): PARTICIPANTS}),
        until=AFTER_CLOSE,
        then=(announce(),),
    ),
    refused(
        R + "hearing_record_signed_by_all",
        "absent-and-refused",
        replace(HEARD_WITH_ABSENTEES, fields={**HEARD_WITH_ABSENTEES.fields, V("refused_to_sign"): PARTICIPANTS[3:]}),
        until=AFTER_CLOSE,
        then=(announce(),),
    ),
    allowed(R + "unsigned_participants_noted", "noted", HEARD_WITH_ABSENTEES, until=AFTER_CLOSE, then=(announce(),)),
    refused(
        R + "unsigned_participants_noted",
        "refusal-without-note",
        replace(HEARD_WITH_ABSENTEES, fields={**HEARD_WITH_ABSENTEES.fields, V("signature_note"): ""}),
        until=AFTER_CLOSE,
        then=(announce(),),
    ),
    allowed(
        R + "unsigned_participants_noted", "all-signed", NOT_APPLICABLE, hold(), until=AFTER_CLOSE, then=(announce(),)
    ),
    allowed(
        R + "hearing_when_law_requires",
        "hearing-held",
        SUBMIT_AFTER_HEARING,
        steps=LAW_HEARING,
        then=(announce(), hold()),
    ),
    refused(
        R + "hearing_when_law_requires",
        "law-requires-hearing-unheard",
        main(V("submit_legality_review")),
        steps=LAW_HEARING,
    ),
    allowed(R + "hearing_when_law_requires", "no-law-requires-it", NOT_APPLICABLE, main(V("submit_legality_review"))),
    allowed(
        R + "price_hearing_held", "price-hearing-held", SUBMIT_AFTER_HEARING, steps=PRICE, then=(announce(), hold())
    ),
    refused(R + "price_hearing_held", "bus-fare-unheard", main(V("submit_legality_review")), steps=PRICE),
    allowed(R + "price_hearing_held", "not-a-regulated-price", NOT_APPLICABLE, main(V("submit_legality_review"))),
    allowed(
        R + "stability_risk_is_a_risk", "flagged-as-risk", SUBMIT_AFTER_RISK, steps=STABILITY, then=STABILITY_ASSESSED
    ),
    refused(
        R + "stability_risk_is_a_risk",
        "stability-risk-without-risk",
        SUBMIT_AFTER_HEARING,
        steps=main_with(stability_risk=True),
        then=(announce(), hold()),
    ),
    allowed(R + "stability_risk_is_a_risk", "no-stability-risk", NOT_APPLICABLE, main(V("submit_legality_review"))),
    allowed(
        R + "post_evaluation_heard_public_and_bodies",
        "public-and-deputies-took-part",
        COMPLETE_EVALUATION,
        until=V("complete_execution"),
        then=(EVALUATE,),
    ),
    refused(
        R + "post_evaluation_heard_public_and_bodies",
        "public-not-heard",
        replace(
            COMPLETE_EVALUATION,
            fields={k: v for k, v in COMPLETE_EVALUATION.fields.items() if k != V("public_opinion_heard")},
        ),
        until=V("complete_execution"),
        then=(EVALUATE,),
    ),
    refused(
        R + "post_evaluation_heard_public_and_bodies",
        "no-deputies-or-organisations",
        replace(COMPLETE_EVALUATION, fields={**COMPLETE_EVALUATION.fields, V("participating_bodies"): []}),
        until=V("complete_execution"),
        then=(EVALUATE,),
    ),
    allowed(
        R + "unpublished_only_when_non_disclosable",
        "secret-with-basis",
        EXECUTE_UNPUBLISHED,
        steps=SECRET,
        until=V("publish"),
    ),
    refused(R + "unpublished_only_when_non_disclosable", "disclosable-matter", EXECUTE_UNPUBLISHED, until=V("publish")),
    refused(
        R + "unpublished_only_when_non_disclosable",
        "flag-without-basis",
        EXECUTE_UNPUBLISHED,
        steps=main_with(non_disclosable=True),
        until=V("publish"),
    ),
    allowed(
        R + "follow_up_decided_collectively",
        "resumed-at-a-meeting",
        RESUME_EXECUTION,
        until=V("complete_execution"),
        then=SUSPENDED,
    ),
    refused(
        R + "follow_up_decided_collectively",
        "resumed-head-first",
        replace(
            RESUME_EXECUTION,
            fields={
                **RESUME_EXECUTION.fields,
                V("views"): spoken(V("approve"), head=V("approve"), head_first=True),
                V("attendees"): ["head_wang", "deputy_a"],
            },
        ),
        until=V("complete_execution"),
        then=SUSPENDED,
    ),
    allowed(
        R + "follow_up_decided_collectively",
        "stopped-at-a-meeting",
        follow_up(V("terminate_execution")),
        until=V("complete_execution"),
        then=SUSPENDED,
    ),
    refused(
        R + "follow_up_decided_collectively",
        "stopped-attendee-without-view",
        follow_up(V("terminate_execution"), attendees=["deputy_a", "deputy_b", "deputy_c", "deputy_d", "head_wang"]),
        until=V("complete_execution"),
        then=SUSPENDED,
    ),
    allowed(
        R + "follow_up_decided_collectively",
        "adjusted-at-a-meeting",
        follow_up(V("open_adjustment"), new_decision="D-2025-009", docs=(V("adjustment_plan"), V("minutes"))),
        until=V("complete_execution"),
        then=SUSPENDED,
    ),
]


# -- a running consultation changed or cancelled, a matter withdrawn (issue 13, item 3) ------------
# The main path opened the consultation on 2025-03-12 with the deadline 2025-04-14.
CHANGED_ON = D(2025, 3, 20)
RESCHEDULED_ON = D(2025, 4, 20)


def change_period(deadline: date, on: date = CHANGED_ON, **changes: Any) -> Step:
    fields = {V("comment_deadline"): deadline, V("reason"): "截止日期录入错误，重新公告", **F(**changes)}
    return Step(V("change_comment_period"), "clerk_li", on, fields, (V("consultation_notice"),))


def cancel_consultation(**fields: Any) -> Step:
    return Step(V("cancel_consultation"), "clerk_li", D(2025, 3, 20), F(**fields), (V("consultation_notice"),))


def withdraw(on: date, **fields: Any) -> Step:
    return Step(V("withdraw"), "head_wang", on, F(**fields))


def reschedule(hearing_date: date, on: date = RESCHEDULED_ON) -> Step:
    """A new hearing notice: the hearing announced for 2025-04-28 (`announce`) moved to ``hearing_date``."""
    fields = {**announce().fields, V("hearing_date"): hearing_date, V("reason"): "会场不可用，听证改期"}
    return Step(V("reschedule_hearing"), "clerk_li", on, fields, (V("hearing_notice"), V("participant_list")))


IN_CONSULTATION = V("close_consultation")  # walking the main path up to here leaves the consultation open
CHANGES = [
    # 2025-03-12 + 30 calendar days = 2025-04-11, counted from the opening notice
    allowed(R + "comment_period_change_minimum", "extended", change_period(D(2025, 5, 14)), until=IN_CONSULTATION),
    allowed(R + "comment_period_change_minimum", "30-days", change_period(D(2025, 4, 11)), until=IN_CONSULTATION),
    refused(R + "comment_period_change_minimum", "29-days", change_period(D(2025, 4, 10)), until=IN_CONSULTATION),
    allowed(
        R + "comment_period_change_minimum",
        "29-days-with-reason",
        WAIVED,
        change_period(D(2025, 4, 10), shortening_reason="汛期前须完成，已在变更公告中说明"),
        until=IN_CONSULTATION,
    ),
    allowed(
        R + "comment_period_change_not_past", "deadline-ahead", change_period(D(2025, 5, 14)), until=IN_CONSULTATION
    ),
    refused(
        R + "comment_period_change_not_past",
        "deadline-already-passed",
        change_period(D(2025, 3, 19), shortening_reason="已在变更公告中说明"),
        until=IN_CONSULTATION,
    ),
    allowed(
        R + "consultation_cancelled_with_reason",
        "with-reason",
        cancel_consultation(reason="草案需重大修改"),
        until=IN_CONSULTATION,
    ),
    refused(R + "consultation_cancelled_with_reason", "without-reason", cancel_consultation(), until=IN_CONSULTATION),
    allowed(
        R + "withdrawal_before_decision",
        "from-consultation",
        withdraw(D(2025, 3, 20), reason="上级政策调整，不再决策"),
        until=IN_CONSULTATION,
    ),
    refused(R + "withdrawal_before_decision", "without-reason", withdraw(D(2025, 3, 20)), until=IN_CONSULTATION),
    allowed(
        R + "hearing_announced_in_advance",
        "rescheduled",
        reschedule(D(2025, 5, 6)),
        until=AFTER_CLOSE,
        then=(announce(),),
    ),
    refused(
        R + "hearing_announced_in_advance",
        "rescheduled-to-a-past-day",
        reschedule(D(2025, 4, 19)),
        until=AFTER_CLOSE,
        then=(announce(),),
    ),
    allowed(
        R + "hearing_held_as_announced",
        "on-the-new-date",
        hold(D(2025, 5, 6), materials_delivered_on=D(2025, 4, 28)),
        until=AFTER_CLOSE,
        then=(announce(), reschedule(D(2025, 5, 6))),
    ),
    refused(
        R + "hearing_held_as_announced",
        "on-the-date-before-rescheduling",
        hold(),
        until=AFTER_CLOSE,
        then=(announce(), reschedule(D(2025, 5, 6))),
    ),
]

# -- 攸县: an organiser acts only on their own unit's decisions (the project's proposal, unverified) --
ORGANISER_UNIT = [
    allowed(
        "youxian.organiser_acts_for_own_unit", "the-transport-bureau-clerk-drafts-its-decision", main(V("submit_draft"))
    ),
    refused(
        "youxian.organiser_acts_for_own_unit",
        "a-justice-bureau-clerk-drafts-it",
        main(V("submit_draft"), actor="clerk_sf"),
    ),
    allowed(
        "youxian.organiser_acts_for_own_unit",
        "the-head-reassesses",
        NOT_APPLICABLE,
        replace(REASSESS_DISAGREE, actor="head_wang"),
        until=AFTER_CLOSE,
    ),
]


TABLE: list[RuleCase] = [
    *PROPOSAL,
    *LAUNCH,
    *DRAFTING,
    *PARTICIPATION,
    *HEARING,
    *EXPERTS,
    *RISK,
    *REVIEW,
    *DISCUSSION,
    *MEETINGS,
    *PUBLICATION,
    *EXECUTION,
    *DEFERRAL,
    *CATALOGUE,
    *ISSUE_11,
    *ATTRIBUTES,
    *REVIEW_DETAILS,
    *CHANGES,
    *ORGANISER_UNIT,
]


# ------------------------------------------------------------------------------------------------
# Fixtures: the shipped definitions, and a county copy that reports to the Party before the meeting
# ------------------------------------------------------------------------------------------------
def write_deployment(directory: Path, county_text: str) -> Path:
    """A deployment in ``directory`` using the shipped workflows, national and Hunan packs, and
    ``county_text`` as the county pack."""
    (directory / "county.yaml").write_text(county_text, encoding="utf-8")
    config = directory / "decisions.yaml"
    config.write_text(
        "workflows:\n"
        f"  - {TREE / 'workflows' / 'major_decision.yaml'}\n"
        f"  - {TREE / 'workflows' / 'catalogue.yaml'}\n"
        "rule_packs:\n"
        f"  - {TREE / 'rules' / 'national.yaml'}\n"
        f"  - {TREE / 'rules' / 'hunan.yaml'}\n"
        f"  - {directory / 'county.yaml'}\n"
        f"calendar: {TREE / 'rules' / 'calendar.yaml'}\n",
        encoding="utf-8",
    )
    return config


def definitions_at(config: Path) -> Definitions:
    d = load_deployment(config)
    return load_definitions(d.workflows, d.rule_packs, d.calendar)


@pytest.fixture(scope="module")
def party_first(tmp_path_factory: pytest.TempPathFactory) -> Definitions:
    text = (TREE / "rules" / "youxian.yaml").read_text(encoding="utf-8")
    old = "  party_report_position:\n    value: before_publication\n"
    assert old in text
    text = text.replace(old, "  party_report_position:\n    value: before_discussion\n")
    return definitions_at(write_deployment(tmp_path_factory.mktemp("party_first"), text))


@pytest.fixture(scope="module")
def consultation_required(tmp_path_factory: pytest.TempPathFactory) -> Definitions:
    """A county pack that requires every disclosable draft to be put out for open comment."""
    text = (TREE / "rules" / "youxian.yaml").read_text(encoding="utf-8")
    assert "\nparameters:\n" in text
    text = text.replace(
        "\nparameters:\n",
        "\nparameters:\n"
        "  open_consultation_required:\n"
        "    value: required\n"
        "    citation: {source: reference_local, article: 公众参与（假设的县规定）, article_en: participation (a hypothetical county rule)}\n",
    )
    return definitions_at(write_deployment(tmp_path_factory.mktemp("consultation_required"), text))


@pytest.fixture(scope="module")
def no_department(tmp_path_factory: pytest.TempPathFactory) -> Definitions:
    """A county pack that designates no legality-review department (the national default: none)."""
    text = (TREE / "rules" / "youxian.yaml").read_text(encoding="utf-8")
    start = text.index("  legality_review_department:\n")
    end = text.index("\n", text.index("    citation:", start)) + 1
    return definitions_at(write_deployment(tmp_path_factory.mktemp("no_department"), text[:start] + text[end:]))


def definitions_for(request: pytest.FixtureRequest, deployment: str) -> Definitions:
    fixtures = {
        "shipped": "definitions",
        "party_first": "party_first",
        "consultation_required": "consultation_required",
        "no_department": "no_department",
    }
    return request.getfixturevalue(fixtures[deployment])


# ------------------------------------------------------------------------------------------------
# The table test
# ------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("c", TABLE, ids=[c.id for c in TABLE])
def test_rule(c: RuleCase, request: pytest.FixtureRequest) -> None:
    story = prepare(definitions_for(request, c.deployment), c)
    if c.expect == REFUSED:
        attempt_refused(story, c.attempt, c.rule)
    else:
        attempt_allowed(story, c.attempt, c.rule, c.expect)


def test_table_covers_every_rule(definitions: Definitions) -> None:
    """Each rule of both workflows has a refused and an allowed case, and its citation on file; a rule
    with a `when` has a not-applicable case, a waivable one a waived case."""
    rules = {r.id: r for r in definitions.rulebook.rules.values() if r.workflow in WORKFLOWS}
    assert len(rules) == 83
    ids = [c.id for c in TABLE]
    assert len(ids) == len(set(ids)), "duplicate case ids"
    by_rule: dict[str, set[str]] = {}
    for c in TABLE:
        assert c.rule in rules, f"case {c.id} names a rule the packs do not define"
        by_rule.setdefault(c.rule, set()).add(c.expect)
    assert set(CITATIONS) == set(rules)
    for rule_id, rule in rules.items():
        expects = by_rule.get(rule_id, set())
        assert REFUSED in expects, f"{rule_id}: no refused case"
        assert expects & {PASSED, WAIVED}, f"{rule_id}: no allowed case"
        if rule.when is not None:
            assert NOT_APPLICABLE in expects, f"{rule_id}: no not-applicable case"
        if rule.waiver_field is not None:
            assert WAIVED in expects, f"{rule_id}: no waived case"


# ================================================================================================
# Named tests: the points the issue singles out
# ================================================================================================

# -- public comment period: calendar days (Art. 15(1)) -------------------------------------------
COMMENT = "national.comment_period_minimum"


def test_comment_period_counts_calendar_days(story: Story) -> None:
    """Opened 2025-03-12: a deadline 30 calendar days later (04-11) is enough, 29 days (04-10) is not,
    whatever the weekends and the Qingming holiday (04-04..04-06) in between; 29 days with a reason
    stated in the notice is waived, and the reason stays on the record."""
    story.walk(V("open_consultation"))
    assert outcome_now(story, main(V("open_consultation"), comment_deadline=D(2025, 4, 11)), COMMENT) == PASSED
    unmet = attempt_refused(story, main(V("open_consultation"), comment_deadline=D(2025, 4, 10)), COMMENT)
    assert "30日" in unmet.message_zh and "30 days" in unmet.message_en
    reason = "省定价目录调整时限紧迫，已在公告中说明"
    result = attempt_allowed(
        story,
        main(V("open_consultation"), comment_deadline=D(2025, 4, 10), shortening_reason=reason),
        COMMENT,
        WAIVED,
    )
    assert result.detail == (reason,)
    assert story.case.records[-1].fields[V("shortening_reason")] == reason


def test_blank_shortening_reason_does_not_waive(story: Story) -> None:
    story.walk(V("open_consultation"))
    attempt_refused(
        story, main(V("open_consultation"), comment_deadline=D(2025, 4, 10), shortening_reason="  "), COMMENT
    )


CLOSED = "national.consultation_ran_its_period"


def test_consultation_closes_the_day_after_its_deadline_at_the_earliest(story: Story) -> None:
    """The deadline 2025-04-14 runs to 24:00 (《民法典》第二百零三条第二款): closing on the deadline
    day is refused as well as before it; 04-15 is the earliest day."""
    story.walk(V("close_consultation"))
    attempt_refused(story, main(V("close_consultation"), on=D(2025, 4, 13)), CLOSED)
    unmet = attempt_refused(story, main(V("close_consultation"), on=D(2025, 4, 14)), CLOSED)
    assert "二十四时" in unmet.message_zh and "24:00" in unmet.message_en
    attempt_allowed(story, main(V("close_consultation"), on=D(2025, 4, 15)), CLOSED)


def test_a_comment_period_ending_on_a_holiday_runs_to_the_next_working_day(story: Story) -> None:
    """Opened 2025-04-01: 30 days counted from 04-02 end on 05-01, Labour Day (05-01..05-05). A
    deadline of 05-01 gives the 30 days (and no day less: 04-30 is refused), and the period then
    runs to the end of 05-06, the first working day after the holiday (《民法典》第二百零三条第一款):
    the consultation closes on 05-07 at the earliest."""
    story.walk(V("open_consultation"))
    attempt_refused(story, main(V("open_consultation"), on=D(2025, 4, 1), comment_deadline=D(2025, 4, 30)), COMMENT)
    attempt_allowed(story, main(V("open_consultation"), on=D(2025, 4, 1), comment_deadline=D(2025, 5, 1)), COMMENT)
    for day in (D(2025, 5, 1), D(2025, 5, 5), D(2025, 5, 6)):
        attempt_refused(story, main(V("close_consultation"), on=day), CLOSED)
    attempt_allowed(story, main(V("close_consultation"), on=D(2025, 5, 7)), CLOSED)


# -- legality review period: working days across May Day (Art. 26(2)) ----------------------------
REVIEW_PERIOD = "national.review_period_minimum"


def test_review_period_counts_working_days_across_may_day(story: Story, definitions: Definitions) -> None:
    """Submitted Tuesday 2025-04-29, before the Labour Day holiday (05-01..05-05, with Sunday 04-27 a
    make-up working day). Working days after the submission: 04-30, 05-06, 05-07, 05-08, 05-09,
    05-12, 05-13. So 05-13 gives 7 working days (allowed) and 05-12 only 6 (refused), although
    05-12 is 13 calendar days away."""
    submitted = D(2025, 4, 29)
    cal = definitions.calendar
    assert [cal.is_working_day(D(2025, 5, d)) for d in range(1, 6)] == [False] * 5
    assert cal.is_working_day(D(2025, 4, 27))  # the make-up Sunday

    story.walk(V("submit_legality_review"))
    unmet = attempt_refused(story, submit_review(submitted, D(2025, 5, 12)), REVIEW_PERIOD)
    assert "7个工作日" in unmet.message_zh and "7 working days" in unmet.message_en
    waived = submit_review(submitted, D(2025, 5, 12), short_review_reason="须在省定价目录调整生效前完成审查")
    assert outcome_now(story, waived, REVIEW_PERIOD) == WAIVED
    attempt_allowed(story, submit_review(submitted, D(2025, 5, 13)), REVIEW_PERIOD)


def test_review_period_applies_to_resubmission(story: Story) -> None:
    story.walk(V("submit_for_discussion"))
    story.step(AMEND)
    resubmit = Step(V("resubmit_legality_review"), "clerk_li", D(2025, 4, 29), {V("review_due"): D(2025, 5, 12)})
    attempt_refused(story, resubmit, REVIEW_PERIOD)
    attempt_allowed(story, replace(resubmit, fields={V("review_due"): D(2025, 5, 13)}), REVIEW_PERIOD)


# -- hearing (Art. 16-17) ------------------------------------------------------------------------
def test_hearing_materials_at_least_seven_days_before(story: Story) -> None:
    story.walk(AFTER_CLOSE).step(announce())
    rule = "national.hearing_materials_in_advance"
    unmet = attempt_refused(story, hold(materials_delivered_on=D(2025, 4, 22)), rule)
    assert "7日" in unmet.message_zh and "7 days" in unmet.message_en
    attempt_allowed(story, hold(materials_delivered_on=D(2025, 4, 21)), rule)


def test_every_hearing_participant_signs(story: Story) -> None:
    story.walk(AFTER_CLOSE).step(announce())
    rule = "national.hearing_record_signed_by_all"
    for signed in (PARTICIPANTS[:1], PARTICIPANTS[1:], PARTICIPANTS[:2]):
        attempt_refused(story, hold(signed_by=signed), rule)
    attempt_allowed(story, hold(signed_by=list(reversed(PARTICIPANTS))), rule)


def test_a_hearing_cannot_be_announced_after_its_date(story: Story) -> None:
    story.walk(AFTER_CLOSE)
    late = announce(
        D(2025, 4, 18),
        selection_method_published_on=D(2025, 4, 16),
        participant_list_published_on=D(2025, 4, 16),
        hearing_date=D(2025, 4, 17),
    )
    attempt_refused(story, late, "national.hearing_announced_in_advance")


# -- experts: the county raises the minimum (Art. 19; 攸县 rules) --------------------------------
EXPERT_RULE = "national.expert_argumentation_when_technical"


def test_county_pack_raises_the_expert_minimum_to_three(definitions: Definitions) -> None:
    story = Story(definitions).walk(V("submit_legality_review"), thorough(experts=TWO_OPINIONS))
    unmet = attempt_refused(story, T_END[0], EXPERT_RULE)
    assert "至少3名专家" in unmet.message_zh and "at least 3 different experts" in unmet.message_en
    provenance = " ".join(unmet.sources)
    assert "national: 1" in provenance and "youxian: 3" in provenance
    assert definitions.rulebook.parameters["expert_min_count"].value == 3

    story = Story(definitions).walk(V("submit_legality_review"), THOROUGH)
    attempt_allowed(story, T_END[0], EXPERT_RULE)


def test_three_opinions_of_one_expert_are_not_three_experts(definitions: Definitions) -> None:
    same_expert = (
        commission(D(2025, 4, 11)),
        opinion(D(2025, 4, 15), "张教授", EXPERT_UNIT),
        opinion(D(2025, 4, 16), "张教授", EXPERT_UNIT),
        opinion(D(2025, 4, 17), "张教授", EXPERT_UNIT),
        conclude(D(2025, 4, 18)),
    )
    story = Story(definitions).walk(V("submit_legality_review"), thorough(experts=same_expert))
    attempt_refused(story, T_END[0], EXPERT_RULE)


# -- separation of duties (Art. 25, 28) ----------------------------------------------------------
INDEPENDENT = "national.reviewer_independent_of_drafter"


def test_drafter_cannot_accept_or_sign_the_review(definitions: Definitions) -> None:
    """counsel_wu is both legal counsel and an organiser clerk: having drafted the draft, he can
    neither accept it for review nor issue the opinion; counsel_zhao can."""
    story = Story(definitions).walk(V("accept_review"), DRAFTED_BY_WU)
    attempt_refused(story, main(V("accept_review"), actor="counsel_wu"), INDEPENDENT)
    attempt_allowed(story, main(V("accept_review")), INDEPENDENT)
    story.step(main(V("give_legal_opinion")))
    attempt_refused(story, main(V("find_lawful"), actor="counsel_wu"), INDEPENDENT)
    attempt_allowed(story, main(V("find_lawful")), INDEPENDENT)


def test_submitter_cannot_review(definitions: Definitions) -> None:
    story = Story(definitions).walk(V("accept_review"), SUBMITTED_BY_WU)
    attempt_refused(story, main(V("accept_review"), actor="counsel_wu"), INDEPENDENT)
    attempt_allowed(story, main(V("accept_review")), INDEPENDENT)


def test_amending_a_draft_after_review_disqualifies_the_amender(story: Story) -> None:
    """counsel_wu amends the reviewed draft as an organiser; the new review must be someone else's."""
    story.walk(V("submit_for_discussion"), organised_by_justice_bureau(MAIN_PATH))
    story.do(V("amend_draft"), "counsel_wu", D(2025, 4, 28), docs=(V("draft"), V("revision_explanation")))
    story.do(V("resubmit_legality_review"), "clerk_sf", D(2025, 4, 29), {V("review_due"): D(2025, 5, 13)})
    attempt_refused(story, Step(V("accept_review"), "counsel_wu", D(2025, 4, 30)), INDEPENDENT)
    attempt_allowed(story, Step(V("accept_review"), "counsel_zhao", D(2025, 4, 30)), INDEPENDENT)


def test_dual_role_counsel_may_review_what_he_did_not_draft(story: Story) -> None:
    story.walk(V("accept_review"))
    attempt_allowed(story, main(V("accept_review"), actor="counsel_wu"), INDEPENDENT)
    story.step(main(V("give_legal_opinion")))
    attempt_allowed(story, main(V("find_lawful"), actor="counsel_wu"), INDEPENDENT)


# -- the legality-review gate (Art. 25(2)) -------------------------------------------------------
GATE = "national.legality_review_lawful_for_current_draft"


def test_amended_draft_needs_a_new_review_before_discussion(story: Story) -> None:
    story.walk(V("submit_for_discussion"))
    reviewed_version = story.case.draft_version
    story.step(AMEND)
    assert story.case.draft_version == reviewed_version + 1
    attempt_refused(story, main(V("submit_for_discussion")), GATE)

    story.do(
        V("resubmit_legality_review"),
        "clerk_li",
        D(2025, 4, 29),
        {V("review_due"): D(2025, 5, 13)},
        (V("revision_explanation"),),
    )
    story.do(V("accept_review"), "counsel_zhao", D(2025, 4, 30))
    story.step(legal_opinion(D(2025, 5, 8)))
    story.step(find(V("find_lawful"), D(2025, 5, 9)))
    attempt_allowed(story, main(V("submit_for_discussion"), on=D(2025, 5, 12)), GATE)
    assert story.case.state == V("in_discussion")


def test_unlawful_finding_blocks_submission(story: Story) -> None:
    story.walk(V("find_lawful")).step(FIND_UNLAWFUL)
    assert story.case.state == V("reviewed_unlawful")
    unmet = attempt_refused(story, main(V("submit_for_discussion")), GATE)
    assert "不得提请" in unmet.message_zh


def test_exploratory_reform_with_legal_risk_may_be_submitted(definitions: Definitions) -> None:
    story = Story(definitions).walk(V("find_lawful"), EXPLORATORY)
    attempt_allowed(story, FIND_LEGAL_RISK, "national.legal_risk_only_for_exploratory_reform")
    story.step(main(V("report_to_party_committee")))
    attempt_allowed(story, main(V("submit_for_discussion")), GATE)


def test_legal_risk_opinion_refused_for_an_ordinary_matter(story: Story) -> None:
    story.walk(V("find_lawful"))
    attempt_refused(story, FIND_LEGAL_RISK, "national.legal_risk_only_for_exploratory_reform")
    assert story.case.state == V("under_review")


def test_a_lawful_opinion_needs_three_compliant_findings(story: Story) -> None:
    story.walk(V("find_lawful"))
    for finding in (V("authority"), V("procedure"), V("content")):
        attempt_refused(
            story, main(V("find_lawful"), **{finding: V("non_compliant")}), "national.lawful_only_with_lawful_findings"
        )
    attempt_allowed(story, main(V("find_lawful")), "national.lawful_only_with_lawful_findings")


# -- the meeting (Art. 30) -----------------------------------------------------------------------
def test_head_speaks_last(story: Story) -> None:
    story.walk(V("approve"))
    head_first = spoken(V("approve"), V("approve"), V("reject"), head=V("approve"), head_first=True)
    attempt_refused(story, meeting(views=head_first), "national.head_speaks_last")
    attempt_allowed(story, main(V("approve")), "national.head_speaks_last")


def test_head_departing_from_majority_states_reasons(story: Story) -> None:
    story.walk(V("approve"))
    rule = "national.head_reasons_when_departing_from_majority"
    attempt_refused(story, meeting(views=DEPARTING), rule)
    attempt_allowed(story, meeting(views=DEPARTING, head_reasons="公交企业亏损已影响正常运营"), rule)
    assert story.case.state == V("decided")


def test_a_tie_needs_no_reasons(story: Story) -> None:
    story.walk(V("approve"))
    attempt_allowed(story, meeting(views=TIE), "national.head_reasons_when_departing_from_majority", NOT_APPLICABLE)


def test_every_attending_member_has_a_recorded_view(story: Story) -> None:
    story.walk(V("approve"))
    rule = "national.every_member_view_recorded"
    attempt_refused(story, meeting(attendees=[*MEETING[V("attendees")], "deputy_d"]), rule)
    attempt_allowed(
        story, meeting(views=[*spoken(V("approve"), V("approve"), V("reject"), V("abstain"), head=V("approve"))]), rule
    )


def test_only_attending_members_views_are_recorded(story: Story) -> None:
    story.walk(V("approve"))
    rule = "national.every_member_view_recorded"
    attempt_refused(story, meeting(attendees=["deputy_a", "deputy_b", "head_wang"]), rule)


def test_abstentions_are_not_a_majority_view(story: Story) -> None:
    """Two abstentions and one approval: the majority view is approval, so a head who approves
    departs from no one and needs no reasons."""
    story.walk(V("approve"))
    views = spoken(V("abstain"), V("abstain"), V("approve"), head=V("approve"))
    attempt_allowed(story, meeting(views=views), "national.head_reasons_when_departing_from_majority", NOT_APPLICABLE)


def test_meeting_rules_bind_every_outcome(story: Story) -> None:
    """Rejecting or sending back is held to the same meeting rules as approving."""
    story.walk(V("approve"))
    head_first = spoken(V("reject"), V("reject"), head=V("reject"), head_first=True)
    for trigger in (V("reject"), V("send_back_for_revision"), V("defer")):
        attempt_refused(story, meeting(trigger, views=head_first), "national.head_speaks_last")
    attempt_allowed(
        story,
        meeting(V("reject"), views=spoken(V("reject"), V("reject"), V("approve"), head=V("reject"))),
        "national.head_decides",
    )


# -- before and at publication (Art. 8, 31, 32) --------------------------------------------------
def test_party_report_before_publication(definitions: Definitions) -> None:
    story = Story(definitions).walk(V("publish"), NO_PARTY_REPORT)
    attempt_refused(story, main(V("publish")), "national.party_report_before_publication")
    story.step(LATE_PARTY_REPORT)
    attempt_allowed(story, main(V("publish")), "national.party_report_before_publication")


def test_npc_report_when_required(definitions: Definitions) -> None:
    story = Story(definitions).walk(V("publish"), main_with(npc_report_required=True))
    attempt_refused(story, main(V("publish")), "national.npc_report_when_required")
    story.step(REPORT_TO_NPC)
    attempt_allowed(story, main(V("publish")), "national.npc_report_when_required")


def test_publication_channel_includes_gazette_or_website(story: Story) -> None:
    story.walk(V("publish"))
    rule = "national.published_through_official_channel"
    unmet = attempt_refused(story, main(V("publish"), publication_channels=["newspaper", "tv"]), rule)
    assert "gazette" in unmet.message_en
    assert outcome_now(story, main(V("publish"), publication_channels=["gazette"]), rule) == PASSED
    attempt_allowed(story, main(V("publish"), publication_channels=["website", "newspaper"]), rule)


@pytest.mark.parametrize("flag", [V("high_public_interest"), V("technical")])
def test_adoption_explanation_and_interpretation(flag: str, definitions: Definitions) -> None:
    rule = "national.adoption_explained_and_interpreted"
    steps = HIGH_INTEREST if flag == V("high_public_interest") else THOROUGH
    story = Story(definitions).walk(V("publish"), steps)
    publish = next(s for s in steps if s.trigger == V("publish"))
    for docs in (
        (V("publication"),),
        (V("publication"), V("interpretation")),
        (V("publication"), V("adoption_explanation")),
    ):
        attempt_refused(story, replace(publish, docs=docs), rule)
    attempt_allowed(
        story, replace(publish, docs=(V("publication"), V("interpretation"), V("adoption_explanation"))), rule
    )


# -- risk (Art. 22-24) ---------------------------------------------------------------------------
def test_risk_not_controllable_blocks_discussion(definitions: Definitions) -> None:
    steps = thorough(risk=(T_RISK[0], complete_risk(D(2025, 4, 30), V("not_controllable"))))
    story = Story(definitions).walk(V("submit_for_discussion"), steps)
    attempt_refused(story, T_END[5], "national.risk_controllable")
    story = Story(definitions).walk(V("submit_for_discussion"), THOROUGH)
    attempt_allowed(story, T_END[5], "national.risk_controllable")


def test_revised_draft_reassessed_controllable_may_go_forward(definitions: Definitions) -> None:
    """Not controllable → the draft is revised and reassessed → controllable: the latest assessment counts."""
    revised = (
        T_RISK[0],
        complete_risk(D(2025, 4, 25), V("not_controllable")),
        Step(V("revise_draft"), "clerk_li", D(2025, 4, 28), {}, (V("draft"), V("revision_explanation"))),
        start_risk(D(2025, 4, 29)),
        complete_risk(D(2025, 4, 30)),
    )
    story = Story(definitions).walk(V("submit_for_discussion"), thorough(risk=revised))
    attempt_allowed(story, T_END[5], "national.risk_controllable")


# -- execution, suspension, post-evaluation (Art. 36-37) -----------------------------------------
SUSPENSION = "national.suspension_needs_urgency_and_problem_report"


def test_suspension_needs_urgency_and_a_prior_problem_report(story: Story) -> None:
    story.walk(V("complete_execution"))
    attempt_refused(story, SUSPEND, SUSPENSION)
    story.step(REPORT_PROBLEM)
    attempt_refused(story, replace(SUSPEND, fields={V("urgency_reason"): ""}), SUSPENSION)
    attempt_allowed(story, SUSPEND, SUSPENSION)
    assert story.case.state == V("suspended")


@pytest.mark.parametrize(
    "unit, independent",
    [
        (EXPERT_UNIT, False),
        ("湖南省交通规划勘察设计院", False),
        (RISK_REPORT[V("assessor_unit")], False),
        ("湖南省社会科学院评估中心", True),
    ],
)
def test_evaluator_independent_of_expert_and_risk_units(unit: str, independent: bool, definitions: Definitions) -> None:
    story = Story(definitions).walk(V("complete_execution"), THOROUGH)
    step = replace(EVALUATE, fields={**EVALUATE.fields, V("evaluator_unit"): unit})
    if independent:
        attempt_allowed(story, step, "national.evaluator_independent")
    else:
        attempt_refused(story, step, "national.evaluator_independent")


def test_evaluator_independent_of_assessor_named_at_start(definitions: Definitions) -> None:
    assessor = "县社会稳定风险评估中心"
    risk = (
        start_risk(D(2025, 4, 21), assessor_unit=assessor),
        complete_risk(D(2025, 4, 30), drop=(V("assessor_unit"),)),
    )
    story = Story(definitions).walk(V("complete_execution"), thorough(risk=risk))
    attempt_refused(
        story,
        replace(EVALUATE, fields={**EVALUATE.fields, V("evaluator_unit"): assessor}),
        "national.evaluator_independent",
    )


# -- deferral (攸县: more than a year, 12 months, leaves the procedure) ------------------------------
def test_deferral_resume_within_a_year(story: Story) -> None:
    story.walk(V("approve")).step(DEFER)
    unmet = attempt_refused(story, replace(RESUME, on=D(2026, 5, 7)), "youxian.deferral_not_expired")
    assert "12个月" in unmet.message_zh and "12 months" in unmet.message_en
    attempt_allowed(story, RESUME, "youxian.deferral_not_expired")
    assert story.case.state == V("in_discussion")


def test_deferral_lapses_only_after_a_year(story: Story) -> None:
    story.walk(V("approve")).step(DEFER)
    attempt_refused(story, replace(LAPSE, on=D(2026, 5, 6)), "youxian.deferral_expired")
    attempt_refused(story, replace(LAPSE, on=D(2025, 11, 6)), "youxian.deferral_expired")
    attempt_allowed(story, LAPSE, "youxian.deferral_expired")
    assert story.case.state == V("lapsed")


def test_deferral_counts_from_the_latest_deferral(story: Story) -> None:
    """Resumed, then deferred again at a second meeting: the year runs from the second one."""
    story.walk(V("approve")).step(DEFER).step(replace(RESUME, on=D(2025, 11, 3)))
    story.step(meeting(V("defer"), on=D(2025, 11, 10), views=spoken(V("defer"), V("defer"), head=V("defer"))))
    attempt_allowed(story, replace(RESUME, on=D(2026, 11, 10)), "youxian.deferral_not_expired")


# -- the catalogue (Art. 3(3); 湘政办发〔2022〕33号) ---------------------------------------------
SCREENED = "national.catalogue_screened_current_version"


def catalogue(definitions: Definitions) -> Story:
    return Story(definitions, "catalogue", "C-2025")


def test_catalogue_recompiled_after_screening_is_rescreened(definitions: Definitions) -> None:
    story = catalogue(definitions).walk(V("submit_for_approval"), CATALOGUE_PATH)
    story.step(replace(_CAT[V("compile_catalogue")], on=D(2024, 12, 30)))
    attempt_refused(story, _CAT[V("submit_for_approval")], SCREENED)
    story.step(replace(_CAT[V("certify_screening")], on=D(2025, 1, 3)))
    attempt_allowed(story, _CAT[V("submit_for_approval")], SCREENED)


def test_catalogue_adjustment_compiled_after_screening_is_rescreened(definitions: Definitions) -> None:
    """An adjustment makes a new catalogue version; it is screened, approved, consented and published."""
    story = catalogue(definitions).walk("end", CATALOGUE_PATH)
    story.step(REQUEST_ADJUSTMENT).step(COMPILE_ADJUSTMENT)
    assert story.case.draft_version == 2
    attempt_refused(story, SUBMIT_ADJUSTMENT, SCREENED)
    story.step(RESCREEN)
    # compiled once more after that screening: screened again
    story.step(replace(COMPILE_ADJUSTMENT, trigger=V("compile_catalogue"), on=D(2025, 6, 13)))
    attempt_refused(story, SUBMIT_ADJUSTMENT, SCREENED)
    story.step(replace(RESCREEN, on=D(2025, 6, 16)))
    attempt_allowed(story, SUBMIT_ADJUSTMENT, SCREENED)
    story.do(
        V("approve_adjustment"), "office_chen", D(2025, 6, 20), {V("meeting_type"): V("executive")}, (V("minutes"),)
    )
    attempt_refused(
        story,
        Step(
            V("publish_adjustment"),
            "office_chen",
            D(2025, 6, 24),
            {V("publication_channels"): ["website"]},
            (V("publication"),),
        ),
        "national.catalogue_party_consent_current_version",
    )
    story.do(V("record_adjustment_consent"), "office_chen", D(2025, 6, 27), docs=(V("party_consent"),))
    attempt_allowed(
        story,
        Step(
            V("publish_adjustment"),
            "office_chen",
            D(2025, 7, 1),
            {V("publication_channels"): ["website"]},
            (V("publication"),),
        ),
        "national.catalogue_party_consent_current_version",
    )
    assert story.case.state == V("published") and story.case.draft_version == 3

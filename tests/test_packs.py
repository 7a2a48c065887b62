"""Rule packs layer and swap: local limits change by configuration, never by code.

Each test writes a deployment to ``tmp_path``: the shipped workflows, national and Hunan packs, and a
county pack that is a text copy of ``rules/youxian.yaml`` with a few lines changed (as an office
would edit it), then loads it exactly as the application does (`load_deployment` +
`load_definitions`) and fires actions through the engine.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from pathlib import Path

import pytest

from decisions.config import load_deployment
from decisions.definitions import Definitions
from decisions.errors import DefinitionError
from decisions.loading import load_definitions
from tests.support import ROOT, Story, rule_ids
from tests.test_rules import (
    DEFER,
    RESUME,
    T_END,
    THOROUGH,
    TWO_OPINIONS,
    attempt_allowed,
    attempt_refused,
    main,
    path,
    thorough,
)

D = date
YOUXIAN = (ROOT / "rules" / "youxian.yaml").read_text(encoding="utf-8")
EXPERTS = "national.expert_argumentation_when_technical"
COMMENT = "national.comment_period_minimum"
PARTY_FIRST = "national.party_report_before_discussion"


def edit(text: str, old: str, new: str) -> str:
    """``text`` with the one occurrence of ``old`` replaced (the edit must hit)."""
    assert text.count(old) == 1, f"expected exactly one {old!r} in the pack"
    return text.replace(old, new)


def county(
    pack_id: str = "liling",
    *,
    expert_min_count: int | None = None,
    extra_parameters: str = "",
    party_report_position: str | None = None,
) -> str:
    """A copy of the 攸县 pack renamed ``pack_id``, with the given local values."""
    text = edit(YOUXIAN, "  id: youxian\n", f"  id: {pack_id}\n")
    if expert_min_count is not None:
        text = edit(
            text, "  expert_min_count:\n    value: 3\n", f"  expert_min_count:\n    value: {expert_min_count}\n"
        )
    if party_report_position is not None:
        text = edit(
            text,
            "  party_report_position:\n    value: before_publication\n",
            f"  party_report_position:\n    value: {party_report_position}\n",
        )
    if extra_parameters:
        text = edit(text, "\nparameters:\n", "\nparameters:\n" + extra_parameters)
    return text


def deploy(directory: Path, *packs: tuple[str, str]) -> Path:
    """Write ``decisions.yaml`` in ``directory``: shipped workflows, national and Hunan packs, then
    each ``(file name, text)`` pack in order. Returns the config path."""
    names = []
    for name, text in packs:
        (directory / name).write_text(text, encoding="utf-8")
        names.append(str(directory / name))
    lines = [
        "workflows:",
        f"  - {ROOT / 'workflows' / 'major_decision.yaml'}",
        f"  - {ROOT / 'workflows' / 'catalogue.yaml'}",
        "rule_packs:",
        f"  - {ROOT / 'rules' / 'national.yaml'}",
        f"  - {ROOT / 'rules' / 'hunan.yaml'}",
        *(f"  - {n}" for n in names),
        f"calendar: {ROOT / 'rules' / 'calendar.yaml'}",
    ]
    config = directory / "decisions.yaml"
    config.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return config


def definitions_at(config: Path) -> Definitions:
    d = load_deployment(config)
    return load_definitions(d.workflows, d.rule_packs, d.calendar)


def load(directory: Path, *packs: tuple[str, str]) -> Definitions:
    return definitions_at(deploy(directory, *packs))


def comment_period(days: int) -> str:
    return (
        "  comment_period_days:\n"
        f"    value: {days}\n"
        "    citation: {source: project_proposal, article: 公众参与期限（建议值）, article_en: participation (proposal)}\n"
    )


def submit_with_experts(definitions: Definitions, experts: tuple = ()) -> Story:
    """The thorough story up to its legality-review submission, with these expert steps."""
    steps = thorough(experts=experts) if experts else THOROUGH
    return Story(definitions).walk("submit_legality_review", steps)


# ------------------------------------------------------------------------------------------------
# Swapping the county pack
# ------------------------------------------------------------------------------------------------
def test_swapping_the_county_pack_raises_the_expert_minimum(tmp_path: Path, definitions: Definitions) -> None:
    """Under 攸县 (3 experts) three signed opinions pass; under a county pack asking for 5 they do not."""
    attempt_allowed(submit_with_experts(definitions), T_END[0], EXPERTS)

    liling = load(tmp_path, ("liling.yaml", county(expert_min_count=5)))
    assert liling.rulebook.parameters["expert_min_count"].value == 5
    unmet = attempt_refused(submit_with_experts(liling), T_END[0], EXPERTS)
    assert "至少5名专家" in unmet.message_zh and "at least 5 different experts" in unmet.message_en
    provenance = " ".join(unmet.sources)
    assert "liling: 5" in provenance and "national: 1" in provenance
    assert "youxian" not in provenance


def test_the_county_pack_id_qualifies_its_rules(tmp_path: Path, definitions: Definitions) -> None:
    liling = load(tmp_path, ("liling.yaml", county()))
    assert {"youxian.experts_drawn_at_random", "youxian.deferral_not_expired"} <= set(definitions.rulebook.rules)
    local = {r for r in liling.rulebook.rules if not r.startswith(("national.", "hunan."))}
    assert local == {
        "liling.experts_drawn_at_random",
        "liling.deferral_not_expired",
        "liling.deferral_expired",
        "liling.organiser_acts_for_own_unit",
    }
    story = Story(liling).walk("approve").step(DEFER)
    late = replace(RESUME, on=D(2026, 5, 7))
    exc = story.refused(late.trigger, late.actor, late.on, late.fields)
    assert "liling.deferral_not_expired" in rule_ids(exc)
    assert not any(r.startswith("youxian.") for r in rule_ids(exc))


def test_without_a_county_pack_the_national_values_apply(tmp_path: Path) -> None:
    """National + Hunan only: one signed expert opinion is enough, and a deferral never expires."""
    bare = load(tmp_path)
    assert bare.rulebook.parameters["expert_min_count"].value == 1
    one_opinion = (*TWO_OPINIONS[:2], TWO_OPINIONS[-1])
    attempt_allowed(submit_with_experts(bare, one_opinion), T_END[0], EXPERTS)
    story = Story(bare).walk("approve").step(DEFER)
    story.step(replace(RESUME, on=D(2026, 12, 1)))
    assert story.case.state == "in_discussion"


# ------------------------------------------------------------------------------------------------
# Strictest wins
# ------------------------------------------------------------------------------------------------
def test_a_weaker_county_comment_period_leaves_the_national_minimum(tmp_path: Path) -> None:
    defs = load(tmp_path, ("liling.yaml", county(extra_parameters=comment_period(20))))
    param = defs.rulebook.parameters["comment_period_days"]
    assert param.value == 30
    assert [(s.pack, s.value) for s in param.sources] == [("national", 30), ("liling", 20)]
    assert "national: 30" in param.provenance() and "liling: 20" in param.provenance()

    story = Story(defs).walk("open_consultation")
    # 2025-03-12 + 29 days: enough for the county, not for the national minimum still in force
    unmet = attempt_refused(story, main("open_consultation", comment_deadline=D(2025, 4, 10)), COMMENT)
    assert "30日" in unmet.message_zh and "30 days" in unmet.message_en
    assert "national: 30" in " ".join(unmet.sources) and "liling: 20" in " ".join(unmet.sources)
    attempt_allowed(story, main("open_consultation", comment_deadline=D(2025, 4, 11)), COMMENT)


def test_a_stricter_county_comment_period_becomes_the_minimum(tmp_path: Path) -> None:
    defs = load(tmp_path, ("liling.yaml", county(extra_parameters=comment_period(45))))
    param = defs.rulebook.parameters["comment_period_days"]
    assert param.value == 45
    assert param.provenance().startswith("45")
    assert "national: 30" in param.provenance() and "liling: 45" in param.provenance()

    story = Story(defs).walk("open_consultation")
    # 2025-03-12 + 44 days = 2025-04-25; + 45 days = 2025-04-26
    unmet = attempt_refused(story, main("open_consultation", comment_deadline=D(2025, 4, 25)), COMMENT)
    assert "45日" in unmet.message_zh and "45 days" in unmet.message_en
    assert "national: 30" in " ".join(unmet.sources) and "liling: 45" in " ".join(unmet.sources)
    reasoned = main(
        "open_consultation", comment_deadline=D(2025, 4, 25), shortening_reason="县规定的期限内无法完成，已在公告中说明"
    )
    attempt_allowed(Story(defs).walk("open_consultation"), reasoned, COMMENT, "waived")
    attempt_allowed(story, main("open_consultation", comment_deadline=D(2025, 4, 26)), COMMENT)


def test_a_stricter_city_maximum_shortens_the_county_deferral(tmp_path: Path) -> None:
    """A city pack between Hunan and the county sets the deferral expiry to 6 months (a maximum, in the
    county's unit): the smaller value rules, and both packs are named."""
    city = (
        "pack:\n"
        "  id: zhuzhou\n"
        "  name: {zh: 株洲市重大行政决策程序规定, en: Zhuzhou city rules}\n"
        "  level: city\n"
        "  sources:\n"
        "    zhuzhou_procedure: 《株洲市重大行政决策程序规定》\n"
        "parameters:\n"
        "  deferral_expiry:\n"
        "    kind: maximum\n"
        "    value: 6\n"
        "    unit: months\n"
        "    label: {zh: 暂缓决策期限, en: deferral expiry}\n"
        "rules: []\n"
    )
    defs = load(tmp_path, ("zhuzhou.yaml", city), ("youxian.yaml", YOUXIAN))
    param = defs.rulebook.parameters["deferral_expiry"]
    assert param.value == 6
    assert [(s.pack, s.value) for s in param.sources] == [("zhuzhou", 6), ("youxian", 12)]
    story = Story(defs).walk("approve").step(DEFER)  # deferred 2025-05-06; six months end on 2025-11-06
    unmet = attempt_refused(story, replace(RESUME, on=D(2025, 11, 7)), "youxian.deferral_not_expired")
    assert "6个月" in unmet.message_zh
    assert "zhuzhou: 6" in " ".join(unmet.sources) and "youxian: 12" in " ".join(unmet.sources)
    attempt_allowed(story, replace(RESUME, on=D(2025, 11, 6)), "youxian.deferral_not_expired")


# ------------------------------------------------------------------------------------------------
# A setting parameter switches a rule on
# ------------------------------------------------------------------------------------------------
def test_party_report_before_discussion_when_the_county_says_so(tmp_path: Path, definitions: Definitions) -> None:
    no_report = path(drop=("report_to_party_committee",))
    shipped = Story(definitions).walk("submit_for_discussion", no_report)
    attempt_allowed(shipped, main("submit_for_discussion"), PARTY_FIRST, "not_applicable")

    defs = load(tmp_path, ("liling.yaml", county(party_report_position="before_discussion")))
    param = defs.rulebook.parameters["party_report_position"]
    assert param.value == "before_discussion"  # a setting: the most local pack wins
    assert [(s.pack, s.value) for s in param.sources] == [
        ("national", "before_publication"),
        ("liling", "before_discussion"),
    ]
    story = Story(defs).walk("submit_for_discussion", no_report)
    attempt_refused(story, main("submit_for_discussion"), PARTY_FIRST)
    story.step(main("report_to_party_committee"))
    attempt_allowed(story, main("submit_for_discussion"), PARTY_FIRST)


def test_a_setting_outside_its_values_is_a_load_error(tmp_path: Path) -> None:
    text = county(party_report_position="after_publication")
    with pytest.raises(DefinitionError) as info:
        load(tmp_path, ("liling.yaml", text))
    (problem,) = [p for p in info.value.problems if "after_publication" in p.message]
    assert problem.file.endswith("liling.yaml")
    assert problem.line == text.splitlines().index("    value: after_publication") + 1


# ------------------------------------------------------------------------------------------------
# A parameter redefined with another kind
# ------------------------------------------------------------------------------------------------
def test_redefining_a_parameter_kind_is_a_located_load_error(tmp_path: Path) -> None:
    """The county declares the comment period a *maximum*, where the national pack has a minimum."""
    extra = (
        "  comment_period_days:\n"
        "    kind: maximum\n"
        "    value: 20\n"
        "    label: {zh: 公开征求意见期限, en: public comment period}\n"
    )
    text = county(extra_parameters=extra)
    with pytest.raises(DefinitionError) as info:
        load(tmp_path, ("liling.yaml", text))
    problems = [p for p in info.value.problems if "comment_period_days" in p.message]
    assert len(problems) == 1, info.value.problems
    (problem,) = problems
    assert problem.file.endswith("liling.yaml")
    assert problem.line == text.splitlines().index("    kind: maximum") + 1
    assert "minimum" in problem.message
    assert "comment_period_days" in problem.path
    assert f"liling.yaml:{problem.line}" in str(info.value)


# ------------------------------------------------------------------------------------------------
# Periods of months in a pack: the corresponding day (《民法典》第二百零二条), and units kept
# ------------------------------------------------------------------------------------------------
MONTHS_PARAMETER = (
    "  publication_months:\n"
    "    kind: maximum\n"
    "    value: 1\n"
    "    unit: months\n"
    "    label: {zh: 决定后公布期限, en: publication period after the decision}\n"
)
WITHIN_A_MONTH = """  - id: published_within_a_month
    workflow: major_decision
    triggers: [publish]
    strength: hard
    citation: {source: reference_local, article: 假设的县规定：决策公布期限, article_en: a hypothetical county rule on the publication deadline}
    require:
      lte:
        - {fact: action.on}
        - {period_end: {from: {latest: {record: meeting, field: on}}, length: {param: publication_months}, unit: %s}}
    message:
      zh: 决定后{param.publication_months}个月内公布
      en: published within {param.publication_months} months
"""


def test_a_county_rule_counts_a_period_of_months_by_the_corresponding_day(tmp_path: Path) -> None:
    """Decided on 2025-05-06: one month ends on 06-06, so publishing on 06-06 is in time and on 06-09
    (the next working day after the weekend) is not; 30 days would have ended on 06-05."""
    text = county(extra_parameters=MONTHS_PARAMETER) + WITHIN_A_MONTH % "month"
    defs = load(tmp_path, ("liling.yaml", text))
    story = Story(defs).walk("publish")
    late = main("publish", on=D(2025, 6, 9))
    exc = story.refused(late.trigger, late.actor, late.on, late.fields, late.docs)
    assert rule_ids(exc) == {"liling.published_within_a_month"}
    assert "1个月" in str(exc)
    attempt_allowed(story, main("publish", on=D(2025, 6, 6)), "liling.published_within_a_month")


@pytest.mark.parametrize(
    ("period_end", "fragment"),
    [
        ("{from: {fact: action.on}, length: 1, unit: fortnight}", "unit must be one of calendar, working, month, year"),
        ("{from: {fact: action.on}, length: 0, unit: month}", "at least 1 month"),
        ("{from: {fact: action.on}}", "both 'from' and 'length'"),
        ("{from: {fact: action.on}, length: 1, last_day: {fact: action.on}}", "either 'from' and 'length'"),
        ("{from: {fact: action.publication_channels}, length: 1}", "needs a date"),
        ("{last_day: 3}", "needs a date"),
        ("{from: {fact: action.on}, length: 2.5, unit: month}", "a whole number, at least 1 month, found 2.5"),
        ("{from: {fact: action.on}, length: 2027-01-01, unit: month}", "a period's length is a number"),
    ],
)
def test_a_malformed_period_is_a_located_load_error(tmp_path: Path, period_end: str, fragment: str) -> None:
    rule = WITHIN_A_MONTH.replace(
        "{period_end: {from: {latest: {record: meeting, field: on}}, length: {param: publication_months}, unit: %s}}",
        "{period_end: " + period_end + "}",
    )
    text = county(extra_parameters=MONTHS_PARAMETER) + rule
    with pytest.raises(DefinitionError) as info:
        load(tmp_path, ("liling.yaml", text))
    problems = [p for p in info.value.problems if fragment in p.message]
    assert problems, info.value.problems
    assert problems[0].file.endswith("liling.yaml")
    assert "period_end" in problems[0].path
    assert problems[0].line == text.splitlines().index("        - {period_end: " + period_end + "}") + 1


def test_a_later_pack_cannot_count_a_parameter_in_another_unit(tmp_path: Path) -> None:
    """The national comment period is in calendar days; a county saying 2 months would make the
    strictest value meaningless (is 45 days stricter than 2 months?), so it is a load error."""
    extra = "  comment_period_days:\n    value: 2\n    unit: months\n"
    text = county(extra_parameters=extra)
    with pytest.raises(DefinitionError) as info:
        load(tmp_path, ("liling.yaml", text))
    (problem,) = [p for p in info.value.problems if "comment_period_days" in p.message]
    assert "'calendar days'" in problem.message and "'months'" in problem.message
    assert problem.line == text.splitlines().index("    unit: months") + 1

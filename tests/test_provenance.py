"""Provenance of citations: a source whose text was not read says so wherever it is cited.

A pack declares each source as a title, or as ``{title: ..., verified: true|false}``; a source given
as a bare title is unverified. A citation inherits its source's flag and may say ``verified: false``
to mark just that article. An unverified citation ends in （出处未核实 / source not verified） in a
refusal, in `show` (text and JSON, with the parameter sources), and in `audit replay`; a citation of
Decree 713, whose text was read, does not. The loader checks the new keys with located errors.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path

import pytest

from decisions.errors import ActionRefused, DefinitionError
from decisions.model import Action
from decisions.service.cases import CaseService
from decisions.store.database import Database
from tests.cli_support import definitions_parsed_once
from tests.stores import BACKENDS, fixed_clock, new_database_url, play, play_catalogue
from tests.support import MAIN_PATH, PEOPLE, shipped_definitions
from tests.test_cli_e2e import Cli
from tests.test_packs import YOUXIAN, county, edit, load

MARK = "（出处未核实 / source not verified）"
HEARING = "hunan.hearing_mandatory"  # cites 《湖南省行政程序规定》, not read: unverified
EXPERTS = "national.expert_argumentation_when_technical"  # cites Decree 713 Art. 19(1): verified
CATALOGUE = "hunan.on_catalogue_or_reason"
ORGANISER = "national.organiser_named"


# -- the loader ----------------------------------------------------------------------------------
def rule_with(citation: str) -> str:
    """A county rule (a copy of the 攸县 random-draw rule) with this citation line."""
    return (
        "  - id: experts_from_the_pool\n"
        "    workflow: major_decision\n"
        "    triggers: [record_expert_opinion]\n"
        "    strength: hard\n"
        f"    citation: {citation}\n"
        "    require: {eq: [{fact: action.drawn_at_random}, true]}\n"
        "    message: {zh: 论证专家应当从专家库中抽取, en: experts come from the pool}\n"
    )


def county_with(sources: str, rule: str) -> str:
    text = edit(county(), "  sources:\n", "  sources:\n" + sources)
    return edit(text, "\nrules:\n", "\nrules:\n" + rule)


def test_a_verified_source_is_cited_plainly_and_an_article_of_it_may_be_marked_unverified(tmp_path: Path) -> None:
    text = county_with(
        "    liling_rules: {title: 《醴陵市重大行政决策程序规定》, verified: true}\n",
        rule_with("{source: liling_rules, article: 第九条, article_en: Art. 9}")
        + rule_with("{source: liling_rules, article: 第十条, verified: false}").replace(
            "experts_from_the_pool", "experts_from_the_pool_too"
        ),
    )
    rules = load(tmp_path, ("liling.yaml", text)).rulebook.rules
    plain, marked = rules["liling.experts_from_the_pool"].citation, rules["liling.experts_from_the_pool_too"].citation
    assert plain.verified and str(plain) == "《醴陵市重大行政决策程序规定》第九条 (Art. 9)"
    assert not marked.verified and str(marked) == "《醴陵市重大行政决策程序规定》第十条" + MARK


def test_a_source_given_as_a_bare_title_is_unverified(tmp_path: Path) -> None:
    text = county_with(
        "    liling_rules: 《醴陵市重大行政决策程序规定》\n",
        rule_with("{source: liling_rules, article: 第九条（条号待核）}"),
    )
    citation = load(tmp_path, ("liling.yaml", text)).rulebook.rules["liling.experts_from_the_pool"].citation
    assert not citation.verified and str(citation).endswith("第九条（条号待核）" + MARK)


def test_the_shipped_packs_mark_decree_713_verified_and_every_local_source_unverified() -> None:
    book = shipped_definitions().rulebook
    for rule in book.rules.values():
        decree = "国务院令第713号" in rule.citation.source
        if decree or rule.pack in ("hunan", "youxian") or "湘政办发〔2022〕33号" in rule.citation.source:
            assert rule.citation.verified is decree, (rule.id, str(rule.citation))
            assert (MARK in str(rule.citation)) is not decree, rule.id
    screening = book.rules["national.catalogue_screened_current_version"].citation  # local practice, not Art. 3(3)
    assert not screening.verified and "非条例第三条第三款" in screening.article
    for setting in book.parameters["expert_min_count"].sources:
        assert setting.citation is not None
        assert setting.citation.verified is (setting.pack == "national"), setting
    county_values = [s for p in book.parameters.values() for s in p.sources if s.pack == "youxian"]
    assert county_values and all(MARK in str(s) and "待县政府正式文本核定" in str(s) for s in county_values)


@dataclass(frozen=True)
class BadKey:
    name: str
    sources: str
    citation: str
    at: str  # the line the problem must point at
    expect: str


BAD_KEYS = [
    BadKey(
        "verified-article-of-unverified-source",
        "    liling_rules: 《醴陵市重大行政决策程序规定》\n",
        "{source: liling_rules, article: 第九条, verified: true}",
        "    citation: {source: liling_rules, article: 第九条, verified: true}",
        "source 'liling_rules' is not marked verified",
    ),
    BadKey(
        "source-without-title",
        "    liling_rules: {name: 《醴陵市重大行政决策程序规定》, verified: true}\n",
        "{source: liling_rules, article: 第九条}",
        "    liling_rules: {name: 《醴陵市重大行政决策程序规定》, verified: true}",
        "missing required key 'title'",
    ),
    BadKey(
        "verified-not-a-boolean",
        "    liling_rules: {title: 《醴陵市重大行政决策程序规定》, verified: 'yes'}\n",
        "{source: liling_rules, article: 第九条}",
        "    liling_rules: {title: 《醴陵市重大行政决策程序规定》, verified: 'yes'}",
        "expected true or false",
    ),
    BadKey(
        "citation-verified-not-a-boolean",
        "    liling_rules: {title: 《醴陵市重大行政决策程序规定》, verified: true}\n",
        "{source: liling_rules, article: 第九条, verified: 1}",
        "    citation: {source: liling_rules, article: 第九条, verified: 1}",
        "expected true or false",
    ),
    BadKey(
        "unknown-key-in-source",
        "    liling_rules: {title: 《醴陵市重大行政决策程序规定》, checked: true}\n",
        "{source: liling_rules, article: 第九条}",
        "    liling_rules: {title: 《醴陵市重大行政决策程序规定》, checked: true}",
        "unknown key 'checked'",
    ),
]


@pytest.mark.parametrize("bad", BAD_KEYS, ids=[b.name for b in BAD_KEYS])
def test_the_loader_refuses_a_bad_provenance_key_at_its_line(tmp_path: Path, bad: BadKey) -> None:
    text = county_with(bad.sources, rule_with(bad.citation))
    with pytest.raises(DefinitionError) as info:
        load(tmp_path, ("liling.yaml", text))
    problems = [p for p in info.value.problems if bad.expect in p.message]
    assert len(problems) == 1, info.value.problems
    (problem,) = problems
    assert problem.file.endswith("liling.yaml")
    assert problem.line == text.splitlines().index(bad.at) + 1, (problem, bad.at)
    assert f"liling.yaml:{problem.line}:" in str(info.value)


def test_the_county_pack_says_its_values_are_proposals_and_names_no_county_text() -> None:
    head = YOUXIAN.split("\npack:")[0]
    assert "PROPOSALS" in head and "still being drafted" in head
    assert "source: youxian_procedure" not in YOUXIAN  # nothing is attributed to the unadopted county text


# -- refusal, show and replay ---------------------------------------------------------------------
@dataclass
class Office:
    service: CaseService
    cli: Cli


@pytest.fixture(scope="module", params=BACKENDS)
def office(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Office]:
    """A technical matter of major public interest, consulted on and waiting for its expert stage
    and hearing: submitting it for legality review is blocked by a Decree 713 rule (experts) and by
    an unverified Hunan rule (hearing)."""
    tmp = tmp_path_factory.mktemp(f"provenance-{request.param}")
    urls = new_database_url(request.param, tmp)
    url = next(urls)
    database = Database(url, documents=tmp / "documents")
    try:
        database.migrate()
        service = CaseService(database, shipped_definitions(), clock=fixed_clock)
        play_catalogue(service, "2025-03")  # the item the main path launches: replay finds it published
        propose = MAIN_PATH[0]
        flags = {"major_public_interest": True, "technical": True}
        play(service, "D-1", (replace(propose, fields={**propose.fields, **flags}), *MAIN_PATH[1:5]))
        with definitions_parsed_once():
            yield Office(service, Cli(url, tmp / "documents"))
    finally:
        database.dispose()
        urls.close()


def lines_naming(text: str, rule: str) -> list[str]:
    found = [line for line in text.splitlines() if f"[{rule}]" in line or f" {rule} " in line]
    assert found, (rule, text)
    return found


def test_a_refusal_marks_the_unverified_citation_and_not_the_verified_one(office: Office) -> None:
    submit = MAIN_PATH[5]
    with pytest.raises(ActionRefused) as info:
        office.service.act("D-1", Action(submit.trigger, PEOPLE[submit.actor], submit.on, dict(submit.fields)))
    text = str(info.value)
    assert all(line.endswith(MARK + ")") for line in lines_naming(text, HEARING))
    assert all(MARK not in line for line in lines_naming(text, EXPERTS))
    assert "第十九条第一款 (Art. 19(1))" in text


def test_show_marks_the_unverified_citation_and_the_unverified_parameter_source(office: Office) -> None:
    shown = office.cli.ok("show", "D-1").out
    assert all(MARK in line for line in lines_naming(shown, HEARING))
    assert all(MARK not in line for line in lines_naming(shown, EXPERTS))

    details = office.cli.json("show", "D-1")
    [blocked] = [b for b in details["blocked_actions"] if b["action"] == "submit_legality_review"]
    reasons = {r["rule_id"]: r for r in blocked["reasons"]}
    assert reasons[HEARING]["citation"].endswith(MARK)
    assert MARK not in reasons[EXPERTS]["citation"]
    # the expert count in force (3) comes from the 攸县 proposal: its source is marked, the national one is not
    [provenance] = reasons[EXPERTS]["sources"]
    national, county_value = provenance.split("; ")
    assert national.startswith("3 ← national: 1 (") and MARK not in national
    assert county_value.startswith("youxian: 3 (") and county_value.endswith(MARK + ")")


def test_replay_marks_the_unverified_citation_and_not_the_verified_one(office: Office) -> None:
    replay = office.cli.json("audit", "replay", "D-1")
    [launch] = [s for s in replay["steps"] if s["trigger"] == "launch"]
    cited = {r["id"]: r["citation"] for r in launch["rules"]}
    assert cited[CATALOGUE].endswith(MARK) and "湘政办发〔2022〕33号" in cited[CATALOGUE]
    assert MARK not in cited[ORGANISER] and "第十一条 (Art. 11)" in cited[ORGANISER]
    human = office.cli.ok("audit", "replay", "D-1").out
    assert all(line.endswith(MARK) for line in lines_naming(human, CATALOGUE))
    assert all(MARK not in line for line in lines_naming(human, ORGANISER))

"""Issue 13, items 1, 2 and 7: every action says what it needs, every refusal says how to fix it,
and ``--json`` is a contract (one documented shape per view, refusals included, on stdout)."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest

from decisions.cli import main
from decisions.errors import UnknownName
from decisions.service.inputs import parse_value, trigger_named
from tests.cli_support import definitions_parsed_once
from tests.json_schemas import validate
from tests.stores import BACKENDS, new_database_url
from tests.support import MAIN_PATH, PEOPLE, Story, V, shipped_definitions


def _main_path_day(trigger: str) -> date:
    return next(s.on for s in MAIN_PATH if s.trigger == V(trigger))


# -- the input schema (item 1) ---------------------------------------------------------------------


def test_the_schema_of_an_action_lists_what_its_rules_read_not_only_its_own_requires() -> None:
    story = Story(shipped_definitions()).walk(V("submit_legality_review"))
    schema = story.engine.schema(
        story.case, V("submit_legality_review"), PEOPLE["clerk_li"], _main_path_day("submit_legality_review")
    )
    documents = {i.name: i for i in schema.documents}
    # legal_basis and procedure_statement are read by the Art. 26(1) rule, not named by the transition
    for kind in (V("legal_basis"), V("procedure_statement")):
        assert documents[kind].requirement.value == "required"
        assert any(r.endswith("review_submission_complete") for r in documents[kind].rules)
    # the draft is already on record: it satisfies the rule, nothing to attach again
    assert documents[V("draft")].on_record == 1 and documents[V("draft")].requirement.value == "optional"
    fields = {i.name: i for i in schema.fields}
    assert fields[V("review_due")].requirement.value == "required" and fields[V("review_due")].type == "date"
    waiver = fields[V("short_review_reason")]
    assert waiver.requirement.value == "optional" and any(n.waiver for n in waiver.needs)


def test_a_field_needed_only_under_a_condition_says_which_in_words() -> None:
    story = Story(shipped_definitions())
    schema = story.engine.schema(story.case, V("propose"), PEOPLE["clerk_li"], date(2025, 3, 3))
    problem = next(i for i in schema.fields if i.name == V("problem"))
    assert problem.requirement.value == "conditional"
    (condition,) = problem.conditions
    assert "提议渠道" in condition.zh and "Proposal channel" in condition.en
    category = next(i for i in schema.fields if i.name == V("category"))
    labels = {v: label.zh for v, label in category.choices if label is not None}
    assert labels[V("public_policy")] == "公共政策"


# -- remedies (item 2) ----------------------------------------------------------------------------


def test_a_period_refusal_says_the_earliest_valid_date_on_the_work_calendar_and_the_waiver() -> None:
    story = Story(shipped_definitions()).walk(V("submit_legality_review"))
    on = date(2025, 4, 16)  # a Wednesday; 1-5 May 2025 are the Labour Day holiday
    refused = story.refused(
        V("submit_legality_review"),
        "clerk_li",
        on,
        {V("review_due"): date(2025, 4, 18)},
        (V("legal_basis"), V("procedure_statement")),
    )
    (unmet,) = [u for u in refused.unmet if u.rule_id.endswith("review_period_minimum")]
    assert unmet.remedy is not None
    (bound,) = unmet.remedy.dates
    assert (bound.field.name, bound.bound) == (V("review_due"), "earliest")
    # 7 working days after 16 April: 17, 18, 21, 22, 23, 24, 25 April
    assert bound.date == date(2025, 4, 25)
    assert unmet.remedy.waiver is not None and unmet.remedy.waiver.name == V("short_review_reason")
    assert "最早 2025-04-25" in str(refused) and "earliest 2025-04-25" in str(refused)
    # doing what it says is accepted
    story.do(
        V("submit_legality_review"),
        "clerk_li",
        on,
        {V("review_due"): bound.date},
        (V("legal_basis"), V("procedure_statement")),
    )


def test_a_refusal_names_the_missing_documents_and_the_role_needed() -> None:
    story = Story(shipped_definitions()).walk(V("submit_legality_review"))
    refused = story.refused(
        V("submit_legality_review"), "head_wang", date(2025, 4, 16), {V("review_due"): date(2025, 4, 30)}
    )
    by_id = {u.rule_id: u for u in refused.unmet}
    role = by_id["engine.role"].remedy
    assert role is not None and [r.name for r in role.roles] == [V("organiser")]
    documents = next(u for i, u in by_id.items() if i.endswith("review_submission_complete")).remedy
    assert documents is not None
    assert {d.name for d in documents.documents} == {V("legal_basis"), V("procedure_statement")}


def test_actions_and_enum_values_accept_their_chinese_labels_and_unknown_ones_say_what_was_meant() -> None:
    wf = shipped_definitions().workflow(V("major_decision"))
    assert parse_value(wf.fields[V("category")], "公共政策") == V("public_policy")
    assert parse_value(wf.fields[V("meeting_type")], "常务会议") == V("executive")
    views = parse_value(wf.fields[V("views")], "甲:同意,王县长:同意:head")
    assert [v["position"] for v in views] == [V("approve"), V("approve")]
    assert trigger_named(wf, "提出决策建议") == V("propose")
    with pytest.raises(UnknownName) as typo:
        trigger_named(wf, V("launch") + "h")
    assert V("launch") in typo.value.suggestions and "did you mean" in str(typo.value)


# -- --json is a contract (item 7), through the real entry point ------------------------------------


@pytest.fixture(scope="module", autouse=True)
def parse_definitions_once() -> Iterator[None]:
    with definitions_parsed_once():
        yield


def _cli(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, *args: str) -> tuple[int, str, str]:
    capsys.readouterr()
    monkeypatch.setattr(sys, "argv", ["decisions", *args])
    try:
        main()
        code = 0
    except SystemExit as exc:
        code = int(exc.code or 0)
    captured = capsys.readouterr()
    return code, captured.out, captured.err


@pytest.fixture(params=BACKENDS)
def url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A fresh database of each backend (PostgreSQL: dropped after the test)."""
    yield from new_database_url(request.param, tmp_path)


def test_json_refusals_go_to_stdout_and_every_shape_validates_against_its_schema(
    url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DECISIONS_DATABASE_URL", url)
    monkeypatch.chdir(tmp_path)

    def cli(*args: str) -> tuple[int, str, str]:
        return _cli(capsys, monkeypatch, *args)

    code, out, err = cli("init")
    assert code == 0, out + err
    assert cli("user", "add", "管理员", "--admin")[0] == 0  # the first people administrator adds themselves
    assert cli("unit", "add", "县交通运输局", "--as", "管理员")[0] == 0
    assert (
        cli(
            "user", "add", "李明", "--role", V("organiser"), "--role", V("proposer"), "--unit", "县交通运输局",
            "--as", "管理员",
        )[0]
        == 0
    )  # fmt: skip
    proposal = tmp_path / "建议书.pdf"
    proposal.write_bytes(b"%PDF-1.4 proposal")
    propose = MAIN_PATH[0]
    sets = [x for k, v in propose.fields.items() if k != V("category") for x in ("--set", f"{k}={v}")]
    code, out, err = cli(
        "propose",
        "--as",
        "李明",
        "--on",
        "2025-03-03",
        *sets,
        "--set",
        f"{V('category')}=公共政策",  # the Chinese label of the value
        "--attach",
        f"{V('proposal')}={proposal}",
        "--json",
    )
    assert code == 0, out + err
    fired = json.loads(out)
    validate("fired.schema.json", fired)
    case = fired["case"]

    # a refusal under --json: JSON on stdout with rule ids, citations and remedies as objects
    code, out, err = cli("act", case, V("launch"), "--as", "李明", "--on", "2025-03-05", "--json")
    assert code == 3 and out.strip().startswith("{"), (out, err)
    refusal = json.loads(out)
    validate("error.schema.json", refusal)
    role = next(u for u in refusal["error"]["unmet"] if u["rule_id"] == "engine.role")
    assert [r["name"] for r in role["remedy"]["roles"]] == [V("head")]

    # an unknown case or action: did you mean, as JSON
    code, out, _ = cli("show", case[:-1] + "2", "--json")
    unknown = json.loads(out)
    validate("error.schema.json", unknown)
    assert code == 2 and unknown["error"]["suggestions"] == [case]
    code, out, _ = cli("act", case, V("launch") + "x", "--as", "李明", "--json")
    assert code == 2 and V("launch") in json.loads(out)["error"]["suggestions"]
    # a conflict (someone acted since version 0 was read) is JSON too, with the versions
    code, out, _ = cli("act", case, V("launch"), "--as", "李明", "--expect-version", "0", "--json")
    conflict = json.loads(out)
    validate("error.schema.json", conflict)
    assert code == 5 and (conflict["error"]["expected"], conflict["error"]["actual"]) == (0, 1)
    # without --json a refusal is still text on stderr, nothing on stdout
    code, out, err = cli("act", case, V("launch"), "--as", "李明", "--on", "2025-03-05")
    assert code == 3 and out == "" and "engine.role" in err

    # show --json: documents as objects with the full hash, size and media type; actions with inputs
    code, out, _ = cli("show", case, "--json")
    shown = json.loads(out)
    validate("show.schema.json", shown)
    (document,) = shown["records"][0]["documents"]
    assert len(document["sha256"]) == 64 and document["size"] == len(b"%PDF-1.4 proposal")
    assert document["media_type"] == "application/pdf" and document["name"] == "建议书.pdf"
    launch = next(a for a in shown["blocked_actions"] + shown["available_actions"] if a["action"] == V("launch"))
    names = {f["name"] for f in launch["inputs"]["fields"]}
    assert V("off_catalogue_reason") in names  # read by the catalogue rule, not in launch's own requires
    code, out, _ = cli("show", "--new", "--json")
    validate("start.schema.json", json.loads(out))


# -- the Python API (Office) ------------------------------------------------------------------------


def test_the_office_returns_an_action_s_schema_and_names_who_holds_the_role_a_refusal_needs() -> None:
    from decisions.errors import ActionRefused
    from decisions.service.office import Office
    from decisions.store.memory import memory_store
    from tests.stores import fixed_clock

    office = Office(memory_store(), shipped_definitions(), clock=fixed_clock)
    office.users.add("李明", [V("proposer"), V("organiser")], "县交通运输局")
    office.users.add("王县长", [V("head")], "县人民政府")
    office.users.add("张前任", [V("head")], "县人民政府")
    office.users.deactivate("张前任")
    start = office.start_schema()
    assert start.trigger == V("propose") and any(i.name == V("title") for i in start.fields)
    propose = MAIN_PATH[0]
    fields = {k: str(v) for k, v in propose.fields.items()}
    case = office.propose("李明", fields, on=propose.on).case.id
    schema = office.action_schema(case, "决定启动并确定承办单位")  # the action by its Chinese label
    assert schema.trigger == V("launch")
    assert {i.name for i in schema.fields} >= {V("organiser_unit"), V("catalogue_item"), V("off_catalogue_reason")}
    with pytest.raises(ActionRefused) as refused:
        office.act(case, V("launch"), "李明", {V("organiser_unit"): "县交通运输局"}, on="2025-03-05")
    role = next(u for u in refused.value.unmet if u.rule_id == "engine.role")
    assert role.remedy is not None and role.remedy.holders == ("王县长",)  # the active holder only
    with pytest.raises(UnknownName) as typo:
        office.show(case[:-1] + "9")
    assert typo.value.suggestions == (case,)

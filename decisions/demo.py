"""The demo: the scenario files of ``demo/`` played through the service layer exactly as clerks would.

The shipped files play a county's year (攸县-style, 2025): its people, the annual catalogue with a
mid-year adjustment, a bus-fare decision carried through the full procedure (price hearing, a
legality review sent back and reviewed again, a refused attempt to skip the review, a request to
the Party committee, a meeting with a dissenting member, publication, execution), a hospital
project waiting on the legality reviewer, then a replayed timeline and the audit's verdict. The
player knows no workflow: every name comes from the files (`decisions.loading.scenarios`) and is
checked against the definitions before anything is played. Output goes to the injected ``say``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

from decisions.config import shipped_root
from decisions.errors import ActionRefused, DefinitionError
from decisions.loading.scenarios import Person, Scenario, Step, check_scenarios, load_scenarios
from decisions.model import Text
from decisions.service.office import Office
from decisions.workflow.engine import Fired

__all__ = ["demo_directory", "demo_people", "run_demo"]

Say = Callable[[str], None]


def demo_directory() -> Path:
    """The shipped scenario files: ``demo/`` beside ``workflows/`` (in the wheel, its copy)."""
    return shipped_root() / "demo"


def demo_people(scenarios: Sequence[Scenario] | None = None) -> list[Person]:
    """Everyone the scenarios add, in order."""
    return [p for s in scenarios or load_scenarios(demo_directory()) for p in s.people]


class _Player:
    def __init__(self, office: Office, say: Say) -> None:
        self.office = office
        self._say = say
        self.count = 0
        self.cases: dict[str, str] = {}
        self.printed = False
        self.admin: str | None = None  # the people administrator, once one is added (they add the rest)

    def say(self, line: str) -> None:
        self._say(line)
        self.printed = True

    def heading(self, text: Text) -> None:
        self.say(f"{chr(10) if self.printed else ''}{text.zh} / {text.en}")

    def narrate(self, step: Step) -> None:
        assert step.text is not None
        rule = self.office.definitions.rulebook.rules.get(step.cite) if step.cite else None
        basis = f"（{rule.citation}）" if rule is not None else ""
        self.say(f"  {step.text.zh}{basis} / {step.text.en}")

    def document(self, kind: str, title: str) -> tuple[str, bytes, str]:
        self.count += 1
        body = f"{title}\n（演示文件 demo document #{self.count}）\n".encode()
        return kind, body, f"{title}.txt"

    def act(self, step: Step) -> None:
        if step.text is not None:
            self.narrate(step)
        attachments = [self.document(kind, title) for kind, title in step.documents]
        try:
            fired = self._fire(step, attachments)
        except ActionRefused as refused:
            if not step.refused:
                raise
            for u in refused.unmet:
                self.say(f"    ✗ [{u.rule_id}] {u.message_zh} ({u.citation})")
            return
        if step.refused:
            raise DefinitionError(
                [
                    step.problem(
                        f"this step is marked 'refused: true' but {fired.record.trigger!r} was accepted "
                        f"(the case is now {fired.case.id} in {fired.case.state!r}): the scenario no longer "
                        "shows the refusal it describes; correct the step or the definitions"
                    )
                ]
            )
        wf = self.office.definitions.workflow(fired.case.workflow)
        label = wf.states[fired.record.to_state].label
        self.say(f"  {step.on}  {step.actor:<4} {fired.record.trigger:<30} → {label.zh} / {label.en}")

    def _fire(self, step: Step, attachments: list[tuple[str, bytes, str]]) -> Fired:
        if step.kind == "start":
            fired = self.office.start(step.name, step.actor, step.fields, attachments, step.on, step.case_id or None)
            self.cases[step.case] = fired.case.id
            return fired
        return self.office.act(self.cases[step.case], step.name, step.actor, step.fields, attachments, step.on)

    def timeline(self, case_id: str) -> None:
        timeline = self.office.audit.replay(case_id)
        self.say(f"\n时间线 / timeline of {case_id} (replayed under its recorded definitions, every rule re-evaluated)")
        for s in timeline.steps:
            checked = sum(1 for r in s.rules if r[1] != "not_applicable")
            self.say(
                f"  #{s.seq:<2} {s.happened_on} {s.actor:<4} [{s.role}] {s.label.zh} / {s.label.en}"
                f" · {checked} rules applied"
            )

    def verify(self) -> None:
        report = self.office.audit.verify()
        verdict = Text("历史完整，未发现篡改", "history intact") if report.ok else Text("发现问题", "FINDINGS")
        self.say(
            f"\n校验 / audit verify: {report.cases} cases, {report.events} events, {report.documents} documents: "
            f"{verdict.zh} / {verdict.en}"
        )

    def add_person(self, p: Person) -> None:
        """Add ``p`` as the people administrator would: the first administrator adds themselves (and
        their unit), then adds every unit and person after them; before one exists, people are added
        by the system (a script)."""
        users = self.office.users
        if self.admin is None and p.admin:
            users.add(p.name, list(p.roles), "", admin=True)
            self.admin = p.name
            if p.unit:
                users.add_unit(p.unit, by=self.admin)
                users.set_unit(p.name, p.unit, by=self.admin)
            return
        if self.admin is not None and p.unit and p.unit not in users.units():
            users.add_unit(p.unit, by=self.admin)
        users.add(p.name, list(p.roles), p.unit, admin=p.admin, by=self.admin)

    def play(self, scenario: Scenario) -> None:
        if scenario.heading is not None:
            self.heading(scenario.heading)
        for p in scenario.people:
            self.add_person(p)
            self.say(f"  {p.name}  {', '.join(p.roles)}  {p.unit}")
        for step in scenario.steps:
            if step.kind == "heading" and step.text is not None:
                self.heading(step.text)
            elif step.kind == "say":
                self.narrate(step)
            elif step.kind in ("start", "act"):
                self.act(step)
            elif step.kind == "timeline":
                self.timeline(self.cases[step.case])
            else:
                self.verify()


def run_demo(office: Office, say: Say, scenarios: Sequence[Scenario] | None = None) -> dict[str, str]:
    """Play ``scenarios`` (default: the shipped files) on ``office``, after checking every name they
    use against its definitions; returns the id of each case by the name the files give it."""
    played = list(scenarios) if scenarios is not None else load_scenarios(demo_directory())
    check_scenarios(played, office.definitions)
    player = _Player(office, say)
    for scenario in played:
        player.play(scenario)
    return dict(player.cases)

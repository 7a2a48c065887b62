"""The checks the engine and the service make themselves, by id. Pure data, no legal text.

Besides the rules of the packs, every action is checked for what no pack needs to say: the actor
holds a role the transition allows, it carries the fields and documents the transition requires
and nothing else, it is possible in the current state, its date is neither before the previous
event nor in the future, its attachments are in the document store, and a ``case`` field names a
case on record. A refusal for one carries the check's id (``engine.role``, ``engine.field.<name>``,
``service.document.<kind>``...). Which legal text imposes it is data, not code:

1. a check about the transition (`TRANSITION_CHECKS`) cites the transition's own ``basis:`` when it
   has one: what the workflow file says the action rests on is the most specific citation;
2. otherwise the citation a rule pack gives the check in its ``checks:`` section (the most local
   pack wins; ``rules/national.yaml`` declares the shipped ones);
3. otherwise the workflow's first source (its ``sources:``), so a deployment whose packs declare no
   check still cites a text the workflow names.
"""

from __future__ import annotations

from collections.abc import Mapping

from decisions.model import Text

__all__ = ["CHECKS", "TRANSITION_CHECKS", "workflow_check"]

CHECKS: Mapping[str, Text] = {
    "engine.correction": Text(
        "更正须由有权更正的角色说明理由，只更正可更正的内容",
        "a correction is made, with a reason, by a role that may correct that record, of what may be corrected",
    ),
    "engine.date_order": Text("事项按发生先后登记", "events are recorded in the order they happened"),
    "engine.document": Text(
        "操作须附所需文件，且只附其接受的文件", "an action carries the documents it requires, no others"
    ),
    "engine.field": Text(
        "操作须填写必填项，且只填其接受的有效字段", "an action carries its required fields, valid, no others"
    ),
    "engine.role": Text("操作须由有权角色执行", "an action is taken by a role allowed to take it"),
    "engine.unavailable": Text("操作须在其适用的阶段执行", "an action is taken in a state it leaves from"),
    "service.case_link": Text(
        "关联的事项须为本单位已登记的同类事项", "a linked case is another case of its kind on record"
    ),
    "service.document": Text("附件须在文档库中且未损坏", "an attachment is in the document store, intact"),
    "service.future_date": Text("发生日期不得晚于今天", "the date an action happened is not in the future"),
}
"""Every check by id, with what it checks (for listings and load errors)."""

TRANSITION_CHECKS = frozenset({"engine.document", "engine.field", "engine.role", "service.case_link"})
"""The checks about what one transition allows: they cite its ``basis:`` first."""


def workflow_check(workflow: str, check: str) -> str:
    """The key under which a pack's citation of ``check`` for ``workflow`` alone is kept (a pack's
    ``checks:`` entry with ``workflow:``): the engine reads it before the citation for every workflow."""
    return f"{workflow}:{check}"

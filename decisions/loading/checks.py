"""Reading a pack's ``checks:`` section: the citation of each check the engine makes itself.

::

    checks:
      - ids: [engine.date_order, service.future_date, service.document]
        citation: {source: decree713, article: 第三十三条, article_en: Art. 33}

Each entry gives one citation to the checks it lists, so an article is written once. An id is one
of `decisions.rules.checks.CHECKS`; an unknown id, or one listed twice in a pack (for the same
workflow), is a located problem (an unknown one names every known id). A citation is read like a
rule's (its source declared under ``pack.sources``).

An entry with ``workflow: <name>`` cites the checks for that workflow only (a pack of another
procedure cites its own text for them, not the one the national pack gives every workflow); it is
kept under the key `workflow_check` ``"<workflow>:<check id>"``, which the engine reads first.
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from typing import Any

from decisions.loading.reader import Reader
from decisions.rules.checks import CHECKS, workflow_check
from decisions.rules.definitions import Citation

__all__ = ["read_checks"]

Path = tuple[str | int, ...]


def read_checks(
    r: Reader, raw: Any, cite: Callable[[Any, Path], Citation | None], workflows: Collection[str] = ()
) -> dict[str, Citation]:
    """The ``checks:`` section of one pack (``raw``), each citation read with ``cite``; ``workflows``:
    the names an entry's ``workflow`` may take."""
    if not isinstance(raw, list):
        r.error(("checks",), "expected a list of {ids: [...], citation: {...}}")
        return {}
    out: dict[str, Citation] = {}
    seen: set[str] = set()
    for i, body in enumerate(raw):
        path: Path = ("checks", i)
        m = r.mapping(body, path, required=("ids", "citation"), optional=("workflow",))
        if m is None:
            continue
        workflow = r.string(m["workflow"], (*path, "workflow")) if "workflow" in m else ""
        if workflow and workflow not in workflows:
            r.error((*path, "workflow"), f"unknown workflow {workflow!r} (loaded: {', '.join(sorted(workflows))})")
            continue
        ids = r.string_list(m.get("ids"), (*path, "ids"))
        if not ids and "ids" in m:
            r.error((*path, "ids"), "an entry names at least one check")
        known = []
        for j, check in enumerate(ids):
            if check not in CHECKS:
                r.error(
                    (*path, "ids", j),
                    f"未知的检查项 {check!r} / unknown engine check {check!r} (known: {', '.join(sorted(CHECKS))})",
                )
            elif workflow_check(workflow or "", check) in seen:
                r.error((*path, "ids", j), f"检查项 {check!r} 已有出处 / check {check!r} is cited twice in this pack")
            else:
                known.append(workflow_check(workflow, check) if workflow else check)
            seen.add(workflow_check(workflow or "", check))
        citation = cite(m["citation"], (*path, "citation")) if "citation" in m else None
        if citation is not None:
            out.update(dict.fromkeys(known, citation))
    return out

"""Reading a pack's ``checks:`` section: the citation of each check the engine makes itself.

::

    checks:
      - ids: [engine.date_order, service.future_date, service.document]
        citation: {source: decree713, article: 第三十三条, article_en: Art. 33}

Each entry gives one citation to the checks it lists, so an article is written once. An id is one
of `decisions.rules.checks.CHECKS`; an unknown id, or one listed twice in a pack, is a located
problem (an unknown one names every known id). A citation is read like a rule's (its source
declared under ``pack.sources``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from decisions.loading.reader import Reader
from decisions.rules.checks import CHECKS
from decisions.rules.definitions import Citation

__all__ = ["read_checks"]

Path = tuple[str | int, ...]


def read_checks(r: Reader, raw: Any, cite: Callable[[Any, Path], Citation | None]) -> dict[str, Citation]:
    """The ``checks:`` section of one pack (``raw``), each citation read with ``cite``."""
    if not isinstance(raw, list):
        r.error(("checks",), "expected a list of {ids: [...], citation: {...}}")
        return {}
    out: dict[str, Citation] = {}
    seen: set[str] = set()
    for i, body in enumerate(raw):
        path: Path = ("checks", i)
        m = r.mapping(body, path, required=("ids", "citation"))
        if m is None:
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
            elif check in seen:
                r.error((*path, "ids", j), f"检查项 {check!r} 已有出处 / check {check!r} is cited twice in this pack")
            else:
                known.append(check)
            seen.add(check)
        citation = cite(m["citation"], (*path, "citation")) if "citation" in m else None
        if citation is not None:
            out.update(dict.fromkeys(known, citation))
    return out

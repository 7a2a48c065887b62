"""A workflow's ``corrections:`` section: who may correct which fields and dates of earlier records.

    corrections:
      - roles: [organiser]
        triggers: [open_consultation]          # optional: records of any trigger
        fields: [comment_deadline, shortening_reason]
        happened_on: true                      # the day the action happened

Each role, trigger and field is the workflow's; a field is one the named transitions accept (all of
them, when no trigger is named: then at least one), never one a transition sets itself (``sets:``)
and never a case attribute (an attribute changes through its own transition, judged then). No
workflow may name a trigger `ERRATUM`: it is the kind of an erratum event.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from decisions.loading.reader import Reader
from decisions.model import ERRATUM
from decisions.workflow.definition import Correction, FieldDef, Role, TransitionDef

__all__ = ["read_corrections"]


def read_corrections(
    r: Reader,
    data: Mapping[str, Any],
    roles: Mapping[str, Role],
    fields: Mapping[str, FieldDef],
    transitions: Sequence[TransitionDef],
) -> tuple[Correction, ...]:
    """The ``corrections:`` section, every problem located on ``r``."""
    raw_transitions = data.get("transitions")
    for i, t in enumerate(raw_transitions if isinstance(raw_transitions, list) else []):
        if isinstance(t, dict) and t.get("trigger") == ERRATUM:
            r.error(
                ("transitions", i, "trigger"), f"trigger {ERRATUM!r} is reserved for corrections (errata); rename it"
            )
    raw = data.get("corrections")
    if raw is None:
        return ()
    if not isinstance(raw, list):
        r.shape_error(("corrections",), "expected a list of corrections")
        return ()
    triggers = {t.trigger for t in transitions}
    out: list[Correction] = []
    for i, entry in enumerate(raw):
        path: tuple[str | int, ...] = ("corrections", i)
        m = r.mapping(entry, path, required=("roles",), optional=("triggers", "fields", "happened_on"))
        if m is None:
            continue
        who = tuple(r.string_list(m.get("roles"), (*path, "roles"), identifiers=True))
        for name in who:
            if name not in roles:
                r.error((*path, "roles"), f"unknown role {name!r}")
        which = (
            tuple(r.string_list(m.get("triggers"), (*path, "triggers"), identifiers=True)) if "triggers" in m else ()
        )
        for name in which:
            if name not in triggers:
                r.error((*path, "triggers"), f"unknown trigger {name!r}")
        named = tuple(r.string_list(m.get("fields"), (*path, "fields"), identifiers=True)) if "fields" in m else ()
        scope = [t for t in transitions if not which or t.trigger in which]
        for name in named:
            fdef = fields.get(name)
            if fdef is None:
                r.error((*path, "fields"), f"unknown field {name!r}")
            elif fdef.attribute:
                r.error(
                    (*path, "fields"),
                    f"field {name!r} is a case attribute: it changes through a transition of its own, not by an erratum",
                )
            elif any(name in t.sets for t in scope):
                r.error((*path, "fields"), f"field {name!r} is set by the transition itself and cannot be corrected")
            elif which and (missing := sorted({t.trigger for t in scope if name not in t.all_fields})):
                r.error((*path, "fields"), f"field {name!r} is not carried by {', '.join(missing)}")
            elif not any(name in t.all_fields for t in scope):
                r.error((*path, "fields"), f"field {name!r} is carried by no transition")
        on = r.boolean(m.get("happened_on"), (*path, "happened_on"))
        if not named and not on:
            r.error(
                path,
                "a correction names the fields it may correct ('fields'), or the day ('happened_on: true'), or both",
            )
        out.append(Correction(who, which, named, on, r.doc.line_of(path)))
    return tuple(out)

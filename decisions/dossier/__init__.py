"""The decision dossier (决策档案, Decree 713 Art. 33: the whole process recorded, one matter one file):
one self-contained PDF per matter, readable, printable and checkable without this software.

`build(office, case_id)` verifies the case's history, gathers it (`collect`), renders the Jinja2
templates (`render`) and returns the PDF's bytes; the verification page cites the newest saved
checkpoint that includes the case's current head, or a new one taken for the purpose (a checkpoint is
the one row audit ever adds), never one over a history that does not verify: such a dossier prints
the findings, on the cover too, and no checkpoint.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from decisions.audit import Checkpoint, Head

if TYPE_CHECKING:
    from decisions.service.audit import VerifyReport
    from decisions.service.office import Office

__all__ = ["build", "cases_of_year", "checkpoint_for", "file_name"]


def checkpoint_for(office: Office, case_id: str, verified: bool = True) -> Checkpoint | None:
    """The newest saved checkpoint whose head of ``case_id`` is the case's head now; else a new one,
    but only over a history that verifies (a checkpoint must not vouch for a tampered chain)."""
    repository = office.cases.repository
    _, events = repository.load(case_id)
    if events:
        head = Head(case_id, events[-1].seq, events[-1].hash)
        for body in repository.checkpoints():
            try:
                cp = Checkpoint.from_json(body)
            except ValueError:
                continue  # a damaged row is verify's business; the dossier takes another
            if cp.algorithm == repository.algorithm and head in cp.heads:
                return cp
    return office.audit.checkpoint() if verified else None


def build(office: Office, case_id: str) -> tuple[bytes, VerifyReport]:
    """The PDF of ``case_id``, and `audit verify` of the case as printed on its verification page."""
    from decisions.dossier.collect import collect
    from decisions.dossier.render import render_pdf

    office.cases.view(case_id)  # an unknown case is refused before anything is written
    report = office.audit.verify(case_id)
    checkpoint = checkpoint_for(office, case_id, report.ok)
    return render_pdf(collect(office, case_id, checkpoint, report)), report


def cases_of_year(office: Office, year: int) -> list[str]:
    """The matters of ``year``, every workflow: by the year field a workflow's ``case:`` names (a
    catalogue's year), else by the day the case was opened."""
    found = []
    for case_id, workflow, _, _, _ in office.list_cases():
        case = office.cases.view(case_id).case
        spec = office.definitions.workflows[workflow].case if workflow in office.definitions.workflows else None
        field = spec.year_field if spec is not None else ""
        if field and field in case.attributes:
            of_year = str(case.attributes[field]) == str(year)
        else:
            of_year = bool(case.records) and case.records[0].on.year == year
        if of_year:
            found.append(case_id)
    return sorted(found)


def file_name(case_id: str) -> str:
    """A file name for a case's dossier (a case id may hold any printable character)."""
    safe = "".join("_" if c in '/\\:*?"<>|' else c for c in case_id)
    return ("_" + safe if safe.startswith(".") else safe) + ".pdf"

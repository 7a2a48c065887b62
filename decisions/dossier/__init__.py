"""The decision dossier (决策档案, Decree 713 Art. 33: the whole process recorded, one matter one file):
one self-contained PDF per matter, readable, printable and checkable without this software.

`build(office, case_id)` gathers it (`collect`), renders the Jinja2 templates (`render`) and returns
the PDF's bytes; the verification page cites the newest saved checkpoint that includes the case's
current head, or a new one taken for the purpose (a checkpoint is the one row audit ever adds).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from decisions.audit import Checkpoint, Head

if TYPE_CHECKING:
    from decisions.service.office import Office

__all__ = ["build", "checkpoint_for"]


def checkpoint_for(office: Office, case_id: str) -> Checkpoint:
    """The newest saved checkpoint whose head of ``case_id`` is the case's head now; else a new one."""
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
    return office.audit.checkpoint()


def build(office: Office, case_id: str) -> bytes:
    from decisions.dossier.collect import collect
    from decisions.dossier.render import render_pdf

    office.cases.view(case_id)  # an unknown case is refused before anything is written
    return render_pdf(collect(office, case_id, checkpoint_for(office, case_id)))

"""The auditor's pages (issue 14): the case list with search, verify with progress (optionally
against an uploaded checkpoint), checkpoint download, the replay of one case.

Read-only: nothing here changes a case. The one write is ``POST /audit/checkpoint``, which adds a
checkpoint row as ``decisions audit checkpoint`` does (append-only, CSRF-checked); ``GET
/audit/checkpoint`` downloads the newest stored one and writes nothing.

Verify with progress is a streamed HTML page (``StreamingResponse``), not a job with a status page
refreshed by ``<meta http-equiv="refresh">``: a job would need state shared between requests (a
table, or memory of one process, which several workers or a restart lose) and a second write path,
while a streamed page needs none. Browsers render HTML as it arrives, so the progress lines appear
without JavaScript; the stylesheet shows only the newest line, which reads as one bar moving. The
service's `AuditService.verify` does the work in a worker thread and reports through its
``progress`` callback; this module only presents."""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Iterator
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, Response, StreamingResponse
from starlette.datastructures import UploadFile

from decisions.audit import Checkpoint, canonical_text
from decisions.errors import DecisionsError, UsageError, cited, shown
from decisions.model import Text
from decisions.service.audit import ReplayReport
from decisions.web.context import Web

__all__ = ["ACCESS", "MAX_CHECKPOINT", "OUTCOMES", "add_routes"]

ACCESS: dict[tuple[str, str], str] = {
    ("GET", "/audit"): "person",
    ("POST", "/audit/verify"): "person",
    ("GET", "/audit/checkpoint"): "person",
    ("POST", "/audit/checkpoint"): "person",
    ("GET", "/audit/replay/{case_id}"): "person",
}

MAX_CHECKPOINT = 8 * 1024 * 1024  # an uploaded checkpoint file: about 50 000 chains fit
PROGRESS_LINES = 50  # about this many progress lines for a whole verification
CASES_SHOWN = 200  # the audit page lists at most this many cases (search by id for the others)

# A rule's outcome as the replay shows it (the outcome's value is `RuleOutcome`'s).
OUTCOMES: dict[str, Text] = {
    "passed": Text("通过", "passed"),
    "waived": Text("依理由豁免", "waived"),
    "not_applicable": Text("不适用", "not applicable"),
    "failed": Text("未通过", "failed"),
    "error": Text("无法判断", "cannot be judged"),
    "pending": Text("待定", "pending"),
}
_STREAM = "<!--stream-->"  # where audit_verify.html's streamed part goes
_log = logging.getLogger(__name__)
# `Office.audit` keeps a verification's state on itself: one streamed verification at a time (a
# second waits for the first, its page open with the heading shown)
_VERIFYING = threading.Lock()


def _printable(text: str) -> bytes:
    """Page text as bytes: a stored value that was not UTF-8 (read with lone surrogates) shows as
    ``\\udcff`` escapes rather than failing the response."""
    return text.encode("utf-8", "backslashreplace")


def _download(cp: Checkpoint) -> Response:
    stamp = canonical_text(cp.created_at).strip('"').replace(":", "").replace("-", "")
    return Response(
        cp.to_json(),
        media_type="application/json",
        headers={"Content-Disposition": f'attachment; filename="checkpoint-{stamp}.json"'},
    )


def _uploaded_checkpoint(data: bytes) -> Checkpoint:
    """An uploaded checkpoint file, read as untrusted input: bounded, UTF-8, canonical JSON of a
    checkpoint whose root recomputes; anything else a `UsageError` saying what is wrong."""
    if len(data) > MAX_CHECKPOINT:
        raise UsageError(
            f"检查点文件过大（上限 {MAX_CHECKPOINT} 字节）/ the checkpoint file is too large (at most {MAX_CHECKPOINT} bytes)"
        )
    try:
        return Checkpoint.from_json(data.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, TypeError, RecursionError) as exc:
        raise UsageError(
            "检查点文件无效，未作任何核验 / the checkpoint file is not valid, nothing was verified: "
            + shown(str(exc), 300)
        ) from exc


def add_routes(app: FastAPI, web: Web) -> None:
    office = web.office

    def case_rows(q: str) -> tuple[list[tuple[str, str, Text | str, str, int, Text | str]], int]:
        """(id, workflow, workflow label, title, version, state label) of the cases whose id contains ``q``."""
        wanted = q.strip().casefold()
        rows: list[tuple[str, str, Text | str, str, int, Text | str]] = []
        found = 0
        for cid, workflow, state, title, version in office.list_cases():
            if wanted and wanted not in cid.casefold():
                continue
            found += 1
            if len(rows) < CASES_SHOWN:
                wf = office.definitions.workflows.get(workflow)
                label: Text | str = wf.label if wf is not None else workflow
                state_label: Text | str = wf.states[state].label if wf is not None and state in wf.states else state
                rows.append((cid, workflow, label, title, version, state_label))
        return rows, found

    def page(request: Request, status: int = 200, **values: Any) -> HTMLResponse:
        q = str(values.pop("q", "") or "")[:64]
        rows, found = case_rows(q)
        return web.render(request, "audit.html", status, q=q, rows=rows, found=found, shown=CASES_SHOWN, **values)

    @app.get("/audit", response_class=HTMLResponse, include_in_schema=False)
    async def audit_page(request: Request, q: str = "") -> Response:
        web.person(request)
        return page(request, q=q)

    @app.post("/audit/verify", include_in_schema=False)
    async def verify(request: Request) -> Response:
        web.person(request)
        form = await web.checked_form(request)
        upload = form.get("checkpoint")
        since = None
        if isinstance(upload, UploadFile) and upload.filename:
            data = await upload.read(MAX_CHECKPOINT + 1)
            try:
                since = _uploaded_checkpoint(data)
            except UsageError as exc:
                return page(request, 400, upload_error=str(exc))
        total = sum(version for *_, version in office.list_cases())
        head, _, tail = (
            bytes(web.render(request, "audit_verify.html", total=total, since=since).body).decode().partition(_STREAM)
        )
        every = max(1, total // PROGRESS_LINES)

        def fragment(**values: Any) -> str:
            return bytes(web.render(request, "audit_result.html", **values).body).decode()

        def stream() -> Iterator[bytes]:
            yield _printable(head)
            events: queue.Queue[tuple[str, Any]] = queue.Queue()

            def work() -> None:
                try:
                    with _VERIFYING:
                        report = office.audit.verify(
                            since=since, progress=lambda n: events.put(("progress", n)), progress_every=every
                        )
                        reach = office.audit.reach(since) if since is not None else None
                    events.put(("done", (report, reach)))
                except DecisionsError as exc:
                    events.put(("refused", exc))
                except Exception as exc:  # a bug: said on the page (the status is sent already), logged in full
                    _log.exception("audit verify failed")
                    events.put(("crashed", exc))

            threading.Thread(target=work, name="audit-verify", daemon=True).start()
            yield b'<ol class="verify-progress" id="progress">'
            while True:
                what, value = events.get()
                if what == "progress":
                    yield _printable(fragment(progress=value, total=max(total, value)))
                    continue
                yield b"</ol>"
                if what == "done":
                    report, reach = value
                    yield _printable(fragment(report=report, reach=reach, cases=_case_ids(), shown=CASES_SHOWN))
                elif what == "refused":
                    yield _printable(fragment(failure=str(value)))
                else:
                    yield _printable(fragment(failure=None))
                break
            yield _printable(tail)

        return StreamingResponse(stream(), media_type="text/html; charset=utf-8")

    def _case_ids() -> set[str]:
        return {row[0] for row in office.list_cases()}

    @app.get("/audit/checkpoint", include_in_schema=False)
    async def latest_checkpoint(request: Request) -> Response:
        web.person(request)
        cp = office.audit.latest_checkpoint()
        if cp is None:  # a page saying so, with the button that takes one
            return page(request, no_checkpoint=True)
        return _download(cp)

    @app.post("/audit/checkpoint", include_in_schema=False)
    async def take_checkpoint(request: Request) -> Response:
        web.person(request)
        await web.checked_form(request)
        return _download(office.audit.checkpoint())

    @app.get("/audit/replay/{case_id}", response_class=HTMLResponse, include_in_schema=False)
    async def replay(request: Request, case_id: str) -> Response:
        web.person(request)
        report = office.audit.replay(case_id)  # an unknown case: its message, not a traceback
        return web.render(request, "replay.html", **replay_view(report, web.lang_of(request)))

    def replay_view(report: ReplayReport, lang: str) -> dict[str, Any]:
        """What the replay page shows beside the report: names and labels for the ids it holds."""
        wf = office.cases.definitions_for(report.definitions).workflows.get(report.workflow)
        names: dict[str, str] = {}
        for step in report.steps:
            if step.actor not in names:
                try:
                    names[step.actor] = office.users.get(step.actor).name
                except UsageError:
                    names[step.actor] = step.actor
        roles = dict(office.users.roles)
        if wf is not None:
            roles.update({n: r.label for n, r in wf.roles.items()})
        states = {n: s.label for n, s in wf.states.items()} if wf is not None else {}
        return {
            "replay": report,
            "wf": wf,
            "names": names,
            "roles": roles,
            "states": states,
            "outcomes": OUTCOMES,
            "cite": lambda citation: cited(citation, lang),
        }

"""The dossier (决策档案) on the web: one matter's PDF from its page, and a year's dossiers built in
the background with a progress page (issue 16, items 1 and 4).

``GET /cases/{id}/dossier.pdf`` is `Office.dossier` as a download under its Chinese file name. A
year's dossiers take a while (a PDF a matter), so ``POST /dossiers`` starts a worker thread owned by
this application and answers at once with a status page that reloads itself every two seconds
(``<meta http-equiv="refresh">``: the CSP allows no script) until the ZIP of the PDFs can be
downloaded. The jobs live in memory only: a ZIP is derived output, rebuilt on demand from the
database, so a restart loses nothing that cannot be made again (the status page of a lost job says
so). The worker, and each single download, make PDFs off the event loop through an `Office` of their
own over the same store, so the other pages go on meanwhile and share no mutable state with them.
"""

from __future__ import annotations

import logging
import secrets
import tempfile
import threading
import zipfile
from dataclasses import dataclass, field, replace
from pathlib import Path
from urllib.parse import quote

from fastapi import FastAPI, Request
from fastapi.responses import FileResponse, RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from decisions.dossier import file_name
from decisions.errors import ChainBroken, DecisionsError
from decisions.service.office import Office
from decisions.web.context import Web

__all__ = ["ACCESS", "Job", "Jobs", "add_routes", "attachment", "download_name", "own_office"]

log = logging.getLogger(__name__)

ACCESS: dict[tuple[str, str], str] = {
    ("GET", "/cases/{case_id}/dossier.pdf"): "person",
    ("GET", "/dossiers"): "person",
    ("POST", "/dossiers"): "person",
    ("GET", "/dossiers/jobs/{job_id}"): "person",
    ("GET", "/dossiers/jobs/{job_id}/zip"): "person",
}

KEPT_JOBS = 8  # finished jobs beyond this are forgotten (oldest first) and their ZIPs deleted
YEARS = range(2000, 2101)
_UNSAFE = '/\\:*?"<>|'


def download_name(case_id: str, title: str) -> str:
    """The file a clerk saves: ``决策档案-ID-title.pdf``, without path or control characters, bounded."""
    parts = ["决策档案", case_id] + ([title] if title else [])
    name = "-".join(parts)
    name = "".join("_" if c in _UNSAFE or not c.isprintable() else c for c in name).strip(". ")[:150]
    return name + ".pdf"


def attachment(name: str, fallback: str) -> str:
    """A Content-Disposition for a download: an ASCII ``filename`` for old clients and the real name as
    RFC 5987 ``filename*`` (UTF-8, percent-encoded)."""
    ascii_name = "".join(c if c.isascii() and c.isprintable() and c not in '"\\;' else "_" for c in fallback)
    return f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(name, safe='')}"


@dataclass
class Job:
    """One year's dossiers being built (or built): how far it is, the matters that do not verify (their
    PDF is in the ZIP and prints the findings) and those refused (a broken chain: no PDF, the
    service's message), and the ZIP."""

    id: str
    year: int
    started_by: str
    cases: tuple[str, ...]
    zip_path: Path
    done: int = 0
    current: str = ""
    unverified: list[str] = field(default_factory=list)
    refused: list[tuple[str, str]] = field(default_factory=list)
    finished: bool = False
    crashed: bool = False

    @property
    def written(self) -> int:
        return self.done - len(self.refused)


class Jobs:
    """The application's in-memory registry of year jobs: at most one running per year; finished
    ones beyond `KEPT_JOBS` are dropped with their ZIP. ZIPs are written under one temporary
    directory, removed when the registry goes."""

    def __init__(self, office: Office) -> None:
        self.office = office
        self._lock = threading.Lock()
        self._jobs: dict[str, Job] = {}
        self._dir = tempfile.TemporaryDirectory(prefix="decisions-dossiers-")

    def get(self, job_id: str) -> Job | None:
        with self._lock:
            job = self._jobs.get(job_id)
            return None if job is None else _copy(job)

    def recent(self) -> list[Job]:
        with self._lock:
            return [_copy(j) for j in reversed(self._jobs.values())]

    def start(self, year: int, cases: list[str], who: str) -> Job:
        """A running job of ``year`` if there is one, else a new one started in a worker thread."""
        with self._lock:
            for job in self._jobs.values():
                if job.year == year and not job.finished:
                    return _copy(job)
            self._forget_old()
            job_id = secrets.token_urlsafe(12)
            job = Job(job_id, year, who, tuple(cases), Path(self._dir.name) / f"{job_id}.zip")
            self._jobs[job_id] = job
        threading.Thread(target=self._run, args=(job_id,), name=f"dossiers-{year}", daemon=True).start()
        return _copy(job)

    def _forget_old(self) -> None:
        finished = [j for j in self._jobs.values() if j.finished]
        for job in finished[: max(0, len(self._jobs) - KEPT_JOBS + 1)]:
            del self._jobs[job.id]
            job.zip_path.unlink(missing_ok=True)

    def _update(self, job_id: str, **changes: object) -> None:
        with self._lock:
            job = self._jobs[job_id]
            for name, value in changes.items():
                setattr(job, name, value)

    def _run(self, job_id: str) -> None:
        job = self.get(job_id)
        assert job is not None
        worker = own_office(self.office)
        unverified: list[str] = []
        refused: list[tuple[str, str]] = []
        try:
            with zipfile.ZipFile(job.zip_path, "w", zipfile.ZIP_STORED) as archive:  # PDFs are compressed
                for n, case_id in enumerate(job.cases):
                    self._update(job_id, current=case_id)
                    try:
                        pdf, verified = worker.dossier_checked(case_id)
                    except DecisionsError as exc:  # a broken chain, a case gone: named, the others go on
                        refused.append((case_id, str(exc)))
                    else:
                        archive.writestr(file_name(case_id), pdf)
                        if not verified:
                            unverified.append(case_id)
                    self._update(job_id, done=n + 1, unverified=list(unverified), refused=list(refused))
        except Exception:  # a bug or a full disk: the page says the job failed, never spins forever
            log.exception("the dossiers of %s stopped", job.year)
            self._update(job_id, crashed=True)
        finally:
            self._update(job_id, finished=True, current="")


def _copy(job: Job) -> Job:
    return replace(job, unverified=list(job.unverified), refused=list(job.refused))


def own_office(office: Office) -> Office:
    """An `Office` of its own over the same store and definitions, for work done off the event loop
    (a PDF takes seconds): the services keep per-instance caches that are not shared across threads."""
    own = Office(office.cases.store, office.definitions, clock=office.clock)
    own.cases.outside = office.cases.outside
    return own


def add_routes(app: FastAPI, web: Web) -> None:
    office = web.office
    jobs = Jobs(office)

    @app.get("/cases/{case_id}/dossier.pdf", include_in_schema=False)
    async def dossier_pdf(request: Request, case_id: str) -> Response:
        web.person(request)
        try:
            title = office.show(case_id).title  # an unknown case or a broken chain: refused at once
            pdf = await run_in_threadpool(own_office(office).dossier, case_id)  # the other pages go on
        except ChainBroken as exc:
            return broken(request, exc)
        headers = {"Content-Disposition": attachment(download_name(case_id, title), file_name(case_id))}
        return Response(pdf, media_type="application/pdf", headers=headers)

    def broken(request: Request, exc: ChainBroken) -> Response:
        """A history that does not verify: no dossier is made over it (the service refuses), the page
        names the case and the remedy."""
        return web.error(
            request,
            409,
            f"{exc.case_id} 的历史链校验失败，不生成决策档案；请审计人员运行 decisions audit verify",
            f"the history of {exc.case_id} does not verify: no dossier is made; an auditor runs decisions audit verify",
            str(exc),
        )

    def year_of(given: object) -> int | None:
        """The year asked for (this year when none is given); None when it is not a year."""
        text = str(given or "").strip()
        if not text:
            return office.cases.today().year
        return int(text) if text.isdigit() and int(text) in YEARS else None

    def bad_year(request: Request, given: object) -> Response:
        first, last = YEARS.start, YEARS.stop - 1
        return web.error(request, 422, f"年度无效（{first}–{last}）", f"not a year ({first}–{last})", str(given))

    @app.get("/dossiers", include_in_schema=False)
    async def dossiers_page(request: Request) -> Response:
        web.person(request)
        given = request.query_params.get("year")
        year = year_of(given)
        if year is None:
            return bad_year(request, given)
        try:
            cases = office.dossier_cases(year)
        except ChainBroken as exc:  # its year cannot be read from a history that does not verify
            return broken(request, exc)
        return web.render(request, "dossiers.html", year=year, cases=cases, jobs=jobs.recent())

    @app.post("/dossiers", include_in_schema=False)
    async def start_dossiers(request: Request) -> Response:
        user = web.person(request)
        form = await web.checked_form(request)
        year = year_of(form.get("year"))
        if year is None:
            return bad_year(request, form.get("year"))
        try:
            cases = office.dossier_cases(year)
        except ChainBroken as exc:
            return broken(request, exc)
        if not cases:  # nothing to build: the page says so, no job
            return web.render(request, "dossiers.html", 422, year=year, cases=[], jobs=jobs.recent())
        job = jobs.start(year, cases, user.name)
        return RedirectResponse(f"/dossiers/jobs/{quote(job.id)}", status_code=303)

    def lost(request: Request) -> Response:
        return web.error(
            request,
            404,
            "没有这项生成任务（任务只保存在内存中，服务重启后不再保留；档案可随时重新生成）",
            "no such job (jobs are kept in memory only, not across a restart; the dossiers can be built again)",
        )

    @app.get("/dossiers/jobs/{job_id}", include_in_schema=False)
    async def job_page(request: Request, job_id: str) -> Response:
        web.person(request)
        job = jobs.get(job_id)
        if job is None:
            return lost(request)
        return web.render(request, "dossiers_job.html", job=job)

    @app.get("/dossiers/jobs/{job_id}/zip", include_in_schema=False)
    async def job_zip(request: Request, job_id: str) -> Response:
        web.person(request)
        job = jobs.get(job_id)
        if job is None or not job.zip_path.exists():
            return lost(request)
        if not job.finished or job.crashed:  # not (or never) complete: its status page says which
            return RedirectResponse(f"/dossiers/jobs/{quote(job.id)}", status_code=303)
        name = f"决策档案-{job.year}.zip"
        return FileResponse(
            job.zip_path,
            media_type="application/zip",
            headers={"Content-Disposition": attachment(name, f"dossiers-{job.year}.zip")},
        )

"""The decision dossier (决策档案, Decree 713 Art. 33): one matter, one self-contained PDF that shows
every record, reviewer and document hash in Chinese, carries the documents themselves, and whose
verification page agrees with `decisions audit verify`. Read back with poppler-utils' pdftotext and
pdfdetach (and pypdf) like an archivist would."""

from __future__ import annotations

import hashlib
import io
import json
import os
import re
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy
from typer.testing import CliRunner

from decisions.audit import GENESIS, Checkpoint, Head, hasher, merkle_root
from decisions.cli import app, exit_code
from decisions.dossier.proof import inclusion_proof, root_from_proof
from decisions.errors import ChainBroken, UsageError
from decisions.service.office import Office
from decisions.store.database import Database
from tests.stores import fixed_clock, play, play_catalogue
from tests.support import MAIN_PATH, shipped_definitions

runner = CliRunner()
CASE = "D-2025-001"


def need(*tools: str) -> None:
    """A missing tool skips the test with the reason, and fails it under CI=true (`.ci/run` installs them)."""
    missing = [t for t in tools if shutil.which(t) is None]
    try:
        import weasyprint  # noqa: F401
    except OSError as exc:
        missing.append(f"weasyprint ({exc})")
    if missing:
        message = f"needs {', '.join(missing)} (apt-get install poppler-utils libpango-1.0-0 fonts-noto-cjk)"
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)


def pdf_text(pdf: Path, layout: bool = False) -> str:
    """pdftotext's text: in reading order, or laid out as on the page (a table row on one line)."""
    args = ["pdftotext", *(["-layout"] if layout else []), str(pdf), "-"]
    return subprocess.run(args, capture_output=True, text=True, check=True).stdout


def compact(text: str) -> str:
    """The text without white space: a table cell may wrap anywhere."""
    return re.sub(r"\s+", "", text)


def attachments(pdf: Path, into: Path) -> dict[str, bytes]:
    into.mkdir(parents=True, exist_ok=True)
    subprocess.run(["pdfdetach", "-saveall", "-o", str(into), str(pdf)], check=True, capture_output=True)
    return {p.name: p.read_bytes() for p in into.iterdir()}


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    """The demo's county year on SQLite (the bus-fare decision is D-2025-001), its dossier written by the CLI."""
    need("pdftotext", "pdfdetach")
    tmp = tmp_path_factory.mktemp("dossier")
    url = f"sqlite:///{tmp / 'demo.sqlite'}"
    played = runner.invoke(app, ["demo", "--db", url])
    assert played.exit_code == 0, played.output
    pdf = tmp / "dossier.pdf"
    made = runner.invoke(app, ["dossier", CASE, "--out", str(pdf), "--db", url])
    assert made.exit_code == 0, made.output
    assert "dossier written" in made.output
    yield url, pdf


def office(url: str) -> Office:
    return Office(Database(url), shipped_definitions(), clock=fixed_clock)


def test_every_record_actor_role_and_rule_citation_is_in_the_text_in_chinese(demo: tuple[str, Path]) -> None:
    url, pdf = demo
    text = pdf_text(pdf)
    o = office(url)
    details = o.show(CASE)
    assert details.title in text and "城区公交票价调整" in text  # Chinese comes out as Chinese: the fonts
    wf = o.definitions.workflow(details.view.case.workflow)
    replayed = {s.seq: s for s in o.audit.replay(CASE).steps}
    records = o.history(CASE)
    assert len(records) > 15
    for r in records:
        t = wf.transition(r.from_state, r.trigger)
        assert t is not None
        assert f"#{r.seq} {t.label.zh}" in text, r.seq
        assert r.actor in text and wf.roles[r.role].label.zh in text
        for rule_id, _, _ in replayed[r.seq].rules:
            assert rule_id in text
    assert "Art. 25(2)" in text  # a citation of the legality review rule, as the packs give it
    for part in ("一、阶段", "三、办理记录", "四、文件", "五、核验"):
        assert text.count(part) >= 2, part  # in the table of contents and as a heading


def test_the_meeting_views_are_a_table_with_the_dissent_visible(demo: tuple[str, Path]) -> None:
    url, pdf = demo
    text = pdf_text(pdf)
    o = office(url)
    wf = o.definitions.workflow(o.show(CASE).view.case.workflow)
    views = [
        (name, value)
        for r in o.history(CASE)
        for name, value in r.fields.items()
        if name in wf.fields and wf.fields[name].type.value == "views"
    ]
    assert views, "the demo's meeting records its members' views"
    laid_out = pdf_text(pdf, layout=True)
    for name, value in views:
        assert compact(wf.fields[name].label.zh) in compact(text)
        labels = wf.fields[name].value_labels
        chair = next(v["position"] for v in value if v.get("head"))
        for v in value:
            shown = labels[v["position"]].zh if v["position"] in labels else v["position"]
            line = next(line for line in laid_out.splitlines() if v["member"] in line and shown in line)
            differs = v["position"] not in (chair, wf.fields[name].abstain) and not v.get("head")
            assert ("【异议】" in line) == differs, line  # dissent visible


def test_every_document_is_listed_with_its_full_hash_and_attached_with_those_bytes(
    demo: tuple[str, Path], tmp_path: Path
) -> None:
    url, pdf = demo
    text = pdf_text(pdf)
    documents = [d for r in office(url).history(CASE) for d in r.documents]
    assert len(documents) > 10
    files = attachments(pdf, tmp_path / "out")
    digests = {hashlib.sha256(data).hexdigest() for data in files.values()}
    for d in documents:
        assert f"SHA-256 {d.sha256}" in text, d.name  # whole, on one line
        assert d.sha256 in digests, d.name  # the attached bytes hash to the listed value
        assert compact(d.name) in compact(text)
    assert {"checkpoint.json", "history.json"} <= set(files)
    assert len(files) == len(documents) + 2


def test_the_verification_page_agrees_with_audit_verify_and_can_be_checked_with_plain_sha256(
    demo: tuple[str, Path], tmp_path: Path
) -> None:
    url, pdf = demo
    text = pdf_text(pdf)
    files = attachments(pdf, tmp_path / "out")
    checkpoint = Checkpoint.from_json(files["checkpoint.json"].decode())  # recomputes the Merkle root
    assert checkpoint.root in text and "历史完整" in text
    checkpoint_file = tmp_path / "checkpoint.json"
    checkpoint_file.write_bytes(files["checkpoint.json"])
    verified = runner.invoke(app, ["audit", "verify", CASE, "--db", url, "--since-checkpoint", str(checkpoint_file)])
    assert verified.exit_code == 0, verified.output
    assert "history intact" in verified.output

    # without this software: the chain recomputed from history.json with hashlib alone
    previous = GENESIS
    for event in json.loads(files["history.json"]):
        assert event["prev_hash"] == previous
        previous = hashlib.sha256(previous.encode() + b"\n" + event["body"].encode()).hexdigest()
        assert previous == event["hash"]
    assert previous in text  # the chain head printed on the page
    head = next(h for h in checkpoint.heads if h.chain == CASE)
    assert head.hash == previous
    # the leaf and the proof's siblings as printed, climbed with hashlib alone, reach the root
    leaf = hashlib.sha256(
        b"\x00" + json.dumps({"chain": CASE, "hash": head.hash, "seq": head.seq}, separators=(",", ":")).encode()
    ).hexdigest()
    assert leaf in text
    page = text[text.index("五、核验 / Verification", text.index("五、核验") + 1) :]
    node = leaf
    for side, sibling in re.findall(r"(left|right)\s+([0-9a-f]{64})", page):
        pair = sibling + node if side == "left" else node + sibling
        node = hashlib.sha256(b"\x01" + pair.encode()).hexdigest()
    assert node == checkpoint.root


def test_a_second_dossier_reuses_the_checkpoint_a_new_event_gets_a_new_one(tmp_path: Path) -> None:
    need()
    url = f"sqlite:///{tmp_path / 'd.sqlite'}"
    db = Database(url, documents=tmp_path / "docs")
    db.migrate()
    o = Office(db, shipped_definitions(), clock=fixed_clock)
    play_catalogue(o.cases, "2025-03")
    play(o.cases, CASE, MAIN_PATH[:5])
    first = o.dossier(CASE)
    assert first.startswith(b"%PDF")
    assert len(o.cases.repository.checkpoints()) == 1
    o.dossier(CASE)
    assert len(o.cases.repository.checkpoints()) == 1  # the saved one still includes the head
    play(o.cases, CASE, MAIN_PATH[5:6], start=False)
    o.dossier(CASE)
    assert len(o.cases.repository.checkpoints()) == 2


def test_office_dossier_on_sqlite_and_postgresql_carries_every_document(database_url: str, tmp_path: Path) -> None:
    need()
    from pypdf import PdfReader

    db = Database(database_url, documents=tmp_path / "docs")
    db.migrate()
    o = Office(db, shipped_definitions(), clock=fixed_clock)
    play_catalogue(o.cases, "2025-03")
    play(o.cases, CASE)
    reader = PdfReader(io.BytesIO(o.dossier(CASE)))
    attached = {hashlib.sha256(b).hexdigest() for blobs in reader.attachments.values() for b in blobs}
    assert {d.sha256 for r in o.history(CASE) for d in r.documents} <= attached
    assert "城区公交票价调整" in reader.pages[0].extract_text()
    db.dispose()


def test_an_unknown_case_is_a_clear_error_and_nothing_is_written(demo: tuple[str, Path], tmp_path: Path) -> None:
    url, _ = demo
    before = len(office(url).cases.repository.checkpoints())
    out = tmp_path / "none.pdf"
    result = runner.invoke(app, ["dossier", "D-1999-999", "--out", str(out), "--db", url])
    assert isinstance(result.exception, UsageError) and exit_code(result.exception) == 2
    assert "unknown case" in str(result.exception)
    assert not out.exists()
    assert len(office(url).cases.repository.checkpoints()) == before


@pytest.mark.parametrize("n", range(1, 12))
def test_every_inclusion_proof_leads_to_the_merkle_root(n: int) -> None:
    h = hasher("sha256")
    heads = [Head(f"C-{i:02d}", i + 1, hashlib.sha256(str(i).encode()).hexdigest()) for i in range(n)]
    root = merkle_root(h, heads)
    for head in heads:
        found = inclusion_proof(h, heads, head.chain)
        assert found is not None
        assert root_from_proof(h, found[0], found[1]) == root
        forged = Head(head.chain, head.seq + 1, head.hash)
        assert root_from_proof(h, forged, found[1]) != root
    assert inclusion_proof(h, heads, "absent") is None


def test_a_tampered_history_is_flagged_on_the_cover_and_no_new_checkpoint_vouches_for_it(
    demo: tuple[str, Path], tmp_path: Path
) -> None:
    """A stored byte changed where the case can still be read (its projection row): the dossier is
    written, its cover says the history does not verify, the finding is located, and no checkpoint
    is taken over it. An edited event breaks the chain: no dossier at all (exit 7), nothing written."""
    url, _ = demo
    source = Path(url.removeprefix("sqlite:///"))
    copy = tmp_path / "tampered.sqlite"
    shutil.copy2(source, copy)
    tampered = f"sqlite:///{copy}"
    db = Database(tampered)
    with db.write() as conn:  # an edit behind the engine's back
        conn.execute(sqlalchemy.text("UPDATE cases SET title = '伪造的标题' WHERE id = :id"), {"id": CASE})
        conn.execute(sqlalchemy.text("DELETE FROM checkpoints"))  # none taken yet (rows are never deleted)
    db.dispose()
    pdf = tmp_path / "tampered.pdf"
    result = runner.invoke(app, ["dossier", CASE, "--out", str(pdf), "--db", tampered])
    assert result.exit_code == 1 and "does not verify" in result.output
    text = pdf_text(pdf)
    cover = text.split("\f")[0]
    assert "历史未通过校验" in cover
    assert f"{CASE}: [projection] stored title '伪造的标题' differs from the history" in " ".join(text.split())
    assert office(tampered).cases.repository.checkpoints() == []
    assert "checkpoint.json" not in attachments(pdf, tmp_path / "out")
    assert "none is taken over a history that does not verify" in " ".join(text.split())

    db = Database(tampered)
    with db.write() as conn:
        conn.execute(sqlalchemy.text("UPDATE events SET body = replace(body, '李明', '张三') WHERE seq = 1"))
    db.dispose()
    broken = tmp_path / "broken.pdf"
    result = runner.invoke(app, ["dossier", CASE, "--out", str(broken), "--db", tampered])
    assert isinstance(result.exception, ChainBroken) and exit_code(result.exception) == 7
    assert not broken.exists() and office(tampered).cases.repository.checkpoints() == []


def test_a_years_dossiers_one_pdf_per_matter_of_every_workflow(demo: tuple[str, Path], tmp_path: Path) -> None:
    url, _ = demo
    o = office(url)
    of_year = sorted(c[0] for c in o.list_cases() if o.history(c[0])[0].on.year == 2025 or c[0].endswith("2025"))
    assert len({c[1] for c in o.list_cases() if c[0] in of_year}) >= 4  # decisions, documents, cases, contracts...
    out = tmp_path / "2025"
    result = runner.invoke(app, ["dossier", "--year", "2025", "--out", str(out), "--db", url])
    assert result.exit_code == 0, result.output
    assert f"dossiers written: {len(of_year)}" in result.output
    assert sorted(p.stem for p in out.iterdir()) == of_year
    for case_id in of_year:
        assert case_id in pdf_text(out / f"{case_id}.pdf").split("\f")[0]  # on its cover
    nothing = runner.invoke(app, ["dossier", "--year", "1999", "--out", str(tmp_path / "1999"), "--db", url])
    assert isinstance(nothing.exception, UsageError) and "no matters of 1999" in str(nothing.exception)
    both = runner.invoke(app, ["dossier", CASE, "--year", "2025", "--out", str(out), "--db", url])
    assert isinstance(both.exception, UsageError) and exit_code(both.exception) == 2
    assert not (tmp_path / "1999").exists()

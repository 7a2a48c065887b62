"""The catalogue for the gazette (issue 16, item 2): `decisions catalogue export YEAR --version N
--format xlsx|pdf` gives the items of that version with every field by its label, and the
adjustment history up to it; the spreadsheet is read back with openpyxl, the PDF with pdftotext."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from openpyxl import load_workbook
from typer.testing import CliRunner

from decisions.cli import app, exit_code
from decisions.errors import UsageError
from decisions.service.office import Office
from decisions.store.database import Database
from tests.stores import fixed_clock
from tests.support import shipped_definitions
from tests.test_dossier import need

runner = CliRunner()


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Office]]:
    """The demo's year: the 2025 catalogue published, then adjusted mid-year (version 2 adds an item)."""
    url = f"sqlite:///{tmp_path_factory.mktemp('catalogue') / 'demo.sqlite'}"
    played = runner.invoke(app, ["demo", "--db", url])
    assert played.exit_code == 0, played.output
    yield url, Office(Database(url), shipped_definitions(), clock=fixed_clock)


def test_the_spreadsheet_holds_every_item_of_the_version_by_its_labels_and_the_history(
    demo: tuple[str, Office], tmp_path: Path
) -> None:
    url, office = demo
    versions = office.catalogue_versions(2025)
    assert len(versions) >= 2
    first, latest = versions[0], versions[-1]
    wf = office.catalogue_workflow()
    for version in (first, latest):
        out = tmp_path / f"v{version.version}.xlsx"
        result = runner.invoke(
            app, ["catalogue", "export", "2025", "--version", str(version.version), "--out", str(out), "--db", url]
        )
        assert result.exit_code == 0, result.output
        book = load_workbook(out)
        items, history = book.worksheets
        rows = [[c.value for c in row] for row in items.iter_rows(min_row=3)]
        header, body = rows[0], rows[1:]
        assert len(body) == len(version.items)
        for item, row in zip(version.items, body, strict=True):
            assert row[0] == item.id and row[1] == item.name
            for name, value in item.fields.items():
                label = wf.fields[name].label
                column = header.index(f"{label.zh} / {label.en}")
                shown = wf.fields[name].value_labels.get(str(value))
                assert row[column] == (shown.zh if shown else str(value)), (item.id, name)
        logged = [[c.value for c in row] for row in history.iter_rows(min_row=2)]
        assert [r[0] for r in logged] == [v.version for v in versions if v.version <= version.version]
    # the latest version's history names its adjustment: the reason and the item it added
    added = {i.id for i in latest.items} - {i.id for i in first.items}
    last = logged[-1]
    assert latest.reason and last[3] == latest.reason
    assert all(f"added {item}" in last[4] for item in added) and added


def test_the_pdf_for_the_gazette_shows_the_items_in_chinese(demo: tuple[str, Office], tmp_path: Path) -> None:
    need("pdftotext")
    url, office = demo
    out = tmp_path / "catalogue.pdf"
    result = runner.invoke(app, ["catalogue", "export", "2025", "--format", "pdf", "--out", str(out), "--db", url])
    assert result.exit_code == 0, result.output
    text = "".join(
        subprocess.run(["pdftotext", str(out), "-"], capture_output=True, text=True, check=True).stdout.split()
    )
    latest = office.catalogue_version(2025)
    for item in latest.items:
        assert item.id in text and "".join(item.name.split()) in text
    assert "".join(latest.reason.split()) in text and "调整记录" in text


def test_an_unknown_format_or_version_is_a_clear_error_and_nothing_is_written(
    demo: tuple[str, Office], tmp_path: Path
) -> None:
    url, _ = demo
    out = tmp_path / "x.csv"
    for args, message in ((["--format", "csv"], "unknown format"), (["--version", "9"], "no version 9")):
        result = runner.invoke(app, ["catalogue", "export", "2025", *args, "--out", str(out), "--db", url])
        assert isinstance(result.exception, UsageError) and exit_code(result.exception) == 2
        assert message in str(result.exception)
        assert not out.exists()

"""Definitions cached by content hash (issue 15, item 4): a deployment loaded a second time comes
from the cache with the same definitions and without re-parsing or schema-checking its files; any
changed byte of a file misses it; a tampered, foreign or other-version cache entry is ignored and
rewritten, never trusted; problems are reported as ever; the cache can be turned off."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from datetime import date, timedelta
from pathlib import Path

import pytest

import decisions
from decisions.config import load_deployment
from decisions.definitions import Definitions
from decisions.errors import DefinitionError
from decisions.loading import cache, load_definitions
from tests.support import ROOT


@pytest.fixture
def deployment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A copy of the shipped deployment, with its own cache directory."""
    root = tmp_path / "office"
    root.mkdir()
    shutil.copy(ROOT / "decisions.yaml", root / "decisions.yaml")
    shutil.copytree(ROOT / "workflows", root / "workflows")
    shutil.copytree(ROOT / "rules", root / "rules")
    monkeypatch.setenv(cache.CACHE_ENV, str(tmp_path / "cache"))
    return root / "decisions.yaml"


def load(config: Path) -> Definitions:
    d = load_deployment(config)
    return load_definitions(d.workflows, d.rule_packs, d.calendar)


def same(a: Definitions, b: Definitions) -> bool:
    """The same workflows, rules, sources and working days (a calendar compares by identity)."""
    days = [date(2020, 1, 1) + timedelta(days=i) for i in range(0, 3650, 3)]

    def calendar(d: Definitions) -> object:
        c = d.calendar
        return (c.known_years, c.update_file, [c.day_info(x) for x in days if x.year in c.known_years])

    return (a.workflows, a.rulebook, a.sources, calendar(a)) == (b.workflows, b.rulebook, b.sources, calendar(b))


def entries(config: Path) -> list[Path]:
    return sorted((config.parent.parent / "cache").glob("*.json"))


def test_a_second_load_comes_from_the_cache_with_the_same_definitions(
    deployment: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = load(deployment)
    assert len(entries(deployment)) == 1 + len(first.sources)  # the deployment file and each definition file

    def no_parsing(text: str, file: str) -> None:
        raise AssertionError(f"{file} parsed again")

    parse = cache.load_yaml_text
    monkeypatch.setattr(cache, "load_yaml_text", no_parsing)
    again = load(deployment)
    assert same(again, first) and again.fingerprint == first.fingerprint
    monkeypatch.setattr(cache, "load_yaml_text", parse)
    monkeypatch.setenv(cache.CACHE_ENV, "off")
    assert same(load(deployment), first)  # and the same as a load that never saw a cache


def test_a_warm_cache_spares_the_schema_checker(deployment: Path) -> None:
    probe = (
        "import sys\nfrom pathlib import Path\nfrom decisions.config import load_deployment\nfrom decisions.loading import load_definitions\n"
        f"d = load_deployment(Path({str(deployment)!r}))\nload_definitions(d.workflows, d.rule_packs, d.calendar)\n"
        "print('jsonschema' in sys.modules)"
    )

    def run() -> str:
        done = subprocess.run([sys.executable, "-c", probe], cwd=ROOT, capture_output=True, text=True, check=True)
        return done.stdout.strip()

    assert run() == "True"  # cold: every file checked against its schema
    assert run() == "False"


def test_a_changed_byte_in_any_file_misses_the_cache(deployment: Path) -> None:
    first = load(deployment)
    wf = next(iter(first.workflows.values()))
    path = Path(wf.file)
    path.write_text(path.read_text(encoding="utf-8").replace(wf.label.en, wf.label.en + " (edited)", 1), "utf-8")
    edited = load(deployment)
    assert edited.workflows[wf.name].label.en == wf.label.en + " (edited)"
    assert edited.fingerprint != first.fingerprint
    path.write_text(path.read_text(encoding="utf-8") + "\n# a comment only\n", "utf-8")
    assert load(deployment).sources != edited.sources  # the comment is in the recorded text: a miss, not a hit


def test_a_tampered_cache_entry_is_ignored_and_rewritten(deployment: Path) -> None:
    first = load(deployment)
    wf = next(iter(first.workflows.values()))
    originals = {p: p.read_bytes() for p in entries(deployment)}
    for p, raw in originals.items():  # the payload changed, the header left as it was
        p.write_bytes(raw.replace(json.dumps(wf.label.en)[1:-1].encode(), b"Forged label"))
    tampered = [p for p, raw in originals.items() if p.read_bytes() != raw]
    assert tampered
    again = load(deployment)
    assert same(again, first) and again.workflows[wf.name].label.en == wf.label.en
    assert {p: p.read_bytes() for p in tampered} == {p: originals[p] for p in tampered}  # rewritten


def test_a_torn_or_foreign_entry_is_ignored(deployment: Path) -> None:
    first = load(deployment)
    files = entries(deployment)
    files[0].write_bytes(files[0].read_bytes()[:100])  # torn
    header, payload = files[1].read_bytes().split(b"\n", 1)
    foreign = {**json.loads(header), "format": "decisions-definition-cache/0"}
    files[1].write_bytes(json.dumps(foreign).encode() + b"\n" + payload)
    files[2].write_bytes(b"\x00\xff not json")
    assert same(load(deployment), first)
    assert len(entries(deployment)) == len(files)  # rewritten in place, under the same keys


def test_a_cache_of_another_version_is_not_used(deployment: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    first, first_version = load(deployment), decisions.__version__
    before = set(entries(deployment))
    monkeypatch.setattr(decisions, "__version__", "99.0.0")
    cache._loader_digest.cache_clear()
    try:
        assert same(load(deployment), first)
        assert len(set(entries(deployment)) - before) == len(before)  # new keys: nothing read under the old
    finally:
        monkeypatch.setattr(decisions, "__version__", first_version)
        cache._loader_digest.cache_clear()


def test_a_file_with_problems_is_not_cached_and_its_problems_are_reported_each_time(deployment: Path) -> None:
    first = load(deployment)
    wf = next(iter(first.workflows.values()))
    path = Path(wf.file)
    path.write_text(path.read_text(encoding="utf-8") + "\nno_such_top_level_key: 1\n", "utf-8")
    count = len(entries(deployment))
    for _ in range(2):
        with pytest.raises(DefinitionError) as caught:
            load(deployment)
        assert any("no_such_top_level_key" in str(p) for p in caught.value.problems)
    assert len(entries(deployment)) == count


def test_the_cache_can_be_turned_off_and_an_unwritable_one_only_costs_a_parse(
    deployment: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv(cache.CACHE_ENV, "off")
    first = load(deployment)
    assert entries(deployment) == []
    blocker = tmp_path / "a-file"
    blocker.write_text("not a directory", "utf-8")
    monkeypatch.setenv(cache.CACHE_ENV, str(blocker / "cache"))
    assert same(load(deployment), first)


def test_the_cache_directory_follows_the_documented_order(tmp_path: Path) -> None:
    assert cache.cache_directory({cache.CACHE_ENV: str(tmp_path)}) == tmp_path
    assert cache.cache_directory({cache.CACHE_ENV: "off"}) is None
    assert cache.cache_directory({"XDG_CACHE_HOME": str(tmp_path)}) == tmp_path / "decisions"
    assert cache.cache_directory({}) == Path.home() / ".cache" / "decisions"


def test_problems_found_in_a_cached_file_are_located_as_without_the_cache(
    deployment: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A file without structural problems is cached even when its meaning is wrong: a warm load reports
    the same problems, on the same lines, as a load that never saw a cache."""
    wf = next(w for w in load(deployment).workflows.values() if any(t.rules for t in w.transitions))
    path = Path(wf.file)
    path.write_text(path.read_text(encoding="utf-8").replace("rules: [", "rules: [no_such.rule, ", 1), "utf-8")

    def problems() -> list[str]:
        with pytest.raises(DefinitionError) as caught:
            load(deployment)
        return [str(p) for p in caught.value.problems]

    cold, warm = problems(), problems()
    monkeypatch.setenv(cache.CACHE_ENV, "off")
    assert cold == warm == problems()
    assert any("no_such.rule" in p and f"{path}:" in p for p in warm)

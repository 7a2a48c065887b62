"""The package installs anywhere and its surface is deliberate: a built wheel carries the shipped
definitions and the migrations, `decisions.yaml` is found in the documented order, ``import
decisions`` loads nothing, and the pure core and `workflow check` never import the store."""

from __future__ import annotations

import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

import decisions
from decisions.config import CONFIG_ENV, find_config, load_deployment, shipped_root
from tests.support import ROOT

STORAGE = ("sqlalchemy", "sqlmodel", "alembic", "psycopg", "decisions.store")
HEAVY = (*STORAGE, "chinese_calendar")


def _modules_after(code: str) -> set[str]:
    """The modules a fresh interpreter has loaded after running ``code``."""
    probe = f"{code}\nimport sys\nprint('\\n'.join(sorted(sys.modules)))"
    result = subprocess.run(
        [sys.executable, "-c", probe], cwd=ROOT, capture_output=True, text=True, timeout=120, check=True
    )
    return set(result.stdout.split())


def test_the_public_api_is_the_sorted_all_and_every_name_resolves() -> None:
    assert decisions.__all__ == sorted(decisions.__all__, key=lambda n: (not n[0].isupper(), n.lower()))
    for name in decisions.__all__:
        assert getattr(decisions, name) is not None, name
    assert decisions.Office.__module__ == "decisions.service.office"
    assert issubclass(decisions.ActionRefused, decisions.DecisionsError)
    with pytest.raises(AttributeError):
        _ = decisions.engine  # internals are not part of the surface


def test_importing_the_package_loads_none_of_its_modules() -> None:
    loaded = _modules_after("import decisions")
    assert sorted(m for m in loaded if m.startswith("decisions.")) == []


def test_the_pure_core_imports_no_storage_no_yaml_and_no_calendar_data() -> None:
    loaded = _modules_after(
        "import decisions.model, decisions.definitions, decisions.rules.evaluate, decisions.workflow.engine, "
        "decisions.workflow.analysis, decisions.calendar.core, decisions.deadlines, decisions.catalogue"
    )
    assert sorted(m for m in loaded if m.startswith((*HEAVY, "yaml"))) == []


def test_workflow_check_imports_no_store() -> None:
    loaded = _modules_after(
        "import sys\nfrom decisions.cli import main\nsys.argv = ['decisions', 'workflow', 'check']\n"
        "try:\n    main()\nexcept SystemExit as e:\n    assert e.code in (0, None), e.code"
    )
    assert "decisions.loading" in loaded  # it did check the definitions (and read the calendar)
    assert sorted(m for m in loaded if m.startswith(STORAGE)) == []


def test_the_configuration_is_found_in_the_documented_order(tmp_path: Path) -> None:
    explicit, from_env, local = tmp_path / "a.yaml", tmp_path / "b.yaml", tmp_path / "decisions.yaml"
    local.write_text("x", encoding="utf-8")
    env = {CONFIG_ENV: str(from_env)}
    assert find_config(explicit, env, tmp_path) == explicit
    assert find_config(None, env, tmp_path) == from_env
    assert find_config(None, {}, tmp_path) == local
    assert find_config(None, {}, tmp_path / "empty") == shipped_root() / "decisions.yaml"
    shipped = load_deployment(shipped_root() / "decisions.yaml")
    assert shipped.workflows and shipped.rule_packs and shipped.calendar is not None


def test_a_built_wheel_carries_the_definitions_the_migrations_and_the_type_marker(tmp_path: Path) -> None:
    build = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "--no-build-isolation", "-w", str(tmp_path), "."],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert build.returncode == 0, build.stdout + build.stderr
    (wheel,) = tmp_path.glob("decisions-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    shipped = {"decisions.yaml"} | {
        str(p.relative_to(ROOT)) for d in ("workflows", "rules", "demo") for p in (ROOT / d).glob("*.yaml")
    }
    assert {f"decisions/_shipped/{n}" for n in shipped} <= names
    migrations = {str(p.relative_to(ROOT)) for p in (ROOT / "decisions/store/migrations").rglob("*.py")}
    assert migrations | {"decisions/store/migrations/script.py.mako", "decisions/py.typed"} <= names
    schemas = {str(p.relative_to(ROOT)) for p in (ROOT / "decisions/schemas").glob("*.schema.json")}
    assert len(schemas) == 5 and schemas <= names  # the loader checks structure against them
    web = {str(p.relative_to(ROOT)) for d in ("templates", "static") for p in (ROOT / "decisions/web" / d).iterdir()}
    assert len(web) > 5 and web <= names  # the web application's templates and style sheet
    packages = {str(p.relative_to(ROOT)) for p in (ROOT / "decisions").rglob("__init__.py")}
    assert packages <= names
    for directory in (p for p in (ROOT / "decisions").rglob("*") if p.is_dir() and p.name != "__pycache__"):
        if any(directory.glob("*.py")) and "migrations" not in directory.parts:
            assert (directory / "__init__.py").is_file(), f"{directory} is not a package: left out of the wheel"


def test_the_command_line_starts_without_definitions_storage_or_schemas() -> None:
    """``decisions --help`` and every command's start pay only for Typer: what a command needs is
    imported when it runs (the coverage page's generator once cost every command 0.1 s)."""
    loaded = _modules_after("import decisions.cli")
    heavy = (*HEAVY, "yaml", "jsonschema", "transitions", "decisions.loading", "decisions.coverage")
    assert sorted(m for m in loaded if m.startswith(heavy)) == []


def test_help_loads_neither_storage_nor_schemas_nor_definitions() -> None:
    """``decisions --help`` (and a command's own ``--help``) renders from Typer alone."""
    heavy = (*HEAVY, "yaml", "jsonschema", "decisions.loading", "decisions.definitions", "decisions.service")
    for argv in (["decisions", "--help"], ["decisions", "show", "--help"]):
        loaded = _modules_after(
            f"import sys\nfrom decisions.cli import main\nsys.argv = {argv!r}\n"
            "try:\n    main()\nexcept SystemExit as e:\n    assert e.code in (0, None), e.code"
        )
        assert "typer" in loaded  # it did render the help
        assert sorted(m for m in loaded if m.startswith(heavy)) == [], argv


def test_a_command_on_a_database_loads_neither_alembic_nor_the_schema_checker(tmp_path: Path) -> None:
    """``show``, ``inbox`` and ``act`` open the store and the definitions, and pay for nothing else:
    no migration tooling, and (the definitions cache warm) no ``jsonschema``. (The tables are
    SQLModel's, the project's chosen table layer: docs/benchmarks.md, "start-up", gives its cost.)"""
    url = f"sqlite:///{tmp_path / 'office.sqlite'}"
    env = {**os.environ, "DECISIONS_CACHE": str(tmp_path / "cache"), "DECISIONS_DOCUMENTS": str(tmp_path / "docs")}
    subprocess.run(
        [sys.executable, "-m", "decisions", "init", "--db", url], cwd=ROOT, env=env, capture_output=True, check=True
    )
    probe = (
        f"import sys\nfrom decisions.cli import main\nsys.argv = ['decisions', 'list', '--db', {url!r}]\n"
        "try:\n    main()\nexcept SystemExit as e:\n    assert e.code in (0, None), e.code\n"
        "print('\\n'.join(sorted(sys.modules)))"
    )
    done = subprocess.run([sys.executable, "-c", probe], cwd=ROOT, env=env, capture_output=True, text=True, check=True)
    loaded = set(done.stdout.split())
    assert {"sqlalchemy", "decisions.store.database", "decisions.loading"} <= loaded  # it did open both
    assert sorted(m for m in loaded if m.startswith(("alembic", "jsonschema"))) == []

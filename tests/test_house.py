"""House rules that keep the code easy to change: the store owns every SQL statement and driver,
and each invariant that audit compares is derived by one function (two copies of a rule that audit
compares would one day disagree and raise a false alarm)."""

from __future__ import annotations

import ast
import re
from pathlib import Path

from tests.support import ROOT

PACKAGE = ROOT / "decisions"
DRIVERS = ("sqlalchemy", "sqlmodel", "alembic", "psycopg", "sqlite3")
SQL = re.compile(r"\b(SELECT\s+\S+.*\bFROM|INSERT\s+INTO|UPDATE\s+\w+\s+SET|DELETE\s+FROM|PRAGMA\s)", re.I)


def _modules_outside_store() -> list[Path]:
    return [p for p in PACKAGE.rglob("*.py") if "store" not in p.relative_to(PACKAGE).parts]


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


def test_no_database_driver_or_sql_outside_the_store() -> None:
    offenders = []
    for path in _modules_outside_store():
        for name in _imports(path):
            if name.split(".")[0] in DRIVERS:
                offenders.append(f"{path.relative_to(ROOT)} imports {name}")
        for i, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if SQL.search(line):
                offenders.append(f"{path.relative_to(ROOT)}:{i} has SQL: {line.strip()}")
    assert offenders == []


def _occurrences(pattern: str) -> list[str]:
    rx = re.compile(pattern)
    return [
        f"{p.relative_to(ROOT)}:{i}"
        for p in PACKAGE.rglob("*.py")
        for i, line in enumerate(p.read_text(encoding="utf-8").splitlines(), 1)
        if rx.search(line)
    ]


def _files(pattern: str) -> set[str]:
    return {o.split(":")[0] for o in _occurrences(pattern)}


def test_each_invariant_that_audit_compares_has_one_implementation() -> None:
    # a case's attributes from its records: only WorkflowDef.attributes_after sets one
    assert _files(r"(?<!config\.)attributes\[[^\]]+\]\s*=(?!=)") == {"decisions/workflow/definition.py"}
    # the definitions fingerprint (definitions.fingerprint_of) and a text's digest (source_digest)
    assert _files(r'f"\{kind\}:\{sha\}"') == {"decisions/definitions.py"}
    assert _files(r"hashlib\.sha256\(.*text") == {"decisions/definitions.py"}
    # definitions loaded by fingerprint: CaseService.stored_definitions, and nothing else
    assert len(_occurrences(r"load_sources\(self\.repository\.definition_sources")) == 1
    # the digest format: audit.is_digest
    assert _files(r"0123456789abcdef|\[0-9a-f\]\{64\}|DIGEST_HEX_LENGTH\}") == {"decisions/audit/hashing.py"}

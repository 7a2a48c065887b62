from __future__ import annotations

import os
import tempfile
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from decisions.definitions import Definitions
from tests.support import COUNTS, Story, shipped_definitions

# Each run has a definitions cache of its own (decisions/loading/cache.py), inherited by the commands
# the tests start: warm after the first load, never a user's ~/.cache.
os.environ.setdefault("DECISIONS_CACHE", tempfile.mkdtemp(prefix="decisions-cache-"))

# The suites that try to break the engine's promises (docs/reliability.md): their test counts are
# printed at the end of every run, beside the lines they record with `tests.support.report_count`.
ADVERSARIAL = (
    "test_properties.py",
    "test_role_matrix.py",
    "test_fuzz_definitions.py",
    "test_crash_consistency.py",
    "test_concurrency.py",
    "test_tampering.py",
    "test_tampering_schema.py",
    "test_hostile_input.py",
)


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    tally: Counter[tuple[str, str]] = Counter()
    for outcome in ("passed", "failed", "skipped", "xfailed", "xpassed", "error"):
        for report in terminalreporter.stats.get(outcome, []):
            file = Path(str(getattr(report, "nodeid", "")).split("::")[0]).name
            if file in ADVERSARIAL and (report.when == "call" or outcome in ("skipped", "error")):
                tally[file, outcome] += 1
    if not tally and not COUNTS:
        return
    terminalreporter.section("adversarial suites: what ran (docs/reliability.md)")
    for file in ADVERSARIAL:
        ran = {outcome: n for (f, outcome), n in tally.items() if f == file}
        if ran:
            terminalreporter.write_line(f"{file}: " + ", ".join(f"{n} {o}" for o, n in sorted(ran.items())))
    for line in COUNTS:
        terminalreporter.write_line(line)


@pytest.fixture(scope="session")
def definitions() -> Definitions:
    return shipped_definitions()


@pytest.fixture
def story(definitions: Definitions) -> Story:
    return Story(definitions)


@pytest.fixture
def server(office: Any) -> Iterator[str]:
    """The web app over the test file's ``office`` fixture, served on loopback (browser tests)."""
    from decisions.web.app import create_app
    from tests.browser_support import serve

    with serve(create_app(office)) as base:
        yield base


@pytest.fixture
def browser() -> Iterator[Any]:
    """Debian's chromium through Playwright (tests.browser_support)."""
    from tests.browser_support import chromium

    with chromium() as b:
        yield b


from tests.stores import contract_service, database_url, db, service  # noqa: E402,F401  (fixtures shared by store tests)

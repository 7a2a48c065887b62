from __future__ import annotations

import pytest

from decisions.definitions import Definitions
from tests.support import Story, shipped_definitions


@pytest.fixture(scope="session")
def definitions() -> Definitions:
    return shipped_definitions()


@pytest.fixture
def story(definitions: Definitions) -> Story:
    return Story(definitions)


from tests.stores import database_url, db, service  # noqa: E402,F401  (fixtures shared by store tests)

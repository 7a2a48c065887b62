"""The JSON API under schemathesis (issue 14, item 5): every operation of the served OpenAPI
document, called in-process with generated inputs by a logged-in legal counsel (session cookie and
CSRF header), never answers 500 and always answers what the document declares."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings

schemathesis = pytest.importorskip("schemathesis")

from decisions.definitions import Definitions  # noqa: E402
from decisions.web.app import Settings, create_app  # noqa: E402
from tests.web_support import client, csrf, login, play, until, web_office  # noqa: E402


@pytest.fixture
def api(tmp_path: Path, definitions: Definitions) -> Any:
    office = web_office(f"sqlite:///{tmp_path / 'web.sqlite'}", tmp_path, definitions)
    play(office, until("give_legal_opinion"))
    settings = Settings()
    app = create_app(office, settings)
    c = login(client(office, secret=settings.secret), "counsel")
    SESSION["headers"] = {"X-CSRF-Token": csrf(c, "/")}
    SESSION["cookies"] = {"decisions_session": c.cookies["decisions_session"]}
    return schemathesis.openapi.from_asgi("/api/openapi.json", app)


SESSION: dict[str, dict[str, str]] = {}  # the logged-in session the fixture opened


def test_no_operation_of_the_api_answers_500(api: Any) -> None:
    operations = [result.ok() for result in api.get_all_operations()]
    assert len(operations) >= 5  # every /api operation, read from the served document
    seen: set[tuple[str, int]] = set()
    for operation in operations:

        @given(operation.as_strategy())
        @settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck), database=None)
        def call(case: Any) -> None:
            response = case.call(headers=SESSION["headers"], cookies=SESSION["cookies"])
            assert response.status_code < 500, (case.method, case.formatted_path, response.text)
            assert response.status_code != 401, "the session was lost"
            seen.add((case.formatted_path.split("/")[2], response.status_code))

        call()
    assert {("inbox", 200), ("audit", 200)} <= seen, seen  # the calls reached the application, logged in

"""Options and service construction shared by the commands."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from decisions.model import Text

if TYPE_CHECKING:  # the service layer (and SQLAlchemy) load only when a command needs them: fast --help
    from decisions.service import CaseService, DefinitionsService

ConfigOption = Annotated[
    Path | None,
    typer.Option(
        "--config",
        help="部署配置文件（默认：$DECISIONS_CONFIG、./decisions.yaml、随包配置）/ deployment file (default: $DECISIONS_CONFIG, ./decisions.yaml, shipped)",
    ),
]
DbOption = Annotated[
    str | None,
    typer.Option(
        "--db",
        help="数据库地址（默认：$DECISIONS_DATABASE_URL 或 sqlite:///decisions.sqlite）/ database URL (default: $DECISIONS_DATABASE_URL or sqlite:///decisions.sqlite)",
    ),
]


class _Output:
    """Whether this run asked for ``--json``: then its errors are JSON on stdout too (`decisions.cli.main`)."""

    json = False


OUTPUT = _Output()


def _json_requested(value: bool) -> bool:
    OUTPUT.json = bool(value)
    return value


JsonOption = Annotated[
    bool, typer.Option("--json", help="机器可读输出 / machine-readable output", callback=_json_requested)
]


def definitions_service(config: Path | None) -> DefinitionsService:
    from decisions.config import find_config, load_deployment
    from decisions.service import DefinitionsService

    return DefinitionsService(load_deployment(find_config(config)))


def case_service(db_url: str | None, config: Path | None) -> CaseService:
    """The service over an initialised database, under the deployment's definitions."""
    from decisions.service import CaseService
    from decisions.store.database import Database

    return CaseService(Database(db_url or ""), definitions_service(config).definitions())


class _Lang:
    """The language of labels and messages for this run: ``zh``, ``en`` or both (default)."""

    value = "both"


LANG = _Lang()


def label(text: Text) -> str:
    """A bilingual text in the language chosen with ``--lang``."""
    return text.pick(LANG.value)

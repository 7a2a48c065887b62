"""The web application (`decisions serve`): FastAPI with server-rendered Jinja2 pages and a JSON API
under ``/api``, over `Office` only. No business logic here: every page presents what `Office`
returns; every refusal is `Office`'s. The two places that will change when the service layer grows
are one function each: how an action's form is made (`decisions.web.forms.action_form`) and how a
login maps to the acting person (`decisions.web.identity.acting_person`)."""

from __future__ import annotations

__all__ = ["Settings", "create_app"]

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from decisions.web.app import Settings, create_app


def __getattr__(name: str) -> Any:
    if name in __all__:
        from decisions.web import app

        return getattr(app, name)
    raise AttributeError(name)

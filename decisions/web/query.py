"""What the lists' GET forms send: checkboxes, and the links to a list's other pages (the same
query with another offset). No script: a filter is a plain form, a page a plain link."""

from __future__ import annotations

from urllib.parse import urlencode

from starlette.datastructures import QueryParams

__all__ = ["is_checked", "page_link"]


def is_checked(value: str) -> bool:
    """A checkbox of a GET form (``1``, ``on``, ``true``, ``yes``), or the API's flag."""
    return value.strip().lower() in {"1", "on", "true", "yes"}


def page_link(path: str, params: QueryParams, offset: int | None) -> str | None:
    """``path`` with the query ``params`` at ``offset`` (None: there is no such page)."""
    if offset is None:
        return None
    kept = [(k, v) for k, v in params.multi_items() if k != "offset" and v != ""]
    return f"{path}?{urlencode([*kept, ('offset', str(offset))])}"

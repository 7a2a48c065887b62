"""How a login maps to the person who acts: by their id, which histories name (their display name
is only shown, and two people may share it)."""

from __future__ import annotations

from decisions.service.users import User

__all__ = ["acting_person"]


def acting_person(user: User) -> str:
    """The id `Office` knows the logged-in person by."""
    return user.id

"""How a login maps to the person who acts (one place, to switch when people become records with
ids distinct from their display names)."""

from __future__ import annotations

from decisions.service.users import User

__all__ = ["acting_person"]


def acting_person(user: User) -> str:
    """The name `Office` knows the logged-in person by (today: their login name is their name)."""
    return user.name

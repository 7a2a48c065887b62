"""Sessions in a signed cookie (itsdangerous): ``{"u": name or null, "c": csrf nonce}``, HttpOnly,
SameSite=Lax, Secure when the server is behind HTTPS (a setting), re-signed on every request so
that its timestamp is the last activity: a cookie idle longer than the timeout is refused.

Why a signed token and not server-side rows: no table and no write per request (a read-only
auditor's page writes nothing), and the web layer stays out of the store. The price: logout
clears the cookie in this browser but a copy taken before it stays valid until it idles out;
the idle timeout (default 30 minutes) bounds that, and changing the server's secret ends every
session at once."""

from __future__ import annotations

import secrets
from dataclasses import dataclass

from itsdangerous import BadSignature, URLSafeTimedSerializer

__all__ = ["COOKIE", "Session", "SessionCodec"]

COOKIE = "decisions_session"


@dataclass(frozen=True)
class Session:
    user: str | None
    csrf: str

    @staticmethod
    def anonymous() -> Session:
        return Session(None, secrets.token_urlsafe(24))


class SessionCodec:
    def __init__(self, secret: str, idle_seconds: int) -> None:
        self.serializer = URLSafeTimedSerializer(secret, salt="decisions.session")
        self.idle_seconds = idle_seconds

    def dumps(self, session: Session) -> str:
        return self.serializer.dumps({"u": session.user, "c": session.csrf})

    def loads(self, token: str | None) -> Session | None:
        """The session the cookie carries, or None when it is missing, forged or idle too long."""
        if not token:
            return None
        try:
            data = self.serializer.loads(token, max_age=self.idle_seconds)
        except BadSignature:  # includes SignatureExpired
            return None
        if not isinstance(data, dict):
            return None
        user, csrf = data.get("u"), data.get("c")
        if not isinstance(csrf, str) or not (user is None or isinstance(user, str)):
            return None
        return Session(user, csrf)

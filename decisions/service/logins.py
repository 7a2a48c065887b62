"""Logins: passwords hashed with Argon2id (`argon2-cffi`), checked in constant work, and failed
attempts throttled per account and per client.

The throttle is held in the process (a web server is one process): after `LIMIT` failures within
`WINDOW` seconds an account, or a client address, is refused without the password being checked
until the window has passed. A restart forgets it; the Argon2 cost still bounds guessing.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from decisions.errors import UsageError
from decisions.service.users import User, UserService
from decisions.store.interface import CredentialStore

__all__ = ["LoginRefused", "LoginService", "Throttled"]

MIN_PASSWORD = 10
MAX_PASSWORD = 1024
LIMIT = 5
WINDOW = 300.0


class LoginRefused(UsageError):
    """Wrong name or password (one message for both: the form does not reveal who exists)."""

    def __init__(self) -> None:
        super().__init__("用户名或密码错误 / wrong name or password")


class Throttled(UsageError):
    """Too many failed logins for this account or from this client; try again later."""

    def __init__(self, seconds: int) -> None:
        self.seconds = seconds
        super().__init__(
            f"登录失败次数过多，请 {seconds} 秒后再试 / too many failed logins: try again in {seconds} seconds"
        )


class _Throttle:
    def __init__(self, monotonic: Callable[[], float]) -> None:
        self.monotonic = monotonic
        self._failures: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def wait(self, keys: list[str]) -> int:
        """Seconds until every key may try again (0: now)."""
        now = self.monotonic()
        longest = 0.0
        with self._lock:
            for key in keys:
                times = self._failures.get(key)
                if not times:
                    continue
                while times and times[0] <= now - WINDOW:
                    times.popleft()
                if len(times) >= LIMIT:
                    longest = max(longest, times[0] + WINDOW - now)
        return int(longest) + 1 if longest else 0

    def fail(self, keys: list[str]) -> None:
        now = self.monotonic()
        with self._lock:
            for key in keys:
                self._failures.setdefault(key, deque()).append(now)

    def clear(self, key: str) -> None:
        with self._lock:
            self._failures.pop(key, None)


class LoginService:
    """Passwords of the people `UserService` knows."""

    def __init__(
        self, credentials: CredentialStore, users: UserService, *, monotonic: Callable[[], float] = time.monotonic
    ) -> None:
        self.credentials = credentials
        self.users = users
        self.hasher = PasswordHasher()
        self.throttle = _Throttle(monotonic)
        self._dummy = self.hasher.hash("decisions: no such account")

    def set_password(self, name: str, password: str, *, by: str | None = None) -> User:
        """Set or change the password of the person whose id is ``name``: its Argon2 hash is stored
        with a people-history entry carrying the hash's digest (`UserService.set_credential`), so
        `audit verify` detects a credential row edited, inserted or deleted behind the office."""
        user = self.users.get(name)
        if not MIN_PASSWORD <= len(password) <= MAX_PASSWORD:
            raise UsageError(
                f"密码长度应为 {MIN_PASSWORD}-{MAX_PASSWORD} 个字符 / a password has {MIN_PASSWORD} to {MAX_PASSWORD} characters"
            )
        return self.users.set_credential(user.id, self.hasher.hash(password), by=by)

    def has_any(self) -> bool:
        return self.credentials.count() > 0

    def login(self, name: str, password: str, client: str = "") -> User:
        """The active person ``name`` if ``password`` is theirs; `LoginRefused` otherwise (the same
        for an unknown name, a deactivated person and a wrong password), `Throttled` when too many
        attempts failed lately for this name or this client."""
        keys = [f"account:{name}", f"client:{client}"]
        wait = self.throttle.wait(keys)
        if wait:
            raise Throttled(wait)
        # a name that cannot be anyone's id (a NUL, a lone surrogate) never reaches the driver:
        # PostgreSQL refuses a NUL, which was a 503 ("the database does not answer") for a login form
        possible = 0 < len(name) <= 128 and name.isprintable() and len(password) <= MAX_PASSWORD
        stored = self.credentials.get(name) if possible else None
        try:
            self.hasher.verify(stored or self._dummy, password)
            ok = stored is not None
        except (VerifyMismatchError, VerificationError, InvalidHashError):
            ok = False
        user = None
        if ok:
            try:
                user = self.users.get(name)
            except UsageError:
                user = None
        if user is None or not user.active:
            self.throttle.fail(keys)
            raise LoginRefused()
        self.throttle.clear(f"account:{name}")
        return user

"""The database: an SQLite file by default (WAL, ``synchronous=FULL``, writes in ``BEGIN IMMEDIATE``),
PostgreSQL for many offices on one server. Chosen by URL (``--db`` or ``DECISIONS_DATABASE_URL``).

Driver errors are translated here, and only here, by type and SQLSTATE (never by message text):
a serialization failure or deadlock becomes `TransientStoreError`, a taken unique key
`DuplicateKeyError`, anything else `StoreError`; the cause is chained.
"""

from __future__ import annotations

import functools
import os
import select as _select
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, Engine, create_engine, event, inspect, select, text
from sqlalchemy.exc import DBAPIError, DisconnectionError, OperationalError

from decisions.errors import DatabaseBusy, DuplicateKeyError, StorageFull, StoreError, TransientStoreError, shown
from decisions.store.tables import MetaRow

if TYPE_CHECKING:
    from decisions.store.documents import MovedDocuments

_META = MetaRow.__table__  # type: ignore[attr-defined]

__all__ = ["DATABASE_ENV", "DEFAULT_URL", "DOCUMENTS_ENV", "Database", "is_demo_database", "resolve_url"]

DATABASE_ENV = "DECISIONS_DATABASE_URL"
DOCUMENTS_ENV = "DECISIONS_DOCUMENTS"
DEFAULT_URL = "sqlite:///decisions.sqlite"
MIGRATIONS = Path(__file__).resolve().parent / "migrations"
_RETRYABLE_SQLSTATES = {"40001", "40P01"}  # serialization failure, deadlock detected
_UNIQUE_SQLSTATE = "23505"  # PostgreSQL unique_violation
_SQLITE_UNIQUE = {"SQLITE_CONSTRAINT_UNIQUE", "SQLITE_CONSTRAINT_PRIMARYKEY"}  # sqlite3's error names
_DISK_FULL_SQLSTATE = "53100"  # PostgreSQL disk_full
BUSY_SECONDS = 30.0
"""How long an SQLite writer waits for another writer's lock before `DatabaseBusy` (``busy_seconds``)."""


def resolve_url(explicit: str | None = None, environ: Mapping[str, str] | None = None) -> str:
    """``--db`` first, then ``$DECISIONS_DATABASE_URL``, then an SQLite file in the working directory."""
    env = os.environ if environ is None else environ
    url = explicit or env.get(DATABASE_ENV) or DEFAULT_URL
    if url.startswith("postgresql://") or url.startswith("postgres://"):
        url = "postgresql+psycopg://" + url.split("://", 1)[1]
    return url


def _driver_failure(exc: DBAPIError) -> str:
    """What a driver error means, from its type and SQLSTATE (psycopg) or error name (sqlite3):
    ``transient``, ``duplicate`` or ``other``."""
    orig = exc.orig
    state = getattr(orig, "sqlstate", None)
    name = str(getattr(orig, "sqlite_errorname", ""))
    if state in _RETRYABLE_SQLSTATES:
        return "transient"
    if state == _UNIQUE_SQLSTATE or name in _SQLITE_UNIQUE:
        return "duplicate"
    if state == _DISK_FULL_SQLSTATE or name == "SQLITE_FULL":
        return "full"
    if name.startswith("SQLITE_BUSY") or name.startswith("SQLITE_LOCKED"):
        return "busy"
    if name.startswith("SQLITE_READONLY") or name.startswith("SQLITE_CANTOPEN"):
        return "read-only"
    return "other"


def is_demo_database(file: Path) -> bool:
    """Whether an SQLite file is a database `decisions demo` made (marked in its meta table). Opened
    read-only, with the standard library's driver: nothing is created or migrated by asking."""
    import sqlite3

    try:
        with sqlite3.connect(f"file:{file}?mode=ro", uri=True) as conn:
            row = conn.execute("SELECT value FROM meta WHERE key = 'demo'").fetchone()
    except sqlite3.Error:
        return False
    return row is not None and row[0] == "true"


SCHEMA_REVISION = "0008"
"""The newest migration. Kept here so that opening a database need not import Alembic (0.8 s of
start-up); `test_schema_revision_is_alembics_head` fails when a migration is added without it."""


_STORED_TEXT = functools.partial(str, encoding="utf-8", errors="surrogateescape")
"""How SQLite's text is read: as UTF-8, but a value that is not valid UTF-8 (someone wrote bytes into
the file behind the engine) keeps its undecodable bytes as lone surrogates instead of failing the
whole read, so that `audit verify` reports it as tampering at its place rather than as a database
that does not answer. Such text is never written back: `is_storable_text` refuses lone surrogates.
(PostgreSQL's UTF8 databases refuse invalid text on write.)"""


def _sqlite_setup(engine: Engine, busy_seconds: float) -> None:
    @event.listens_for(engine, "connect")
    def _connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None  # let SQLAlchemy's begin event issue BEGIN itself
        dbapi_connection.text_factory = _STORED_TEXT
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=FULL")
        cursor.execute(f"PRAGMA busy_timeout={int(busy_seconds * 1000)}")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _begin(conn: Connection) -> None:
        immediate = conn.get_execution_options().get("sqlite_immediate", False)
        conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")


IDLE_PING_SECONDS = 10.0
"""A pooled PostgreSQL connection idle for longer, or one the server has written to while idle (a
restart or an ended backend sends its FATAL message and closes the socket: seen locally, with no
round trip), is pinged before use and replaced if dead. Any other is used without a ping: a loss
that shows only on the transaction's first statement fails as `TransientStoreError`, and the
writer retries."""


def _postgres_setup(engine: Engine) -> None:
    """Liveness without a ping per transaction: connections idle for `IDLE_PING_SECONDS` are
    pinged at checkout; a connection lost before the server answered any statement of a transaction
    is reported as transient (nothing of it was done, so retrying it is safe), whereas one lost
    after (at the commit, say: it may have committed) stays a `StoreError`."""

    @event.listens_for(engine, "connect")
    def _connect(_dbapi_connection: Any, record: Any) -> None:
        record.info["idle_since"] = time.monotonic()

    @event.listens_for(engine, "checkin")
    def _checkin(_dbapi_connection: Any, record: Any) -> None:
        if record is not None:
            record.info["idle_since"] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def _checkout(dbapi_connection: Any, record: Any, _proxy: Any) -> None:
        record.info["answered"] = False
        idle = time.monotonic() - record.info.get("idle_since", 0.0)
        if idle <= IDLE_PING_SECONDS and not _looks_closed(dbapi_connection):
            return
        try:
            alive = engine.dialect.do_ping(dbapi_connection)
        except engine.dialect.loaded_dbapi.Error as exc:
            raise DisconnectionError(str(exc)) from exc
        if not alive:  # pragma: no cover - psycopg raises instead
            raise DisconnectionError("the connection did not answer")

    @event.listens_for(engine, "after_cursor_execute")
    def _after_execute(conn: Connection, *_: Any) -> None:
        conn.info["answered"] = True


def _looks_closed(dbapi_connection: Any) -> bool:
    """Whether the server has written to an idle connection (its FATAL message and end of stream on
    a restart or a terminated backend): a local check, no round trip. Such a connection is pinged."""
    try:
        return bool(_select.select([dbapi_connection.fileno()], [], [], 0)[0])
    except (OSError, ValueError, AttributeError):  # closed already, or a driver without a socket
        return True


def _answered(seen: list[dict[Any, Any]]) -> bool:
    """Whether the server answered a statement of the transaction whose connection's info is in ``seen``."""
    return bool(seen[0].get("answered", True)) if seen else False


class Database:
    """One database, the documents' bytes included."""

    def __init__(
        self,
        url: str,
        *,
        documents: Path | None = None,
        environ: Mapping[str, str] | None = None,
        busy_seconds: float = BUSY_SECONDS,
    ) -> None:
        env = os.environ if environ is None else environ
        self.busy_seconds = busy_seconds
        self.url = resolve_url(url, env)
        self.is_sqlite = self.url.startswith("sqlite")
        try:
            if self.is_sqlite:
                self.engine = create_engine(
                    self.url, connect_args={"check_same_thread": False, "timeout": busy_seconds}
                )
                _sqlite_setup(self.engine, busy_seconds)
            else:
                self.engine = create_engine(self.url, pool_size=10, max_overflow=20)
                _postgres_setup(self.engine)
        except Exception as exc:  # sqlalchemy raises several types for a malformed URL
            raise StoreError(
                f"数据库地址无效 / invalid database URL {shown(self.safe_url(), 120)}: {shown(str(exc), 200)}"
            ) from exc
        # Where an earlier version kept the documents' files: read only by the upgrade that moves
        # them into the database (revision 0004); documents are stored in the database itself.
        self.documents_root = documents or self._default_documents(env)
        self.documents_moved: MovedDocuments | None = None

    def safe_url(self) -> str:
        """The URL without a password, for messages."""
        url = self.url
        if "@" in url and "://" in url:
            scheme, rest = url.split("://", 1)
            creds, host = rest.rsplit("@", 1)
            url = f"{scheme}://{creds.split(':', 1)[0]}:***@{host}" if ":" in creds else url
        return url

    def _default_documents(self, env: Mapping[str, str]) -> Path:
        if env.get(DOCUMENTS_ENV):
            return Path(env[DOCUMENTS_ENV])
        if self.is_sqlite:
            database = self.engine.url.database or ""
            if database in ("", ":memory:"):
                raise StoreError("内存数据库没有文档存储 / an in-memory SQLite database has no document store")
            return Path(database).with_suffix(".documents")
        return Path("decisions-documents")

    # -- transactions ---------------------------------------------------------------------------

    @contextmanager
    def read(self) -> Iterator[Connection]:
        """A read transaction on one consistent snapshot (SQLite's WAL; REPEATABLE READ on PostgreSQL,
        whose default READ COMMITTED would let two statements see two different states)."""
        with self._translate() as seen, self.engine.connect() as conn:
            seen.append(conn.info)
            if not self.is_sqlite:
                conn = conn.execution_options(isolation_level="REPEATABLE READ")
            with conn.begin():
                yield conn

    @contextmanager
    def write(self) -> Iterator[Connection]:
        """A write transaction: ``BEGIN IMMEDIATE`` on SQLite; commits once at the end, or not at all."""
        with self._translate() as seen, self.engine.connect() as conn:
            seen.append(conn.info)
            if self.is_sqlite:
                conn = conn.execution_options(sqlite_immediate=True)
            with conn.begin():
                yield conn

    @contextmanager
    def _translate(self) -> Iterator[list[dict[Any, Any]]]:
        seen: list[dict[Any, Any]] = []  # the info of the transaction's pooled connection, once checked out
        try:
            yield seen
        except DBAPIError as exc:
            reason = " ".join(str(exc.orig).split())
            kind = _driver_failure(exc)
            lost_early = exc.connection_invalidated and not self.is_sqlite and not _answered(seen)
            if kind == "transient" or lost_early:
                raise TransientStoreError(f"数据库要求重试事务 / the database asks to retry: {reason}") from exc
            if kind == "duplicate":
                raise DuplicateKeyError(f"键已存在 / key already taken: {reason}") from exc
            if kind == "full":
                raise StorageFull(
                    f"数据库所在磁盘已满，本次操作未写入；请腾出空间后重试 / the disk holding the database is full: "
                    f"nothing was written; free space, then try again ({reason})"
                ) from exc
            if kind == "busy":
                raise DatabaseBusy(
                    f"数据库正忙：另一写入者占用超过 {self.busy_seconds:g} 秒，本次操作未写入，请稍后重试 / the database "
                    f"is busy: another writer held it for more than {self.busy_seconds:g} s; nothing was written, "
                    "try again"
                ) from exc
            if kind == "read-only":
                raise StoreError(
                    f"数据库文件只读或无法打开，本次操作未写入 / the database {shown(self.safe_url(), 120)} is read-only "
                    f"or cannot be opened (its file, its directory or its disk): nothing was written ({reason})"
                ) from exc
            if isinstance(exc, OperationalError):
                raise StoreError(
                    f"数据库无法访问 / database {shown(self.safe_url(), 120)} does not answer: {reason}"
                ) from exc
            raise StoreError(f"数据库错误 / database error: {reason}") from exc

    # -- schema -----------------------------------------------------------------------------------

    def migrate(self, hash_algorithm: str = "sha256") -> str:
        """Create or upgrade the schema (Alembic, ``upgrade head``); fix the hash algorithm on first
        use. Returns the algorithm in force (an existing database keeps its own). The upgrade to
        0004 moves an earlier version's file store (`documents_root`) into the database, all in the
        one transaction: ``documents_moved`` says what it moved (None when that upgrade did not run
        now); a missing or damaged file refuses the upgrade with `IntegrityError`, nothing written."""
        from alembic import command
        from alembic.config import Config

        config = Config()
        config.set_main_option("script_location", str(MIGRATIONS))
        config.attributes["documents_root"] = self.documents_root
        with self.write() as conn:
            config.attributes["connection"] = conn
            command.upgrade(config, "head")
            current = conn.execute(select(_META.c.value).where(_META.c.key == "hash_algorithm")).scalar()
            if current is None:
                conn.execute(_META.insert().values(key="hash_algorithm", value=hash_algorithm))
                current = hash_algorithm
        self.documents_moved = config.attributes.get("documents_moved")
        return str(current)

    def mark_demo(self) -> None:
        """Mark this database as made by `decisions demo` (which may then replace it)."""
        with self.write() as conn:
            if conn.execute(select(_META.c.value).where(_META.c.key == "demo")).first() is None:
                conn.execute(_META.insert().values(key="demo", value="true"))

    def ensure_ready(self) -> str:
        """The hash algorithm of an initialised database; a clear error when it is not initialised.
        A missing SQLite file is reported without being created (a mistyped path leaves nothing)."""
        if self.is_sqlite:
            name = self.engine.url.database or ""
            try:
                missing = name not in ("", ":memory:") and not Path(name).exists()
            except OSError as exc:  # e.g. a path longer than the file system allows
                raise StoreError(f"数据库路径无效 / invalid database path: {exc.strerror}") from exc
            if missing:
                raise StoreError(
                    f"数据库文件不存在，请先运行 decisions init / database file {shown(name, 120)} does not exist: "
                    "run `decisions init` (or check --db)"
                )
        with self.read() as conn:
            if not inspect(conn).has_table("alembic_version"):
                raise StoreError(
                    f"数据库尚未初始化，请先运行 decisions init / database {shown(self.safe_url(), 120)} is not initialised: "
                    "run `decisions init`"
                )
            revision = conn.execute(text("SELECT version_num FROM alembic_version")).scalar()
            if revision != SCHEMA_REVISION:
                raise StoreError(
                    f"数据库版本 {revision} 需要迁移，请运行 decisions init / run `decisions init` to migrate"
                )
            value = conn.execute(select(_META.c.value).where(_META.c.key == "hash_algorithm")).scalar()
        return str(value or "sha256")

    def dispose(self) -> None:
        self.engine.dispose()

"""Engines and sessions: the only place that turns a database URL into connections.

SQLite (the default: a file under ``$NAUTILUS_HOME`` or XDG data) and PostgreSQL through psycopg 3.
Called by the CLI (``engine_from_settings``), the inventory synchronizer, the controller, podwatch and
``db.migrate``. Everything that opens connections goes through :func:`make_engine`, so:

* SQLite connections get ``foreign_keys=ON``, WAL journaling (files), a busy timeout, and real
  transactions (SQLAlchemy emits ``BEGIN`` itself, so DDL and reads are transactional too). A
  connection with the execution option ``nautilus_sqlite_begin="IMMEDIATE"`` takes the write lock at
  ``BEGIN`` (used by migrations so two upgraders cannot interleave).
* Connection failures (cannot connect, connection dropped, SQLite busy past the timeout, PostgreSQL
  serialization failure / deadlock) surface as :class:`~nautilus_core.errors.TransientError` whose
  message names the database with its password hidden. Other database errors are left as they are.
* A write the database refuses for lack of rights (PostgreSQL ``insufficient_privilege`` or a read-only
  transaction, a read-only SQLite file) is a :class:`~nautilus_core.errors.PermanentError` of one line
  naming the database (no SQL dump).
* A malformed or unsupported URL is a :class:`~nautilus_core.errors.ConfigError`.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError, NoSuchModuleError
from sqlalchemy.pool import StaticPool
from sqlmodel import Session

from nautilus_core.cancellation import checkpoint
from nautilus_core.errors import ConfigError, PermanentError, TransientError
from nautilus_core.logs import redact_text, redact_url

if TYPE_CHECKING:
    from sqlalchemy.engine import ExceptionContext

    from nautilus_core.config import Settings

__all__ = [
    "engine_from_settings",
    "make_engine",
    "parse_url",
    "redacted",
    "session_scope",
    "transient_error",
]

SQLITE_BUSY_TIMEOUT_MS = 5000
PG_CONNECT_TIMEOUT_S = 10
# PostgreSQL SQLSTATEs worth retrying: serialization_failure, deadlock_detected, admin/crash shutdown,
# cannot_connect_now, too_many_connections.
_PG_TRANSIENT_SQLSTATES = frozenset({"40001", "40P01", "57P01", "57P02", "57P03", "53300"})
_SQLITE_TRANSIENT = ("database is locked", "database is busy", "database table is locked")
# insufficient_privilege, read_only_sql_transaction
_PG_DENIED_SQLSTATES = frozenset({"42501", "25006"})
_SQLITE_DENIED = ("readonly database", "read-only database")


def redacted(url: str | URL) -> str:
    """``url`` as text with every credential replaced by ``***``: the password, and query parameters
    such as ``password=``, ``sslpassword=`` or ``token=`` (safe for logs and errors)."""
    if not isinstance(url, URL):
        try:
            url = make_url(url)
        except (ArgumentError, ValueError):
            return redact_url(str(url))
    return redact_url(url.render_as_string(hide_password=True))


def parse_url(url: str | URL) -> URL:
    """Parse ``url``; ``postgres://`` and ``postgresql://`` are driven through psycopg 3.

    :raises ConfigError: the URL cannot be parsed (the message never echoes a password).
    """
    if isinstance(url, URL):
        parsed = url
    else:
        try:
            parsed = make_url(url)
        except (ArgumentError, ValueError) as exc:
            raise ConfigError(
                f"invalid database URL {redact_text(str(url))!r}: expected e.g. "
                "sqlite:///path/nautilus.db or postgresql+psycopg://user:password@host:5432/dbname"
            ) from exc
    if parsed.drivername in ("postgres", "postgresql"):
        parsed = parsed.set(drivername="postgresql+psycopg")
    return parsed


def make_engine(url: str | URL, **kw: Any) -> Engine:
    """An :class:`~sqlalchemy.Engine` for ``url``, configured for Nautilus; ``kw`` go to ``create_engine``.

    No connection is opened here; the first use connects (and raises ``TransientError`` if it cannot).

    >>> engine = make_engine("sqlite:///:memory:")
    >>> engine = make_engine("postgresql://nautilus:secret@db:5432/nautilus")  # psycopg 3 driver

    :raises ConfigError: malformed URL, unknown dialect or missing driver.
    """
    parsed = parse_url(url)
    backend = parsed.get_backend_name()
    if backend == "sqlite":
        kw = _sqlite_options(parsed, kw)
    elif backend == "postgresql":
        kw.setdefault("pool_pre_ping", True)
        connect_args = dict(kw.pop("connect_args", {}))
        if "connect_timeout" not in parsed.query:
            connect_args.setdefault("connect_timeout", PG_CONNECT_TIMEOUT_S)
        if "application_name" not in parsed.query:
            connect_args.setdefault("application_name", "nautilus")
        kw["connect_args"] = connect_args
    try:
        engine = create_engine(parsed, **kw)
    except (ArgumentError, NoSuchModuleError, ImportError) as exc:
        raise ConfigError(f"cannot use database {redacted(parsed)}: {redact_text(str(exc))}") from exc
    if backend == "sqlite":
        _install_sqlite_hooks(engine, file_backed=_sqlite_file(parsed) is not None)
    event.listen(engine, "handle_error", _translate_error)
    event.listen(engine, "before_cursor_execute", _checkpoint)
    return engine


def _checkpoint(conn: Any, cursor: Any, statement: str, parameters: Any, context: Any, executemany: bool) -> None:
    """Cancelled work (a reconcile of a leadership term that ended) sends no more statements."""
    checkpoint("database statement")


def engine_from_settings(settings: Settings, **kw: Any) -> Engine:
    """:func:`make_engine` for ``settings.database_url_value()`` (DATABASE_URL, DB_*, else SQLite)."""
    return make_engine(settings.database_url_value(), **kw)


@contextlib.contextmanager
def session_scope(engine: Engine, **kw: Any) -> Iterator[Session]:
    """A :class:`sqlmodel.Session` committed on success and rolled back on any exception.

    Objects stay usable after the block (``expire_on_commit=False``).

    >>> from nautilus_core.db import AuditLog, upgrade
    >>> engine = make_engine("sqlite://")
    >>> _ = upgrade(engine)
    >>> with session_scope(engine) as session:
    ...     session.add(AuditLog(actor="cli", action="noop"))
    """
    kw.setdefault("expire_on_commit", False)
    session = Session(engine, **kw)
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


# --------------------------------------------------------------------------- SQLite


def _sqlite_file(url: URL) -> Path | None:
    database = url.database or ""
    if database in ("", ":memory:") or database.startswith("file:") or url.query.get("mode") == "memory":
        return None
    return Path(database)


def _sqlite_options(url: URL, kw: dict[str, Any]) -> dict[str, Any]:
    connect_args = dict(kw.pop("connect_args", {}))
    connect_args.setdefault("timeout", SQLITE_BUSY_TIMEOUT_MS / 1000)
    path = _sqlite_file(url)
    if path is None:
        # One shared connection so every session sees the same in-memory database.
        connect_args.setdefault("check_same_thread", False)
        kw.setdefault("poolclass", StaticPool)
    else:
        try:
            path.expanduser().parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise ConfigError(f"cannot create the directory of SQLite database {path}: {exc}") from exc
    kw["connect_args"] = connect_args
    return kw


def _install_sqlite_hooks(engine: Engine, *, file_backed: bool) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Let SQLAlchemy emit BEGIN (below) instead of sqlite3's legacy implicit transactions,
        # which skip SELECT and DDL.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        try:
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
            if file_backed:
                cursor.execute("PRAGMA journal_mode=WAL")
                cursor.execute("PRAGMA synchronous=NORMAL")
        finally:
            cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Any) -> None:
        mode = conn.get_execution_options().get("nautilus_sqlite_begin", "DEFERRED")
        if mode not in ("DEFERRED", "IMMEDIATE", "EXCLUSIVE"):
            raise ConfigError(f"nautilus_sqlite_begin={mode!r}: expected DEFERRED, IMMEDIATE or EXCLUSIVE")
        conn.exec_driver_sql(f"BEGIN {mode}")


# --------------------------------------------------------------------------- errors


def _translate_error(context: ExceptionContext) -> None:
    """``handle_error`` hook: connection-level failures become ``TransientError`` (password hidden)."""
    if context.is_pre_ping:
        return  # the pool handles a failed ping by reconnecting; never interfere
    orig = context.original_exception
    engine = context.engine
    connecting = context.connection is None
    reason: str | None = None
    if connecting or context.is_disconnect:
        reason = "unreachable" if connecting else "connection lost"
    elif engine is not None and engine.dialect.name == "sqlite":
        if any(text in str(orig).lower() for text in _SQLITE_TRANSIENT):
            reason = "busy"
    elif getattr(orig, "sqlstate", None) in _PG_TRANSIENT_SQLSTATES:
        reason = f"transient failure (SQLSTATE {orig.sqlstate})"  # type: ignore[attr-defined]
    if reason is None:
        if _denied(engine, orig):
            raise denied_error(engine.url if engine is not None else None, orig) from context.sqlalchemy_exception
        return
    raise transient_error(
        engine.url if engine is not None else None, reason, orig
    ) from context.sqlalchemy_exception


def _denied(engine: Engine | None, orig: BaseException) -> bool:
    if engine is not None and engine.dialect.name == "sqlite":
        return any(text in str(orig).lower() for text in _SQLITE_DENIED)
    return getattr(orig, "sqlstate", None) in _PG_DENIED_SQLSTATES


def denied_error(url: URL | None, orig: BaseException) -> PermanentError:
    """The ``PermanentError`` for a statement the database at ``url`` refused for lack of rights."""
    where = redacted(url) if url is not None else "the database"
    text = str(orig).strip()
    detail = redact_text(text.splitlines()[0] if text else type(orig).__name__)
    return PermanentError(f"database {where} refused: {detail} (does this database user have the rights "
                          "this command needs? `nautilus db upgrade` needs one that may change the schema)")


def transient_error(url: URL | None, reason: str, orig: BaseException) -> TransientError:
    """The ``TransientError`` for a failure of the database at ``url`` (password and secrets hidden)."""
    where = redacted(url) if url is not None else "the database"
    text = str(orig).strip()
    detail = redact_text(text.splitlines()[0] if text else type(orig).__name__)
    return TransientError(f"database {where} {reason}: {detail}")

"""Column types shared by every Nautilus table: UTC timestamps, JSON documents, identifiers.

Owned here so the tables (``db.models``), the migrations and the bulk writer (``db.upsert``) agree
on how values are stored on both SQLite and PostgreSQL. Imported by ``db.models`` and the
migration scripts; application code normally never needs it.

Decisions:

* ``UTCDateTime`` **rejects naive datetimes** (``ValueError`` on write, which SQLAlchemy reports as
  a ``StatementError`` naming the parameter). A naive value is almost always a ``datetime.utcnow()``
  or local-time bug; silently assuming UTC would store wrong instants. Values read back are always
  timezone-aware UTC. PostgreSQL stores ``timestamp with time zone``; SQLite stores the UTC wall
  time as text (``YYYY-MM-DD HH:MM:SS.ffffff``, which sorts and compares correctly).
* ``JSONDocument`` is ``JSONB`` on PostgreSQL and ``JSON`` elsewhere. A Python ``None`` becomes SQL
  ``NULL`` (not the JSON literal ``null``), so "unknown" stays distinguishable with ``IS NULL``.
* ``Id`` is a 64-bit integer on PostgreSQL and ``INTEGER`` on SQLite (where only ``INTEGER PRIMARY
  KEY`` is an auto-incrementing rowid alias).
* Timestamps are compared by the instant they denote, never by their text: rows that users write in
  plain SQL on SQLite hold ``CURRENT_TIMESTAMP``'s ``YYYY-MM-DD HH:MM:SS`` or a trigger's three
  fractional digits, while SQLAlchemy binds six. Wrap both sides in :func:`instant`
  (``julianday(...)`` on SQLite, the value itself elsewhere) for an equality that holds across forms.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import JSON, BigInteger, DateTime, Integer
from sqlalchemy.dialects import sqlite
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.engine.interfaces import Dialect
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.functions import FunctionElement
from sqlalchemy.sql.operators import OperatorType
from sqlalchemy.types import Interval, TypeDecorator, TypeEngine

__all__ = ["Id", "JSONDocument", "UTCDateTime", "instant", "utcnow"]


def utcnow() -> datetime:
    """The current instant as an aware UTC datetime (the only kind ``UTCDateTime`` accepts)."""
    return datetime.now(UTC)


class _SQLiteUTCText(sqlite.DATETIME):
    """SQLite storage of ``UTCDateTime``: SQLAlchemy's ``DATETIME`` text layout, written and parsed
    without its per-value regex/dict formatting (bulk writes spend their time here)."""

    def bind_processor(self, dialect: Dialect) -> Any:
        def process(value: datetime | None) -> str | None:
            if value is None:
                return None
            return (
                f"{value.year:04d}-{value.month:02d}-{value.day:02d} "
                f"{value.hour:02d}:{value.minute:02d}:{value.second:02d}.{value.microsecond:06d}"
            )

        return process

    def result_processor(self, dialect: Dialect, coltype: object) -> Any:
        def process(value: str | datetime | None) -> datetime | None:
            if value is None or isinstance(value, datetime):
                return value
            return datetime.fromisoformat(value)  # also reads CURRENT_TIMESTAMP's "YYYY-MM-DD HH:MM:SS"

        return process


class UTCDateTime(TypeDecorator[datetime]):
    """A timezone-aware UTC timestamp on every backend; naive input is rejected.

    >>> from datetime import datetime, timezone, timedelta
    >>> UTCDateTime().process_bind_param(
    ...     datetime(2024, 1, 1, 12, tzinfo=timezone(timedelta(hours=2))), None)
    datetime.datetime(2024, 1, 1, 10, 0, tzinfo=datetime.timezone.utc)
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def __repr__(self) -> str:
        return "UTCDateTime()"

    def load_dialect_impl(self, dialect: Dialect) -> TypeEngine[Any]:
        if dialect.name == "sqlite":
            return _SQLiteUTCText()
        return dialect.type_descriptor(DateTime(timezone=True))

    def coerce_compared_value(self, op: OperatorType | None, value: Any) -> TypeEngine[Any]:
        # ``column + timedelta(...)`` must stay an interval expression, not a timestamp bind.
        if isinstance(value, timedelta):
            return Interval()
        return self

    def process_bind_param(self, value: datetime | None, dialect: Dialect | None) -> datetime | None:
        if value is None:
            return None
        if not isinstance(value, datetime):
            raise TypeError(f"UTCDateTime expects a datetime, got {type(value).__name__}: {value!r}")
        tz = value.tzinfo
        if tz is UTC:
            return value
        if tz is None or value.utcoffset() is None:
            raise ValueError(
                f"naive datetime {value.isoformat()} rejected: pass an aware value such as "
                "datetime.now(timezone.utc) (UTCDateTime never guesses a timezone)"
            )
        # SQLite keeps the UTC wall time (the offset is dropped when formatting); PostgreSQL the instant.
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Dialect | None) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


class instant(FunctionElement[Any]):
    """The instant a timestamp column or value denotes, for comparisons that must not depend on the
    text form SQLite stores (``instant(col) == instant(literal(value, UTCDateTime()))``)."""

    name = "instant"
    inherit_cache = True


@compiles(instant)
def _instant_default(element: instant, compiler: SQLCompiler, **kw: Any) -> str:
    return str(compiler.process(element.clauses, **kw))


@compiles(instant, "sqlite")
def _instant_sqlite(element: instant, compiler: SQLCompiler, **kw: Any) -> str:
    # julianday() parses every text form SQLite's date functions know (with or without fractional
    # seconds, "T" or space, "Z" or an offset) into one number.
    return f"julianday({compiler.process(element.clauses, **kw)})"


def JSONDocument() -> TypeEngine[Any]:
    """``JSONB`` on PostgreSQL, ``JSON`` elsewhere; ``None`` is stored as SQL ``NULL``."""
    return JSON(none_as_null=True).with_variant(JSONB(none_as_null=True), "postgresql")


def Id() -> TypeEngine[int]:
    """Primary/foreign key type: ``BIGINT`` on PostgreSQL, ``INTEGER`` (rowid alias) on SQLite."""
    return BigInteger().with_variant(Integer(), "sqlite")

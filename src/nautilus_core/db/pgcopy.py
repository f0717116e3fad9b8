"""PostgreSQL ``COPY`` of many rows into a temporary table, for bulk upserts.

Used by ``db.upsert`` when a call brings ``PG_COPY_MIN_ROWS`` rows or more: rows are converted by
the columns' own SQLAlchemy types (so ``UTCDateTime`` refuses naive values and JSON documents are
dumped exactly as on the other paths), streamed with psycopg's ``COPY``, then upserted from the
temporary table in one statement. Runs in the caller's transaction; the table is dropped after use
and at commit at the latest.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import Column, Connection, MetaData, Table
from sqlalchemy.exc import DBAPIError, StatementError

from nautilus_core.db.engine import transient_error

__all__ = ["copy_rows", "copy_to_temp_table", "drop_temp_table"]


def copy_rows(conn: Connection, table: Table, columns: Sequence[str], rows: Sequence[Sequence[Any]]) -> None:
    """COPY ``rows`` (value sequences in ``columns`` order, through their bind processors already)
    straight into ``table``.

    :raises sqlalchemy.exc.DBAPIError: the server refused the data (a duplicate key, a bad value).
    :raises TransientError: the connection dropped during the copy.
    """
    quote = conn.dialect.identifier_preparer.quote
    _copy(conn, f"COPY {quote(table.name)} ({', '.join(quote(c) for c in columns)}) FROM STDIN", rows)


def _copy(conn: Connection, copy_sql: str, data: Sequence[Sequence[Any]]) -> None:
    raw: Any = conn.connection.dbapi_connection  # a psycopg.Connection: its cursors can COPY
    try:
        with raw.cursor() as cursor, cursor.copy(copy_sql) as copy:
            for values in data:
                copy.write_row(values)
    except conn.dialect.loaded_dbapi.Error as exc:
        wrapped = DBAPIError.instance(copy_sql, None, exc, conn.dialect.loaded_dbapi.Error)
        if conn.dialect.is_disconnect(exc, raw, None):
            conn.invalidate(exc)
            raise transient_error(conn.engine.url, "connection lost", exc) from wrapped
        raise wrapped from exc


def copy_to_temp_table(
    conn: Connection, table: Table, columns: Sequence[str], rows: Sequence[Any], *, converted: bool = False
) -> Table:
    """Create a temporary table shaped like ``columns`` of ``table``, COPY ``rows`` into it, return it.

    ``rows``: mappings by column name, converted here by the columns' types; with ``converted``,
    sequences of values in ``columns`` order that went through their bind processors already.

    :raises sqlalchemy.exc.StatementError: a value its column type refuses (nothing was sent).
    :raises sqlalchemy.exc.DBAPIError: the server refused the data (e.g. ``DataError``).
    :raises TransientError: the connection dropped during the copy.
    """
    quote = conn.dialect.identifier_preparer.quote
    name = f"_nautilus_copy_{table.name}"
    column_list = ", ".join(quote(c) for c in columns)
    copy_sql = f"COPY {quote(name)} ({column_list}) FROM STDIN"
    data = rows if converted else _converted(conn, table, columns, rows, copy_sql)

    conn.exec_driver_sql(
        f"CREATE TEMPORARY TABLE {quote(name)} ON COMMIT DROP AS "
        f"SELECT {column_list} FROM {quote(table.name)} WITH NO DATA"
    )
    _copy(conn, copy_sql, data)
    return Table(name, MetaData(), *[Column(c, table.c[c].type) for c in columns])


def drop_temp_table(conn: Connection, staged: Table) -> None:
    """Drop a table made by :func:`copy_to_temp_table` once used. (After a failure there is nothing to
    do: rolling back the transaction, or the savepoint, undoes its creation.)"""
    conn.exec_driver_sql(f"DROP TABLE {conn.dialect.identifier_preparer.quote(staged.name)}")


def _converted(
    conn: Connection, table: Table, columns: Sequence[str], rows: Sequence[Mapping[str, Any]], statement: str
) -> list[list[Any]]:
    dialect = conn.dialect
    processors = [table.c[c].type.dialect_impl(dialect).bind_processor(dialect) for c in columns]
    pairs = list(zip(columns, processors, strict=True))
    try:
        return [[proc(row[c]) if proc else row[c] for c, proc in pairs] for row in rows]
    except (TypeError, ValueError) as exc:
        raise StatementError(f"({type(exc).__name__}) {exc}", statement, None, exc) from exc

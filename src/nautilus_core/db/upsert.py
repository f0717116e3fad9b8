"""Dialect-aware bulk writes: upsert (INSERT .. ON CONFLICT DO UPDATE), touch, tombstone, purge.

Owns how Nautilus writes many rows at once on SQLite and PostgreSQL. Called by the inventory
synchronizer and the podwatch collector (one transaction per cluster), and by anything else that
mirrors external state into a table. All functions take a ``Connection`` or a ``Session`` and run
in the caller's transaction; none commits.

How rows travel:

* SQLite: one single-row ``INSERT .. ON CONFLICT`` statement executed with ``executemany`` per
  batch (sqlite3 loops in C). Batches never exceed SQLite's bound-variable limit.
* PostgreSQL, small calls: one ``INSERT .. SELECT * FROM unnest(:col1::type[], ...) ON CONFLICT``
  per batch: one array parameter per column, so a batch is one round trip and one cached plan.
* PostgreSQL, ``PG_COPY_MIN_ROWS`` rows or more: ``COPY`` into a temporary table, then one
  ``INSERT .. SELECT .. ON CONFLICT`` from it (``db.pgcopy``).

Rows are plain dicts that all have the same keys. ``None`` is written as ``NULL`` (never dropped),
and a column missing from the rows is never written on update, which is how user-owned columns
survive a sync. Within one call, rows repeating a key collapse to the last one.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import orjson
from sqlalchemy import (
    Connection,
    Row,
    Table,
    and_,
    any_,
    bindparam,
    delete,
    func,
    or_,
    select,
    true,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement

from nautilus_core.db.pgcopy import copy_rows, copy_to_temp_table, drop_temp_table
from nautilus_core.db.types import utcnow

__all__ = ["UpsertResult", "insert_missing", "purge", "row_hash", "tombstone", "touch", "upsert"]

#: SQLite's SQLITE_MAX_VARIABLE_NUMBER since 3.32 (999 before; SQLAlchemy checks the version).
SQLITE_MAX_VARIABLES = 32766
DEFAULT_BATCH_ROWS = 5000
#: From this many rows on, PostgreSQL upserts stream the rows with COPY into a temporary table and
#: upsert from there (about twice the throughput of ``unnest`` arrays, a few more round trips).
PG_COPY_MIN_ROWS = 2000
# SQLAlchemy fetches rowcount for UPDATE/DELETE only unless asked.
_ROWCOUNT = {"preserve_rowcount": True}
#: Columns ``update=None`` leaves alone besides the key and the primary key.
INSERT_ONLY_COLUMNS = frozenset({"first_seen_at"})


@dataclass(frozen=True)
class UpsertResult:
    """What an :func:`upsert` did.

    ``submitted``: rows sent after collapsing repeated keys; ``affected``: rows the database
    reports as inserted or updated (skipped unchanged rows are not counted); ``rows``: the
    ``returning`` columns of the affected rows only (unordered).
    """

    submitted: int = 0
    affected: int = 0
    rows: list[Row[Any]] = field(default_factory=list)

    @property
    def unchanged(self) -> int:
        """Rows that matched an existing row whose ``only_if_changed`` columns were equal."""
        return self.submitted - self.affected


def row_hash(values: Mapping[str, Any], *, exclude: Iterable[str] = ()) -> str:
    """A stable hash of ``values`` for the ``data_hash`` column (key order does not matter).

    >>> row_hash({"name": "web", "ready": True}) == row_hash({"ready": True, "name": "web"})
    True
    """
    skip = set(exclude)
    data = {k: v for k, v in values.items() if k not in skip}
    raw = orjson.dumps(data, option=orjson.OPT_SORT_KEYS | orjson.OPT_NON_STR_KEYS, default=str)
    return hashlib.blake2b(raw, digest_size=16).hexdigest()


def upsert(
    conn_or_session: Connection | Session,
    table: Any,
    rows: Sequence[Mapping[str, Any]],
    *,
    key: Sequence[str],
    update: Sequence[str] | None = None,
    only_if_changed: str | Sequence[str] | None = "data_hash",
    returning: Sequence[str] = (),
    batch_rows: int = DEFAULT_BATCH_ROWS,
) -> UpsertResult:
    """Insert ``rows`` into ``table``; on a ``key`` conflict update only the ``update`` columns.

    :param table: a table class (``Node``) or a ``sqlalchemy.Table``.
    :param key: columns of a unique constraint (``("cluster_id", "name")``).
    :param update: columns set on conflict. ``None``: every column of the rows except the key, the
        primary key and ``first_seen_at``. Empty: ``DO NOTHING``.
    :param only_if_changed: update a conflicting row only when one of these columns differs
        (``IS DISTINCT FROM``, so ``NULL`` compares as a value); ``None`` always updates. Pass
        ``("data_hash", "deleted_at")`` with ``deleted_at: None`` in the rows to revive tombstoned
        rows whose data did not change.
    :param returning: columns to return for each inserted or updated row (e.g. ``("id", "name")``).
    :param batch_rows: rows per statement (PostgreSQL sends ``PG_COPY_MIN_ROWS`` rows or more in one
        COPY instead).
    :raises ValueError: rows with different columns, unknown columns, key/update columns missing.
    :raises sqlalchemy.exc.StatementError: a value its column type refuses (e.g. a naive datetime).

    Example (on a connection inside a transaction, with cluster 1 in the database)::

        upsert(conn, Node, [{"cluster_id": 1, "name": "n1", "ready": True, "data_hash": "ab12",
                             "last_seen_at": now}], key=("cluster_id", "name")).affected  # 1
    """
    conn = _connection(conn_or_session)
    tbl = _table(table)
    if not rows:
        return UpsertResult()
    plan = _plan(tbl, rows, key, update, only_if_changed, returning)
    # Repeated keys would make PostgreSQL refuse the statement ("cannot affect row a second time").
    unique = list({tuple(row[c] for c in plan.key): row for row in rows}.values())
    dialect = conn.dialect.name
    if dialect == "postgresql" and len(unique) >= PG_COPY_MIN_ROWS:
        staged = copy_to_temp_table(conn, tbl, plan.columns, unique)
        stmt = _on_conflict(postgresql.insert(tbl).from_select(plan.columns, select(*staged.c)), tbl, plan)
        affected, returned = _count(conn.execute(stmt, execution_options=_ROWCOUNT), plan)
        drop_temp_table(conn, staged)
        return UpsertResult(submitted=len(unique), affected=affected, rows=returned)

    if dialect == "postgresql":
        step = max(1, batch_rows)
        # dimensions=1: a JSON list value is one element (a jsonb array), not a nested SQL array
        arrays = [bindparam(f"p_{c}", type_=postgresql.ARRAY(tbl.c[c].type, dimensions=1)) for c in plan.columns]
        source = func.unnest(*arrays).table_valued(*plan.columns).render_derived()
        stmt = postgresql.insert(tbl).from_select(plan.columns, select(*[source.c[c] for c in plan.columns]))

        def params(batch: list[Mapping[str, Any]]) -> Any:
            return {f"p_{c}": [row[c] for row in batch] for c in plan.columns}

    elif dialect == "sqlite":
        step = max(1, min(batch_rows, SQLITE_MAX_VARIABLES // len(plan.columns)))
        stmt = sqlite.insert(tbl)

        def params(batch: list[Mapping[str, Any]]) -> Any:
            return batch

    else:
        raise NotImplementedError(f"upsert supports sqlite and postgresql, not {dialect}")
    stmt = _on_conflict(stmt, tbl, plan)
    affected = 0
    returned = []
    for start in range(0, len(unique), step):
        result = conn.execute(stmt, params(unique[start : start + step]), execution_options=_ROWCOUNT)
        n, batch_rows_returned = _count(result, plan)
        affected += n
        returned.extend(batch_rows_returned)
    return UpsertResult(submitted=len(unique), affected=affected, rows=returned)


def insert_missing(
    conn_or_session: Connection | Session,
    table: Any,
    columns: Sequence[str],
    rows: Sequence[Sequence[Any]],
    *,
    key: Sequence[str],
    checked: bool = False,
) -> int:
    """Insert ``rows`` (tuples in ``columns`` order) whose ``key`` is not stored yet (``ON CONFLICT DO
    NOTHING``); returns how many were inserted. The fast path for append-only data (log lines): values
    go through their columns' bind processors only, then the driver (SQLite ``executemany``; PostgreSQL
    ``COPY`` into a temporary table and one ``INSERT .. SELECT .. ON CONFLICT DO NOTHING``).

    :param checked: the caller read the stored keys in this transaction and holds a lock that keeps
        other writers of these keys out: PostgreSQL then COPYs straight into the table (a stored key
        fails the statement instead of being skipped).
    :raises ValueError: unknown columns, or a key column not among ``columns``.
    """
    conn = _connection(conn_or_session)
    tbl = _table(table)
    _check_columns(tbl, [*columns, *key], "columns/key")
    if missing := [c for c in key if c not in columns]:
        raise ValueError(f"insert_missing into {tbl.name}: key column(s) {missing} not in columns")
    if not rows:
        return 0
    dialect = conn.dialect
    processors = [(i, proc) for i, c in enumerate(columns)
                  if (proc := tbl.c[c].type.dialect_impl(dialect).bind_processor(dialect)) is not None]
    if processors:
        converted = []
        for row in rows:
            values = list(row)
            for i, proc in processors:
                values[i] = proc(values[i])
            converted.append(values)
        rows = converted
    quote = dialect.identifier_preparer.quote
    names = ", ".join(quote(c) for c in columns)
    conflict = f"ON CONFLICT ({', '.join(quote(c) for c in key)}) DO NOTHING"
    if dialect.name == "sqlite":
        sql = f"INSERT INTO {quote(tbl.name)} ({names}) VALUES ({', '.join('?' * len(columns))}) {conflict}"
        count = 0
        for start in range(0, len(rows), DEFAULT_BATCH_ROWS):
            count += max(conn.exec_driver_sql(sql, [tuple(r) for r in rows[start:start + DEFAULT_BATCH_ROWS]],
                                              execution_options=_ROWCOUNT).rowcount, 0)
        return count
    if dialect.name != "postgresql":
        raise NotImplementedError(f"insert_missing supports sqlite and postgresql, not {dialect.name}")
    if checked:
        copy_rows(conn, tbl, list(columns), rows)
        return len(rows)
    staged = copy_to_temp_table(conn, tbl, list(columns), rows, converted=True)
    result = conn.exec_driver_sql(f"INSERT INTO {quote(tbl.name)} ({names}) SELECT {names} FROM "
                                  f"{quote(staged.name)} {conflict}", execution_options=_ROWCOUNT)
    drop_temp_table(conn, staged)
    return max(result.rowcount, 0)


def touch(
    conn_or_session: Connection | Session,
    table: Any,
    ids: Iterable[int],
    column: str = "last_seen_at",
    value: Any = None,
    *,
    batch_rows: int = 10_000,
) -> int:
    """``UPDATE table SET column = value WHERE id IN (ids)`` in batches; returns the rows updated.

    ``value`` defaults to the current UTC time (the bulk "still there" mark of unchanged rows).
    """
    conn = _connection(conn_or_session)
    tbl = _table(table)
    _check_columns(tbl, [column], "column")
    value = utcnow() if value is None else value
    id_list = list(ids)
    if conn.dialect.name == "postgresql":
        step = max(1, batch_rows)  # one array parameter whatever the batch size
        id_array = bindparam("ids", type_=postgresql.ARRAY(tbl.c.id.type))
        stmt = update(tbl).where(tbl.c.id == any_(id_array)).values({column: value})
    else:
        step = max(1, min(batch_rows, SQLITE_MAX_VARIABLES - 1))
        stmt = update(tbl).where(tbl.c.id.in_(bindparam("ids", expanding=True))).values({column: value})
    count = 0
    for start in range(0, len(id_list), step):
        count += conn.execute(
            stmt, {"ids": id_list[start : start + step]}, execution_options=_ROWCOUNT
        ).rowcount
    return count


def tombstone(
    conn_or_session: Connection | Session,
    table: Any,
    where_clause: ColumnElement[bool] | None,
    seen_before: datetime,
    *,
    at: datetime | None = None,
    seen_column: str = "last_seen_at",
    deleted_column: str = "deleted_at",
) -> int:
    """Mark vanished rows deleted: ``SET deleted_at = at`` for rows matching ``where_clause`` that are
    not yet tombstoned and were last seen before ``seen_before``; returns the rows marked.

    Scope ``where_clause`` to what this run fetched successfully, e.g. ``Node.cluster_id == 7``
    (``None`` means the whole table).
    """
    conn = _connection(conn_or_session)
    tbl = _table(table)
    _check_columns(tbl, [seen_column, deleted_column], "column")
    condition = and_(
        where_clause if where_clause is not None else true(),
        tbl.c[deleted_column].is_(None),
        tbl.c[seen_column] < seen_before,
    )
    stmt = update(tbl).where(condition).values({deleted_column: at or utcnow()})
    return conn.execute(stmt, execution_options=_ROWCOUNT).rowcount


def purge(
    conn_or_session: Connection | Session,
    table: Any,
    deleted_before: datetime,
    *,
    where_clause: ColumnElement[bool] | None = None,
    deleted_column: str = "deleted_at",
) -> int:
    """Delete rows tombstoned before ``deleted_before`` (the retention); returns the rows deleted."""
    conn = _connection(conn_or_session)
    tbl = _table(table)
    _check_columns(tbl, [deleted_column], "column")
    condition = and_(
        where_clause if where_clause is not None else true(),
        tbl.c[deleted_column].is_not(None),
        tbl.c[deleted_column] < deleted_before,
    )
    return conn.execute(delete(tbl).where(condition), execution_options=_ROWCOUNT).rowcount


# --------------------------------------------------------------------------- internals


def _connection(conn_or_session: Connection | Session) -> Connection:
    if isinstance(conn_or_session, Session):
        conn_or_session.flush()  # pending ORM rows (parents) must exist before the bulk write
        return conn_or_session.connection()
    return conn_or_session


def _table(table: Any) -> Table:
    if isinstance(table, Table):
        return table
    tbl = getattr(table, "__table__", None)
    if not isinstance(tbl, Table):
        raise TypeError(f"expected a table class or sqlalchemy.Table, got {table!r}")
    return tbl


def _check_columns(tbl: Table, names: Iterable[str], what: str) -> None:
    unknown = [n for n in names if n not in tbl.c]
    if unknown:
        raise ValueError(f"table {tbl.name} has no column(s) {unknown} (named in {what})")


@dataclass(frozen=True)
class _Plan:
    columns: list[str]
    key: list[str]
    update: list[str]
    changed: list[str]
    returning: list[str]


def _plan(
    tbl: Table,
    rows: Sequence[Mapping[str, Any]],
    key: Sequence[str],
    update: Sequence[str] | None,
    only_if_changed: str | Sequence[str] | None,
    returning: Sequence[str],
) -> _Plan:
    """Validate the call and decide the columns of each clause."""
    first = rows[0].keys()
    columns = list(first)
    _check_columns(tbl, columns, "row 0")
    for i, row in enumerate(rows):
        if row.keys() != first:
            raise ValueError(
                f"upsert into {tbl.name}: row {i} has columns {sorted(row)}, row 0 has {sorted(columns)} "
                "(every row must have the same columns)"
            )
    changed = [only_if_changed] if isinstance(only_if_changed, str) else list(only_if_changed or ())
    if update is None:
        pk = {c.name for c in tbl.primary_key.columns}
        update = [c for c in columns if c not in key and c not in pk and c not in INSERT_ONLY_COLUMNS]
    for what, names in (("key", key), ("update", update), ("only_if_changed", changed)):
        _check_columns(tbl, names, what)
        if missing := [c for c in names if c not in first]:
            raise ValueError(f"upsert into {tbl.name}: {what} column(s) {missing} missing from the rows")
    _check_columns(tbl, returning, "returning")
    return _Plan(columns, list(key), list(update), changed, list(returning))


def _on_conflict(stmt: Any, tbl: Table, plan: _Plan) -> Any:
    if plan.update:
        excluded = stmt.excluded
        where = None
        if plan.changed:
            where = or_(*[tbl.c[c].is_distinct_from(excluded[c]) for c in plan.changed])
        stmt = stmt.on_conflict_do_update(
            index_elements=plan.key, set_={c: excluded[c] for c in plan.update}, where=where
        )
    else:
        stmt = stmt.on_conflict_do_nothing(index_elements=plan.key)
    if plan.returning:
        stmt = stmt.returning(*[tbl.c[c] for c in plan.returning])
    return stmt


def _count(result: Any, plan: _Plan) -> tuple[int, list[Row[Any]]]:
    if plan.returning:
        rows = result.all()
        return len(rows), rows
    return max(result.rowcount, 0), []

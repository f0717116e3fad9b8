"""Throughput of ``db.upsert`` and ``db.touch`` on 100k narrow rows (prints figures, asserts nothing).

Not collected by pytest. Run: ``python -m bench.upsert [--rows N] [--postgres URL]``; the
PostgreSQL figures use a throw-away database created on that server (default: the local one).
"""

from __future__ import annotations

import argparse
import secrets
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from sqlalchemy import Column, Integer, MetaData, String, Table, UniqueConstraint, select
from sqlalchemy.engine import make_url
from sqlalchemy.pool import NullPool

from nautilus_core.db import make_engine, touch, upsert
from nautilus_core.db.types import Id, UTCDateTime, utcnow

bench_metadata = MetaData()
narrow = Table(
    "bench_narrow",
    bench_metadata,
    Column("id", Id(), primary_key=True),
    Column("key", String, nullable=False),
    Column("value", String),
    Column("size", Integer),
    Column("last_seen_at", UTCDateTime(), nullable=False),
    Column("data_hash", String, nullable=False),
    UniqueConstraint("key", name="uq_bench_narrow_key"),
)


def _rows(n: int, *, changed_every: int = 0) -> list[dict[str, object]]:
    now = utcnow()
    rows = []
    for i in range(n):
        value = f"value-{i}" + ("-changed" if changed_every and i % changed_every == 0 else "")
        rows.append(
            {"key": f"key-{i:07}", "value": value, "size": i, "last_seen_at": now, "data_hash": value}
        )
    return rows


def _timed(label: str, n: int, action: Callable[[], object]) -> None:
    start = time.perf_counter()
    result = action()
    elapsed = time.perf_counter() - start
    detail = getattr(result, "affected", result)
    print(f"  {label:<34} {n / elapsed:>10,.0f} rows/s  ({elapsed:.2f} s, affected {detail})")


def run(url: str, n: int) -> None:
    engine = make_engine(url)
    print(f"{engine.dialect.name}: {n:,} rows")
    try:
        bench_metadata.drop_all(engine)
        bench_metadata.create_all(engine)
        fresh, changed = _rows(n), _rows(n, changed_every=10)
        for label, rows in (
            ("insert", fresh),
            ("re-upsert unchanged", fresh),
            ("re-upsert, 10% changed", changed),
        ):
            with engine.begin() as conn:
                _timed(f"upsert: {label}", n, lambda c=conn, r=rows: upsert(c, narrow, r, key=("key",)))
        with engine.begin() as conn:
            ids = list(conn.execute(select(narrow.c.id)).scalars())
            _timed("touch last_seen_at", n, lambda c=conn: touch(c, narrow, ids))
        bench_metadata.drop_all(engine)
    finally:
        engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=100_000, help="rows per measurement")
    parser.add_argument(
        "--postgres", default="postgresql+psycopg://postgres@127.0.0.1:5432/postgres", help="admin URL"
    )
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        run(f"sqlite:///{Path(tmp) / 'bench.db'}", args.rows)

    name = f"nautilus_bench_{secrets.token_hex(4)}"
    admin = make_engine(args.postgres, poolclass=NullPool, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
        try:
            run(make_url(args.postgres).set(database=name).render_as_string(hide_password=False), args.rows)
        finally:
            with admin.connect() as conn:
                conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        admin.dispose()


if __name__ == "__main__":
    main()

"""Migrations: an empty database upgrades to the models' schema, upgrades are idempotent and safe
to run concurrently, and ``check_schema`` notices drift."""

from __future__ import annotations

import subprocess
import sys

from sqlalchemy import Engine, inspect, select, text

from nautilus_core.db import (
    AuditLog,
    check_schema,
    current_revision,
    downgrade,
    head_revision,
    make_engine,
    metadata,
    session_scope,
    upgrade,
)


def _tables(engine: Engine) -> set[str]:
    return set(inspect(engine).get_table_names())


def test_migrated_schema_equals_models(engine: Engine) -> None:
    assert current_revision(engine) == head_revision()
    assert check_schema(engine) == []
    assert set(metadata.tables) <= _tables(engine)


def test_upgrade_creates_every_table_on_an_empty_database(empty_db_url: str) -> None:
    engine = make_engine(empty_db_url)
    try:
        assert current_revision(engine) is None
        assert _tables(engine) == set()

        assert upgrade(empty_db_url) == head_revision()  # by URL: opens and disposes its own engine

        assert current_revision(engine) == head_revision()
        assert _tables(engine) == set(metadata.tables) | {"alembic_version"}
        assert check_schema(engine) == []
    finally:
        engine.dispose()


def test_upgrade_twice_changes_nothing_and_keeps_data(empty_db_url: str) -> None:
    engine = make_engine(empty_db_url)
    try:
        first = upgrade(engine)
        with session_scope(engine) as session:
            session.add(AuditLog(actor="test", action="kept"))

        second = upgrade(engine)

        assert first == second == head_revision()
        assert check_schema(engine) == []
        with engine.connect() as conn:
            assert conn.execute(select(AuditLog.action)).scalars().all() == ["kept"]
    finally:
        engine.dispose()


def test_check_schema_reports_a_missing_index(empty_db_url: str) -> None:
    engine = make_engine(empty_db_url)
    try:
        upgrade(engine)
        with engine.begin() as conn:
            conn.execute(text("DROP INDEX ix_pod_attention"))

        diffs = check_schema(engine)

        assert [(d[0], d[1].name) for d in diffs] == [("add_index", "ix_pod_attention")]
    finally:
        engine.dispose()


def test_downgrade_to_base_drops_the_tables_and_upgrade_restores_them(empty_db_url: str) -> None:
    engine = make_engine(empty_db_url)
    try:
        upgrade(engine)

        assert downgrade(engine, "base") is None
        assert _tables(engine) - {"alembic_version"} == set()

        assert upgrade(engine) == head_revision()
        assert check_schema(engine) == []
    finally:
        engine.dispose()


def test_concurrent_upgrades_from_two_processes_both_succeed(empty_db_url: str) -> None:
    # Several replicas may run ``nautilus db upgrade`` at start-up; the migration lock serializes them.
    script = "import sys; from nautilus_core.db import upgrade; print(upgrade(sys.argv[1]))"
    command = [sys.executable, "-c", script, empty_db_url]
    pipe = subprocess.PIPE
    procs = [subprocess.Popen(command, stdout=pipe, stderr=pipe, text=True) for _ in range(3)]
    outcomes = [(p.returncode, out, err) for p in procs for out, err in [p.communicate(timeout=120)]]

    assert [(code, out.strip()) for code, out, _err in outcomes] == [(0, head_revision())] * 3, outcomes
    engine = make_engine(empty_db_url)
    try:
        assert check_schema(engine) == []
        with engine.connect() as conn:
            assert conn.execute(text("SELECT count(*) FROM alembic_version")).scalar() == 1
    finally:
        engine.dispose()

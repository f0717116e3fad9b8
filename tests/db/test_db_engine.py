"""Engines and sessions: SQLite set-up, transactions, constraints, and failures that hide passwords."""

from __future__ import annotations

from pathlib import Path

import pytest
import sqlmodel
from sqlalchemy import Engine, func, select, text
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session

from nautilus_core.config import load_settings
from nautilus_core.db import (
    AuditLog,
    Cluster,
    ManagedResource,
    Node,
    engine_from_settings,
    make_engine,
    redacted,
    session_scope,
    utcnow,
)
from nautilus_core.errors import ConfigError, TransientError

# --------------------------------------------------------------------------- SQLite specifics


def test_sqlite_file_engine_creates_its_directory_and_enables_wal_and_foreign_keys(tmp_path: Path) -> None:
    path = tmp_path / "deep" / "er" / "nautilus.db"
    engine = make_engine(f"sqlite:///{path}")
    try:
        with engine.connect() as conn:
            assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
            assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
            assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() > 0
        assert path.exists()
    finally:
        engine.dispose()


def test_sqlite_memory_engine_shares_one_database_between_sessions() -> None:
    engine = make_engine("sqlite:///:memory:")
    try:
        with engine.begin() as conn:
            conn.exec_driver_sql("CREATE TABLE t (x INTEGER)")
            conn.exec_driver_sql("INSERT INTO t VALUES (42)")
        with engine.connect() as other:
            assert other.exec_driver_sql("SELECT x FROM t").scalar() == 42
    finally:
        engine.dispose()


def test_sqlite_rollback_undoes_ddl(tmp_path: Path) -> None:
    # SQLAlchemy emits BEGIN itself, so DDL is transactional like on PostgreSQL.
    engine = make_engine(f"sqlite:///{tmp_path / 'n.db'}")
    try:
        with engine.connect() as conn:
            conn.exec_driver_sql("CREATE TABLE t (x INTEGER)")
            conn.rollback()
            assert conn.exec_driver_sql("SELECT count(*) FROM sqlite_master WHERE name = 't'").scalar() == 0
    finally:
        engine.dispose()


# --------------------------------------------------------------------------- URLs and failures


def test_unreachable_postgres_is_transient_and_hides_the_password() -> None:
    engine = make_engine("postgresql://nautilus:s3cr3t-pw@127.0.0.1:1/nautilus")
    try:
        with pytest.raises(TransientError) as info, engine.connect():
            pass
    finally:
        engine.dispose()
    message = str(info.value)
    assert "s3cr3t-pw" not in message
    assert "postgresql+psycopg://nautilus:***@127.0.0.1:1/nautilus" in message


@pytest.mark.parametrize(
    "url",
    [
        "postgresql://nautilus:s3cr3t-pw@db:notaport/nautilus",
        "no-scheme-at-all",
        "nosuchdb://u:s3cr3t-pw@h/x",
    ],
    ids=["bad-port", "no-scheme", "unknown-dialect"],
)
def test_malformed_or_unsupported_url_is_a_config_error_without_the_password(url: str) -> None:
    with pytest.raises(ConfigError) as info:
        make_engine(url)
    assert "s3cr3t-pw" not in str(info.value)


def test_engine_from_settings_uses_database_url(tmp_path: Path) -> None:
    settings = load_settings(database_url=f"sqlite:///{tmp_path / 'from-settings.db'}")
    engine = engine_from_settings(settings)
    try:
        with engine.connect() as conn:
            conn.exec_driver_sql("SELECT 1")
    finally:
        engine.dispose()
    assert (tmp_path / "from-settings.db").exists()


def test_postgres_scheme_is_driven_through_psycopg() -> None:
    engine = make_engine("postgres://u@127.0.0.1:1/x")
    try:
        assert engine.url.drivername == "postgresql+psycopg"
        assert engine.dialect.driver == "psycopg"
    finally:
        engine.dispose()


# --------------------------------------------------------------------------- transactions (both DBs)


def _count(engine: Engine, table: type) -> int:
    with engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(table)).scalar_one()


def test_session_scope_commits_on_success(engine: Engine) -> None:
    with session_scope(engine) as session:
        session.add(AuditLog(actor="test", action="create"))
    assert _count(engine, AuditLog) == 1


def test_session_scope_rolls_back_on_error(engine: Engine) -> None:
    with pytest.raises(RuntimeError), session_scope(engine) as session:
        session.add(AuditLog(actor="test", action="create"))
        session.flush()
        raise RuntimeError("boom")
    assert _count(engine, AuditLog) == 0


def _kill_connection(session: Session, engine: Engine) -> None:
    """Drop the session's connection from outside, as a server restart or network cut would."""
    conn = session.connection()
    if engine.dialect.name == "postgresql":
        pid = conn.exec_driver_sql("SELECT pg_backend_pid()").scalar()
        with engine.connect() as other:
            assert other.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid}).scalar() is True
    else:
        conn.connection.dbapi_connection.close()  # type: ignore[union-attr]


def test_dropped_connection_mid_transaction_rolls_back_everything(engine: Engine) -> None:
    with pytest.raises(TransientError) as info, session_scope(engine) as session:
        session.add(AuditLog(actor="test", action="first half"))
        session.flush()
        _kill_connection(session, engine)
        session.add(AuditLog(actor="test", action="second half"))
        session.flush()

    assert "connection lost" in str(info.value)
    assert _count(engine, AuditLog) == 0
    # the pool replaced the dead connection: the engine keeps working
    with session_scope(engine) as session:
        session.add(AuditLog(actor="test", action="after"))
    assert _count(engine, AuditLog) == 1


def test_foreign_keys_are_enforced_and_cascade(engine: Engine) -> None:
    now = utcnow()
    with session_scope(engine) as session:
        cluster = Cluster(key="kubeconfig///dev", provider="kubeconfig", name="dev", data_hash="x")
        session.add(cluster)
        session.flush()
        session.add(Node(cluster_id=cluster.id, name="n1", last_seen_at=now, data_hash="h"))
    with pytest.raises(IntegrityError), session_scope(engine) as session:
        session.add(Node(cluster_id=999_999, name="orphan", data_hash="h"))

    with engine.begin() as conn:
        conn.execute(Cluster.__table__.delete())  # type: ignore[attr-defined]
    assert _count(engine, Node) == 0


def test_rows_written_in_plain_sql_get_the_documented_defaults(engine: Engine) -> None:
    with engine.begin() as conn:
        conn.execute(text("INSERT INTO managed_resource (team, name, engine) VALUES ('pay', 'ledger', 'pg')"))
    with Session(engine) as session:
        row = session.exec(sqlmodel.select(ManagedResource)).one()
    assert (row.lifecycle_mode, row.desired_state, row.status) == ("full", "present", "pending")
    assert (row.replicas, row.generation, row.failure_count, row.parked) == (1, 1, 0, False)
    assert row.created_at.tzinfo is not None
    assert abs((utcnow() - row.created_at).total_seconds()) < 300


@pytest.mark.parametrize(("column", "value"), [("lifecycle_mode", "ful"), ("desired_state", "gone")])
def test_invalid_managed_resource_enumerations_are_rejected(engine: Engine, column: str, value: str) -> None:
    with pytest.raises(IntegrityError), engine.begin() as conn:
        conn.execute(
            text(f"INSERT INTO managed_resource (team, name, engine, {column}) VALUES ('t', 'n', 'kv', :v)"),
            {"v": value},
        )


def test_updating_a_managed_resource_bumps_updated_at(engine: Engine) -> None:
    # the controller polls managed_resource by updated_at
    with session_scope(engine) as session:
        resource = ManagedResource(team="pay", name="cache", engine="redis")
        session.add(resource)
    created = resource.updated_at

    with session_scope(engine) as session:
        row = session.get(ManagedResource, resource.id)
        assert row is not None
        row.replicas = 3

    with engine.connect() as conn:
        replicas, updated_at = conn.execute(select(ManagedResource.replicas, ManagedResource.updated_at)).one()
    assert replicas == 3
    assert updated_at > created


@pytest.mark.parametrize("url", [
    "postgresql://u@127.0.0.1:1/db?password=s3cretPW",
    "postgresql://u@127.0.0.1:1/db?sslpassword=s3cretPW&sslmode=disable",
    "postgresql://u@127.0.0.1:1/db?application_name=x&password=s3cretPW",
], ids=["password", "sslpassword", "second-param"])
def test_transient_error_hides_passwords_given_in_the_query_string(url: str) -> None:
    import traceback

    engine = make_engine(url)
    try:
        with pytest.raises(TransientError) as info, engine.connect():
            pass
    finally:
        engine.dispose()
    assert "127.0.0.1:1/db" in str(info.value)
    assert "s3cretPW" not in str(info.value) and "s3cretPW" not in repr(info.value)
    assert "s3cretPW" not in "".join(traceback.format_exception(info.value))
    assert "s3cretPW" not in redacted(url)

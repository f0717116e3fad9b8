"""Shared fixtures: every database test runs on SQLite and on PostgreSQL.

``db_url`` is parametrized ``sqlite`` / ``postgresql``. The PostgreSQL side creates a fresh database
(``nautilus_test_<hex>``) on the server named by ``NAUTILUS_TEST_POSTGRES_URL`` (default: the local
trust-auth server) once per test session and drops it at the end. If that server cannot be reached,
the PostgreSQL tests are skipped when the variable is unset and fail when it is set (CI sets it).

Fixtures: ``postgres_admin_url``, ``db_url``, ``empty_db_url``, ``engine``, ``session``, and
``hook_calls``: which hook implementations of non-built-in plugins this session's tests called (every
test is observed through ``plugins.HOOK_CALL_OBSERVERS``); the meta-test that reads it runs last.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.pool import NullPool
from sqlmodel import Session

from nautilus_core import plugins
from nautilus_core.db import make_engine, metadata, upgrade
from nautilus_core.errors import TransientError

#: The meta-test that checks every hookspec was called by some test: it runs after all the others.
HOOK_META_TEST = "test_hookspecs.py::test_every_hook_is_called_by_a_test_with_a_plugin_of_its_own"
_HOOK_CALLS: dict[str, set[tuple[str, str]]] = {}

POSTGRES_ENV = "NAUTILUS_TEST_POSTGRES_URL"
DEFAULT_POSTGRES_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    last = [item for item in items if HOOK_META_TEST in item.nodeid]
    items[:] = [item for item in items if item not in last] + last


@pytest.fixture(autouse=True)
def _record_hook_calls(request: pytest.FixtureRequest) -> Iterator[None]:
    """Record each call of a non-built-in plugin's hook implementation, with the test that made it."""
    def observe(hook: str, plugin: str, builtin: bool) -> None:
        if not builtin:
            _HOOK_CALLS.setdefault(hook, set()).add((plugin, request.node.nodeid))

    plugins.HOOK_CALL_OBSERVERS.append(observe)
    try:
        yield
    finally:
        plugins.HOOK_CALL_OBSERVERS.remove(observe)


@pytest.fixture(scope="session")
def hook_calls() -> dict[str, set[tuple[str, str]]]:
    """``{hook: {(plugin, test node id)}}`` for the tests run so far in this session."""
    return _HOOK_CALLS


@pytest.fixture(scope="session")
def postgres_admin_url() -> str:
    """URL of a database on the test server from which test databases are created and dropped."""
    configured = os.environ.get(POSTGRES_ENV)
    url = configured or DEFAULT_POSTGRES_URL
    engine = make_engine(url, poolclass=NullPool)
    try:
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
    except TransientError as exc:
        if configured:
            pytest.fail(f"{POSTGRES_ENV} is set but its server is unreachable: {exc}")
        pytest.skip(f"no PostgreSQL server at {DEFAULT_POSTGRES_URL} ({exc}); set {POSTGRES_ENV} to test it")
    finally:
        engine.dispose()
    return url


def _create_database(admin_url: str) -> str:
    name = f"nautilus_test_{secrets.token_hex(6)}"
    engine = make_engine(admin_url, poolclass=NullPool, isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as conn:
            conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
    finally:
        engine.dispose()
    return make_url(admin_url).set(database=name).render_as_string(hide_password=False)


def _drop_database(admin_url: str, url: str) -> None:
    name = make_url(url).database
    engine = make_engine(admin_url, poolclass=NullPool, isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as conn:
            conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        engine.dispose()


def _fresh_url(backend: str, request: pytest.FixtureRequest, directory: Path) -> Iterator[str]:
    if backend == "sqlite":
        yield f"sqlite:///{directory / 'nautilus.db'}"
        return
    admin_url = request.getfixturevalue("postgres_admin_url")
    url = _create_database(admin_url)
    try:
        yield url
    finally:
        _drop_database(admin_url, url)


@pytest.fixture(scope="session", params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """URL of this session's test database (empty until ``engine`` migrates it), per backend."""
    yield from _fresh_url(request.param, request, tmp_path_factory.mktemp(f"db-{request.param}"))


@pytest.fixture
def empty_db_url(db_url: str, request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A brand-new, never migrated database on the same backend as ``db_url``, dropped after the test."""
    yield from _fresh_url(make_url(db_url).get_backend_name(), request, tmp_path)


@pytest.fixture(scope="session")
def _migrated_db_url(db_url: str) -> str:
    upgrade(db_url)
    return db_url


@pytest.fixture
def engine(_migrated_db_url: str) -> Iterator[Engine]:
    """An engine on the migrated test database; every table is emptied after the test."""
    eng = make_engine(_migrated_db_url)
    try:
        yield eng
    finally:
        eng.dispose()
        _empty_tables(_migrated_db_url)


@pytest.fixture
def session(engine: Engine) -> Iterator[Session]:
    """A session on ``engine`` (nothing is committed unless the test commits)."""
    with Session(engine) as s:
        yield s


def _empty_tables(url: str) -> None:
    cleaner = make_engine(url, poolclass=NullPool)
    try:
        with cleaner.begin() as conn:
            if conn.dialect.name == "postgresql":
                names = ", ".join(f'"{t.name}"' for t in metadata.sorted_tables)
                conn.exec_driver_sql(f"TRUNCATE TABLE {names} RESTART IDENTITY CASCADE")
            else:
                for table in reversed(metadata.sorted_tables):
                    conn.execute(table.delete())
    finally:
        cleaner.dispose()

"""Alembic environment of the Nautilus schema (run by Alembic, never imported directly).

``nautilus_core.db.migrate`` builds the Alembic config in code and hands over an open connection in
``config.attributes["connection"]`` (already inside the transaction that holds the migration lock).
Without one (the ``alembic`` command line with ``-x url=...`` or ``sqlalchemy.url``), a connection
is opened from the URL. The comparison options shared with ``check_schema`` live in
``migrate.migration_options``.
"""

from __future__ import annotations

from alembic import context

from nautilus_core.db.engine import make_engine
from nautilus_core.db.migrate import migration_options

config = context.config


def _url() -> str:
    url = context.get_x_argument(as_dictionary=True).get("url") or config.get_main_option("sqlalchemy.url")
    if not url:
        raise RuntimeError("no database: pass -x url=... or set sqlalchemy.url")
    return url


def run_offline() -> None:
    url = _url()
    dialect = url.split(":", 1)[0].split("+", 1)[0]
    context.configure(url=url, literal_binds=True, **migration_options(dialect))
    with context.begin_transaction():
        context.run_migrations()


def run_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        context.configure(connection=connection, **migration_options(connection.dialect.name))
        with context.begin_transaction():
            context.run_migrations()
        return
    engine = make_engine(_url())
    try:
        with engine.connect() as connection:
            context.configure(connection=connection, **migration_options(connection.dialect.name))
            with context.begin_transaction():
                context.run_migrations()
    finally:
        engine.dispose()


if context.is_offline_mode():
    run_offline()
else:
    run_online()

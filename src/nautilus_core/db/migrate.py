"""Schema migrations: apply them (``upgrade``), say where a database stands, and diff it with the models.

Owns the Alembic configuration, built in code (no ``alembic.ini`` needed at run time; the scripts
live next to this module in ``migrations/``). Called by ``nautilus db upgrade`` in the CLI, by
deployments before the controller starts, and by the tests.

Read paths never migrate: :func:`require_current` raises :class:`~nautilus_core.errors.SchemaError`
(missing, outdated or unknown schema, with what to run). ``upgrade`` refuses an unknown target
revision (``ConfigError``) and a database at a revision it does not know (``SchemaError``) before
touching anything.

``upgrade`` runs in one transaction and serializes concurrent upgraders (a PostgreSQL advisory lock;
``BEGIN IMMEDIATE`` on SQLite), so several replicas may call it at start-up. On SQLite, foreign keys
are switched off while migrating (table rebuilds of batch mode would otherwise cascade deletes) and
checked with ``PRAGMA foreign_key_check`` before commit.
"""

from __future__ import annotations

import os
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.autogenerate.api import AutogenContext
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from alembic.util.exc import CommandError
from sqlalchemy import Connection, Engine, text
from sqlalchemy.engine import URL
from sqlmodel.sql.sqltypes import AutoString

from nautilus_core.db.engine import make_engine, redacted
from nautilus_core.db.models import metadata
from nautilus_core.db.types import UTCDateTime
from nautilus_core.errors import ConfigError, NautilusError, SchemaError

__all__ = [
    "MIGRATIONS_DIR",
    "alembic_config",
    "check_schema",
    "current_revision",
    "downgrade",
    "head_revision",
    "known_revisions",
    "migration_options",
    "require_current",
    "upgrade",
]

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"
VERSION_TABLE = "alembic_version"
#: Key of the PostgreSQL advisory lock held while migrating (any constant; "nautilus" in hex-ish).
_PG_LOCK_KEY = 0x6E617574696C7573


def alembic_config(connection: Connection | None = None, locations: Sequence[str | Path] = ()) -> Config:
    """An Alembic :class:`~alembic.config.Config` for the Nautilus scripts, optionally bound to
    ``connection`` (what ``env.py`` then migrates).

    :param locations: more directories of revision scripts (plugins' inventory kinds), each on a
        branch of its own; they are searched with the core's ``versions/``.
    """
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR).replace("%", "%%"))
    cfg.set_main_option("path_separator", "os")
    if locations:
        dirs = [MIGRATIONS_DIR / "versions", *(Path(p) for p in locations)]
        missing = [str(d) for d in dirs if not d.is_dir()]
        if missing:
            raise NautilusError(f"migration directory {', '.join(missing)} does not exist")
        joined = os.pathsep.join(dict.fromkeys(str(d.resolve()) for d in dirs))
        cfg.set_main_option("version_locations", joined.replace("%", "%%"))
    if connection is not None:
        cfg.attributes["connection"] = connection
    return cfg


def migration_options(dialect_name: str) -> dict[str, Any]:
    """``context.configure`` keyword arguments shared by ``env.py`` and :func:`check_schema`."""
    return {
        "target_metadata": metadata,
        "version_table": VERSION_TABLE,
        "render_as_batch": dialect_name == "sqlite",
        "compare_type": True,
        "compare_server_default": True,
        "include_name": _include_name,
        "render_item": _render_item,
        "transaction_per_migration": False,
    }


def upgrade(engine_or_url: Engine | str | URL, revision: str = "head",
            locations: Sequence[str | Path] = ()) -> str | None:
    """Bring the database to ``revision`` (idempotent); returns the revision it is at afterwards.

    Works on an empty database (creates every table) and on an up-to-date one (does nothing).
    ``locations`` adds plugins' migration directories (see :func:`alembic_config`); with them,
    ``"head"`` means the head of every branch, and the result lists the heads, comma-separated.

    >>> upgrade("sqlite://") == head_revision()
    True
    """
    _check_target(revision)
    if locations and revision == "head":
        revision = "heads"
    return _run(engine_or_url, lambda cfg: command.upgrade(cfg, revision), locations)


def downgrade(engine_or_url: Engine | str | URL, revision: str) -> str | None:
    """Take the schema back to ``revision`` (``"base"`` drops every Nautilus table: data is lost)."""
    _check_target(revision)
    return _run(engine_or_url, lambda cfg: command.downgrade(cfg, revision))


def current_revision(engine: Engine) -> str | None:
    """The revision the database is at (``None`` for an empty, never migrated database); with
    plugins' branches applied, every head, sorted and comma-separated."""
    with engine.connect() as conn:
        heads = MigrationContext.configure(conn, opts={"version_table": VERSION_TABLE}).get_current_heads()
    return ",".join(sorted(heads)) or None


def head_revision() -> str | None:
    """The newest revision shipped with this version of Nautilus."""
    return ScriptDirectory.from_config(alembic_config()).get_current_head()


def known_revisions(locations: Sequence[str | Path] = ()) -> list[str]:
    """Every revision shipped with this version of Nautilus (and in ``locations``, plugins'
    branches), oldest first."""
    scripts = ScriptDirectory.from_config(alembic_config(None, locations)).walk_revisions()
    return [script.revision for script in reversed(list(scripts))]


def require_current(engine: Engine, locations: Sequence[str | Path] = ()) -> str:
    """The database's revision, when it is this version's head; read commands call this, never ``upgrade``.

    :raises SchemaError: no schema yet, an older one, or a revision this version does not know; the
        message names the database and says to run ``nautilus db upgrade``.
    """
    current = current_revision(engine)
    head = head_revision()
    where = redacted(engine.url)
    if current is None:
        raise SchemaError(f"database {where} has no Nautilus schema yet: run `nautilus db upgrade`")
    heads = current.split(",")
    unknown = [h for h in heads if h not in known_revisions(locations)]
    if unknown:
        raise SchemaError(_unknown(where, ",".join(unknown)))
    if head not in heads:
        raise SchemaError(f"database {where} is at schema revision {current}, this version of Nautilus "
                          f"needs {head}: run `nautilus db upgrade`")
    return current


def _unknown(where: str, current: str) -> str:
    return (f"database {where} is at schema revision {current!r}, which this version of Nautilus does not know "
            f"(known: {', '.join(known_revisions())}); was it migrated by a newer Nautilus?")


def _check_target(revision: str) -> None:
    if revision in ("head", "heads", "base") or re.fullmatch(r"[+-]\d+", revision):
        return  # relative steps are checked by Alembic against the database
    script = ScriptDirectory.from_config(alembic_config())
    try:
        found = script.get_revision(revision)
    except CommandError:
        found = None
    if found is None:
        raise ConfigError(f"unknown revision {revision!r}: expected head or one of "
                          f"{', '.join(known_revisions())}")


def check_schema(engine: Engine) -> list[Any]:
    """Differences between the database and the models (``[]`` when they match).

    Each item is an Alembic diff tuple such as ``("add_column", None, "cluster", Column(...))``.
    Tables that are not Nautilus tables are ignored.
    """
    with engine.connect() as conn:
        context = MigrationContext.configure(conn, opts=migration_options(conn.dialect.name))
        return list(compare_metadata(context, metadata))


# --------------------------------------------------------------------------- internals


def _run(engine_or_url: Engine | str | URL, action: Any, locations: Sequence[str | Path] = ()) -> str | None:
    owned = not isinstance(engine_or_url, Engine)
    engine = engine_or_url if isinstance(engine_or_url, Engine) else make_engine(engine_or_url)
    try:
        with engine.connect() as conn:
            sqlite = conn.dialect.name == "sqlite"
            if sqlite:
                conn = conn.execution_options(nautilus_sqlite_begin="IMMEDIATE")
                _sqlite_foreign_keys(conn, on=False)
            try:
                with conn.begin():
                    if conn.dialect.name == "postgresql":
                        conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _PG_LOCK_KEY})
                    heads = MigrationContext.configure(
                        conn, opts={"version_table": VERSION_TABLE}).get_current_heads()
                    unknown = [h for h in heads if h not in known_revisions(locations)]
                    if unknown:
                        raise SchemaError(_unknown(redacted(engine.url), ",".join(unknown)))
                    try:
                        action(alembic_config(conn, locations))
                    except CommandError as exc:
                        raise SchemaError(f"migrating {redacted(engine.url)}: {exc}") from exc
                    if sqlite:
                        _sqlite_check_foreign_keys(conn, engine)
            finally:
                if sqlite and not conn.invalidated:
                    _sqlite_foreign_keys(conn, on=True)
        return current_revision(engine)
    finally:
        if owned:
            engine.dispose()


def _sqlite_foreign_keys(conn: Connection, *, on: bool) -> None:
    # PRAGMA foreign_keys is a no-op inside a transaction: go around SQLAlchemy's autobegin.
    conn.connection.dbapi_connection.execute(f"PRAGMA foreign_keys={'ON' if on else 'OFF'}")  # type: ignore[union-attr]


def _sqlite_check_foreign_keys(conn: Connection, engine: Engine) -> None:
    broken = conn.exec_driver_sql("PRAGMA foreign_key_check").all()
    if broken:
        sample = ", ".join(f"{row[0]} rowid {row[1]} -> {row[2]}" for row in broken[:5])
        raise NautilusError(
            f"migration of {redacted(engine.url)} would leave {len(broken)} broken foreign key(s): {sample}"
        )


def _include_name(name: str | None, type_: str, parent_names: Any) -> bool:
    if type_ == "table":
        return name in metadata.tables
    return True


def _render_item(type_: str, obj: Any, autogen_context: AutogenContext) -> str | bool:
    """Render application types as the plain SQLAlchemy types they store (migrations stay
    independent of application code)."""
    if type_ != "type":
        return False
    if isinstance(obj, UTCDateTime):
        return "sa.DateTime(timezone=True)"
    if isinstance(obj, AutoString):
        return "sa.String()"
    return False

"""The declarative base of every Nautilus table, its ``MetaData``, and column helpers.

Owns the naming convention (so every index, unique/foreign-key/check constraint has a deterministic
name that migrations can refer to) and the small ``Field`` factories the table modules use. Imported
by ``db.models.inventory``, ``db.models.controller``, ``db.models.podwatch`` and the migration env.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import MetaData, text
from sqlalchemy.orm import registry
from sqlmodel import Field, SQLModel

from nautilus_core.db.types import Id, JSONDocument, UTCDateTime, utcnow

__all__ = ["NautilusTable", "fk_id", "id_field", "json_field", "metadata", "ts_field"]

NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

#: The one ``MetaData`` holding every Nautilus table (migrations compare against it).
metadata = MetaData(naming_convention=NAMING_CONVENTION)


class NautilusTable(SQLModel, registry=registry(metadata=metadata)):
    """Base class of the Nautilus tables (subclass with ``table=True``); keeps them out of
    ``SQLModel.metadata`` so applications embedding Nautilus can have their own tables."""


def id_field() -> Any:
    """Auto-incrementing primary key (``None`` until inserted)."""
    return Field(default=None, primary_key=True, sa_type=Id())


def fk_id(target: str, *, nullable: bool = False) -> Any:
    """A foreign key to ``target`` (``"table.id"``); the row is deleted with its parent."""
    return Field(default=None, foreign_key=target, ondelete="CASCADE", nullable=nullable, sa_type=Id())


def ts_field(
    *, nullable: bool = True, default_now: bool = False, server_now: bool = False, onupdate: bool = False
) -> Any:
    """A ``UTCDateTime`` column. ``default_now``: Python default of the current time (ORM and Core
    inserts); ``server_now``: SQL default ``CURRENT_TIMESTAMP`` too (for rows users insert in SQL);
    ``onupdate``: set to the current time by every SQLAlchemy UPDATE that does not set it."""
    kwargs: dict[str, Any] = {}
    if server_now:
        kwargs["server_default"] = text("CURRENT_TIMESTAMP")
    if onupdate:
        kwargs["onupdate"] = utcnow
    common: dict[str, Any] = {"nullable": nullable, "sa_type": UTCDateTime(), "sa_column_kwargs": kwargs}
    if default_now:
        return Field(default_factory=utcnow, **common)
    return Field(default=None, **common)


def json_field(*, nullable: bool = True) -> Any:
    """A JSON document column (``JSONB`` on PostgreSQL); SQL ``NULL`` when ``None``."""
    return Field(default=None, nullable=nullable, sa_type=JSONDocument())

"""The ``cluster`` row every job shares: find it by key, or create it, inside the caller's transaction.

One cluster has one identity across jobs: the inventory synchronizer (``inventory.synchronizer``)
and the podwatch collector (``podwatch.collect``) both key it by ``ClusterRef.key``
(provider/account/location/name) and reach it through :func:`lock_or_create_cluster`, so whichever
job sees a cluster first creates the row and the other finds it. Concurrent writers of one cluster
take turns on the row lock (``SELECT .. FOR UPDATE`` on PostgreSQL) instead of failing on the unique
key. Moved here from the inventory so podwatch (a sibling layer) can use it.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection

from nautilus_core.db.models import metadata
from nautilus_core.db.upsert import row_hash

__all__ = ["CLUSTER", "cluster_identity", "lock_or_create_cluster"]

CLUSTER = metadata.tables["cluster"]


def cluster_identity(provider: str, name: str, account: str = "", location: str = "") -> dict[str, Any]:
    """The key columns of a cluster row (what a job that knows nothing else about it can vouch for)."""
    return {"key": "/".join((provider, account, location, name)), "provider": provider,
            "account": account, "location": location, "name": name}


def lock_or_create_cluster(conn: Connection, values: Mapping[str, Any], now: datetime, *,
                           lock: bool = True) -> tuple[int, Mapping[str, Any] | None]:
    """The id of the cluster row keyed ``values["key"]`` and the row as it was (``None``: created now).

    A missing row is inserted from ``values`` with ``INSERT .. ON CONFLICT DO NOTHING``; when a
    concurrent transaction inserted it meanwhile, its row is read instead. ``lock``: hold the row
    (``FOR UPDATE``) until the caller's transaction ends.
    """
    query = select(CLUSTER).where(CLUSTER.c.key == values["key"])
    if lock:
        query = query.with_for_update()
    existing = conn.execute(query).mappings().first()
    if existing is not None:
        return int(existing["id"]), dict(existing)
    row = dict(values) | {"first_seen_at": now, "last_seen_at": now, "deleted_at": None,
                          "data_hash": row_hash(values)}
    insert = (postgresql.insert if conn.dialect.name == "postgresql" else sqlite.insert)(CLUSTER)
    cluster_id = conn.execute(insert.values(**row).on_conflict_do_nothing(index_elements=["key"])
                              .returning(CLUSTER.c.id)).scalar()
    if cluster_id is not None:
        return int(cluster_id), None
    existing = conn.execute(query).mappings().one()  # a concurrent run inserted it: its commit is visible now
    return int(existing["id"]), dict(existing)

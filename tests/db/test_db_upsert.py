"""Bulk writes: upsert inserts new rows, updates only changed ones, never writes columns outside
``update``, keeps ``None``; touch, tombstone and purge change exactly the rows they are asked to."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any

import pytest
from sqlalchemy import Engine, select
from sqlalchemy.exc import StatementError
from sqlmodel import Session

from nautilus_core.db import (
    Cluster,
    Node,
    Pod,
    purge,
    row_hash,
    session_scope,
    tombstone,
    touch,
    upsert,
    utcnow,
)
from nautilus_core.db.upsert import PG_COPY_MIN_ROWS

T0 = datetime.fromisoformat("2024-05-01T10:00:00+00:00")
T1 = T0 + timedelta(hours=1)
T2 = T0 + timedelta(hours=2)


def _cluster(engine: Engine, key: str = "eks/123/eu-west-1/prod") -> int:
    with session_scope(engine) as session:
        cluster = Cluster(key=key, provider="eks", name=key.rsplit("/", 1)[-1], data_hash="c")
        session.add(cluster)
        session.flush()
        assert cluster.id is not None
        return cluster.id


def _node(
    cluster_id: int, name: str, *, ready: bool | None = True, zone: str | None = "a", seen=T0
) -> dict[str, Any]:
    data = {"name": name, "ready": ready, "zone": zone, "labels": {"role": "worker"}}
    return {"cluster_id": cluster_id, **data, "last_seen_at": seen, "data_hash": row_hash(data)}


def _nodes(engine: Engine) -> dict[str, dict[str, Any]]:
    with engine.connect() as conn:
        return {row.name: dict(row._mapping) for row in conn.execute(select(Node.__table__))}  # type: ignore[attr-defined]


NODE_KEY = ("cluster_id", "name")


def test_upsert_inserts_new_rows_and_returns_them(engine: Engine) -> None:
    cid = _cluster(engine)
    with engine.begin() as conn:
        result = upsert(
            conn, Node, [_node(cid, f"n{i}") for i in range(3)], key=NODE_KEY, returning=("id", "name")
        )

    assert (result.submitted, result.affected, result.unchanged) == (3, 3, 0)
    assert sorted(r.name for r in result.rows) == ["n0", "n1", "n2"]
    nodes = _nodes(engine)
    assert {n: (r["id"], r["ready"], r["labels"]) for n, r in nodes.items()} == {
        r.name: (r.id, True, {"role": "worker"}) for r in result.rows
    }
    assert all(r["first_seen_at"] is not None and r["deleted_at"] is None for r in nodes.values())


def test_unchanged_rows_are_not_written_at_all(engine: Engine) -> None:
    cid = _cluster(engine)
    rows = [_node(cid, f"n{i}") for i in range(3)]
    with engine.begin() as conn:
        upsert(conn, Node, rows, key=NODE_KEY)
    before = _nodes(engine)

    # same data, later sighting: the hash is equal, so not even last_seen_at may move
    with engine.begin() as conn:
        result = upsert(
            conn, Node, [{**r, "last_seen_at": T2} for r in rows], key=NODE_KEY, returning=("id",)
        )

    assert (result.affected, result.unchanged, result.rows) == (0, 3, [])
    assert _nodes(engine) == before


def test_only_changed_rows_are_updated(engine: Engine) -> None:
    cid = _cluster(engine)
    with engine.begin() as conn:
        upsert(conn, Node, [_node(cid, f"n{i}") for i in range(3)], key=NODE_KEY)
    before = _nodes(engine)

    rows = [_node(cid, "n0", seen=T1), _node(cid, "n1", ready=False, seen=T1), _node(cid, "n2", seen=T1)]
    with engine.begin() as conn:
        result = upsert(conn, Node, rows, key=NODE_KEY)

    assert (result.affected, result.unchanged) == (1, 2)
    after = _nodes(engine)
    assert after["n0"] == before["n0"] and after["n2"] == before["n2"]
    assert (after["n1"]["ready"], after["n1"]["last_seen_at"]) == (False, T1)
    assert after["n1"]["id"] == before["n1"]["id"]
    assert after["n1"]["first_seen_at"] == before["n1"]["first_seen_at"]  # update=None leaves it alone


def test_columns_outside_update_are_never_written(engine: Engine) -> None:
    with session_scope(engine) as session:
        session.add(
            Cluster(
                key="gke/proj/europe-west1/prod",
                provider="gke",
                name="prod",
                data_hash="old",
                kubernetes_version="1.29",
                owner="alice",
                team="payments",
                notes="do not touch",
                tags=["pci"],
            )
        )
    synced = {
        "key": "gke/proj/europe-west1/prod",
        "provider": "gke",
        "name": "prod",
        "kubernetes_version": "1.30",
        "owner": None,
        "team": None,
        "notes": None,
        "tags": None,
        "data_hash": "new",
        "last_seen_at": T1,
    }
    update = ("kubernetes_version", "data_hash", "last_seen_at")

    with engine.begin() as conn:
        result = upsert(conn, Cluster, [synced], key=("key",), update=update)

    assert result.affected == 1
    with engine.connect() as conn:
        row = conn.execute(select(Cluster.__table__)).one()  # type: ignore[attr-defined]
    assert (row.kubernetes_version, row.data_hash, row.last_seen_at) == ("1.30", "new", T1)
    assert (row.owner, row.team, row.notes, row.tags) == ("alice", "payments", "do not touch", ["pci"])


def test_none_values_are_written_not_dropped(engine: Engine) -> None:
    cid = _cluster(engine)
    with engine.begin() as conn:
        upsert(conn, Node, [_node(cid, "n0", ready=True, zone="eu-west-1a")], key=NODE_KEY)
        # a mixture of None and values in one batch: every row keeps its own None
        rows = [_node(cid, "n0", ready=None, zone=None), _node(cid, "n1", ready=None, zone="b")]
        rows[1]["labels"] = None
        result = upsert(conn, Node, rows, key=NODE_KEY)

    assert result.affected == 2
    nodes = _nodes(engine)
    assert (nodes["n0"]["ready"], nodes["n0"]["zone"]) == (None, None)
    assert (nodes["n1"]["ready"], nodes["n1"]["zone"], nodes["n1"]["labels"]) == (None, "b", None)


def test_only_if_changed_none_always_updates(engine: Engine) -> None:
    cid = _cluster(engine)
    row = _node(cid, "n0")
    with engine.begin() as conn:
        upsert(conn, Node, [row], key=NODE_KEY)
        result = upsert(conn, Node, [{**row, "last_seen_at": T2}], key=NODE_KEY, only_if_changed=None)
    assert result.affected == 1
    assert _nodes(engine)["n0"]["last_seen_at"] == T2


def test_empty_update_inserts_missing_rows_only(engine: Engine) -> None:
    cid = _cluster(engine)
    with engine.begin() as conn:
        upsert(conn, Node, [_node(cid, "n0", zone="a")], key=NODE_KEY)
        result = upsert(
            conn, Node, [_node(cid, "n0", zone="z"), _node(cid, "n1", zone="z")], key=NODE_KEY, update=()
        )
    assert result.affected == 1
    assert {n: r["zone"] for n, r in _nodes(engine).items()} == {"n0": "a", "n1": "z"}


def test_tombstoned_rows_come_back_when_deleted_at_is_compared(engine: Engine) -> None:
    cid = _cluster(engine)
    row = {**_node(cid, "n0"), "deleted_at": None}
    with engine.begin() as conn:
        upsert(conn, Node, [row], key=NODE_KEY)
        assert tombstone(conn, Node, Node.cluster_id == cid, seen_before=T1, at=T1) == 1
        # same data hash: with the default comparison the tombstone would stay
        assert upsert(conn, Node, [{**row, "last_seen_at": T2}], key=NODE_KEY).affected == 0
        revived = upsert(
            conn,
            Node,
            [{**row, "last_seen_at": T2}],
            key=NODE_KEY,
            only_if_changed=("data_hash", "deleted_at"),
        )
    assert revived.affected == 1
    assert (_nodes(engine)["n0"]["deleted_at"], _nodes(engine)["n0"]["last_seen_at"]) == (None, T2)


def test_repeated_keys_in_one_call_keep_the_last_row(engine: Engine) -> None:
    cid = _cluster(engine)
    with engine.begin() as conn:
        result = upsert(
            conn, Node, [_node(cid, "n0", zone="first"), _node(cid, "n0", zone="last")], key=NODE_KEY
        )
    assert (result.submitted, result.affected) == (1, 1)
    assert _nodes(engine)["n0"]["zone"] == "last"


def test_many_batches_are_counted_and_written(engine: Engine) -> None:
    cid = _cluster(engine)
    rows = [_node(cid, f"n{i:03}") for i in range(50)]
    with engine.begin() as conn:
        first = upsert(conn, Node, rows, key=NODE_KEY, batch_rows=7, returning=("name",))
        changed = [_node(cid, r["name"], zone="moved") if i % 5 == 0 else r for i, r in enumerate(rows)]
        second = upsert(conn, Node, changed, key=NODE_KEY, batch_rows=7)
    assert (first.affected, len(first.rows)) == (50, 50)
    assert (second.affected, second.unchanged) == (10, 40)
    assert sum(1 for r in _nodes(engine).values() if r["zone"] == "moved") == 10


def _pod(i: int, cluster_id: int) -> dict[str, Any]:
    """A pod row using every kind of column: text, int, bool-free JSON, None and offset datetimes."""
    data = {
        "cluster_id": cluster_id,
        "namespace": f"ns-{i % 7}",
        "name": f"pod-{i:05}",
        "status": None if i % 3 == 0 else "Running",
        "restarts": i % 11,
        "created_at": datetime(2024, 1, 1, 12, tzinfo=timezone(timedelta(hours=i % 5)))
        + timedelta(seconds=i),
        "labels": None if i % 4 == 0 else {"app": f"a{i % 13}", "tier": "web"},
        "attention": i % 100,
    }
    return {**data, "last_seen_at": T0, "data_hash": row_hash(data)}


def test_large_upserts_keep_every_value(engine: Engine) -> None:
    # on PostgreSQL this many rows travel through COPY and a temporary table
    n = PG_COPY_MIN_ROWS + 500
    pod_key = ("cluster_id", "namespace", "name")
    with engine.begin() as conn:
        prod = {"key": "kind//local/prod", "provider": "kind", "name": "prod", "data_hash": ""}
        cluster = upsert(conn, Cluster, [prod], key=("key",), returning=("id",))
        rows = [_pod(i, cluster.rows[0].id) for i in range(n)]
        inserted = upsert(conn, Pod, rows, key=pod_key, returning=("id",))
        unchanged = upsert(conn, Pod, rows, key=pod_key)
        changed = [
            {**r, "attention": -1, "data_hash": "changed"} if i % 10 == 0 else r for i, r in enumerate(rows)
        ]
        updated = upsert(conn, Pod, changed, key=pod_key)
        columns = [Pod.__table__.c[c] for c in rows[0]]  # type: ignore[attr-defined]
        stored = {r.name: dict(r._mapping) for r in conn.execute(select(*columns))}

    assert (inserted.affected, len({r.id for r in inserted.rows})) == (n, n)
    assert (unchanged.affected, updated.affected) == (0, n // 10 + (1 if n % 10 else 0))
    assert stored == {r["name"]: r for r in changed}


def test_upsert_through_a_session_flushes_pending_objects_first(engine: Engine, session: Session) -> None:
    # the ORM-added row must reach the database before the bulk write meets the same key
    session.add(Cluster(key="kind//local/dev", provider="kind", name="dev", owner="alice", data_hash="orm"))
    synced = {
        "key": "kind//local/dev",
        "provider": "kind",
        "name": "dev",
        "status": "RUNNING",
        "data_hash": "sync",
    }

    result = upsert(session, Cluster, [synced], key=("key",), update=("status", "data_hash"))
    session.commit()

    assert result.affected == 1
    with engine.connect() as conn:
        rows = conn.execute(select(Cluster.owner, Cluster.status, Cluster.data_hash)).all()
    assert [tuple(r) for r in rows] == [("alice", "RUNNING", "sync")]


@pytest.mark.parametrize("count", [1, PG_COPY_MIN_ROWS], ids=["few", "many"])
def test_naive_datetimes_in_rows_are_rejected(engine: Engine, count: int) -> None:
    cid = _cluster(engine)
    rows = [_node(cid, f"n{i}") for i in range(count)]
    rows[-1]["last_seen_at"] = datetime(2024, 1, 1)
    with pytest.raises(StatementError, match="naive datetime"), engine.begin() as conn:
        upsert(conn, Node, rows, key=NODE_KEY)
    assert _nodes(engine) == {}


def test_rows_with_different_columns_or_unknown_columns_are_refused(engine: Engine) -> None:
    cid = _cluster(engine)
    with engine.begin() as conn:
        with pytest.raises(ValueError, match="row 1 has columns"):
            upsert(conn, Node, [_node(cid, "n0"), {"cluster_id": cid, "name": "n1"}], key=NODE_KEY)
        with pytest.raises(ValueError, match=r"no column\(s\) \['colour'\]"):
            upsert(conn, Node, [{**_node(cid, "n0"), "colour": "blue"}], key=NODE_KEY)
        with pytest.raises(ValueError, match="only_if_changed"):
            upsert(conn, Node, [{"cluster_id": cid, "name": "n0"}], key=NODE_KEY)
    assert _nodes(engine) == {}


# --------------------------------------------------------------------------- touch, tombstone, purge


def test_touch_sets_last_seen_at_of_the_given_rows_only(engine: Engine) -> None:
    cid = _cluster(engine)
    with engine.begin() as conn:
        result = upsert(
            conn, Node, [_node(cid, f"n{i}") for i in range(25)], key=NODE_KEY, returning=("id", "name")
        )
    ids = {r.name: r.id for r in result.rows}
    touched = [ids[f"n{i}"] for i in range(20)]

    with engine.begin() as conn:
        count = touch(conn, Node, touched, value=T2, batch_rows=6)

    assert count == 20
    seen = {n: r["last_seen_at"] for n, r in _nodes(engine).items()}
    assert seen == {f"n{i}": (T2 if i < 20 else T0) for i in range(25)}


def test_touch_defaults_to_now(engine: Engine) -> None:
    cid = _cluster(engine)
    with engine.begin() as conn:
        result = upsert(conn, Node, [_node(cid, "n0")], key=NODE_KEY, returning=("id",))
        before = utcnow()
        assert touch(conn, Node, [result.rows[0].id]) == 1
    assert _nodes(engine)["n0"]["last_seen_at"] >= before


def test_tombstone_marks_only_unseen_rows_in_scope(engine: Engine) -> None:
    prod, dev = _cluster(engine, "p/a/l/prod"), _cluster(engine, "p/a/l/dev")
    with engine.begin() as conn:
        upsert(conn, Node, [_node(prod, "old", seen=T0), _node(prod, "fresh", seen=T2)], key=NODE_KEY)
        upsert(conn, Node, [_node(dev, "other-cluster", seen=T0)], key=NODE_KEY)

    with engine.begin() as conn:
        marked = tombstone(conn, Node, Node.cluster_id == prod, seen_before=T1, at=T1)
        again = tombstone(conn, Node, Node.cluster_id == prod, seen_before=T1, at=T2)

    assert (marked, again) == (1, 0)  # an existing tombstone keeps its time
    deleted = {n: r["deleted_at"] for n, r in _nodes(engine).items()}
    assert deleted == {"old": T1, "fresh": None, "other-cluster": None}


def test_purge_deletes_tombstones_older_than_the_retention(engine: Engine) -> None:
    cid = _cluster(engine)
    rows = [
        {**_node(cid, n), "deleted_at": at}
        for n, at in (("gone-long", T0), ("gone-recent", T2), ("alive", None))
    ]
    with engine.begin() as conn:
        upsert(conn, Node, rows, key=NODE_KEY)
        assert purge(conn, Node, deleted_before=T1) == 1
    assert sorted(_nodes(engine)) == ["alive", "gone-recent"]


def test_row_hash_ignores_key_order_and_sees_value_changes() -> None:
    assert row_hash({"a": 1, "b": [1, 2]}) == row_hash({"b": [1, 2], "a": 1})
    assert row_hash({"a": 1, "b": [1, 2]}) != row_hash({"a": 1, "b": [2, 1]})
    assert row_hash({"a": 1, "skip": 2}, exclude=("skip",)) == row_hash({"a": 1})


@pytest.mark.parametrize("count", [3, PG_COPY_MIN_ROWS])
def test_json_lists_of_any_length_are_stored_as_they_are(engine: Engine, count: int) -> None:
    """A JSON list column (service ports) keeps each row's list, whatever its length, on both paths."""
    from nautilus_core.db import Service

    cid = _cluster(engine)
    rows = [{"cluster_id": cid, "namespace": "a", "name": f"s{i}", "ports": [{"port": 80 + j} for j in range(i % 3)],
             "labels": {"i": str(i)}, "last_seen_at": T0, "data_hash": str(i)} for i in range(count)]
    with engine.begin() as conn:
        upsert(conn, Service, rows, key=("cluster_id", "namespace", "name"))
    with engine.connect() as conn:
        stored = {r.name: r.ports for r in conn.execute(select(Service.__table__))}  # type: ignore[attr-defined]
    assert stored == {r["name"]: r["ports"] for r in rows}

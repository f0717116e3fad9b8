"""Property: the text filter matches exactly the pods whose name, status, node, owner or top issue
contains the text, ignoring ASCII case, with ``%``, ``_`` and ``\\`` taken literally (hypothesis, on
SQLite and PostgreSQL)."""

from __future__ import annotations

import string

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import insert

from nautilus_core.db import Cluster, Pod
from nautilus_core.web import queries

ALPHABET = string.ascii_letters + string.digits + "%_\\-. /:'\""
NAMES = ["web-1", "web_1", "100%done", "a\\b", "CrashLoop", "db.2", "x'y", 'q"z', "under_score%"]


@pytest.fixture
def pods(engine):
    """The pods of NAMES, written once per test (the examples only read them)."""
    with engine.begin() as conn:
        cluster = conn.execute(insert(Cluster.__table__).values(key="k///c", provider="k", name="c")
                               ).inserted_primary_key[0]
        conn.execute(insert(Pod.__table__), [
            dict(cluster_id=cluster, namespace="ns", name=name, status="Running", node=f"node-{i}",
                 owner_kind="ReplicaSet", owner_name=f"own{i}", top_reason="OOMKilled" if i % 3 == 0 else None,
                 top_message=f"msg {name}" if i % 2 else None, top_container=None, attention=i)
            for i, name in enumerate(NAMES)])
    return engine


def _expected(text: str) -> set[str]:
    needle = text.lower()
    found = set()
    for i, name in enumerate(NAMES):
        fields = [name, "Running", f"node-{i}", f"own{i}", "OOMKilled" if i % 3 == 0 else "",
                  f"msg {name}" if i % 2 else ""]
        if any(needle in f.lower() for f in fields):
            found.add(name)
    return found


@settings(max_examples=60, deadline=None, database=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(text=st.one_of(st.text(ALPHABET, min_size=1, max_size=6), st.sampled_from(NAMES),
                      st.sampled_from(["%", "_", "\\", "%%", "0%d", "b_1"])))
def test_text_filter_is_a_literal_case_insensitive_substring(pods, text):
    page = queries.list_pods(pods, queries.PodFilter(text=text), limit=100, offset=0)
    assert {p["name"] for p in page["items"]} == _expected(text)
    assert page["total"] == len(_expected(text))

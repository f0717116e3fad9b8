"""The statefulsets reconciler's watch-fed cache: newest version wins, deletes forget, misses count."""

from __future__ import annotations

import time

from nautilus_core.reconcilers.statefulsets.cache import ObjectCache


def sts(rv: str, image: str = "a") -> dict:
    return {"metadata": {"name": "db", "namespace": "ns", "resourceVersion": rv}, "spec": {"image": image}}


def test_an_older_event_never_replaces_a_newer_object():
    cache = ObjectCache(ttl=10)
    cache.put("statefulsets", sts("7", "new"))             # the answer to our own write
    cache.event("statefulsets", "MODIFIED", sts("5", "old"))  # a late watch event
    assert cache.get("statefulsets", "ns", "db")["spec"]["image"] == "new"
    cache.event("statefulsets", "MODIFIED", sts("9", "edited"))
    assert cache.get("statefulsets", "ns", "db")["spec"]["image"] == "edited"


def test_deleted_events_and_drops_forget_and_misses_are_counted():
    cache = ObjectCache(ttl=10)
    cache.put("services", sts("1"))
    cache.event("services", "DELETED", sts("2"))
    assert cache.get("services", "ns", "db") is None
    cache.put("services", sts("3"))
    cache.drop("services", "ns", "db")
    assert cache.get("services", "ns", "db") is None
    assert (cache.hits, cache.misses) == (0, 2)


def test_namespaces_are_remembered_for_the_ttl_only():
    cache = ObjectCache(ttl=0.2)
    assert not cache.namespace_known("team-a")
    cache.namespace_seen("team-a")
    assert cache.namespace_known("team-a")
    time.sleep(0.25)
    assert not cache.namespace_known("team-a")

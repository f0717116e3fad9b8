"""The runtime's informer cache against the emulator, through the real client: shared informers,
authoritative "absent", write-through, owner and label lookups, restart after an unexpected error."""

from __future__ import annotations

import pytest
from conftest import until

from nautilus_core.controller.cache import InformerCache, InformerKey
from nautilus_core.errors import ConfigError
from nautilus_core.kube.selectors import Selector

CM = ("v1", "configmaps")


def cm(name, ns="default", labels=None, owner=None, data=None):
    meta = {"name": name, "namespace": ns, "labels": labels or {}}
    if owner:
        meta["ownerReferences"] = [{"apiVersion": "v1", "kind": "ConfigMap", "name": "parent", "uid": owner}]
    return {"apiVersion": "v1", "kind": "ConfigMap", "metadata": meta, "data": data or {}}


def watches(emu, plural="configmaps"):
    return [r for r in emu.requests.filter(method="GET", path=plural) if r.query.get("watch") == "true"]


@pytest.fixture
def cache(kube):
    c = InformerCache(kube, silence_timeout=5.0)
    yield c
    c.stop()


def test_two_users_of_the_same_informer_share_one_watch_and_the_last_release_stops_it(cache, kube_emulator):
    key = InformerKey(*CM)
    seen_a, seen_b = [], []
    cache.acquire(key, lambda t, o: seen_a.append((t, o["metadata"]["name"])))
    cache.acquire(key, lambda t, o: seen_b.append((t, o["metadata"]["name"])))
    assert cache.wait_for_sync(5)
    kube_emulator.create(cm("one"))
    until(lambda: ("ADDED", "one") in seen_a and ("ADDED", "one") in seen_b, what="both handlers see the event")
    assert len(watches(kube_emulator)) == 1
    cache.release(key)
    assert cache.informers()
    cache.release(key)
    assert cache.informers() == []


def test_a_synced_informer_answers_present_and_absent_without_a_request(cache, kube_emulator):
    kube_emulator.create(cm("here", labels={"app": "web"}))
    cache.acquire(InformerKey(*CM, namespace="default"))
    assert cache.wait_for_sync(5)
    kube_emulator.requests.clear()
    assert cache.get(*CM, "here", "default")["metadata"]["name"] == "here"
    assert cache.get(*CM, "missing", "default") is None
    assert [o["metadata"]["name"] for o in cache.list(*CM, "default", label_selector="app in (web,api)")] == ["here"]
    assert cache.list(*CM, "default", label_selector="app!=web") == []
    assert kube_emulator.requests.snapshot() == []
    # another namespace is not covered: a real GET answers
    assert cache.get(*CM, "elsewhere", "kube-system") is None
    assert [r.path for r in kube_emulator.requests.filter(method="GET")] == [
        "/api/v1/namespaces/kube-system/configmaps/elsewhere"]


def test_an_older_event_never_replaces_the_answer_to_our_own_write(cache, kube_emulator, kube):
    informer = cache.acquire(InformerKey(*CM))
    assert cache.wait_for_sync(5)
    created = kube.create(*CM, cm("db", data={"v": "1"}), namespace="default")
    until(lambda: cache.get(*CM, "db", "default"), what="event")
    updated = kube.patch(*CM, "db", {"data": {"v": "2"}}, namespace="default")
    cache.put(*CM, updated)
    informer._apply("MODIFIED", created)                  # a late event of the older version
    assert cache.get(*CM, "db", "default")["data"] == {"v": "2"}


def test_the_owner_index_finds_dependents(cache, kube_emulator):
    kube_emulator.create(cm("child-1", owner="uid-1"))
    kube_emulator.create(cm("child-2", owner="uid-1"))
    kube_emulator.create(cm("other", owner="uid-2"))
    cache.acquire(InformerKey(*CM))
    assert cache.wait_for_sync(5)
    assert sorted(o["metadata"]["name"] for o in cache.list(*CM, owner_uid="uid-1")) == ["child-1", "child-2"]
    kube_emulator.delete(*CM, "child-1", namespace="default")
    until(lambda: len(cache.list(*CM, owner_uid="uid-1")) == 1, what="index follows deletes")


def test_a_watch_that_dies_on_a_page_that_does_not_decode_is_restarted(cache, kube_emulator):
    kube_emulator.create(cm("survivor"))
    kube_emulator.inject(method="GET", path="/api/v1/configmaps", status=200, body=b'{"kind": "List", "items": [',
                         times=1)
    informer = cache.acquire(InformerKey(*CM))
    until(lambda: informer.restarts == 1, what="the informer restarted")
    assert "JSONDecodeError" in (informer.last_error or "")
    assert informer.alive and cache.wait_for_sync(10)
    assert cache.get(*CM, "survivor", "default") is not None
    ok, message = cache.health()
    assert ok and "x1" in message


def test_label_selectors_parse_the_api_grammar():
    labels = {"app": "web", "tier": "front"}
    assert Selector.parse("app=web,tier").matches(labels)
    assert Selector.parse("app==web,!absent,tier notin (back)").matches(labels)
    assert not Selector.parse("app in (api)").matches(labels)
    assert not Selector.parse("app!=web").matches(labels)
    with pytest.raises(ConfigError, match="cannot parse"):
        Selector.parse("app in")

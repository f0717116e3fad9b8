"""The seed Component Registry client against FakeComponentRegistry over HTTP: the fake answers like the
Gen-1 service (its quirks), and the client creates, updates minimally, removes, pages and keeps to its own entries."""

from __future__ import annotations

from typing import Any

import orjson
import pytest
import urllib3

from nautilus_core.retry import RetryPolicy
from nautilus_oda.registry import (
    OWNER_LABEL,
    ApiEntry,
    ComponentEntry,
    ComponentRegistryClient,
    RegistryRejected,
)
from nautilus_oda.testing import FakeComponentRegistry

REGISTRY = "canvas-a"
OWNER = "nautilus-oda/a"


def client(fake: FakeComponentRegistry, owner: str = OWNER, registry: str = REGISTRY) -> ComponentRegistryClient:
    return ComponentRegistryClient(fake.url, registry_name=registry, owner=owner, retry=RetryPolicy.off())


def prodcat(*, ready: bool = False, version: str = "1.0", apis: tuple[str, ...] = ("productcatalogmanagement",
                                                                                     "metrics")) -> ComponentEntry:
    entries = []
    for name in apis:
        segment = "managementFunction" if name == "metrics" else "coreFunction"
        entries.append(ApiEntry(name, f"http://canvas/prodcat/{name}", (f"https://spec/{name}.json",),
                                "ready" if ready else "pending", segment=segment))
    return ComponentEntry("prodcat", {"version": version, "functionalBlock": "CoreCommerce"}, tuple(entries))


def raw(fake: FakeComponentRegistry, method: str, path: str, body: Any = None,
        headers: dict[str, str] | None = None) -> urllib3.BaseHTTPResponse:
    data = body if isinstance(body, bytes) else (orjson.dumps(body) if body is not None else None)
    hdrs = {"Content-Type": "application/json"} if body is not None else {}
    return urllib3.request(method, fake.url + path, body=data, headers=hdrs | (headers or {}), redirect=False,
                           retries=False)


# -- the fake answers like the Gen-1 service --------------------------------------------------------------

def test_fake_redirects_paths_without_trailing_slash(component_registry: FakeComponentRegistry) -> None:
    answer = raw(component_registry, "GET", "/labels?skip=0")
    assert answer.status == 307
    assert answer.headers["Location"] == f"{component_registry.url}/labels/?skip=0"


def test_fake_takes_json_bodies_only(component_registry: FakeComponentRegistry) -> None:
    answer = raw(component_registry, "POST", "/labels/", b"key=a&value=b",
                 headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert answer.status == 422
    assert answer.json()["detail"][0]["loc"] == ["body"]


def test_fake_validates_label_lengths_with_fastapi_422(component_registry: FakeComponentRegistry) -> None:
    too_long_key = raw(component_registry, "POST", "/labels/", {"key": "k" * 101, "value": "v"})
    too_long_value = raw(component_registry, "POST", "/labels/", {"key": "k", "value": "v" * 201})
    at_limits = raw(component_registry, "POST", "/labels/", {"key": "k" * 100, "value": "v" * 200})
    assert too_long_key.status == 422 and too_long_key.json()["detail"][0]["loc"] == ["body", "key"]
    assert too_long_value.status == 422 and too_long_value.json()["detail"][0]["type"] == "string_too_long"
    assert at_limits.status == 201


def test_fake_post_shows_no_labels_get_does_and_ids_are_reused(component_registry: FakeComponentRegistry) -> None:
    raw(component_registry, "POST", "/registries/", {"name": "r", "type": "self", "url": "http://r"})
    label = raw(component_registry, "POST", "/labels/", {"key": "team", "value": "odafans"}).json()
    created = raw(component_registry, "POST", "/components/", {"registry_name": "r", "name": "c",
                                                                "label_ids": [label["id"]]}).json()
    assert created["labels"] == []
    assert raw(component_registry, "GET", f"/components/{created['id']}").json()["labels"] == [label]
    assert raw(component_registry, "DELETE", f"/components/{created['id']}").status == 204
    again = raw(component_registry, "POST", "/components/", {"registry_name": "r", "name": "other"}).json()
    assert again["id"] == created["id"]  # the highest id, deleted, is handed out again


def test_fake_keeps_apis_of_a_deleted_component_and_refuses_to_delete_labels_in_use(
        component_registry: FakeComponentRegistry) -> None:
    raw(component_registry, "POST", "/registries/", {"name": "r", "type": "self", "url": "http://r"})
    label = raw(component_registry, "POST", "/labels/", {"key": "k", "value": "v"}).json()
    comp = raw(component_registry, "POST", "/components/", {"registry_name": "r", "name": "c"}).json()
    raw(component_registry, "POST", "/exposed-apis/", {"registry_name": "r", "component_name": "c", "name": "a",
                                                       "url": "", "oas_specification": "", "label_ids": [label["id"]]})
    raw(component_registry, "DELETE", f"/components/{comp['id']}")
    assert [a["name"] for a in component_registry.rows("exposed-apis")] == ["a"]
    in_use = raw(component_registry, "DELETE", f"/labels/{label['id']}")
    assert in_use.status == 500 and in_use.headers["Content-Type"].startswith("text/plain")


def test_fake_filters_exposed_apis_only_with_both_names(component_registry: FakeComponentRegistry) -> None:
    raw(component_registry, "POST", "/registries/", {"name": "r", "type": "self", "url": "http://r"})
    for comp in ("c1", "c2"):
        raw(component_registry, "POST", "/components/", {"registry_name": "r", "name": comp})
        raw(component_registry, "POST", "/exposed-apis/", {"registry_name": "r", "component_name": comp, "name": "a",
                                                           "url": "", "oas_specification": ""})
    assert len(raw(component_registry, "GET", "/exposed-apis/?registry_name=r").json()) == 2
    assert len(raw(component_registry, "GET", "/exposed-apis/?registry_name=r&component_name=c1").json()) == 1
    assert raw(component_registry, "GET", "/exposed-apis/?limit=1001").status == 422


def test_fake_put_is_partial_and_checks_no_uniqueness(component_registry: FakeComponentRegistry) -> None:
    raw(component_registry, "POST", "/registries/", {"name": "r", "type": "self", "url": "http://r"})
    first = raw(component_registry, "POST", "/components/", {"registry_name": "r", "name": "c1"}).json()
    raw(component_registry, "POST", "/components/", {"registry_name": "r", "name": "c2"})
    renamed = raw(component_registry, "PUT", f"/components/{first['id']}", {"name": "c2"}).json()
    assert (renamed["name"], renamed["registry_name"]) == ("c2", "r")  # a second "c2", accepted
    assert raw(component_registry, "PUT", "/components/99", {"name": "x"}).json() == {"detail": "Component not found"}
    registry_id = component_registry.rows("registries")[0]["id"]
    assert raw(component_registry, "DELETE", f"/registries/{registry_id}").status == 500  # it has components


# -- the client ------------------------------------------------------------------------------------------

def test_apply_creates_registry_component_and_apis(component_registry: FakeComponentRegistry) -> None:
    registry = client(component_registry)
    registry.ensure_registry()
    writes = registry.apply(prodcat(), None)

    entry = component_registry.rows("registries")[0]
    assert (entry["name"], entry["type"]) == (REGISTRY, "self")
    comp = component_registry.component("prodcat", REGISTRY)
    assert comp is not None
    assert FakeComponentRegistry.labels_of(comp) == {"version": "1.0", "functionalBlock": "CoreCommerce",
                                                     OWNER_LABEL: OWNER}
    apis = {a["name"]: a for a in component_registry.apis_of("prodcat", REGISTRY)}
    assert set(apis) == {"productcatalogmanagement", "metrics"}
    pcm = apis["productcatalogmanagement"]
    assert (pcm["url"], pcm["oas_specification"], pcm["status"]) == (
        "http://canvas/prodcat/productcatalogmanagement", "https://spec/productcatalogmanagement.json", "pending")
    assert FakeComponentRegistry.labels_of(apis["metrics"])["segment"] == "managementFunction"
    assert writes == component_registry.writes - 1  # all but the registry entry made before
    assert registry.list_owned() == {"prodcat": prodcat()}


def test_unchanged_component_sends_nothing_and_a_resync_only_pages(component_registry: FakeComponentRegistry) -> None:
    registry = client(component_registry)
    registry.apply(prodcat(), None)
    component_registry.reset_counts()

    current = registry.list_owned()
    assert registry.apply(prodcat(), current["prodcat"]) == 0
    assert component_registry.writes == 0
    assert component_registry.reads == 2  # one page of components, one of exposed APIs


def test_a_restarted_client_finds_its_entries_by_their_mark(component_registry: FakeComponentRegistry) -> None:
    client(component_registry).apply(prodcat(), None)
    component_registry.reset_counts()
    restarted = client(component_registry)
    current = restarted.list_owned()
    assert current == {"prodcat": prodcat()}
    assert restarted.apply(prodcat(), current["prodcat"]) == 0
    assert restarted.apply(prodcat(), None) == 0  # not told what is there: it reads, and finds nothing to write
    assert component_registry.writes == 0


def test_readiness_change_goes_through_the_status_patch(component_registry: FakeComponentRegistry) -> None:
    registry = client(component_registry)
    registry.apply(prodcat(), None)
    current = registry.list_owned()["prodcat"]
    component_registry.reset_counts()

    assert registry.apply(prodcat(ready=True), current) == 2
    patched = [p for (m, p) in component_registry.requests if m == "PATCH"]
    assert len(patched) == 2 and all(p.endswith("/status") for p in patched)
    assert component_registry.count("PUT") == 0
    assert {a["status"] for a in component_registry.apis_of("prodcat")} == {"ready"}


def test_label_change_updates_the_component_only(component_registry: FakeComponentRegistry) -> None:
    registry = client(component_registry)
    registry.apply(prodcat(), None)
    current = registry.list_owned()["prodcat"]
    component_registry.reset_counts()

    writes = registry.apply(prodcat(version="1.1"), current)
    assert writes == 2  # the new label, the component's PUT
    assert component_registry.count("POST", "/labels/") == 1
    assert component_registry.count("PUT", "/components/") == 1
    assert component_registry.count(prefix="/exposed-apis/") <= 1  # a read at most, no API write
    assert FakeComponentRegistry.labels_of(component_registry.component("prodcat") or {})["version"] == "1.1"


def test_an_api_that_left_the_component_is_removed(component_registry: FakeComponentRegistry) -> None:
    registry = client(component_registry)
    registry.apply(prodcat(), None)
    current = registry.list_owned()["prodcat"]
    component_registry.reset_counts()

    assert registry.apply(prodcat(apis=("productcatalogmanagement",)), current) == 1
    assert component_registry.count("DELETE") == 1
    assert [a["name"] for a in component_registry.apis_of("prodcat")] == ["productcatalogmanagement"]


def test_delete_removes_the_apis_first(component_registry: FakeComponentRegistry) -> None:
    registry = client(component_registry)
    registry.apply(prodcat(), None)
    current = registry.list_owned()["prodcat"]
    component_registry.reset_counts()

    assert registry.delete(current) == 3
    deletes = [r.path for r in component_registry.log if r.method == "DELETE"]
    assert [p.split("/")[1] for p in deletes] == ["exposed-apis", "exposed-apis", "components"]
    assert component_registry.rows("components") == [] and component_registry.rows("exposed-apis") == []
    assert registry.list_owned() == {}


def test_paging_past_a_thousand_entries(component_registry: FakeComponentRegistry) -> None:
    component_registry.insert("registries", {"name": REGISTRY, "type": "self", "url": "http://r"})
    mark = {OWNER_LABEL: OWNER}
    for i in range(1_205):
        component_registry.insert("components", {"registry_name": REGISTRY, "name": f"c{i:04}"}, mark | {"n": "x"})
    for i in range(2_410):
        component_registry.insert("exposed-apis", {
            "registry_name": REGISTRY, "component_name": f"c{i // 2:04}", "name": f"api{i % 2}", "url": "",
            "oas_specification": "", "status": "ready"}, mark)
    component_registry.reset_counts()

    owned = client(component_registry).list_owned()
    assert len(owned) == 1_205
    assert all(len(entry.apis) == 2 for entry in owned.values())
    assert component_registry.count("GET", "/components/") == 2
    assert component_registry.count("GET", "/exposed-apis/") == 3


def test_hand_made_entries_are_never_touched(component_registry: FakeComponentRegistry) -> None:
    component_registry.insert("registries", {"name": REGISTRY, "type": "self", "url": "http://r"})
    hand = component_registry.insert("components", {"registry_name": REGISTRY, "name": "prodcat"}, {"team": "ops"})
    registry = client(component_registry)
    assert registry.list_owned() == {}

    with pytest.raises(RegistryRejected) as info:
        registry.apply(prodcat(), None)
    assert "prodcat" in str(info.value) and "made by hand" in str(info.value)
    assert info.value.component == "prodcat"
    assert component_registry.component("prodcat") == hand
    assert component_registry.apis_of("prodcat") == []


def test_hand_made_api_under_an_owned_component_is_left(component_registry: FakeComponentRegistry) -> None:
    registry = client(component_registry)
    registry.apply(prodcat(), None)
    hand = component_registry.insert("exposed-apis", {
        "registry_name": REGISTRY, "component_name": "prodcat", "name": "extra", "url": "http://x",
        "oas_specification": "", "status": "ready"})
    current = registry.list_owned()["prodcat"]
    assert current == prodcat()  # the hand-made API is not reported as ours

    registry.apply(prodcat(apis=("metrics",)), current)
    registry.delete(registry.list_owned()["prodcat"])
    assert component_registry.rows("exposed-apis") == [hand]


def test_two_owners_on_one_registry_keep_to_their_own(component_registry: FakeComponentRegistry) -> None:
    a, b = client(component_registry, "nautilus-oda/a"), client(component_registry, "nautilus-oda/b")
    a.apply(prodcat(), None)
    b.apply(ComponentEntry("billing", {"version": "2"}, (ApiEntry("bill", None, (), "pending"),)), None)

    assert set(a.list_owned()) == {"prodcat"} and set(b.list_owned()) == {"billing"}
    for name, entry in b.list_owned().items():  # b's orphan pass: nothing of a's is in its view
        if name != "billing":
            b.delete(entry)
    with pytest.raises(RegistryRejected, match="owned by 'nautilus-oda/a'"):
        b.apply(prodcat(), None)
    assert a.list_owned() == {"prodcat": prodcat()}
    assert component_registry.component("billing") is not None


def test_a_reused_id_is_not_written_through(component_registry: FakeComponentRegistry) -> None:
    registry = client(component_registry)
    registry.apply(prodcat(), None)
    current = registry.list_owned()["prodcat"]
    comp = component_registry.component("prodcat") or {}
    raw(component_registry, "DELETE", f"/components/{comp['id']}")  # someone removes it by hand ...
    other = component_registry.insert("components", {"registry_name": REGISTRY, "name": "other"})  # ... id reused
    assert other["id"] == comp["id"]

    registry.apply(prodcat(version="2.0"), current)
    assert component_registry.component("other") == other
    recreated = component_registry.component("prodcat") or {}
    assert FakeComponentRegistry.labels_of(recreated)["version"] == "2.0"
    assert len(component_registry.apis_of("prodcat")) == 2  # the APIs left behind were kept, not duplicated


def test_apis_left_behind_are_adopted_not_duplicated(component_registry: FakeComponentRegistry) -> None:
    registry = client(component_registry)
    registry.apply(prodcat(), None)
    comp = component_registry.component("prodcat") or {}
    raw(component_registry, "DELETE", f"/components/{comp['id']}")

    restarted = client(component_registry)
    current = restarted.list_owned()["prodcat"]
    assert current != prodcat()  # the component row is missing
    restarted.apply(prodcat(), current)
    assert restarted.list_owned() == {"prodcat": prodcat()}
    assert len(component_registry.apis_of("prodcat")) == 2


def test_duplicate_owned_apis_are_collapsed(component_registry: FakeComponentRegistry) -> None:
    registry = client(component_registry)
    registry.apply(prodcat(apis=("metrics",)), None)
    dup = {**component_registry.apis_of("prodcat")[0]}
    component_registry.insert("exposed-apis", {k: v for k, v in dup.items() if k not in ("id", "labels")},
                              FakeComponentRegistry.labels_of(dup))
    current = registry.list_owned()["prodcat"]
    assert len(current.apis) == 2
    assert registry.apply(prodcat(apis=("metrics",)), current) == 1
    assert len(component_registry.apis_of("prodcat")) == 1


def test_transport_follows_the_slash_redirect(component_registry: FakeComponentRegistry) -> None:
    answer = client(component_registry).http.request("GET", "/registries", operation="t")
    assert answer.status == 200 and answer.data == []
    assert component_registry.count("GET") == 2


def test_a_too_long_value_is_truncated_and_a_too_long_key_rejected_before_sending(
        component_registry: FakeComponentRegistry) -> None:
    registry = client(component_registry)
    long_value = "x" * 250
    registry.apply(ComponentEntry("prodcat", {"description": long_value}, ()), None)
    stored = FakeComponentRegistry.labels_of(component_registry.component("prodcat") or {})["description"]
    assert len(stored) == 200 and stored == "x" * 199 + "…"
    assert registry.apply(ComponentEntry("prodcat", {"description": long_value}, ()),
                          registry.list_owned()["prodcat"]) == 0  # stored as truncated: nothing to redo

    component_registry.reset_counts()
    with pytest.raises(RegistryRejected) as info:
        registry.apply(ComponentEntry("billing", {"k" * 101: "v"}, ()), None)
    assert info.value.component == "billing" and "billing" in str(info.value)
    assert info.value.field is not None and info.value.field.startswith("labels[")
    assert "at most 100" in str(info.value)
    assert sum(component_registry.requests.values()) == 0


def test_a_registry_entry_removed_meanwhile_is_made_again(component_registry: FakeComponentRegistry) -> None:
    registry = client(component_registry)
    registry.ensure_registry()
    entry = component_registry.rows("registries")[0]
    raw(component_registry, "DELETE", f"/registries/{entry['id']}")
    registry.apply(prodcat(), None)
    assert [r["name"] for r in component_registry.rows("registries")] == [REGISTRY]
    assert registry.list_owned() == {"prodcat": prodcat()}


def test_parallel_applies_share_labels_and_all_land(component_registry: FakeComponentRegistry) -> None:
    from concurrent.futures import ThreadPoolExecutor

    registry = client(component_registry)
    registry.list_owned()
    entries = [ComponentEntry(f"c{i}", {"version": "1.0", "team": f"t{i % 3}"},
                              (ApiEntry("api", f"http://c{i}", (), "ready"),)) for i in range(30)]
    with ThreadPoolExecutor(6) as pool:
        list(pool.map(lambda e: registry.apply(e, None), entries))

    assert registry.list_owned() == {e.name: e for e in entries}
    assert restarted_view(component_registry) == {e.name: e for e in entries}


def restarted_view(fake: FakeComponentRegistry) -> dict[str, ComponentEntry]:
    return client(fake).list_owned()


def test_the_registry_entry_url_holds_no_credentials(component_registry: FakeComponentRegistry) -> None:
    url = component_registry.url.replace("http://", "http://robot:pa55word@")
    registry = ComponentRegistryClient(url, registry_name=REGISTRY, owner=OWNER, retry=RetryPolicy.off())
    registry.ensure_registry()
    stored = component_registry.rows("registries")[0]["url"]
    assert stored == component_registry.url
    assert "pa55word" not in repr(registry)

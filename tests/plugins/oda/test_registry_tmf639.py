"""The TMF639 v5 Resource Inventory client against FakeResourceInventory over HTTP: TMF630 paging and merge
patches in the fake; create, minimal updates, readiness, removal, paging and ownership in the client."""

from __future__ import annotations

from typing import Any

import orjson
import urllib3

from nautilus_core.retry import RetryPolicy
from nautilus_oda.registry import OWNER_LABEL, ApiEntry, ComponentEntry, ResourceInventoryClient, build_registry
from nautilus_oda.settings import OdaSettings
from nautilus_oda.testing import FakeResourceInventory

REGISTRY = "canvas-a"
OWNER = "nautilus-oda/a"


def client(fake: FakeResourceInventory, owner: str = OWNER) -> ResourceInventoryClient:
    return ResourceInventoryClient(fake.url, registry_name=REGISTRY, owner=owner, retry=RetryPolicy.off())


def prodcat(*, ready: bool = False, version: str = "1.0",
            apis: tuple[str, ...] = ("productcatalogmanagement", "metrics")) -> ComponentEntry:
    return ComponentEntry("prodcat", {"version": version, "functionalBlock": "CoreCommerce"}, tuple(
        ApiEntry(name, f"http://canvas/prodcat/{name}", (f"https://spec/{name}.json",), "ready" if ready else "pending",
                 segment="managementFunction" if name == "metrics" else "coreFunction") for name in apis))


def raw(fake: FakeResourceInventory, method: str, path: str, body: Any = None,
        content_type: str = "application/json") -> urllib3.BaseHTTPResponse:
    data = orjson.dumps(body) if body is not None else None
    return urllib3.request(method, fake.url + path, body=data, headers={"Content-Type": content_type},
                           retries=False)


# -- the fake ---------------------------------------------------------------------------------------------

def test_fake_pages_like_tmf630(resource_inventory: FakeResourceInventory) -> None:
    for i in range(5):
        resource_inventory.insert({"@type": "LogicalResource", "name": f"r{i}", "category": "API" if i % 2 else "X"})
    page = raw(resource_inventory, "GET", "/resource?offset=1&limit=2")
    assert page.status == 206
    assert (page.headers["X-Total-Count"], page.headers["X-Result-Count"]) == ("5", "2")
    assert [r["name"] for r in page.json()] == ["r1", "r2"]
    everything = raw(resource_inventory, "GET", "/resource?category=API,X&fields=name")
    assert everything.status == 200 and len(everything.json()) == 5
    assert set(everything.json()[0]) == {"id", "href", "@type", "name"}


def test_fake_merge_patch_replaces_arrays_and_keeps_ids(resource_inventory: FakeResourceInventory) -> None:
    made = raw(resource_inventory, "POST", "/resource", {"@type": "LogicalResource", "name": "n",
                                                          "resourceCharacteristic": [{"name": "a", "value": 1}]})
    assert made.status == 201
    rid = made.json()["id"]
    patched = raw(resource_inventory, "PATCH", f"/resource/{rid}",
                  {"resourceCharacteristic": [{"name": "b", "value": 2}], "name": None},
                  content_type="application/merge-patch+json").json()
    assert patched["resourceCharacteristic"] == [{"name": "b", "value": 2}] and "name" not in patched
    assert raw(resource_inventory, "PATCH", f"/resource/{rid}", {"id": "x"}).status == 400
    assert raw(resource_inventory, "PATCH", f"/resource/{rid}", {}, content_type="text/plain").status == 415
    assert raw(resource_inventory, "POST", "/resource", {"name": "no type"}).json()["@type"] == "Error"
    assert raw(resource_inventory, "DELETE", f"/resource/{rid}").status == 204
    assert raw(resource_inventory, "GET", f"/resource/{rid}").status == 404


# -- the client ------------------------------------------------------------------------------------------

def test_apply_creates_component_and_api_resources(resource_inventory: FakeResourceInventory) -> None:
    registry = client(resource_inventory)
    registry.ensure_registry()
    assert registry.apply(prodcat(), None) == 3

    [component] = resource_inventory.of_category("ODAComponent")
    assert component["@type"] == "LogicalResource" and component["name"] == "prodcat"
    assert FakeResourceInventory.characteristics(component) == {
        "version": "1.0", "functionalBlock": "CoreCommerce", OWNER_LABEL: OWNER, "registry": REGISTRY}
    apis = {a["name"]: a for a in resource_inventory.of_category("API")}
    pcm = apis["productcatalogmanagement"]
    chars = FakeResourceInventory.characteristics(pcm)
    assert chars["url"] == "http://canvas/prodcat/productcatalogmanagement"
    assert chars["specification"] == [{"url": "https://spec/productcatalogmanagement.json"}]
    assert (chars["status"], pcm["resourceStatus"]) == ("pending", "standby")
    assert pcm["resourceRelationship"][0]["relationshipType"] == "exposedBy"
    assert pcm["resourceRelationship"][0]["resource"]["id"] == component["id"]
    assert registry.list_owned() == {"prodcat": prodcat()}


def test_unchanged_sends_nothing_and_restart_finds_its_resources(resource_inventory: FakeResourceInventory) -> None:
    client(resource_inventory).apply(prodcat(), None)
    resource_inventory.reset_counts()
    restarted = client(resource_inventory)
    current = restarted.list_owned()
    assert current == {"prodcat": prodcat()}
    assert restarted.apply(prodcat(), current["prodcat"]) == 0
    assert restarted.apply(prodcat(), None) == 0
    assert resource_inventory.writes == 0


def test_readiness_and_removed_api(resource_inventory: FakeResourceInventory) -> None:
    registry = client(resource_inventory)
    registry.apply(prodcat(), None)
    current = registry.list_owned()["prodcat"]
    resource_inventory.reset_counts()

    assert registry.apply(prodcat(ready=True, apis=("productcatalogmanagement",)), current) == 2
    assert (resource_inventory.count("PATCH"), resource_inventory.count("DELETE")) == (1, 1)
    [api] = resource_inventory.of_category("API")
    assert FakeResourceInventory.characteristics(api)["status"] == "ready" and api["resourceStatus"] == "available"


def test_label_change_patches_the_component(resource_inventory: FakeResourceInventory) -> None:
    registry = client(resource_inventory)
    registry.apply(prodcat(), None)
    current = registry.list_owned()["prodcat"]
    resource_inventory.reset_counts()
    assert registry.apply(prodcat(version="2.0"), current) == 1
    [component] = resource_inventory.of_category("ODAComponent")
    assert FakeResourceInventory.characteristics(component)["version"] == "2.0"


def test_delete_removes_apis_then_the_component(resource_inventory: FakeResourceInventory) -> None:
    registry = client(resource_inventory)
    registry.apply(prodcat(), None)
    component_id = resource_inventory.of_category("ODAComponent")[0]["id"]
    resource_inventory.reset_counts()
    assert registry.delete(registry.list_owned()["prodcat"]) == 3
    deletes = [r.path for r in resource_inventory.log if r.method == "DELETE"]
    assert deletes[-1].endswith(component_id)
    assert resource_inventory.resources == {}


def test_paging_past_a_thousand(resource_inventory: FakeResourceInventory) -> None:
    mark = [{"name": OWNER_LABEL, "value": OWNER}, {"name": "registry", "value": REGISTRY}]
    for i in range(1_100):
        made = resource_inventory.insert({"@type": "LogicalResource", "category": "ODAComponent", "name": f"c{i}",
                                          "resourceCharacteristic": mark})
        resource_inventory.insert({"@type": "LogicalResource", "category": "API", "name": "api",
                                   "resourceCharacteristic": [*mark, {"name": "status", "value": "ready"}],
                                   "resourceRelationship": [{"relationshipType": "exposedBy",
                                                             "resource": {"id": made["id"]}}]})
    resource_inventory.reset_counts()
    owned = client(resource_inventory).list_owned()
    assert len(owned) == 1_100 and all(e.apis[0].status == "ready" for e in owned.values())
    assert resource_inventory.count("GET") == 4


def test_other_owners_and_hand_made_resources_are_untouched(resource_inventory: FakeResourceInventory) -> None:
    hand = resource_inventory.insert({"@type": "LogicalResource", "category": "ODAComponent", "name": "prodcat",
                                      "resourceCharacteristic": [{"name": "version", "value": "0.1"}]})
    a, b = client(resource_inventory, "nautilus-oda/a"), client(resource_inventory, "nautilus-oda/b")
    a.apply(prodcat(), None)
    b.apply(ComponentEntry("billing", {}, ()), None)
    assert set(a.list_owned()) == {"prodcat"} and set(b.list_owned()) == {"billing"}
    a.delete(a.list_owned()["prodcat"])
    assert resource_inventory.resources[hand["id"]] == hand
    assert [r["name"] for r in resource_inventory.of_category("ODAComponent")] == ["prodcat", "billing"]


def test_a_resource_removed_by_hand_is_made_again(resource_inventory: FakeResourceInventory) -> None:
    registry = client(resource_inventory)
    registry.apply(prodcat(), None)
    current = registry.list_owned()["prodcat"]
    for rid in list(resource_inventory.resources):
        raw(resource_inventory, "DELETE", f"/resource/{rid}")
    registry.apply(prodcat(version="3", ready=True), current)
    assert registry.list_owned() == {"prodcat": prodcat(version="3", ready=True)}


def test_apis_of_a_component_resource_removed_by_hand_do_not_linger(resource_inventory: FakeResourceInventory) -> None:
    registry = client(resource_inventory)
    registry.apply(prodcat(), None)
    current = registry.list_owned()["prodcat"]
    component_id = resource_inventory.of_category("ODAComponent")[0]["id"]
    raw(resource_inventory, "DELETE", f"/resource/{component_id}")  # the APIs stay behind
    registry.apply(prodcat(version="3"), current)
    assert registry.list_owned() == {"prodcat": prodcat(version="3")}
    [component] = resource_inventory.of_category("ODAComponent")
    apis = resource_inventory.of_category("API")
    assert len(apis) == 2 and {a["resourceRelationship"][0]["resource"]["id"] for a in apis} == {component["id"]}


def test_build_registry_picks_the_flavour_from_settings(resource_inventory: FakeResourceInventory) -> None:
    settings = OdaSettings.model_validate({"COMPONENT_REGISTRY_URL": resource_inventory.url,
                                           "COMPONENT_REGISTRY_TYPE": "tmf639", "COMPONENT_REGISTRY_NAME": REGISTRY})
    registry = build_registry(settings, retry=RetryPolicy.off())
    assert registry.flavour == "tmf639" and registry.owner == f"nautilus-oda/{REGISTRY}"
    registry.check()
    assert build_registry(OdaSettings.model_validate({})).flavour == "component-registry"

"""The ``oda-components`` reconciler end to end: the emulator with the ODA CRDs applied by kubectl,
Components in v1beta3 and v1, the controller runtime, and the fake seed Component Registry over HTTP."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy
from oda_crs import exposed, v1, v1beta3

from nautilus_core.config import load_settings
from nautilus_core.controller.runtime import ControllerRuntime
from nautilus_core.kube import RetryPolicy, connect
from nautilus_core.testing import until as wait_until
from nautilus_oda.reconciler import NAME, OdaReconciler
from nautilus_oda.registry import build_registry
from nautilus_oda.settings import OdaSettings
from nautilus_oda.testing.component_registry import FakeComponentRegistry

CRDS = Path(__file__).resolve().parents[3] / "plugins" / "oda" / "src" / "nautilus_oda" / "crds"
REGISTRY = "canvas-registry"


def until(predicate: Callable[[], Any], what: str, timeout: float = 20.0) -> Any:
    return wait_until(predicate, timeout, what, poll=0.05)


class Kubectl:
    def __init__(self, kubeconfig: Path, tmp: Path) -> None:
        self.kubeconfig, self.tmp, self.n = kubeconfig, tmp, 0

    def __call__(self, *args: str) -> str:
        done = subprocess.run(["kubectl", "--kubeconfig", str(self.kubeconfig), *args], capture_output=True,
                              text=True, timeout=60)
        assert done.returncode == 0, done.stdout + done.stderr
        return done.stdout

    def apply(self, obj: dict[str, Any]) -> None:
        """``kubectl apply`` the object, then its status (a subresource: apply leaves it out) if it has one."""
        self.n += 1
        path = self.tmp / f"obj-{self.n}.json"
        path.write_text(json.dumps(obj))
        self("apply", "-f", str(path))
        if obj.get("status"):
            self.status(obj, obj["status"])

    def status(self, obj: dict[str, Any], status: dict[str, Any]) -> None:
        kind = {"Component": "components", "ExposedAPI": "exposedapis"}[obj["kind"]]
        self("patch", f"{kind}.oda.tmforum.org", obj["metadata"]["name"], "-n", obj["metadata"]["namespace"],
             "--subresource=status", "--type=merge", "-p", json.dumps({"status": status}))


@pytest.fixture
def kubectl(kube_emulator: Any, kubeconfig_path: Path, tmp_path: Path) -> Kubectl:
    """kubectl against the emulator, with the plugin's CRDs applied and namespaces shop, a and b."""
    k = Kubectl(kubeconfig_path, tmp_path)
    out = k("apply", "-f", str(CRDS))
    assert "components.oda.tmforum.org created" in out and "exposedapis.oda.tmforum.org created" in out
    for ns in ("shop", "a", "b"):
        k("create", "namespace", ns)
    return k


@pytest.fixture
def collector(kubectl: Kubectl, kubeconfig_path: Path) -> Iterator[Callable[..., ControllerRuntime]]:
    """Start the reconciler on the controller runtime: ``collector(registry_url, **OdaSettings fields)``."""
    started: list[tuple[ControllerRuntime, Any]] = []

    def start(url: str, **fields: Any) -> ControllerRuntime:
        oda = OdaSettings(component_registry_url=url, component_registry_name=REGISTRY,
                          kubernetes_namespace=fields.pop("namespace", "shop"), sync_interval=1.0, **fields)
        settings = load_settings(reconcile_interval=1.0, metrics_port=0, health_check_port=0, backoff_base=0.2,
                                 backoff_max=1.0, max_retries=3)
        kube = connect(kubeconfig=str(kubeconfig_path), retry=RetryPolicy.off(), timeout=(2.0, 10.0))
        registry = build_registry(oda, retry=RetryPolicy.off())
        runtime = ControllerRuntime(
            settings=settings, engine=sqlalchemy.create_engine("sqlite://"), kube=kube, leader_election=False,
            reconcilers={NAME: lambda ctx: OdaReconciler(ctx, registry=registry, settings=oda)},
            watch_silence_timeout=10.0)
        runtime.start()
        started.append((runtime, kube))
        return runtime

    yield start
    for runtime, kube in started:
        runtime.stop()
        kube.close()


def reconciler(runtime: ControllerRuntime) -> OdaReconciler:
    rec = runtime.reconcilers[NAME]
    assert isinstance(rec, OdaReconciler)
    return rec


def registered(fake: FakeComponentRegistry, name: str) -> dict[str, Any] | None:
    return fake.component(name, REGISTRY)


def api_status(fake: FakeComponentRegistry, component: str) -> dict[str, str]:
    return {a["name"]: a["status"] for a in fake.apis_of(component, REGISTRY)}


def test_components_appear_with_apis_and_labels_readiness_follows_and_deletion_removes(
        collector: Any, kubectl: Kubectl, component_registry: FakeComponentRegistry) -> None:
    runtime = collector(component_registry.url)
    kubectl.apply(v1beta3("prodcat"))
    kubectl.apply(v1("party"))
    kubectl.apply(exposed("prodcat", "productcatalogmanagement", url="https://gw/prodcat/pcm", ready=False))

    row = until(lambda: registered(component_registry, "prodcat"), "prodcat in the registry")
    labels = component_registry.labels_of(row)
    assert labels["version"] == "1.2.0" and labels["functionalBlock"] == "CoreCommerce"
    assert labels["team"] == "catalog" and labels["owners"] == "Ann Owner <ann@example.org>"
    assert labels["managed-by"] == "nautilus-oda/canvas-registry"  # the ownership mark, kept in the registry
    until(lambda: len(component_registry.apis_of("prodcat", REGISTRY)) == 3, "prodcat's three APIs")
    pcm = next(a for a in component_registry.apis_of("prodcat", REGISTRY) if a["name"] == "productcatalogmanagement")
    until(lambda: next(a for a in component_registry.apis_of("prodcat", REGISTRY)
                       if a["name"] == "productcatalogmanagement")["url"] == "https://gw/prodcat/pcm", "the API url")
    pcm = next(a for a in component_registry.apis_of("prodcat", REGISTRY) if a["name"] == "productcatalogmanagement")
    assert pcm["status"] == "pending" and "TMF620" in pcm["oas_specification"]

    party = until(lambda: registered(component_registry, "party"), "the v1 Component in the registry")
    assert component_registry.labels_of(party)["functionalBlock"] == "PartyManagement"
    until(lambda: api_status(component_registry, "party") == {"partymanagement": "pending"}, "party's API")
    assert [r["type"] for r in component_registry.rows("registries") if r["name"] == REGISTRY] == ["self"]

    # readiness: the canvas marks the implementation ready -> the status PATCH
    component_registry.reset_counts()
    kubectl("patch", "exposedapis.oda.tmforum.org", "prodcat-productcatalogmanagement", "-n", "shop",
            "--subresource=status", "--type=merge", "-p", '{"status": {"implementation": {"ready": true}}}')
    until(lambda: api_status(component_registry, "prodcat")["productcatalogmanagement"] == "ready", "ready status")
    patches = [r for r in component_registry.log if r.method == "PATCH"]
    assert patches and all(r.path.endswith("/status") for r in patches)
    assert component_registry.count("POST") == 0  # nothing re-created

    # an unchanged fleet: full syncs send no write
    rec = reconciler(runtime)
    until(lambda: rec.full_syncs >= 1, "a full sync")
    component_registry.reset_counts()
    first = rec.full_syncs
    until(lambda: rec.full_syncs >= first + 2, "two more full syncs")
    assert component_registry.writes == 0
    body = runtime.metrics.render().decode()
    for metric in ("oda_collector_components_total", "oda_collector_components_current 2.0",
                   "oda_collector_apis_total", "oda_collector_kubernetes_events_total",
                   "oda_collector_registry_api_calls_total", "oda_collector_sync_duration_seconds_bucket"):
        assert metric in body, metric

    # deletion removes the component and its APIs (the registry would keep orphaned APIs otherwise)
    kubectl("delete", "components.oda.tmforum.org", "prodcat", "-n", "shop")
    until(lambda: registered(component_registry, "prodcat") is None, "prodcat removed")
    assert component_registry.apis_of("prodcat", REGISTRY) == []
    assert registered(component_registry, "party") is not None


def test_an_api_that_left_the_component_is_removed_and_label_changes_are_sent(
        collector: Any, kubectl: Kubectl, component_registry: FakeComponentRegistry) -> None:
    collector(component_registry.url)
    kubectl.apply(v1beta3("prodcat"))
    until(lambda: len(api_status(component_registry, "prodcat")) == 3, "three APIs")
    changed = v1beta3("prodcat", version="1.3.0")
    changed["spec"].pop("securityFunction")
    kubectl.apply(changed)
    until(lambda: set(api_status(component_registry, "prodcat")) == {"productcatalogmanagement", "metrics"},
          "the security API removed")
    until(lambda: component_registry.labels_of(registered(component_registry, "prodcat") or {}).get("version")
          == "1.3.0", "the new version label")


def test_registry_down_loses_no_event_and_a_component_deleted_meanwhile_is_removed(
        collector: Any, kubectl: Kubectl, component_registry: FakeComponentRegistry) -> None:
    runtime = collector(component_registry.url)
    kubectl.apply(v1beta3("alpha"))
    kubectl.apply(v1beta3("beta"))
    until(lambda: registered(component_registry, "alpha") and registered(component_registry, "beta"), "both")
    component_registry.down()
    kubectl("delete", "components.oda.tmforum.org", "alpha", "-n", "shop")
    kubectl.apply(v1beta3("gamma"))
    kubectl.apply(v1beta3("beta", version="9.9.9"))
    rec = reconciler(runtime)
    until(lambda: any(outcome == "unreachable" for (_op, outcome) in rec.registry.calls),
          "a registry call refused while it is down")
    component_registry.up()
    until(lambda: registered(component_registry, "alpha") is None, "alpha removed once the registry is back")
    until(lambda: registered(component_registry, "gamma"), "gamma created once the registry is back")
    until(lambda: component_registry.labels_of(registered(component_registry, "beta") or {}).get("version")
          == "9.9.9", "beta updated once the registry is back")
    assert component_registry.apis_of("alpha", REGISTRY) == []
    names = [c["name"] for c in component_registry.rows("components")]
    assert sorted(names) == ["beta", "gamma"]  # no duplicates from retried writes


def test_a_malformed_component_is_skipped_while_the_others_sync(
        collector: Any, kubectl: Kubectl, component_registry: FakeComponentRegistry) -> None:
    runtime = collector(component_registry.url)
    no_core = v1beta3("nocore")
    no_core["spec"].pop("coreFunction")
    bad_port = v1beta3("badport")
    bad_port["spec"]["coreFunction"]["exposedAPIs"][0]["port"] = 70000
    for obj in (no_core, bad_port, v1beta3("good")):
        kubectl.apply(obj)
    until(lambda: registered(component_registry, "good"), "the good component")
    rec = reconciler(runtime)
    first = rec.full_syncs
    until(lambda: rec.full_syncs > first, "a full sync")
    assert registered(component_registry, "nocore") is None and registered(component_registry, "badport") is None
    assert rec.metrics.registry.get_sample_value("oda_collector_invalid_components") == 2
    assert rec.metrics.registry.get_sample_value("oda_collector_components_total", {"status": "failed"}) >= 2
    # fixed -> synced
    kubectl.apply(v1beta3("badport"))
    until(lambda: registered(component_registry, "badport"), "the fixed component")


def test_two_collectors_on_one_registry_keep_to_their_own_entries(
        collector: Any, kubectl: Kubectl, component_registry: FakeComponentRegistry) -> None:
    component_registry.insert("registries", {"name": REGISTRY, "type": "self", "url": "http://canvas"})
    handmade = component_registry.insert("components", {"registry_name": REGISTRY, "name": "legacy"},
                                          labels={"owner": "a person"})
    first = collector(component_registry.url, namespace="a", collector_instance="east")
    second = collector(component_registry.url, namespace="b", collector_instance="west")
    kubectl.apply(v1beta3("cat-a", namespace="a"))
    kubectl.apply(v1beta3("cat-b", namespace="b"))
    until(lambda: registered(component_registry, "cat-a") and registered(component_registry, "cat-b"), "both")
    for runtime in (first, second):
        rec = reconciler(runtime)
        done = rec.full_syncs
        until(lambda rec=rec, done=done: rec.full_syncs >= done + 2, "two full syncs of each")
    assert component_registry.labels_of(registered(component_registry, "cat-a") or {})["managed-by"] == \
        "nautilus-oda/east"
    assert component_registry.labels_of(registered(component_registry, "cat-b") or {})["managed-by"] == \
        "nautilus-oda/west"
    assert registered(component_registry, "legacy") == component_registry.rows("components")[handmade["id"] - 1]
    kubectl("delete", "components.oda.tmforum.org", "cat-a", "-n", "a")
    until(lambda: registered(component_registry, "cat-a") is None, "cat-a removed by its collector")
    assert registered(component_registry, "cat-b") is not None and registered(component_registry, "legacy")


def test_a_refused_key_is_reported_without_a_retry_storm(
        collector: Any, kubectl: Kubectl) -> None:
    with FakeComponentRegistry(api_key="right-key") as fake:
        runtime = collector(fake.url, component_registry_api_key="wrong-key")
        for i in range(5):
            kubectl.apply(v1beta3(f"c{i}"))
        rec = reconciler(runtime)
        until(lambda: rec._blocked is not None, "the refusal noticed")
        until(lambda: runtime.metrics.sample("controller_runtime_reconcile_total",
                                             {"controller": NAME, "result": "parked"}), "a parked key")
        seen = fake.count()
        until(lambda: rec.metrics.registry.get_sample_value(
            "oda_collector_kubernetes_events_total", {"resource": "components", "event_type": "ADDED"}) == 5,
            "the five Components seen")
        # per-component reconciles stop calling the registry: only the periodic full sync tries again
        syncs = runtime.metrics.sample("controller_runtime_reconcile_total", {"controller": NAME, "result": "parked"})
        until(lambda: (runtime.metrics.sample("controller_runtime_reconcile_total",
                                              {"controller": NAME, "result": "parked"}) or 0) >= (syncs or 0) + 5,
              "more refused reconciles")
        assert fake.count() - seen <= 8
        assert fake.component("c0") is None
        fake.api_key = "wrong-key"  # the key is rotated to what the collector has
        until(lambda: fake.component("c4", REGISTRY), "synced once the key is accepted", timeout=30)


def test_tmf639_inventory_gets_components_and_apis_and_loses_them_with_the_component(
        collector: Any, kubectl: Kubectl, resource_inventory: Any) -> None:
    runtime = collector(resource_inventory.url, component_registry_type="tmf639")
    kubectl.apply(v1("party"))
    kubectl.apply(exposed("party", "partymanagement", url="https://gw/party/v5", ready=True))
    (component,) = until(lambda: resource_inventory.of_category("ODAComponent"), "the ODAComponent resource")
    assert component["name"] == "party"
    assert resource_inventory.characteristics(component)["functionalBlock"] == "PartyManagement"
    api = until(lambda: next((a for a in resource_inventory.of_category("API")
                              if resource_inventory.characteristics(a).get("url") == "https://gw/party/v5"), None),
                "the API resource with its url")
    chars = resource_inventory.characteristics(api)
    assert chars["apiName"] == "partymanagement" and chars["status"] == "ready"
    assert [r["relationshipType"] for r in api["resourceRelationship"]] == ["exposedBy"]
    rec = reconciler(runtime)
    until(lambda: rec.full_syncs >= 1, "a full sync")
    resource_inventory.reset_counts()
    done = rec.full_syncs
    until(lambda: rec.full_syncs >= done + 2, "two more full syncs")
    assert resource_inventory.writes == 0  # what the inventory holds reads back as what is wanted
    kubectl("delete", "components.oda.tmforum.org", "party", "-n", "shop")
    until(lambda: not resource_inventory.of_category("ODAComponent") and not resource_inventory.of_category("API"),
          "both resources removed")


def test_a_watch_history_expiry_relists_and_misses_nothing(
        collector: Any, kubectl: Kubectl, kube_emulator: Any, component_registry: FakeComponentRegistry) -> None:
    collector(component_registry.url)
    kubectl.apply(v1beta3("first"))
    until(lambda: registered(component_registry, "first"), "first")
    kube_emulator.expire_history()  # the watches' resourceVersion is now too old: 410, relist
    kubectl.apply(v1beta3("second"))
    kubectl("delete", "components.oda.tmforum.org", "first", "-n", "shop")
    until(lambda: registered(component_registry, "second") and registered(component_registry, "first") is None,
          "second created and first removed after the relist")


def test_a_429_with_retry_after_delays_the_sync_and_then_it_lands(
        collector: Any, kubectl: Kubectl, component_registry: FakeComponentRegistry) -> None:
    runtime = collector(component_registry.url)
    rec = reconciler(runtime)
    until(lambda: rec.full_syncs >= 1, "the first full sync")
    component_registry.fail(429, times=4, retry_after=0.3, text="Too Many Requests")
    kubectl.apply(v1beta3("throttled"))
    until(lambda: registered(component_registry, "throttled"), "the component once the registry lets it in")
    # the component row lands first; its three APIs follow within the same (requeued) sync
    until(lambda: len(component_registry.apis_of("throttled", REGISTRY)) == 3, "its three APIs")
    assert sum(n for (_op, outcome), n in rec.registry.calls.items() if outcome == "throttled") == 4
    assert runtime.metrics.sample("workqueue_retries_total", {"name": NAME})  # retried after the Retry-After


def test_watching_every_namespace_files_components_as_namespace_slash_name(
        collector: Any, kubectl: Kubectl, component_registry: FakeComponentRegistry) -> None:
    collector(component_registry.url, namespace="")
    kubectl.apply(v1beta3("prodcat", namespace="a"))
    kubectl.apply(v1beta3("prodcat", namespace="b"))
    until(lambda: registered(component_registry, "a/prodcat") and registered(component_registry, "b/prodcat"),
          "one entry per namespace")
    until(lambda: len(component_registry.apis_of("b/prodcat", REGISTRY)) == 3, "b/prodcat's APIs")
    kubectl("delete", "components.oda.tmforum.org", "prodcat", "-n", "a")
    until(lambda: registered(component_registry, "a/prodcat") is None, "a/prodcat removed")
    assert registered(component_registry, "b/prodcat") is not None
    assert len(component_registry.apis_of("b/prodcat", REGISTRY)) == 3 and not component_registry.apis_of("a/prodcat")

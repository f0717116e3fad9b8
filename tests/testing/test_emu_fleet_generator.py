"""The fleet generator: deterministic, schema-complete objects in every triage-relevant state."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from kubernetes import client

from nautilus_core.testing import POD_STATES, SYSTEM_NAMESPACES, FleetSpec, KubeEmulator, generate, populate
from nautilus_core.testing.fleet import NODE_STATES, SERVICE_TYPES


def kubectl_status(pod: client.V1Pod) -> str:
    """The STATUS column of ``kubectl get pods`` (printPod), for the cases the generator produces."""
    status = pod.status
    reason = status.reason or status.phase
    initializing = False
    init_statuses = status.init_container_statuses or []
    for i, container in enumerate(init_statuses):
        state = container.state
        if state.terminated is not None and state.terminated.exit_code == 0:
            continue
        if state.terminated is not None:
            reason = f"Init:{state.terminated.reason or f'ExitCode:{state.terminated.exit_code}'}"
        elif state.waiting is not None and state.waiting.reason and state.waiting.reason != "PodInitializing":
            reason = f"Init:{state.waiting.reason}"
        else:
            reason = f"Init:{i}/{len(pod.spec.init_containers or [])}"
        initializing = True
        break
    if not initializing:
        has_running = False
        for container in reversed(status.container_statuses or []):
            state = container.state
            if state.waiting is not None and state.waiting.reason:
                reason = state.waiting.reason
            elif state.terminated is not None and state.terminated.reason:
                reason = state.terminated.reason
            elif state.running is not None and container.ready:
                has_running = True
        if reason == "Completed" and has_running:
            reason = "Running"
    if pod.metadata.deletion_timestamp is not None and status.phase not in ("Succeeded", "Failed"):
        reason = "Terminating"
    return reason


@pytest.fixture(scope="module")
def fleet() -> tuple[KubeEmulator, object]:
    with KubeEmulator() as emu:
        summary = populate(emu, FleetSpec(namespaces=3, pods_per_namespace=40, nodes=8, services=10, seed=7))
        yield emu, summary


def test_typed_client_parses_every_generated_object(fleet, client_factory, tmp_path) -> None:
    emu, summary = fleet
    api = client_factory(emu.write_kubeconfig(tmp_path / "kc"))
    core, apps = client.CoreV1Api(api), client.AppsV1Api(api)
    pods = core.list_pod_for_all_namespaces()
    assert len(pods.items) == 120 == len(summary.pods)
    for namespace in summary.namespaces:
        assert core.list_namespaced_pod(namespace).items  # typed per-namespace lists validate too
    assert len(core.list_node().items) == 8
    assert len(core.list_service_for_all_namespaces().items) == 10
    assert core.list_event_for_all_namespaces().items
    assert (
        apps.list_deployment_for_all_namespaces().items or apps.list_stateful_set_for_all_namespaces().items
    )
    assert len(core.list_namespace().items) == 3 + len(SYSTEM_NAMESPACES)  # and default, kube-system, ...


def test_every_pod_state_is_covered_and_prints_the_expected_kubectl_status(
    fleet, client_factory, tmp_path
) -> None:
    emu, summary = fleet
    assert set(summary.pods.values()) == set(POD_STATES)
    core = client.CoreV1Api(client_factory(emu.write_kubeconfig(tmp_path / "kc")))
    for pod in core.list_pod_for_all_namespaces().items:
        key = (pod.metadata.namespace, pod.metadata.name)
        assert kubectl_status(pod) == summary.expected_status(*key), (key, summary.pods[key])


def test_state_details_a_triage_tool_relies_on(fleet) -> None:
    emu, summary = fleet

    def one(state: str) -> dict:
        namespace, name = summary.pods_in(state)[0]
        return emu.get("v1", "Pod", name, namespace)

    now = datetime.now(UTC)

    def age(pod: dict) -> float:
        created = datetime.strptime(pod["metadata"]["creationTimestamp"], "%Y-%m-%dT%H:%M:%SZ").replace(
            tzinfo=UTC
        )
        return (now - created).total_seconds()

    unready = one("running-unready")["status"]
    assert unready["phase"] == "Running" and unready["containerStatuses"][0]["ready"] is False
    crash = one("crashloop")["status"]["containerStatuses"][0]
    assert crash["restartCount"] > 0 and crash["lastState"]["terminated"]["reason"] == "Error"
    oom = one("oomkilled")["status"]["containerStatuses"][0]
    assert oom["state"]["waiting"]["reason"] == "CrashLoopBackOff"
    assert oom["lastState"]["terminated"]["reason"] == "OOMKilled"
    assert age(one("creating")) < 60 and age(one("creating-stuck")) > 20 * 60
    pending = one("unschedulable")
    scheduled = pending["status"]["conditions"][0]
    assert (scheduled["type"], scheduled["status"], scheduled["reason"]) == (
        "PodScheduled",
        "False",
        "Unschedulable",
    )
    assert (
        scheduled["message"].startswith("0/8 nodes are available")
        and "Insufficient memory" in scheduled["message"]
    )
    assert "nodeName" not in pending["spec"]
    assert one("evicted")["status"]["reason"] == "Evicted"
    assert one("completed")["metadata"]["ownerReferences"][0]["kind"] == "Job"
    owners = {
        emu.get("v1", "Pod", n, ns)["metadata"]["ownerReferences"][0]["kind"]
        for ns, n in summary.pods_in("running")
    }
    assert owners == {"ReplicaSet", "StatefulSet"}


def test_nodes_services_and_namespaces(fleet) -> None:
    emu, summary = fleet
    assert sorted(summary.nodes.values()) == sorted(["Ready", "Ready", *NODE_STATES[1:], "Ready"][:8])
    for node in emu.list("v1", "Node"):
        state = summary.nodes[node["metadata"]["name"]]
        conditions = {c["type"]: c["status"] for c in node["status"]["conditions"]}
        assert conditions["Ready"] == ("Unknown" if state == "NotReady" else "True")
        for pressure in ("MemoryPressure", "DiskPressure", "PIDPressure"):
            assert conditions[pressure] == ("True" if state == pressure else "False")
        assert node["spec"].get("unschedulable", False) == (state == "Unschedulable")
        assert {"topology.kubernetes.io/zone", "node.kubernetes.io/instance-type"} <= set(
            node["metadata"]["labels"]
        )
        assert node["status"]["nodeInfo"]["kubeletVersion"] == "v1.30.2"
        assert node["status"]["allocatable"]["pods"] == "110"
    assert set(summary.services.values()) == set(SERVICE_TYPES)
    ingress = [
        svc["status"]["loadBalancer"]["ingress"][0]
        for svc in emu.list("v1", "Service")
        if svc["spec"]["type"] == "LoadBalancer"
    ]
    assert ingress and all("ip" in entry or "hostname" in entry for entry in ingress)
    headless = [svc for svc in emu.list("v1", "Service") if svc["spec"].get("clusterIP") == "None"]
    assert headless
    phases = {
        ns["metadata"]["name"]: ns["status"]["phase"]
        for ns in emu.list("v1", "Namespace")
        if ns["metadata"]["name"] not in SYSTEM_NAMESPACES
    }
    assert phases[summary.terminating_namespace] == "Terminating"
    assert list(phases.values()).count("Active") == 2


def test_logs_have_levels_and_stack_traces_for_failing_pods(fleet, client_factory, tmp_path) -> None:
    emu, summary = fleet
    core = client.CoreV1Api(client_factory(emu.write_kubeconfig(tmp_path / "kc")))
    namespace, name = summary.pods_in("crashloop")[0]
    container = emu.get("v1", "Pod", name, namespace)["spec"]["containers"][0]["name"]
    previous = core.read_namespaced_pod_log(name, namespace, container=container, previous=True)
    assert "ERROR" in previous.upper() and (
        "Traceback (most recent call last)" in previous or "Exception in thread" in previous
    )
    assert len(previous.splitlines()) > 5
    namespace, name = summary.pods_in("running")[0]
    container = emu.get("v1", "Pod", name, namespace)["spec"]["containers"][0]["name"]
    text = core.read_namespaced_pod_log(name, namespace, container=container)
    assert "info" in text.lower() and "Traceback" not in text


def test_same_seed_same_objects_other_seed_other_objects() -> None:
    spec = FleetSpec(namespaces=2, pods_per_namespace=15, seed=3)
    first, first_logs, _ = generate(spec, now=1_700_000_000)
    again, again_logs, _ = generate(spec, now=1_700_000_000)
    other, _, _ = generate(FleetSpec(namespaces=2, pods_per_namespace=15, seed=4), now=1_700_000_000)
    assert first == again and first_logs == again_logs
    assert first != other


def test_state_weights_control_the_mix() -> None:
    spec = FleetSpec(
        namespaces=1, pods_per_namespace=30, cover_all_states=False, state_weights={"crashloop": 1}
    )
    _, _, summary = generate(spec)
    assert set(summary.pods.values()) == {"crashloop"}
    with pytest.raises(ValueError, match="unknown pod states"):
        generate(FleetSpec(state_weights={"sleepy": 1}))

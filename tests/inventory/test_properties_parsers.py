"""Property-based: the namespace/pod/node/service parsers fed random malformed objects (wrong types,
nulls, missing keys, huge strings, NUL bytes) never raise, never drop a well-formed sibling, account
for every object exactly once, and hand the database only values it can store."""

from __future__ import annotations

import dataclasses
from collections import Counter
from typing import Any

from hypothesis import given
from hypothesis import strategies as st
from inv_helpers import property_settings

from nautilus_core.inventory import parse
from nautilus_core.podstatus import pod_status

NAMES = st.from_regex(r"[a-z][a-z0-9-]{0,12}", fullmatch=True)
HOSTILE_TEXT = st.one_of(st.text(max_size=20), st.just("nul\x00byte"), st.just("\x00"), st.just("x" * 9000),
                         st.just(""))
SCALARS = st.one_of(st.none(), st.booleans(), st.integers(), st.integers(min_value=2**63),
                    st.floats(allow_nan=True), HOSTILE_TEXT)
JSON = st.recursive(SCALARS, lambda inner: st.one_of(st.lists(inner, max_size=4),
                                                      st.dictionaries(HOSTILE_TEXT, inner, max_size=4)),
                    max_leaves=12)
#: The values that break parsers most often, drawn as often as everything else together.
NASTY = st.sampled_from([None, 0, 5, -1, True, 1.5, "", "nul\x00byte", "x" * 9000, [], {}, ["a"], {"a": None},
                         {"nul\x00key": "v"}, {"k": "nul\x00value"}, [{"k": 5}]])
VALUES = st.one_of(NASTY, JSON)

FIELDS = {
    "namespace": ["metadata", "metadata.name", "metadata.labels", "metadata.labels.team", "metadata.creationTimestamp",
                  "status", "status.phase"],
    "node": ["metadata", "metadata.name", "metadata.labels", "status", "status.conditions", "status.conditions.0",
             "status.conditions.0.status", "status.capacity", "status.capacity.cpu", "status.nodeInfo",
             "status.nodeInfo.kubeletVersion", "spec", "spec.unschedulable"],
    "service": ["metadata", "metadata.name", "metadata.namespace", "metadata.labels", "metadata.labels.app",
                "spec", "spec.type",
                "spec.ports", "spec.ports.0", "spec.ports.0.port", "spec.clusterIP", "spec.externalIPs", "status",
                "status.loadBalancer", "status.loadBalancer.ingress", "status.loadBalancer.ingress.0.ip"],
    "pod": ["metadata", "metadata.namespace", "metadata.deletionTimestamp", "spec", "spec.containers",
            "spec.initContainers", "spec.initContainers.0.name", "status", "status.phase", "status.reason",
            "status.conditions", "status.containerStatuses", "status.containerStatuses.0",
            "status.containerStatuses.0.restartCount", "status.containerStatuses.0.state",
            "status.containerStatuses.0.state.waiting", "status.containerStatuses.0.state.waiting.reason",
            "status.containerStatuses.0.state.terminated", "status.initContainerStatuses"],
}


def namespace(name: str) -> dict[str, Any]:
    return {"metadata": {"name": name, "labels": {"team": "a"}, "creationTimestamp": "2026-01-01T00:00:00Z"},
            "status": {"phase": "Active"}}


def node(name: str) -> dict[str, Any]:
    return {"metadata": {"name": name, "labels": {"topology.kubernetes.io/zone": "z1"}},
            "spec": {"unschedulable": False},
            "status": {"conditions": [{"type": "Ready", "status": "True"}], "capacity": {"cpu": "4"},
                       "nodeInfo": {"kubeletVersion": "v1.30.0"}}}


def service(name: str, ns: str = "default") -> dict[str, Any]:
    return {"metadata": {"name": name, "namespace": ns, "labels": {"app": name}},
            "spec": {"type": "ClusterIP", "clusterIP": "10.0.0.1", "ports": [{"name": "http", "port": 80}]},
            "status": {"loadBalancer": {"ingress": [{"ip": "1.2.3.4"}]}}}


def pod(name: str, ns: str, state: str = "running") -> dict[str, Any]:
    states = {"running": {"running": {}}, "waiting": {"waiting": {"reason": "CrashLoopBackOff"}},
              "done": {"terminated": {"exitCode": 0, "reason": "Completed"}}}
    return {"metadata": {"name": name, "namespace": ns}, "spec": {"containers": [{"name": "c"}]},
            "status": {"phase": "Running", "containerStatuses": [
                {"name": "c", "ready": state == "running", "restartCount": 1, "state": states[state]}]}}


BUILDERS = {"namespace": namespace, "node": node, "service": service}


def _set(obj: Any, path: str, value: Any, delete: bool) -> Any:
    """``obj`` with the value at ``path`` replaced (or deleted); missing intermediate parts are skipped."""
    keys = path.split(".")
    target = obj
    for key in keys[:-1]:
        if isinstance(target, dict) and key in target:
            target = target[key]
        elif isinstance(target, list) and key.isdigit() and int(key) < len(target):
            target = target[int(key)]
        else:
            return obj
    last = keys[-1]
    if isinstance(target, dict):
        if delete:
            target.pop(last, None)
        else:
            target[last] = value
    elif isinstance(target, list) and last.isdigit() and int(last) < len(target):
        target[int(last)] = value
    return obj


@st.composite
def malformed(draw: Any, kind: str, base: dict[str, Any]) -> Any:
    if draw(st.integers(0, 9)) == 0:
        return draw(JSON)                                   # not an object at all, or anything
    for _ in range(draw(st.integers(1, 3))):
        base = _set(base, draw(st.sampled_from(FIELDS[kind])), draw(VALUES), draw(st.integers(0, 4)) == 0)
    return base


def _clean_values(value: Any) -> bool:
    """Only values every backend stores: no NUL anywhere, JSON-able keys and scalars."""
    if isinstance(value, str):
        return "\x00" not in value
    if isinstance(value, dict):
        return all(isinstance(k, str) and _clean_values(k) and _clean_values(v) for k, v in value.items())
    if isinstance(value, list | tuple):
        return all(_clean_values(v) for v in value)
    return value is None or isinstance(value, bool | int | float)


SKIP = (":missing-", ":invalid-", ":not-an-object")


def _skipped(problems: parse.Problems, kind: str) -> int:
    return sum(n for label, n in problems.counts.items()
               if label.startswith(f"{kind}:") and (any(s in label for s in SKIP) or label == f"{kind}:malformed"))


def _check_facts(facts: Any, typed: dict[str, type | tuple[type, ...]]) -> None:
    row = dataclasses.asdict(facts)
    assert _clean_values(row)
    assert isinstance(row["name"], str) and 0 < len(row["name"]) <= parse.MAX_NAME
    for name, kind in typed.items():
        assert row[name] is None or isinstance(row[name], kind), (name, row[name])


TEXT_FIELDS = {"node": {"kubelet_version": str, "instance_type": str, "zone": str, "ready": bool},
               "service": {"type": str, "cluster_ip": str, "external_address": str, "namespace": str},
               "namespace": {"phase": str, "created_at": str}}


@property_settings()
@given(data=st.data(), kind=st.sampled_from(["node", "service"]))
def test_node_and_service_parsers_keep_every_good_object(data, kind):
    good_names = data.draw(st.lists(NAMES, min_size=1, max_size=4, unique=True))
    bad = [data.draw(malformed(kind, BUILDERS[kind](f"bad-{i}"))) for i in range(data.draw(st.integers(0, 6)))]
    items = [BUILDERS[kind](n) for n in good_names] + bad
    order = data.draw(st.permutations(range(len(items))))
    fn = parse.node if kind == "node" else parse.service
    problems = parse.Problems()
    out = parse.collect([items[i] for i in order], kind, fn, problems)

    alone = {n: parse.collect([BUILDERS[kind](n)], kind, fn, parse.Problems())[0] for n in good_names}
    by_name = {f.name: f for f in out if f.name in alone}
    assert by_name == alone                                  # every good sibling, exactly as parsed alone
    assert len(out) + _skipped(problems, kind) == len(items)  # each object kept or counted as skipped
    for facts in out:
        _check_facts(facts, TEXT_FIELDS[kind])


@property_settings()
@given(data=st.data())
def test_namespace_parser_keeps_every_namespace_and_accounts_for_every_pod(data):
    ns_names = data.draw(st.lists(NAMES, min_size=1, max_size=3, unique=True))
    good_pods = [pod(f"p{i}", data.draw(st.sampled_from(ns_names)), data.draw(st.sampled_from(["running", "waiting",
                                                                                                 "done"])))
                 for i in range(data.draw(st.integers(0, 6)))]
    bad_pods = [data.draw(malformed("pod", pod(f"bad-{i}", data.draw(st.sampled_from(ns_names)))))
                for i in range(data.draw(st.integers(0, 6)))]
    bad_ns = [data.draw(malformed("namespace", namespace(f"bad-ns-{i}"))) for i in range(data.draw(st.integers(0, 3)))]
    pods = good_pods + bad_pods
    pods = [pods[i] for i in data.draw(st.permutations(range(len(pods))))]
    spaces = [namespace(n) for n in ns_names] + bad_ns
    spaces = [spaces[i] for i in data.draw(st.permutations(range(len(spaces))))]

    problems = parse.Problems()
    out = parse.namespaces(spaces, pods, problems)

    found = {n.name: n for n in out}
    expected = Counter()
    for p in good_pods:
        expected[(p["metadata"]["namespace"], pod_status(p).status)] += 1
    for name in ns_names:
        assert name in found                                  # never hidden by a malformed pod
        assert found[name].labels == {"team": "a"} and found[name].phase == "Active"
        for (ns, status), count in expected.items():
            if ns == name:
                assert found[name].pod_counts.get(status, 0) >= count   # good pods always counted
    counted = sum(sum(n.pod_counts.values()) for n in out)
    pod_problems = sum(c for label, c in problems.counts.items() if label.startswith("pod:"))
    assert counted + pod_problems == len(pods)                # every pod counted or named as a problem once
    for facts in out:
        _check_facts(facts, TEXT_FIELDS["namespace"])
        assert all(isinstance(k, str) and isinstance(v, int) for k, v in facts.pod_counts.items())

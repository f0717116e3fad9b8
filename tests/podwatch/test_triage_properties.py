"""Property-based triage: random malformed pods (and Events) raise only ``MalformedPod``, never another
exception; every verdict is self-consistent; a failing pod always sorts above a degraded, initializing,
healthy or completed one, whatever its restarts, ages and Events."""

from __future__ import annotations

import copy
from typing import Any

from hypothesis import given
from hypothesis import strategies as st
from triage_helpers import (
    NOW,
    condition,
    cstatus,
    event,
    fleet,
    pod,
    property_settings,
    running,
    terminated,
    waiting,
)

from nautilus_core.db.models.podwatch import Health
from nautilus_core.podwatch.triage import RANK, MalformedPod, Verdict, attention_key, triage

FLEET_PODS, FLEET_EVENTS, _ = fleet(seed=11, pods_per_namespace=20)

HOSTILE_TEXT = st.one_of(st.text(max_size=12), st.sampled_from(["", "nul\x00byte", "x" * 5000, "2026-13-45T99:99Z",
                                                                "9999-12-31T23:59:59Z", "0001-01-01T00:00:00Z",
                                                                "2026-06-01T12:00:00+14:00"]))
SCALARS = st.one_of(st.none(), st.booleans(), st.integers(), st.integers(min_value=2**63), st.floats(),
                    HOSTILE_TEXT)
JSON = st.recursive(SCALARS, lambda inner: st.one_of(st.lists(inner, max_size=3),
                                                      st.dictionaries(HOSTILE_TEXT, inner, max_size=3)),
                    max_leaves=10)
NASTY = st.sampled_from([None, 0, -1, 10**12, True, 1.5, "", "nul\x00byte", [], {}, ["a"], {"a": None},
                         [{"k": 5}], "Running", "CrashLoopBackOff", {"waiting": {"reason": 5}},
                         {"terminated": {"exitCode": "1"}}, "2026-06-01T11:00:00Z"])
VALUES = st.one_of(NASTY, JSON)


def paths(obj: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    out = [prefix] if prefix else []
    if isinstance(obj, dict):
        for key, value in obj.items():
            out += paths(value, (*prefix, key))
    elif isinstance(obj, list):
        for index, value in enumerate(obj):
            out += paths(value, (*prefix, index))
    return out


@st.composite
def malformed_pods(draw: st.DrawFn) -> dict[str, Any]:
    body = copy.deepcopy(draw(st.sampled_from(FLEET_PODS)))
    candidates = paths(body)
    for path in draw(st.lists(st.sampled_from(candidates), min_size=1, max_size=4)):
        target: Any = body
        try:
            for part in path[:-1]:
                target = target[part]
            if draw(st.booleans()) or not isinstance(target, dict):
                target[path[-1]] = draw(VALUES)
            else:
                del target[path[-1]]
        except (KeyError, IndexError, TypeError):
            continue  # an earlier mutation replaced a parent
    return body


def consistent(verdict: Verdict) -> None:
    assert 0 <= verdict.attention < 2**31
    assert verdict.restarts_text.split(" ")[0] == str(verdict.restarts)
    if verdict.issues:
        assert verdict.top == verdict.issues[0]
        assert verdict.top.severity == max(i.severity for i in verdict.issues)
    else:
        assert verdict.top is None
    assert isinstance(verdict.health, Health)


@property_settings()
@given(malformed_pods(), st.lists(st.one_of(VALUES, st.just(event("x", "FailedMount", "m"))), max_size=3))
def test_malformed_pods_raise_only_malformed_pod(body: dict[str, Any], events: list[Any]) -> None:
    try:
        verdict = triage(body, events, now=NOW)
    except MalformedPod as bad:
        assert bad.field and "\n" not in bad.field
        return
    consistent(verdict)


@property_settings()
@given(st.one_of(VALUES, st.dictionaries(st.sampled_from(["metadata", "spec", "status", "kind"]), VALUES)))
def test_random_json_is_a_verdict_or_malformed_pod(body: Any) -> None:
    try:
        verdict = triage(body, now=NOW)
    except MalformedPod:
        return
    consistent(verdict)


# -- well-formed pods in random states at random times ------------------------------------------------------------

SECONDS = st.integers(min_value=0, max_value=40 * 86_400)
RESTARTS = st.integers(min_value=0, max_value=5000)
REASONS = st.sampled_from(["OOMKilled", "Error", "Completed", "ContainerStatusUnknown"])
WAITING = st.sampled_from(["CrashLoopBackOff", "ImagePullBackOff", "ErrImagePull", "CreateContainerConfigError",
                           "InvalidImageName", "ContainerCreating", "PodInitializing", "SomethingNew"])
EVENTS = st.lists(st.builds(lambda reason, seconds: event("api-7d9f8b6c5d-x2x7k", reason, f"{reason} happened",
                                                         seconds_ago=seconds),
                            st.sampled_from(["FailedMount", "FailedScheduling", "Unhealthy", "BackOff", "Failed",
                                             "Evicted", "OOMKilling"]), SECONDS), max_size=3)


def ready_conditions(ok: bool) -> list[dict[str, Any]]:
    return [condition("Initialized", True, 3600), condition("Ready", ok, 3600),
            condition("ContainersReady", ok, 3600), condition("PodScheduled", True, 3600)]


@st.composite
def random_pods(draw: st.DrawFn) -> dict[str, Any]:
    age = draw(SECONDS)
    restarts = draw(RESTARTS)
    last = terminated(draw(st.sampled_from([0, 1, 2, 137, 143])), draw(REASONS), draw(SECONDS)) \
        if restarts and draw(st.booleans()) else None
    kind = draw(st.sampled_from(["running", "waiting", "terminated", "unschedulable", "succeeded", "evicted",
                                 "deleting"]))
    if kind in ("running", "deleting"):
        ready = draw(st.booleans())
        return pod(age=age, conditions=ready_conditions(ready), deletion_ago=draw(SECONDS) if kind == "deleting"
                   else None, statuses=[cstatus("api", running(draw(SECONDS)), ready=ready, restarts=restarts,
                                                last=last)])
    if kind == "waiting":
        return pod(phase=draw(st.sampled_from(["Pending", "Running"])), age=age, conditions=ready_conditions(False),
                   statuses=[cstatus("api", waiting(draw(WAITING), "why"), restarts=restarts, last=last)])
    if kind == "terminated":
        return pod(phase=draw(st.sampled_from(["Running", "Failed"])), age=age, conditions=ready_conditions(False),
                   statuses=[cstatus("api", terminated(draw(st.integers(0, 255)), draw(REASONS), draw(SECONDS)),
                                     restarts=restarts, last=last)])
    if kind == "unschedulable":
        return pod(phase="Pending", age=age, node=None, conditions=[
            condition("PodScheduled", False, draw(SECONDS), "Unschedulable", "0/3 nodes are available")])
    if kind == "succeeded":
        return pod(phase="Succeeded", age=age, restart_policy="Never",
                   statuses=[cstatus("api", terminated(0, "Completed", draw(SECONDS)))])
    return pod(phase="Failed", age=age, reason="Evicted", message="The node was low on resource: memory.")


@property_settings()
@given(st.lists(st.tuples(random_pods(), EVENTS), min_size=2, max_size=8))
def test_failing_always_sorts_above_the_other_buckets(drawn: list[tuple[dict[str, Any], list[Any]]]) -> None:
    verdicts = [triage(body, events, now=NOW) for body, events in drawn]
    for verdict in verdicts:
        consistent(verdict)
    for a in verdicts:
        for b in verdicts:
            if RANK[a.health] > RANK[b.health]:
                assert a.attention > b.attention, (a.health, a.top, b.health, b.top)
    ordered = sorted(verdicts, key=attention_key)
    ranks = [RANK[v.health] for v in ordered]
    assert ranks == sorted(ranks, reverse=True)
    failing = [v for v in ordered if v.health is Health.FAILING]
    assert ordered[:len(failing)] == failing

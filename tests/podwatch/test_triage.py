"""Pod triage from realistic pod JSON: every bucket, both sides of every time threshold, kubectl's
RESTARTS with the age of the last restart, the top issue with its hint, Warning Events as evidence and the
attention order; the fleet generator's pods in every state."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from triage_helpers import (
    NOW,
    ago,
    condition,
    cstatus,
    event,
    fleet,
    pod,
    running,
    terminated,
    waiting,
)

from nautilus_core.db.models.podwatch import Health
from nautilus_core.podstatus import human_duration
from nautilus_core.podwatch.triage import MalformedPod, TriageOptions, attention_key, triage
from nautilus_core.testing import KubeEmulator
from nautilus_core.testing.fleet import FleetSpec, populate

FAILING, DEGRADED, INITIALIZING, HEALTHY, COMPLETED = (Health.FAILING, Health.DEGRADED, Health.INITIALIZING,
                                                       Health.HEALTHY, Health.COMPLETED)


def ready_conditions(ok: bool, seconds_ago: float = 600, message: str | None = None) -> list[dict[str, Any]]:
    msg = None if ok else (message or "containers with unready status: [api]")
    return [condition("Initialized", True, seconds_ago), condition("Ready", ok, seconds_ago,
                                                                    None if ok else "ContainersNotReady", msg),
            condition("ContainersReady", ok, seconds_ago, None if ok else "ContainersNotReady", msg),
            condition("PodScheduled", True, seconds_ago)]


def creating(scheduled_ago: float, age: float | None = None) -> dict[str, Any]:
    return pod(phase="Pending", age=age if age is not None else scheduled_ago + 1,
               conditions=[condition("PodScheduled", True, scheduled_ago)],
               statuses=[cstatus("api", waiting("ContainerCreating"))])


def unschedulable(seconds_ago: float) -> dict[str, Any]:
    message = "0/6 nodes are available: 6 Insufficient memory. preemption: 0/6 nodes are available."
    return pod(phase="Pending", age=seconds_ago, node=None,
               conditions=[condition("PodScheduled", False, seconds_ago, "Unschedulable", message)])


def unready(started_ago: float) -> dict[str, Any]:
    return pod(conditions=ready_conditions(False),
               statuses=[cstatus("api", running(started_ago), ready=False, started=True)])


def init_running(started_ago: float) -> dict[str, Any]:
    return pod(phase="Pending", age=started_ago + 2, start_ago=started_ago, init=("migrate", "wait-for-db"),
               conditions=[condition("Initialized", False, started_ago, "ContainersNotInitialized"),
                           condition("PodScheduled", True, started_ago)],
               init_statuses=[cstatus("migrate", terminated(0, "Completed", started_ago - 5), image="busybox:1.36"),
                              cstatus("wait-for-db", running(started_ago - 5), image="busybox:1.36")],
               statuses=[cstatus("api", waiting("PodInitializing"))])


def pod_initializing(initialized_ago: float) -> dict[str, Any]:
    return pod(phase="Pending", age=initialized_ago + 3600, init=("migrate",),
               conditions=[condition("Initialized", True, initialized_ago), condition("PodScheduled", True, 3600)],
               init_statuses=[cstatus("migrate", terminated(0, "Completed", initialized_ago), image="busybox:1.36")],
               statuses=[cstatus("api", waiting("PodInitializing"))])


def terminating(deletion_ago: float, grace: int | None = 30) -> dict[str, Any]:
    return pod(deletion_ago=deletion_ago, grace=grace, conditions=ready_conditions(True),
               statuses=[cstatus("api", running(7200), ready=True)])


def restarted(finished_ago: float, reason: str = "OOMKilled", code: int = 137) -> dict[str, Any]:
    return pod(conditions=ready_conditions(True),
               statuses=[cstatus("api", running(finished_ago - 1), ready=True, restarts=1,
                                 last=terminated(code, reason, finished_ago))])


CRASH_MESSAGE = "back-off 5m0s restarting failed container=api pod=api-7d9f8b6c5d-x2x7k"

# (id, pod, events, options, health, STATUS, top reason, top container, words in the top message)
CASES = [
    ("running-ready", pod(conditions=ready_conditions(True), statuses=[cstatus("api", running(3000), ready=True)]),
     [], None, HEALTHY, "Running", None, None, ()),
    ("creating-young", creating(20), [], None, INITIALIZING, "ContainerCreating", "ContainerCreating", None, ()),
    ("creating-just-under", creating(299), [], None, INITIALIZING, "ContainerCreating", "ContainerCreating", None,
     ()),
    ("creating-just-over", creating(301), [], None, DEGRADED, "ContainerCreating", "ContainerCreating", None,
     ("5m1s", "longer than 5m")),
    ("creating-stuck-hour", creating(3600), [], None, DEGRADED, "ContainerCreating", "ContainerCreating", None,
     ("60m",)),
    # measured from scheduling, not creation: unschedulable for an hour, scheduled 30 s ago
    ("creating-after-long-pending", creating(30, age=3600), [], None, INITIALIZING, "ContainerCreating",
     "ContainerCreating", None, ()),
    ("creating-custom-threshold", creating(90), [], TriageOptions(stuck_after=timedelta(minutes=1)), DEGRADED,
     "ContainerCreating", "ContainerCreating", None, ("longer than 60s",)),
    ("init-young", init_running(60), [], None, INITIALIZING, "Init:1/2", "Initializing", None,
     ("init container 2 of 2", "wait-for-db")),
    ("init-just-under", init_running(299), [], None, INITIALIZING, "Init:1/2", "Initializing", None, ()),
    ("init-just-over", init_running(301), [], None, DEGRADED, "Init:1/2", "Initializing", None, ("5m1s",)),
    ("init-stuck", init_running(400), [], None, DEGRADED, "Init:1/2", "Initializing", None, ("6m40s",)),
    ("pod-initializing-young", pod_initializing(299), [], None, INITIALIZING, "PodInitializing", "PodInitializing",
     None, ()),
    ("pod-initializing-stuck", pod_initializing(301), [], None, DEGRADED, "PodInitializing", "PodInitializing",
     None, ()),
    ("unschedulable-young", unschedulable(30), [], None, INITIALIZING, "Pending", "Unschedulable", None,
     ("0/6 nodes are available: 6 Insufficient memory",)),
    ("unschedulable-just-under", unschedulable(299), [], None, INITIALIZING, "Pending", "Unschedulable", None, ()),
    ("unschedulable-just-over", unschedulable(301), [], None, DEGRADED, "Pending", "Unschedulable", None, ()),
    ("unschedulable-stuck", unschedulable(1800), [], None, DEGRADED, "Pending", "Unschedulable", None,
     ("Insufficient memory", "30m")),
    ("unready-young", unready(10), [], None, INITIALIZING, "Running", "NotReady", "api", ()),
    ("unready-just-young", unready(29), [], None, INITIALIZING, "Running", "NotReady", "api", ()),
    ("unready", unready(31), [], None, DEGRADED, "Running", "NotReady", "api",
     ("containers with unready status: [api]",)),
    ("unready-probe-event", unready(3000), [event("api-7d9f8b6c5d-x2x7k", "Unhealthy",
                                                  "Readiness probe failed: HTTP probe failed with statuscode: 503")],
     None, DEGRADED, "Running", "Unhealthy", "api", ("statuscode: 503",)),
    ("crashloop-oomkilled", pod(conditions=ready_conditions(False), statuses=[
        cstatus("api", waiting("CrashLoopBackOff", CRASH_MESSAGE), restarts=7,
                last=terminated(137, "OOMKilled", 90))]),
     [], None, FAILING, "CrashLoopBackOff", "OOMKilled", "api", ("OOMKilled 90s ago", "exit code 137",
                                                                  "CrashLoopBackOff")),
    ("crashloop-error", pod(conditions=ready_conditions(False), statuses=[
        cstatus("api", waiting("CrashLoopBackOff", CRASH_MESSAGE), restarts=12, last=terminated(1, "Error", 40))]),
     [], None, FAILING, "CrashLoopBackOff", "CrashLoopBackOff", "api", ("back-off 5m0s", "exit code 1")),
    ("image-pull-backoff", pod(phase="Pending", conditions=ready_conditions(False), statuses=[
        cstatus("api", waiting("ImagePullBackOff", 'Back-off pulling image "registry.example.com/shop/api:9.9"'))]),
     [], None, FAILING, "ImagePullBackOff", "ImagePullBackOff", "api", ("Back-off pulling image",)),
    ("err-image-pull", pod(phase="Pending", conditions=ready_conditions(False), statuses=[
        cstatus("api", waiting("ErrImagePull", "rpc error: code = NotFound desc = failed to pull and unpack image"))]),
     [], None, FAILING, "ErrImagePull", "ErrImagePull", "api", ("NotFound",)),
    ("config-error", pod(phase="Pending", conditions=ready_conditions(False), statuses=[
        cstatus("api", waiting("CreateContainerConfigError", 'secret "db-credentials" not found'))]),
     [], None, FAILING, "CreateContainerConfigError", "CreateContainerConfigError", "api", ("db-credentials",)),
    ("invalid-image", pod(phase="Pending", conditions=ready_conditions(False), statuses=[
        cstatus("api", waiting("InvalidImageName", 'Failed to apply default image tag "Shop/API": invalid'))]),
     [], None, FAILING, "InvalidImageName", "InvalidImageName", "api", ("Shop/API",)),
    ("init-error", pod(phase="Pending", init=("migrate",), conditions=[
        condition("Initialized", False, 300, "ContainersNotInitialized"), condition("PodScheduled", True, 300)],
        init_statuses=[cstatus("migrate", terminated(2, "Error", 20), restarts=3, image="busybox:1.36")],
        statuses=[cstatus("api", waiting("PodInitializing"))]),
     [], None, FAILING, "Init:Error", "Error", "migrate", ("exit code 2",)),
    ("job-failed", pod(phase="Failed", restart_policy="Never", conditions=ready_conditions(False), statuses=[
        cstatus("api", terminated(127, "Error", 300))]),
     [], None, FAILING, "Error", "Error", "api", ("exit code 127",)),
    ("completed", pod(phase="Succeeded", restart_policy="Never", conditions=ready_conditions(False), statuses=[
        cstatus("api", terminated(0, "Completed", 300))]),
     [], None, COMPLETED, "Completed", None, None, ()),
    ("evicted", pod(phase="Failed", reason="Evicted", message="The node was low on resource: memory.",
                    conditions=ready_conditions(False)),
     [], None, FAILING, "Evicted", "Evicted", None, ("low on resource: memory",)),
    ("node-lost", pod(reason="NodeLost", message="Node node-1 which was running pod is unresponsive",
                      deletion_ago=600, statuses=[cstatus("api", running(7200), ready=True)]),
     [], None, FAILING, "Unknown", "NodeLost", None, ("unresponsive",)),
    ("phase-unknown", pod(phase="Unknown", statuses=[cstatus("api", running(7200), ready=True)]),
     [], None, FAILING, "Unknown", "Unknown", None, ()),
    # deletionTimestamp is the time by which the pod should be gone; stuck once a grace period past it
    ("terminating-in-grace", terminating(20), [], None, HEALTHY, "Terminating", None, None, ()),
    ("terminating-just-in-grace", terminating(29), [], None, HEALTHY, "Terminating", None, None, ()),
    ("terminating-stuck", terminating(31), [], None, DEGRADED, "Terminating", "Terminating", None,
     ("31s ago", "(30s)")),
    ("terminating-spec-grace", terminating(100, grace=None), [], None, DEGRADED, "Terminating", "Terminating",
     None, ()),
    ("restarted-recently", restarted(180), [], None, DEGRADED, "Running", "OOMKilled", "api",
     ("restarted 3m ago", "exit code 137")),
    ("restarted-just-recently", restarted(599), [], None, DEGRADED, "Running", "OOMKilled", "api", ()),
    ("restarted-just-too-long-ago", restarted(601), [], None, HEALTHY, "Running", None, None, ()),
    ("restarted-long-ago", restarted(11 * 60), [], None, HEALTHY, "Running", None, None, ()),
    ("restarted-cleanly", restarted(60, "Completed", 0), [], None, HEALTHY, "Running", None, None, ()),
    # a pod whose only signal is an Event gets it as its top issue
    ("creating-with-failed-mount", creating(20), [event(
        "api-7d9f8b6c5d-x2x7k", "FailedMount",
        'MountVolume.SetUp failed for volume "config" : configmap "api-config" not found')],
     None, INITIALIZING, "ContainerCreating", "FailedMount", "api", ('configmap "api-config" not found',)),
    ("pending-with-failed-scheduling", pod(phase="Pending", age=20, node=None), [event(
        "api-7d9f8b6c5d-x2x7k", "FailedScheduling", "0/3 nodes are available: 3 node(s) had untolerated taint.",
        container=None)],
     None, INITIALIZING, "Pending", "FailedScheduling", None, ("untolerated taint",)),
    # Events from before a ready pod became ready (600 s ago) are history; later ones are shown
    ("ready-after-old-event", pod(conditions=ready_conditions(True), statuses=[
        cstatus("api", running(3000), ready=True)]), [event("api-7d9f8b6c5d-x2x7k", "FailedScheduling",
                                                            "0/3 nodes are available", seconds_ago=900)],
     None, HEALTHY, "Running", None, None, ()),
    ("ready-with-new-event", pod(conditions=ready_conditions(True), statuses=[
        cstatus("api", running(3000), ready=True)]), [event("api-7d9f8b6c5d-x2x7k", "Unhealthy",
                                                            "Liveness probe failed: timeout", seconds_ago=30)],
     None, HEALTHY, "Running", "Unhealthy", "api", ("Liveness probe failed",)),
    ("normal-events-ignored", pod(conditions=ready_conditions(True), statuses=[
        cstatus("api", running(3000), ready=True)]), [event("api-7d9f8b6c5d-x2x7k", "Pulled", "Image pulled",
                                                            kind="Normal")],
     None, HEALTHY, "Running", None, None, ()),
]


@pytest.mark.parametrize(("case", "body", "events", "options", "health", "status", "reason", "container",
                          "words"), CASES, ids=[c[0] for c in CASES])
def test_bucket_status_and_top_issue(case: str, body: dict[str, Any], events: list[dict[str, Any]],
                                     options: TriageOptions | None, health: Health, status: str,
                                     reason: str | None, container: str | None, words: tuple[str, ...]) -> None:
    verdict = triage(body, events, now=NOW, options=options or TriageOptions())
    assert (verdict.health, verdict.status) == (health, status)
    if reason is None:
        assert verdict.top is None
        return
    assert verdict.top is not None
    assert (verdict.top.reason, verdict.top.container) == (reason, container)
    for word in words:
        assert word in (verdict.top.message or ""), verdict.top.message


@pytest.mark.parametrize(("reason", "words"), [
    ("CrashLoopBackOff", "kubectl logs --previous"), ("OOMKilled", "limits.memory"),
    ("ImagePullBackOff", "imagePullSecrets"), ("ErrImagePull", "registry credentials"),
    ("CreateContainerConfigError", "ConfigMap or Secret"), ("InvalidImageName", "image reference"),
    ("Unschedulable", "scheduler's message"), ("FailedMount", "PersistentVolumeClaim"),
    ("NotReady", "readiness probe"), ("Unhealthy", "readiness probe"), ("Evicted", "node pressure"),
    ("Terminating", "finalizers"), ("ContainerCreating", "events"), ("Initializing", "kubectl logs -c"),
])
def test_well_known_reasons_carry_a_one_line_hint(reason: str, words: str) -> None:
    case = next(c for c in CASES if c[6] == reason)
    verdict = triage(case[1], case[2], now=NOW, options=case[3] or TriageOptions())
    assert verdict.top is not None and verdict.top.hint is not None
    assert words in verdict.top.hint and "\n" not in verdict.top.hint


@pytest.mark.parametrize(("code", "words"), [(1, "exit 1"), (127, "command not found"), (137, "SIGKILL"),
                                             (139, "segmentation fault"), (143, "SIGTERM")])
def test_error_exit_codes_are_explained(code: int, words: str) -> None:
    body = pod(phase="Failed", restart_policy="Never", statuses=[cstatus("api", terminated(code, "Error", 60))])
    top = triage(body, now=NOW).top
    assert top is not None and top.reason == "Error" and words in (top.hint or "")


def test_oomkilled_in_last_state_outranks_the_crashloop_kubectl_prints() -> None:
    body = next(c[1] for c in CASES if c[0] == "crashloop-oomkilled")
    verdict = triage(body, now=NOW)
    assert verdict.status == "CrashLoopBackOff"
    assert [i.reason for i in verdict.issues] == ["OOMKilled", "CrashLoopBackOff"]
    (api,) = verdict.containers
    assert (api.state, api.reason, api.last_reason, api.last_exit_code) == (
        "waiting", "CrashLoopBackOff", "OOMKilled", 137)


@pytest.mark.parametrize(("seconds", "text"), [
    (0, "0s"), (59, "59s"), (119, "119s"), (120, "2m"), (125, "2m5s"), (300, "5m"), (599, "9m59s"), (600, "10m"),
    (10_799, "179m"), (10_800, "3h"), (11_100, "3h5m"), (28_800, "8h"), (172_799, "47h"), (172_800, "2d"),
    (176_400, "2d1h"), (691_200, "8d"), (63_071_999, "729d"), (63_072_000, "2y"), (63_158_400, "2y1d"),
    (252_288_000, "8y"), (-1, "0s"), (-2, "<invalid>"),
])
def test_ages_read_like_kubectl(seconds: int, text: str) -> None:
    assert human_duration(seconds) == text


@pytest.mark.parametrize(("finished_ago", "restarts", "text"), [
    (300, 3, "3 (5m ago)"), (45, 1, "1 (45s ago)"), (4000, 12, "12 (66m ago)"), (90_000, 2, "2 (25h ago)"),
])
def test_restarts_column_carries_the_last_restart_age(finished_ago: int, restarts: int, text: str) -> None:
    body = pod(statuses=[cstatus("api", running(finished_ago - 1), ready=True, restarts=restarts,
                                 last=terminated(1, "Error", finished_ago))], conditions=ready_conditions(True))
    verdict = triage(body, now=NOW)
    assert (verdict.restarts, verdict.restarts_text) == (restarts, text)
    assert verdict.last_restart_at == NOW - timedelta(seconds=finished_ago)


def test_restart_age_counts_only_the_containers_kubectl_counts() -> None:
    """Initialized: the init container's old restarts no longer count (kubectl), neither its finish time."""
    body = pod(init=("migrate",), conditions=ready_conditions(True),
               init_statuses=[cstatus("migrate", terminated(0, "Completed", 3500), restarts=2,
                                      last=terminated(1, "Error", 60), image="busybox:1.36")],
               statuses=[cstatus("api", running(3400), ready=True, restarts=1, last=terminated(1, "Error", 3600)),
                         cstatus("sidecar", running(3400), ready=True)])
    verdict = triage(body, now=NOW)
    assert verdict.restarts_text == "1 (60m ago)"
    no_restarts = pod(conditions=ready_conditions(True), statuses=[cstatus("api", running(60), ready=True)])
    assert triage(no_restarts, now=NOW).restarts_text == "0"


def test_containers_are_the_rows_of_table_container() -> None:
    body = init_running(60)
    verdict = triage(body, now=NOW)
    rows = {(c.name, c.init): c for c in verdict.containers}
    assert set(rows) == {("migrate", True), ("wait-for-db", True), ("api", False)}
    assert (rows["migrate", True].state, rows["migrate", True].exit_code) == ("terminated", 0)
    assert rows["wait-for-db", True].started_at == NOW - timedelta(seconds=55)
    assert (rows["api", False].state, rows["api", False].reason) == ("waiting", "PodInitializing")
    assert rows["api", False].image == "registry.example.com/shop/api:1.4.2"
    assert (verdict.owner_kind, verdict.owner_name, verdict.node) == ("ReplicaSet", "api-7d9f8b6c5d", "node-1")
    assert verdict.labels == {"app": "api", "pod-template-hash": "7d9f8b6c5d"}
    assert verdict.created_at == NOW - timedelta(seconds=62)


def test_spec_containers_without_a_status_are_listed() -> None:
    verdict = triage(unschedulable(60), now=NOW)
    assert [(c.name, c.state, c.ready) for c in verdict.containers] == [("api", None, None)]


def test_events_may_be_absent() -> None:
    assert triage(creating(20), None, now=NOW).health is INITIALIZING  # type: ignore[arg-type]


def test_liveness_failures_get_their_own_hint() -> None:
    case = next(c for c in CASES if c[0] == "ready-with-new-event")
    top = triage(case[1], case[2], now=NOW).top
    assert top is not None and "liveness probe" in (top.hint or "") and "restarts the container" in (top.hint or "")


def test_a_malformed_event_is_skipped_not_fatal() -> None:
    bad = event("api-7d9f8b6c5d-x2x7k", "FailedMount", "x")
    bad["reason"] = 42
    good = event("api-7d9f8b6c5d-x2x7k", "FailedMount", 'configmap "api-config" not found')
    verdict = triage(creating(20), [bad, "not an event", good], now=NOW)  # type: ignore[list-item]
    assert verdict.top is not None and verdict.top.message == 'configmap "api-config" not found'


def test_secrets_in_messages_are_masked() -> None:
    body = pod(phase="Failed", restart_policy="Never", statuses=[cstatus("api", {
        "terminated": {"exitCode": 1, "reason": "Error", "message": "cannot connect: password=hunter2"}})])
    verdict = triage(body, now=NOW)
    assert verdict.top is not None and verdict.top.message == "cannot connect: password=***"
    assert "hunter2" not in repr(verdict)


@pytest.mark.parametrize(("path", "value", "field"), [
    ("metadata.name", 5, "metadata.name"), ("metadata.creationTimestamp", "yesterday", "metadata.creationTimestamp"),
    ("metadata.labels", {"app": 5}, "metadata.labels"), ("status.containerStatuses.0.ready", "yes",
                                                         "status.containerStatuses.ready"),
    ("status.containerStatuses.0.lastState", [], "status.containerStatuses.lastState"),
    ("status.containerStatuses.0.state.running.startedAt", 17, "status.containerStatuses.state.running.startedAt"),
])
def test_a_malformed_field_is_named(path: str, value: Any, field: str) -> None:
    body = unready(60)
    *parents, last = path.split(".")
    target: Any = body
    for part in parents:
        target = target[int(part)] if part.isdigit() else target[part]
    target[last] = value
    with pytest.raises(MalformedPod) as caught:
        triage(body, now=NOW)
    assert caught.value.field == field


# -- the fleet generator's pods --------------------------------------------------------------------------------

FLEET_EXPECTED = {  # state -> (bucket, STATUS, top reason)
    "running": (HEALTHY, "Running", None),
    "running-unready": (DEGRADED, "Running", "Unhealthy"),
    "crashloop": (FAILING, "CrashLoopBackOff", "CrashLoopBackOff"),
    "oomkilled": (FAILING, "CrashLoopBackOff", "OOMKilled"),
    "image-pull-backoff": (FAILING, "ImagePullBackOff", "ImagePullBackOff"),
    "err-image-pull": (FAILING, "ErrImagePull", "ErrImagePull"),
    "init-error": (FAILING, "Init:Error", "Error"),
    "init-running": (INITIALIZING, "Init:0/1", "Initializing"),
    "creating": (INITIALIZING, "ContainerCreating", "ContainerCreating"),
    "creating-stuck": (DEGRADED, "ContainerCreating", "FailedMount"),
    "unschedulable": (DEGRADED, "Pending", "Unschedulable"),
    "completed": (COMPLETED, "Completed", None),
    "evicted": (FAILING, "Evicted", "Evicted"),
    "terminating": (HEALTHY, "Terminating", None),
}


@pytest.fixture(scope="module")
def fleet_verdicts() -> list[tuple[str, Any]]:
    pods, events, summary = fleet()
    out = []
    for body in pods:
        key = (body["metadata"]["namespace"], body["metadata"]["name"])
        out.append((summary.pods[key], triage(body, events.get(key, []), now=NOW)))
    return out


def test_every_fleet_state_lands_in_its_bucket(fleet_verdicts: list[tuple[str, Any]]) -> None:
    assert {state for state, _ in fleet_verdicts} == set(FLEET_EXPECTED)
    for state, verdict in fleet_verdicts:
        bucket, status, reason = FLEET_EXPECTED[state]
        assert (verdict.health, verdict.status, verdict.top.reason if verdict.top else None) == (
            bucket, status, reason), (state, verdict.name)


def test_fleet_unschedulable_pods_show_the_schedulers_message(fleet_verdicts: list[tuple[str, Any]]) -> None:
    for state, verdict in fleet_verdicts:
        if state == "unschedulable":
            assert verdict.top.message.startswith("0/6 nodes are available: 6 Insufficient memory.")


def test_fleet_sorted_by_attention_puts_failures_first(fleet_verdicts: list[tuple[str, Any]]) -> None:
    ordered = sorted((v for _, v in fleet_verdicts), key=attention_key)
    ranks = [{FAILING: 3, DEGRADED: 2, INITIALIZING: 1}.get(v.health, 0) for v in ordered]
    assert ranks == sorted(ranks, reverse=True)
    failing = [v for v in ordered if v.health is FAILING]
    # OOMKilled and CrashLoopBackOff (severity) before ImagePullBackOff before Evicted
    reasons = [v.top.reason for v in failing]
    assert reasons.index("OOMKilled") < reasons.index("ImagePullBackOff") < reasons.index("Evicted")
    assert all(0 <= v.attention < 2**31 for v in ordered)


def test_recent_and_frequent_restarts_come_first_within_a_reason() -> None:
    def crashloop(restarts: int, finished_ago: float, age: float = 86_400) -> Any:
        return triage(pod(age=age, conditions=ready_conditions(False), statuses=[
            cstatus("api", waiting("CrashLoopBackOff", CRASH_MESSAGE), restarts=restarts,
                    last=terminated(1, "Error", finished_ago))]), now=NOW)
    fresh, many, old, older_pod = crashloop(3, 60), crashloop(40, 60), crashloop(40, 7200), crashloop(3, 60, 9e5)
    assert many.attention > fresh.attention  # more restarts, same recency
    assert fresh.attention > old.attention  # recent beats frequent
    assert older_pod.attention > fresh.attention  # same otherwise: the older pod first
    healthy = triage(pod(conditions=ready_conditions(True), statuses=[cstatus("api", running(60), ready=True)]),
                     now=NOW)
    assert sorted([healthy, old, fresh], key=attention_key) == [fresh, old, healthy]


def test_naive_now_is_utc() -> None:
    assert triage(creating(301), now=NOW.replace(tzinfo=None)).health is DEGRADED
    assert ago(0) == "2026-06-01T12:00:00Z"


# -- against kubectl on the emulated fleet ---------------------------------------------------------------------

_ROW = re.compile(r"(\S+)\s+(\d+/\d+)\s+(\S+)\s+(\d+(?: \(\S+ ago\))?)\s+\S+")
_PART = re.compile(r"(\d+)([smhdy])")
_UNIT = {"s": 1, "m": 60, "h": 3600, "d": 86400, "y": 365 * 86400}


def _seconds(age: str) -> int:
    return sum(int(n) * _UNIT[u] for n, u in _PART.findall(age))


@pytest.mark.skipif(shutil.which("kubectl") is None, reason="kubectl is not installed")
def test_columns_match_kubectl_get_pods(kube_emulator: KubeEmulator, tmp_path: Path) -> None:
    """Pods and Events read with kubectl, as JSON, triaged: READY, STATUS and RESTARTS (with the age of the
    last restart) read as ``kubectl get pods`` prints them."""
    summary = populate(kube_emulator, FleetSpec(namespaces=1, pods_per_namespace=30, seed=5, logs=False))
    namespace = summary.namespaces[0]
    kubeconfig = kube_emulator.write_kubeconfig(tmp_path / "kubeconfig", context="emulator")

    def kubectl(*args: str) -> str:
        return subprocess.run(["kubectl", "-n", namespace, *args], check=True, capture_output=True, text=True,
                              timeout=60, env={"PATH": os.environ.get("PATH", "/usr/bin:/bin"),
                                               "HOME": str(tmp_path), "KUBECONFIG": str(kubeconfig)}).stdout

    events: dict[str, list[Any]] = {}
    for item in json.loads(kubectl("get", "events", "-o", "json"))["items"]:
        events.setdefault(item["involvedObject"]["name"], []).append(item)
    pods = json.loads(kubectl("get", "pods", "-o", "json"))["items"]
    table = kubectl("get", "pods", "--no-headers")
    now = datetime.now(UTC)
    verdicts = {p["metadata"]["name"]: triage(p, events.get(p["metadata"]["name"], []), now=now) for p in pods}
    rows = [_ROW.fullmatch(line) for line in table.splitlines()]
    assert len(rows) == len(verdicts) > 0 and all(rows)
    restarted = 0
    for row in rows:
        assert row is not None
        name, ready, status, restarts = row.groups()
        verdict = verdicts[name]
        assert (verdict.ready, verdict.status) == (ready, status), name
        count, _, age = restarts.partition(" ")
        mine_count, _, mine_age = verdict.restarts_text.partition(" ")
        assert mine_count == count and bool(age) == bool(mine_age), (name, restarts, verdict.restarts_text)
        if age:
            restarted += 1
            # kubectl printed a moment before ``now``: equal up to that moment and the text's last unit
            precision = _UNIT[_PART.findall(age)[-1][1]]
            assert abs(_seconds(age) - _seconds(mine_age)) <= precision + 3, (name, restarts,
                                                                              verdict.restarts_text)
    assert restarted > 0
    by_state = {summary.pods[(namespace, name)]: v for name, v in verdicts.items()}
    assert by_state["crashloop"].health is FAILING and by_state["running"].health is HEALTHY

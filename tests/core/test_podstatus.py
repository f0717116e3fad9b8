"""kubectl's STATUS column rules, one case per rule in REFERENCE.md."""

from __future__ import annotations

import pytest

from nautilus_core.podstatus import pod_status


def pod(phase="Running", containers=None, statuses=None, init=None, init_statuses=None, conditions=None,
        reason=None, deleted=False):
    containers = containers or [{"name": "app"}]
    status = {"phase": phase, "containerStatuses": statuses or [], "conditions": conditions or []}
    if reason:
        status["reason"] = reason
    if init_statuses is not None:
        status["initContainerStatuses"] = init_statuses
    meta = {"name": "p", "namespace": "ns"}
    if deleted:
        meta["deletionTimestamp"] = "2026-01-01T00:00:00Z"
    return {"metadata": meta, "spec": {"containers": containers, "initContainers": init or []},
            "status": status}


def running(name="app", ready=True, restarts=0, last=None):
    cs = {"name": name, "ready": ready, "restartCount": restarts, "state": {"running": {}}}
    if last:
        cs["lastState"] = {"terminated": last}
    return cs


def waiting(reason, name="app", restarts=0):
    return {"name": name, "ready": False, "restartCount": restarts, "state": {"waiting": {"reason": reason}}}


def terminated(name="app", code=1, reason=None, signal=None):
    term = {"exitCode": code}
    if reason:
        term["reason"] = reason
    if signal:
        term["signal"] = signal
    return {"name": name, "ready": False, "restartCount": 0, "state": {"terminated": term}}


@pytest.mark.parametrize(("p", "expected", "ready"), [
    (pod(statuses=[running()]), "Running", "1/1"),
    (pod(statuses=[running(ready=False)]), "Running", "0/1"),  # failing readiness still prints Running
    (pod(statuses=[waiting("CrashLoopBackOff", restarts=5)]), "CrashLoopBackOff", "0/1"),
    (pod("Pending", statuses=[waiting("ContainerCreating")]), "ContainerCreating", "0/1"),
    (pod("Pending"), "Pending", "0/1"),
    (pod("Failed", reason="Evicted"), "Evicted", "0/1"),
    (pod("Succeeded", statuses=[terminated(code=0, reason="Completed")]), "Completed", "0/1"),
    (pod(statuses=[terminated(code=137, signal=9)]), "Signal:9", "0/1"),
    (pod(statuses=[terminated(code=3)]), "ExitCode:3", "0/1"),
    (pod(statuses=[running()], deleted=True), "Terminating", "1/1"),
    (pod("Succeeded", statuses=[terminated(code=0, reason="Completed")], deleted=True), "Completed", "0/1"),
    (pod(reason="NodeLost", deleted=True), "Unknown", "0/1"),
    (pod("Pending", conditions=[{"type": "PodScheduled", "status": "False", "reason": "SchedulingGated"}]),
     "SchedulingGated", "0/1"),
])
def test_status_column(p, expected, ready):
    result = pod_status(p)
    assert result.status == expected
    assert result.ready_text == ready


def test_first_container_with_a_reason_wins():
    p = pod(containers=[{"name": "a"}, {"name": "b"}],
            statuses=[waiting("ImagePullBackOff", "a"), waiting("CrashLoopBackOff", "b")])
    assert pod_status(p).status == "ImagePullBackOff"


def test_oomkilled_only_in_last_state_prints_crashloop_and_counts_restarts():
    cs = waiting("CrashLoopBackOff", restarts=4)
    cs["lastState"] = {"terminated": {"exitCode": 137, "reason": "OOMKilled"}}
    result = pod_status(pod(statuses=[cs]))
    assert (result.status, result.restarts) == ("CrashLoopBackOff", 4)


def test_init_container_states():
    init = [{"name": "migrate"}, {"name": "warm"}]
    failed = pod("Pending", init=init, init_statuses=[terminated("migrate", code=1, reason="Error")])
    assert pod_status(failed).status == "Init:Error"
    assert pod_status(failed).initializing
    first_done = pod("Pending", init=init, init_statuses=[
        terminated("migrate", code=0, reason="Completed"),
        {"name": "warm", "restartCount": 0, "state": {"running": {}}}])
    assert pod_status(first_done).status == "Init:1/2"
    pulling = pod("Pending", init=init, init_statuses=[waiting("ImagePullBackOff", "migrate")])
    assert pod_status(pulling).status == "Init:ImagePullBackOff"
    signalled = pod("Pending", init=init, init_statuses=[terminated("migrate", code=137, signal=9)])
    assert pod_status(signalled).status == "Init:Signal:9"


def test_sidecars_count_in_total_and_ready():
    p = pod(init=[{"name": "proxy", "restartPolicy": "Always"}],
            init_statuses=[{"name": "proxy", "started": True, "ready": True, "restartCount": 2,
                            "state": {"running": {}}}],
            statuses=[running(restarts=1)],
            conditions=[{"type": "Initialized", "status": "True"}])
    result = pod_status(p)
    assert (result.status, result.ready_text, result.restarts) == ("Running", "2/2", 3)


def test_completed_with_running_container_is_notready_or_running():
    statuses = [terminated("a", code=0, reason="Completed"), running("b")]
    containers = [{"name": "a"}, {"name": "b"}]
    not_ready = pod(containers=containers, statuses=statuses)
    assert pod_status(not_ready).status == "NotReady"
    ready = pod(containers=containers, statuses=statuses, conditions=[{"type": "Ready", "status": "True"}])
    assert pod_status(ready).status == "Running"


def test_missing_fields_do_not_crash():
    assert pod_status({}).status == "Unknown"
    assert pod_status({"status": {"containerStatuses": [{"name": "x"}]}}).ready_text == "0/0"

"""The collector against the emulated fleet (real HTTP, real client), on SQLite and PostgreSQL: what it
stores, that a rerun writes nothing, vanished pods, failed namespaces, failing log calls, restarts."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from collect_helpers import SPEC, Clock, as_time, collector, namespace_counts, rows, scalar, snapshot
from sqlalchemy import event

from nautilus_core.podwatch.rows import AGING_COLUMNS
from nautilus_core.testing import FleetSummary, populate


@pytest.fixture
def fleet(kube_emulator: Any, tmp_path: Path) -> tuple[Any, FleetSummary, Path]:
    summary = populate(kube_emulator, SPEC)
    return kube_emulator, summary, kube_emulator.write_kubeconfig(tmp_path / "kubeconfig")


def _pods(emu: Any, namespace: str) -> list[dict[str, Any]]:
    return emu.list("v1", "pods", namespace=namespace)


def test_first_run_stores_pods_containers_events_and_classified_logs(engine: Any, fleet: Any) -> None:
    emu, summary, kubeconfig = fleet
    namespaces = summary.namespaces
    report = collector(engine, kubeconfig, namespaces).run_once()
    assert not report.failures
    for ns in namespaces:
        listed = {p["metadata"]["name"] for p in _pods(emu, ns)}
        stored = {r["name"] for r in rows(engine, "SELECT name FROM pod WHERE namespace = :ns", ns=ns)}
        assert stored == listed
        pods, containers, logs = namespace_counts(engine, ns)
        assert f"Sync complete namespace={ns} pods={pods} containers={containers} logs={logs}" in report.lines()
        specs = sum(len(p["spec"].get("containers", [])) + len(p["spec"].get("initContainers", []))
                    for p in _pods(emu, ns))
        assert containers == specs
    # one cluster row, keyed like the inventory's, that every pod references
    clusters = rows(engine, "SELECT id, key FROM cluster")
    assert [c["key"] for c in clusters] == ["kubeconfig///emulator"]
    assert scalar(engine, "SELECT count(*) FROM pod WHERE cluster_id <> :id", id=clusters[0]["id"]) == 0
    # a crash-looping pod: failing, its container's previous instance logged with an exception entry
    ns, name = summary.pods_in("crashloop")[0]
    pod = rows(engine, "SELECT * FROM pod WHERE namespace = :ns AND name = :name", ns=ns, name=name)[0]
    assert pod["status"] == "CrashLoopBackOff" and pod["health"] == "failing"
    assert pod["top_reason"] == "CrashLoopBackOff" and pod["top_container"]
    previous = rows(engine, "SELECT level, text FROM log_line WHERE pod_id = :id AND previous = :t",
                    id=pod["id"], t=True)
    assert previous and any(r["level"] == "exception" for r in previous)
    assert pod["exception_count"] >= 1
    # Warning events are kept with their pod
    warned = summary.pods_in("image-pull-backoff")[0]
    events = rows(engine, "SELECT e.type, e.reason FROM pod_event e JOIN pod p ON p.id = e.pod_id "
                          "WHERE p.namespace = :ns AND p.name = :name", ns=warned[0], name=warned[1])
    assert events and all(e["type"] == "Warning" for e in events)
    # counts on the pod row are the stored entries' levels
    for p in rows(engine, "SELECT id, error_count, warning_count, exception_count FROM pod"):
        by_level = dict((r["level"], r["n"]) for r in rows(
            engine, "SELECT level, count(*) AS n FROM log_line WHERE pod_id = :id GROUP BY level", id=p["id"]))
        assert (p["error_count"], p["warning_count"], p["exception_count"]) == (
            by_level.get("error", 0), by_level.get("warning", 0), by_level.get("exception", 0))


def _writes(engine: Any, run: Callable[[], Any]) -> tuple[Any, list[str]]:
    """``run()``'s result and the INSERT/UPDATE/DELETE statements it sent."""
    statements: list[str] = []

    def record(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        if re.match(r"\s*(INSERT|UPDATE|DELETE)", statement, re.I):
            statements.append(" ".join(statement.split()))

    event.listen(engine, "before_cursor_execute", record)
    try:
        return run(), statements
    finally:
        event.remove(engine, "before_cursor_execute", record)


def test_a_rerun_with_nothing_changed_writes_nothing_but_timestamps(engine: Any, fleet: Any) -> None:
    _, summary, kubeconfig = fleet
    clock = Clock()
    collect = collector(engine, kubeconfig, summary.namespaces, clock=clock)
    first = collect.run_once()
    assert first.writes > 0
    everything = snapshot(engine, frozenset())
    # at the same instant: one bulk touch of last_seen_at, nothing else
    second, statements = _writes(engine, collect.run_once)
    assert second.lines() == first.lines()
    assert second.writes == 0, second.stats
    assert snapshot(engine, frozenset()) == everything
    assert statements and all(s.startswith("UPDATE pod SET last_seen_at=") for s in statements), statements
    # seconds later: besides last_seen_at, only what the triage derives from the clock moved
    # ("3 (5m ago)", "OOMKilled 11s ago", attention growing with age)
    aging = frozenset({"last_seen_at", *AGING_COLUMNS})
    before = snapshot(engine, aging)
    clock.advance(5)  # (a minute would be a real change: a pod Terminating past its grace period)
    third, statements = _writes(engine, collect.run_once)
    assert third.lines() == first.lines() and third.writes == 0, third.stats
    assert snapshot(engine, aging) == before
    assert statements and all(s.startswith("UPDATE pod SET ") for s in statements), statements
    assert {as_time(r["last_seen_at"]) for r in rows(engine, "SELECT last_seen_at FROM pod")} == {clock.now}


def test_a_failing_log_call_is_recorded_on_its_container_and_pod(engine: Any, fleet: Any) -> None:
    emu, summary, kubeconfig = fleet
    ns = summary.namespaces[0]
    pod = next(p for p in _pods(emu, ns) if p["status"].get("phase") == "Running"
               and len(p["spec"]["containers"]) >= 1)
    name, container = pod["metadata"]["name"], pod["spec"]["containers"][0]["name"]
    fault = emu.inject("GET", f"/namespaces/{ns}/pods/{name}/log", status=403, times=None,
                       query={"container": container})
    collect = collector(engine, kubeconfig, [ns])
    report = collect.run_once()
    assert fault.hits >= 1
    assert not report.failures  # one container's log is not a failed namespace
    row = rows(engine, "SELECT c.log_error, p.problems, p.id FROM container c JOIN pod p ON p.id = c.pod_id "
                       "WHERE p.namespace = :ns AND p.name = :n AND c.name = :c", ns=ns, n=name, c=container)[0]
    assert "403" in row["log_error"]
    problems = row["problems"] if isinstance(row["problems"], list) else json.loads(row["problems"])
    assert any(p["container"] == container and "403" in p["message"] for p in problems)
    assert scalar(engine, "SELECT count(*) FROM log_line WHERE pod_id = :id AND container = :c",
                  id=row["id"], c=container) == 0
    others = scalar(engine, "SELECT count(*) FROM log_line l JOIN pod p ON p.id = l.pod_id "
                            "WHERE p.namespace = :ns AND p.name <> :n", ns=ns, n=name)
    assert others > 0
    fault.cancel()
    collect.run_once()
    healed = rows(engine, "SELECT c.log_error, p.problems FROM container c JOIN pod p ON p.id = c.pod_id "
                          "WHERE p.namespace = :ns AND p.name = :n AND c.name = :c", ns=ns, n=name, c=container)[0]
    assert healed["log_error"] is None and not healed["problems"]
    assert scalar(engine, "SELECT count(*) FROM log_line WHERE pod_id = :id AND container = :c",
                  id=row["id"], c=container) > 0


def test_a_vanished_pod_is_marked_gone_kept_then_purged_after_the_retention(engine: Any, fleet: Any) -> None:
    emu, summary, kubeconfig = fleet
    ns, name = summary.pods_in("completed")[0]
    clock = Clock()
    collect = collector(engine, kubeconfig, [ns], clock=clock, retention=3600)
    collect.run_once()
    kept_lines = scalar(engine, "SELECT count(*) FROM log_line l JOIN pod p ON p.id = l.pod_id "
                                "WHERE p.namespace = :ns AND p.name = :n", ns=ns, n=name)
    emu.delete("v1", "pods", name, namespace=ns)
    assert emu.get("v1", "pods", name, namespace=ns) is None
    gone_at = clock.advance(60)
    report = collect.run_once()
    gone = rows(engine, "SELECT * FROM pod WHERE namespace = :ns AND name = :n", ns=ns, n=name)[0]
    assert as_time(gone["deleted_at"]) == gone_at
    assert gone["status"] == "Completed" and gone["health"] == "completed"
    assert scalar(engine, "SELECT count(*) FROM log_line WHERE pod_id = :id", id=gone["id"]) == kept_lines
    assert f"pods={len(_pods(emu, ns))} " in next(line for line in report.lines() if f"namespace={ns} " in line)
    clock.advance(3600 + 1)
    collect.run_once()
    assert scalar(engine, "SELECT count(*) FROM pod WHERE name = :n AND namespace = :ns", n=name, ns=ns) == 0
    assert scalar(engine, "SELECT count(*) FROM log_line WHERE pod_id = :id", id=gone["id"]) == 0
    assert scalar(engine, "SELECT count(*) FROM container WHERE pod_id = :id", id=gone["id"]) == 0


def test_a_namespace_whose_list_fails_deletes_nothing(engine: Any, fleet: Any) -> None:
    emu, summary, kubeconfig = fleet
    broken, fine = summary.namespaces
    clock = Clock()
    collect = collector(engine, kubeconfig, [broken, fine], clock=clock)
    collect.run_once()
    before = rows(engine, "SELECT name, deleted_at FROM pod WHERE namespace = :ns ORDER BY name", ns=broken)
    victim = summary.pods_in("completed")
    victim = next((n for ns, n in victim if ns == broken), None) or before[0]["name"]
    emu.delete("v1", "pods", victim, namespace=broken)
    with emu.inject("GET", re.compile(rf"^/api/v1/namespaces/{broken}/pods$"), status=500, times=None):
        clock.advance(30)
        report = collect.run_once()
    assert [(f.namespace, f.cluster) for f in report.failures] == [(broken, "kubeconfig///emulator")]
    assert [line.split()[2] for line in report.lines()] == [f"namespace={fine}"]
    assert rows(engine, "SELECT name, deleted_at FROM pod WHERE namespace = :ns ORDER BY name", ns=broken) == before


def test_previous_instance_logs_after_a_restart(engine: Any, fleet: Any) -> None:
    emu, summary, kubeconfig = fleet
    ns, name = next(p for p in summary.pods_in("running") if p[0] == summary.namespaces[0])
    pod = emu.get("v1", "pods", name, namespace=ns)
    container = pod["spec"]["containers"][0]["name"]
    emu.set_logs(ns, name, container, "2030-01-01T00:00:00Z INFO first life\n")
    clock = Clock()
    collect = collector(engine, kubeconfig, [ns], clock=clock)
    collect.run_once()
    pod_id = scalar(engine, "SELECT id FROM pod WHERE namespace = :ns AND name = :n", ns=ns, n=name)
    first = rows(engine, "SELECT previous, text FROM log_line WHERE pod_id = :id AND container = :c",
                 id=pod_id, c=container)
    assert len(first) == 1 and "first life" in first[0]["text"] and not first[0]["previous"]
    # the container restarts: its first life is now the previous instance, the new one logs an error
    emu.set_logs(ns, name, container, "2030-01-01T00:00:00Z INFO first life\npanic: boom\n", previous=True)
    emu.set_logs(ns, name, container, "ERROR second life cannot reach db\n")
    statuses = pod["status"]["containerStatuses"]
    statuses[0] = statuses[0] | {"restartCount": statuses[0].get("restartCount", 0) + 1, "lastState": {
        "terminated": {"exitCode": 2, "reason": "Error", "startedAt": "2030-01-01T00:00:00Z",
                       "finishedAt": "2030-01-01T00:01:00Z"}}}
    emu.patch("v1", "pods", name, {"status": {"containerStatuses": statuses}}, namespace=ns)
    clock.advance(60)
    collect.run_once()
    stored = rows(engine, "SELECT previous, level, text FROM log_line WHERE pod_id = :id AND container = :c "
                          "ORDER BY seq", id=pod_id, c=container)
    current = [r for r in stored if not r["previous"]]
    previous = [r for r in stored if r["previous"]]
    assert any("second life" in r["text"] and r["level"] == "error" for r in current)
    assert any("boom" in r["text"] for r in previous)
    assert {r["text"] for r in previous}.isdisjoint({r["text"] for r in current})
    restarted = rows(engine, "SELECT restart_count, last_exit_code FROM container WHERE pod_id = :id AND name = :c",
                     id=pod_id, c=container)[0]
    assert restarted["restart_count"] >= 1 and restarted["last_exit_code"] == 2


def test_log_entries_are_deduplicated_across_runs_and_bounded_per_container(engine: Any, fleet: Any) -> None:
    emu, summary, kubeconfig = fleet
    ns, name = next(p for p in summary.pods_in("running") if p[0] == summary.namespaces[0])
    container = emu.get("v1", "pods", name, namespace=ns)["spec"]["containers"][0]["name"]
    emu.set_logs(ns, name, container, "".join(f"INFO line {i}\n" for i in range(4)))
    collect = collector(engine, kubeconfig, [ns], log_tail_lines=3, max_lines_per_container=5)
    collect.run_once()
    pod_id = scalar(engine, "SELECT id FROM pod WHERE namespace = :ns AND name = :n", ns=ns, n=name)

    def texts() -> list[str]:
        found = rows(engine, "SELECT text FROM log_line WHERE pod_id = :id AND container = :c ORDER BY seq",
                     id=pod_id, c=container)
        return [r["text"] for r in found]

    assert texts() == ["INFO line 1", "INFO line 2", "INFO line 3"]  # the tail of 3
    collect.run_once()
    assert texts() == ["INFO line 1", "INFO line 2", "INFO line 3"]  # read again: not stored twice
    emu.set_logs(ns, name, container, "".join(f"INFO line {i}\n" for i in range(4, 8)), append=True)
    collect.run_once()
    # the new tail (5, 6, 7) is added; 4 was never in a tail; the oldest (1) goes to keep 5
    assert texts() == ["INFO line 2", "INFO line 3", "INFO line 5", "INFO line 6", "INFO line 7"]


def test_a_malformed_pod_is_stored_flagged_naming_the_field(engine: Any, fleet: Any) -> None:
    emu, summary, kubeconfig = fleet
    ns = summary.namespaces[0]
    good = _pods(emu, ns)[0]
    bad = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "odd", "namespace": ns, "uid": "u-odd"},
           "spec": {"containers": [{"name": "app", "image": "x"}]}, "status": {"containerStatuses": "oops"}}
    body = {"kind": "PodList", "apiVersion": "v1", "metadata": {"resourceVersion": "1"}, "items": [good, bad]}
    emu.inject("GET", re.compile(rf"^/api/v1/namespaces/{ns}/pods$"), status=200, body=body, times=1)
    report = collector(engine, kubeconfig, [ns]).run_once()
    assert not report.failures
    odd = rows(engine, "SELECT top_reason, top_message, health FROM pod WHERE name = 'odd'")[0]
    assert odd["top_reason"] == "MalformedPod" and "status.containerStatuses" in odd["top_message"]
    assert scalar(engine, "SELECT count(*) FROM pod WHERE name = :n", n=good["metadata"]["name"]) == 1


def test_every_cluster_the_provider_discovers_or_one_context(engine: Any, kube_fleet: Any, tmp_path: Path) -> None:
    fleet = kube_fleet(["east", "west"])
    for i, name in enumerate(("east", "west")):
        populate(fleet[name], SPEC.__class__(**{**SPEC.__dict__, "seed": i}))
    kubeconfig = fleet.write_kubeconfig(tmp_path / "kubeconfig")
    ns = "payments"
    report = collector(engine, kubeconfig, [ns]).run_once()
    assert not report.failures
    assert sorted(report.lines()) == sorted(
        f"Sync complete namespace={ns} pods={len(fleet[c].list('v1', 'pods', namespace=ns))} "
        f"containers={r.containers} logs={r.logs} cluster=kubeconfig///{c}"
        for c, r in zip(("east", "west"), sorted(report.results, key=lambda r: r.cluster), strict=True))
    by_cluster = rows(engine, "SELECT c.key, count(*) AS pods FROM pod p JOIN cluster c ON c.id = p.cluster_id "
                              "GROUP BY c.key ORDER BY c.key")
    assert by_cluster == [{"key": f"kubeconfig///{c}", "pods": len(fleet[c].list("v1", "pods", namespace=ns))}
                          for c in ("east", "west")]
    # one context only: the other cluster's pods are left as they were (not marked gone)
    fleet["west"].delete("v1", "pods", summary_completed(fleet["west"], ns), namespace=ns)
    section = collector(engine, kubeconfig, [ns])
    only_east = type(section)(engine, section.providers, section.settings, contexts=["east"])
    report = only_east.run_once()
    assert [r.cluster for r in report.results] == ["kubeconfig///east"]
    assert scalar(engine, "SELECT count(*) FROM pod WHERE deleted_at IS NOT NULL") == 0


def summary_completed(emu: Any, namespace: str) -> str:
    """A pod of ``namespace`` that finished (deleted at once, without a grace period)."""
    return next(p["metadata"]["name"] for p in emu.list("v1", "pods", namespace=namespace)
                if p["status"].get("phase") == "Succeeded")


def test_the_collector_runs_as_a_runnable_of_the_manager(engine: Any, fleet: Any) -> None:
    from nautilus_core.controller.manager import Runnables
    from nautilus_core.testing import until

    _, summary, kubeconfig = fleet
    ns = summary.namespaces[0]
    runnable = collector(engine, kubeconfig, [ns]).runnable(0.2)
    runnables = Runnables()
    runnables.add(runnable)
    runnables.start()
    try:
        until(lambda: scalar(engine, "SELECT count(*) FROM pod WHERE namespace = :ns", ns=ns), what="pods stored")
        first = until(lambda: runnable.last_report, what="a report")
        until(lambda: runnable.last_report is not first, what="a second collection")
    finally:
        runnables.stop("test over")
    assert runnables.items()[0].restarts == 0

"""ControllerMetrics and the health/metrics HTTP servers, over real HTTP on port-0 loopback servers."""

from __future__ import annotations

import json
import socket
import urllib.error
import urllib.request

import pytest

from nautilus_core.controller.health import HealthServer, MetricsServer, combine_checks
from nautilus_core.controller.metrics import ControllerMetrics
from nautilus_core.controller.queue import WorkQueue


def fetch(url: str, method: str = "GET") -> tuple[int, str, bytes]:
    request = urllib.request.Request(url, method=method)
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, response.headers["Content-Type"], response.read()
    except urllib.error.HTTPError as exc:
        with exc:
            return exc.code, exc.headers["Content-Type"], exc.read()


def sample_value(text: str, metric: str, /, **labels: str) -> float:
    """The value of the one sample ``metric{labels}`` in a Prometheus text exposition."""
    wanted = ",".join(f'{k}="{v}"' for k, v in sorted(labels.items()))
    for line in text.splitlines():
        if line.startswith("#") or " " not in line:
            continue
        series, value = line.rsplit(" ", 1)
        series_name, _, rest = series.partition("{")
        got = ",".join(sorted(rest.rstrip("}").split(","))) if rest else ""
        if series_name == metric and got == wanted:
            return float(value)
    raise AssertionError(f"no sample {metric}{{{wanted}}} in:\n{text}")


# ---------------------------------------------------------------------- metrics


def test_reconcile_results_errors_and_time() -> None:
    m = ControllerMetrics()
    m.register_controller("clusters", max_concurrent=5)
    m.reconcile("clusters", "success", 0.1)
    m.reconcile("clusters", "success", 0.2)
    m.reconcile("clusters", "error", 0.3)
    m.reconcile("clusters", "parked", 0.4)
    text = m.render().decode()
    assert sample_value(text, "controller_runtime_reconcile_total", controller="clusters", result="success") == 2
    assert sample_value(text, "controller_runtime_reconcile_total", controller="clusters", result="requeue") == 0
    assert sample_value(text, "controller_runtime_reconcile_errors_total", controller="clusters") == 2
    assert sample_value(text, "controller_runtime_reconcile_time_seconds_count", controller="clusters") == 4
    assert sample_value(text, "controller_runtime_max_concurrent_reconciles", controller="clusters") == 5
    with pytest.raises(ValueError, match="unknown reconcile result"):
        m.reconcile("clusters", "exploded", 0.1)  # type: ignore[arg-type]


def test_gauges_workers_leader_parked() -> None:
    m = ControllerMetrics()
    m.active_workers("pods", +1)
    m.active_workers("pods", +1)
    m.active_workers("pods", -1)
    m.set_leader("host-1", True)
    m.parked("pods", 3)
    assert m.sample("controller_runtime_active_workers", {"controller": "pods"}) == 1
    assert m.sample("nautilus_leader", {"identity": "host-1"}) == 1
    assert m.sample("nautilus_parked_keys", {"controller": "pods"}) == 3
    m.set_leader("host-1", False)
    assert m.sample("nautilus_leader", {"identity": "host-1"}) == 0


def test_two_metrics_objects_do_not_share_state() -> None:
    first, second = ControllerMetrics(), ControllerMetrics()
    first.reconcile("clusters", "success", 0.1)
    first.queue_add("q")
    assert first.sample("controller_runtime_reconcile_total", {"controller": "clusters", "result": "success"}) == 1
    assert second.sample("controller_runtime_reconcile_total", {"controller": "clusters", "result": "success"}) is None
    assert second.sample("workqueue_adds_total", {"name": "q"}) is None
    assert b"clusters" not in second.render()


# ---------------------------------------------------------------------- health server


def test_healthz_ok_and_failing() -> None:
    state = {"alive": True}
    with HealthServer(port=0, liveness=lambda: (state["alive"], "worker threads stuck")) as server:
        assert server.port != 0
        assert fetch(f"{server.url}/healthz") == (200, "text/plain; charset=utf-8", b"ok\n")
        state["alive"] = False
        status, _, body = fetch(f"{server.url}/healthz")
        assert (status, body) == (500, b"worker threads stuck\n")


def test_readyz_names_the_failing_check_then_turns_ready() -> None:
    state = {"db": False}
    readiness = combine_checks({
        "database": lambda: (state["db"], "ok" if state["db"] else "connection refused"),
        "kubernetes": lambda: (True, "ok"),
        "informers": lambda: (True, "synced"),
    })
    with HealthServer(port=0, readiness=readiness) as server:
        status, content_type, body = fetch(f"{server.url}/readyz")
        assert (status, content_type) == (503, "application/json")
        assert json.loads(body) == {
            "database": {"ok": False, "message": "connection refused"},
            "kubernetes": {"ok": True, "message": "ok"},
            "informers": {"ok": True, "message": "synced"},
        }
        state["db"] = True
        status, _, body = fetch(f"{server.url}/readyz")
        assert status == 200
        assert all(check["ok"] for check in json.loads(body).values())


def test_a_raising_check_fails_alone_and_secrets_are_redacted() -> None:
    def database() -> tuple[bool, str]:
        raise ConnectionError("cannot reach postgresql://nautilus:hunter2@db:5432/fleet")

    def liveness() -> tuple[bool, str]:
        raise RuntimeError("boom")

    readiness = combine_checks({"database": database, "kubernetes": lambda: (True, "ok")})
    with HealthServer(port=0, liveness=liveness, readiness=readiness) as server:
        status, _, body = fetch(f"{server.url}/readyz")
        checks = json.loads(body)
        assert status == 503
        assert checks["kubernetes"] == {"ok": True, "message": "ok"}
        assert checks["database"]["ok"] is False
        assert "ConnectionError" in checks["database"]["message"]
        assert "hunter2" not in checks["database"]["message"]
        status, _, body = fetch(f"{server.url}/healthz")
        assert status == 500 and b"RuntimeError: boom" in body
        # The server survived both.
        assert fetch(f"{server.url}/healthz")[0] == 500


def test_a_raising_readiness_callable_and_secret_messages() -> None:
    def readiness() -> tuple[bool, dict[str, tuple[bool, str]]]:
        raise OSError("token=abc123 rejected")

    with HealthServer(port=0, liveness=lambda: (False, "password=s3cret leaked"), readiness=readiness) as server:
        status, _, body = fetch(f"{server.url}/readyz")
        assert status == 503
        message = json.loads(body)["readiness"]["message"]
        assert "OSError" in message and "abc123" not in message
        status, _, body = fetch(f"{server.url}/healthz")
        assert status == 500 and b"s3cret" not in body


def test_readyz_is_503_when_a_check_fails_even_if_overall_flag_says_ready() -> None:
    with HealthServer(port=0, readiness=lambda: (True, {"informers": (False, "not synced")})) as server:
        status, _, body = fetch(f"{server.url}/readyz")
        assert status == 503
        assert json.loads(body) == {"informers": {"ok": False, "message": "not synced"}}


def test_unknown_paths_are_404_and_metrics_only_when_given() -> None:
    with HealthServer(port=0) as server:
        assert fetch(f"{server.url}/nope")[0] == 404
        assert fetch(f"{server.url}/metrics")[0] == 404
        assert fetch(f"{server.url}/healthz?verbose=1")[0] == 200
        assert fetch(f"{server.url}/readyz")[:2] == (200, "application/json")
        assert fetch(f"{server.url}/healthz", method="HEAD")[0] == 200


# ---------------------------------------------------------------------- metrics server


def test_metrics_endpoint_exposes_recorded_events() -> None:
    metrics = ControllerMetrics()
    metrics.register_controller("clusters", max_concurrent=2)
    metrics.reconcile("clusters", "success", 0.05)
    metrics.reconcile("clusters", "success", 0.07)
    metrics.reconcile("clusters", "requeue_after", 0.01)
    queue = WorkQueue("clusters", metrics=metrics)
    queue.add("ns/a")
    queue.add("ns/b")
    queue.shut_down()
    with MetricsServer(port=0, metrics=metrics) as server:
        status, content_type, body = fetch(f"{server.url}/metrics")
        assert fetch(f"{server.url}/healthz")[0] == 404
    assert status == 200
    assert content_type.startswith("text/plain; version=0.0.4")
    text = body.decode()
    assert sample_value(text, "controller_runtime_reconcile_total", controller="clusters", result="success") == 2
    assert sample_value(text, "controller_runtime_reconcile_total", controller="clusters",
                        result="requeue_after") == 1
    assert sample_value(text, "workqueue_adds_total", name="clusters") == 2
    assert sample_value(text, "workqueue_depth", name="clusters") == 2
    for name in ("controller_runtime_reconcile_errors_total", "controller_runtime_reconcile_time_seconds_bucket",
                 "controller_runtime_active_workers", "workqueue_retries_total",
                 "workqueue_queue_duration_seconds", "workqueue_work_duration_seconds", "nautilus_parked_keys"):
        assert name in text


def test_one_server_serves_health_readiness_and_metrics_on_a_shared_port() -> None:
    metrics = ControllerMetrics()
    metrics.set_leader("me", True)
    with HealthServer(port=0, metrics=metrics) as server:
        assert fetch(f"{server.url}/healthz")[0] == 200
        assert fetch(f"{server.url}/readyz")[0] == 200
        status, _, body = fetch(f"{server.url}/metrics")
    assert status == 200
    assert sample_value(body.decode(), "nautilus_leader", identity="me") == 1


# ---------------------------------------------------------------------- lifecycle


def test_stop_releases_the_port_and_is_idempotent() -> None:
    server = HealthServer(port=0).start()
    port = server.port
    with pytest.raises(RuntimeError, match="already running"):
        server.start()
    server.stop()
    server.stop()
    assert not server.running
    with pytest.raises(OSError):
        fetch(f"http://127.0.0.1:{port}/healthz")
    # The port is free again: a new server can bind it.
    with HealthServer(port=port) as again:
        assert again.port == port
        assert fetch(f"{again.url}/healthz")[0] == 200


def test_port_in_use_fails_at_start_without_leaking() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        server = MetricsServer(port=taken.getsockname()[1], metrics=ControllerMetrics())
        with pytest.raises(OSError):
            server.start()
        assert not server.running


def test_binds_loopback_by_default() -> None:
    with MetricsServer(port=0, metrics=ControllerMetrics()) as server:
        assert server.host == "127.0.0.1"
        assert server.url == f"http://127.0.0.1:{server.port}"

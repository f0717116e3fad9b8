"""The dashboard API over real HTTP (uvicorn on 127.0.0.1), on SQLite and PostgreSQL.

Pods sorted by attention with every filter and paging, one pod with containers, Events and top issue,
its logs by level/container with paging, the summary, /healthz, the OpenAPI schema, and the headers
every answer carries.
"""

from __future__ import annotations

import httpx
import pytest
from web_helpers import HOSTILE_SCRIPT


def names(url: str, **params) -> list[str]:
    response = httpx.get(url + "/api/v1/pods", params=params)
    assert response.status_code == 200, response.text
    return [p["name"] for p in response.json()["items"]]


def test_pods_come_most_attention_first_and_gone_pods_last_marked_gone(web):
    page = httpx.get(web + "/api/v1/pods").json()
    assert page["total"] == 21
    got = [p["name"] for p in page["items"]]
    assert got[:3] == ["api-7c9-crash", "worker-oom", "web-pull"]
    assert got[3:6] == ["db-stuck", "cache-unready", "db-new"]
    assert got[-1] == "old-crash-gone"  # the highest score, but it vanished
    gone = page["items"][-1]
    assert gone["gone"] is True and gone["deleted_at"] and gone["top"]["reason"] == "CrashLoopBackOff"
    first = page["items"][0]
    assert first["top"] == {"container": "api", "reason": "CrashLoopBackOff",
                            "message": "back-off 5m0s restarting failed container",
                            "hint": "the process exits: read its logs"}
    assert first["restarts_text"] == "12 (40s ago)" and first["cluster"] == "prod-eu"
    assert first["health"] == "failing" and first["gone"] is False


def test_pages_cover_every_pod_once_with_the_total(web):
    seen = []
    for offset in range(0, 21, 6):
        page = httpx.get(web + "/api/v1/pods", params={"limit": 6, "offset": offset}).json()
        assert page["total"] == 21 and page["limit"] == 6 and page["offset"] == offset
        seen += [p["id"] for p in page["items"]]
    assert len(seen) == 21 and len(set(seen)) == 21
    assert httpx.get(web + "/api/v1/pods", params={"offset": 500}).json()["items"] == []


def test_filters_by_cluster_namespace_health_text_owner_and_gone(web):
    assert set(names(web, cluster="prod-us")) == {"web-pull", "cache-unready", "migrate-done", "old-crash-gone",
                                                   "100%_literal"}
    assert names(web, cluster="kubeconfig///prod-us") == names(web, cluster="prod-us")  # by key too
    assert names(web, namespace="data") == ["db-stuck", "db-new"]
    assert names(web, health=["failing", "degraded"], gone="exclude") == [
        "api-7c9-crash", "worker-oom", "web-pull", "db-stuck", "cache-unready"]
    assert names(web, q="OOMKILLED") == ["worker-oom"]          # the top reason, any case
    assert names(web, q="readiness probe") == ["cache-unready"]  # the top message
    assert names(web, q="100%") == ["100%_literal"]             # % is literal, not a wildcard
    assert names(web, q="_lit") == ["100%_literal"]
    assert names(web, owner="nightly") == ["100%_literal"]
    assert names(web, owner="Job/nightly") == ["100%_literal"]
    assert names(web, owner="ReplicaSet/nightly") == []
    assert names(web, gone="only") == ["old-crash-gone"]
    assert "old-crash-gone" not in names(web, gone="exclude")
    assert names(web, cluster="nowhere") == []


def test_one_pod_with_containers_events_and_top_issue(web, triage):
    pod = httpx.get(f"{web}/api/v1/pods/{triage.pods['api-7c9-crash']}").json()
    assert [(c["name"], c["init"]) for c in pod["containers"]] == [("migrate", True), ("api", False),
                                                                  ("sidecar", False)]
    api = pod["containers"][1]
    assert api["reason"] == "CrashLoopBackOff" and api["restart_count"] == 12 and api["last_exit_code"] == 1
    assert api["log_counts"] == {"error": 3, "warning": 1, "exception": 1}
    assert pod["containers"][2]["log_error"] == "log call failed: 500"
    assert [e["reason"] for e in pod["events"]] == ["BackOff", "Pulled", "<b>Unhealthy</b>"]  # latest first
    assert pod["events"][0]["type"] == "Warning" and pod["events"][0]["count"] == 31
    assert pod["top"]["reason"] == "CrashLoopBackOff" and pod["labels"] == {"app": "api"}
    missing = httpx.get(f"{web}/api/v1/pods/999999")
    assert missing.status_code == 404 and "999999" in missing.json()["detail"]


def test_logs_filter_by_level_and_container_newest_first_with_counts(web, triage):
    url = f"{web}/api/v1/pods/{triage.pods['api-7c9-crash']}/logs"
    everything = httpx.get(url).json()
    assert everything["total"] == 9
    assert everything["counts"] == {"info": 3, "warning": 1, "error": 4, "exception": 1}
    assert everything["items"][0]["text"] == "upstream healthy"  # newest first, current instance first
    assert everything["items"][-1]["previous"] is True
    errors = httpx.get(url, params={"level": "error"}).json()
    assert {e["level"] for e in errors["items"]} == {"error"} and errors["total"] == 4
    assert HOSTILE_SCRIPT in [e["text"] for e in errors["items"]]  # stored and served verbatim, as data
    both = httpx.get(url, params={"level": ["error", "exception"], "previous": "false"}).json()
    assert both["total"] == 4 and "Traceback" in both["items"][0]["text"] and "\n" in both["items"][0]["text"]
    sidecar = httpx.get(url, params={"container": "sidecar"}).json()
    assert sidecar["total"] == 2 and sidecar["counts"]["error"] == 0
    page = httpx.get(url, params={"limit": 2, "offset": 2}).json()
    assert [e["id"] for e in page["items"]] == [e["id"] for e in everything["items"][2:4]]
    assert httpx.get(f"{web}/api/v1/pods/999999/logs").status_code == 404


def test_summary_counts_per_health_per_cluster_and_namespace(web):
    summary = httpx.get(web + "/api/v1/summary").json()
    assert summary["total"] == 20 and summary["gone"] == 1
    assert summary["health"] == {"failing": 3, "degraded": 2, "initializing": 1, "healthy": 13, "completed": 1}
    by_ns = {(n["cluster"], n["namespace"]): n["health"] for n in summary["namespaces"]}
    assert by_ns[("prod-eu", "shop")] == {"failing": 2, "degraded": 0, "initializing": 0, "healthy": 12,
                                          "completed": 0}
    assert by_ns[("prod-eu", "data")]["degraded"] == 1 and by_ns[("prod-eu", "data")]["initializing"] == 1
    assert {c["cluster"]: c["total"] for c in summary["clusters"]} == {"prod-eu": 16, "prod-us": 4}
    us = httpx.get(web + "/api/v1/summary", params={"cluster": "prod-us"}).json()
    assert us["total"] == 4 and us["gone"] == 1 and [c["cluster"] for c in us["clusters"]] == ["prod-us"]


def test_healthz_openapi_and_ui_config(web):
    health = httpx.get(web + "/healthz")
    assert health.status_code == 200 and health.json()["checks"]["database"] == "ok"
    assert health.json()["checks"]["web"].startswith("running")  # the runnable serving it
    schema = httpx.get(web + "/openapi.json").json()
    assert {"/api/v1/pods", "/api/v1/pods/{pod_id}", "/api/v1/pods/{pod_id}/logs", "/api/v1/summary",
            "/healthz"} <= set(schema["paths"])
    assert httpx.get(web + "/docs").status_code == 404  # Swagger UI would need a CDN and inline script
    config = httpx.get(web + "/api/v1/config").json()
    assert config == {"pods_refresh_seconds": 30.0, "logs_refresh_seconds": 10.0, "page_size": 100, "auth": False}


@pytest.mark.parametrize("path", ["/", "/static/app.js", "/static/app.css", "/api/v1/pods", "/healthz",
                                  "/api/v1/pods/424242"])
def test_every_answer_has_a_strict_content_security_policy(web, path):
    response = httpx.get(web + path)
    csp = response.headers["content-security-policy"]
    assert "script-src 'self'" in csp and "default-src 'none'" in csp and "frame-ancestors 'none'" in csp
    assert "unsafe-inline" not in csp and "unsafe-eval" not in csp
    assert response.headers["x-content-type-options"] == "nosniff"


def test_the_page_has_no_inline_script(web):
    html = httpx.get(web + "/").text
    assert '<script src="/static/app.js" defer></script>' in html
    assert html.count("<script") == 1 and " on" not in html.replace(" one", "")  # no onclick= handlers either


@pytest.mark.parametrize(("path", "params", "name"), [
    ("/api/v1/pods", {"q": "a\x00b"}, "q"),
    ("/api/v1/pods", {"namespace": "x\x00"}, "namespace"),
    ("/api/v1/pods", {"limit": 0}, "limit"),
    ("/api/v1/pods", {"health": "sick"}, "health"),
    ("/api/v1/pods", {"gone": "maybe"}, "gone"),
    ("/api/v1/pods/1/logs", {"level": "fatal"}, "level"),
    ("/api/v1/pods/99999999999999999999999", {}, "pod_id"),
])
def test_bad_parameters_are_422_naming_the_parameter(web, path, params, name):
    response = httpx.get(web + path, params=params)
    assert response.status_code == 422
    assert name in response.text


def test_identical_requests_reuse_the_answer_within_the_cache_ttl(engine, triage):
    from sqlalchemy import update
    from web_helpers import serve_app

    from nautilus_core.db import Pod
    from nautilus_core.web import WebOptions

    def top_message(url: str) -> str:
        return httpx.get(url + "/api/v1/pods", params={"q": "worker-oom"}).json()["items"][0]["top"]["message"]

    with serve_app(engine, WebOptions(cache_ttl=60)) as cached, serve_app(engine, WebOptions(cache_ttl=0)) as fresh:
        assert top_message(cached) == top_message(fresh) == "exit code 137"
        with engine.begin() as conn:
            conn.execute(update(Pod.__table__).where(Pod.__table__.c.name == "worker-oom")
                         .values(top_message="exit code 137, again"))
        assert top_message(fresh) == "exit code 137, again"
        assert top_message(cached) == "exit code 137"  # the same request within the TTL
        other = httpx.get(cached + "/api/v1/pods", params={"q": "worker-oom", "limit": 5}).json()
        assert other["items"][0]["top"]["message"] == "exit code 137, again"  # another request is not
        assert httpx.get(cached + "/healthz").json()["checks"]["database"] == "ok"


def test_a_database_outage_is_503_and_healthz_fails_without_leaking_the_password(postgres_admin_url):
    from sqlalchemy.engine import make_url
    from web_helpers import serve_app

    from nautilus_core.db import make_engine

    url = make_url(postgres_admin_url).set(database="nautilus_absent_db", password="pw-not-to-show")
    engine = make_engine(url.render_as_string(hide_password=False))
    with serve_app(engine) as web:
        pods = httpx.get(web + "/api/v1/pods")
        assert pods.status_code == 503 and pods.headers["retry-after"] == "5"
        assert "unavailable" in pods.json()["detail"]
        health = httpx.get(web + "/healthz")
        assert health.status_code == 503 and health.json()["checks"]["database"].startswith("failing")
        assert "pw-not-to-show" not in pods.text + health.text
    engine.dispose()

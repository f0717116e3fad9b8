"""GkeProvider against a local fake of the GKE REST API, driven through the real ClusterManagerClient."""

from __future__ import annotations

import base64

import pytest
from google.oauth2.credentials import Credentials
from structlog.testing import capture_logs

from nautilus_core import ConfigError, PartialDiscovery, PermanentError, TransientError
from nautilus_gke import GkeProvider

CA_PEM = "-----BEGIN CERTIFICATE-----\nMIIBfake\n-----END CERTIFICATE-----\n"
CA_B64 = base64.b64encode(CA_PEM.encode()).decode()
CLUSTERS = r"/v1/projects/(?P<project>[^/]+)/locations/(?P<location>[^/]+)/clusters"


def gke_cluster(name: str, location: str, **extra) -> dict:
    """A cluster as the GKE REST API answers it (camelCase JSON)."""
    body = {
        "name": name, "location": location, "zone": location, "status": "RUNNING",
        "currentMasterVersion": "1.30.5-gke.1014001", "endpoint": "34.1.2.3",
        "masterAuth": {"clusterCaCertificate": CA_B64},
        "selfLink": f"https://container.googleapis.com/v1/projects/p/locations/{location}/clusters/{name}",
        "nodePools": [{"name": "default-pool", "initialNodeCount": 3, "locations": [location]}],
    }
    body.update(extra)
    return body


@pytest.fixture
def gke(http_fake, monkeypatch):
    """The fake GKE API (every project answers its own clusters) and the environment to use it."""
    fleet = {
        "alpha": [
            gke_cluster("web", "europe-west1-b", resourceLabels={"team": "web", "env": "prod"},
                        nodePools=[{"initialNodeCount": 3, "locations": ["europe-west1-b"]},
                                   {"initialNodeCount": 2, "locations": ["europe-west1-b", "europe-west1-c",
                                                                         "europe-west1-d"]}]),
            gke_cluster("batch", "us-central1", currentNodeCount=12, status="RECONCILING",
                        currentMasterVersion="1.29.8-gke.1"),
        ],
        "beta": [gke_cluster("data", "asia-east1-a", endpoint="35.9.9.9")],
    }

    def list_clusters(request, match):
        clusters = [c for c in fleet.get(match["project"], [])
                    if match["location"] in ("-", c["location"])]
        return 200, {"clusters": clusters}

    http_fake.route("GET", CLUSTERS, list_clusters)
    for name in ("NAUTILUS_GKE_PROJECTS", "NAUTILUS_GKE_LOCATION", "NAUTILUS_GKE_ANONYMOUS"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("NAUTILUS_GKE_ENDPOINT", http_fake.url)
    return http_fake


def provider(**kw) -> GkeProvider:
    kw.setdefault("credentials", Credentials(token="gke-test-token"))
    return GkeProvider(retry=False, **kw)


def test_discover_lists_every_project_in_every_location(gke):
    refs = {r.name: r for r in provider(projects=["alpha", "beta"]).discover()}

    assert set(refs) == {"web", "batch", "data"}
    web = refs["web"]
    assert (web.provider, web.account, web.location) == ("gke", "alpha", "europe-west1-b")
    assert (web.version, web.status) == ("1.30.5-gke.1014001", "RUNNING")
    assert web.node_count == 3 + 2 * 3  # initial counts are per zone of each pool
    assert web.endpoint == "https://34.1.2.3"
    assert dict(web.labels) == {"team": "web", "env": "prod"}
    assert web.extra["ca_data"] == CA_B64
    batch = refs["batch"]
    assert (batch.location, batch.status, batch.version, batch.node_count) == (
        "us-central1", "RECONCILING", "1.29.8-gke.1", 12)
    assert (refs["data"].account, refs["data"].endpoint) == ("beta", "https://35.9.9.9")
    asked = [(r.method, r.path) for r in gke.requests]
    assert asked == [("GET", "/v1/projects/alpha/locations/-/clusters"),
                     ("GET", "/v1/projects/beta/locations/-/clusters")]
    assert {r.headers.get("authorization") for r in gke.requests} == {"Bearer gke-test-token"}


def test_environment_configures_projects_location_and_anonymous_access(gke, monkeypatch):
    monkeypatch.setenv("NAUTILUS_GKE_PROJECTS", "alpha,beta")
    monkeypatch.setenv("NAUTILUS_GKE_LOCATION", "us-central1")
    monkeypatch.setenv("NAUTILUS_GKE_ANONYMOUS", "1")

    refs = list(GkeProvider(retry=False).discover())

    assert [(r.account, r.name) for r in refs] == [("alpha", "batch")]
    assert [r.path for r in gke.requests] == ["/v1/projects/alpha/locations/us-central1/clusters",
                                              "/v1/projects/beta/locations/us-central1/clusters"]
    assert all("authorization" not in r.headers for r in gke.requests)


def test_missing_projects_is_a_config_error_naming_the_variable(gke):
    with pytest.raises(ConfigError, match="NAUTILUS_GKE_PROJECTS"):
        list(provider().discover())


def test_permission_denied_names_project_and_location_without_the_token(gke):
    gke.route("GET", r"/v1/projects/beta/locations/-/clusters", (403, {"error": {
        "code": 403, "status": "PERMISSION_DENIED",
        "message": "Required 'container.clusters.list' permission for 'projects/beta'."}}))

    with pytest.raises(PermanentError) as caught:
        list(provider(projects=["alpha", "beta"]).discover())

    message = str(caught.value)
    assert message.startswith("gke: listing clusters failed in project beta location -: HTTP 403")
    assert "container.clusters.list" in message
    assert "gke-test-token" not in message


def test_server_errors_are_transient(gke):
    gke.route("GET", CLUSTERS, (503, {"error": {"code": 503, "message": "backend unavailable"}}))

    with pytest.raises(TransientError, match=r"project alpha location -: HTTP 503"):
        list(provider(projects=["alpha"]).discover())


def test_unreachable_api_is_transient(gke, closed_port):
    with pytest.raises(TransientError, match=r"gke: listing clusters failed in project alpha"):
        list(provider(projects=["alpha"], endpoint=f"http://127.0.0.1:{closed_port}").discover())


def test_unreachable_zones_make_the_answer_fail_instead_of_partial(gke):
    gke.route("GET", CLUSTERS, (200, {"clusters": [gke_cluster("web", "europe-west1-b")],
                                      "missingZones": ["europe-west1-c"]}))

    with pytest.raises(TransientError, match="zones europe-west1-c did not answer"):
        list(provider(projects=["alpha"]).discover())


def test_malformed_entries_are_skipped_with_a_warning_and_make_the_answer_partial(gke):
    nameless = gke_cluster("", "europe-west1-b")
    del nameless["name"]
    gke.route("GET", CLUSTERS, (200, {"clusters": [
        nameless,
        gke_cluster("no-endpoint", "europe-west1-b", endpoint=""),
        gke_cluster("creating", "europe-west1-b", endpoint="", status="PROVISIONING"),
        gke_cluster("fine", "europe-west1-b"),
    ]}))

    with capture_logs() as logs, pytest.raises(PartialDiscovery) as partial:
        list(provider(projects=["alpha"]).discover())

    refs = {r.name: r for r in partial.value.clusters}
    assert set(refs) == {"creating", "fine"}               # synced; nothing of gke tombstoned this run
    assert "cluster no-endpoint is malformed" in str(partial.value) and "project alpha" in str(partial.value)
    assert refs["creating"].endpoint is None
    assert [(e["event"], e.get("cluster"), e["field"]) for e in logs] == [
        ("gke_cluster_malformed", None, "name"), ("gke_cluster_malformed", "no-endpoint", "endpoint")]


def test_expired_credentials_are_refreshed_for_the_cluster_token(http_fake):
    grants = []

    def token_endpoint(request, match):
        grants.append(dict(p.split("=", 1) for p in request.body.decode().split("&")))
        return 200, {"access_token": f"fresh-{len(grants)}", "expires_in": 3600, "token_type": "Bearer"}

    http_fake.route("POST", "/token", token_endpoint)
    credentials = Credentials(token=None, refresh_token="refresh-me", client_id="cid",
                              client_secret="csecret",
                              token_uri=f"{http_fake.url}/token")
    gke_provider = GkeProvider(projects=["alpha"], credentials=credentials)

    assert gke_provider.token() == "fresh-1"
    assert gke_provider.token() == "fresh-1"  # still valid: no second grant
    assert [(g["grant_type"], g["refresh_token"]) for g in grants] == [("refresh_token", "refresh-me")]


def test_rejected_refresh_is_a_permanent_error_naming_the_provider(http_fake):
    http_fake.route("POST", "/token", (400, {"error": "invalid_grant", "error_description": "Token revoked"}))
    credentials = Credentials(token=None, refresh_token="refresh-me", client_id="cid",
                              client_secret="csecret",
                              token_uri=f"{http_fake.url}/token")

    with pytest.raises(PermanentError) as caught:
        GkeProvider(projects=["alpha"], credentials=credentials).token()

    assert str(caught.value).startswith("gke: refreshing credentials failed in project alpha")
    assert "invalid_grant" in str(caught.value)
    assert "csecret" not in str(caught.value) and "refresh-me" not in str(caught.value)


def test_anonymous_credentials_give_no_cluster_token(monkeypatch):
    monkeypatch.setenv("NAUTILUS_GKE_ANONYMOUS", "1")

    with pytest.raises(PermanentError, match="anonymous credentials cannot authenticate"):
        GkeProvider(projects=["beta"]).token()

"""AksProvider against a local fake of Azure Resource Manager, driven through the real
ContainerServiceClient (bearer tokens over http allowed for the configured test endpoint)."""

from __future__ import annotations

import base64
import time

import pytest
import yaml
from azure.core.credentials import AccessToken
from azure.core.exceptions import ClientAuthenticationError
from structlog.testing import capture_logs

from nautilus_aks import AksProvider
from nautilus_core import ConfigError, PartialDiscovery, PermanentError, TransientError

SUB_A = "00000000-0000-0000-0000-00000000000a"
SUB_B = "00000000-0000-0000-0000-00000000000b"
LIST = r"/subscriptions/(?P<sub>[^/]+)/providers/Microsoft.ContainerService/managedClusters"
USER_CREDS = (r"/subscriptions/(?P<sub>[^/]+)/resourceGroups/(?P<rg>[^/]+)/providers/"
              r"Microsoft.ContainerService/managedClusters/(?P<name>[^/]+)/listClusterUserCredential")
CA_PEM = "-----BEGIN CERTIFICATE-----\nMIIBaks\n-----END CERTIFICATE-----\n"


class FixedCredential:
    """A TokenCredential that hands out a fixed token and remembers the scopes asked for."""

    def __init__(self, token: str = "aks-test-token", lifetime: float = 3600) -> None:
        self.token, self.lifetime, self.scopes = token, lifetime, []

    def get_token(self, *scopes: str, **kwargs) -> AccessToken:
        self.scopes.append(scopes)
        return AccessToken(f"{self.token}-{len(self.scopes)}", int(time.time() + self.lifetime))


class RefusingCredential:
    def get_token(self, *scopes: str, **kwargs) -> AccessToken:
        raise ClientAuthenticationError("EnvironmentCredential: client secret expired")


def managed_cluster(sub: str, rg: str, name: str, location: str = "westeurope", **props) -> dict:
    properties = {
        "provisioningState": "Succeeded", "powerState": {"code": "Running"},
        "kubernetesVersion": "1.30", "currentKubernetesVersion": "1.30.4",
        "fqdn": f"{name}-dns-abc123.hcp.{location}.azmk8s.io",
        "agentPoolProfiles": [{"name": "system", "count": 3, "vmSize": "Standard_D4s_v5", "mode": "System"}],
    }
    properties.update(props)
    return {
        "id": f"/subscriptions/{sub}/resourcegroups/{rg}/providers/Microsoft.ContainerService/"
              f"managedClusters/{name}",
        "name": name, "type": "Microsoft.ContainerService/ManagedClusters", "location": location,
        "tags": {"owner": "ops"}, "properties": properties,
    }


def user_kubeconfig(name: str, ca_pem: str = CA_PEM) -> str:
    return yaml.safe_dump({
        "apiVersion": "v1", "kind": "Config", "current-context": name,
        "clusters": [{"name": name, "cluster": {
            "certificate-authority-data": base64.b64encode(ca_pem.encode()).decode(),
            "server": f"https://{name}-dns-abc123.hcp.westeurope.azmk8s.io:443"}}],
        "users": [{"name": "clusterUser", "user": {"token": "local-account-secret-token"}}],
        "contexts": [{"name": name, "context": {"cluster": name, "user": "clusterUser"}}],
    })


@pytest.fixture
def arm(http_fake, monkeypatch):
    fleet = {
        SUB_A: [
            managed_cluster(SUB_A, "rg-web", "web", tags=None, agentPoolProfiles=[
                {"name": "system", "count": 3}, {"name": "user", "count": 5}]),
            managed_cluster(SUB_A, "rg-batch", "batch", location="eastus", powerState={"code": "Stopped"},
                            currentKubernetesVersion=None, kubernetesVersion="1.29.7"),
        ],
        SUB_B: [managed_cluster(SUB_B, "rg-data", "data", location="northeurope")],
    }

    def list_clusters(request, match):
        return 200, {"value": fleet.get(match["sub"], [])}

    def credentials(request, match):
        value = base64.b64encode(user_kubeconfig(match["name"]).encode()).decode()
        return 200, {"kubeconfigs": [{"name": "clusterUser", "value": value}]}

    http_fake.route("GET", LIST, list_clusters)
    http_fake.route("POST", USER_CREDS, credentials)
    monkeypatch.delenv("NAUTILUS_AKS_SUBSCRIPTIONS", raising=False)
    monkeypatch.setenv("NAUTILUS_AKS_ENDPOINT", http_fake.url)
    return http_fake


def provider(credential=None, **kw) -> AksProvider:
    return AksProvider(credential=credential or FixedCredential(), retry_total=0, **kw)


def test_discover_lists_managed_clusters_of_every_subscription(arm):
    credential = FixedCredential()
    refs = {r.name: r for r in provider(credential, subscriptions=[SUB_A, SUB_B]).discover()}

    assert set(refs) == {"web", "batch", "data"}
    web = refs["web"]
    assert (web.provider, web.account, web.location) == ("aks", SUB_A, "westeurope")
    assert (web.version, web.status, web.node_count) == ("1.30.4", "Running", 8)
    assert web.endpoint == "https://web-dns-abc123.hcp.westeurope.azmk8s.io:443"
    assert web.extra["resource_group"] == "rg-web"
    assert dict(refs["data"].labels) == {"owner": "ops"}
    batch = refs["batch"]
    assert (batch.status, batch.version, batch.location) == ("Stopped", "1.29.7", "eastus")
    assert [r.path for r in arm.requests] == [
        f"/subscriptions/{SUB_A}/providers/Microsoft.ContainerService/managedClusters",
        f"/subscriptions/{SUB_B}/providers/Microsoft.ContainerService/managedClusters"]
    assert all(r.query.get("api-version") for r in arm.requests)
    assert arm.requests[0].headers["authorization"] == "Bearer aks-test-token-1"
    assert credential.scopes[0] == ("https://management.azure.com/.default",)


def test_subscriptions_come_from_the_environment(arm, monkeypatch):
    monkeypatch.setenv("NAUTILUS_AKS_SUBSCRIPTIONS", f" {SUB_B} ")

    assert [r.name for r in provider().discover()] == ["data"]


def test_missing_subscriptions_is_a_config_error_naming_the_variable(arm):
    with pytest.raises(ConfigError, match="NAUTILUS_AKS_SUBSCRIPTIONS"):
        list(provider().discover())


def test_pages_are_followed(arm):
    second = f"{arm.url}/subscriptions/{SUB_A}/providers/Microsoft.ContainerService/managedClusters/page2"
    arm.route("GET", LIST, (200, {"value": [managed_cluster(SUB_A, "rg", "one")],
                                  "nextLink": second + "?api-version=2026-08-01&%24skiptoken=2"}))
    arm.route("GET", LIST + "/page2", (200, {"value": [managed_cluster(SUB_A, "rg", "two")]}))

    assert [r.name for r in provider(subscriptions=[SUB_A]).discover()] == ["one", "two"]


def test_forbidden_names_the_subscription_and_hides_the_token(arm):
    arm.route("GET", LIST, (403, {"error": {
        "code": "AuthorizationFailed",
        "message": f"The client 'nautilus' does not have authorization to perform action "
                   "'Microsoft.ContainerService/managedClusters/read' "
                   f"over scope '/subscriptions/{SUB_B}'."}}))

    with pytest.raises(PermanentError) as caught:
        list(provider(subscriptions=[SUB_B]).discover())

    message = str(caught.value)
    assert message.startswith(f"aks: listing managed clusters failed in subscription {SUB_B}: HTTP 403")
    assert "AuthorizationFailed" in message
    assert "aks-test-token" not in message


def test_throttling_is_transient(arm):
    arm.route("GET", LIST, (429, {"error": {"code": "TooManyRequests", "message": "slow down"}}))

    with pytest.raises(TransientError, match=f"subscription {SUB_A}: HTTP 429"):
        list(provider(subscriptions=[SUB_A]).discover())


def test_unreachable_arm_is_transient(closed_port):
    unreachable = provider(subscriptions=[SUB_A], endpoint=f"http://127.0.0.1:{closed_port}")

    with pytest.raises(TransientError, match=f"aks: listing managed clusters failed in subscription {SUB_A}"):
        list(unreachable.discover())


def test_refused_credential_is_permanent(arm):
    with pytest.raises(PermanentError, match=f"subscription {SUB_A}: credentials unavailable or rejected"):
        list(provider(RefusingCredential(), subscriptions=[SUB_A]).discover())


def test_malformed_entries_are_skipped_with_a_warning_and_make_the_answer_partial(arm):
    nameless = managed_cluster(SUB_A, "rg", "x")
    del nameless["name"]
    no_fqdn = managed_cluster(SUB_A, "rg", "no-fqdn", fqdn=None)
    creating = managed_cluster(SUB_A, "rg", "creating", fqdn=None, provisioningState="Creating",
                               powerState=None)
    fine = managed_cluster(SUB_A, "rg", "ok")
    arm.route("GET", LIST, (200, {"value": [nameless, no_fqdn, creating, fine]}))

    with capture_logs() as logs, pytest.raises(PartialDiscovery) as partial:
        list(provider(subscriptions=[SUB_A]).discover())

    refs = {r.name: r for r in partial.value.clusters}
    assert set(refs) == {"creating", "ok"}                 # synced; nothing of aks tombstoned this run
    assert "cluster no-fqdn is malformed" in str(partial.value) and SUB_A in str(partial.value)
    assert (refs["creating"].endpoint, refs["creating"].status) == (None, "Creating")
    assert [(e["event"], e["cluster"], e["field"]) for e in logs] == [
        ("aks_cluster_malformed", None, "name"), ("aks_cluster_malformed", "no-fqdn", "fqdn")]


def test_ca_comes_from_the_user_kubeconfig_and_the_token_from_the_aks_scope(arm):
    credential = FixedCredential(lifetime=3600)
    aks = provider(credential, subscriptions=[SUB_A])
    web = next(r for r in aks.discover() if r.name == "web")

    assert aks.ca_pem(web) == CA_PEM
    assert arm.requests[-1].method == "POST"
    assert arm.requests[-1].path.endswith("/resourceGroups/rg-web/providers/Microsoft.ContainerService/"
                                          "managedClusters/web/listClusterUserCredential")
    first = aks.token()
    assert aks.token() == first  # cached while far from expiry
    assert credential.scopes[-1] == ("6dae42f8-4368-4678-94ff-3960e28e3630/.default",)


def test_cluster_token_is_renewed_near_expiry():
    credential = FixedCredential(lifetime=60)  # inside the renewal margin
    aks = provider(credential, subscriptions=[SUB_A])

    assert aks.token() != aks.token()


def test_kubeconfig_without_ca_is_a_permanent_error(arm):
    arm.route("POST", USER_CREDS, (200, {"kubeconfigs": [
        {"name": "clusterUser", "value": base64.b64encode(b"apiVersion: v1\nclusters: []\n").decode()}]}))
    aks = provider(subscriptions=[SUB_A])
    web = next(r for r in aks.discover() if r.name == "web")

    with pytest.raises(PermanentError, match="has no certificate-authority-data"):
        aks.connect(web)

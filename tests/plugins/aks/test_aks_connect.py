"""AksProvider.connect() against the core's Kubernetes API emulator: the Entra ID token opens it."""

from __future__ import annotations

import dataclasses
import time

import pytest
from azure.core.credentials import AccessToken

from nautilus_aks import AksProvider
from nautilus_core.kube import Unauthorized

SUB = "00000000-0000-0000-0000-0000000000c1"


class ScopedCredential:
    """Hands out a token per scope, as Entra ID does (ARM and AKS tokens differ)."""

    def __init__(self, tokens: dict[str, str]) -> None:
        self.tokens = tokens

    def get_token(self, *scopes: str, **kwargs) -> AccessToken:
        return AccessToken(self.tokens[scopes[0]], int(time.time()) + 3600)


CREDENTIAL = ScopedCredential({
    "https://management.azure.com/.default": "arm-token",
    "6dae42f8-4368-4678-94ff-3960e28e3630/.default": "aks-server-token",
})


@pytest.fixture
def cluster(http_fake, kube_emulator):
    """A cluster discovered through the fake ARM whose endpoint is the emulator."""
    http_fake.route("GET", rf"/subscriptions/{SUB}/providers/Microsoft.ContainerService/managedClusters",
                    (200, {"value": [{
                        "id": f"/subscriptions/{SUB}/resourceGroups/rg/providers/"
                              "Microsoft.ContainerService/managedClusters/web",
                        "name": "web", "location": "westeurope",
                        "properties": {"provisioningState": "Succeeded",
                                       "fqdn": "web.hcp.westeurope.azmk8s.io",
                                       "currentKubernetesVersion": "1.30.2"}}]}))
    aks = AksProvider(subscriptions=[SUB], endpoint=http_fake.url, credential=CREDENTIAL, retry_total=0)
    [ref] = aks.discover()
    return dataclasses.replace(ref, endpoint=kube_emulator.url)


def test_connect_sends_the_token_of_the_aks_server_scope(cluster, kube_emulator):
    kube_emulator.token = "aks-server-token"

    with AksProvider(subscriptions=[SUB], credential=CREDENTIAL).connect(cluster) as client:
        assert client.version()["gitVersion"] == "v1.30.2"
        assert client.name == f"aks/{SUB}/westeurope/web"


def test_a_token_the_cluster_rejects_is_unauthorized(cluster, kube_emulator):
    kube_emulator.token = "arm-token-is-not-enough"

    aks = AksProvider(subscriptions=[SUB], credential=CREDENTIAL)

    with aks.connect(cluster) as client, pytest.raises(Unauthorized):
        client.version()

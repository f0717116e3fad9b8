"""GkeProvider.connect() against the core's Kubernetes API emulator: the Google token opens it."""

from __future__ import annotations

import dataclasses

import pytest
from google.oauth2.credentials import Credentials

from nautilus_core.kube import Unauthorized
from nautilus_gke import GkeProvider


@pytest.fixture
def cluster(http_fake, kube_emulator):
    """A cluster discovered through the fake GKE API whose endpoint is the emulator."""
    http_fake.route("GET", r"/v1/projects/alpha/locations/-/clusters", (200, {"clusters": [{
        "name": "web", "location": "europe-west1", "status": "RUNNING", "endpoint": "34.1.2.3",
        "currentMasterVersion": "1.30.2-gke.1"}]}))
    gke = GkeProvider(projects=["alpha"], endpoint=http_fake.url, credentials=Credentials(token="listing"),
                      retry=False)
    [ref] = gke.discover()
    return dataclasses.replace(ref, endpoint=kube_emulator.url)


def test_connect_refreshes_the_credentials_and_sends_their_token(cluster, http_fake, kube_emulator):
    http_fake.route("POST", "/token", (200, {"access_token": "fresh-google-token", "expires_in": 3600}))
    credentials = Credentials(token=None, refresh_token="r", client_id="c", client_secret="s",
                              token_uri=f"{http_fake.url}/token")
    kube_emulator.token = "fresh-google-token"

    with GkeProvider(projects=["alpha"], credentials=credentials).connect(cluster) as client:
        assert client.version()["gitVersion"] == "v1.30.2"
        assert client.name == "gke/alpha/europe-west1/web"


def test_a_token_the_cluster_rejects_is_unauthorized(cluster, kube_emulator):
    kube_emulator.token = "the-right-token"

    gke = GkeProvider(projects=["alpha"], credentials=Credentials(token="a-wrong-token"))

    with gke.connect(cluster) as client, pytest.raises(Unauthorized):
        client.version()

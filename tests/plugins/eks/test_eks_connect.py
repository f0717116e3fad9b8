"""EksProvider.connect() against the core's Kubernetes API emulator: the STS-presigned token opens it."""

from __future__ import annotations

import dataclasses

import pytest

from nautilus_core.kube import Unauthorized
from nautilus_eks import EksProvider


def test_connect_authenticates_with_the_clusters_presigned_token(make_cluster, kube_emulator, monkeypatch):
    make_cluster("eu-west-1", "payments")
    monkeypatch.setenv("NAUTILUS_EKS_REGIONS", "eu-west-1")
    eks = EksProvider()
    [discovered] = eks.discover()
    cluster = dataclasses.replace(discovered, endpoint=kube_emulator.url)
    kube_emulator.token = eks.token(cluster)  # what the cluster's authenticator would accept

    with eks.connect(cluster) as client:
        assert client.version()["gitVersion"] == "v1.30.2"
        assert client.name == "eks/123456789012/eu-west-1/payments"


def test_a_token_the_cluster_rejects_is_unauthorized(make_cluster, kube_emulator, monkeypatch):
    make_cluster("eu-west-1", "payments")
    monkeypatch.setenv("NAUTILUS_EKS_REGIONS", "eu-west-1")
    eks = EksProvider()
    [discovered] = eks.discover()
    cluster = dataclasses.replace(discovered, endpoint=kube_emulator.url)
    # the token of another cluster: signed for a different x-k8s-aws-id
    kube_emulator.token = eks.token(dataclasses.replace(cluster, name="other"))

    with eks.connect(cluster) as client, pytest.raises(Unauthorized):
        client.version()

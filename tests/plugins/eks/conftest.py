"""Fixtures for the EKS provider tests: a moto server on 127.0.0.1 and an AWS environment
pointing every boto3 client at it (through the standard ``AWS_ENDPOINT_URL``)."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import boto3
import pytest
import requests
from moto.server import ThreadedMotoServer

ACCESS_KEY = "AKIAIOSFODNN7NAUTILS"
SECRET_KEY = "nautilus/secret+key/that/must/never/be/printed"


@pytest.fixture(scope="session")
def moto_url() -> Iterator[str]:
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


@dataclass(frozen=True)
class Aws:
    url: str
    access_key: str = ACCESS_KEY
    secret_key: str = SECRET_KEY


@pytest.fixture
def aws(moto_url: str, monkeypatch: pytest.MonkeyPatch, tmp_path: os.PathLike[str]) -> Iterator[Aws]:
    """A clean moto backend and an AWS environment using it (``aws.url``, the keys in use)."""
    requests.post(f"{moto_url}/moto-api/reset", timeout=10).raise_for_status()
    for name in list(os.environ):
        if name.startswith(("AWS_", "NAUTILUS_EKS_")):
            monkeypatch.delenv(name)
    monkeypatch.setenv("AWS_ENDPOINT_URL", moto_url)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", ACCESS_KEY)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", SECRET_KEY)
    monkeypatch.setenv("AWS_DEFAULT_REGION", "eu-west-1")
    monkeypatch.setenv("AWS_MAX_ATTEMPTS", "1")
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path) + "/no-aws-config")
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path) + "/no-aws-credentials")
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    yield Aws(moto_url)


@pytest.fixture
def moto_auth(aws: Aws) -> Iterator[None]:
    """Make moto check credentials (unknown access keys are rejected with 403) for one test."""
    requests.post(f"{aws.url}/moto-api/reset-auth", data="0", timeout=10).raise_for_status()
    try:
        yield
    finally:
        requests.post(f"{aws.url}/moto-api/reset-auth", data="inf", timeout=10).raise_for_status()


def _make_cluster(region: str, name: str, *, version: str = "1.29", tags: dict[str, str] | None = None,
                 nodegroups: dict[str, int] | None = None, session: boto3.Session | None = None) -> dict:
    """Create a cluster (and managed node groups with the given desired sizes) through boto3."""
    eks = (session or boto3.Session()).client("eks", region_name=region)
    role = "arn:aws:iam::123456789012:role/eks"
    cluster = eks.create_cluster(name=name, version=version, roleArn=role, tags=tags or {},
                                 resourcesVpcConfig={"subnetIds": ["subnet-1"]})["cluster"]
    for group, desired in (nodegroups or {}).items():
        eks.create_nodegroup(clusterName=name, nodegroupName=group, nodeRole=role, subnets=["subnet-1"],
                             scalingConfig={"minSize": 0, "maxSize": 10, "desiredSize": desired})
    return cluster


@pytest.fixture
def make_cluster(aws: Aws) -> Callable[..., dict]:
    """``make_cluster(region, name, version=, tags=, nodegroups={name: desired}, session=)``."""
    return _make_cluster

"""Fixtures for the emulator's own tests: real ``kubernetes`` clients built from emulator kubeconfigs.

The emulator fixtures themselves (``kube_emulator``, ``kubeconfig_path``, ``kube_fleet``) come from the
``nautilus`` pytest plugin. Clients here have urllib3's retries switched off, so injected faults reach
the test instead of being retried away (urllib3 retries a 429 with Retry-After on its own).
``kubectl`` runs the real kubectl binary against the emulator (the conformance suite, test_kubectl_*).
"""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from kubectl_helpers import Kubectl
from kubernetes import client, config


def make_client(kubeconfig: Path, context: str | None = None) -> client.ApiClient:
    configuration = client.Configuration()
    config.load_kube_config(config_file=str(kubeconfig), context=context, client_configuration=configuration)
    configuration.retries = False
    return client.ApiClient(configuration)


@pytest.fixture
def client_factory() -> Iterator[Callable[..., client.ApiClient]]:
    """``client_factory(kubeconfig, context=None)``: an ApiClient, closed at teardown."""
    made: list[client.ApiClient] = []

    def factory(kubeconfig: Path, context: str | None = None) -> client.ApiClient:
        api = make_client(kubeconfig, context)
        made.append(api)
        return api

    yield factory
    for api in made:
        api.close()


@pytest.fixture
def api_client(kubeconfig_path: Path, client_factory: Callable[..., client.ApiClient]) -> client.ApiClient:
    return client_factory(kubeconfig_path)


@pytest.fixture
def core(api_client: client.ApiClient) -> client.CoreV1Api:
    return client.CoreV1Api(api_client)


@pytest.fixture
def apps(api_client: client.ApiClient) -> client.AppsV1Api:
    return client.AppsV1Api(api_client)


@pytest.fixture
def custom(api_client: client.ApiClient) -> client.CustomObjectsApi:
    return client.CustomObjectsApi(api_client)


@pytest.fixture
def kubectl(kubeconfig_path: Path, tmp_path: Path, kube_emulator: Any) -> Kubectl:
    """kubectl (skipped where it is not installed) against ``kube_emulator`` (which seeds namespace default)."""
    binary = shutil.which("kubectl")
    if binary is None:
        pytest.skip("kubectl is not installed on this machine (the conformance suite drives the real binary)")
    home = tmp_path / "kubectl-home"
    home.mkdir()
    return Kubectl(binary, kubeconfig_path, home)

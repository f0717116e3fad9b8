"""Fixtures for the emulator's own tests: real ``kubernetes`` clients built from emulator kubeconfigs.

The emulator fixtures themselves (``kube_emulator``, ``kubeconfig_path``, ``kube_fleet``) come from the
``nautilus`` pytest plugin. Clients here have urllib3's retries switched off, so injected faults reach
the test instead of being retried away (urllib3 retries a 429 with Retry-After on its own).
``kubectl`` runs the real kubectl binary against the emulator (the conformance suite, test_kubectl_*).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
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


class Kubectl:
    """The real ``kubectl`` binary against one emulator: its own kubeconfig and cache (HOME)."""

    def __init__(self, binary: str, kubeconfig: Path, home: Path) -> None:
        self.binary = binary
        self.env = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "HOME": str(home),
            "KUBECONFIG": str(kubeconfig),
        }

    def run(
        self, *args: str, stdin: str | None = None, check: bool = True, timeout: float = 30
    ) -> subprocess.CompletedProcess[str]:
        """``kubectl --request-timeout=10s ARGS``; ``check``: fail the test on a non-zero exit."""
        done = subprocess.run(
            [self.binary, "--request-timeout=10s", *args],
            input=stdin,
            capture_output=True,
            text=True,
            env=self.env,
            timeout=timeout,
        )
        if check and done.returncode != 0:
            raise AssertionError(f"kubectl {' '.join(args)} failed ({done.returncode}): {done.stderr}")
        return done

    def out(self, *args: str, stdin: str | None = None) -> str:
        return self.run(*args, stdin=stdin).stdout

    def json(self, *args: str) -> Any:
        return json.loads(self.out(*args, "-o", "json"))

    def popen(self, *args: str, request_timeout: str = "10s") -> subprocess.Popen[str]:
        """A long-running kubectl (``get -w``); ``request_timeout`` also ends its watch."""
        return subprocess.Popen(
            [self.binary, f"--request-timeout={request_timeout}", *args],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=self.env,
        )


@pytest.fixture
def kubectl(kubeconfig_path: Path, tmp_path: Path, kube_emulator: Any) -> Kubectl:
    """kubectl (skipped where it is not installed) against ``kube_emulator``, namespace default created."""
    binary = shutil.which("kubectl")
    if binary is None:
        pytest.skip("kubectl is not installed on this machine (the conformance suite drives the real binary)")
    home = tmp_path / "kubectl-home"
    home.mkdir()
    kube_emulator.create({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "default"}})
    return Kubectl(binary, kubeconfig_path, home)

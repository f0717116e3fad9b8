"""Nautilus's own environment variables are Settings fields: validated once, named in errors, passed in."""

from __future__ import annotations

import subprocess
import sys

import pytest

from nautilus_core.config import load_settings
from nautilus_core.errors import ConfigError
from nautilus_core.inventory.providers import InClusterProvider, KubeconfigProvider
from nautilus_core.plugins import disabled_plugins


def nautilus(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    import os

    return subprocess.run([sys.executable, "-m", "nautilus_core.cli", *args], capture_output=True, text=True,
                          env=os.environ | {"LOG_FORMAT": "json"} | env, timeout=60)


def test_the_in_cluster_provider_reads_the_pod_environment(monkeypatch):
    monkeypatch.delenv("KUBERNETES_SERVICE_HOST", raising=False)
    assert list(InClusterProvider().discover()) == []
    monkeypatch.setenv("KUBERNETES_SERVICE_HOST", "10.0.0.1")
    monkeypatch.setenv("KUBERNETES_SERVICE_PORT", "6443")
    monkeypatch.setenv("NAUTILUS_CLUSTER_NAME", "prod-eu")
    [ref] = InClusterProvider().discover()
    assert (ref.name, ref.endpoint) == ("prod-eu", "https://10.0.0.1:6443")


def test_a_bad_in_cluster_port_is_a_config_error_naming_it(monkeypatch):
    monkeypatch.setenv("KUBERNETES_SERVICE_HOST", "10.0.0.1")
    monkeypatch.setenv("KUBERNETES_SERVICE_PORT", "https")
    with pytest.raises(ConfigError, match="KUBERNETES_SERVICE_PORT='https'"):
        list(InClusterProvider().discover())
    with pytest.raises(ConfigError, match="KUBERNETES_SERVICE_PORT='https'"):
        load_settings()


def test_kubeconfig_lists_several_files_like_kubectl(monkeypatch, tmp_path):
    a, b = tmp_path / "a.yaml", tmp_path / "b.yaml"
    monkeypatch.setenv("KUBECONFIG", f"{a}:{b}")
    assert KubeconfigProvider()._files() == [str(a), str(b)]
    assert load_settings().kubeconfig == f"{a}:{b}"
    assert KubeconfigProvider(kubeconfig=str(b))._files() == [str(b)]


def test_disabled_plugins_come_from_the_settings(monkeypatch):
    monkeypatch.setenv("NAUTILUS_DISABLE_PLUGINS", " eks, ,gke ")
    assert disabled_plugins() == {"eks", "gke"}
    assert load_settings().disable_plugins == ["eks", "gke"]
    assert disabled_plugins("aks") == {"aks"}


def test_the_lease_namespace_defaults_to_pod_namespace(monkeypatch):
    monkeypatch.setenv("POD_NAMESPACE", "nautilus-system")
    assert load_settings().pod_namespace == "nautilus-system"


def test_cli_exits_2_naming_a_bad_kube_variable():
    bad = nautilus("plugins", env={"KUBERNETES_SERVICE_PORT": "99999", "NAUTILUS_CLUSTER_NAME": "x"})
    assert bad.returncode == 2, bad.stderr
    assert "KUBERNETES_SERVICE_PORT=" in bad.stderr and "65535" in bad.stderr

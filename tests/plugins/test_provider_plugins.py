"""Each cloud provider distribution is found through its entry point, registers its provider, and
registering it imports no cloud SDK (the SDKs load only when a provider does work)."""

from __future__ import annotations

import importlib
import json
import os
import subprocess
import sys

import pytest

from nautilus_core.plugins import build_plugin_manager

SDK_PACKAGES = ("boto3", "botocore", "google", "azure", "msal")
PROVIDERS = [("eks", "nautilus_eks", "EksProvider"), ("gke", "nautilus_gke", "GkeProvider"),
             ("aks", "nautilus_aks", "AksProvider")]


@pytest.mark.parametrize(("name", "module", "cls"), PROVIDERS)
def test_entry_point_registers_the_provider_attributed_to_the_plugin(name, module, cls):
    manager = build_plugin_manager()
    registration = manager.providers()[name]
    assert registration.plugin == name
    assert isinstance(registration.obj, getattr(importlib.import_module(module), cls))
    info = {p.name: p for p in manager.info()}[name]
    assert (info.distribution, info.builtin) == (f"nautilus-{name}", False)
    assert info.hooks == ("nautilus_register_providers", "nautilus_register_settings")
    section = manager.settings_sections()[name]
    assert section.plugin == name and section.obj.model_config["env_prefix"] == f"NAUTILUS_{name.upper()}_"


@pytest.mark.parametrize(("variable", "value", "provider", "expected"), [
    ("NAUTILUS_EKS_REGIONS", " eu-west-1, ,us-east-1 ", "eks", ["eu-west-1", "us-east-1"]),
    ("NAUTILUS_GKE_PROJECTS", "alpha,beta", "gke", ["alpha", "beta"]),
    ("NAUTILUS_AKS_SUBSCRIPTIONS", " sub-a ", "aks", ["sub-a"]),
])
def test_each_provider_reads_its_section(monkeypatch, variable, value, provider, expected):
    monkeypatch.setenv(variable, value)
    manager = build_plugin_manager()
    obj = manager.providers()[provider].obj
    read = {"eks": lambda: obj.regions(), "gke": lambda: obj.projects(), "aks": lambda: obj.subscriptions()}
    assert read[provider]() == expected


def test_a_bad_plugin_setting_exits_2_naming_the_variable():
    env = {**os.environ, "NAUTILUS_GKE_ANONYMOUS": "maybe", "LOG_FORMAT": "json"}
    bad = subprocess.run([sys.executable, "-m", "nautilus_core.cli", "plugins"], capture_output=True, text=True,
                         timeout=60, env=env)
    assert bad.returncode == 2, bad.stderr
    assert "NAUTILUS_GKE_ANONYMOUS='maybe'" in bad.stderr and "plugin gke" in bad.stderr


def sdk_modules_after_loading_plugins(name: str, disable: str) -> set[str]:
    code = (
        "import json, sys\n"
        "from nautilus_core.plugins import build_plugin_manager\n"
        "print(json.dumps(sorted(build_plugin_manager().providers())))\n"
        f"print(json.dumps(sorted(m for m in sys.modules if m.split('.')[0] in {SDK_PACKAGES!r})))\n"
    )
    env = {**os.environ, "NAUTILUS_DISABLE_PLUGINS": disable}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True,
                         env=env)
    providers, modules = (json.loads(line) for line in out.stdout.splitlines()[-2:])
    assert (name in providers) == (disable != name)
    return set(modules)


@pytest.mark.parametrize("name", [p[0] for p in PROVIDERS])
def test_registration_imports_no_cloud_sdk(name):
    # Whatever the core and other plugins import, registering the provider adds no SDK module.
    assert sdk_modules_after_loading_plugins(name, "") == sdk_modules_after_loading_plugins(name, name)

"""The nautilus-aks distribution is found through its entry point and registers the "aks" provider."""

from __future__ import annotations

import json
import os
import subprocess
import sys

from nautilus_aks import AksProvider
from nautilus_core.plugins import build_plugin_manager

SDK_PACKAGES = ("boto3", "botocore", "google", "azure", "msal")


def test_entry_point_registers_the_provider_attributed_to_the_plugin():
    manager = build_plugin_manager()

    registration = manager.providers()["aks"]

    assert registration.plugin == "aks"
    assert isinstance(registration.obj, AksProvider)
    info = {p.name: p for p in manager.info()}["aks"]
    assert (info.distribution, info.builtin) == ("nautilus-aks", False)
    assert info.hooks == ("nautilus_register_providers",)


def sdk_modules_after_loading_plugins(disable: str) -> set[str]:
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
    assert ("aks" in providers) == (disable != "aks")
    return set(modules)


def test_registration_imports_no_cloud_sdk():
    # Whatever the core and other plugins import, registering "aks" adds no SDK module.
    assert sdk_modules_after_loading_plugins("") == sdk_modules_after_loading_plugins("aks")

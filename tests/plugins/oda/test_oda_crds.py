"""The shipped ODA CRDs are valid for real API servers (kubernetes-validate --strict), serve the three
versions with v1 as storage, and the emulator serves what they declare (kubectl explain)."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

CRD_DIR = Path(__file__).resolve().parents[3] / "plugins" / "oda" / "src" / "nautilus_oda" / "crds"
CRDS = sorted(CRD_DIR.glob("*.yaml"))


def test_both_crds_declare_v1beta3_v1beta4_and_v1_with_v1_stored() -> None:
    docs = {doc["spec"]["names"]["kind"]: doc for path in CRDS for doc in yaml.safe_load_all(path.read_text())}
    assert set(docs) == {"Component", "ExposedAPI"}
    for doc in docs.values():
        versions = {v["name"]: v for v in doc["spec"]["versions"]}
        assert list(versions) == ["v1beta3", "v1beta4", "v1"]
        assert [n for n, v in versions.items() if v["storage"]] == ["v1"]
        assert all(v["served"] and v["subresources"] == {"status": {}} for v in versions.values())
    component = {v["name"]: v["schema"]["openAPIV3Schema"]["properties"]["spec"]["properties"]
                 for v in docs["Component"]["spec"]["versions"]}
    assert "componentMetadata" in component["v1"] and "version" not in component["v1"]
    assert "version" in component["v1beta3"] and "componentMetadata" not in component["v1beta3"]
    api = component["v1beta3"]["coreFunction"]["properties"]["exposedAPIs"]["items"]["properties"]
    assert api["specification"]["items"] == {"type": "string"}
    api_v1 = component["v1"]["coreFunction"]["properties"]["exposedAPIs"]["items"]["properties"]
    assert api_v1["specification"]["items"]["properties"].keys() == {"url", "version"}


@pytest.mark.parametrize("version", ["1.30.0", "1.32.0"])
def test_the_crds_validate_strictly(version: str) -> None:
    if importlib.util.find_spec("kubernetes_validate") is None:
        pytest.skip("kubernetes-validate is not installed (it is in the testing extra)")
    done = subprocess.run([sys.executable, "-m", "kubernetes_validate", "--strict", "--kubernetes-version", version,
                           *map(str, CRDS)], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout.count("INFO") == len(CRDS), done.stdout


def test_kubectl_explains_the_served_fields(kube_emulator: Any, kubeconfig_path: Path) -> None:
    def kubectl(*args: str) -> str:
        done = subprocess.run(["kubectl", "--kubeconfig", str(kubeconfig_path), *args], capture_output=True,
                              text=True, timeout=60)
        assert done.returncode == 0, done.stdout + done.stderr
        return done.stdout

    kubectl("apply", "-f", str(CRD_DIR))
    out = kubectl("explain", "components.spec.coreFunction.exposedAPIs.port", "--api-version=oda.tmforum.org/v1beta3")
    assert "port" in out and "integer" in out
    out = kubectl("explain", "components.spec.componentMetadata", "--api-version=oda.tmforum.org/v1")
    assert "functionalBlock" in out

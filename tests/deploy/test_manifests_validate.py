"""Every shipped manifest (deploy/) is valid for each supported Kubernetes version (kubernetes-validate --strict)."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

DEPLOY = Path(__file__).resolve().parents[2] / "deploy"
# The emulator's default (v1.30) through the installed kubectl client (v1.32), kubectl's skew window.
SUPPORTED = ("1.30.0", "1.31.0", "1.32.0")
MANIFESTS = sorted(DEPLOY.rglob("*.yaml"))


def _validator() -> list[str]:
    if importlib.util.find_spec("kubernetes_validate") is None:
        pytest.skip("kubernetes-validate is not installed (it is in the testing extra)")
    return [sys.executable, "-m", "kubernetes_validate"]


@pytest.mark.parametrize("version", SUPPORTED)
def test_shipped_manifests_validate_strictly(version: str) -> None:
    import kubernetes_validate

    assert MANIFESTS, "deploy/ ships manifests"
    try:
        kubernetes_validate.validate(
            {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "x"}}, version, True
        )
    except kubernetes_validate.SchemaNotFoundError:
        pytest.skip(f"kubernetes-validate has no offline schemas for Kubernetes {version}")
    done = subprocess.run(
        [*_validator(), "--strict", "--kubernetes-version", version, *map(str, MANIFESTS)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    documents = sum(1 for path in MANIFESTS for doc in yaml.safe_load_all(path.read_text()) if doc)
    assert done.stdout.count("INFO") == documents, done.stdout


def test_the_validator_catches_an_unknown_field(tmp_path: Path) -> None:
    """The check above can fail: a manifest with a misspelt field is refused under --strict."""
    bad = tmp_path / "bad.yaml"
    bad.write_text("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\ndata: {a: b}\ndatta: {c: d}\n")
    done = subprocess.run(
        [*_validator(), "--strict", "--kubernetes-version", SUPPORTED[-1], str(bad)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode != 0
    assert "datta" in done.stdout + done.stderr

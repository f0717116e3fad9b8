"""``nautilus podwatch render``: the seed's variables from the environment or an env file, refused by name
when missing or unacceptable, never a secret in the output, and manifests that validate strictly."""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

DEPLOY = Path(__file__).resolve().parents[2] / "deploy" / "podwatch"
REQUIRED = {"APP_NAMESPACE": "podwatch", "APP_NAME": "triage", "APP_VERSION": "1.2.3",
            "APP_IMAGE": "registry.example/nautilus", "TARGET_NAMESPACE": "shop,payments",
            "DB_HOST": "db.internal", "DB_NAME": "nautilus", "DB_USER": "podwatch"}
#: the seed's variables a user may leave out of the environment of the test process
CLEAN = frozenset(("APP_NAMESPACE", "APP_NAME", "APP_VERSION", "APP_IMAGE", "APP_REPLICAS",
                               "CONTAINER_PORT", "SERVICE_PORT", "SERVICE_TYPE", "COLLECT_SCHEDULE",
                               "LOG_TAIL_LINES", "TARGET_NAMESPACE", "DB_HOST", "DB_PORT", "DB_NAME", "DB_USER",
                               "DB_SSL", "DB_SSL_MODE", "DB_PASSWORD"))


def _render(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    """``nautilus podwatch render`` with only ``env`` of the seed's variables set."""
    clean = {k: v for k, v in os.environ.items() if k not in CLEAN}
    return subprocess.run([sys.executable, "-m", "nautilus_core.cli", "podwatch", "render", *args],
                          env=clean | env, capture_output=True, text=True, timeout=120)


def _docs(text: str) -> list[dict]:
    return [d for d in yaml.safe_load_all(text) if d]


def test_the_shipped_manifests_are_the_example_env_rendered() -> None:
    done = _render("--env-file", str(DEPLOY / "example.env"))
    assert done.returncode == 0, done.stderr
    assert done.stdout == (DEPLOY / "podwatch.yaml").read_text()


def test_environment_values_fill_every_variable_and_win_over_the_env_file(tmp_path: Path) -> None:
    env_file = tmp_path / "podwatch.env"
    env_file.write_text("# a comment\nexport APP_REPLICAS=2\nSERVICE_TYPE='NodePort'\nCOLLECT_SCHEDULE=\"0 * * * *\"\n"
                        "LOG_TAIL_LINES=500\nAPP_NAME=from-file\n")
    done = _render("--env-file", str(env_file), **REQUIRED, CONTAINER_PORT="9000", SERVICE_PORT="8080",
                   DB_PASSWORD="hunter2-secret")
    assert done.returncode == 0, done.stderr
    docs = {(d["kind"], d["metadata"]["namespace"], d["metadata"]["name"]): d for d in _docs(done.stdout)}
    deployment = docs[("Deployment", "podwatch", "triage")]  # the environment's APP_NAME won
    assert deployment["spec"]["replicas"] == 2
    web = deployment["spec"]["template"]["spec"]["containers"][0]
    assert web["image"] == "registry.example/nautilus:1.2.3"
    assert web["ports"][0]["containerPort"] == 9000
    assert web["securityContext"]["allowPrivilegeEscalation"] is False
    assert deployment["spec"]["template"]["spec"]["securityContext"]["runAsNonRoot"] is True
    service = docs[("Service", "podwatch", "triage")]
    assert service["spec"]["type"] == "NodePort" and service["spec"]["ports"][0]["port"] == 8080
    cron = docs[("CronJob", "podwatch", "triage-collector")]
    assert cron["spec"]["schedule"] == "0 * * * *"
    job = cron["spec"]["jobTemplate"]["spec"]["template"]["spec"]
    env = {e["name"]: e for e in job["containers"][0]["env"]}
    assert env["TARGET_NAMESPACE"]["value"] == "shop,payments" and env["LOG_TAIL_LINES"]["value"] == "500"
    assert env["DB_HOST"]["value"] == "db.internal" and env["DB_SSL"]["value"] == "true"
    assert env["DB_PASSWORD"]["valueFrom"]["secretKeyRef"] == {"name": "triage-secrets", "key": "DB_PASSWORD"}
    assert job["serviceAccountName"] == "triage-collector"
    # one namespace-scoped Role + RoleBinding per target namespace: pods, pods/log, events, read only
    for ns in ("shop", "payments"):
        role = docs[("Role", ns, "triage-collector")]
        assert role["rules"] == [{"apiGroups": [""], "resources": ["pods", "pods/log", "events"],
                                  "verbs": ["get", "list"]}]
        binding = docs[("RoleBinding", ns, "triage-collector")]
        assert binding["subjects"] == [{"kind": "ServiceAccount", "name": "triage-collector",
                                        "namespace": "podwatch"}]
    assert not any(d["kind"] in ("ClusterRole", "ClusterRoleBinding", "Secret") for d in docs.values())
    assert "hunter2-secret" not in done.stdout


@pytest.mark.parametrize("missing", ["APP_NAME", "TARGET_NAMESPACE", "DB_HOST", "APP_IMAGE"])
def test_a_missing_required_variable_is_refused_by_name(missing: str) -> None:
    env = dict(REQUIRED)
    del env[missing]
    done = _render(**env)
    assert done.returncode == 2
    assert done.stdout == ""
    assert f"missing required variable {missing}" in done.stderr


@pytest.mark.parametrize(("name", "value"), [
    ("APP_REPLICAS", "two"), ("SERVICE_TYPE", "ExternalName"), ("CONTAINER_PORT", "80"),
    ("COLLECT_SCHEDULE", "every 5 minutes"), ("APP_NAME", "Triage"),
    ("APP_IMAGE", "nautilus\nkind: Secret"), ("TARGET_NAMESPACE", "shop,\"x\": y"), ("DB_SSL", "yes"),
])
def test_a_value_that_would_break_the_yaml_or_the_object_is_refused_by_name(name: str, value: str) -> None:
    done = _render(**(REQUIRED | {name: value}))
    assert done.returncode == 2
    assert done.stdout == ""
    assert f"{name}=" in done.stderr and "expected" in done.stderr


def test_a_malformed_env_file_line_names_the_file_and_line(tmp_path: Path) -> None:
    env_file = tmp_path / "bad.env"
    env_file.write_text("APP_NAME=x\nthis is not an assignment\n")
    done = _render("--env-file", str(env_file), **REQUIRED)
    assert done.returncode == 2 and f"{env_file}:2" in done.stderr


def test_rendered_manifests_validate_strictly(tmp_path: Path) -> None:
    if importlib.util.find_spec("kubernetes_validate") is None:
        pytest.skip("kubernetes-validate is not installed (it is in the testing extra)")
    out = tmp_path / "podwatch.yaml"
    done = _render("-o", str(out), **(REQUIRED | {"SERVICE_TYPE": "LoadBalancer", "APP_REPLICAS": "3",
                                                 "DB_SSL_MODE": "verify-full",
                                                 "APP_IMAGE": "registry.example/nautilus@sha256:" + "a" * 64}))
    assert done.returncode == 0, done.stderr
    check = subprocess.run([sys.executable, "-m", "kubernetes_validate", "--strict", "--kubernetes-version",
                            "1.32.0", str(out)], capture_output=True, text=True, timeout=120)
    assert check.returncode == 0, check.stdout + check.stderr
    assert check.stdout.count("passed") == len(_docs(out.read_text()))

"""The ``nautilus`` command in a subprocess, the way users meet it: secrets never leave the process,
and bad settings, revisions and databases each give one clear line and the documented exit code."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

SECRETS = ("s3cretPW", "k3yPW", "t0kenVAL", "pw1inUSER")


def nautilus(*args: str, env: dict[str, str] | None = None, home: Path, timeout: float = 60):
    """Run ``python -m nautilus_core.cli ARGS`` with a clean Nautilus environment plus ``env``."""
    base = {k: v for k, v in os.environ.items()
            if not k.startswith(("NAUTILUS_", "DB_", "LOG_")) and k not in ("DATABASE_URL", "KUBECONFIG")}
    base |= {"NAUTILUS_HOME": str(home), "LOG_FORMAT": "json", "NAUTILUS_KUBE_RETRIES": "1"}
    return subprocess.run([sys.executable, "-m", "nautilus_core.cli", *args], env=base | (env or {}),
                          capture_output=True, text=True, timeout=timeout)


@pytest.mark.parametrize("url", [
    "postgresql://u@127.0.0.1:1/db?password=s3cretPW",
    "postgresql://u:pw1inUSER@127.0.0.1:1/db?sslpassword=k3yPW&application_name=x",
    "postgresql+psycopg://u@127.0.0.1:1/db?sslmode=disable&password=s3cretPW&token=t0kenVAL",
], ids=["password-param", "userinfo-and-sslpassword", "password-and-token"])
@pytest.mark.parametrize("command", [["db", "current"], ["inventory", "clusters"], ["db", "upgrade"]],
                         ids=lambda c: "-".join(c))
def test_debug_tracebacks_and_errors_never_show_a_database_password(tmp_path, url, command):
    proc = nautilus("--debug", *command, env={"DATABASE_URL": url}, home=tmp_path)
    assert proc.returncode == 1, proc.stderr
    assert "Traceback" in proc.stderr  # --debug did print the traceback ...
    assert "127.0.0.1:1/db" in proc.stderr  # ... naming the database
    for secret in SECRETS:
        assert secret not in proc.stderr and secret not in proc.stdout
    assert "***" in proc.stderr


# --------------------------------------------------------------------------- settings (exit 2, named)

BAD_SETTINGS = [
    ("NAUTILUS_KUBE_RETRIES", "abc"), ("NAUTILUS_KUBE_TIMEOUT", "0"), ("NAUTILUS_KUBE_TIMEOUT", "-1"),
    ("LOG_LEVEL", "loud"), ("LOG_FORMAT", "xml"), ("RECONCILE_INTERVAL", "inf"),
    ("TOMBSTONE_RETENTION_DAYS", "1e308"), ("BACKOFF_MAX", "99999999999d"),
]


@pytest.mark.parametrize(("var", "value"), BAD_SETTINGS, ids=[f"{v}={x}" for v, x in BAD_SETTINGS])
@pytest.mark.parametrize("command", [["plugins"], ["db", "current"], ["inventory", "sync"],
                                     ["controller", "run", "--no-leader-election"]], ids=lambda c: c[-1])
def test_a_bad_setting_is_refused_at_start_up_naming_the_variable(tmp_path, var, value, command):
    proc = nautilus(*command, env={var: value, "KUBECONFIG": str(tmp_path / "none")}, home=tmp_path)
    assert proc.returncode == 2, (proc.stdout, proc.stderr)
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("nautilus: error: invalid setting:")
    assert f"{var}=" in lines[0]
    assert "Traceback" not in proc.stderr


def test_the_seeds_duration_values_start_every_command(tmp_path):
    seed = {"RECONCILE_INTERVAL": "30s", "BACKOFF_BASE": "5s", "BACKOFF_MAX": "5m", "LEASE_DURATION": "15s",
            "RENEW_DEADLINE": "10s", "RETRY_PERIOD": "2s", "NAUTILUS_KUBE_TIMEOUT": "30s"}
    proc = nautilus("db", "upgrade", env=seed, home=tmp_path)
    assert proc.returncode == 0, proc.stderr
    proc = nautilus("plugins", env=seed, home=tmp_path)
    assert proc.returncode == 0, proc.stderr


@pytest.mark.parametrize(("args", "flag"), [
    (["controller", "run", "--backoff-base", "inf"], "--backoff-base"),
    (["controller", "run", "--backoff-max", "nan"], "--backoff-max"),
    (["controller", "run", "--reconcile-interval", "-30s"], "--reconcile-interval"),
    (["controller", "run", "--grace-period", "-1"], "--grace-period"),
    (["controller", "run", "--max-retries", "-1"], "--max-retries"),
    (["inventory", "sync", "--every", "99999999999d"], "--every"),
    (["inventory", "sync", "--every", "0"], "--every"),
    (["inventory", "runs", "--limit", "-1"], "--limit"),
    (["inventory", "runs", "--limit", "99999999999999999999"], "--limit"),
], ids=lambda a: " ".join(a) if isinstance(a, list) else None)
def test_an_unusable_flag_is_a_usage_error_naming_the_flag(tmp_path, args, flag):
    proc = nautilus(*args, home=tmp_path)
    assert proc.returncode == 2, (proc.stdout, proc.stderr)
    assert flag in proc.stderr
    assert "Traceback" not in proc.stderr and "OverflowError" not in proc.stderr


def test_durations_flags_take_go_style_values(tmp_path):
    proc = nautilus("controller", "run", "--help", home=tmp_path)
    assert proc.returncode == 0 and "DURATION" in proc.stdout
    # a valid --every is accepted: the loop runs (each run fails on the missing kubeconfig) until SIGTERM
    env = {k: v for k, v in os.environ.items() if not k.startswith(("NAUTILUS_", "LOG_"))}
    env |= {"NAUTILUS_HOME": str(tmp_path), "KUBECONFIG": str(tmp_path / "missing.yaml"), "LOG_FORMAT": "json"}
    proc = subprocess.Popen([sys.executable, "-m", "nautilus_core.cli", "inventory", "sync", "--provider",
                             "kubeconfig", "--every", "1h30m"], env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    try:
        with pytest.raises(subprocess.TimeoutExpired):
            proc.wait(timeout=4)
    finally:
        proc.terminate()
        _, err = proc.communicate(timeout=30)
    assert proc.returncode == 1 and "missing.yaml" in err  # the failed run, reported; not a usage error

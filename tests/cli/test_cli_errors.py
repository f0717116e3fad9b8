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

"""Helpers of the inventory tests: the ``nautilus`` CLI in a subprocess, as users run it."""

from __future__ import annotations

from typing import Any


def cli(*args: str, env: dict[str, str], timeout: float = 120) -> Any:
    """``nautilus ARGS`` in a subprocess with ``env`` added to this environment (as a user runs it)."""
    import os
    import subprocess
    import sys

    return subprocess.run([sys.executable, "-m", "nautilus_core.cli", *args], env=os.environ | env,
                          capture_output=True, text=True, timeout=timeout)


def cli_env(db_url: str, kubeconfig: str, **extra: str) -> dict[str, str]:
    """The environment of a user syncing the kubeconfig provider into ``db_url``."""
    return {"DATABASE_URL": db_url, "KUBECONFIG": kubeconfig, "NAUTILUS_PROVIDERS": "kubeconfig",
            "LOG_FORMAT": "json", "NAUTILUS_KUBE_RETRIES": "1", "NAUTILUS_KUBE_TIMEOUT": "5", **extra}

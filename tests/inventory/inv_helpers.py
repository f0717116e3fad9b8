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


def property_settings() -> Any:
    """Hypothesis settings of the property tests: bounded so CI stays fast (raise the bound with
    ``NAUTILUS_HYPOTHESIS_EXAMPLES=500`` when hunting), no deadline (database round trips vary), no
    example database written into the work tree."""
    import os

    from hypothesis import HealthCheck, settings

    return settings(max_examples=int(os.environ.get("NAUTILUS_HYPOTHESIS_EXAMPLES", "50")), deadline=None,
                    database=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])

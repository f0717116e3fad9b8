"""The real ``kubectl`` binary driven by the conformance suite (test_kubectl_*.py); see the ``kubectl`` fixture."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path
from typing import Any


class Kubectl:
    """The real ``kubectl`` binary against one emulator: its own kubeconfig and cache (HOME)."""

    def __init__(self, binary: str, kubeconfig: Path, home: Path) -> None:
        self.binary = binary
        self.env = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "HOME": str(home),
            "KUBECONFIG": str(kubeconfig),
        }

    def run(
        self, *args: str, stdin: str | None = None, check: bool = True, timeout: float = 30
    ) -> subprocess.CompletedProcess[str]:
        """``kubectl --request-timeout=10s ARGS``; ``check``: fail the test on a non-zero exit."""
        done = subprocess.run(
            [self.binary, "--request-timeout=10s", *args],
            input=stdin,
            capture_output=True,
            text=True,
            env=self.env,
            timeout=timeout,
        )
        if check and done.returncode != 0:
            raise AssertionError(f"kubectl {' '.join(args)} failed ({done.returncode}): {done.stderr}")
        return done

    def out(self, *args: str, stdin: str | None = None) -> str:
        return self.run(*args, stdin=stdin).stdout

    def json(self, *args: str) -> Any:
        return json.loads(self.out(*args, "-o", "json"))

    def popen(self, *args: str, request_timeout: str = "10s") -> subprocess.Popen[str]:
        """A long-running kubectl (``get -w``); ``request_timeout`` also ends its watch."""
        return subprocess.Popen(
            [self.binary, f"--request-timeout={request_timeout}", *args],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=self.env,
        )

"""Fixtures for core tests: real installed-looking plugin distributions on a temporary sys.path."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest


class DistFactory:
    """Writes ``<name>.dist-info`` + a module into a folder, as pip would install them."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def add(self, dist: str, entry_point: str, module: str, source: str, version: str = "1.0") -> None:
        (self.root / f"{module}.py").write_text(textwrap.dedent(source))
        info = self.root / f"{dist.replace('-', '_')}-{version}.dist-info"
        info.mkdir()
        (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {dist}\nVersion: {version}\n")
        (info / "entry_points.txt").write_text(f"[nautilus]\n{entry_point} = {module}\n")

    def run_cli(self, *args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
        # the fake distributions first, then the PYTHONPATH the tests run with (the code under test)
        path = os.pathsep.join(p for p in (str(self.root), os.environ.get("PYTHONPATH", "")) if p)
        full_env = os.environ | {"PYTHONPATH": path, "LOG_FORMAT": "json"} | (env or {})
        return subprocess.run([sys.executable, "-c", "import sys; from nautilus_core.cli import main; "
                               "sys.exit(main(sys.argv[1:]))", *args],
                              capture_output=True, text=True, env=full_env, timeout=60)


@pytest.fixture
def dists(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> DistFactory:
    root = tmp_path / "site"
    root.mkdir()
    monkeypatch.syspath_prepend(str(root))
    return DistFactory(root)

"""The examples in the core's docstrings run: every ``>>>`` line in ``src/nautilus_core`` is executed
with :mod:`doctest` (the Alembic environment and revision scripts are run by Alembic, not imported)."""

from __future__ import annotations

import doctest
import importlib
import pkgutil
from pathlib import Path

import pytest

import nautilus_core

MODULES = sorted(
    info.name for info in pkgutil.walk_packages(nautilus_core.__path__, "nautilus_core.")
    if ".db.migrations" not in info.name
)


def _with_examples() -> list[str]:
    out = []
    for name in MODULES:
        spec = importlib.util.find_spec(name)
        origin = spec.origin if spec else None
        if origin and origin.endswith(".py") and ">>>" in Path(origin).read_text(encoding="utf-8"):
            out.append(name)
    return out


@pytest.mark.parametrize("module", _with_examples())
def test_docstring_examples_run(module):
    result = doctest.testmod(importlib.import_module(module), optionflags=doctest.ELLIPSIS, verbose=False)
    assert result.attempted > 0, f"{module}: its >>> lines are not in a docstring doctest can see"
    assert result.failed == 0, f"{module}: {result.failed} of {result.attempted} examples failed (see above)"

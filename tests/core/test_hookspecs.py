"""Meta-tests: every hook specification is documented and exercised by a test."""

from __future__ import annotations

import inspect
from pathlib import Path

import pytest

from nautilus_core import hookspecs

SPECS = [name for name, fn in inspect.getmembers(hookspecs, inspect.isfunction)
         if name.startswith("nautilus_")]
TESTS = Path(__file__).resolve().parents[1]


def test_the_hooks_are_the_documented_set():
    assert sorted(SPECS) == sorted([
        "nautilus_register_providers", "nautilus_register_enrichers", "nautilus_register_reconcilers",
        "nautilus_register_scaling_engines", "nautilus_register_commands",
        "nautilus_register_settings",
    ])


@pytest.mark.parametrize("name", SPECS)
def test_hook_is_documented(name):
    fn = getattr(hookspecs, name)
    doc = inspect.getdoc(fn) or ""
    assert "Called" in doc, f"{name}: say when it is called"
    assert ":param" in doc and ":returns:" in doc, f"{name}: document parameters and results"
    assert "Example::" in doc and "@hookimpl" in doc, f"{name}: give an example"
    assert all(p.annotation is not inspect.Parameter.empty
               for p in inspect.signature(fn).parameters.values()), f"{name}: type every parameter"


@pytest.mark.parametrize("name", SPECS)
def test_hook_is_exercised_by_a_test(name):
    users = [p for p in TESTS.rglob("test_*.py")
             if p.name != "test_hookspecs.py" and name in p.read_text()]
    assert users, f"no test implements or calls {name}"

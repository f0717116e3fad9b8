"""Meta-tests: every hook specification is documented, and called by a test with a plugin of its own."""

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
        "nautilus_register_providers", "nautilus_register_enrichers", "nautilus_register_kinds",
        "nautilus_register_reconcilers",
        "nautilus_register_scaling_engines", "nautilus_register_commands",
        "nautilus_register_settings", "nautilus_register_web_routes",
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


def test_every_hook_is_called_by_a_test_with_a_plugin_of_its_own(request, hook_calls):
    """Runs after every other test (tests/conftest.py orders it last). Each hookspec must have been
    called, in this process, for a plugin that is not built in: a test that implements the hook and
    makes the engine call it. A hook merely named in a test file, or called only for the built-ins,
    does not count."""
    config = request.config
    collected = {Path(str(item.path)).resolve() for item in request.session.items}
    every = {p.resolve() for p in TESTS.rglob("test_*.py")}
    left_out = sorted(str(p.relative_to(TESTS)) for p in every - collected)
    if left_out or config.getoption("keyword") or config.getoption("markexpr") or config.getoption("deselect"):
        pytest.skip(f"only meaningful when the whole test suite runs (not collected: {', '.join(left_out[:3])})")
    uncalled = [name for name in SPECS if not hook_calls.get(name)]
    assert not uncalled, f"no test makes the engine call a plugin's implementation of {', '.join(uncalled)}"
    for name in SPECS:  # each was called from some test other than this meta-test
        assert all("test_hookspecs.py" not in test for _, test in hook_calls[name])

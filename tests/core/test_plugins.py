"""Plugin loading: entry points, failures, --strict, disabling, duplicates, attribution."""

from __future__ import annotations

import json

import pytest

from nautilus_core import PluginError, hookimpl
from nautilus_core.plugins import build_plugin_manager

GOOD = """
from nautilus_core import hookimpl

class Provider:
    name = "{name}"
    def discover(self):
        return []
    def connect(self, cluster):
        raise NotImplementedError

@hookimpl
def nautilus_register_providers(register):
    register(Provider())
"""

BROKEN = """
raise RuntimeError("boom at import")
"""


def test_entry_point_plugin_is_loaded_and_attributed(dists):
    dists.add("acme-nautilus", "acme", "acme_plugin", GOOD.format(name="acme"), version="2.3")
    manager = build_plugin_manager()
    providers = manager.providers()
    assert providers["acme"].plugin == "acme"
    info = {i.name: i for i in manager.info()}
    assert info["acme"].distribution == "acme-nautilus"
    assert info["acme"].version == "2.3"
    assert info["acme"].hooks == ("nautilus_register_providers",)
    assert not info["acme"].builtin


def test_plugin_failing_on_import_is_skipped_and_others_load(dists):
    dists.add("broken-dist", "broken", "broken_plugin", BROKEN)
    dists.add("acme-nautilus", "acme", "acme_plugin", GOOD.format(name="acme"))
    manager = build_plugin_manager()
    assert "acme" in manager.providers()
    broken = [f for f in manager.failures if f.name == "broken"]
    assert len(broken) == 1
    assert "boom at import" in broken[0].error


def test_strict_raises_on_plugin_import_failure(dists):
    dists.add("broken-dist", "broken", "broken_plugin", BROKEN)
    with pytest.raises(PluginError, match=r"broken \(broken-dist\).*boom at import"):
        build_plugin_manager(strict=True)


def test_cli_warns_once_and_strict_exits_3(dists):
    dists.add("broken-dist", "broken", "broken_plugin", BROKEN)
    loose = dists.run_cli("plugins", "--json")
    assert loose.returncode == 0, loose.stderr
    warnings = [json.loads(line) for line in loose.stderr.splitlines() if "plugin_load_failed" in line]
    assert [w["plugin"] for w in warnings if w["plugin"] == "broken"] == ["broken"]
    doc = json.loads(loose.stdout)
    assert "broken" in [f["name"] for f in doc["failed"]]

    strict = dists.run_cli("--strict", "plugins")
    assert strict.returncode == 3
    assert "broken" in strict.stderr and "boom at import" in strict.stderr


def test_disable_plugins_env_skips_named_plugins(dists, monkeypatch):
    dists.add("acme-nautilus", "acme", "acme_plugin", GOOD.format(name="acme"))
    dists.add("broken-dist", "broken", "broken_plugin", BROKEN)
    monkeypatch.setenv("NAUTILUS_DISABLE_PLUGINS", "broken, acme")
    manager = build_plugin_manager()
    assert "acme" not in manager.providers()
    assert "broken" not in [f.name for f in manager.failures]


def test_duplicate_names_are_an_error_naming_both_plugins(dists):
    dists.add("first-dist", "first", "first_plugin", GOOD.format(name="shared"))
    dists.add("second-dist", "second", "second_plugin", GOOD.format(name="shared"))
    manager = build_plugin_manager()
    with pytest.raises(PluginError) as err:
        manager.providers()
    assert "first" in str(err.value) and "second" in str(err.value) and "'shared'" in str(err.value)


def test_hook_raising_in_third_party_plugin_does_not_hide_others(dists):
    dists.add("acme-nautilus", "acme", "acme_plugin", GOOD.format(name="acme"))
    dists.add("bad-hook", "badhook", "badhook_plugin", """
from nautilus_core import hookimpl

@hookimpl
def nautilus_register_providers(register):
    raise ValueError("cannot register")
""")
    manager = build_plugin_manager()
    assert "acme" in manager.providers()
    assert "badhook" in [f.name for f in manager.failures]
    with pytest.raises(PluginError, match="badhook"):
        build_plugin_manager(strict=True).providers()


def test_registered_object_without_name_is_rejected():
    class Nameless:
        @hookimpl
        def nautilus_register_enrichers(self, register):
            register(object())

    manager = build_plugin_manager(entry_points=False)
    plugin = Nameless()
    manager.add("nameless", plugin, distribution="tests", version="0", builtin=False)
    try:
        with pytest.raises(PluginError, match=r"nameless.*without a name"):
            manager.enrichers()
    finally:
        manager.remove("nameless")


def test_plugin_command_clash_names_both(dists):
    source = """
import click
from nautilus_core import hookimpl

@click.command("{cmd}")
def command():
    "Say hi."
    click.echo("hi from {name}")

@hookimpl
def nautilus_register_commands(cli):
    cli.add_command(command)
"""
    dists.add("hello-dist", "hello", "hello_plugin", source.format(cmd="hello", name="hello"))
    ok = dists.run_cli("hello")
    assert ok.returncode == 0 and ok.stdout.strip() == "hi from hello"

    dists.add("clash-dist", "clash", "clash_plugin", source.format(cmd="plugins", name="clash"))
    clash = dists.run_cli("hello")
    assert clash.returncode == 3
    assert "'plugins'" in clash.stderr and "nautilus-core" in clash.stderr and "clash" in clash.stderr


def test_unknown_hook_in_plugin_is_reported(dists):
    dists.add("typo-dist", "typo", "typo_plugin", """
from nautilus_core import hookimpl

@hookimpl
def nautilus_register_provider(register):
    pass
""")
    with pytest.raises(PluginError, match="typo"):
        build_plugin_manager()


def test_reconciler_factories_and_engines_are_registered_with_their_plugin():
    from nautilus_core import Decision, Outcome

    class Engine:
        name = "fixed"

        def decide(self, data):
            return Decision(replicas=2, reason="always two")

    class Rec:
        name = "noop"

        def keys(self):
            return ["a"]

        def sources(self):
            return []

        def reconcile(self, request):
            return Outcome.done()

    class Plugin:
        @hookimpl
        def nautilus_register_reconcilers(self, register):
            register("noop", lambda ctx: Rec())

        @hookimpl
        def nautilus_register_scaling_engines(self, register):
            register(Engine())

    manager = build_plugin_manager(entry_points=False)
    manager.add("inproc", Plugin(), distribution="tests", version="0", builtin=False)
    try:
        factory = manager.reconcilers()["noop"]
        assert factory.plugin == "inproc"
        assert factory.obj(None).reconcile("a") == Outcome.done()
        engine = manager.scaling_engines()["fixed"]
        assert engine.plugin == "inproc"
        assert engine.obj.decide(None).replicas == 2
    finally:
        manager.remove("inproc")


def test_a_plugins_command_is_added_to_the_cli_and_a_clash_names_both_plugins():
    import click
    from click.testing import CliRunner

    @click.command("hello")
    def hello():
        """Say hi."""
        click.echo("hi from inproc")

    @click.command("plugins")
    def impostor():
        """Pretend to be a built-in."""

    class Plugin:
        def __init__(self, command):
            self.command = command

        @hookimpl
        def nautilus_register_commands(self, cli):
            cli.add_command(self.command)

    def group():
        root = click.Group("nautilus")
        root.add_command(click.Command("plugins", callback=lambda: None))
        return root

    manager = build_plugin_manager(entry_points=False)
    manager.add("inproc", Plugin(hello), distribution="tests", version="0", builtin=False)
    cli = group()
    manager.register_commands(cli)
    result = CliRunner().invoke(cli, ["hello"])
    assert result.exit_code == 0 and result.output == "hi from inproc\n"

    manager.add("clash", Plugin(impostor), distribution="tests", version="0", builtin=False)
    with pytest.raises(PluginError, match=r"'plugins' is added by both nautilus-core and clash"):
        manager.register_commands(group())


DECORATED = """
import click
from nautilus_core import hookimpl

@hookimpl
def nautilus_register_commands(cli):
    @cli.command("{cmd}")
    def command():
        "Say hi."
        click.echo("hi from {name}")
"""


def test_plugin_command_decorator_cannot_replace_a_builtin(dists):
    dists.add("hello-dist", "hello", "hello_plugin", DECORATED.format(cmd="hello", name="hello"))
    ok = dists.run_cli("hello")
    assert ok.returncode == 0 and ok.stdout.strip() == "hi from hello", ok.stderr

    dists.add("shadow-dist", "shadow", "shadow_plugin", DECORATED.format(cmd="plugins", name="shadow"))
    clash = dists.run_cli("hello")  # a plugin command: every plugin's commands are added
    assert clash.returncode == 3, (clash.stdout, clash.stderr)
    assert "hi from" not in clash.stdout
    assert "'plugins'" in clash.stderr and "nautilus-core" in clash.stderr and "shadow" in clash.stderr

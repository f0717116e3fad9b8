"""Plugin settings sections (nautilus_register_settings): validated at start-up, typed, no clashes."""

from __future__ import annotations

import pytest

from nautilus_core import PluginError
from nautilus_core.api import Nautilus
from nautilus_core.config import load_settings
from nautilus_core.errors import ConfigError
from nautilus_core.plugins import build_plugin_manager

SECTION = """
import click
from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict
from nautilus_core import hookimpl

class {cls}(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="{prefix}")
    canvas_url: str = "http://canvas.local"
    batch: int = Field(10, ge=1, le=500)

@hookimpl
def nautilus_register_settings(register):
    register({cls})
"""


def test_a_section_is_read_from_its_prefix_typed(dists, monkeypatch):
    dists.add("acme-oda", "acme", "acme_settings", SECTION.format(cls="AcmeSettings", prefix="NAUTILUS_ACME_"))
    monkeypatch.setenv("NAUTILUS_ACME_BATCH", "42")
    manager = build_plugin_manager()
    import acme_settings

    registered = manager.settings_sections()["acme"]
    assert registered.plugin == "acme" and registered.obj is acme_settings.AcmeSettings
    app = Nautilus(load_settings(), plugins=manager)
    section = app.settings_section(acme_settings.AcmeSettings)
    assert section.batch == 42 and section.canvas_url == "http://canvas.local"


def test_a_bad_value_exits_2_naming_the_variable(dists):
    dists.add("acme-oda", "acme", "acme_settings", SECTION.format(cls="AcmeSettings", prefix="NAUTILUS_ACME_"))
    ok = dists.run_cli("plugins", "--json", env={"NAUTILUS_ACME_BATCH": "7"})
    assert ok.returncode == 0, ok.stderr

    bad = dists.run_cli("plugins", "--json", env={"NAUTILUS_ACME_BATCH": "9000"})
    assert bad.returncode == 2, (bad.stdout, bad.stderr)
    assert "NAUTILUS_ACME_BATCH='9000'" in bad.stderr and "500" in bad.stderr and "acme" in bad.stderr
    assert bad.stdout == ""


def test_the_same_prefix_from_two_plugins_is_refused_naming_both(dists):
    dists.add("acme-oda", "acme", "acme_settings", SECTION.format(cls="AcmeSettings", prefix="NAUTILUS_ACME_"))
    dists.add("other-oda", "other", "other_settings", """
from typing import ClassVar
from pydantic_settings import BaseSettings, SettingsConfigDict
from nautilus_core import hookimpl

class OtherSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="nautilus_acme_")
    section_name: ClassVar[str] = "other"

@hookimpl
def nautilus_register_settings(register):
    register(OtherSettings)
""")
    with pytest.raises(PluginError, match=r"'NAUTILUS_ACME_'.*acme \(AcmeSettings\).*other \(OtherSettings\)"):
        build_plugin_manager().settings_sections()
    clash = dists.run_cli("plugins")
    assert clash.returncode == 3 and "acme" in clash.stderr and "other" in clash.stderr


def test_the_same_section_name_from_two_plugins_is_refused_naming_both(dists):
    dists.add("acme-oda", "acme", "acme_settings", SECTION.format(cls="AcmeSettings", prefix="NAUTILUS_ACME_"))
    dists.add("copy-oda", "copy", "copy_settings", SECTION.format(cls="CopySettings", prefix="ACME_"))
    with pytest.raises(PluginError, match=r"'acme' registered by both acme and copy"):
        build_plugin_manager().settings_sections()


def test_a_section_without_prefix_or_not_a_settings_class_is_refused(dists):
    dists.add("bare-dist", "bare", "bare_settings", """
from pydantic_settings import BaseSettings
from nautilus_core import hookimpl

class BareSettings(BaseSettings):
    pass

@hookimpl
def nautilus_register_settings(register):
    register(BareSettings)
""")
    with pytest.raises(PluginError, match="BareSettings has no env_prefix"):
        build_plugin_manager().settings_sections()


def test_an_unregistered_section_is_a_plugin_error(dists):
    dists.add("acme-oda", "acme", "acme_settings", SECTION.format(cls="AcmeSettings", prefix="NAUTILUS_ACME_"))
    from pydantic_settings import BaseSettings, SettingsConfigDict

    class Unknown(BaseSettings):
        model_config = SettingsConfigDict(env_prefix="NAUTILUS_UNKNOWN_")

    with pytest.raises(PluginError, match="Unknown is not registered"):
        build_plugin_manager().settings_section(Unknown)


def test_every_bad_variable_of_every_section_is_named_once(dists, monkeypatch):
    dists.add("acme-oda", "acme", "acme_settings", SECTION.format(cls="AcmeSettings", prefix="NAUTILUS_ACME_"))
    dists.add("beta-oda", "beta", "beta_settings", SECTION.format(cls="BetaSettings", prefix="NAUTILUS_BETA_"))
    monkeypatch.setenv("NAUTILUS_ACME_BATCH", "zero")
    monkeypatch.setenv("NAUTILUS_BETA_BATCH", "0")
    with pytest.raises(ConfigError) as info:
        build_plugin_manager().validate_settings()
    text = str(info.value)
    assert "NAUTILUS_ACME_BATCH='zero'" in text and "(plugin acme)" in text
    assert "NAUTILUS_BETA_BATCH='0'" in text and "(plugin beta)" in text

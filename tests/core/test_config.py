"""Settings: seed variable names, URL composition, fail-fast validation naming the variable."""

from __future__ import annotations

import pytest

from nautilus_core import ConfigError
from nautilus_core.config import load_settings

VARS = ("DATABASE_URL", "DB_HOST", "DB_PORT", "DB_USER", "DB_PASSWORD", "DB_NAME", "DB_SSL_MODE",
        "LOG_LEVEL", "LOG_FORMAT", "WORKER_COUNT", "IN_CLUSTER")


@pytest.fixture(autouse=True)
def clean_env(monkeypatch, tmp_path):
    for var in VARS:
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("NAUTILUS_HOME", str(tmp_path))


def test_default_is_a_sqlite_file_under_nautilus_home(tmp_path):
    assert load_settings().database_url_value() == f"sqlite:///{tmp_path}/nautilus.db"


def test_db_variables_compose_a_postgresql_url_and_redaction_hides_the_password(monkeypatch):
    monkeypatch.setenv("DB_HOST", "db.internal")
    monkeypatch.setenv("DB_PORT", "6543")
    monkeypatch.setenv("DB_USER", "nest")
    monkeypatch.setenv("DB_PASSWORD", "s3cr:et@x")
    monkeypatch.setenv("DB_NAME", "fleet")
    monkeypatch.setenv("DB_SSL_MODE", "REQUIRE")
    settings = load_settings()
    assert settings.database_url_value() == (
        "postgresql+psycopg://nest:s3cr%3Aet%40x@db.internal:6543/fleet?sslmode=require")
    assert "s3cr" not in settings.redacted_url()
    assert "s3cr" not in repr(settings)


def test_database_url_wins_and_plain_postgres_scheme_uses_psycopg(monkeypatch):
    monkeypatch.setenv("DB_HOST", "ignored")
    monkeypatch.setenv("DATABASE_URL", "postgres://u:pw@h/d")
    assert load_settings().database_url_value() == "postgresql+psycopg://u:pw@h/d"


@pytest.mark.parametrize(("var", "value", "accepted"), [
    ("LOG_FORMAT", "xml", "'json' or 'text'"),
    ("DB_SSL_MODE", "sometimes", "'verify-full'"),
    ("LOG_LEVEL", "loud", "'CRITICAL'"),
    ("WORKER_COUNT", "0", "greater than or equal to 1"),
    ("IN_CLUSTER", "perhaps", "valid boolean"),
])
def test_invalid_value_names_variable_and_accepted_values(monkeypatch, var, value, accepted):
    monkeypatch.setenv(var, value)
    with pytest.raises(ConfigError) as err:
        load_settings()
    assert f"{var}=" in str(err.value)
    assert accepted in str(err.value)


def test_invalid_password_like_value_is_not_echoed(monkeypatch):
    monkeypatch.setenv("DATABASE_URL", "postgresql://u:topsecret@h/d")
    monkeypatch.setenv("DB_PORT", "nope")
    with pytest.raises(ConfigError) as err:
        load_settings()
    assert "DB_PORT=" in str(err.value)
    assert "topsecret" not in str(err.value)


def test_flags_override_environment(monkeypatch):
    monkeypatch.setenv("LOG_LEVEL", "ERROR")
    assert load_settings(log_level="debug").log_level == "DEBUG"
    assert load_settings(log_level=None).log_level == "ERROR"

"""Settings: seed variable names, URL composition, fail-fast validation naming the variable."""

from __future__ import annotations

import pytest

from nautilus_core import ConfigError
from nautilus_core.config import load_settings

VARS = ("DATABASE_URL", "DB_HOST", "DB_PORT", "DB_USER", "DB_PASSWORD", "DB_NAME", "DB_SSL_MODE",
        "LOG_LEVEL", "LOG_FORMAT", "WORKER_COUNT", "IN_CLUSTER", "RECONCILE_INTERVAL", "BACKOFF_BASE",
        "BACKOFF_MAX", "LEASE_DURATION", "RENEW_DEADLINE", "RETRY_PERIOD", "TOMBSTONE_RETENTION_DAYS",
        "NAUTILUS_KUBE_RETRIES", "NAUTILUS_KUBE_TIMEOUT", "MAX_RETRIES")


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


def test_the_seeds_duration_values_are_accepted(monkeypatch):
    for var, value in {"RECONCILE_INTERVAL": "30s", "BACKOFF_BASE": "5s", "BACKOFF_MAX": "5m",
                       "LEASE_DURATION": "15s", "RENEW_DEADLINE": "10s", "RETRY_PERIOD": "2s",
                       "NAUTILUS_KUBE_TIMEOUT": "1m30s"}.items():
        monkeypatch.setenv(var, value)
    s = load_settings()
    assert (s.reconcile_interval, s.backoff_base, s.backoff_max) == (30.0, 5.0, 300.0)
    assert (s.lease_duration, s.renew_deadline, s.retry_period, s.kube_timeout) == (15.0, 10.0, 2.0, 90.0)
    monkeypatch.setenv("RECONCILE_INTERVAL", "45")  # bare seconds, as before
    monkeypatch.setenv("RETRY_PERIOD", "500ms")
    assert (load_settings().reconcile_interval, load_settings().retry_period) == (45.0, 0.5)


@pytest.mark.parametrize(("var", "value", "problem"), [
    ("RECONCILE_INTERVAL", "inf", "finite"),
    ("BACKOFF_BASE", "nan", "finite"),
    ("BACKOFF_MAX", "-5m", "negative"),
    ("LEASE_DURATION", "99999999999d", "maximum"),
    ("RENEW_DEADLINE", "0", "longer than 0"),
    ("RETRY_PERIOD", "soon", "duration such as"),
    ("TOMBSTONE_RETENTION_DAYS", "1e308", "less than or equal to 36500"),
    ("TOMBSTONE_RETENTION_DAYS", "inf", "finite"),
    ("TOMBSTONE_RETENTION_DAYS", "-1", "greater than or equal to 0"),
    ("NAUTILUS_KUBE_RETRIES", "abc", "valid integer"),
    ("NAUTILUS_KUBE_RETRIES", "-1", "greater than or equal to 0"),
    ("NAUTILUS_KUBE_TIMEOUT", "0", "longer than 0"),
    ("NAUTILUS_KUBE_TIMEOUT", "-1", "negative"),
    ("MAX_RETRIES", "99999999999", "less than or equal to 1000"),
])
def test_unusable_numbers_are_refused_naming_the_variable(monkeypatch, var, value, problem):
    monkeypatch.setenv(var, value)
    with pytest.raises(ConfigError) as err:
        load_settings()
    assert f"{var}={value!r}" in str(err.value)
    assert problem in str(err.value)


def test_backoff_base_may_not_exceed_backoff_max(monkeypatch):
    monkeypatch.setenv("BACKOFF_BASE", "10m")
    with pytest.raises(ConfigError, match=r"BACKOFF_BASE \(10m\) must not exceed BACKOFF_MAX \(5m\)"):
        load_settings()


def test_kube_clients_take_their_retries_and_timeout_from_settings(monkeypatch):
    from nautilus_core.kube import RetryPolicy
    from nautilus_core.kube.connect import default_timeout

    monkeypatch.setenv("NAUTILUS_KUBE_RETRIES", "2")
    monkeypatch.setenv("NAUTILUS_KUBE_TIMEOUT", "2s")
    assert RetryPolicy.from_env().attempts == 2
    assert default_timeout() == (2.0, 2.0)
    monkeypatch.setenv("NAUTILUS_KUBE_TIMEOUT", "0")
    with pytest.raises(ConfigError, match="NAUTILUS_KUBE_TIMEOUT='0'"):
        default_timeout()


def test_nautilus_home_is_a_setting_and_blank_means_unset(monkeypatch, tmp_path):
    assert load_settings().database_url_value() == f"sqlite:///{tmp_path / 'nautilus.db'}"
    monkeypatch.setenv("NAUTILUS_HOME", " ")
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))
    assert load_settings().database_url_value() == f"sqlite:///{tmp_path / 'xdg' / 'nautilus' / 'nautilus.db'}"
    assert load_settings(nautilus_home=tmp_path / "flag").database_url_value().endswith("/flag/nautilus.db")


def test_the_deploy_manifests_settings_are_accepted(monkeypatch):
    from pathlib import Path

    import yaml

    from nautilus_core.cli.output import Duration

    root = Path(__file__).resolve().parents[2] / "deploy"
    for manifest in sorted(root.glob("*/*.yaml")):
        for doc in yaml.safe_load_all(manifest.read_text()):
            spec = (doc or {}).get("spec") or {}
            pod = (spec.get("jobTemplate", {}).get("spec", spec).get("template") or {}).get("spec") or {}
            for container in pod.get("containers", []) + pod.get("initContainers", []):
                for env in container.get("env", []):
                    if "value" in env:
                        monkeypatch.setenv(env["name"], str(env["value"]))
                args = container.get("args", [])
                if "--grace-period" in args:
                    assert Duration().convert(args[args.index("--grace-period") + 1], None, None) == 30.0
    settings = load_settings()
    assert (settings.reconcile_interval, settings.backoff_base, settings.backoff_max) == (30.0, 5.0, 300.0)

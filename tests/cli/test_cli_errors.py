"""The ``nautilus`` command in a subprocess, the way users meet it: secrets never leave the process,
and bad settings, revisions and databases each give one clear line and the documented exit code."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

SECRETS = ("s3cretPW", "k3yPW", "t0kenVAL", "pw1inUSER")


def nautilus(*args: str, env: dict[str, str] | None = None, home: Path, timeout: float = 60):
    """Run ``python -m nautilus_core.cli ARGS`` with a clean Nautilus environment plus ``env``."""
    base = {k: v for k, v in os.environ.items()
            if not k.startswith(("NAUTILUS_", "DB_", "LOG_")) and k not in ("DATABASE_URL", "KUBECONFIG")}
    base |= {"NAUTILUS_HOME": str(home), "LOG_FORMAT": "json", "NAUTILUS_KUBE_RETRIES": "1"}
    return subprocess.run([sys.executable, "-m", "nautilus_core.cli", *args], env=base | (env or {}),
                          capture_output=True, text=True, timeout=timeout)


@pytest.mark.parametrize("url", [
    "postgresql://u@127.0.0.1:1/db?password=s3cretPW",
    "postgresql://u:pw1inUSER@127.0.0.1:1/db?sslpassword=k3yPW&application_name=x",
    "postgresql+psycopg://u@127.0.0.1:1/db?sslmode=disable&password=s3cretPW&token=t0kenVAL",
], ids=["password-param", "userinfo-and-sslpassword", "password-and-token"])
@pytest.mark.parametrize("command", [["db", "current"], ["inventory", "clusters"], ["db", "upgrade"]],
                         ids=lambda c: "-".join(c))
def test_debug_tracebacks_and_errors_never_show_a_database_password(tmp_path, url, command):
    proc = nautilus("--debug", *command, env={"DATABASE_URL": url}, home=tmp_path)
    assert proc.returncode == 1, proc.stderr
    assert "Traceback" in proc.stderr  # --debug did print the traceback ...
    assert "127.0.0.1:1/db" in proc.stderr  # ... naming the database
    for secret in SECRETS:
        assert secret not in proc.stderr and secret not in proc.stdout
    assert "***" in proc.stderr


# --------------------------------------------------------------------------- settings (exit 2, named)

BAD_SETTINGS = [
    ("NAUTILUS_KUBE_RETRIES", "abc"), ("NAUTILUS_KUBE_TIMEOUT", "0"), ("NAUTILUS_KUBE_TIMEOUT", "-1"),
    ("LOG_LEVEL", "loud"), ("LOG_FORMAT", "xml"), ("RECONCILE_INTERVAL", "inf"),
    ("TOMBSTONE_RETENTION_DAYS", "1e308"), ("BACKOFF_MAX", "99999999999d"),
]


@pytest.mark.parametrize(("var", "value"), BAD_SETTINGS, ids=[f"{v}={x}" for v, x in BAD_SETTINGS])
@pytest.mark.parametrize("command", [["plugins"], ["db", "current"], ["inventory", "sync"],
                                     ["controller", "run", "--no-leader-election"]], ids=lambda c: c[-1])
def test_a_bad_setting_is_refused_at_start_up_naming_the_variable(tmp_path, var, value, command):
    proc = nautilus(*command, env={var: value, "KUBECONFIG": str(tmp_path / "none")}, home=tmp_path)
    assert proc.returncode == 2, (proc.stdout, proc.stderr)
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("nautilus: error: invalid setting:")
    assert f"{var}=" in lines[0]
    assert "Traceback" not in proc.stderr


def test_the_seeds_duration_values_start_every_command(tmp_path):
    seed = {"RECONCILE_INTERVAL": "30s", "BACKOFF_BASE": "5s", "BACKOFF_MAX": "5m", "LEASE_DURATION": "15s",
            "RENEW_DEADLINE": "10s", "RETRY_PERIOD": "2s", "NAUTILUS_KUBE_TIMEOUT": "30s"}
    proc = nautilus("db", "upgrade", env=seed, home=tmp_path)
    assert proc.returncode == 0, proc.stderr
    proc = nautilus("plugins", env=seed, home=tmp_path)
    assert proc.returncode == 0, proc.stderr


@pytest.mark.parametrize(("args", "flag"), [
    (["controller", "run", "--backoff-base", "inf"], "--backoff-base"),
    (["controller", "run", "--backoff-max", "nan"], "--backoff-max"),
    (["controller", "run", "--reconcile-interval", "-30s"], "--reconcile-interval"),
    (["controller", "run", "--grace-period", "-1"], "--grace-period"),
    (["controller", "run", "--max-retries", "-1"], "--max-retries"),
    (["inventory", "sync", "--every", "99999999999d"], "--every"),
    (["inventory", "sync", "--every", "0"], "--every"),
    (["inventory", "runs", "--limit", "-1"], "--limit"),
    (["inventory", "runs", "--limit", "99999999999999999999"], "--limit"),
], ids=lambda a: " ".join(a) if isinstance(a, list) else None)
def test_an_unusable_flag_is_a_usage_error_naming_the_flag(tmp_path, args, flag):
    proc = nautilus(*args, home=tmp_path)
    assert proc.returncode == 2, (proc.stdout, proc.stderr)
    assert flag in proc.stderr
    assert "Traceback" not in proc.stderr and "OverflowError" not in proc.stderr


def test_durations_flags_take_go_style_values(tmp_path):
    proc = nautilus("controller", "run", "--help", home=tmp_path)
    assert proc.returncode == 0 and "DURATION" in proc.stdout
    # a valid --every is accepted: the loop runs (each run fails on the missing kubeconfig) until SIGTERM
    env = {k: v for k, v in os.environ.items() if not k.startswith(("NAUTILUS_", "LOG_"))}
    env |= {"NAUTILUS_HOME": str(tmp_path), "KUBECONFIG": str(tmp_path / "missing.yaml"), "LOG_FORMAT": "json"}
    proc = subprocess.Popen([sys.executable, "-m", "nautilus_core.cli", "inventory", "sync", "--provider",
                             "kubeconfig", "--every", "1h30m"], env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    try:
        with pytest.raises(subprocess.TimeoutExpired):
            proc.wait(timeout=4)
    finally:
        proc.terminate()
        _, err = proc.communicate(timeout=30)
    assert proc.returncode == 1 and "missing.yaml" in err  # the failed run, reported; not a usage error


# --------------------------------------------------------------------------- schema and database rights


def plain_sql(url: str, sql: str) -> str:
    """Run ``sql`` with the database's own command-line client (``sqlite3`` / ``psql``), as users do."""
    from sqlalchemy.engine import make_url

    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        command = ["sqlite3", str(parsed.database), sql]
    else:
        libpq = parsed.set(drivername="postgresql").render_as_string(hide_password=False)
        command = ["psql", "-X", "-q", "-t", "-A", "-v", "ON_ERROR_STOP=1", libpq, "-c", sql]
    return subprocess.run(command, check=True, capture_output=True, text=True, timeout=60).stdout.strip()


def one_line(proc) -> str:
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, proc.stderr
    assert "[SQL:" not in proc.stderr and "Traceback" not in proc.stderr
    return lines[0]


def tables(url: str) -> set[str]:
    from sqlalchemy import inspect

    from nautilus_core.db import make_engine

    engine = make_engine(url)
    try:
        return set(inspect(engine).get_table_names())
    finally:
        engine.dispose()


def test_db_upgrade_to_an_unknown_revision_is_a_usage_error_and_touches_nothing(tmp_path, empty_db_url):
    proc = nautilus("db", "upgrade", "--revision", "nope", env={"DATABASE_URL": empty_db_url}, home=tmp_path)
    assert proc.returncode == 2
    line = one_line(proc)
    assert "'nope'" in line and "0001" in line and "head" in line
    assert not tables(empty_db_url)


@pytest.mark.parametrize("command", [["inventory", "clusters"], ["inventory", "runs"], ["inventory", "nodes"]],
                         ids=lambda c: c[-1])
def test_read_commands_never_migrate_and_say_what_to_run(tmp_path, empty_db_url, command):
    env = {"DATABASE_URL": empty_db_url}
    proc = nautilus(*command, env=env, home=tmp_path)
    assert proc.returncode == 1
    assert "no Nautilus schema" in one_line(proc) and "nautilus db upgrade" in proc.stderr
    assert not tables(empty_db_url)  # nothing was created
    assert nautilus("db", "upgrade", "--revision", "0002", env=env, home=tmp_path).returncode == 0
    proc = nautilus(*command, env=env, home=tmp_path)
    assert proc.returncode == 1
    line = one_line(proc)
    assert "revision 0002" in line and "nautilus db upgrade" in line
    assert plain_sql(empty_db_url, "SELECT version_num FROM alembic_version") == "0002"  # not upgraded
    proc = nautilus("db", "current", env=env, home=tmp_path)
    assert proc.returncode == 0 and proc.stdout.strip() == "0002" and "nautilus db upgrade" in proc.stderr
    assert plain_sql(empty_db_url, "SELECT version_num FROM alembic_version") == "0002"
    assert nautilus("db", "upgrade", env=env, home=tmp_path).returncode == 0
    assert nautilus(*command, env=env, home=tmp_path).returncode == 0


def test_an_unknown_revision_in_the_database_is_one_clear_line(tmp_path, empty_db_url):
    env = {"DATABASE_URL": empty_db_url}
    assert nautilus("db", "upgrade", env=env, home=tmp_path).returncode == 0
    plain_sql(empty_db_url, "UPDATE alembic_version SET version_num = 'zzz9'")
    for command in (["db", "upgrade"], ["inventory", "clusters"], ["inventory", "runs"]):
        proc = nautilus(*command, env=env, home=tmp_path)
        assert proc.returncode == 1, command
        line = one_line(proc)
        assert "'zzz9'" in line and "does not know" in line and "CommandError" not in line
    proc = nautilus("db", "current", env=env, home=tmp_path)
    assert proc.stdout.strip() == "zzz9" and "does not know" in proc.stderr
    assert plain_sql(empty_db_url, "SELECT version_num FROM alembic_version") == "zzz9"
    proc = nautilus("--debug", "db", "upgrade", env=env, home=tmp_path)
    assert "Traceback" in proc.stderr  # the details are there when asked for


@pytest.fixture
def read_only_url(empty_db_url):
    """``empty_db_url`` migrated to 0002 (one step behind), and a URL that may only read it: a role with
    SELECT rights on PostgreSQL (unique name, dropped after), ``?mode=ro`` on SQLite."""
    import secrets

    from sqlalchemy.engine import make_url

    from nautilus_core.db import upgrade

    upgrade(empty_db_url, "0002")
    parsed = make_url(empty_db_url)
    if parsed.get_backend_name() == "sqlite":
        yield f"sqlite:///file:{parsed.database}?mode=ro&uri=true"
        return
    role = f"nautilus_ro_{secrets.token_hex(5)}"
    plain_sql(empty_db_url, f'CREATE ROLE "{role}" LOGIN; GRANT CONNECT ON DATABASE "{parsed.database}" TO "{role}"; '
                            f'GRANT USAGE ON SCHEMA public TO "{role}"; '
                            f'GRANT SELECT ON ALL TABLES IN SCHEMA public TO "{role}"')
    try:
        yield parsed.set(username=role, password=None).render_as_string(hide_password=False)
    finally:
        plain_sql(empty_db_url, f'DROP OWNED BY "{role}"; DROP ROLE "{role}"')


def test_a_read_only_database_user_gets_one_clear_line(tmp_path, empty_db_url, read_only_url):
    ro = {"DATABASE_URL": read_only_url}
    for command in (["db", "upgrade"], ["inventory", "sync", "--provider", "kubeconfig"]):
        proc = nautilus(*command, env=ro | {"KUBECONFIG": str(tmp_path / "none")}, home=tmp_path)
        assert proc.returncode == 1, command
        line = one_line(proc)
        assert line.startswith("nautilus: error: database ") and "refused" in line, line
    assert plain_sql(empty_db_url, "SELECT version_num FROM alembic_version") == "0002"
    # once migrated by a user who may, the read-only user reads without trying to migrate
    assert nautilus("db", "upgrade", env={"DATABASE_URL": empty_db_url}, home=tmp_path).returncode == 0
    for command in (["inventory", "clusters"], ["inventory", "runs"], ["db", "current"]):
        proc = nautilus(*command, env=ro, home=tmp_path)
        assert proc.returncode == 0, (command, proc.stderr)
        assert proc.stderr == ""

"""``nautilus podwatch collect`` in a subprocess with the seed's environment, against the emulated fleet:
the seed's line per namespace with the right counts, DATABASE_URL or DB_*, a failed namespace exits 1."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from collect_helpers import SPEC, cli, namespace_counts
from sqlalchemy.engine import make_url

from nautilus_core.testing import populate

LINE = re.compile(r"^Sync complete namespace=(\S+) pods=(\d+) containers=(\d+) logs=(\d+)$")


@pytest.fixture
def seeded(kube_emulator: Any, tmp_path: Path) -> tuple[Any, Any, Path]:
    summary = populate(kube_emulator, SPEC)
    return kube_emulator, summary, kube_emulator.write_kubeconfig(tmp_path / "kubeconfig")


def _env(kubeconfig: Path, **extra: str) -> dict[str, str]:
    return {"KUBECONFIG": str(kubeconfig), "NAUTILUS_PROVIDERS": "kubeconfig", "LOG_FORMAT": "json",
            "NAUTILUS_KUBE_RETRIES": "1", "NAUTILUS_KUBE_TIMEOUT": "5", **extra}


def _lines(stdout: str) -> dict[str, tuple[int, int, int]]:
    found = {}
    for line in stdout.splitlines():
        match = LINE.match(line)
        if match:
            found[match[1]] = (int(match[2]), int(match[3]), int(match[4]))
    return found


def test_the_seed_line_per_namespace_with_the_stored_counts(engine: Any, db_url: str, seeded: Any) -> None:
    emu, summary, kubeconfig = seeded
    ns = summary.namespaces[0]
    done = cli("podwatch", "collect", env=_env(kubeconfig, TARGET_NAMESPACE=ns, DATABASE_URL=db_url,
                                               LOG_TAIL_LINES="50"))
    assert done.returncode == 0, done.stderr
    lines = _lines(done.stdout)
    assert list(lines) == [ns]
    pods, containers, logs = lines[ns]
    assert pods == len(emu.list("v1", "pods", namespace=ns)) > 0
    assert (pods, containers, logs) == namespace_counts(engine, ns)
    assert logs > 0
    # kubectl sees the same pods the collector stored
    again = cli("podwatch", "collect", "-n", ns, env=_env(kubeconfig, DATABASE_URL=db_url, LOG_TAIL_LINES="50"))
    assert again.returncode == 0 and _lines(again.stdout) == lines


def test_db_variables_instead_of_database_url(engine: Any, db_url: str, seeded: Any) -> None:
    url = make_url(db_url)
    if url.get_backend_name() != "postgresql":
        pytest.skip("DB_HOST/DB_* name a PostgreSQL server (SQLite is covered by DATABASE_URL)")
    _, summary, kubeconfig = seeded
    ns = summary.namespaces[0]
    env = _env(kubeconfig, TARGET_NAMESPACE=ns, DB_HOST=url.host or "127.0.0.1", DB_PORT=str(url.port or 5432),
               DB_NAME=url.database or "", DB_USER=url.username or "", DB_SSL="false")
    if url.password:
        env["DB_PASSWORD"] = url.password
    done = cli("podwatch", "collect", env=env)
    assert done.returncode == 0, done.stderr
    assert _lines(done.stdout)[ns] == namespace_counts(engine, ns)


def test_all_namespaces_and_a_failed_namespace(engine: Any, db_url: str, seeded: Any) -> None:
    emu, summary, kubeconfig = seeded
    first, second = summary.namespaces
    done = cli("podwatch", "collect", "--all-namespaces", env=_env(kubeconfig, DATABASE_URL=db_url))
    assert done.returncode == 0, done.stderr
    assert set(_lines(done.stdout)) == {first, second}
    emu.inject("GET", re.compile(rf"^/api/v1/namespaces/{first}/pods$"), status=403, times=None)
    failed = cli("podwatch", "collect", env=_env(kubeconfig, DATABASE_URL=db_url,
                                                 TARGET_NAMESPACE=f"{first},{second}"))
    assert failed.returncode == 1
    assert list(_lines(failed.stdout)) == [second]
    assert f"Sync failed namespace={first} cluster=kubeconfig///emulator" in failed.stderr
    assert namespace_counts(engine, first)[0] == len(emu.list("v1", "pods", namespace=first))


def test_a_bad_seed_variable_is_named(db_url: str, tmp_path: Path) -> None:
    done = cli("podwatch", "collect", env={"DATABASE_URL": db_url, "LOG_TAIL_LINES": "lots",
                                           "KUBECONFIG": str(tmp_path / "none")})
    assert done.returncode == 2
    assert "LOG_TAIL_LINES='lots'" in done.stderr
    done = cli("podwatch", "collect", env={"DATABASE_URL": db_url, "TARGET_NAMESPACE": "Shop_1",
                                           "KUBECONFIG": str(tmp_path / "none")})
    assert done.returncode == 2 and "TARGET_NAMESPACE='Shop_1'" in done.stderr

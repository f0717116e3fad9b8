"""Credentials in a kubeconfig server URL never reach ``cluster.endpoint`` or the CLI's output, while
the sync still connects with the kubeconfig as given. On SQLite and PostgreSQL."""

from __future__ import annotations

import json

import pytest
import yaml
from inv_helpers import cli, cli_env
from sqlalchemy import text

from nautilus_core.inventory.endpoint import strip_credentials


@pytest.mark.parametrize(("given", "kept"), [
    ("http://admin:pw@10.0.0.1:6443", "http://10.0.0.1:6443"),
    ("https://k8s.example/base?access_token=s3cret&region=eu", "https://k8s.example/base?region=eu"),
    ("https://u@h:443/?token=a&X-Amz-Signature=b&sig=c&api_key=d&password=e", "https://h:443/"),
    ("https://h/#frag-with-secret", "https://h/"),
    ("admin:pw@h:6443/p?token=x", "h:6443/p"),
    ("https://h:notaport", None),
    ("https://[::1]:6443", "https://[::1]:6443"),
    (None, None),
])
def test_strip_credentials(given, kept):
    assert strip_credentials(given) == kept


def test_a_server_url_with_userinfo_is_synced_but_stored_and_printed_without_it(engine, db_url, kube_fleet,
                                                                                tmp_path):
    fleet = kube_fleet(["east"])
    path = fleet.write_kubeconfig(tmp_path / "kc")
    config = yaml.safe_load(path.read_text())
    server = config["clusters"][0]["cluster"]["server"]
    config["clusters"][0]["cluster"]["server"] = server.replace("http://", "http://admin:pw-s3cret@")
    path.write_text(yaml.safe_dump(config))
    env = cli_env(db_url, str(path))

    synced = cli("inventory", "sync", env=env)
    assert synced.returncode == 0, synced.stderr                     # connected with the credentials
    listed = cli("inventory", "clusters", "--json", env=env)
    [cluster] = json.loads(listed.stdout)["clusters"]
    assert cluster["endpoint"] == server.rstrip("/")
    assert "s3cret" not in listed.stdout + synced.stdout + synced.stderr
    with engine.connect() as conn:
        stored = conn.execute(text("SELECT endpoint FROM cluster")).scalar()
    assert stored == server.rstrip("/")


def test_rows_stored_with_credentials_earlier_are_printed_without_them(engine, db_url):
    with engine.begin() as conn:
        conn.execute(text(
            "INSERT INTO cluster (key, provider, account, location, name, endpoint, first_seen_at, last_seen_at, "
            "data_hash) VALUES ('kubeconfig///old', 'kubeconfig', '', '', 'old', "
            "'https://admin:pw-s3cret@h:6443/?access_token=tok-s3cret&region=eu', "
            "CURRENT_TIMESTAMP, CURRENT_TIMESTAMP, '')"))
    listed = cli("inventory", "clusters", "--json", env=cli_env(db_url, ""))
    assert listed.returncode == 0, listed.stderr
    [cluster] = json.loads(listed.stdout)["clusters"]
    assert cluster["endpoint"] == "https://h:6443/?region=eu"
    assert "s3cret" not in listed.stdout

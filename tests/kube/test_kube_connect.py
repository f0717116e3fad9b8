"""Reading a kubeconfig: a file that is missing, not YAML or not shaped like a kubeconfig is a
``ConfigError`` naming the file and the field, never a bare ``TypeError``/``ScannerError``."""

from __future__ import annotations

import pytest

from nautilus_core.errors import ConfigError
from nautilus_core.kube import connect, list_contexts, read_kubeconfig

CASES = {
    "not-yaml": (b"clusters: [[[ {", "not valid YAML at line 1"),
    "not-utf8": (b"\xff\xfe\x00bad", "not UTF-8 text"),
    "scalar": (b"5\n", "expected a mapping (apiVersion, clusters, contexts, users), got int"),
    "users-map": (b"users: {a: 1}\n", "users: expected a list, got a mapping"),
    "nameless": (b"contexts:\n- context: {cluster: c}\n", "contexts[0].name: missing or not a string"),
    "token-int": (b"users:\n- name: u\n  user: {token: 5}\n", "users[0].user.token: expected a string, got int"),
    "current-list": (b"current-context: [a]\n", "current-context: expected a string, got a list"),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_malformed_kubeconfig_names_file_and_field(tmp_path, case):
    content, problem = CASES[case]
    path = tmp_path / "config"
    path.write_bytes(content)
    for read in (read_kubeconfig, list_contexts, lambda p: connect(kubeconfig=p)):
        with pytest.raises(ConfigError) as caught:
            read(str(path))
        assert str(path) in str(caught.value) and problem in str(caught.value)


def test_missing_file_and_directory_are_named(tmp_path):
    for path, problem in ((tmp_path / "nope", "No such file"), (tmp_path, "Is a directory")):
        with pytest.raises(ConfigError, match=problem) as caught:
            list_contexts(str(path))
        assert str(path) in str(caught.value)


def test_an_empty_file_has_no_contexts(tmp_path):
    path = tmp_path / "config"
    path.write_text("")
    assert list_contexts(str(path)) == []

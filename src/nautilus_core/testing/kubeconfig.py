"""Kubeconfig files that point at emulators (plain http, optional bearer token).

Owns the shape of the kubeconfig documents written by ``KubeEmulator.write_kubeconfig`` (one context)
and ``EmulatedFleet.write_kubeconfig`` (one context per cluster, named like the cluster), as read by
``kubernetes.config`` and by Nautilus's kubeconfig provider.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

Entry = dict[str, Any]


def entries(context: str, url: str, token: str | None) -> tuple[Entry, Entry, Entry]:
    """The (cluster, user, context) entries for one server; no credentials when ``token`` is empty."""
    user: Entry = {"token": token} if token else {}
    return (
        {"name": context, "cluster": {"server": url}},
        {"name": context, "user": user},
        {"name": context, "context": {"cluster": context, "user": context, "namespace": "default"}},
    )


def build(items: list[tuple[Entry, Entry, Entry]], current: str) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Config",
        "preferences": {},
        "clusters": [cluster for cluster, _, _ in items],
        "users": [user for _, user, _ in items],
        "contexts": [context for _, _, context in items],
        "current-context": current,
    }


def dump(path: str | Path, config: dict[str, Any]) -> Path:
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(yaml.safe_dump(config, sort_keys=False))
    return target

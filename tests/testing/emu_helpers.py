"""Request bodies shared by the emulator tests (plain dicts, as a user of the raw API would send)."""

from __future__ import annotations

from typing import Any


def pod_body(
    name: str, labels: dict[str, str] | None = None, containers: tuple[str, ...] = ("app",)
) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": name, "labels": labels or {}},
        "spec": {"containers": [{"name": c, "image": f"example/{c}:1"} for c in containers]},
    }


def deployment_body(name: str, replicas: int = 2) -> dict[str, Any]:
    labels = {"app": name}
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": name, "labels": labels},
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": labels},
            "template": {
                "metadata": {"labels": labels},
                "spec": {"containers": [{"name": "app", "image": "example/app:1"}]},
            },
        },
    }

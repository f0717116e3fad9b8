"""Request bodies shared by the emulator tests (plain dicts, as a user of the raw API would send)."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
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


def http(
    base_url: str,
    method: str,
    path: str,
    body: Any = None,
    content_type: str = "application/json",
    accept: str = "application/json",
) -> tuple[int, dict[str, Any], dict[str, list[str]]]:
    """One raw HTTP request (for content types the typed client cannot send): (code, JSON, headers)."""
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(base_url + path, data=data, method=method)
    request.add_header("Content-Type", content_type)
    request.add_header("Accept", accept)
    try:
        with urllib.request.urlopen(request, timeout=10) as answer:
            code, raw, headers = answer.status, answer.read(), answer.headers
    except urllib.error.HTTPError as error:
        code, raw, headers = error.code, error.read(), error.headers
    grouped: dict[str, list[str]] = {}
    for name, value in headers.items():
        grouped.setdefault(name.lower(), []).append(value)
    return code, json.loads(raw) if raw else {}, grouped

"""Container logs of the API emulator (``GET .../pods/{name}/log``).

Owns the log text set by tests (``KubeEmulator.set_logs``, the fleet generator) and the rules of the
log endpoint: which container is meant, ``previous``, ``tailLines``, ``timestamps``, ``limitBytes``, and
the 400 errors a real server gives (several containers and none named, unknown container, no previous
instance, container still waiting). Called by the HTTP layer (``handlers.py``).
"""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta
from typing import Any

from nautilus_core.testing import status as st

LogKey = tuple[str, str, str, bool]  # (namespace, pod, container, previous)


class LogStore:
    """Log lines per (namespace, pod, container, previous), each with the time it was written."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._logs: dict[LogKey, tuple[datetime, list[str]]] = {}

    def set(
        self,
        namespace: str,
        pod: str,
        container: str,
        text: str,
        previous: bool = False,
        append: bool = False,
    ) -> None:
        lines = text.splitlines()
        with self._lock:
            key = (namespace, pod, container, previous)
            if append and key in self._logs:
                started, existing = self._logs[key]
                self._logs[key] = (started, existing + lines)
            else:
                self._logs[key] = (datetime.now(UTC) - timedelta(milliseconds=len(lines)), lines)

    def clear(self) -> None:
        with self._lock:
            self._logs.clear()

    def read(
        self,
        pod: dict[str, Any],
        container: str | None,
        previous: bool,
        tail_lines: int | None,
        timestamps: bool,
        limit_bytes: int | None,
    ) -> str:
        """The text the log endpoint answers for ``pod`` (the stored object), or a 400/404 ApiError."""
        meta, spec = pod["metadata"], pod.get("spec") or {}
        namespace, name = meta.get("namespace", ""), meta["name"]
        regular = [c.get("name", "") for c in spec.get("containers") or []]
        others = [
            c.get("name", "")
            for key in ("initContainers", "ephemeralContainers")
            for c in spec.get(key) or []
        ]
        if not container:
            if len(regular) != 1:
                choices = " ".join(regular)
                raise st.bad_request(
                    f"a container name must be specified for pod {name}, choose one of: [{choices}]"
                )
            container = regular[0]
        elif container not in regular and container not in others:
            raise st.bad_request(f"container {container} is not valid for pod {name}")
        with self._lock:
            entry = self._logs.get((namespace, name, container, previous))
        if entry is None:
            if previous:
                raise st.bad_request(f'previous terminated container "{container}" in pod "{name}" not found')
            waiting = _waiting_reason(pod, container)
            if waiting:
                raise st.bad_request(
                    f'container "{container}" in pod "{name}" is waiting to start: {waiting}'
                )
            return ""
        started, lines = entry
        first = 0 if tail_lines is None else max(0, len(lines) - tail_lines)
        if timestamps:
            out = [
                f"{(started + timedelta(milliseconds=i)).strftime('%Y-%m-%dT%H:%M:%S.%f')}000Z {lines[i]}"
                for i in range(first, len(lines))
            ]
        else:
            out = lines[first:]
        text = "".join(line + "\n" for line in out)
        if limit_bytes is not None:
            text = text.encode()[:limit_bytes].decode(errors="ignore")
        return text


def _waiting_reason(pod: dict[str, Any], container: str) -> str | None:
    status = pod.get("status") or {}
    for key in ("containerStatuses", "initContainerStatuses"):
        for item in status.get(key) or []:
            if item.get("name") == container:
                waiting = (item.get("state") or {}).get("waiting")
                return (waiting.get("reason") or "ContainerCreating") if waiting is not None else None
    return "ContainerCreating" if status.get("phase") == "Pending" else None

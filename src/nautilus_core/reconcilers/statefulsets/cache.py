"""What the statefulsets reconciler knows of its objects without asking the API server.

Fed by the reconciler's own watch events (StatefulSets and Services it labels) and by the answers
to its own writes, so a steady-state resync reads from memory instead of sending a GET per object.
A miss falls back to a GET (the cache never says "absent"); an event older than what is cached is
ignored. Namespace existence is remembered for a while (``ttl``). Used by ``reconciler``.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Mapping
from typing import Any

Key = tuple[str, str, str]  # (plural, namespace, name)


def _rv(obj: Mapping[str, Any]) -> int | None:
    raw = (obj.get("metadata") or {}).get("resourceVersion")
    return int(raw) if isinstance(raw, str) and raw.isdigit() else None


class ObjectCache:
    def __init__(self, ttl: float) -> None:
        self.ttl = ttl
        self._objects: dict[Key, dict[str, Any]] = {}
        self._namespaces: dict[str, float] = {}
        self._lock = threading.Lock()
        self.hits = self.misses = 0

    @staticmethod
    def key(plural: str, obj: Mapping[str, Any]) -> Key:
        meta = obj.get("metadata") or {}
        return plural, str(meta.get("namespace") or ""), str(meta.get("name") or "")

    def get(self, plural: str, namespace: str, name: str) -> dict[str, Any] | None:
        with self._lock:
            obj = self._objects.get((plural, namespace, name))
            if obj is None:
                self.misses += 1
            else:
                self.hits += 1
            return obj

    def put(self, plural: str, obj: Mapping[str, Any] | None) -> None:
        """Remember ``obj`` unless a newer version of it is already known."""
        if not obj or not (obj.get("metadata") or {}).get("name"):
            return
        key = self.key(plural, obj)
        with self._lock:
            old = self._objects.get(key)
            old_rv, new_rv = (_rv(old) if old else None), _rv(obj)
            if old_rv is not None and new_rv is not None and new_rv < old_rv:
                return
            self._objects[key] = dict(obj)

    def objects(self) -> list[dict[str, Any]]:
        """Every cached object (a snapshot), e.g. to find objects whose row is gone."""
        with self._lock:
            return list(self._objects.values())

    def drop(self, plural: str, namespace: str, name: str) -> None:
        with self._lock:
            self._objects.pop((plural, namespace, name), None)

    def event(self, plural: str, event: str, obj: Mapping[str, Any]) -> None:
        if event == "DELETED":
            key = self.key(plural, obj)
            with self._lock:
                self._objects.pop(key, None)
        else:
            self.put(plural, obj)

    def namespace_known(self, name: str) -> bool:
        with self._lock:
            seen = self._namespaces.get(name)
            return seen is not None and time.monotonic() - seen < self.ttl

    def namespace_seen(self, name: str) -> None:
        with self._lock:
            self._namespaces[name] = time.monotonic()

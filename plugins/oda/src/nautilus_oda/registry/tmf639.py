"""The client of a TMF639 v5 Resource Inventory (what the ODA Canvas moved to), flavour ``tmf639``.

Owns :class:`ResourceInventoryClient`, the :class:`~nautilus_oda.registry.base.Registry` that
``build_registry`` returns when COMPONENT_REGISTRY_TYPE is ``tmf639`` (COMPONENT_REGISTRY_URL is the
API root, e.g. ``https://host/tmf-api/resourceInventoryManagement/v5``). The mapping, after the canvas's own:

- a component is a ``LogicalResource`` of category ``ODAComponent`` named after it; its labels are
  ``resourceCharacteristic`` name/value pairs;
- an exposed API is a ``LogicalResource`` of category ``API`` with the characteristics ``apiName``,
  ``apiType``, ``url``, ``specification`` (a list of ``{url}``), ``segment`` and ``status``
  (``ready``/``pending``; also shown as ``resourceStatus`` available/standby), its labels as further
  characteristics, and a ``resourceRelationship`` ``exposedBy`` to its component's resource;
- ownership: every resource this collector creates carries the characteristics ``managed-by=<owner>``
  and ``registry=<COMPONENT_REGISTRY_NAME>``; only those are ever changed or deleted.

Lists are paged with ``offset``/``limit`` (TMF630) until a short page or ``X-Total-Count``; changes are
JSON merge patches (``resourceCharacteristic`` is replaced whole). Resource ids are the server's and
not reused, so a remembered id that vanished only answers 404 (the resource is then created again).
Names are not unique in an inventory, so a create is never retried when it may have landed unanswered;
the next apply of that component first looks for it by name (and parent) and adopts it. There is no
registry entry in this flavour (:meth:`ensure_registry` does nothing).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import structlog

from nautilus_core.errors import ConfigError
from nautilus_core.retry import RetryPolicy
from nautilus_oda.registry.base import (
    OWNER_LABEL,
    ApiEntry,
    ComponentEntry,
    RegistryError,
    RegistryRejected,
    RegistryUnavailable,
)
from nautilus_oda.registry.http import Answer, MaybeWritten, Transport
from nautilus_oda.registry.limits import Limits, normalize

log = structlog.get_logger(__name__)

PAGE = 1000
REGISTRY_CHAR = "registry"
API_CHARS = frozenset({"apiName", "apiType", "url", "specification", "segment", "status"})
LIMITS = Limits(label_key=None, label_value=None, reserved_component_labels=frozenset({OWNER_LABEL, REGISTRY_CHAR}),
                reserved_api_labels=frozenset({OWNER_LABEL, REGISTRY_CHAR} | API_CHARS))
MERGE_PATCH = "application/merge-patch+json"


@dataclass
class _Known:
    component_id: str | None
    api_ids: dict[str, list[str]] = field(default_factory=dict)


def _chars(resource: dict[str, Any]) -> dict[str, Any]:
    return {str(c.get("name")): c.get("value") for c in resource.get("resourceCharacteristic") or []
            if isinstance(c, dict)}


def _char_list(values: dict[str, Any]) -> list[dict[str, Any]]:
    return [{"@type": "Characteristic", "name": k, "value": v} for k, v in values.items()]


class ResourceInventoryClient:
    """A TMF639 v5 Resource Inventory (see the module docstring)."""

    flavour = "tmf639"

    def __init__(self, url: str, *, registry_name: str, owner: str, api_key: str = "", timeout: float = 10.0,
                 retry: RetryPolicy | None = None) -> None:
        if not owner or "\x00" in owner:
            raise ConfigError("the collector's ownership mark must not be empty (COLLECTOR_INSTANCE)")
        self.registry_name = registry_name
        self.owner = owner
        self.calls: Counter[tuple[str, str]] = Counter()
        self.http = Transport(url, api_key=api_key, timeout=timeout, retry=retry, calls=self.calls,
                              name="resource inventory")
        self._known: dict[str, _Known] = {}
        self._listed = False
        self._uncertain: set[str] = set()  # components whose create may have landed unanswered
        self._uncertain_apis: set[tuple[str, str]] = set()  # (component, API) likewise

    def __repr__(self) -> str:
        return f"ResourceInventoryClient({self.http.where!r}, registry={self.registry_name!r}, owner={self.owner!r})"

    def close(self) -> None:
        self.http.close()

    # -- plumbing -------------------------------------------------------------------------------------

    def _call(self, method: str, path: str, operation: str, *, ok: tuple[int, ...] = (200, 201, 204),
              query: dict[str, Any] | None = None, body: Any = None, component: str | None = None) -> Answer:
        content_type = MERGE_PATCH if method == "PATCH" else "application/json"
        # a POST makes a new resource each time (no uniqueness here): never retried when it may have landed
        answer = self.http.request(method, path, operation=operation, query=query, body=body,
                                   content_type=content_type, idempotent=method != "POST")
        if answer.status in ok:
            return answer
        detail = self.http.scrub(answer.detail())
        if 400 <= answer.status < 500:
            where = f"component {component!r}: " if component else ""
            raise RegistryRejected(f"{where}{method} {path}: HTTP {answer.status}: {detail}", component=component)
        raise RegistryError(f"{method} {path}: unexpected HTTP {answer.status}: {detail}")

    def _page(self, query: dict[str, Any], operation: str) -> list[dict[str, Any]]:
        rows: list[dict[str, Any]] = []
        offset = 0
        while True:
            answer = self._call("GET", "/resource", operation, query={**query, "offset": offset, "limit": PAGE},
                                ok=(200, 206))
            if not isinstance(answer.data, list):
                raise RegistryUnavailable(f"GET /resource: expected a JSON array, got {type(answer.data).__name__}")
            good = [r for r in answer.data if isinstance(r, dict) and isinstance(r.get("id"), str) and r["id"]]
            if len(good) < len(answer.data):
                log.warning("registry_rows_malformed", path="/resource", skipped=len(answer.data) - len(good))
            rows.extend(good)
            offset += len(answer.data)
            total = answer.headers.get("x-total-count")
            done = total.isdigit() and offset >= int(total) if total else len(answer.data) < PAGE
            if done or not answer.data:
                return rows

    def _owned(self, resource: dict[str, Any]) -> bool:
        chars = _chars(resource)
        return chars.get(OWNER_LABEL) == self.owner and chars.get(REGISTRY_CHAR) == self.registry_name

    def _mark(self) -> dict[str, str]:
        return {OWNER_LABEL: self.owner, REGISTRY_CHAR: self.registry_name}

    # -- the Registry protocol -----------------------------------------------------------------------

    def check(self) -> None:
        self._call("GET", "/resource", "check", query={"limit": 1, "fields": "id"}, ok=(200, 206))

    def ensure_registry(self) -> None:
        """Nothing to do: the inventory has no registry entries (ownership is per resource)."""

    def list_owned(self) -> dict[str, ComponentEntry]:
        components = [r for r in self._page({"category": "ODAComponent"}, "list_components") if self._owned(r)]
        apis = [r for r in self._page({"category": "API"}, "list_apis") if self._owned(r)]
        known: dict[str, _Known] = {}
        labels: dict[str, dict[str, str]] = {}
        by_id: dict[str, str] = {}
        for row in components:
            name = str(row.get("name"))
            by_id[str(row.get("id"))] = name
            if name not in known:
                known[name] = _Known(str(row.get("id")))
                labels[name] = {k: _text(v) for k, v in _chars(row).items() if k not in (OWNER_LABEL, REGISTRY_CHAR)}
        entry_apis: dict[str, list[ApiEntry]] = {}
        for row in apis:
            parent = _exposed_by(row)
            name = by_id.get(parent or "", _text(_chars(row).get("componentName")) or f"?{parent}")
            known.setdefault(name, _Known(None)).api_ids.setdefault(str(row.get("name")), []).append(str(row["id"]))
            entry_apis.setdefault(name, []).append(_api_of(row))
        self._known = known
        self._listed = True
        return {name: ComponentEntry(name, labels.get(name, {}), tuple(entry_apis.get(name, ()))) for name in known}

    def apply(self, desired: ComponentEntry, current: ComponentEntry | None) -> int:
        entry = normalize(desired, LIMITS)
        if not self._listed:
            self.list_owned()
        known = self._known.get(entry.name)
        if current is not None and known is not None and known.component_id is not None and entry == current:
            return 0
        before = self.http.writes
        if entry.name in self._uncertain and (known is None or known.component_id is None):
            known, current = self._find_component(entry.name, known), None
        # ids are never reused here, so what the caller read (current) can be trusted; a stale id answers 404
        now = current if current is not None and known is not None else self._read(entry.name, known)
        component_id = known.component_id if known else None
        if component_id is None or now is None:
            for ids in (known.api_ids.values() if known else ()):  # ours, pointing at a resource that is gone
                for rid in ids:
                    self._call("DELETE", f"/resource/{rid}", "delete_api", ok=(204, 200, 404))
            component_id = self._create_component(entry)
            now = ComponentEntry(entry.name, entry.labels, ())
            api_ids: dict[str, list[str]] = {}
        else:
            api_ids = dict(known.api_ids) if known else {}
            if dict(now.labels) != dict(entry.labels):
                answer = self._call("PATCH", f"/resource/{component_id}", "update_component", ok=(200, 404),
                                    body={"resourceCharacteristic": _char_list({**entry.labels, **self._mark()})},
                                    component=entry.name)
                if answer.status == 404:  # removed by someone meanwhile: make it again, with fresh APIs
                    for ids in api_ids.values():
                        for rid in ids:
                            self._call("DELETE", f"/resource/{rid}", "delete_api", ok=(204, 200, 404))
                    component_id = self._create_component(entry)
                    api_ids = {}
        result = _Known(component_id)
        for api in entry.apis:
            ids = api_ids.pop(api.name, [])
            if (entry.name, api.name) in self._uncertain_apis:  # look for a create that landed unanswered
                found = [str(r["id"]) for r in self._page({"category": "API", "name": api.name}, "find_api")
                         if self._owned(r) and _exposed_by(r) == component_id]
                ids = list(dict.fromkeys([*ids, *found]))
                self._uncertain_apis.discard((entry.name, api.name))
            for extra in ids[1:]:
                self._call("DELETE", f"/resource/{extra}", "delete_api", ok=(204, 200, 404))
            old = now.api(api.name) if ids else None
            if ids and old == api:
                result.api_ids[api.name] = ids[:1]
                continue
            if ids:
                answer = self._call("PATCH", f"/resource/{ids[0]}", "update_api", ok=(200, 404),
                                    body=self._api_patch(api), component=entry.name)
                if answer.status == 200:
                    result.api_ids[api.name] = ids[:1]
                    continue
            result.api_ids[api.name] = [self._create_api(entry.name, component_id, api)]
        for ids in api_ids.values():  # APIs that left the component
            for rid in ids:
                self._call("DELETE", f"/resource/{rid}", "delete_api", ok=(204, 200, 404))
        self._known[entry.name] = result
        return self.http.writes - before

    def delete(self, current: ComponentEntry) -> int:
        if not self._listed:
            self.list_owned()
        known = self._known.pop(current.name, None)
        if known is None:
            return 0
        before = self.http.writes
        for ids in known.api_ids.values():
            for rid in ids:
                self._call("DELETE", f"/resource/{rid}", "delete_api", ok=(204, 200, 404))
        if known.component_id is not None:
            self._call("DELETE", f"/resource/{known.component_id}", "delete_component", ok=(204, 200, 404))
        log.info("registry_component_deleted", component=current.name)
        return self.http.writes - before

    # -- helpers -----------------------------------------------------------------------------------------

    def _read(self, name: str, known: _Known | None) -> ComponentEntry | None:
        """What the inventory holds now for ``name`` (by the remembered ids), or None when its resource is gone."""
        if known is None or known.component_id is None:
            return None
        answer = self._call("GET", f"/resource/{known.component_id}", "get_component", ok=(200, 404))
        if answer.status == 404 or not isinstance(answer.data, dict) or not self._owned(answer.data):
            return None
        labels = {k: _text(v) for k, v in _chars(answer.data).items() if k not in (OWNER_LABEL, REGISTRY_CHAR)}
        apis = []
        for ids in known.api_ids.values():
            got = self._call("GET", f"/resource/{ids[0]}", "get_api", ok=(200, 404))
            if got.status == 200 and isinstance(got.data, dict) and self._owned(got.data):
                apis.append(_api_of(got.data))
        return ComponentEntry(name, labels, tuple(apis))

    def _find_component(self, name: str, known: _Known | None) -> _Known | None:
        """After a create that may have landed unanswered: this owner's resource ``name`` if it exists (the
        inventory keeps no names unique, so copies beyond the first are removed)."""
        rows = [r for r in self._page({"category": "ODAComponent", "name": name}, "find_component")
                if self._owned(r) and r.get("name") == name]
        for extra in rows[1:]:
            self._call("DELETE", f"/resource/{extra['id']}", "delete_component", ok=(204, 200, 404))
        self._uncertain.discard(name)
        if not rows:
            return known
        found = _Known(str(rows[0]["id"]), dict(known.api_ids) if known else {})
        self._known[name] = found
        return found

    def _create_component(self, entry: ComponentEntry) -> str:
        body = {"@type": "LogicalResource", "@baseType": "Resource", "name": entry.name, "category": "ODAComponent",
                "description": f"ODA Component: {entry.name}",
                "resourceSpecification": {"@type": "ResourceSpecificationRef", "id": "ODAComponent",
                                          "name": "ODA Component"},
                "resourceCharacteristic": _char_list({**entry.labels, **self._mark()})}
        try:
            answer = self._call("POST", "/resource", "create_component", ok=(201, 200), body=body,
                                component=entry.name)
        except MaybeWritten:
            self._uncertain.add(entry.name)  # the next apply looks for it before creating another
            raise
        return _new_id(answer, f"POST /resource ({entry.name!r})")

    def _api_chars(self, api: ApiEntry) -> dict[str, Any]:
        chars: dict[str, Any] = {"apiName": api.name, "apiType": api.api_type, "segment": api.segment,
                                 "status": api.status, "specification": [{"url": s} for s in api.specification]}
        if api.url:
            chars["url"] = api.url
        return {**chars, **api.labels, **self._mark()}

    def _api_patch(self, api: ApiEntry) -> dict[str, Any]:
        ready = api.status == "ready"
        return {"resourceCharacteristic": _char_list(self._api_chars(api)),
                "resourceStatus": "available" if ready else "standby",
                "operationalState": "enable" if ready else "disable"}

    def _create_api(self, component: str, component_id: str, api: ApiEntry) -> str:
        body = {"@type": "LogicalResource", "@baseType": "Resource", "name": api.name, "category": "API",
                "resourceSpecification": {"@type": "ResourceSpecificationRef", "id": "API", "name": "API"},
                **self._api_patch(api),
                "resourceRelationship": [{"@type": "ResourceRelationship", "relationshipType": "exposedBy",
                                          "resource": {"@type": "ResourceRef", "id": component_id,
                                                       "href": f"/resource/{component_id}"}}]}
        try:
            answer = self._call("POST", "/resource", "create_api", ok=(201, 200), body=body, component=component)
        except MaybeWritten:
            self._uncertain_apis.add((component, api.name))
            raise
        return _new_id(answer, f"POST /resource ({component!r}/{api.name!r})")


def _new_id(answer: Answer, what: str) -> str:
    """The id of the resource a POST created; a registry error when the answer has none."""
    value = answer.data.get("id") if isinstance(answer.data, dict) else None
    if not isinstance(value, str) or not value:
        raise RegistryError(f"{what}: HTTP {answer.status} but the answer has no id")
    return value


def _text(value: Any) -> str:
    return value if isinstance(value, str) else ("" if value is None else str(value))


def _exposed_by(resource: dict[str, Any]) -> str | None:
    for rel in resource.get("resourceRelationship") or []:
        target = rel.get("resource") if isinstance(rel, dict) else None
        if isinstance(target, dict) and rel.get("relationshipType") == "exposedBy":
            return str(target.get("id"))
    return None


def _api_of(resource: dict[str, Any]) -> ApiEntry:
    chars = _chars(resource)
    spec = chars.get("specification")
    if isinstance(spec, list):
        specification = tuple(str(s.get("url")) if isinstance(s, dict) else str(s) for s in spec)
    else:
        specification = (str(spec),) if spec else ()
    status = chars.get("status") if chars.get("status") in ("ready", "pending") else (
        "ready" if resource.get("resourceStatus") == "available" else "pending")
    labels = {k: _text(v) for k, v in chars.items() if k not in API_CHARS | {OWNER_LABEL, REGISTRY_CHAR}}
    return ApiEntry(name=str(resource.get("name") or chars.get("apiName")), url=_text(chars.get("url")) or None,
                    specification=specification, status=status,  # type: ignore[arg-type]
                    api_type=_text(chars.get("apiType")) or "openapi",
                    segment=_text(chars.get("segment")) or "coreFunction", labels=labels)

"""The client of the seed Component Registry REST API (the Gen-1 ODA Canvas registry), flavour ``component-registry``.

Owns :class:`ComponentRegistryClient`, the :class:`~nautilus_oda.registry.base.Registry` the
``oda-components`` reconciler and ``nautilus oda`` commands get from ``build_registry`` when
COMPONENT_REGISTRY_TYPE is ``component-registry``. How the registry is used, given how it really answers:

- Everything is filed under one registry entry (COMPONENT_REGISTRY_NAME, type ``self``), created when missing.
- Labels are shared ``{key, value}`` rows referenced by id; the client creates the ones it needs
  (a 400 "already exists" means another writer made it first: it is looked up) and never deletes one
  (deleting a label in use is a plain-text 500 on that service).
- Ownership: every component and exposed API this collector creates carries the label
  ``managed-by=<owner>``; only entries with this owner's mark are ever updated or deleted, so
  hand-made entries and those of another collector on the same registry are safe, across restarts.
- An API's ``apiType`` and ``segment`` are labels too; ``oas_specification`` holds the OAS URL(s),
  space-separated when there are several; a missing URL is sent as ``""``.
- Lists are bare arrays: every list is paged with ``skip``/``limit=1000`` until a short page.
  ``GET /exposed-apis/`` filters only when both registry_name and component_name are given, so
  :meth:`list_owned` pages through all exposed APIs once and filters here (fewer calls than one per component).
- Ids are integers that the registry reuses after a delete, so an id remembered from an earlier read
  is only acted on after a fresh read confirmed it still names this owner's entry (the component's
  APIs are re-read before they are changed).
- Deleting a component leaves its exposed APIs behind: :meth:`delete` removes the APIs first.
- Readiness-only changes use ``PATCH /exposed-apis/{id}/status``; other changes a partial PUT.
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
from nautilus_oda.registry.http import Answer, Transport
from nautilus_oda.registry.limits import Limits, normalize

log = structlog.get_logger(__name__)

PAGE = 1000  # the registry's largest page
API_TYPE_LABEL = "apiType"
SEGMENT_LABEL = "segment"
LIMITS = Limits(label_key=100, label_value=200, reserved_component_labels=frozenset({OWNER_LABEL}),
                reserved_api_labels=frozenset({OWNER_LABEL, API_TYPE_LABEL, SEGMENT_LABEL}))


@dataclass
class _Known:
    """What the last read said about one owned component: its id (None: missing) and its APIs' ids."""

    component_id: int | None
    api_ids: dict[str, list[int]] = field(default_factory=dict)


def _labels_of(row: dict[str, Any]) -> dict[str, str]:
    return {str(lb.get("key")): str(lb.get("value")) for lb in row.get("labels") or [] if isinstance(lb, dict)}


class ComponentRegistryClient:
    """The seed Component Registry (see the module docstring)."""

    flavour = "component-registry"

    def __init__(self, url: str, *, registry_name: str, owner: str, api_key: str = "", timeout: float = 10.0,
                 retry: RetryPolicy | None = None) -> None:
        if not owner or len(owner) > 200 or "\x00" in owner:
            raise ConfigError(f"the collector's ownership mark {owner[:40]!r} must be 1-200 characters "
                              "(COLLECTOR_INSTANCE / COMPONENT_REGISTRY_NAME)")
        self.registry_name = registry_name
        self.owner = owner
        self.calls: Counter[tuple[str, str]] = Counter()
        self.http = Transport(url, api_key=api_key, timeout=timeout, retry=retry, calls=self.calls,
                              name="component registry")
        self._known: dict[str, _Known] = {}
        self._listed = False  # list_owned ran: _known is complete
        self._label_ids: dict[tuple[str, str], int] = {}
        self._registry_ok = False

    def __repr__(self) -> str:
        return f"ComponentRegistryClient({self.http.where!r}, registry={self.registry_name!r}, owner={self.owner!r})"

    def close(self) -> None:
        self.http.close()

    # -- plumbing -------------------------------------------------------------------------------------

    def _call(self, method: str, path: str, operation: str, *, ok: tuple[int, ...] = (200, 201, 204),
              query: dict[str, Any] | None = None, body: Any = None, component: str | None = None) -> Answer:
        # the registry accepts duplicate exposed-API names: that create is never retried when it may have
        # landed (the next apply reads the component's APIs and finds it); labels and components are unique
        answer = self.http.request(method, path, operation=operation, query=query, body=body,
                                   idempotent=operation != "create_api")
        if answer.status in ok:
            return answer
        detail = self.http.scrub(answer.detail())
        if answer.status == 404 and method in ("PUT", "PATCH"):  # removed between our read and this write
            self._known.pop(component or "", None)
            raise RegistryUnavailable(f"{method} {path}: the entry vanished meanwhile; it is read again on retry",
                                      retry_after=0)
        if answer.status == 422 or 400 <= answer.status < 500:
            where = f"component {component!r}: " if component else ""
            raise RegistryRejected(f"{where}{method} {path}: HTTP {answer.status}: {detail}", component=component,
                                   field=_field_of(answer.data))
        raise RegistryError(f"{method} {path}: unexpected HTTP {answer.status}: {detail}")

    def _page(self, path: str, operation: str, query: dict[str, Any] | None = None) -> list[dict[str, Any]]:
        rows: list[dict[str, Any]] = []
        skip = 0
        while True:
            answer = self._call("GET", path, operation, query={**(query or {}), "skip": skip, "limit": PAGE}, ok=(200,))
            page = answer.data
            if not isinstance(page, list):
                raise RegistryUnavailable(f"GET {path}: expected a JSON array, got {type(page).__name__}")
            good = [r for r in page if isinstance(r, dict) and _valid_id(r.get("id"))]
            if len(good) < len(page):
                log.warning("registry_rows_malformed", path=path, skipped=len(page) - len(good))
            rows.extend(good)
            if len(page) < PAGE:
                return rows
            skip += PAGE

    def _owned(self, row: dict[str, Any]) -> bool:
        return row.get("registry_name") == self.registry_name and _labels_of(row).get(OWNER_LABEL) == self.owner

    def _remember_labels(self, rows: list[dict[str, Any]]) -> None:
        for row in rows:
            for lb in row.get("labels") or []:
                if isinstance(lb, dict) and isinstance(lb.get("id"), int):
                    self._label_ids[(str(lb.get("key")), str(lb.get("value")))] = lb["id"]

    def _label_id(self, key: str, value: str, component: str) -> tuple[int, int]:
        """(label id, writes made): the label ``key=value``, created when the registry has none."""
        found = self._label_ids.get((key, value))
        if found is not None:
            return found, 0
        answer = self._call("POST", "/labels/", "create_label", ok=(201, 200, 400), body={"key": key, "value": value},
                            component=component)
        if answer.status != 400:
            label_id = _new_id(answer, f"POST /labels/ ({key!r})")
            self._label_ids[(key, value)] = label_id
            return label_id, 1
        for row in self._page("/labels/", "list_labels"):  # made by someone else meanwhile: look it up
            self._label_ids[(str(row.get("key")), str(row.get("value")))] = row["id"]
        found = self._label_ids.get((key, value))
        if found is None:
            raise RegistryRejected(f"component {component!r}: label {key!r}: the registry refused it: "
                                   f"{self.http.scrub(answer.detail())}", component=component, field=f"labels[{key!r}]")
        return found, 1

    def _label_ids_for(self, labels: dict[str, str], component: str) -> tuple[list[int], int]:
        ids, writes = [], 0
        for key, value in sorted(labels.items()):
            label_id, made = self._label_id(key, value, component)
            ids.append(label_id)
            writes += made
        return ids, writes

    # -- the Registry protocol -----------------------------------------------------------------------

    def check(self) -> None:
        """One authenticated read (the registries list): reachable and the key accepted."""
        self._call("GET", "/registries/", "check", query={"skip": 0, "limit": 1}, ok=(200,))

    def ensure_registry(self) -> None:
        if self._registry_ok:
            return
        for row in self._page("/registries/", "list_registries"):
            if row.get("name") == self.registry_name:
                if row.get("type") != "self":
                    log.warning("registry_entry_type", registry=self.registry_name, type=row.get("type"))
                self._registry_ok = True
                return
        answer = self._call("POST", "/registries/", "create_registry", ok=(201, 200, 400),
                            body={"name": self.registry_name, "type": "self", "url": self.http.public_url,
                                  "label_ids": []})
        if answer.status == 400 and "exist" not in answer.detail().lower():
            raise RegistryRejected(f"registry {self.registry_name!r}: {self.http.scrub(answer.detail())}",
                                   field="COMPONENT_REGISTRY_NAME")
        log.info("registry_entry_created", registry=self.registry_name)
        self._registry_ok = True

    def list_owned(self) -> dict[str, ComponentEntry]:
        # by id: a row seen twice because the list shifted between two pages counts once
        components = list({c.get("id"): c for c in self._page("/components/", "list_components",
                                                              {"registry_name": self.registry_name})
                           if self._owned(c)}.values())
        apis = list({a.get("id"): a for a in self._page("/exposed-apis/", "list_apis") if self._owned(a)}.values())
        self._label_ids.clear()  # rebuilt from labels in use (those cannot have been deleted and reused)
        self._remember_labels(components)
        self._remember_labels(apis)
        known: dict[str, _Known] = {}
        labels: dict[str, dict[str, str]] = {}
        for row in sorted(components, key=lambda r: r.get("id") or 0):
            name = str(row.get("name"))
            if name not in known:  # a second row of one name (PUT checks no uniqueness): the first is used
                known[name] = _Known(row.get("id"))
                labels[name] = {k: v for k, v in _labels_of(row).items() if k != OWNER_LABEL}
        entries_apis: dict[str, list[ApiEntry]] = {}
        for row in sorted(apis, key=lambda r: r.get("id") or 0):
            component = str(row.get("component_name"))
            known.setdefault(component, _Known(None))  # APIs left behind by a deleted component
            known[component].api_ids.setdefault(str(row.get("name")), []).append(row["id"])
            entries_apis.setdefault(component, []).append(_api_of(row))
        self._known = known
        self._listed = True
        return {name: ComponentEntry(name, labels.get(name, {}), tuple(entries_apis.get(name, ())))
                for name in known}

    def apply(self, desired: ComponentEntry, current: ComponentEntry | None) -> int:
        entry = normalize(desired, LIMITS)
        if any(any(c.isspace() for c in spec) or not spec for api in entry.apis for spec in api.specification):
            raise RegistryRejected(f"component {entry.name!r}: an OAS specification URL is empty or contains "
                                   "whitespace; not sent to the registry", component=entry.name, field="specification")
        known = self._known.get(entry.name)
        if current is not None and known is not None and known.component_id is not None and entry == current:
            return 0
        before = self.http.writes
        self.ensure_registry()
        component_id, labels_now = self._component(entry, known, current)
        wanted = {**entry.labels, OWNER_LABEL: self.owner}
        label_ids, _ = self._label_ids_for(wanted, entry.name)
        fresh = False
        if component_id is None:
            component_id, made, labels_now = self._create_component(entry, label_ids)
            fresh = made == 1 and known is None and self._listed  # nothing of it can exist yet
        if labels_now is not None and labels_now != wanted:
            self._call("PUT", f"/components/{component_id}", "update_component", body={"label_ids": label_ids},
                       component=entry.name)
        self._sync_apis(entry, component_id, fresh=fresh)
        return self.http.writes - before  # every write request sent (retries and a new registry entry included)

    def delete(self, current: ComponentEntry) -> int:
        before = self.http.writes
        for api in self._component_apis(current.name):  # APIs first: the registry keeps them otherwise
            self._delete(f"/exposed-apis/{api['id']}", "delete_api")
        try:
            row = self._verified_component(current.name, self._known.get(current.name))
        except RegistryRejected:  # only our APIs hung under someone else's component: that one stays
            row = None
        if row is not None:
            self._delete(f"/components/{row['id']}", "delete_component")
        self._known.pop(current.name, None)
        writes = self.http.writes - before
        log.info("registry_component_deleted", component=current.name, writes=writes)
        return writes

    # -- components ------------------------------------------------------------------------------------

    def _component(self, entry: ComponentEntry, known: _Known | None,
                   current: ComponentEntry | None) -> tuple[int | None, dict[str, str] | None]:
        """(component id or None when it must be created, its labels now or None when known to be as wanted)."""
        if known is not None and known.component_id is not None and current is not None \
                and dict(current.labels) == dict(entry.labels):
            return known.component_id, None  # labels unchanged: only its APIs need work
        if known is None and self._listed:
            return None, None  # the last full read had no such component: create it
        row = self._verified_component(entry.name, known)
        if row is None:
            return None, None
        return row["id"], _labels_of(row)

    def _verified_component(self, name: str, known: _Known | None) -> dict[str, Any] | None:
        """This owner's component ``name`` read fresh (by its remembered id, else by a search), or None.

        :raises RegistryRejected: a component of that name exists but is not this owner's.
        """
        if known is not None and known.component_id is not None:
            answer = self._call("GET", f"/components/{known.component_id}", "get_component", ok=(200, 404))
            row = answer.data if answer.status == 200 and isinstance(answer.data, dict) \
                and _valid_id(answer.data.get("id")) else None
            if row is not None and row.get("name") == name and row.get("registry_name") == self.registry_name:
                return self._mine(row, name)
        for row in self._page("/components/", "list_components", {"registry_name": self.registry_name}):
            if row.get("name") == name and row.get("registry_name") == self.registry_name:
                return self._mine(row, name)
        return None

    def _mine(self, row: dict[str, Any], name: str) -> dict[str, Any]:
        if not self._owned(row):
            mark = _labels_of(row).get(OWNER_LABEL)
            raise RegistryRejected(
                f"component {name!r}: registry {self.registry_name!r} already holds a component of this name "
                f"{'owned by ' + repr(mark) if mark else 'made by hand'}; it is left as it is",
                component=name, field="name")
        self._remember_labels([row])
        return row

    def _create_component(self, entry: ComponentEntry, label_ids: list[int]) -> tuple[int, int, dict[str, str] | None]:
        """(id, writes, its labels now when it was already there)."""
        body = {"registry_name": self.registry_name, "name": entry.name, "label_ids": label_ids}
        answer = self._call("POST", "/components/", "create_component", ok=(201, 200, 400, 404), body=body,
                            component=entry.name)
        if answer.status == 404:  # our registry entry was removed meanwhile: recreate it, once
            self._registry_ok = False
            self.ensure_registry()
            answer = self._call("POST", "/components/", "create_component", ok=(201, 200, 400), body=body,
                                component=entry.name)
        if answer.status == 400:  # exists: ours from an earlier run (adopt) or someone else's (refuse)
            row = self._verified_component(entry.name, None)
            if row is None:
                raise RegistryRejected(f"component {entry.name!r}: {self.http.scrub(answer.detail())}",
                                       component=entry.name, field="name")
            self._known[entry.name] = _Known(row["id"])
            return row["id"], 0, _labels_of(row)
        component_id = _new_id(answer, f"POST /components/ ({entry.name!r})")
        self._known[entry.name] = _Known(component_id)
        log.info("registry_component_created", component=entry.name, id=component_id)
        return component_id, 1, None

    # -- exposed APIs ------------------------------------------------------------------------------------

    def _component_apis(self, name: str) -> list[dict[str, Any]]:
        """This owner's exposed APIs of component ``name``, read fresh (both filters: the registry filters)."""
        rows = self._page("/exposed-apis/", "list_component_apis",
                          {"registry_name": self.registry_name, "component_name": name})
        return [r for r in rows if self._owned(r) and r.get("component_name") == name]

    def _sync_apis(self, entry: ComponentEntry, component_id: int, *, fresh: bool) -> int:
        rows = [] if fresh else self._component_apis(entry.name)
        self._remember_labels(rows)
        by_name: dict[str, list[dict[str, Any]]] = {}
        for row in sorted(rows, key=lambda r: r.get("id") or 0):
            by_name.setdefault(str(row.get("name")), []).append(row)
        writes = 0
        known = _Known(component_id)
        for api in entry.apis:
            existing = by_name.pop(api.name, [])
            for extra in existing[1:]:  # duplicates the registry accepted: keep the oldest
                writes += self._delete(f"/exposed-apis/{extra['id']}", "delete_api")
            if not existing:
                api_id, made = self._create_api(entry.name, api)
            else:
                api_id, made = existing[0]["id"], self._update_api(entry.name, existing[0], api)
            known.api_ids[api.name] = [api_id]
            writes += made
        for leftover in by_name.values():  # APIs that left the component
            for row in leftover:
                writes += self._delete(f"/exposed-apis/{row['id']}", "delete_api")
        self._known[entry.name] = known
        return writes

    def _api_body(self, component: str, api: ApiEntry) -> tuple[dict[str, Any], int]:
        labels = {**api.labels, OWNER_LABEL: self.owner, API_TYPE_LABEL: api.api_type, SEGMENT_LABEL: api.segment}
        label_ids, writes = self._label_ids_for(labels, component)
        return {"name": api.name, "url": api.url or "", "oas_specification": " ".join(api.specification),
                "status": api.status, "label_ids": label_ids}, writes

    def _create_api(self, component: str, api: ApiEntry) -> tuple[int, int]:
        body, writes = self._api_body(component, api)
        body |= {"registry_name": self.registry_name, "component_name": component}
        answer = self._call("POST", "/exposed-apis/", "create_api", ok=(201, 200), body=body, component=component)
        return _new_id(answer, f"POST /exposed-apis/ ({component!r}/{api.name!r})"), writes + 1

    def _update_api(self, component: str, row: dict[str, Any], api: ApiEntry) -> int:
        now = _api_of(row)
        if now == api:
            return 0
        if _replace_status(now, api.status) == api:  # readiness only: the status PATCH
            self._call("PATCH", f"/exposed-apis/{row['id']}/status", "patch_api_status", body={"status": api.status},
                       component=component)
            return 1
        body, writes = self._api_body(component, api)
        self._call("PUT", f"/exposed-apis/{row['id']}", "update_api", body=body, component=component)
        return writes + 1

    def _delete(self, path: str, operation: str) -> int:
        self._call("DELETE", path, operation, ok=(204, 200, 404))
        return 1


def _valid_id(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _new_id(answer: Answer, what: str) -> int:
    """The id of what a POST created; a registry error when the answer has none."""
    value = answer.data.get("id") if isinstance(answer.data, dict) else None
    if not _valid_id(value):
        raise RegistryError(f"{what}: HTTP {answer.status} but the answer has no integer id")
    return int(value)  # type: ignore[arg-type]


def _replace_status(api: ApiEntry, status: Any) -> ApiEntry:
    return ApiEntry(api.name, api.url, api.specification, status, api.api_type, api.segment, api.labels)


def _api_of(row: dict[str, Any]) -> ApiEntry:
    labels = _labels_of(row)
    spec = str(row.get("oas_specification") or "")
    status = row.get("status") if row.get("status") in ("ready", "pending") else "pending"
    return ApiEntry(
        name=str(row.get("name")), url=str(row.get("url")) if row.get("url") else None,
        specification=tuple(spec.split()), status=status,  # type: ignore[arg-type]
        api_type=labels.pop(API_TYPE_LABEL, "openapi"), segment=labels.pop(SEGMENT_LABEL, "coreFunction"),
        labels={k: v for k, v in labels.items() if k != OWNER_LABEL})


def _field_of(data: Any) -> str | None:
    """The field FastAPI's 422 names (``detail[0].loc`` without ``body``), if any."""
    if isinstance(data, dict) and isinstance(data.get("detail"), list) and data["detail"]:
        loc = data["detail"][0].get("loc") if isinstance(data["detail"][0], dict) else None
        if isinstance(loc, list):
            return ".".join(str(p) for p in loc if p != "body") or None
    return None

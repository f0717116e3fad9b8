"""CustomResourceDefinitions in the API emulator: a CRD written to the store serves its resource.

Owns what the apiextensions server does: a CRD (``apiextensions.k8s.io/v1``) is checked when written
(name ``<plural>.<group>``, one storage version, structural schemas, immutable scope), gets its
defaults and status (``NamesAccepted`` and ``Established`` conditions, ``acceptedNames``,
``storedVersions``), and each served version becomes a :class:`ResourceType` in the store and in
discovery, all versions sharing the storage version's objects (conversion strategy None: only
``apiVersion`` changes). Every write of a custom resource is pruned, defaulted and validated with its
version's schema (422 ``Invalid`` with field paths); unknown fields are reported to the
``fieldValidation`` context (``field_validation.py``). Deleting a CRD deletes its objects and stops serving it.

Wired by :class:`~nautilus_core.testing.KubeEmulator` as store hooks (``ObjectStore.hooks``); the
handler (``handlers.py``) publishes and unpublishes the types it serves. ``schema_for`` feeds the
OpenAPI documents (``openapi.py``) and ``ResourceType.columns`` the tables (``tables.py``).
"""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Callable
from typing import Any, Protocol

from nautilus_core.testing import field_validation
from nautilus_core.testing import status as st
from nautilus_core.testing.resources import BUILTIN_RESOURCES, ResourceKey, ResourceType, custom_resource
from nautilus_core.testing.schema import Cause, Schema, apply_defaults, prune, structural_errors, validate
from nautilus_core.testing.store import Obj, ObjectStore

CRD_KEY: ResourceKey = ("apiextensions.k8s.io", "v1", "customresourcedefinitions")
_SCOPES = ("Namespaced", "Cluster")


class Publisher(Protocol):
    def publish(self, rtype: ResourceType) -> None: ...

    def unpublish(self, rtype: ResourceType) -> None: ...


class LoopPublisher:
    """Changes discovery on the handler's event loop, whichever thread wrote the CRD."""

    def __init__(self, handler: Publisher, loop: asyncio.AbstractEventLoop) -> None:
        self.handler = handler
        self.loop = loop

    def _call(self, method: Callable[[ResourceType], None], rtype: ResourceType) -> None:
        try:
            running = asyncio.get_running_loop()
        except RuntimeError:
            running = None
        if running is self.loop:
            method(rtype)
        else:  # queued before any later request is read, so the next request sees it
            self.loop.call_soon_threadsafe(method, rtype)

    def publish(self, rtype: ResourceType) -> None:
        self._call(self.handler.publish, rtype)

    def unpublish(self, rtype: ResourceType) -> None:
        self._call(self.handler.unpublish, rtype)


def invalid(kind: str, group: str, name: str, causes: list[Cause]) -> st.ApiError:
    """A 422 ``Invalid`` Status with one cause per violation, worded like the real server."""
    qualified = f"{kind}.{group}" if group else kind
    texts = [cause.text() for cause in causes]
    summary = texts[0] if len(texts) == 1 else "[" + ", ".join(texts) + "]"
    details: dict[str, Any] = {"name": name, "kind": kind, "causes": [c.as_dict() for c in causes]}
    if group:
        details["group"] = group
    return st.ApiError(422, "Invalid", f'{qualified} "{name}" is invalid: {summary}', details)


class CustomResources:
    """The CRDs of one emulator and the resource types they serve."""

    def __init__(self, store: ObjectStore) -> None:
        self.store = store
        self.publisher: Publisher | None = None
        self._schemas: dict[ResourceKey, Schema | None] = {}
        self._served: dict[str, list[ResourceType]] = {}  # CRD name -> its types
        store.hooks[CRD_KEY] = _CrdHooks(self)
        self._objects = _ObjectHooks(self)

    def schema_for(self, rtype: ResourceType) -> Schema | None:
        """The openAPIV3Schema of a served custom resource version (None: not a CRD's, or no schema)."""
        return self._schemas.get(rtype.key)

    def types(self) -> list[ResourceType]:
        return [rtype for types in self._served.values() for rtype in types]

    # -- the CRD itself -----------------------------------------------------------------------------

    def prepare_crd(self, obj: Obj, old: Obj | None) -> Obj:
        name = obj["metadata"]["name"]
        spec = obj.get("spec")
        if not isinstance(spec, dict):
            raise invalid(
                "CustomResourceDefinition",
                CRD_KEY[0],
                name,
                [Cause("FieldValueRequired", "spec", "Required value")],
            )
        spec = _defaulted_spec(spec)
        causes = _crd_errors(name, spec, None if old is None else old.get("spec"))
        causes += _protected(obj, spec)
        if causes:
            raise invalid("CustomResourceDefinition", CRD_KEY[0], name, causes)
        stored = list(((old or {}).get("status") or {}).get("storedVersions") or [])
        storage = next(v["name"] for v in spec["versions"] if v.get("storage"))
        if storage not in stored:
            stored.append(storage)
        return {**obj, "spec": spec, "status": _crd_status(obj, spec, stored)}

    def crd_changed(self, obj: Obj, removed: bool) -> None:
        name = obj["metadata"]["name"]
        old_types = self._served.pop(name, [])
        new_types = (
            []
            if removed or obj["metadata"].get("deletionTimestamp")
            else _types_of(obj["spec"], _first_stored(obj))
        )
        keep = {rtype.key for rtype in new_types}
        if removed or not keep:
            for rtype in old_types[:1]:
                for item in self.store.list(rtype):
                    meta = item["metadata"]
                    self.store.delete(rtype, meta.get("namespace"), meta["name"])
        for rtype in old_types:
            if rtype not in new_types:
                self._schemas.pop(rtype.key, None)
                if self.publisher is not None:
                    self.publisher.unpublish(rtype)
                self.store.remove_type(rtype)
        for rtype in new_types:
            if rtype not in old_types:
                self.store.remove_type(rtype)  # a changed declaration of the same version
                self.store.add_type(rtype)
                if self.publisher is not None:
                    self.publisher.publish(rtype)
            self._schemas[rtype.key] = (
                _version(obj["spec"], rtype.version).get("schema", {}).get("openAPIV3Schema")
            )
            self.store.hooks[rtype.store_key] = self._objects
        if new_types:
            self._served[name] = new_types
        elif old_types:
            self.store.hooks.pop(old_types[0].store_key, None)

    # -- custom resources ---------------------------------------------------------------------------

    def prepare_object(self, rtype: ResourceType, obj: Obj, subresource: str | None) -> Obj:
        schema = self._schemas.get(rtype.key)
        if not schema:
            return obj
        pruned, dropped = prune(schema, obj)
        field_validation.report(dropped)
        defaulted = apply_defaults(schema, pruned)
        causes = validate(
            schema, {k: v for k, v in defaulted.items() if k not in ("apiVersion", "kind", "metadata")}
        )
        if causes:
            raise invalid(rtype.kind, rtype.group, obj["metadata"]["name"], causes)
        return dict(defaulted)


class _CrdHooks:
    def __init__(self, owner: CustomResources) -> None:
        self.owner = owner

    def prepare(self, rtype: ResourceType, obj: Obj, old: Obj | None, subresource: str | None) -> Obj:
        return self.owner.prepare_crd(obj, old)

    def changed(self, rtype: ResourceType, obj: Obj, removed: bool) -> None:
        self.owner.crd_changed(obj, removed)


class _ObjectHooks:
    def __init__(self, owner: CustomResources) -> None:
        self.owner = owner

    def prepare(self, rtype: ResourceType, obj: Obj, old: Obj | None, subresource: str | None) -> Obj:
        return self.owner.prepare_object(rtype, obj, subresource)

    def changed(self, rtype: ResourceType, obj: Obj, removed: bool) -> None:
        return None


# -- pure helpers -----------------------------------------------------------------------------------


def _version(spec: dict[str, Any], name: str) -> dict[str, Any]:
    return next(v for v in spec.get("versions") or [] if v.get("name") == name)


def _defaulted_spec(spec: dict[str, Any]) -> dict[str, Any]:
    names = dict(spec.get("names") or {})
    kind = names.get("kind")
    if isinstance(kind, str) and kind:
        names.setdefault("singular", kind.lower())
        names.setdefault("listKind", f"{kind}List")
    versions = spec.get("versions")
    if isinstance(versions, list):
        versions = [{"served": True, **v} if isinstance(v, dict) else v for v in versions]
    return {
        "conversion": {"strategy": "None"},
        **spec,
        "names": names,
        **({"versions": versions} if versions is not None else {}),
    }


def _crd_errors(name: str, spec: dict[str, Any], old_spec: Any) -> list[Cause]:
    causes: list[Cause] = []
    group = spec.get("group")
    names = spec["names"]
    if not isinstance(group, str) or not group:
        causes.append(Cause("FieldValueRequired", "spec.group", "Required value"))
    elif "." not in group:
        causes.append(
            Cause(
                "FieldValueInvalid",
                "spec.group",
                f'Invalid value: "{group}": should be a domain with at least one dot',
            )
        )
    for field in ("plural", "kind"):
        if not isinstance(names.get(field), str) or not names.get(field):
            causes.append(Cause("FieldValueRequired", f"spec.names.{field}", "Required value"))
    plural = names.get("plural")
    if isinstance(plural, str) and plural and plural != plural.lower():
        causes.append(
            Cause("FieldValueInvalid", "spec.names.plural", f'Invalid value: "{plural}": must be lowercase')
        )
    if isinstance(plural, str) and isinstance(group, str) and name != f"{plural}.{group}":
        causes.append(
            Cause(
                "FieldValueInvalid",
                "metadata.name",
                f'Invalid value: "{name}": must be spec.names.plural+"."+spec.group',
            )
        )
    scope = spec.get("scope")
    if scope not in _SCOPES:
        shown = (
            "Required value"
            if scope is None
            else f'Unsupported value: "{scope}": supported values: "Cluster", "Namespaced"'
        )
        causes.append(
            Cause("FieldValueRequired" if scope is None else "FieldValueNotSupported", "spec.scope", shown)
        )
    elif isinstance(old_spec, dict) and old_spec.get("scope") not in (None, scope):
        causes.append(
            Cause("FieldValueInvalid", "spec.scope", f'Invalid value: "{scope}": field is immutable')
        )
    strategy = (spec.get("conversion") or {}).get("strategy")
    if strategy not in ("None", "Webhook"):
        causes.append(
            Cause(
                "FieldValueNotSupported",
                "spec.conversion.strategy",
                f'Unsupported value: "{strategy}": supported values: "None", "Webhook"',
            )
        )
    versions = spec.get("versions")
    if not isinstance(versions, list) or not versions:
        causes.append(
            Cause(
                "FieldValueRequired",
                "spec.versions",
                "Required value: must have exactly one version marked as storage version",
            )
        )
        return causes
    storage = [v for v in versions if isinstance(v, dict) and v.get("storage")]
    if len(storage) != 1:
        causes.append(
            Cause(
                "FieldValueInvalid",
                "spec.versions",
                f"Invalid value: {len(storage)}: must have exactly one version marked as storage version",
            )
        )
    seen: set[str] = set()
    for index, version in enumerate(versions):
        path = f"spec.versions[{index}]"
        if (
            not isinstance(version, dict)
            or not isinstance(version.get("name"), str)
            or not version.get("name")
        ):
            causes.append(Cause("FieldValueRequired", f"{path}.name", "Required value"))
            continue
        if version["name"] in seen:
            causes.append(
                Cause("FieldValueDuplicate", f"{path}.name", f'Duplicate value: "{version["name"]}"')
            )
        seen.add(version["name"])
        schema = (version.get("schema") or {}).get("openAPIV3Schema")
        causes.extend(structural_errors(schema, f"{path}.schema.openAPIV3Schema"))
        for column_index, column in enumerate(version.get("additionalPrinterColumns") or []):
            for field in ("name", "type", "jsonPath"):
                if not isinstance(column, dict) or not column.get(field):
                    causes.append(
                        Cause(
                            "FieldValueRequired",
                            f"{path}.additionalPrinterColumns[{column_index}].{field}",
                            "Required value",
                        )
                    )
    return causes


def _protected(obj: Obj, spec: dict[str, Any]) -> list[Cause]:
    """Groups of Kubernetes itself need the approval annotation; built-in resources cannot be redefined."""
    group = spec.get("group")
    if not isinstance(group, str):
        return []
    causes = []
    annotations = obj["metadata"].get("annotations") or {}
    if (group == "k8s.io" or group.endswith((".k8s.io", ".kubernetes.io"))) and not annotations.get(
        "api-approved.kubernetes.io"
    ):
        causes.append(
            Cause(
                "FieldValueRequired",
                "metadata.annotations[api-approved.kubernetes.io]",
                'Required value: protected groups must have approval annotation "api-approved.kubernetes.io"',
            )
        )
    plural = (spec.get("names") or {}).get("plural")
    builtin = {rtype.key for rtype in BUILTIN_RESOURCES}
    for index, version in enumerate(spec.get("versions") or []):
        if isinstance(version, dict) and (group, version.get("name"), plural) in builtin:
            causes.append(
                Cause(
                    "FieldValueInvalid",
                    f"spec.versions[{index}].name",
                    f'Invalid value: "{version.get("name")}": {plural}.{group} is a built-in resource',
                )
            )
    return causes


def _crd_status(obj: Obj, spec: dict[str, Any], stored: list[str]) -> dict[str, Any]:
    previous = {
        c.get("type"): c for c in (obj.get("status") or {}).get("conditions") or [] if isinstance(c, dict)
    }
    now = obj["metadata"].get("creationTimestamp")

    def condition(kind: str, reason: str, message: str) -> dict[str, Any]:
        before = previous.get(kind) or {}
        since = before.get("lastTransitionTime") if before.get("status") == "True" else None
        return {
            "type": kind,
            "status": "True",
            "lastTransitionTime": since or now,
            "reason": reason,
            "message": message,
        }

    return {
        "conditions": [
            condition("NamesAccepted", "NoConflicts", "no conflicts found"),
            condition("Established", "InitialNamesAccepted", "the initial names have been accepted"),
        ],
        "acceptedNames": spec["names"],
        "storedVersions": stored,
    }


def _first_stored(obj: Obj) -> str:
    """Where the objects live: the first storage version, so moving the storage version keeps them."""
    stored = (obj.get("status") or {}).get("storedVersions") or []
    return str(stored[0]) if stored else next(v["name"] for v in obj["spec"]["versions"] if v.get("storage"))


def _types_of(spec: dict[str, Any], storage: str) -> list[ResourceType]:
    names = spec["names"]
    types = []
    for version in spec["versions"]:
        if not version.get("served"):
            continue
        subresources = version.get("subresources") or {}
        rtype = custom_resource(
            spec["group"],
            version["name"],
            names["plural"],
            names["kind"],
            spec["scope"] == "Namespaced",
            frozenset(key for key in ("status", "scale") if key in subresources),
            tuple(names.get("shortNames") or ()),
        )
        scale = subresources.get("scale")
        columns = tuple(
            (
                str(c["name"]),
                str(c["type"]),
                str(c.get("format") or ""),
                str(c.get("description") or ""),
                int(c.get("priority") or 0),
                str(c["jsonPath"]),
            )
            for c in version.get("additionalPrinterColumns") or []
        )
        types.append(
            dataclasses.replace(
                rtype,
                singular=names.get("singular") or rtype.singular,
                storage=storage,
                columns=columns,
                categories=tuple(names.get("categories") or ()),
                scale_paths=None
                if not isinstance(scale, dict)
                else (
                    str(scale.get("specReplicasPath") or ".spec.replicas"),
                    str(scale.get("statusReplicasPath") or ".status.replicas"),
                    str(scale.get("labelSelectorPath") or ""),
                ),
            )
        )
    return types

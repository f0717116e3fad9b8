"""What the API server does to an object on write, before it is stored.

Owns the pure rules of create and update: naming (``generateName``), namespace checks, the
server-owned metadata (uid, creationTimestamp, deletionTimestamp, generation) that clients cannot set,
defaults (a namespace's phase and name label, a pod's Pending status, a workload's one replica), the
resourceVersion precondition, the split between a resource and its ``status`` subresource, and the
generation bump on spec changes. Client writes are first decoded against the kind's Go types
(``go_types.py``, 400), then given the server's defaults (``defaults.py``, canonical quantities
included) and validated (``kind_rules.py``, 422); a create drops ``status`` where the status
subresource owns it. Called by
the store (``store.py``) under its lock; "trusted" writes come from test code through
:class:`~nautilus_core.testing.KubeEmulator` and may set anything (only their metadata types are checked).
"""

from __future__ import annotations

import random
import uuid
from datetime import UTC, datetime
from typing import Any

from nautilus_core.testing import defaults, go_types, kind_rules
from nautilus_core.testing import status as st
from nautilus_core.testing.resources import ResourceType
from nautilus_core.testing.validation import REQUIRED, FieldError, invalid

Obj = dict[str, Any]
SERVER_FIELDS = ("uid", "creationTimestamp", "deletionTimestamp", "deletionGracePeriodSeconds", "generation")
_NAME_CHARS = "bcdfghjklmnpqrstvwxz2456789"
_ALLOCATOR = random.Random()  # cluster IPs and node ports a replacing update had not kept


def now_rfc3339() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def new_object(
    rtype: ResourceType, namespace: str | None, body: Any, trusted: bool, rng: random.Random
) -> Obj:
    """The object to store for a create (without its resourceVersion)."""
    if not isinstance(body, dict):
        raise st.bad_request("the body of a create must be a JSON object")
    go_types.decode(rtype, body, metadata_only=trusted)
    meta = _decoded_meta(body.get("metadata"))
    name = meta.get("name") or ""
    if not name and meta.get("generateName"):
        name = meta["generateName"] + "".join(rng.choices(_NAME_CHARS, k=5))
    if not name:
        required = FieldError(REQUIRED, "metadata.name", detail="name or generateName is required")
        raise invalid(rtype.kind, rtype.group, "", [required])
    if rtype.namespaced:
        given = meta.get("namespace")
        if namespace and given and given != namespace:
            raise st.bad_request(
                "the namespace of the provided object does not match the namespace sent on the request"
            )
        meta["namespace"] = namespace or given or "default"
    else:
        meta.pop("namespace", None)
    meta["name"] = name
    if not trusted:
        for field in SERVER_FIELDS:
            meta.pop(field, None)
    meta.setdefault("uid", str(uuid.uuid4()))
    meta.setdefault("creationTimestamp", now_rfc3339())
    if rtype.generation:
        meta.setdefault("generation", 1)
    obj = {**body, "apiVersion": rtype.api_version, "kind": rtype.kind, "metadata": meta}
    if not trusted and "status" in rtype.subresources:
        obj.pop("status", None)  # a create sets no status where the status subresource owns it
    _defaults(rtype, obj, meta)
    if not trusted:
        defaults.apply_defaults(rtype.group, rtype.kind, obj, None, rng)
        if rtype.kind == "Pod" and not rtype.group:
            obj["status"] = {**obj["status"], "qosClass": defaults.qos_class(obj.get("spec"))}
        kind_rules.validate(rtype, obj)
    return obj


def updated_object(rtype: ResourceType, old: Obj, new: Any, subresource: str | None, trusted: bool) -> Obj:
    """The object to store for an update of ``old`` (its resourceVersion still the old one)."""
    if not isinstance(new, dict):
        raise st.bad_request("the body of an update must be a JSON object")
    go_types.decode(rtype, new, metadata_only=trusted or subresource == "status")
    old_meta = old["metadata"]
    name = old_meta["name"]
    meta = _decoded_meta(new.get("metadata"))
    if meta.get("name", name) != name:
        raise st.bad_request(
            f"the name of the object ({meta.get('name')}) does not match the name on the URL ({name})"
        )
    given_rv = meta.get("resourceVersion")
    if given_rv and given_rv != old_meta["resourceVersion"]:
        raise st.conflict(rtype.plural, rtype.group, name)
    if subresource == "status":
        result = {**old, "status": new.get("status")}
        if result["status"] is None:
            del result["status"]
        meta = dict(old_meta)
    else:
        result = {**new}
        if "status" in rtype.subresources and not trusted:
            if "status" in old:
                result["status"] = old["status"]
            else:
                result.pop("status", None)
        for field in ("name", "namespace"):
            if field in old_meta:
                meta[field] = old_meta[field]
        for field in SERVER_FIELDS:
            if trusted and field in meta:
                continue
            if field in old_meta:
                meta[field] = old_meta[field]
            else:
                meta.pop(field, None)
    result["apiVersion"], result["kind"] = rtype.api_version, rtype.kind
    if not trusted and subresource != "status":
        defaults.apply_defaults(rtype.group, rtype.kind, result, old, _ALLOCATOR)
    meta["resourceVersion"] = old_meta["resourceVersion"]
    result["metadata"] = meta
    pinned = trusted and "generation" in (new.get("metadata") or {})
    if rtype.generation and not pinned and _spec_changed(rtype, old, result):
        meta["generation"] = int(old_meta.get("generation", 0)) + 1
    if not trusted and subresource != "status":
        kind_rules.validate(rtype, result, old)
    return result


def _decoded_meta(raw: Any) -> dict[str, Any]:
    """Metadata as Go decodes it: a null label or annotation value is the empty string."""
    meta = dict(raw or {})
    for field in ("labels", "annotations"):
        values = meta.get(field)
        if isinstance(values, dict) and None in values.values():
            meta[field] = {key: "" if value is None else value for key, value in values.items()}
    if isinstance(meta.get("finalizers"), list) and None in meta["finalizers"]:
        meta["finalizers"] = ["" if f is None else f for f in meta["finalizers"]]
    if isinstance(meta.get("ownerReferences"), list) and None in meta["ownerReferences"]:
        meta["ownerReferences"] = [{} if r is None else r for r in meta["ownerReferences"]]
    return meta


def check_preconditions(rtype: ResourceType, obj: Obj, preconditions: dict[str, Any] | None) -> None:
    """DeleteOptions.preconditions (uid, resourceVersion): 409 Conflict when they do not hold."""
    meta = obj["metadata"]
    for field, value in (preconditions or {}).items():
        if value is not None and field in ("uid", "resourceVersion") and meta.get(field) != value:
            raise st.ApiError(
                409,
                "Conflict",
                f"Precondition failed: {field} in precondition: {value}, "
                f"{field} in object meta: {meta.get(field)}",
                {"name": meta["name"], "kind": rtype.plural},
            )


def _defaults(rtype: ResourceType, obj: Obj, meta: dict[str, Any]) -> None:
    if rtype.group == "apps":
        spec = obj.get("spec")
        if isinstance(spec, dict) and "replicas" not in spec:
            obj["spec"] = {**spec, "replicas": 1}
    elif rtype.group:
        return
    elif rtype.kind == "Namespace":
        meta["labels"] = {**(meta.get("labels") or {}), "kubernetes.io/metadata.name": meta["name"]}
        obj.setdefault("spec", {"finalizers": ["kubernetes"]})
        obj.setdefault("status", {"phase": "Active"})
    elif rtype.kind == "Pod" and not (obj.get("status") or {}).get("phase"):
        obj["status"] = {"phase": "Pending", "qosClass": "BestEffort", **(obj.get("status") or {})}


def _spec_changed(rtype: ResourceType, old: Obj, new: Obj) -> bool:
    if rtype.group in ("apps", ""):
        return old.get("spec") != new.get("spec")
    ignored = ("metadata", "status", "apiVersion", "kind")
    return {k: v for k, v in old.items() if k not in ignored} != {
        k: v for k, v in new.items() if k not in ignored
    }

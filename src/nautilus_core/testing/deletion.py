"""Deletion in the API emulator as the real server and its controllers carry it out.

Owns what happens after a DELETE is accepted, done at once and in the order a real cluster settles:

* finalizers: an object with finalizers is only marked (``deletionTimestamp``) and removed when the
  last finalizer goes (``store.update``);
* propagation (``propagationPolicy``): ``Background`` removes the owner at once and then the garbage
  collector deletes its dependents (by ``ownerReferences`` uid; a dependent with another live owner
  only loses the reference); ``Foreground`` marks the owner with the ``foregroundDeletion``
  finalizer, deletes the dependents, and removes the owner once no dependent with
  ``blockOwnerDeletion`` is left; ``Orphan`` marks it with the ``orphan`` finalizer, strips the
  reference from the dependents and removes it. batch/v1 Jobs default to ``Orphan`` like the real
  server; everything else to ``Background``;
* graceful pod deletion: a pod bound to a node and not finished passes through ``Terminating``
  (``deletionTimestamp`` = now + grace period, ``deletionGracePeriodSeconds``) and is removed at once,
  or, in a simulated cluster, by the simulated kubelet (``simulate.py``) a moment later;
* namespace lifecycle: deleting a namespace marks it ``Terminating`` (``status.phase``), deletes its
  content, and removes it (its ``kubernetes`` spec finalizer done) once nothing is left in it; an
  object removed later from a terminating namespace finishes it.

Functions here run under the store's lock and use its primitives (``_put``, ``_remove``, indexes);
called by ``store.py``.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from nautilus_core.testing import status as st
from nautilus_core.testing.object_rules import now_rfc3339
from nautilus_core.testing.resources import ResourceType
from nautilus_core.testing.validation import NOT_SUPPORTED, FieldError, invalid

if TYPE_CHECKING:
    from nautilus_core.testing.store import ObjectStore

Obj = dict[str, Any]
POLICIES = ("Foreground", "Background", "Orphan")
FOREGROUND = "foregroundDeletion"
ORPHAN = "orphan"
NAMESPACE_KEY = ("", "v1", "namespaces")


def check_policy(policy: Any) -> str | None:
    """A DeleteOptions.propagationPolicy, or the 422 the real server answers for an unknown one."""
    if policy is None or policy == "":
        return None
    if policy not in POLICIES:
        error = FieldError(
            NOT_SUPPORTED,
            "propagationPolicy",
            policy,
            'supported values: "Foreground", "Background", "Orphan"',
        )
        raise invalid("DeleteOptions", "meta.k8s.io", "", [error])
    return str(policy)


def default_policy(rtype: ResourceType) -> str:
    return "Orphan" if (rtype.group, rtype.kind) == ("batch", "Job") else "Background"


def _later(seconds: int) -> str:
    return (datetime.now(UTC) + timedelta(seconds=seconds)).strftime("%Y-%m-%dT%H:%M:%SZ")


def _mark(store: ObjectStore, rtype: ResourceType, obj: Obj, extra: list[str], grace: int = 0) -> Obj:
    """Set deletionTimestamp (once) and add finalizers; records MODIFIED when something changed."""
    meta = obj["metadata"]
    finalizers = list(meta.get("finalizers") or [])
    finalizers.extend(f for f in extra if f not in finalizers)
    new_meta = dict(meta)
    if not meta.get("deletionTimestamp"):
        new_meta["deletionTimestamp"] = _later(grace) if grace else now_rfc3339()
        new_meta["deletionGracePeriodSeconds"] = grace
    if finalizers:
        new_meta["finalizers"] = finalizers
    marked = {**obj, "metadata": new_meta}
    if rtype.key == NAMESPACE_KEY:
        marked["status"] = {**(obj.get("status") or {}), "phase": "Terminating"}
    if marked == obj:
        return obj
    new_meta["resourceVersion"] = store._next_rv()
    store._put(rtype, marked, obj)
    store._record("MODIFIED", rtype, marked, obj)
    return marked


def _drop_finalizer(store: ObjectStore, rtype: ResourceType, obj: Obj, finalizer: str) -> Obj | None:
    """Remove one finalizer; removes the object when it was the last. Returns the stored object or None."""
    meta = obj["metadata"]
    left = [f for f in meta.get("finalizers") or [] if f != finalizer]
    if not left:
        store._remove(rtype, obj)
        return None
    updated = {**obj, "metadata": {**meta, "finalizers": left, "resourceVersion": store._next_rv()}}
    store._put(rtype, updated, obj)
    store._record("MODIFIED", rtype, updated, obj)
    return updated


def delete(
    store: ObjectStore, rtype: ResourceType, obj: Obj, policy: str | None, grace: int | None
) -> tuple[Obj, bool]:
    """Delete ``obj`` (already fetched, preconditions checked); returns (answer, removed)."""
    meta = obj["metadata"]
    if rtype.key == NAMESPACE_KEY:
        return _delete_namespace(store, rtype, obj)
    policy = policy or default_policy(rtype)
    if meta.get("deletionTimestamp"):
        if grace == 0 and (rtype.group, rtype.kind) == ("", "Pod") and not meta.get("finalizers"):
            return store._remove(rtype, obj), True  # the kubelet's (or a forced) final delete
        if policy == "Foreground" and FOREGROUND not in (meta.get("finalizers") or []):
            obj = _mark(store, rtype, obj, [FOREGROUND])
            _delete_dependents(store, obj, "Foreground")
            return _settle_foreground(store, rtype, obj)
        return obj, False
    if policy == "Orphan":
        marked = _mark(store, rtype, obj, [ORPHAN])
        for dep_type, dependent in store.dependents(meta["uid"]):
            _strip_owner(store, dep_type, dependent, meta["uid"])
        return marked, _drop_finalizer(store, rtype, marked, ORPHAN) is None
    if policy == "Foreground":
        marked = _mark(store, rtype, obj, [FOREGROUND])
        _delete_dependents(store, marked, "Foreground")
        return _settle_foreground(store, rtype, marked)
    if meta.get("finalizers"):
        return _mark(store, rtype, obj, []), False
    if _graceful(rtype, obj, grace):
        seconds = (
            grace
            if grace is not None
            else int((obj.get("spec") or {}).get("terminationGracePeriodSeconds", 30))
        )
        marked = _mark(store, rtype, obj, [], grace=seconds)
        if store.kubelet_removes_pods:
            return marked, False  # the simulated kubelet stops the containers and removes it later
        store._remove(rtype, marked)  # no kubelet is simulated: the containers stop at once
        return marked, True
    return store._remove(rtype, obj), True


def _graceful(rtype: ResourceType, obj: Obj, grace: int | None) -> bool:
    if rtype.group or rtype.kind != "Pod" or grace == 0:
        return False
    phase = (obj.get("status") or {}).get("phase")
    return bool((obj.get("spec") or {}).get("nodeName")) and phase not in ("Succeeded", "Failed")


def _delete_dependents(store: ObjectStore, owner: Obj, policy: str) -> None:
    for dep_type, dependent in store.dependents(owner["metadata"]["uid"]):
        current = store.find(dep_type, dependent)
        if current is not None:
            delete(store, dep_type, current, policy, None)


def _settle_foreground(store: ObjectStore, rtype: ResourceType, owner: Obj) -> tuple[Obj, bool]:
    """Remove the foregroundDeletion finalizer once no blocking dependent is left."""
    current = store.find(rtype, owner)
    if current is None:
        return owner, True
    uid = current["metadata"]["uid"]
    for _, dependent in store.dependents(uid):
        for ref in dependent["metadata"].get("ownerReferences") or []:
            if ref.get("uid") == uid and ref.get("blockOwnerDeletion"):
                return current, False
    return current, _drop_finalizer(store, rtype, current, FOREGROUND) is None


def _strip_owner(store: ObjectStore, rtype: ResourceType, obj: Obj, uid: str) -> Obj:
    meta = obj["metadata"]
    refs = [r for r in meta.get("ownerReferences") or [] if r.get("uid") != uid]
    new_meta = {**meta, "resourceVersion": store._next_rv()}
    if refs:
        new_meta["ownerReferences"] = refs
    else:
        new_meta.pop("ownerReferences", None)
    updated = {**obj, "metadata": new_meta}
    store._put(rtype, updated, obj)
    store._record("MODIFIED", rtype, updated, obj)
    return updated


def after_removed(store: ObjectStore, rtype: ResourceType, obj: Obj) -> None:
    """The garbage collector's and namespace controller's reaction to ``obj`` being gone."""
    meta = obj["metadata"]
    for dep_type, dependent in store.dependents(meta.get("uid", "")):
        current = store.find(dep_type, dependent)
        if current is None:
            continue
        others = [r for r in current["metadata"].get("ownerReferences") or [] if r.get("uid") != meta["uid"]]
        if any(store.by_uid(r.get("uid")) is not None for r in others):
            _strip_owner(store, dep_type, current, meta["uid"])
        elif not current["metadata"].get("deletionTimestamp"):
            delete(store, dep_type, current, None, None)
    for ref in meta.get("ownerReferences") or []:
        found = store.by_uid(ref.get("uid"))
        if found is not None and FOREGROUND in (found[1]["metadata"].get("finalizers") or []):
            _settle_foreground(store, found[0], found[1])
    namespace = meta.get("namespace")
    if namespace and rtype.namespaced:
        ns_type = store.type_for_path(*NAMESPACE_KEY)
        ns = store.find_name(NAMESPACE_KEY, "", namespace)
        if ns_type is not None and ns is not None and ns["metadata"].get("deletionTimestamp"):
            finish_namespace(store, ns_type, ns)


def _delete_namespace(store: ObjectStore, rtype: ResourceType, ns: Obj) -> tuple[Obj, bool]:
    marked = _mark(store, rtype, ns, [])
    name = ns["metadata"]["name"]
    for other in store.types():
        if other.namespaced:
            for child in store.list(other, name):
                if not child["metadata"].get("deletionTimestamp"):
                    delete(store, other, child, None, None)
    return marked, finish_namespace(store, rtype, store.find(rtype, marked) or marked)


def finish_namespace(store: ObjectStore, rtype: ResourceType, ns: Obj) -> bool:
    """Remove a terminating namespace once it is empty; True when it is gone."""
    name = ns["metadata"]["name"]
    if store.find(rtype, ns) is None:
        return True
    if store.objects_in_namespace(name):
        return False
    spec_finalizers = [f for f in (ns.get("spec") or {}).get("finalizers") or [] if f != "kubernetes"]
    if spec_finalizers or ns["metadata"].get("finalizers"):
        if spec_finalizers != ((ns.get("spec") or {}).get("finalizers") or []):
            updated = {**ns, "spec": {**(ns.get("spec") or {}), "finalizers": spec_finalizers}}
            updated["metadata"] = {**ns["metadata"], "resourceVersion": store._next_rv()}
            store._put(rtype, updated, ns)
            store._record("MODIFIED", rtype, updated, ns)
        return False
    store._remove(rtype, {**ns, "spec": {**(ns.get("spec") or {}), "finalizers": []}})
    return True


def check_namespace(store: ObjectStore, namespace: str, rtype: ResourceType, name: str) -> None:
    """The namespace lifecycle admission: 404 for a missing namespace, 403 for a terminating one."""
    ns = store.find_name(NAMESPACE_KEY, "", namespace)
    if ns is None:
        raise st.not_found("namespaces", "", namespace)
    if ns["metadata"].get("deletionTimestamp") or (ns.get("status") or {}).get("phase") == "Terminating":
        message = f"unable to create new content in namespace {namespace} because it is being terminated"
        details: dict[str, Any] = {"name": name, "kind": rtype.plural}
        if rtype.group:
            details["group"] = rtype.group
        details["causes"] = [
            {"reason": "NamespaceTerminating", "message": message, "field": "metadata.namespace"}
        ]
        what = f"{rtype.plural}.{rtype.group}" if rtype.group else rtype.plural
        raise st.ApiError(403, "Forbidden", f'{what} "{name}" is forbidden: {message}', details)


def finalize_namespace(store: ObjectStore, name: str, body: Any) -> Obj:
    """``PUT /api/v1/namespaces/{name}/finalize``: set ``spec.finalizers``; an emptied terminating
    namespace without content is removed (the answer then shows its last, terminating state)."""
    with store.lock:
        ns_type = store.type_for_path(*NAMESPACE_KEY)
        assert ns_type is not None
        ns = store.get(ns_type, None, name)
        finalizers = ((body or {}).get("spec") or {}).get("finalizers") if isinstance(body, dict) else None
        if not isinstance(finalizers, list) or not all(isinstance(f, str) for f in finalizers):
            finalizers = []
        if finalizers != (ns.get("spec") or {}).get("finalizers"):
            updated = {**ns, "spec": {**(ns.get("spec") or {}), "finalizers": finalizers}}
            updated["metadata"] = {**ns["metadata"], "resourceVersion": store._next_rv()}
            store._put(ns_type, updated, ns)
            store._record("MODIFIED", ns_type, updated, ns)
            ns = updated
        if ns["metadata"].get("deletionTimestamp"):
            finish_namespace(store, ns_type, ns)
        return ns

"""The statefulsets reconciler: ``managed_resource`` rows (lifecycle_mode=full) become a StatefulSet
and a headless Service in ``NAMESPACE_PREFIX + team``, owned and labelled by Nautilus.

Keys are ``team/name``. Each reconcile reads the row fresh (a database failure writes nothing to
Kubernetes), validates it, compares the live objects with the desired ones and acts only on a
difference: create (server-side apply, field manager ``nautilus``), update on drift, scale through
the scale subresource, delete and wait until gone. Status is written back only when it changed;
every action gets a ``provisioning_job`` row and an ``audit_log`` row. Objects Nautilus does not own
are never modified. Registered by ``reconcilers.statefulsets`` and run by the controller runtime.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import structlog

from nautilus_core.errors import InvalidObjectError, NautilusError, TransientError
from nautilus_core.kube import KubeApiError, KubeClient, KubeTransientError, NotFound
from nautilus_core.reconcilers.statefulsets import manifests as m
from nautilus_core.reconcilers.statefulsets.store import ResourceStore, RowVanished, row_version, split_key
from nautilus_core.types import ControllerContext, Outcome, OutcomeKind, PollSource, Request, Source, WatchSource

log = structlog.get_logger(__name__)
NAME = "statefulsets"
SELECTOR = f"{m.MANAGED_BY}={m.MANAGER}"
OWNED = (("apps/v1", "statefulsets"), ("v1", "services"))  # watched whole (the cache answers "absent")


class StatefulSetReconciler:
    name = NAME

    def __init__(self, ctx: ControllerContext) -> None:
        self.settings = ctx.settings
        self.kube: KubeClient = ctx.kube
        self.cache = ctx.cache
        self.store = ResourceStore(ctx.engine, actor=f"controller/{ctx.identity}")
        self.prefix = ctx.settings.namespace_prefix or ""
        self.interval = float(ctx.settings.reconcile_interval)

    # ------------------------------------------------------------------ sources

    def keys(self) -> Iterable[str]:
        """Every row, and every object we created whose row is gone (so a ``DELETE FROM`` of an idle
        row is cleaned up by the next resync, not whenever some unrelated event arrives)."""
        keys = self.store.keys()
        known = set(keys)
        orphans = sorted({k for k in (m.key_of(obj) for obj in self._ours()) if k and k not in known})
        return keys + orphans

    def fingerprints(self) -> dict[str, str | None]:
        """The resync's view: each row's version and the resourceVersions of its objects in the cache
        (orphans: None, always reconciled). Unchanged since the last successful reconcile: skipped."""
        out: dict[str, str | None] = {key: self._fingerprint(key, version) for key, version in self.store.versions()}
        for obj in self._ours():
            key = m.key_of(obj)
            if key and key not in out:
                out[key] = None
        return out

    def _fingerprint(self, key: str, version: str) -> str | None:
        team, name = split_key(key)
        namespace = f"{self.prefix}{team}"
        if not (m.valid_namespace(namespace) and m.valid_namespace(name)):
            return version
        parts = [version]
        for api, plural in OWNED:
            known, obj = self.cache.peek(api, plural, name, namespace)
            if not known:
                return None  # the informer has not synced: reconcile
            parts.append(str(((obj or {}).get("metadata") or {}).get("resourceVersion")))
        return "|".join(parts)

    def _ours(self) -> list[dict[str, Any]]:
        """Every StatefulSet and Service with our label that the informers hold."""
        return [obj for api, plural in OWNED for obj in self.cache.cached(api, plural) if m.owned(obj)]

    def sources(self) -> Iterable[Source]:
        def to_keys(event: str, obj: Mapping[str, Any]) -> Iterable[str]:
            key = m.key_of(obj)
            return [key] if key else []

        everywhere = self.settings.watch_all_namespaces
        # Only names that can be namespaces (a row with team 'a/b' is invalid, not a watch that 404s
        # forever), plus those where we still hold objects whose rows are gone (until they are removed).
        wanted = {ns for ns in self.store.namespaces(self.prefix) if m.valid_namespace(ns)}
        wanted |= {str((obj.get("metadata") or {}).get("namespace") or "") for obj in self._ours()} - {""}
        namespaces: list[str | None] = [None] if everywhere else [*sorted(wanted)]
        poll = PollSource("managed_resource", min(2.0, self.interval), self.store.changed)
        out: list[Source] = [poll, WatchSource("v1", "namespaces", lambda event, obj: ())]
        if self.store.engine.dialect.name == "postgresql":  # the fast path: LISTEN (the poll stays as a net)
            out.append(PollSource("managed_resource_notify", 0.0, self.store.notified))
        for ns in namespaces:
            # StatefulSets and Services are watched whole so the cache also knows foreign objects and
            # answers "absent" itself; pods only as events, ours only.
            for api_version, plural in OWNED:
                out.append(WatchSource(api_version, plural, to_keys, namespace=ns))
            out.append(WatchSource("v1", "pods", to_keys, namespace=ns, label_selector=SELECTOR))
        return out

    def close(self) -> None:
        self.store.close()

    def park(self, key: str, message: str) -> None:
        """Called by the runtime after MAX_RETRIES: dead-letter the row until its spec changes."""
        row = self.store.load(key)
        if row:
            self.store.write_status(row, status="failed", parked=True, last_error=message,
                                    status_message=f"gave up after retries: {message}",
                                    spec_hash=self._spec_hash(row))
            self.store.audit(key, "park", None, {"status": "failed"}, "failed", message)

    def _spec_hash(self, row: Mapping[str, Any]) -> str | None:
        try:
            desired = m.validate(row, self.prefix)
        except InvalidObjectError:
            return None
        return desired.spec_hash() + ("-deleted" if row.get("desired_state") == "deleted" else "")

    # ------------------------------------------------------------------ reconcile

    def reconcile(self, request: Request) -> Outcome:
        key = request.key
        try:
            row = self.store.load(key)
        except NautilusError as exc:  # database down: touch nothing in Kubernetes
            return Outcome.requeue(getattr(self.settings, "backoff_base", 5.0)) if isinstance(
                exc, TransientError) else Outcome.transient(str(exc))
        if row is None:
            return self._orphan(key)
        outcome = self._reconcile_row(key, row)
        if outcome.kind is OutcomeKind.DONE and not request.cancelled:
            return Outcome.done(self._fingerprint(key, row_version(row["id"], row["updated_at"])))
        return outcome

    def _reconcile_row(self, key: str, row: dict[str, Any]) -> Outcome:
        if row.get("lifecycle_mode") != "full":
            return Outcome.done()
        try:
            desired = m.validate(row, self.prefix)
        except InvalidObjectError as exc:
            # parked until the row changes (the poller sees it); nothing to retry meanwhile
            self.store.write_status(row, status="failed", last_error=str(exc), status_message=str(exc), parked=True)
            return Outcome.done()
        spec_hash = self._spec_hash(row) or ""
        if row.get("parked"):
            if row.get("spec_hash") == spec_hash:
                return Outcome.done()
            row["failure_count"] = 0  # desired state changed: try again
        generation = int(row.get("generation") or 1)
        if row.get("spec_hash") not in (None, spec_hash):
            generation += 1
        try:
            if row.get("desired_state") == "deleted":
                return self._delete(row, desired, spec_hash, generation)
            return self._present(row, desired, spec_hash, generation)
        except RowVanished:  # deleted mid-reconcile: remove what this reconcile may have created
            log.info("row_vanished", key=key)
            return self._orphan(key)
        except KubeTransientError as exc:
            self.store.write_status(row, last_error=str(exc), failure_count=int(row.get("failure_count") or 0) + 1)
            return Outcome.transient(str(exc), retry_after=exc.retry_after)
        except KubeApiError as exc:
            self.store.write_status(row, last_error=str(exc), failure_count=int(row.get("failure_count") or 0) + 1)
            if exc.status in (400, 422):  # the API refuses what we sent: retrying will not help
                return Outcome.permanent(str(exc))
            return Outcome.transient(str(exc))  # 409 (someone wrote meanwhile), 403 (RBAC may be fixed)
        except TransientError as exc:  # the database went away mid-reconcile: not the row's fault
            log.warning("database_unavailable", key=key, error=str(exc))
            return Outcome.requeue(getattr(self.settings, "backoff_base", 5.0))

    def _get(self, api_version: str, plural: str, namespace: str, name: str) -> dict[str, Any] | None:
        """The live object, from the term's informers (a synced one answers "absent" too), else a GET."""
        return self.cache.get(api_version, plural, name, namespace or None)

    def _namespace_exists(self, name: str) -> bool:
        return self._get("v1", "namespaces", "", name) is not None

    def _apply(self, api_version: str, plural: str, body: dict[str, Any], namespace: str) -> dict[str, Any]:
        result = self.kube.apply(api_version, plural, body, namespace=namespace)
        self.cache.put(api_version, plural, result)
        return result

    def _delete_object(self, api_version: str, plural: str, name: str, namespace: str) -> None:
        try:
            self.kube.delete(api_version, plural, name, namespace=namespace)
        except NotFound:  # already gone is what we want; the cache may not know yet
            self.cache.evict(api_version, plural, name, namespace)

    def _act(self, row: dict[str, Any], key: str, action: str, before: Any, after: Any, fn: Any) -> Any:
        job = self.store.job_started(row["id"], action)
        try:
            result = fn()
        except Exception as exc:
            self.store.job_finished(job, False, str(exc))
            self.store.audit(key, action, before, after, "failed", str(exc))
            raise
        self.store.job_finished(job, True)
        self.store.audit(key, action, before, after, "succeeded")
        log.info("resource_changed", key=key, action=action)
        return result

    def _present(self, row: dict[str, Any], d: m.Desired, spec_hash: str, generation: int) -> Outcome:
        key = d.key
        if not self._namespace_exists(d.namespace):
            message = f"managed_resource {key}: field 'team': namespace {d.namespace!r} does not exist"
            self.store.write_status(row, status="failed", status_message=message, last_error=message)
            return Outcome.requeue(self.interval)
        want_sts, want_svc = m.statefulset(d), m.service(d)
        sts = self._get("apps/v1", "statefulsets", d.namespace, d.name)
        svc = self._get("v1", "services", d.namespace, d.name)
        for obj, kind in ((sts, "StatefulSet"), (svc, "Service")):
            if obj is not None and not m.owned(obj):
                message = f"{kind} {d.namespace}/{d.name} exists and is not managed by nautilus: left alone"
                self.store.write_status(row, status="failed", status_message=message, last_error=message,
                                        parked=True, spec_hash=spec_hash)
                return Outcome.done()
        acted = False
        if sts is None:
            self._act(row, key, "create", None, _brief(want_sts), lambda: self._apply(
                "apps/v1", "statefulsets", want_sts, d.namespace))
            acted = True
            sts = self._get("apps/v1", "statefulsets", d.namespace, d.name) or want_sts
        else:
            drifted = m.drift(want_sts, sts)
            current_replicas = (sts.get("spec") or {}).get("replicas")
            if drifted:
                body = _keep_claims(want_sts, sts)
                sts = self._act(row, key, "update", _brief(sts), _brief(want_sts) | {"drift": drifted},
                                lambda: self._apply("apps/v1", "statefulsets", body, d.namespace))
                acted = True
                self._expand_claims(row, d)
            elif current_replicas != d.replicas:
                try:
                    self._act(row, key, "scale", {"replicas": current_replicas}, {"replicas": d.replicas},
                              lambda: self.kube.patch("apps/v1", "statefulsets", d.name,
                                                      {"spec": {"replicas": d.replicas}},
                                                      namespace=d.namespace, subresource="scale"))
                except NotFound:  # deleted meanwhile (the cache believed in it): forget it and recreate
                    self.cache.evict("apps/v1", "statefulsets", d.name, d.namespace)
                    return Outcome.requeue(0.0)
                acted = True
        if svc is None or m.drift(want_svc, svc):
            action = "create" if svc is None else "update"
            self._act(row, key, action, _brief(svc) if svc else None, _brief(want_svc) | {"kind": "Service"},
                      lambda: self._apply("v1", "services", want_svc, d.namespace))
            acted = True
        status = sts.get("status") or {}
        ready = int(status.get("readyReplicas") or 0)
        observed = (status.get("observedGeneration") or 0) >= ((sts.get("metadata") or {}).get("generation") or 0)
        is_ready = observed and ready >= d.replicas and (status.get("replicas", d.replicas) == d.replicas)
        state = "ready" if is_ready and not acted else "provisioning"
        message = f"{ready}/{d.replicas} replicas ready"
        self.store.write_status(row, status=state, ready_replicas=ready, status_message=message, last_error=None,
                                observed_generation=generation, generation=generation, spec_hash=spec_hash,
                                failure_count=0, parked=False)
        return Outcome.done()

    def _expand_claims(self, row: dict[str, Any], d: m.Desired) -> None:
        """A new storage size: volume claim templates are immutable, so grow the existing claims."""
        if not d.storage_size:
            return
        selector = f"{m.TEAM_LABEL}={d.key.split('/', 1)[0]},{m.NAME_LABEL}={d.name}"
        for pvc in self.cache.list("v1", "persistentvolumeclaims", namespace=d.namespace, label_selector=selector):
            current = ((pvc.get("spec") or {}).get("resources") or {}).get("requests", {}).get("storage")
            if current == d.storage_size:
                continue
            name = pvc["metadata"]["name"]
            self._act(row, d.key, "update", {"pvc": name, "storage": current}, {"pvc": name, "storage": d.storage_size},
                      lambda name=name: self.kube.patch(
                          "v1", "persistentvolumeclaims", name,
                          {"spec": {"resources": {"requests": {"storage": d.storage_size}}}}, namespace=d.namespace))

    def _delete(self, row: dict[str, Any], d: m.Desired, spec_hash: str, generation: int) -> Outcome:
        key = d.key
        sts = self._get("apps/v1", "statefulsets", d.namespace, d.name)
        svc = self._get("v1", "services", d.namespace, d.name)
        pairs = ((sts, "apps/v1", "statefulsets"), (svc, "v1", "services"))
        present = [(obj, api, plural) for obj, api, plural in pairs if obj is not None]
        if not present:
            if row.get("status") != "deleted":
                self.store.audit(key, "deleted", None, None, "succeeded", "StatefulSet and Service are gone")
            self.store.write_status(row, status="deleted", ready_replicas=0, status_message="deleted",
                                    last_error=None, observed_generation=generation, generation=generation,
                                    spec_hash=spec_hash, failure_count=0, parked=False)
            return Outcome.done()
        for obj, _api, _plural in present:
            if not m.owned(obj):
                message = f"{obj.get('kind')} {d.namespace}/{d.name} is not managed by nautilus: not deleted"
                self.store.write_status(row, status="failed", status_message=message, last_error=message,
                                        parked=True, spec_hash=spec_hash)
                return Outcome.done()
        alive = [o for o in present if not (o[0].get("metadata") or {}).get("deletionTimestamp")]
        if alive:
            def delete_all() -> None:
                for _obj, api, plural in alive:
                    self._delete_object(api, plural, d.name, d.namespace)
            self._act(row, key, "delete", {p: True for _o, _a, p in alive}, None, delete_all)
        self.store.write_status(row, status="deleting", status_message="waiting for objects to be gone",
                                generation=generation, spec_hash=spec_hash)
        return Outcome.requeue(min(2.0, self.interval))

    def _orphan(self, key: str) -> Outcome:
        """The row was removed from the table: remove what we created for it."""
        team, name = split_key(key)
        namespace = f"{self.prefix}{team}"
        if not (m.valid_namespace(namespace) and m.valid_namespace(name)):
            return Outcome.done()  # no object can have been created under such a name
        for api, plural in (("apps/v1", "statefulsets"), ("v1", "services")):
            obj = self._get(api, plural, namespace, name)
            if obj is not None and m.owned(obj) and m.key_of(obj) == key:
                self._delete_object(api, plural, name, namespace)
                self.store.audit(key, "delete", {plural: True}, None, "succeeded", "row removed from the database")
        return Outcome.done()


def _brief(obj: Mapping[str, Any] | None) -> dict[str, Any]:
    """What the audit log keeps of an object: the fields we own, small."""
    if not obj:
        return {}
    spec = obj.get("spec") or {}
    containers = ((spec.get("template") or {}).get("spec") or {}).get("containers") or []
    out: dict[str, Any] = {"kind": obj.get("kind"), "replicas": spec.get("replicas")}
    if containers:
        out["image"] = containers[0].get("image")
        out["resources"] = containers[0].get("resources")
    return {k: v for k, v in out.items() if v is not None}


def _keep_claims(desired: dict[str, Any], current: Mapping[str, Any]) -> dict[str, Any]:
    """volumeClaimTemplates are immutable: re-send the live ones so an update never touches them."""
    body = {**desired, "spec": dict(desired["spec"])}
    live = (current.get("spec") or {}).get("volumeClaimTemplates")
    if live is not None:
        body["spec"]["volumeClaimTemplates"] = live
    else:
        body["spec"].pop("volumeClaimTemplates", None)
    return body

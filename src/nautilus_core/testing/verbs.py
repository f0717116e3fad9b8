"""The verbs of the API emulator on one resource: list, get, create, update, patch, delete, subresources.

Owns the translation between HTTP requests (query parameters, bodies, content types) and store
operations, and the JSON the real API server answers: lists with ``continue``/``remainingItemCount``,
201 on create, ``Status`` on delete of most resources, ``autoscaling/v1`` ``Scale`` objects (a CRD's
scale paths too), the pod log text. Every write runs under its ``fieldValidation``
(``field_validation.py``; bodies are type-checked by ``go_types.py`` first, then unknown fields of
built-in kinds are dropped by ``openapi.py``); server-side apply and ``fieldManager`` ownership are
computed by ``server_side_apply.py``. Called by ``handlers.py`` once a URL has been routed to a
resource; raises :class:`~nautilus_core.testing.status.ApiError` for every failure.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import aiohttp.web
import orjson
import yaml

from nautilus_core.testing import field_validation, go_types, openapi, patching
from nautilus_core.testing import server_side_apply as ssa
from nautilus_core.testing import status as st
from nautilus_core.testing.deletion import check_policy
from nautilus_core.testing.logs import LogStore
from nautilus_core.testing.resources import ResourceType
from nautilus_core.testing.selectors import Matcher, combine, parse_field_selector, parse_label_selector
from nautilus_core.testing.store import Obj, ObjectStore

JSON = "application/json"


def respond(body: Any, status: int = 200) -> aiohttp.web.Response:
    return aiohttp.web.Response(body=orjson.dumps(body), status=status, content_type=JSON)


def _int(params: dict[str, str], key: str) -> int | None:
    raw = params.get(key)
    if raw in (None, ""):
        return None
    try:
        return int(raw)
    except ValueError:
        raise st.bad_request(f'strconv.ParseInt: parsing "{raw}": invalid syntax') from None


def _truthy(params: dict[str, str], key: str) -> bool:
    return params.get(key, "").lower() in ("true", "1")


def parse_body(raw: bytes, content_type: str = JSON) -> Any:
    """A JSON body, or a YAML one when the content type says so (as the real server accepts)."""
    if not raw:
        raise st.bad_request("the request body is empty")
    try:
        return orjson.loads(raw)
    except orjson.JSONDecodeError:
        if "yaml" not in content_type:
            raise st.bad_request("the request body is not valid JSON") from None
    try:
        return yaml.safe_load(raw)
    except yaml.YAMLError as error:
        raise st.bad_request(f"the request body is not valid YAML: {error}") from None


def _decoded(rtype: ResourceType, obj: Any, subresource: str | None = None) -> Any:
    """``obj`` type-checked (``go_types``, 400), then without the unknown fields of a built-in kind.

    The order is the real decoder's: a value of the wrong type is answered before unknown fields are
    reported to ``fieldValidation`` (so Strict never hides a type error). Non-objects pass through
    to the store, which refuses them.
    """
    if isinstance(obj, dict):
        go_types.decode(rtype, obj, metadata_only=subresource == "status")
    return openapi.report_unknown(rtype, obj)


def matcher_for(rtype: ResourceType, params: dict[str, str], name: str | None = None) -> Matcher | None:
    """The selector predicate of a list/watch request (``name``: a watch on one object)."""
    custom = rtype.group not in ("", "apps", "coordination.k8s.io")
    fields = parse_field_selector(params.get("fieldSelector"), rtype.kind, custom)
    by_name = None if name is None else (lambda obj: obj["metadata"]["name"] == name)
    return combine(parse_label_selector(params.get("labelSelector")), fields, by_name)


def delete_options(raw: bytes, params: dict[str, str]) -> dict[str, Any]:
    """DeleteOptions from the body and/or the query: policy, grace, preconditions, dryRun."""
    options = parse_body(raw) if raw.strip() else {}
    if not isinstance(options, dict):
        raise st.bad_request("the body of a delete must be a DeleteOptions object")
    policy = options.get("propagationPolicy", params.get("propagationPolicy"))
    orphan = options.get("orphanDependents", params.get("orphanDependents"))
    if policy in (None, "") and orphan is not None:
        policy = "Orphan" if str(orphan).lower() == "true" else "Background"
    grace = options.get("gracePeriodSeconds")
    if grace is None:
        grace = _int(params, "gracePeriodSeconds")
    elif isinstance(grace, bool) or not isinstance(grace, int):
        raise st.bad_request(
            'DeleteOptions in version "v1" cannot be handled as a DeleteOptions: json: cannot unmarshal '
            "string into Go struct field DeleteOptions.gracePeriodSeconds of type int64"
        )
    preconditions = options.get("preconditions")
    return {
        "policy": check_policy(policy),
        "grace": grace,
        "preconditions": preconditions if isinstance(preconditions, dict) else None,
        "dryRun": options.get("dryRun"),
    }


class Verbs:
    """The verbs over one store (and its logs); every method returns a complete aiohttp response."""

    def __init__(
        self,
        store: ObjectStore,
        logs: LogStore,
        schemas: Callable[[ResourceType], dict[str, Any] | None] = lambda rtype: None,
    ) -> None:
        self.store = store
        self.logs = logs
        self.schemas = schemas  # a CRD version's openAPIV3Schema (crd.CustomResources.schema_for)

    def list(
        self, rtype: ResourceType, namespace: str | None, params: dict[str, str]
    ) -> aiohttp.web.Response:
        return respond(self.list_document(rtype, namespace, params))

    def list_document(self, rtype: ResourceType, namespace: str | None, params: dict[str, str]) -> Obj:
        limit = _int(params, "limit")
        if limit is not None and limit < 0:
            raise st.bad_request("limit must not be negative")
        _int(params, "timeoutSeconds")
        wanted = params.get("resourceVersion", "")
        exact = params.get("resourceVersionMatch") == "Exact"
        if wanted.isdigit() and not exact and int(wanted) > self.store.resource_version:
            raise st.too_large_resource_version(int(wanted), self.store.resource_version)
        items, rv, token, remaining = self.store.list_page(
            rtype, namespace, matcher_for(rtype, params), limit, params.get("continue")
        )
        metadata: dict[str, Any] = {"resourceVersion": str(rv)}
        if token:
            metadata["continue"] = token
        if remaining is not None:
            metadata["remainingItemCount"] = remaining
        return {
            "apiVersion": rtype.api_version,
            "kind": rtype.list_kind,
            "metadata": metadata,
            "items": items,
        }

    def get(self, rtype: ResourceType, namespace: str | None, name: str) -> aiohttp.web.Response:
        return respond(self.store.get(rtype, namespace, name))

    def _write(
        self, rtype: ResourceType, params: dict[str, str], write: Callable[[], Any], code: int = 200
    ) -> aiohttp.web.Response:
        """Run one write under the request's ``fieldValidation``; warnings become headers."""
        with field_validation.collecting(params.get("fieldValidation")) as collected:
            result = write()
        response = result if isinstance(result, aiohttp.web.Response) else respond(result, code)
        for name, value in collected.headers():
            response.headers.add(name, value)
        return response

    def create(
        self, rtype: ResourceType, namespace: str | None, body: Any, params: dict[str, str]
    ) -> aiohttp.web.Response:
        def write() -> Any:
            pruned = self._owned(rtype, None, _decoded(rtype, body), params)
            return self.store.create(rtype, namespace, pruned, dry_run=bool(params.get("dryRun")))

        return self._write(rtype, params, write, 201)

    def replace(
        self,
        rtype: ResourceType,
        namespace: str | None,
        name: str,
        body: Any,
        params: dict[str, str],
        subresource: str | None = None,
    ) -> aiohttp.web.Response:
        if subresource == "scale":
            return self._scale_update(rtype, namespace, name, lambda scale: body, params)

        def write() -> Any:
            with self.store.lock:
                pruned = self._owned(
                    rtype,
                    self.store.get(rtype, namespace, name),
                    _decoded(rtype, body, subresource),
                    params,
                )
                return self.store.update(
                    rtype,
                    namespace,
                    name,
                    pruned,
                    subresource=subresource,
                    dry_run=bool(params.get("dryRun")),
                )

        return self._write(rtype, params, write)

    def patch(
        self,
        rtype: ResourceType,
        namespace: str | None,
        name: str,
        raw: bytes,
        content_type: str,
        params: dict[str, str],
        subresource: str | None = None,
    ) -> aiohttp.web.Response:
        patch_type = patching.PATCH_TYPES.get(content_type)
        if patch_type is None or (patch_type == patching.STRATEGIC and rtype.storage):
            raise patching.unsupported_media_type(custom=bool(rtype.storage))
        body = parse_body(raw, content_type)
        dry_run = bool(params.get("dryRun"))
        if subresource == "scale":
            return self._scale_update(
                rtype, namespace, name, lambda scale: patching.apply_patch(patch_type, scale, body), params
            )
        if patch_type == patching.APPLY:
            return self._write(
                rtype, params, lambda: self._apply(rtype, namespace, name, body, params, subresource, dry_run)
            )

        def write() -> Any:
            with self.store.lock:
                old = self.store.get(rtype, namespace, name)
                patched = patching.apply_patch(patch_type, old, body, openapi.patch_schema(rtype))
                pruned = self._owned(rtype, old, _decoded(rtype, patched, subresource), params)
                return self.store.update(
                    rtype, namespace, name, pruned, subresource=subresource, dry_run=dry_run
                )

        return self._write(rtype, params, write)

    def _list_schema(self, rtype: ResourceType) -> openapi.PatchNode | None:
        custom = self.schemas(rtype)
        return openapi.PatchNode(custom, {}) if custom else openapi.patch_schema(rtype)

    def _owned(self, rtype: ResourceType, old: Obj | None, new: Any, params: dict[str, str]) -> Any:
        """``new`` with the request's ``fieldManager`` (if any) owning the fields it changes."""
        manager = params.get("fieldManager")
        if not manager or not isinstance(new, dict) or not isinstance(new.get("metadata"), dict):
            return new
        return ssa.record_update(old, new, manager, rtype.api_version, self._list_schema(rtype))

    def _apply(
        self,
        rtype: ResourceType,
        namespace: str | None,
        name: str,
        body: Any,
        params: dict[str, str],
        subresource: str | None,
        dry_run: bool,
    ) -> aiohttp.web.Response:
        manager = params.get("fieldManager")
        if not manager:
            raise st.bad_request("PATCH, application/apply-patch+yaml requires the fieldManager parameter")
        if not isinstance(body, dict):
            raise st.bad_request("an apply patch must be an object")
        go_types.decode(rtype, body, metadata_only=True)  # its metadata is read below
        meta = {k: v for k, v in (body.get("metadata") or {}).items() if k != "managedFields"}
        if meta.get("name", name) != name:
            raise st.bad_request(
                f"the name of the object ({meta.get('name')}) does not match the URL ({name})"
            )
        body = _decoded(rtype, {**body, "metadata": meta}, subresource)
        schema = self._list_schema(rtype)
        skip_status = "status" in rtype.subresources and subresource != "status"
        force = _truthy(params, "force")
        with self.store.lock:
            try:
                old = self.store.get(rtype, namespace, name)
            except st.ApiError as error:
                if error.code != 404 or subresource is not None:
                    raise
                entry = ssa.created_entry(body, manager, rtype.api_version, schema, skip_status)
                created = {**body, "metadata": {**meta, "name": name, "managedFields": [entry]}}
                return respond(self.store.create(rtype, namespace, created, dry_run=dry_run), 201)
            merged = ssa.apply(old, body, manager, rtype.api_version, schema, force, subresource, skip_status)
            return respond(
                self.store.update(rtype, namespace, name, merged, subresource=subresource, dry_run=dry_run)
            )

    def delete(
        self, rtype: ResourceType, namespace: str | None, name: str, raw: bytes, params: dict[str, str]
    ) -> aiohttp.web.Response:
        options = delete_options(raw, params)
        obj, removed = self.store.delete(
            rtype,
            namespace,
            name,
            preconditions=options.get("preconditions"),
            dry_run=bool(params.get("dryRun") or options.get("dryRun")),
            propagation=options["policy"],
            grace=options["grace"],
        )
        if removed and not rtype.delete_returns_object:
            details = {"name": name, "kind": rtype.plural, "uid": obj["metadata"].get("uid")}
            if rtype.group:
                details["group"] = rtype.group
            return respond(st.status_body(200, None, "", details))
        return respond(obj)

    def delete_collection(
        self, rtype: ResourceType, namespace: str | None, params: dict[str, str], raw: bytes = b""
    ) -> aiohttp.web.Response:
        if rtype.namespaced and not namespace:
            raise st.unknown_resource()
        options = delete_options(raw, params)
        deleted = []
        with self.store.lock:
            for obj in self.store.list(rtype, namespace, matcher_for(rtype, params)):
                if self.store.find(rtype, obj) is None:
                    continue  # collected meanwhile as a dependent of an earlier one
                answer, _ = self.store.delete(
                    rtype,
                    namespace,
                    obj["metadata"]["name"],
                    propagation=options["policy"],
                    grace=options["grace"],
                )
                deleted.append(answer)
        return respond(
            {
                "apiVersion": rtype.api_version,
                "kind": rtype.list_kind,
                "metadata": {"resourceVersion": str(self.store.resource_version)},
                "items": deleted,
            }
        )

    # -- scale -------------------------------------------------------------------------------------

    def scale(self, rtype: ResourceType, namespace: str | None, name: str) -> aiohttp.web.Response:
        return respond(to_scale(self.store.get(rtype, namespace, name), rtype))

    def _scale_update(
        self, rtype: ResourceType, namespace: str | None, name: str, change: Any, params: dict[str, str]
    ) -> aiohttp.web.Response:
        with self.store.lock:
            old = self.store.get(rtype, namespace, name)
            scale = change(to_scale(old, rtype))
            if not isinstance(scale, dict):
                raise st.bad_request("a Scale must be an object")
            replicas = (scale.get("spec") or {}).get("replicas")
            if not isinstance(replicas, int) or replicas < 0:
                raise st.invalid(
                    "Scale",
                    "autoscaling",
                    name,
                    "spec.replicas: Invalid value: must be a non-negative integer",
                )
            given_rv = (scale.get("metadata") or {}).get("resourceVersion")
            spec_path = rtype.scale_paths[0] if rtype.scale_paths else ".spec.replicas"
            new = _set_path(old, spec_path, replicas)
            new["metadata"] = {
                **old["metadata"],
                "resourceVersion": given_rv or old["metadata"]["resourceVersion"],
            }
            updated = self.store.update(rtype, namespace, name, new, dry_run=bool(params.get("dryRun")))
            return respond(to_scale(updated, rtype))

    # -- logs --------------------------------------------------------------------------------------

    def log(
        self, rtype: ResourceType, namespace: str | None, name: str, params: dict[str, str]
    ) -> aiohttp.web.Response:
        pod = self.store.get(rtype, namespace, name)
        tail = _int(params, "tailLines")
        text = self.logs.read(
            pod,
            params.get("container"),
            _truthy(params, "previous"),
            None if tail is None or tail < 0 else tail,
            _truthy(params, "timestamps"),
            _int(params, "limitBytes"),
        )
        return aiohttp.web.Response(text=text, content_type="text/plain")


def _get_path(obj: Any, path: str) -> Any:
    for part in path.strip(".").split("."):
        obj = obj.get(part) if isinstance(obj, dict) else None
    return obj


def _set_path(obj: Obj, path: str, value: Any) -> Obj:
    """A copy of ``obj`` with ``value`` at the dotted ``path`` (new dicts along the way)."""
    head, _, rest = path.strip(".").partition(".")
    if not rest:
        return {**obj, head: value}
    child = obj.get(head)
    return {**obj, head: _set_path(child if isinstance(child, dict) else {}, rest, value)}


def to_scale(obj: Obj, rtype: ResourceType | None = None) -> dict[str, Any]:
    """The ``autoscaling/v1`` Scale view of a workload (a custom resource's by its CRD's paths)."""
    meta, spec, status = obj["metadata"], obj.get("spec") or {}, obj.get("status") or {}
    if rtype is not None and rtype.scale_paths is not None:
        spec_path, status_path, selector_path = rtype.scale_paths
        found = _get_path(obj, selector_path) if selector_path else None
        return _scale(meta, _get_path(obj, spec_path) or 0, _get_path(obj, status_path) or 0,
                      found if isinstance(found, str) else None)
    match_labels = (spec.get("selector") or {}).get("matchLabels") or {}
    selector = ",".join(f"{key}={value}" for key, value in sorted(match_labels.items()))
    return _scale(meta, spec.get("replicas", 0), status.get("replicas", 0), selector)


SCALE_METADATA = ("name", "namespace", "uid", "resourceVersion", "creationTimestamp")


def _scale(meta: Obj, replicas: Any, status_replicas: Any, selector: str | None) -> dict[str, Any]:
    return {
        "apiVersion": "autoscaling/v1",
        "kind": "Scale",
        "metadata": {key: meta[key] for key in SCALE_METADATA if key in meta},
        "spec": {"replicas": replicas},
        "status": {"replicas": status_replicas, **({"selector": selector} if selector else {})},
    }

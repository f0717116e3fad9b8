"""The HTTP entry point of the API emulator: a kmock ``KubernetesScaffold`` with our own verbs.

Owns what happens to every request: the journal entry, an outage (connection refused, dropped or left
hanging), injected faults, the bearer-token check, then routing. URLs of resources
(``/api/v1/...``, ``/apis/<group>/<version>/...``) go to our verbs (``verbs.py``, ``watch.py``) over our
store; everything else (``/``, ``/api``, ``/apis``, ``/apis/<group>``, ``/apis/<group>/<version>``,
``/version``, health endpoints, and any reaction a test adds with kmock's DSL) goes to kmock's
request handling. Discovery answers are built from kmock's resource registry (``self.resources``),
overridden here for a deterministic preferred version, proper subresource kinds, the ``all`` category
and a configurable ``gitVersion``; CRDs (``crd.py``) publish and unpublish their types here. Reads that
ask for a ``Table`` (kubectl) get one from ``tables.py``, watches included; ``/openapi/v3`` is answered
by ``openapi.py``. Created by :class:`~nautilus_core.testing.KubeEmulator`.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, NamedTuple

import aiohttp.web
import attrs
import kmock
import orjson

from nautilus_core.testing import openapi, tables
from nautilus_core.testing import status as st
from nautilus_core.testing.deletion import NAMESPACE_KEY, finalize_namespace
from nautilus_core.testing.faults import Fault, FaultSet, Journal, RequestRecord
from nautilus_core.testing.logs import LogStore
from nautilus_core.testing.resources import ResourceType, version_priority
from nautilus_core.testing.store import ObjectStore
from nautilus_core.testing.verbs import Verbs, matcher_for, parse_body, respond
from nautilus_core.testing.watch import serve_watch

# What ``kubectl get all`` lists.
_CATEGORY_ALL = {
    ("", "pods"),
    ("", "services"),
    ("apps", "deployments"),
    ("apps", "statefulsets"),
    ("apps", "replicasets"),
    ("apps", "daemonsets"),
    ("batch", "jobs"),
    ("batch", "cronjobs"),
}
_SUBRESOURCE_VERBS = {
    "status": ["get", "patch", "update"],
    "scale": ["get", "patch", "update"],
    "log": ["get"],
    "finalize": ["update"],
}


@dataclass
class EmulatorSettings:
    """Mutable per-emulator switches, read on every request."""

    token: str | None = None
    git_version: str = "v1.30.2"
    bookmark_interval: float = 60.0
    outage: str | None = None  # None, "refuse", "drop" or "hang"


class Route(NamedTuple):
    group: str
    version: str
    plural: str
    namespace: str | None
    name: str | None
    subresource: str | None


def parse_route(path: str) -> Route | None:
    """Split a resource URL; None for anything that is not one (discovery, /version, ...)."""
    parts = [part for part in path.split("/") if part]
    if len(parts) >= 3 and parts[0] == "api":
        group, version, rest = "", parts[1], parts[2:]
    elif len(parts) >= 4 and parts[0] == "apis":
        group, version, rest = parts[1], parts[2], parts[3:]
    else:
        return None
    if (
        rest[0] == "namespaces"
        and len(rest) >= 3
        and not (len(rest) == 3 and rest[2] in ("status", "finalize"))
    ):
        namespace, rest = rest[1], rest[2:]
    else:
        namespace = None
    plural = rest[0]
    name = rest[1] if len(rest) > 1 else None
    subresource = "/".join(rest[2:]) or None
    return Route(group, version, plural, namespace, name, subresource)


@attrs.define(kw_only=True, eq=False)
class EmulatorHandler(kmock.KubernetesScaffold):
    """kmock's Kubernetes scaffold (discovery, DSL) with the emulator's own resource verbs in front."""

    store: ObjectStore
    logs: LogStore
    faults: FaultSet
    journal: Journal
    settings: EmulatorSettings
    stopping: asyncio.Event | None = None
    # The openAPIV3Schema of a CRD-served version (crd.CustomResources.schema_for), for /openapi/v3.
    schemas: Callable[[ResourceType], dict[str, Any] | None] = lambda rtype: None
    verbs: Verbs = attrs.field(init=False)
    failures: list[Exception] = attrs.field(init=False, factory=list)  # unexpected errors, for debugging

    def __attrs_post_init__(self) -> None:
        super().__attrs_post_init__()
        self.verbs = Verbs(self.store, self.logs, self.schemas)
        # The Python client asks for discovery documents with a trailing slash.
        self.fallback["get /version/"] << self._serve_server_version
        self.fallback["get /api/"] << self._serve_api
        self.fallback["get /apis/"] << self._serve_apis
        self.fallback["get", re.compile(r"/apis/[^/]+/")] << self._serve_group
        self.fallback["get", re.compile(r"/apis/[^/]+/[^/]+/")] << self._serve_version
        self.fallback["get", re.compile(r"/api/[^/]+/")] << self._serve_version
        for path in ("/healthz", "/livez", "/readyz"):
            self.fallback[f"get {path}"] << b"ok"

    def publish(self, rtype: ResourceType) -> None:
        """Make a resource type discoverable (kmock's registry feeds /api, /apis, ...)."""
        self.resources[kmock.resource(rtype.group, rtype.version, rtype.plural)] = kmock.ResourceInfo(
            kind=rtype.kind,
            namespaced=rtype.namespaced,
            singular=rtype.singular,
            verbs=set(rtype.verbs),
            shortnames=set(rtype.short_names),
            categories=set(rtype.categories)
            | ({"all"} if (rtype.group, rtype.plural) in _CATEGORY_ALL else set()),
            subresources=set(rtype.subresources),
        )

    def unpublish(self, rtype: ResourceType) -> None:
        """Stop listing a resource type in discovery (its CRD was deleted or stopped serving it)."""
        key = kmock.resource(rtype.group, rtype.version, rtype.plural)
        if key in self.resources:
            del self.resources[key]

    # -- entry point -------------------------------------------------------------------------------

    async def __call__(self, raw_request: aiohttp.web.BaseRequest) -> aiohttp.web.StreamResponse:
        method, path, query = raw_request.method, raw_request.path, dict(raw_request.query)
        self.journal.append(RequestRecord(method, path, query))
        if self.settings.outage is not None:
            return await self._unanswered(raw_request)
        fault = self.faults.take(method, path, query)
        if fault is not None:
            if fault.delay:
                await self._sleep(fault.delay)
            if fault.status is not None:
                return _fault_response(fault)
        token = self.settings.token
        if token is not None and raw_request.headers.get("Authorization") != f"Bearer {token}":
            return respond(st.status_body(401, "Unauthorized", "Unauthorized"), 401)
        if method == "GET" and (path == "/openapi/v3" or path.startswith("/openapi/v3/")):
            try:
                return self._serve_openapi(path.removeprefix("/openapi/v3").strip("/"))
            except st.ApiError as error:
                return respond(error.status(), error.code)
        route = parse_route(path)
        if route is None:
            return await super().__call__(raw_request)
        try:
            return await self._dispatch(raw_request, route, method, query)
        except st.ApiError as error:
            return respond(error.status(), error.code)
        except Exception as error:  # an emulator bug: answer like a server would, keep it for inspection
            self.failures.append(error)
            return respond(st.status_body(500, "InternalError", f"emulator error: {error!r}"), 500)

    async def _sleep(self, seconds: float) -> None:
        if self.stopping is None:
            await asyncio.sleep(seconds)
            return
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self.stopping.wait(), timeout=seconds)

    async def _unanswered(self, raw_request: aiohttp.web.BaseRequest) -> aiohttp.web.StreamResponse:
        if self.settings.outage == "hang":
            while self.settings.outage == "hang" and not (self.stopping and self.stopping.is_set()):
                await self._sleep(0.05)
        if raw_request.transport is not None:
            raw_request.transport.abort()
        return aiohttp.web.Response(status=503)

    async def _dispatch(
        self, raw_request: aiohttp.web.BaseRequest, route: Route, method: str, params: dict[str, str]
    ) -> aiohttp.web.StreamResponse:
        rtype = self.store.type_for_path(route.group, route.version, route.plural)
        if rtype is None or (route.namespace is not None and not rtype.namespaced):
            raise st.unknown_resource()
        namespace = route.namespace
        verbs = self.verbs
        watch = method == "GET" and params.get("watch", "").lower() in ("true", "1")
        as_table = method == "GET" and tables.wants_table(raw_request.headers.get("Accept"))
        render = self._renderer(rtype, params, as_table)
        if route.name is None:
            if watch:
                return await serve_watch(
                    raw_request,
                    self.store,
                    rtype,
                    namespace,
                    matcher_for(rtype, params),
                    params,
                    self.settings.bookmark_interval,
                    render,
                )
            if method == "GET" and as_table:
                listed = verbs.list_document(rtype, namespace, params)
                include = params.get("includeObject")
                return respond(tables.table(rtype, listed["items"], listed["metadata"], include))
            if method == "GET":
                return verbs.list(rtype, namespace, params)
            if method == "POST" and (namespace is not None or not rtype.namespaced):
                body = parse_body(await read_body(raw_request), raw_request.content_type)
                return verbs.create(rtype, namespace, body, params)
            if method == "DELETE":
                return verbs.delete_collection(rtype, namespace, params, await read_body(raw_request))
            raise _not_allowed(method)
        if rtype.namespaced and namespace is None:
            raise st.unknown_resource()
        name, sub = route.name, route.subresource
        if sub == "finalize" and rtype.key == NAMESPACE_KEY and method == "PUT":
            body = parse_body(await read_body(raw_request), raw_request.content_type)
            return respond(finalize_namespace(self.store, name, body))
        if sub is not None and (sub not in rtype.subresources or sub == "finalize"):
            raise st.unknown_resource()
        if watch and sub is None:
            return await serve_watch(
                raw_request,
                self.store,
                rtype,
                namespace,
                matcher_for(rtype, params, name=name),
                params,
                self.settings.bookmark_interval,
                render,
            )
        if method == "GET" and as_table and sub is None:
            obj = self.store.get(rtype, namespace, name)
            metadata = {"resourceVersion": obj["metadata"].get("resourceVersion", "")}
            return respond(tables.table(rtype, [obj], metadata, params.get("includeObject")))
        if method == "GET":
            if sub == "log":
                return verbs.log(rtype, namespace, name, params)
            return (
                verbs.scale(rtype, namespace, name) if sub == "scale" else verbs.get(rtype, namespace, name)
            )
        if sub == "log":
            raise _not_allowed(method)
        if method == "PUT":
            body = parse_body(await read_body(raw_request), raw_request.content_type)
            return verbs.replace(rtype, namespace, name, body, params, sub)
        if method == "PATCH":
            return verbs.patch(
                rtype, namespace, name, await read_body(raw_request), raw_request.content_type, params, sub
            )
        if method == "DELETE" and sub is None:
            return verbs.delete(rtype, namespace, name, await read_body(raw_request), params)
        raise _not_allowed(method)

    def _renderer(
        self, rtype: ResourceType, params: dict[str, str], as_table: bool
    ) -> Callable[[Any], Any] | None:
        """What a watch sends per object: the requested version's view, or a one-row Table."""
        view = self.store.view
        if as_table:
            include = params.get("includeObject")
            return lambda obj: tables.table(
                rtype,
                [view(rtype, obj)],
                {"resourceVersion": obj["metadata"].get("resourceVersion", "")},
                include,
            )
        return (lambda obj: view(rtype, obj)) if rtype.storage else None

    # -- /openapi/v3 -------------------------------------------------------------------------------

    def _group_versions(self) -> dict[str, list[ResourceType]]:
        served: dict[str, list[ResourceType]] = {}
        published = set(self._get_resources())
        for rtype in sorted(self.store.types(), key=lambda r: r.plural):
            if kmock.resource(rtype.group, rtype.version, rtype.plural) in published:
                served.setdefault(openapi.group_version_path(rtype), []).append(rtype)
        return served

    def _serve_openapi(self, rest: str) -> aiohttp.web.Response:
        return respond(openapi.answer(rest, self._group_versions(), self.schemas, self.settings.git_version))

    # -- kmock overrides: errors and discovery -----------------------------------------------------

    async def _render_error(self, exc: Exception) -> aiohttp.web.StreamResponse:
        if isinstance(exc, st.ApiError):
            return respond(exc.status(), exc.code)
        if isinstance(exc, kmock.KubernetesError):
            code = exc.status
            message = "the server could not find the requested resource" if code == 404 else str(exc.message)
            return respond(st.status_body(code, None, message, {}), code)
        return respond(st.status_body(500, None, repr(exc)), 500)

    def _versions(self) -> dict[str, list[str]]:
        groups: dict[str, set[str]] = {}
        for res in self._get_resources():
            if res.group and res.version:
                groups.setdefault(res.group, set()).add(res.version)
        return {group: sorted(versions, key=version_priority) for group, versions in sorted(groups.items())}

    @staticmethod
    def _group_doc(group: str, versions: list[str]) -> dict[str, Any]:
        entries = [{"groupVersion": f"{group}/{version}", "version": version} for version in versions]
        return {"name": group, "versions": entries, "preferredVersion": entries[0]}

    async def _serve_apis(self, request: kmock.Request) -> kmock.Payload:
        return {
            "apiVersion": "v1",
            "kind": "APIGroupList",
            "groups": [self._group_doc(group, versions) for group, versions in self._versions().items()],
        }

    async def _serve_group(self, request: kmock.Request) -> kmock.Payload:
        assert request.resource is not None
        versions = self._versions().get(request.resource.group or "")
        if not versions:
            raise st.unknown_resource()
        return {
            "apiVersion": "v1",
            "kind": "APIGroup",
            **self._group_doc(request.resource.group or "", versions),
        }

    async def _serve_version(self, request: kmock.Request) -> kmock.Payload:
        assert request.resource is not None
        group, version = request.resource.group or "", request.resource.version
        entries: list[dict[str, Any]] = []
        for res in sorted(self._get_resources(), key=lambda r: r.plural or ""):
            if res.group != group or res.version != version or not res.plural:
                continue
            info = self.resources[res]
            entries.append(
                {
                    "name": res.plural,
                    "singularName": info.singular or "",
                    "kind": info.kind,
                    "namespaced": bool(info.namespaced),
                    "verbs": sorted(info.verbs),
                    "shortNames": sorted(info.shortnames),
                    **({"categories": sorted(info.categories)} if info.categories else {}),
                }
            )
            for sub in sorted(info.subresources):
                sub_entry = {
                    "name": f"{res.plural}/{sub}",
                    "singularName": "",
                    "kind": info.kind,
                    "namespaced": bool(info.namespaced),
                    "verbs": _SUBRESOURCE_VERBS.get(sub, ["get"]),
                }
                if sub == "scale":
                    sub_entry.update(kind="Scale", group="autoscaling", version="v1")
                entries.append(sub_entry)
        if not entries and group:
            raise st.unknown_resource()
        return {
            "apiVersion": "v1",
            "kind": "APIResourceList",
            "groupVersion": f"{group}/{version}".lstrip("/"),
            "resources": entries,
        }

    async def _serve_server_version(self, request: kmock.Request) -> kmock.Payload:
        git_version = self.settings.git_version
        numbers = git_version.lstrip("v").split("+")[0].split("-")[0].split(".")
        return {
            "major": numbers[0],
            "minor": numbers[1] if len(numbers) > 1 else "0",
            "gitVersion": git_version,
            "gitCommit": "0" * 40,
            "gitTreeState": "clean",
            "buildDate": "2024-06-11T20:20:00Z",
            "goVersion": "go1.22.4",
            "compiler": "gc",
            "platform": "linux/amd64",
        }


MAX_BODY_BYTES = 3 * 1024 * 1024  # the API server's request body limit


async def read_body(request: aiohttp.web.BaseRequest) -> bytes:
    """The request body, or 413 RequestEntityTooLarge past the API server's 3 MiB limit."""
    too_large = st.ApiError(
        413, "RequestEntityTooLarge", f"Request entity too large: limit is {MAX_BODY_BYTES}"
    )
    if request.content_length is not None and request.content_length > MAX_BODY_BYTES:
        raise too_large
    chunks: list[bytes] = []
    size = 0
    while True:
        chunk = await request.content.read(1 << 16)
        if not chunk:
            return b"".join(chunks)
        size += len(chunk)
        if size > MAX_BODY_BYTES:
            raise too_large
        chunks.append(chunk)


def _not_allowed(method: str) -> st.ApiError:
    return st.ApiError(
        405, "MethodNotAllowed", f"the server does not allow this method ({method}) on the requested resource"
    )


def _fault_response(fault: Fault) -> aiohttp.web.Response:
    assert fault.status is not None
    headers = dict(fault.headers or {})
    body = fault.body
    if body is None:
        body = orjson.dumps(st.status_body(fault.status, None, f"injected fault (HTTP {fault.status})", {}))
    elif isinstance(body, str):
        body = body.encode()
    elif not isinstance(body, bytes):
        body = orjson.dumps(body)
    headers.setdefault("Content-Type", "application/json")
    return aiohttp.web.Response(body=body, status=fault.status, headers=headers)

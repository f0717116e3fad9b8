"""``KubeEmulator``: one emulated Kubernetes API server on 127.0.0.1, and its Python-side test API.

Owns the lifecycle of one emulated cluster (start on a free port, clean stop), the thread-safe API
tests use to arrange and inspect state (create/get/list/replace/patch/delete objects, logs, custom
resources; CRDs written to the store are served through ``crd.py``), the test switches (faults,
outages, token, history expiry) and kubeconfig files that point at it. The HTTP work is done by
``handlers.py`` behind ``server.py`` on an event loop in a background thread (``_loop.py``),
private to the emulator or shared by an :class:`~nautilus_core.testing.EmulatedFleet`. Used by tests,
the pytest plugin (``pytest_plugin.py``) and the fleet generator (``fleet.py``).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from nautilus_core.testing import kubeconfig, openapi, patching
from nautilus_core.testing._loop import LoopThread
from nautilus_core.testing.crd import CustomResources, LoopPublisher
from nautilus_core.testing.faults import Fault, FaultSet, Journal, Outage
from nautilus_core.testing.handlers import EmulatorHandler, EmulatorSettings
from nautilus_core.testing.logs import LogStore
from nautilus_core.testing.resources import ResourceType, custom_resource
from nautilus_core.testing.selectors import combine, parse_field_selector, parse_label_selector
from nautilus_core.testing.server import EmulatorServer
from nautilus_core.testing.status import ApiError
from nautilus_core.testing.store import Obj, ObjectStore, Objs

if TYPE_CHECKING:
    from nautilus_core.testing.simulate import Simulator

T = TypeVar("T")


class KubeEmulator:
    """An emulated Kubernetes API server; use as ``with KubeEmulator() as emu: ...``.

    ``token``: when set, every request needs ``Authorization: Bearer <token>`` (else 401).
    ``simulate``: run a KWOK-style simulated cluster (``simulate.py``: controllers make ReplicaSets and
    Pods, the scheduler binds pods to nodes, pods become Ready ``pod_startup_seconds`` later, Job pods
    succeed ``job_seconds`` after that; ``simulated_nodes`` nodes are made if there are none).
    ``git_version``: what ``/version`` reports. ``bookmark_interval``: seconds between BOOKMARK events
    on watches that allow them. ``history_size``: watch events kept for resuming from a resourceVersion.
    """

    def __init__(
        self,
        name: str = "emulator",
        *,
        token: str | None = None,
        git_version: str = "v1.30.2",
        bookmark_interval: float = 60.0,
        history_size: int = 10_000,
        port: int = 0,
        loop: LoopThread | None = None,
        simulate: bool = False,
        pod_startup_seconds: float = 0.1,
        job_seconds: float = 0.2,
        simulated_nodes: int = 1,
    ) -> None:
        self.name = name
        self.store = ObjectStore(history_size)
        self.store.seed_system_namespaces()
        self.crds = CustomResources(self.store)
        self.logs = LogStore()
        self.faults = FaultSet()
        self.requests = Journal()
        self.settings = EmulatorSettings(token=token, git_version=git_version, bookmark_interval=bookmark_interval)
        self._own_loop = loop is None
        self._loop = loop if loop is not None else LoopThread(f"kube-emulator-{name}")
        self._wanted_port = port
        self._server: EmulatorServer | None = None
        self.simulator: Simulator | None = None
        if simulate:
            from nautilus_core.testing.simulate import Simulator

            self.simulator = Simulator(
                self.store, startup=pod_startup_seconds, job_seconds=job_seconds, nodes=simulated_nodes
            )

    # -- lifecycle ---------------------------------------------------------------------------------

    def start(self) -> KubeEmulator:
        if self._server is None:
            self._loop.start()
            self._loop.run(self._astart())
            if self.simulator is not None:
                self.simulator.start()
        return self

    async def _astart(self) -> None:
        handler = EmulatorHandler(
            store=self.store,
            logs=self.logs,
            faults=self.faults,
            journal=self.requests,
            settings=self.settings,
            schemas=self.crds.schema_for,
        )
        for rtype in self.store.types():
            handler.publish(rtype)
        self.crds.publisher = LoopPublisher(handler, self._loop.loop)
        server = EmulatorServer(handler, self._wanted_port)
        await server.start()
        self._server = server

    def stop(self) -> None:
        """Stop serving (open watches end, the port is released); idempotent."""
        if self.simulator is not None:
            self.simulator.stop()
        server, self._server = self._server, None
        if server is not None:
            self._loop.run(server.stop())
        self.crds.publisher = None
        if self._own_loop:
            self._loop.stop()

    def __enter__(self) -> KubeEmulator:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def running(self) -> bool:
        return self._server is not None

    @property
    def port(self) -> int:
        if self._server is None:
            raise RuntimeError(f"emulator {self.name!r} is not running")
        return self._server.port

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def handler(self) -> EmulatorHandler:
        """The kmock handler, to add reactions for non-resource URLs with kmock's DSL."""
        if self._server is None:
            raise RuntimeError(f"emulator {self.name!r} is not running")
        return self._server.handler

    def _on_loop(self, fn: Callable[[], T]) -> T:
        if not self._loop.running:
            return fn()

        async def call() -> T:
            return fn()

        return self._loop.run(call())

    # -- resources and objects ---------------------------------------------------------------------

    def add_resource(
        self,
        group: str,
        version: str,
        plural: str,
        kind: str,
        namespaced: bool = True,
        *,
        subresources: Iterable[str] = ("status",),
        short_names: Iterable[str] = (),
    ) -> ResourceType:
        """Declare a custom resource (as if its CRD were installed); idempotent for the same declaration."""
        rtype = self.store.add_type(
            custom_resource(
                group, version, plural, kind, namespaced, frozenset(subresources), tuple(short_names)
            )
        )
        if self._server is not None:
            handler = self._server.handler
            self._on_loop(lambda: handler.publish(rtype))
        return rtype

    def _type(self, api_version: str, kind_or_plural: str) -> ResourceType:
        return self.store.resolve(api_version, kind_or_plural)

    def create(self, obj: Obj, namespace: str | None = None) -> Obj:
        """Create an object (like a POST, but a given uid/timestamps/status are kept); emits ADDED."""
        rtype = self._type(obj.get("apiVersion", ""), obj.get("kind", ""))
        return patching.deep_copy(self.store.create(rtype, namespace, patching.deep_copy(obj), trusted=True))

    def load(self, objects: Iterable[Obj]) -> int:
        """Create many objects at once, taking ownership of the dicts (no copies); returns the count."""
        return self.store.load(objects)

    def get(
        self, api_version: str, kind_or_plural: str, name: str, namespace: str | None = None
    ) -> Obj | None:
        """A copy of the object, or None if there is none."""
        try:
            return patching.deep_copy(
                self.store.get(self._type(api_version, kind_or_plural), namespace, name)
            )
        except ApiError as error:
            if error.code == 404:
                return None
            raise

    def list(
        self,
        api_version: str,
        kind_or_plural: str,
        namespace: str | None = None,
        label_selector: str | None = None,
        field_selector: str | None = None,
    ) -> list[Obj]:
        """Copies of the matching objects, sorted by namespace and name."""
        rtype = self._type(api_version, kind_or_plural)
        matcher = combine(
            parse_label_selector(label_selector),
            parse_field_selector(field_selector, rtype.kind, custom=True),
        )
        return patching.deep_copy(self.store.list(rtype, namespace, matcher))

    def objects(
        self, api_version: str | None = None, kind_or_plural: str | None = None, namespace: str | None = None
    ) -> Objs:
        """Copies of all stored objects, optionally of one resource and/or namespace."""
        wanted = (
            None if api_version is None or kind_or_plural is None else self._type(api_version, kind_or_plural)
        )
        picked = [
            obj
            for rtype, obj in self.store.all_objects()
            if (wanted is None or rtype == wanted)
            and (api_version is None or rtype.api_version == api_version)
            and (namespace is None or obj["metadata"].get("namespace") == namespace)
        ]
        return patching.deep_copy(picked)

    def replace(self, obj: Obj) -> Obj:
        """Replace an object, status included (a stale metadata.resourceVersion raises a 409 ApiError)."""
        rtype = self._type(obj.get("apiVersion", ""), obj.get("kind", ""))
        meta = obj.get("metadata") or {}
        updated = self.store.update(
            rtype, meta.get("namespace"), meta.get("name", ""), patching.deep_copy(obj), trusted=True
        )
        return patching.deep_copy(updated)

    def patch(
        self,
        api_version: str,
        kind_or_plural: str,
        name: str,
        patch: Any,
        namespace: str | None = None,
        patch_type: str = "merge",
    ) -> Obj:
        """Patch an object (``patch_type``: merge, strategic, json); status may be patched too."""
        rtype = self._type(api_version, kind_or_plural)
        content_type = patching.PATCH_TYPES[patch_type]
        with self.store.lock:
            old = self.store.get(rtype, namespace, name)
            patched = patching.apply_patch(
                content_type, old, patching.deep_copy(patch), openapi.patch_schema(rtype)
            )
            return patching.deep_copy(self.store.update(rtype, namespace, name, patched, trusted=True))

    def delete(
        self,
        api_version: str,
        kind_or_plural: str,
        name: str,
        namespace: str | None = None,
        propagation: str | None = None,
    ) -> Obj:
        """Delete like a DELETE request (finalizers, garbage collection by ``propagation``, graceful
        pods, namespace lifecycle); returns what the server answers: the last state or the marked one."""
        rtype = self._type(api_version, kind_or_plural)
        return patching.deep_copy(self.store.delete(rtype, namespace, name, propagation=propagation)[0])

    @property
    def resource_version(self) -> int:
        """The latest resourceVersion handed out (a global counter)."""
        return self.store.resource_version

    def expire_history(self) -> int:
        """Make every earlier resourceVersion too old: watches from it get an ERROR 410 Expired event."""
        return self.store.expire_history()

    def set_logs(
        self,
        namespace: str,
        pod: str,
        container: str,
        text: str,
        previous: bool = False,
        append: bool = False,
    ) -> None:
        """The text ``GET .../pods/{pod}/log?container=...`` answers (``previous``: the last instance)."""
        self.logs.set(namespace, pod, container, text, previous=previous, append=append)

    # -- test switches -----------------------------------------------------------------------------

    def inject(
        self,
        method: str | None = None,
        path: str | re.Pattern[str] | None = None,
        status: int | None = 500,
        times: int | None = 1,
        headers: Mapping[str, str] | None = None,
        delay: float = 0.0,
        body: Any = None,
        query: Mapping[str, str] | None = None,
    ) -> Fault:
        """Answer the next ``times`` matching requests (None: all) with ``status`` (a Status body unless
        ``body`` is given) and ``headers``, after ``delay`` seconds. ``path`` is a substring or a regex of
        the URL path, ``query`` items must all be in the query string. ``status=None`` only delays.
        The returned :class:`Fault` counts ``hits`` and can be ``cancel()``-ed (or used as ``with``)."""
        return self.faults.add(
            Fault(
                method=method.upper() if method else None,
                path=path,
                status=status,
                times=times,
                headers=headers,
                delay=delay,
                body=body,
                query=query,
            )
        )

    def clear_faults(self) -> None:
        self.faults.clear()

    def unreachable(self, mode: str = "refuse") -> Outage:
        """Stop answering until the returned :class:`Outage` is restored (or its ``with`` block ends).

        ``refuse``: the port stops listening (connection refused); ``drop``: connections are accepted and
        closed without an answer; ``hang``: requests are accepted and never answered (client timeouts).
        Open watch streams are cut in every mode.
        """
        server = self._server
        if server is None:
            raise RuntimeError(f"emulator {self.name!r} is not running")
        self._loop.run(server.begin_outage(mode))
        return Outage(mode, lambda: self._loop.run(server.end_outage()) if self._server is server else None)

    @property
    def token(self) -> str | None:
        return self.settings.token

    @token.setter
    def token(self, value: str | None) -> None:
        self.settings.token = value

    @property
    def bookmark_interval(self) -> float:
        return self.settings.bookmark_interval

    @bookmark_interval.setter
    def bookmark_interval(self, value: float) -> None:
        self.settings.bookmark_interval = value

    # -- kubeconfig --------------------------------------------------------------------------------

    def kubeconfig_dict(self, context: str = "emulator", user_token: str | None = None) -> dict[str, Any]:
        """A kubeconfig (as a dict) reaching this emulator over plain http.

        ``user_token``: None uses the emulator's own token (if any), ``""`` writes no credentials,
        anything else is written as the bearer token (e.g. a wrong one, to test 401 handling).
        """
        token = self.settings.token if user_token is None else user_token
        return kubeconfig.build([kubeconfig.entries(context, self.url, token)], context)

    def write_kubeconfig(
        self, path: str | Path, context: str = "emulator", user_token: str | None = None
    ) -> Path:
        """Write :meth:`kubeconfig_dict` as YAML to ``path`` and return the path."""
        return kubeconfig.dump(path, self.kubeconfig_dict(context, user_token))

    def __repr__(self) -> str:
        where = self.url if self._server is not None else "stopped"
        return f"KubeEmulator({self.name!r}, {where})"

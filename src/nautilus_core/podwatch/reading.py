"""A pod's raw JSON read once, type-checked, into what triage needs (times parsed, containers paired).

Owns :func:`read_pod` (metadata, owner, phase, conditions, timestamps, grace period, every (init)
container as a :class:`~nautilus_core.podwatch.verdict.ContainerVerdict`, spec containers without a status
included) and :func:`last_restart` (kubectl's lastRestartDate, for RESTARTS "3 (5m ago)"). Every field read
goes through :mod:`.fields`, so a bad one raises ``MalformedPod`` naming it. Called by
:mod:`nautilus_core.podwatch.triage`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, NamedTuple

from nautilus_core.db.models.podwatch import ContainerState
from nautilus_core.podstatus import MalformedPod
from nautilus_core.podwatch.fields import as_bool, as_int, as_map, as_maps, as_message, as_text, as_time, get_map
from nautilus_core.podwatch.secrets import mask_secrets
from nautilus_core.podwatch.verdict import ContainerVerdict

__all__ = ["Condition", "Container", "PodReading", "last_restart", "read_pod"]

DEFAULT_GRACE = 30  # seconds: the API server's default terminationGracePeriodSeconds


class Condition(NamedTuple):
    status: str | None
    reason: str | None
    message: str | None
    since: datetime | None  # lastTransitionTime


NO_CONDITION = Condition(None, None, None, None)


@dataclass
class Container:
    """A container status as read: its row, plus what only triage needs."""

    verdict: ContainerVerdict
    started: bool | None
    signal: int | None


@dataclass
class PodReading:
    name: str
    namespace: str | None
    uid: str | None
    created: datetime | None
    deleting: datetime | None
    grace: int
    labels: dict[str, str]
    owner_kind: str | None
    owner_name: str | None
    phase: str | None
    reason: str | None
    message: str | None
    start_time: datetime | None
    node: str | None
    conditions: dict[str, Condition]
    inits: list[Container]
    regular: list[Container]
    sidecars: set[str]
    containers: list[ContainerVerdict]

    def condition(self, kind: str) -> Condition:
        return self.conditions.get(kind, NO_CONDITION)


def _mask(text: str | None) -> str | None:
    return None if text is None else mask_secrets(text)


def _container(cs: Mapping[str, Any], field: str, init: bool, images: Mapping[str, str | None]) -> Container:
    name = as_text(cs.get("name"), f"{field}.name")
    if not name:
        raise MalformedPod(f"{field}.name")
    state = get_map(cs, "state", f"{field}.state")
    kind = reason = message = None
    exit_code = signal = None
    started_at = None
    if state.get("waiting") is not None:
        waiting = get_map(state, "waiting", f"{field}.state.waiting")
        kind = ContainerState.WAITING.value
        reason = as_text(waiting.get("reason"), f"{field}.state.waiting.reason")
        message = as_message(waiting.get("message"), f"{field}.state.waiting.message")
    elif state.get("terminated") is not None:
        term = get_map(state, "terminated", f"{field}.state.terminated")
        kind = ContainerState.TERMINATED.value
        reason = as_text(term.get("reason"), f"{field}.state.terminated.reason")
        message = as_message(term.get("message"), f"{field}.state.terminated.message")
        exit_code = as_int(term.get("exitCode"), f"{field}.state.terminated.exitCode")
        signal = as_int(term.get("signal"), f"{field}.state.terminated.signal")
        started_at = as_time(term.get("startedAt"), f"{field}.state.terminated.startedAt")
    elif state.get("running") is not None:
        running = get_map(state, "running", f"{field}.state.running")
        kind = ContainerState.RUNNING.value
        started_at = as_time(running.get("startedAt"), f"{field}.state.running.startedAt")
    last = get_map(get_map(cs, "lastState", f"{field}.lastState"), "terminated", f"{field}.lastState.terminated")
    verdict = ContainerVerdict(
        name=name,
        init=init,
        image=as_text(cs.get("image"), f"{field}.image") or images.get(name),
        ready=as_bool(cs.get("ready"), f"{field}.ready"),
        state=kind,
        reason=reason,
        message=_mask(message),
        exit_code=exit_code,
        started_at=started_at,
        restart_count=as_int(cs.get("restartCount"), f"{field}.restartCount") or 0,
        last_reason=as_text(last.get("reason"), f"{field}.lastState.terminated.reason"),
        last_message=_mask(as_message(last.get("message"), f"{field}.lastState.terminated.message")),
        last_exit_code=as_int(last.get("exitCode"), f"{field}.lastState.terminated.exitCode"),
        last_finished_at=as_time(last.get("finishedAt"), f"{field}.lastState.terminated.finishedAt"),
    )
    return Container(verdict, as_bool(cs.get("started"), f"{field}.started"), signal)


def _spec_containers(spec: Mapping[str, Any], key: str) -> list[tuple[str, str | None, bool]]:
    """(name, image, is a sidecar) of each container of ``spec[key]``."""
    out = []
    for c in as_maps(spec.get(key), f"spec.{key}"):
        name = as_text(c.get("name"), f"spec.{key}.name")
        if name is None:
            raise MalformedPod(f"spec.{key}.name")
        sidecar = as_text(c.get("restartPolicy"), f"spec.{key}.restartPolicy") == "Always"
        out.append((name, as_text(c.get("image"), f"spec.{key}.image"), sidecar))
    return out


def _owner(meta: Mapping[str, Any]) -> tuple[str | None, str | None]:
    owners = as_maps(meta.get("ownerReferences"), "metadata.ownerReferences")
    if not owners:
        return None, None
    owner = next((o for o in owners if o.get("controller") is True), owners[0])
    return (as_text(owner.get("kind"), "metadata.ownerReferences.kind"),
            as_text(owner.get("name"), "metadata.ownerReferences.name"))


def read_pod(pod: Mapping[str, Any]) -> PodReading:
    """What triage reads of ``pod``. :raises MalformedPod: a field has the wrong type (named)."""
    meta = get_map(pod, "metadata", "metadata")
    spec = get_map(pod, "spec", "spec")
    status = get_map(pod, "status", "status")
    name = as_text(meta.get("name"), "metadata.name")
    if not name:
        raise MalformedPod("metadata.name")
    grace = as_int(meta.get("deletionGracePeriodSeconds"), "metadata.deletionGracePeriodSeconds")
    if grace is None:
        grace = as_int(spec.get("terminationGracePeriodSeconds"), "spec.terminationGracePeriodSeconds")
    labels = {}
    for key, value in as_map(meta.get("labels"), "metadata.labels").items():
        if type(key) is not str or type(value) is not str:
            raise MalformedPod("metadata.labels")
        labels[key] = value
    conditions: dict[str, Condition] = {}
    for cond in as_maps(status.get("conditions"), "status.conditions"):
        kind = as_text(cond.get("type"), "status.conditions.type")
        if kind and kind not in conditions:
            conditions[kind] = Condition(
                as_text(cond.get("status"), "status.conditions.status"),
                as_text(cond.get("reason"), "status.conditions.reason"),
                as_message(cond.get("message"), "status.conditions.message"),
                as_time(cond.get("lastTransitionTime"), "status.conditions.lastTransitionTime"),
            )
    init_specs = _spec_containers(spec, "initContainers")
    regular_specs = _spec_containers(spec, "containers")
    inits = [_container(cs, "status.initContainerStatuses", True, {n: i for n, i, _ in init_specs})
             for cs in as_maps(status.get("initContainerStatuses"), "status.initContainerStatuses")]
    regular = [_container(cs, "status.containerStatuses", False, {n: i for n, i, _ in regular_specs})
               for cs in as_maps(status.get("containerStatuses"), "status.containerStatuses")]
    containers = [c.verdict for c in (*inits, *regular)]
    reported = {(v.name, v.init) for v in containers}
    for specs, init in ((init_specs, True), (regular_specs, False)):
        for cname, image, _ in specs:
            if (cname, init) not in reported:
                containers.append(ContainerVerdict(cname, init, image, None, None, None, None, None, None, 0,
                                                   None, None, None, None))
    owner_kind, owner_name = _owner(meta)
    return PodReading(
        name=name,
        namespace=as_text(meta.get("namespace"), "metadata.namespace"),
        uid=as_text(meta.get("uid"), "metadata.uid"),
        created=as_time(meta.get("creationTimestamp"), "metadata.creationTimestamp"),
        deleting=as_time(meta.get("deletionTimestamp"), "metadata.deletionTimestamp"),
        grace=DEFAULT_GRACE if grace is None else grace,
        labels=labels,
        owner_kind=owner_kind,
        owner_name=owner_name,
        phase=as_text(status.get("phase"), "status.phase"),
        reason=as_text(status.get("reason"), "status.reason"),
        message=_mask(as_message(status.get("message"), "status.message")),
        start_time=as_time(status.get("startTime"), "status.startTime"),
        node=as_text(spec.get("nodeName"), "spec.nodeName"),
        conditions=conditions,
        inits=inits,
        regular=regular,
        sidecars={n for n, _, sidecar in init_specs if sidecar},
        containers=containers,
    )


def _latest(*times: datetime | None) -> datetime | None:
    present = [t for t in times if t is not None]
    return max(present) if present else None


def last_restart(pod: PodReading, initializing: bool) -> datetime | None:
    """kubectl's lastRestartDate: the newest ``lastState.terminated.finishedAt`` of the init containers up
    to the one that holds initialization, or, once initialized (or not ``initializing``, kubectl's flag), of
    those init containers that are sidecars and every regular container."""
    visited = sidecar_last = None
    for c in pod.inits:
        v = c.verdict
        visited = _latest(visited, v.last_finished_at)
        if v.name in pod.sidecars:
            sidecar_last = _latest(sidecar_last, v.last_finished_at)
        if v.state == ContainerState.TERMINATED.value and v.exit_code == 0:
            continue
        if v.name in pod.sidecars and c.started:
            continue
        break
    if initializing and pod.condition("Initialized").status != "True":
        return visited
    return _latest(sidecar_last, *(c.verdict.last_finished_at for c in pod.regular))

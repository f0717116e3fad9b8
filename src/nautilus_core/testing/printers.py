"""Per-kind printers of the API emulator's server-side tables: the columns kubectl shows per kind.

Owns the column definitions and cell values the real server's printers produce for the built-in
kinds (pods from :mod:`nautilus_core.podstatus`, deployments, statefulsets, replicasets, services,
nodes, namespaces, jobs, cronjobs, configmaps, secrets, CRDs) and kubectl's short ages. Used by
``tables.py``, which builds the ``Table`` answers.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from nautilus_core.podstatus import human_duration, pod_status

Obj = dict[str, Any]
Column = tuple[str, str, str, int]  # name, type, description, priority
NAME_COLUMN: Column = ("Name", "string", "Name must be unique within a namespace.", 0)
AGE_COLUMN: Column = ("Age", "string", "CreationTimestamp is a timestamp representing the server time.", 0)


def _time(timestamp: Any) -> datetime | None:
    if not isinstance(timestamp, str) or not timestamp:
        return None
    try:
        return datetime.fromisoformat(timestamp.replace("Z", "+00:00"))
    except ValueError:
        return None


def since(timestamp: Any, now: datetime) -> str:
    then = _time(timestamp)
    return "<unknown>" if then is None else human_duration((now - then).total_seconds())


def age(obj: Obj, now: datetime) -> str:
    return since(obj["metadata"].get("creationTimestamp"), now)


def _containers(obj: Obj) -> list[Obj]:
    template = (obj.get("spec") or {}).get("template") or {}
    if (obj.get("kind")) == "CronJob":
        template = ((obj.get("spec") or {}).get("jobTemplate") or {}).get("spec", {}).get("template") or {}
    return list((template.get("spec") or {}).get("containers") or [])


def _names(items: list[Obj], key: str) -> str:
    return ",".join(str(item.get(key, "")) for item in items) or "<none>"


def _selector(obj: Obj) -> str:
    selector = (obj.get("spec") or {}).get("selector") or {}
    labels = (
        selector.get("matchLabels")
        if "matchLabels" in selector or "matchExpressions" in selector
        else selector
    )
    parts = [f"{k}={v}" for k, v in sorted((labels or {}).items())]
    for expr in selector.get("matchExpressions") or []:
        values = ",".join(expr.get("values") or [])
        parts.append(f"{expr.get('key')} {str(expr.get('operator', '')).lower()} ({values})")
    return ",".join(parts) or "<none>"


# -- per-kind printers ----------------------------------------------------------------------------------


def _pod(obj: Obj, now: datetime) -> list[Any]:
    state = pod_status(obj)
    status = obj.get("status") or {}
    finished = [
        ((c.get("lastState") or {}).get("terminated") or {}).get("finishedAt")
        for c in [*(status.get("initContainerStatuses") or []), *(status.get("containerStatuses") or [])]
    ]
    latest = max((f for f in finished if isinstance(f, str)), default=None)
    restarts = (
        f"{state.restarts} ({since(latest, now)} ago)" if latest and state.restarts else str(state.restarts)
    )
    spec = obj.get("spec") or {}
    gates = spec.get("readinessGates") or []
    conditions = {c.get("type"): c.get("status") for c in status.get("conditions") or []}
    ready_gates = sum(1 for g in gates if conditions.get(g.get("conditionType")) == "True")
    return [
        state.ready_text,
        state.status,
        restarts,
        age(obj, now),
        status.get("podIP") or "<none>",
        spec.get("nodeName") or "<none>",
        status.get("nominatedNodeName") or "<none>",
        f"{ready_gates}/{len(gates)}" if gates else "<none>",
    ]


_POD_COLUMNS: list[Column] = [
    ("Ready", "string", "The aggregate readiness state of this pod for accepting traffic.", 0),
    ("Status", "string", "The aggregate status of the containers in this pod.", 0),
    ("Restarts", "string", "The number of times the containers in this pod have been restarted.", 0),
    AGE_COLUMN,
    ("IP", "string", "IP address allocated to the pod.", 1),
    ("Node", "string", "Name of the Node this pod runs on.", 1),
    ("Nominated Node", "string", "Name of the node the scheduler nominated for the pod.", 1),
    ("Readiness Gates", "string", "Pod readiness gates.", 1),
]
_WORKLOAD_WIDE: list[Column] = [
    ("Containers", "string", "Names of each container in the template.", 1),
    ("Images", "string", "Images referenced by each container in the template.", 1),
]


def _deployment(obj: Obj, now: datetime) -> list[Any]:
    spec, status = obj.get("spec") or {}, obj.get("status") or {}
    containers = _containers(obj)
    return [
        f"{status.get('readyReplicas', 0)}/{spec.get('replicas', 0)}",
        status.get("updatedReplicas", 0),
        status.get("availableReplicas", 0),
        age(obj, now),
        _names(containers, "name"),
        _names(containers, "image"),
        _selector(obj),
    ]


def _statefulset(obj: Obj, now: datetime) -> list[Any]:
    spec, status = obj.get("spec") or {}, obj.get("status") or {}
    containers = _containers(obj)
    return [
        f"{status.get('readyReplicas', 0)}/{spec.get('replicas', 0)}",
        age(obj, now),
        _names(containers, "name"),
        _names(containers, "image"),
    ]


def _replicaset(obj: Obj, now: datetime) -> list[Any]:
    spec, status = obj.get("spec") or {}, obj.get("status") or {}
    containers = _containers(obj)
    return [
        spec.get("replicas", 0),
        status.get("replicas", 0),
        status.get("readyReplicas", 0),
        age(obj, now),
        _names(containers, "name"),
        _names(containers, "image"),
        _selector(obj),
    ]


def _service(obj: Obj, now: datetime) -> list[Any]:
    spec, status = obj.get("spec") or {}, obj.get("status") or {}
    kind = spec.get("type") or "ClusterIP"
    external = list(spec.get("externalIPs") or [])
    if kind == "LoadBalancer":
        ingress = (status.get("loadBalancer") or {}).get("ingress") or []
        external += [i.get("ip") or i.get("hostname") for i in ingress if i.get("ip") or i.get("hostname")]
        shown_external = ",".join(external) or "<pending>"
    elif kind == "ExternalName":
        shown_external = spec.get("externalName") or "<none>"
    else:
        shown_external = ",".join(external) or "<none>"
    ports = []
    for port in spec.get("ports") or []:
        node_port = f":{port['nodePort']}" if port.get("nodePort") else ""
        ports.append(f"{port.get('port')}{node_port}/{port.get('protocol', 'TCP')}")
    selector = spec.get("selector") or {}
    return [
        kind,
        spec.get("clusterIP") or "<none>",
        shown_external,
        ",".join(ports) or "<none>",
        age(obj, now),
        ",".join(f"{k}={v}" for k, v in sorted(selector.items())) or "<none>",
    ]


def _node(obj: Obj, now: datetime) -> list[Any]:
    spec, status = obj.get("spec") or {}, obj.get("status") or {}
    ready = next((c for c in status.get("conditions") or [] if c.get("type") == "Ready"), None)
    shown = (
        "Unknown"
        if ready is None
        else {"True": "Ready", "False": "NotReady"}.get(ready.get("status"), "Unknown")
    )
    if spec.get("unschedulable"):
        shown += ",SchedulingDisabled"
    labels = obj["metadata"].get("labels") or {}
    roles = sorted(key.split("/", 1)[1] for key in labels if key.startswith("node-role.kubernetes.io/"))
    if labels.get("kubernetes.io/role"):
        roles.append(labels["kubernetes.io/role"])
    addresses = {a.get("type"): a.get("address") for a in status.get("addresses") or []}
    info = status.get("nodeInfo") or {}
    return [
        shown,
        ",".join(roles) or "<none>",
        age(obj, now),
        info.get("kubeletVersion") or "",
        addresses.get("InternalIP") or "<none>",
        addresses.get("ExternalIP") or "<none>",
        info.get("osImage") or "<unknown>",
        info.get("kernelVersion") or "<unknown>",
        info.get("containerRuntimeVersion") or "<unknown>",
    ]


def _job(obj: Obj, now: datetime) -> list[Any]:
    spec, status = obj.get("spec") or {}, obj.get("status") or {}
    conditions = {c.get("type"): c.get("status") for c in status.get("conditions") or []}
    shown = "Running"
    for kind, text in (("Complete", "Complete"), ("Failed", "Failed"), ("Suspended", "Suspended")):
        if conditions.get(kind) == "True":
            shown = text
            break
    completions = spec.get("completions")
    done = f"{status.get('succeeded', 0)}/{completions if completions is not None else 1}"
    containers = _containers(obj)
    started, finished = _time(status.get("startTime")), _time(status.get("completionTime"))
    duration = "" if started is None else human_duration(((finished or now) - started).total_seconds())
    return [
        shown,
        done,
        duration,
        age(obj, now),
        _names(containers, "name"),
        _names(containers, "image"),
        _selector(obj),
    ]


def _cronjob(obj: Obj, now: datetime) -> list[Any]:
    spec, status = obj.get("spec") or {}, obj.get("status") or {}
    last = status.get("lastScheduleTime")
    return [
        spec.get("schedule", ""),
        spec.get("timeZone") or "<none>",
        bool(spec.get("suspend", False)),
        len(status.get("active") or []),
        since(last, now) if last else "<none>",
        age(obj, now),
    ]


def _data(obj: Obj, now: datetime) -> list[Any]:
    count = len(obj.get("data") or {}) + len(obj.get("binaryData") or obj.get("stringData") or {})
    if obj.get("kind") == "Secret":
        return [obj.get("type") or "Opaque", count, age(obj, now)]
    return [count, age(obj, now)]


Printer = tuple[list[Column], Callable[[Obj, datetime], list[Any]]]
PRINTERS: dict[tuple[str, str], Printer] = {
    ("", "Pod"): (_POD_COLUMNS, _pod),
    ("apps", "Deployment"): (
        [
            ("Ready", "string", "Number of the pod with ready state", 0),
            ("Up-to-date", "integer", "Total number of non-terminated pods with the desired template.", 0),
            ("Available", "integer", "Total number of available pods.", 0),
            AGE_COLUMN,
            *_WORKLOAD_WIDE,
            ("Selector", "string", "Label selector for pods.", 1),
        ],
        _deployment,
    ),
    ("apps", "StatefulSet"): (
        [("Ready", "string", "Number of the pod with ready state", 0), AGE_COLUMN, *_WORKLOAD_WIDE],
        _statefulset,
    ),
    ("apps", "ReplicaSet"): (
        [
            ("Desired", "integer", "Number of desired pods.", 0),
            ("Current", "integer", "Number of actual replicas.", 0),
            ("Ready", "integer", "Number of ready replicas.", 0),
            AGE_COLUMN,
            *_WORKLOAD_WIDE,
            ("Selector", "string", "Label selector for pods.", 1),
        ],
        _replicaset,
    ),
    ("", "Service"): (
        [
            ("Type", "string", "The type of the service.", 0),
            ("Cluster-IP", "string", "The IP address of the service.", 0),
            ("External-IP", "string", "External IP addresses of the service.", 0),
            ("Port(s)", "string", "The ports of the service.", 0),
            AGE_COLUMN,
            ("Selector", "string", "Label selector of the service.", 1),
        ],
        _service,
    ),
    ("", "Node"): (
        [
            ("Status", "string", "The status of the node", 0),
            ("Roles", "string", "The roles of the node", 0),
            AGE_COLUMN,
            ("Version", "string", "Kubelet Version reported by the node.", 0),
            ("Internal-IP", "string", "Internal IP of the node.", 1),
            ("External-IP", "string", "External IP of the node.", 1),
            ("OS-Image", "string", "OS Image reported by the node.", 1),
            ("Kernel-Version", "string", "Kernel Version reported by the node.", 1),
            ("Container-Runtime", "string", "Container Runtime Version reported by the node.", 1),
        ],
        _node,
    ),
    ("", "Namespace"): (
        [("Status", "string", "The status of the namespace", 0), AGE_COLUMN],
        lambda obj, now: [(obj.get("status") or {}).get("phase", ""), age(obj, now)],
    ),
    ("batch", "Job"): (
        [
            ("Status", "string", "Status of the job.", 0),
            ("Completions", "string", "The completion status of the job.", 0),
            ("Duration", "string", "Time elapsed between the start and end of the job.", 0),
            AGE_COLUMN,
            *_WORKLOAD_WIDE,
            ("Selector", "string", "Label selector for pods.", 1),
        ],
        _job,
    ),
    ("batch", "CronJob"): (
        [
            ("Schedule", "string", "The schedule for running the job.", 0),
            ("Timezone", "string", "The time zone of the schedule.", 0),
            ("Suspend", "boolean", "Whether the cron job is suspended.", 0),
            ("Active", "integer", "The number of running jobs.", 0),
            ("Last Schedule", "string", "When the job was last scheduled.", 0),
            AGE_COLUMN,
        ],
        _cronjob,
    ),
    ("", "ConfigMap"): ([("Data", "integer", "The number of data entries.", 0), AGE_COLUMN], _data),
    ("", "Secret"): (
        [
            ("Type", "string", "The type of the secret", 0),
            ("Data", "integer", "The number of data entries.", 0),
            AGE_COLUMN,
        ],
        _data,
    ),
    ("apiextensions.k8s.io", "CustomResourceDefinition"): (
        [("Created At", "date", "When the CRD was created.", 0)],
        lambda obj, now: [obj["metadata"].get("creationTimestamp", "")],
    ),
}

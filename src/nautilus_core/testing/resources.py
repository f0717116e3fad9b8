"""The resource types the API emulator serves, and how they are looked up.

Owns :class:`ResourceType` (group, version, plural, kind, scope, subresources and the few behaviours
that differ per resource: storage version, scale paths and printer columns of CRD-served resources)
and the built-in table (core v1, apps/v1, batch/v1, rbac.authorization.k8s.io/v1, policy/v1,
networking.k8s.io/v1, autoscaling/v2, storage.k8s.io/v1, events.k8s.io/v1, coordination.k8s.io/v1,
apiextensions.k8s.io/v1). A URL of any other resource answers 404 like the real server. The store
(``store.py``) keys objects by resource type, the HTTP layer (``handlers.py``) routes URLs to them and
publishes them for discovery; ``KubeEmulator.add_resource`` adds custom resources at runtime.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

ResourceKey = tuple[str, str, str]  # (group, version, plural)

_VERBS = ("create", "delete", "deletecollection", "get", "list", "patch", "update", "watch")
_VERSION_RE = re.compile(r"^v(\d+)(?:(alpha|beta)(\d+))?$")


@dataclass(frozen=True)
class ResourceType:
    """One served resource: what the URL says (group/version/plural) and how objects behave."""

    group: str
    version: str
    plural: str
    kind: str
    namespaced: bool = True
    subresources: frozenset[str] = field(default_factory=frozenset)
    # metadata.generation is bumped on spec changes (apps/v1 workloads, custom resources).
    generation: bool = False
    # DELETE answers the deleted object (pods, namespaces, custom resources) or a Success Status.
    delete_returns_object: bool = False
    singular: str = ""
    short_names: tuple[str, ...] = ()
    # Custom resources served in several versions share the objects of their storage version.
    storage: str = ""
    # The scale subresource of a custom resource: (specReplicasPath, statusReplicasPath, labelSelectorPath).
    scale_paths: tuple[str, str, str] | None = None
    # additionalPrinterColumns of a custom resource: (name, type, format, description, priority, jsonPath).
    columns: tuple[tuple[str, str, str, str, int, str], ...] = ()
    # Discovery categories (``kubectl get all`` lists the resources in "all").
    categories: tuple[str, ...] = ()

    @property
    def key(self) -> ResourceKey:
        return (self.group, self.version, self.plural)

    @property
    def store_key(self) -> ResourceKey:
        """Where the objects live: the storage version's key (the same as ``key`` for built-ins)."""
        return (self.group, self.storage or self.version, self.plural)

    @property
    def api_version(self) -> str:
        return f"{self.group}/{self.version}" if self.group else self.version

    @property
    def list_kind(self) -> str:
        return f"{self.kind}List"

    @property
    def verbs(self) -> tuple[str, ...]:
        return _VERBS

    def describe(self) -> str:
        return f"{self.plural}.{self.group}" if self.group else self.plural


def _core(
    plural: str,
    kind: str,
    namespaced: bool = True,
    subresources: tuple[str, ...] = (),
    short: tuple[str, ...] = (),
    returns_object: bool = False,
) -> ResourceType:
    return ResourceType(
        "",
        "v1",
        plural,
        kind,
        namespaced,
        frozenset(subresources),
        False,
        returns_object,
        kind.lower(),
        short,
    )


def _apps(plural: str, kind: str, short: tuple[str, ...]) -> ResourceType:
    return ResourceType(
        "apps", "v1", plural, kind, True, frozenset({"status", "scale"}), True, False, kind.lower(), short
    )


def _group(
    group: str,
    version: str,
    plural: str,
    kind: str,
    namespaced: bool = True,
    subresources: tuple[str, ...] = (),
    short: tuple[str, ...] = (),
    generation: bool = True,
    returns_object: bool = False,
) -> ResourceType:
    return ResourceType(
        group,
        version,
        plural,
        kind,
        namespaced,
        frozenset(subresources),
        generation,
        returns_object,
        kind.lower(),
        short,
    )


BUILTIN_RESOURCES: tuple[ResourceType, ...] = (
    _core(
        "namespaces",
        "Namespace",
        namespaced=False,
        subresources=("status", "finalize"),
        short=("ns",),
        returns_object=True,
    ),
    _core("pods", "Pod", subresources=("status", "log"), short=("po",), returns_object=True),
    _core("services", "Service", subresources=("status",), short=("svc",), returns_object=True),
    _core("nodes", "Node", namespaced=False, subresources=("status",), short=("no",)),
    _core("configmaps", "ConfigMap", short=("cm",)),
    _core("secrets", "Secret"),
    _core("events", "Event", short=("ev",)),
    _core(
        "persistentvolumeclaims",
        "PersistentVolumeClaim",
        subresources=("status",),
        short=("pvc",),
        returns_object=True,
    ),
    _apps("deployments", "Deployment", ("deploy",)),
    _apps("statefulsets", "StatefulSet", ("sts",)),
    _apps("replicasets", "ReplicaSet", ("rs",)),
    ResourceType("coordination.k8s.io", "v1", "leases", "Lease", True, frozenset(), False, False, "lease"),
    # Added for the workloads, RBAC and policy objects operators and manifests use (issue 9, item 7).
    _core("serviceaccounts", "ServiceAccount", short=("sa",), returns_object=True),
    _core(
        "persistentvolumes",
        "PersistentVolume",
        namespaced=False,
        subresources=("status",),
        short=("pv",),
        returns_object=True,
    ),
    _core("endpoints", "Endpoints", short=("ep",)),
    _core("resourcequotas", "ResourceQuota", subresources=("status",), short=("quota",), returns_object=True),
    _apps("daemonsets", "DaemonSet", ("ds",)),
    _group("batch", "v1", "jobs", "Job", subresources=("status",)),
    _group("batch", "v1", "cronjobs", "CronJob", subresources=("status",), short=("cj",)),
    _group("rbac.authorization.k8s.io", "v1", "roles", "Role", generation=False),
    _group("rbac.authorization.k8s.io", "v1", "rolebindings", "RoleBinding", generation=False),
    _group(
        "rbac.authorization.k8s.io", "v1", "clusterroles", "ClusterRole", namespaced=False, generation=False
    ),
    _group(
        "rbac.authorization.k8s.io",
        "v1",
        "clusterrolebindings",
        "ClusterRoleBinding",
        namespaced=False,
        generation=False,
    ),
    _group("events.k8s.io", "v1", "events", "Event", short=("ev",), generation=False),
    _group(
        "policy",
        "v1",
        "poddisruptionbudgets",
        "PodDisruptionBudget",
        subresources=("status",),
        short=("pdb",),
    ),
    _group("networking.k8s.io", "v1", "ingresses", "Ingress", subresources=("status",), short=("ing",)),
    _group("networking.k8s.io", "v1", "networkpolicies", "NetworkPolicy", short=("netpol",)),
    _group(
        "autoscaling",
        "v2",
        "horizontalpodautoscalers",
        "HorizontalPodAutoscaler",
        subresources=("status",),
        short=("hpa",),
    ),
    _group(
        "storage.k8s.io",
        "v1",
        "storageclasses",
        "StorageClass",
        namespaced=False,
        short=("sc",),
        generation=False,
        returns_object=True,
    ),
    # Served so that CRDs work; see crd.py for CRD semantics.
    _group(
        "apiextensions.k8s.io",
        "v1",
        "customresourcedefinitions",
        "CustomResourceDefinition",
        namespaced=False,
        subresources=("status",),
        short=("crd", "crds"),
        generation=True,
    ),
)


def custom_resource(
    group: str,
    version: str,
    plural: str,
    kind: str,
    namespaced: bool = True,
    subresources: tuple[str, ...] | frozenset[str] = ("status",),
    short_names: tuple[str, ...] = (),
) -> ResourceType:
    """A custom resource as a CRD would declare it; generation is bumped on any non-metadata change."""
    if not group or not version or not plural or not kind:
        raise ValueError("group, version, plural and kind are all required for a custom resource")
    if plural != plural.lower():
        raise ValueError(f"the plural name must be lowercase: {plural!r}")
    unknown = set(subresources) - {"status", "scale"}
    if unknown:
        raise ValueError(f"custom resources support only the status and scale subresources, not {unknown}")
    return _group(group, version, plural, kind, namespaced, tuple(subresources), tuple(short_names),
                  generation=True, returns_object=True)


def version_priority(version: str) -> tuple[int, int, int, str]:
    """Sort key putting the version Kubernetes prefers first: v2 > v1 > v1beta2 > v1beta1 > v1alpha1 > x."""
    match = _VERSION_RE.match(version)
    if match is None:
        return (3, 0, 0, version)
    major, level, minor = match.groups()
    rank = {None: 0, "beta": 1, "alpha": 2}[level]
    return (rank, -int(major), -int(minor or 0), version)


def split_api_version(api_version: str) -> tuple[str, str]:
    """``"apps/v1"`` -> ``("apps", "v1")``; ``"v1"`` -> ``("", "v1")``."""
    group, _, version = api_version.rpartition("/")
    return group, version

"""The only package that talks to the Kubernetes API (import-linter enforces it).

``connect`` builds a :class:`KubeClient`; ``Watcher`` lists and watches like an informer;
``status`` derives kubectl's pod STATUS. Errors are this package's own (``kube.errors``).
"""

from nautilus_core.kube.client import KubeClient, Page, resource_path
from nautilus_core.kube.connect import (
    KubeContext,
    connect,
    decode_ca,
    kubeconfig_path,
    list_contexts,
    read_kubeconfig,
)
from nautilus_core.kube.errors import (
    Conflict,
    Gone,
    KubeApiError,
    KubeTransientError,
    NotFound,
    Unauthorized,
)
from nautilus_core.kube.lease import LeaderElector
from nautilus_core.kube.retry import RetryPolicy
from nautilus_core.kube.watch import Watcher, WatchEvent

__all__ = [
    "Conflict",
    "Gone",
    "KubeApiError",
    "KubeClient",
    "KubeContext",
    "KubeTransientError",
    "LeaderElector",
    "NotFound",
    "Page",
    "RetryPolicy",
    "Unauthorized",
    "WatchEvent",
    "Watcher",
    "connect",
    "decode_ca",
    "kubeconfig_path",
    "list_contexts",
    "read_kubeconfig",
    "resource_path",
]

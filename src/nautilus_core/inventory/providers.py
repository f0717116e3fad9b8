"""Built-in cluster providers: every context of a kubeconfig file, and the cluster we run in.

Registered by ``inventory.builtin``; called by the inventory pipeline (``discover``/``connect``).
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING

from nautilus_core.errors import PartialDiscovery
from nautilus_core.types import ClusterRef

if TYPE_CHECKING:  # kube/ imports ``kubernetes`` (0.2-0.3 s): loaded when a provider does work
    from nautilus_core.kube import KubeClient


class KubeconfigProvider:
    """Each context of the kubeconfig file(s) is a cluster named after the context.

    ``KUBECONFIG`` may list several files (``a:b``); like kubectl, the first file defining a
    context wins. Unlike kubectl, a listed file that is missing is an error (its clusters would
    otherwise look deleted). ``contexts`` restricts discovery to those names.
    """

    name = "kubeconfig"

    def __init__(self, kubeconfig: str | None = None, contexts: Sequence[str] | None = None,
                 name: str = "kubeconfig") -> None:
        self.name = name
        self.kubeconfig = str(kubeconfig) if kubeconfig else None
        self.contexts = list(contexts) if contexts else None

    def _files(self) -> list[str]:
        from nautilus_core.config import kube_settings

        raw = self.kubeconfig or kube_settings().kubeconfig or os.path.expanduser("~/.kube/config")
        return [os.path.expanduser(p) for p in raw.split(os.pathsep) if p]

    def discover(self) -> Iterable[ClusterRef]:
        """The contexts of every file; a file that is missing or malformed makes the answer partial
        (:class:`PartialDiscovery` naming the file): the other files' clusters are synced and no
        cluster of this provider is tombstoned in this run."""
        from nautilus_core.errors import ConfigError
        from nautilus_core.kube import list_contexts

        seen: set[str] = set()
        out = []
        problems: list[str] = []
        for file in self._files():
            try:
                contexts = list_contexts(file)
            except ConfigError as exc:
                problems.append(str(exc))
                continue
            for ctx in contexts:
                if ctx.name in seen or (self.contexts and ctx.name not in self.contexts):
                    continue
                seen.add(ctx.name)
                out.append(ClusterRef(
                    provider=self.name, name=ctx.name, endpoint=ctx.server or None,
                    labels={"kubeconfig.cluster": ctx.cluster} if ctx.cluster else {},
                    extra={"kubeconfig": file, "context": ctx.name},
                ))
        if problems:
            raise PartialDiscovery(out, problems)
        return out

    def connect(self, cluster: ClusterRef) -> KubeClient:
        from nautilus_core.kube import connect

        return connect(kubeconfig=cluster.extra.get("kubeconfig"), context=cluster.extra.get("context"),
                       name=cluster.key)


class InClusterProvider:
    """The cluster Nautilus runs in (service account token), when it runs in a pod."""

    name = "in-cluster"

    def discover(self) -> Iterable[ClusterRef]:
        from nautilus_core.config import kube_settings

        settings = kube_settings()  # KUBERNETES_SERVICE_HOST/PORT, NAUTILUS_CLUSTER_NAME
        if not settings.kubernetes_service_host:
            return []
        return [ClusterRef(provider=self.name, name=settings.nautilus_cluster_name,
                           endpoint=f"https://{settings.kubernetes_service_host}:{settings.kubernetes_service_port}")]

    def connect(self, cluster: ClusterRef) -> KubeClient:
        from nautilus_core.kube import connect

        return connect(in_cluster=True, name=cluster.key)

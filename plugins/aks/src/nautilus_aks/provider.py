"""``AksProvider``: discovers AKS managed clusters and opens Kubernetes clients to them.

Registered by :mod:`nautilus_aks.plugin`; the inventory pipeline calls ``discover()`` and
``connect()``. Configuration comes from the environment, read when the provider first does work:

- ``NAUTILUS_AKS_SUBSCRIPTIONS``: comma-separated subscription ids (required);
- ``NAUTILUS_AKS_ENDPOINT``: another Azure Resource Manager URL (``http://127.0.0.1:PORT`` in tests);
- the ``AZURE_*`` variables that ``DefaultAzureCredential`` reads.

Cluster API servers are called with an Entra ID token for the AKS server application; the CA
comes from the cluster's user kubeconfig (read at connect time, only its CA is kept). The Azure
SDK is imported lazily: loading the plugin does no I/O.
"""

from __future__ import annotations

import base64
import binascii
import re
import threading
import time
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any

import structlog

from nautilus_aks.errors import PROVIDER, azure_errors
from nautilus_aks.settings import AksSettings
from nautilus_core import ClusterRef, ConfigError, PartialDiscovery, PermanentError
from nautilus_core.config import load_section

if TYPE_CHECKING:
    from nautilus_core.kube.client import KubeClient

log = structlog.get_logger(__name__)

SUBSCRIPTIONS_ENV = "NAUTILUS_AKS_SUBSCRIPTIONS"
ENDPOINT_ENV = "NAUTILUS_AKS_ENDPOINT"
#: The Entra ID application of every AKS API server ("Azure Kubernetes Service AAD Server").
AKS_SERVER_SCOPE = "6dae42f8-4368-4678-94ff-3960e28e3630/.default"
#: Ask for a new cluster token this long before the current one expires.
TOKEN_MARGIN_SECONDS = 300.0
_RESOURCE_GROUP = re.compile(r"/resourceGroups/([^/]+)/", re.I)


def resource_group(resource_id: str | None) -> str | None:
    """The resource group named in an ARM resource id."""
    match = _RESOURCE_GROUP.search(resource_id or "")
    return match.group(1) if match else None


class AksProvider:
    """AKS managed clusters of one or more subscriptions."""

    name = PROVIDER

    def __init__(self, *, subscriptions: Sequence[str] | None = None, endpoint: str | None = None,
                 credential: Any = None, retry_total: int | None = None) -> None:
        """All arguments are optional; ``None`` means "read the environment on first use".

        :param credential: an ``azure.core`` TokenCredential instead of ``DefaultAzureCredential``.
        :param retry_total: retries of the ARM client (tests pass 0).
        """
        self._subscriptions = list(subscriptions) if subscriptions is not None else None
        self._endpoint = endpoint
        self._credential = credential
        self._retry_total = retry_total
        self._lock = threading.Lock()
        self._clients: dict[str, Any] = {}
        self._token: tuple[str, float] | None = None

    def __repr__(self) -> str:
        return "AksProvider()"

    # ------------------------------------------------------------------ configuration

    def subscriptions(self) -> list[str]:
        subs = self._subscriptions
        if subs is None:
            subs = load_section(AksSettings).subscriptions
        if not subs:
            raise ConfigError(f"{PROVIDER}: no subscription to scan: set {SUBSCRIPTIONS_ENV} to a "
                              "comma-separated list of Azure subscription ids")
        return list(dict.fromkeys(subs))

    def endpoint(self) -> str | None:
        return self._endpoint or load_section(AksSettings).endpoint or None

    def credential(self) -> Any:
        """The credential in use (``DefaultAzureCredential`` unless configured)."""
        with self._lock:
            if self._credential is None:
                from azure.identity import DefaultAzureCredential

                self._credential = DefaultAzureCredential()
            return self._credential

    def client(self, subscription: str) -> Any:
        """The ``ContainerServiceClient`` of one subscription, built on first use."""
        credential = self.credential()
        with self._lock:
            if subscription not in self._clients:
                from azure.mgmt.containerservice import ContainerServiceClient

                kwargs: dict[str, Any] = {}
                if self.endpoint():
                    kwargs["base_url"] = self.endpoint()
                if self._retry_total is not None:
                    kwargs["retry_total"] = self._retry_total
                self._clients[subscription] = ContainerServiceClient(credential, subscription, **kwargs)
            return self._clients[subscription]

    def _call_options(self) -> dict[str, Any]:
        """Per-call options: bearer tokens over plain http only to an explicitly configured endpoint."""
        endpoint = self.endpoint()
        return {"enforce_https": False} if endpoint and endpoint.startswith("http://") else {}

    # ------------------------------------------------------------------ discover

    def discover(self) -> Iterable[ClusterRef]:
        """Every managed cluster of every configured subscription.

        Raises :class:`~nautilus_core.TransientError` / :class:`~nautilus_core.PermanentError` if a
        subscription cannot be listed. A cluster without a name, resource group or FQDN is skipped
        with a warning, and the answer is then partial: :class:`~nautilus_core.PartialDiscovery`
        carries the other clusters.
        """
        refs: list[ClusterRef] = []
        skipped: list[str] = []
        for subscription in self.subscriptions():
            client = self.client(subscription)
            with azure_errors("listing managed clusters", subscription=subscription):
                clusters = list(client.managed_clusters.list(**self._call_options()))
            found = [cluster_ref(mc, subscription=subscription) for mc in clusters]
            refs.extend(sorted((r for r in found if r is not None), key=lambda r: (r.location, r.name)))
            skipped += [f"{PROVIDER}: subscription {subscription}: cluster "
                        f"{getattr(mc, 'name', None) or '<without a name>'} is malformed (no name, id or FQDN)"
                        for mc, r in zip(clusters, found, strict=True) if r is None]
        if skipped:  # those clusters exist: the answer is partial, so nothing may be tombstoned
            raise PartialDiscovery(refs, skipped)
        return refs

    # ------------------------------------------------------------------ connect

    def token(self) -> str:
        """An Entra ID token for AKS API servers (renewed 5 minutes before it expires)."""
        with self._lock:
            if self._token is not None and self._token[1] - TOKEN_MARGIN_SECONDS > time.time():
                return self._token[0]
        subscriptions = ",".join(self._subscriptions or load_section(AksSettings).subscriptions) or "?"
        credential = self.credential()
        with azure_errors("requesting a cluster token", subscription=subscriptions):
            answer = credential.get_token(AKS_SERVER_SCOPE)
        with self._lock:
            self._token = (answer.token, float(answer.expires_on))
        return str(answer.token)

    def ca_pem(self, cluster: ClusterRef) -> str:
        """The cluster CA (PEM) from the cluster's user kubeconfig; nothing else of it is kept."""
        group = cluster.extra.get("resource_group")
        if not group:
            raise PermanentError(f"{PROVIDER}: cluster {cluster.key} has no resource group")
        with azure_errors(f"reading the user kubeconfig of cluster {cluster.name}",
                          subscription=cluster.account, location=cluster.location):
            answer = self.client(cluster.account).managed_clusters.list_cluster_user_credentials(
                group, cluster.name, **self._call_options())
        configs = [c.value for c in (answer.kubeconfigs or []) if c.value]
        pem = _ca_from_kubeconfig(configs[0]) if configs else None
        if pem is None:
            raise PermanentError(f"{PROVIDER}: the user kubeconfig of cluster {cluster.key} has no "
                                 "certificate-authority-data")
        return pem

    def connect(self, cluster: ClusterRef) -> KubeClient:
        """A client for the cluster's API server, authenticated with Entra ID tokens."""
        from nautilus_core.kube import connect

        if not cluster.endpoint:
            raise PermanentError(f"{PROVIDER}: cluster {cluster.key} has no API endpoint "
                                 f"(status {cluster.status or '?'})")
        ca = self.ca_pem(cluster) if cluster.endpoint.startswith("https://") else None
        return connect(host=cluster.endpoint, ca_data=ca, token_provider=self.token, name=cluster.key)


def _ca_from_kubeconfig(raw: bytes | bytearray | str) -> str | None:
    """``certificate-authority-data`` of the first cluster of a kubeconfig, as PEM text."""
    import yaml

    text = raw.decode("utf-8", "replace") if isinstance(raw, (bytes, bytearray)) else raw
    try:
        doc = yaml.safe_load(text)
        data = doc["clusters"][0]["cluster"]["certificate-authority-data"]
        pem = base64.b64decode(data, validate=True).decode("ascii")
    except (yaml.YAMLError, KeyError, IndexError, TypeError, binascii.Error, UnicodeDecodeError, ValueError):
        return None
    return pem if "-----BEGIN CERTIFICATE-----" in pem else None


def _text(value: Any) -> str | None:
    """A model value as text: enums give their wire value ("Running", not "Code.RUNNING")."""
    value = getattr(value, "value", value)
    return str(value) if value not in (None, "") else None


def _status(mc: Any) -> str | None:
    provisioning = _text(getattr(mc, "provisioning_state", None))
    power = _text(getattr(getattr(mc, "power_state", None), "code", None))
    if power and provisioning in (None, "Succeeded"):
        return power
    return provisioning


def cluster_ref(mc: Any, *, subscription: str) -> ClusterRef | None:
    """A :class:`ClusterRef` from a ``ManagedCluster`` model, or ``None`` with a warning if malformed."""
    name = getattr(mc, "name", None)
    resource_id = getattr(mc, "id", None)
    location = getattr(mc, "location", None) or ""
    group = resource_group(resource_id)
    fqdn = getattr(mc, "fqdn", None) or getattr(mc, "private_fqdn", None)
    status = _status(mc)
    problem = "name" if not name else "id" if not group else None
    if problem is None and not fqdn and status not in ("Creating", "Failed", "Deleting", "Canceled", None):
        problem = "fqdn"
    if problem:
        log.warning("aks_cluster_malformed", cluster=name, subscription=subscription, location=location,
                    field=problem, id=resource_id)
        return None
    pools = getattr(mc, "agent_pool_profiles", None) or []
    counts = [p.count for p in pools if getattr(p, "count", None) is not None]
    return ClusterRef(
        provider=PROVIDER, name=str(name), account=subscription, location=str(location),
        version=getattr(mc, "current_kubernetes_version", None) or getattr(mc, "kubernetes_version", None),
        status=status, node_count=sum(counts) if counts else None,
        endpoint=f"https://{fqdn}:443" if fqdn else None,
        labels={str(k): str(v) for k, v in (getattr(mc, "tags", None) or {}).items()},
        extra={"resource_group": group, "id": resource_id},
    )

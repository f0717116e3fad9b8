"""``GkeProvider``: discovers GKE clusters and opens Kubernetes clients to them.

Registered by :mod:`nautilus_gke.plugin`; the inventory pipeline calls ``discover()`` and
``connect()``. Configuration comes from the environment, read when the provider first does work:

- ``NAUTILUS_GKE_PROJECTS``: comma-separated project ids (required);
- ``NAUTILUS_GKE_LOCATION``: a region or zone to list, default ``-`` (every location);
- ``NAUTILUS_GKE_ENDPOINT``: another GKE API endpoint (``http://127.0.0.1:PORT`` in tests);
- ``NAUTILUS_GKE_ANONYMOUS=1``: send no credentials (tests against a local fake only).

Credentials come from Application Default Credentials (cloud-platform scope) unless the
constructor is given ``credentials=``. The same credentials sign the calls to the clusters'
API servers. The Google SDK is imported lazily: loading the plugin does no I/O.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any

import structlog

from nautilus_core import ClusterRef, ConfigError, PartialDiscovery, PermanentError, TransientError
from nautilus_core.config import load_section
from nautilus_gke.errors import PROVIDER, google_errors
from nautilus_gke.settings import GkeSettings

if TYPE_CHECKING:
    from nautilus_core.kube.client import KubeClient

log = structlog.get_logger(__name__)

PROJECTS_ENV = "NAUTILUS_GKE_PROJECTS"
LOCATION_ENV = "NAUTILUS_GKE_LOCATION"
ENDPOINT_ENV = "NAUTILUS_GKE_ENDPOINT"
ANONYMOUS_ENV = "NAUTILUS_GKE_ANONYMOUS"
SCOPES = ("https://www.googleapis.com/auth/cloud-platform",)
ALL_LOCATIONS = "-"
#: Cluster states in which GKE may not have published an endpoint yet.
_NO_ENDPOINT_YET = frozenset({"PROVISIONING", "ERROR", "STOPPING", None})


class GkeProvider:
    """GKE clusters of one or more projects, in one location or all of them."""

    name = PROVIDER

    def __init__(self, *, projects: Sequence[str] | None = None, location: str | None = None,
                 endpoint: str | None = None, credentials: Any = None, retry: bool = True,
                 timeout: float = 30.0) -> None:
        """All arguments are optional; ``None`` means "read the environment on first use".

        :param credentials: ``google.auth`` credentials to use instead of the default chain.
        :param retry: let the SDK retry 503/504 answers (tests switch it off).
        """
        self._projects = list(projects) if projects is not None else None
        self._location = location
        self._endpoint = endpoint
        self._credentials = credentials
        self._retry = retry
        self._timeout = timeout
        self._lock = threading.Lock()
        self._client: Any = None

    def __repr__(self) -> str:
        return "GkeProvider()"

    # ------------------------------------------------------------------ configuration

    def projects(self) -> list[str]:
        projects = self._projects if self._projects is not None else load_section(GkeSettings).projects
        if not projects:
            raise ConfigError(f"{PROVIDER}: no project to scan: set {PROJECTS_ENV} to a comma-separated "
                              "list of GCP project ids")
        return list(dict.fromkeys(projects))

    def _projects_label(self) -> str:
        """The configured projects for messages (never raises)."""
        try:
            return ",".join(self._projects or load_section(GkeSettings).projects) or "?"
        except ConfigError:
            return "?"

    def location(self) -> str:
        return self._location or load_section(GkeSettings).location or ALL_LOCATIONS

    def endpoint(self) -> str | None:
        return self._endpoint or load_section(GkeSettings).endpoint or None

    def credentials(self) -> Any:
        """The Google credentials in use (Application Default Credentials unless configured)."""
        with self._lock:
            if self._credentials is None:
                if load_section(GkeSettings).anonymous:
                    from google.auth.credentials import AnonymousCredentials

                    self._credentials = AnonymousCredentials()
                else:
                    import google.auth

                    with google_errors("loading credentials", project=self._projects_label(),
                                       location=self.location()):
                        self._credentials, _ = google.auth.default(scopes=list(SCOPES))
            return self._credentials

    def client(self) -> Any:
        """The ``ClusterManagerClient`` (REST transport), built on first use."""
        credentials = self.credentials()
        with self._lock:
            if self._client is None:
                from google.api_core.client_options import ClientOptions
                from google.cloud.container_v1 import ClusterManagerClient

                endpoint = self.endpoint()
                options = ClientOptions(api_endpoint=endpoint) if endpoint else None
                self._client = ClusterManagerClient(credentials=credentials, transport="rest",
                                                    client_options=options)
            return self._client

    # ------------------------------------------------------------------ discover

    def discover(self) -> Iterable[ClusterRef]:
        """Every cluster of every configured project in the configured location.

        Raises :class:`~nautilus_core.TransientError` / :class:`~nautilus_core.PermanentError` if a
        project cannot be listed, or if GKE reports zones it could not reach (the list would be
        partial). A cluster without a name or endpoint is skipped with a warning, and the answer is
        then partial: :class:`~nautilus_core.PartialDiscovery` carries the other clusters.
        """
        projects, location = self.projects(), self.location()
        client = self.client()
        refs: list[ClusterRef] = []
        skipped: list[str] = []
        for project in projects:
            parent = f"projects/{project}/locations/{location}"
            kwargs: dict[str, Any] = {"timeout": self._timeout}
            if not self._retry:
                kwargs["retry"] = None
            with google_errors("listing clusters", project=project, location=location):
                answer = client.list_clusters(parent=parent, **kwargs)
            if answer.missing_zones:
                zones = ", ".join(answer.missing_zones)
                raise TransientError(f"{PROVIDER}: listing clusters of project {project} location "
                                     f"{location}: zones {zones} did not answer")
            entries = [_as_dict(c) for c in answer.clusters]
            found = [cluster_ref(e, project=project) for e in entries]
            refs.extend(sorted((r for r in found if r is not None), key=lambda r: (r.location, r.name)))
            skipped += [f"{PROVIDER}: project {project} location {location}: cluster "
                        f"{e.get('name') or '<without a name>'} is malformed (no name or endpoint)"
                        for e, r in zip(entries, found, strict=True) if r is None]
        if skipped:  # those clusters exist: the answer is partial, so nothing may be tombstoned
            raise PartialDiscovery(refs, skipped)
        return refs

    # ------------------------------------------------------------------ connect

    def token(self) -> str:
        """A valid OAuth access token of the credentials (refreshed when expired)."""
        from google.auth.credentials import AnonymousCredentials

        credentials = self.credentials()
        if isinstance(credentials, AnonymousCredentials):
            raise PermanentError(f"{PROVIDER}: anonymous credentials cannot authenticate to a cluster")
        with self._lock:
            if not credentials.valid or not credentials.token:
                import google.auth.transport.requests

                with google_errors("refreshing credentials", project=self._projects_label(),
                                   location=self.location()):
                    credentials.refresh(google.auth.transport.requests.Request())
            token = credentials.token
        if not token:
            raise PermanentError(f"{PROVIDER}: the credentials gave no access token")
        return str(token)

    def connect(self, cluster: ClusterRef) -> KubeClient:
        """A client for the cluster's API server, authenticated with the Google credentials."""
        from nautilus_core.kube import connect

        if not cluster.endpoint:
            raise PermanentError(f"{PROVIDER}: cluster {cluster.key} has no API endpoint "
                                 f"(status {cluster.status or '?'})")
        ca = _ca_pem(cluster)
        if ca is None and cluster.endpoint.startswith("https://"):
            raise PermanentError(f"{PROVIDER}: cluster {cluster.key} has no usable clusterCaCertificate")
        return connect(host=cluster.endpoint, ca_data=ca, token_provider=self.token, name=cluster.key)


def _as_dict(cluster: Any) -> dict[str, Any]:
    """A ``container_v1.Cluster`` as a snake_case dict with enum names."""
    return dict(type(cluster).to_dict(cluster, use_integers_for_enums=False, preserving_proto_field_name=True,
                                      always_print_fields_with_no_presence=False))


def _ca_pem(cluster: ClusterRef) -> str | None:
    """The PEM of the cluster CA (the API gives it base64-encoded), or ``None`` if absent or not a PEM."""
    from nautilus_core.kube import decode_ca  # kube/ imports ``kubernetes``: only when connecting

    return decode_ca(cluster.extra.get("ca_data"))


def node_count(cluster: dict[str, Any]) -> int | None:
    """``currentNodeCount`` when GKE gives it, else the node pools' initial counts (per zone)."""
    current = int(cluster.get("current_node_count") or 0)
    if current:
        return current
    pools = cluster.get("node_pools") or []
    if not pools:
        return None
    return sum(int(p.get("initial_node_count") or 0) * max(1, len(p.get("locations") or [])) for p in pools)


def cluster_ref(cluster: dict[str, Any], *, project: str) -> ClusterRef | None:
    """A :class:`ClusterRef` from a cluster of the GKE API (as a snake_case dict), or ``None`` with a
    warning when the entry is malformed."""
    name = cluster.get("name")
    location = cluster.get("location") or cluster.get("zone") or ""
    status = cluster.get("status") or None
    if not isinstance(status, str) or status == "STATUS_UNSPECIFIED":
        status = None
    endpoint = cluster.get("endpoint") or ""
    if not name:
        log.warning("gke_cluster_malformed", project=project, location=location, field="name",
                    self_link=cluster.get("self_link"))
        return None
    if not endpoint and status not in _NO_ENDPOINT_YET:
        log.warning("gke_cluster_malformed", cluster=name, project=project, location=location,
                    field="endpoint", status=status)
        return None
    if endpoint and "://" not in endpoint:
        endpoint = f"https://{endpoint}"
    extra: dict[str, Any] = {"self_link": cluster.get("self_link") or None, "id": cluster.get("id") or None}
    ca = (cluster.get("master_auth") or {}).get("cluster_ca_certificate")
    if ca:
        extra["ca_data"] = ca
    return ClusterRef(
        provider=PROVIDER, name=str(name), account=project, location=str(location),
        version=cluster.get("current_master_version") or cluster.get("initial_cluster_version") or None,
        status=status, node_count=node_count(cluster), endpoint=endpoint or None,
        labels={str(k): str(v) for k, v in (cluster.get("resource_labels") or {}).items()},
        extra={k: v for k, v in extra.items() if v is not None},
    )

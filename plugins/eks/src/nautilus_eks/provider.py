"""``EksProvider``: discovers Amazon EKS clusters and opens Kubernetes clients to them.

Registered by :mod:`nautilus_eks.plugin`; the inventory pipeline calls ``discover()`` and
``connect()``. Configuration comes from the environment, read when the provider first does work:

- ``NAUTILUS_EKS_REGIONS``: comma-separated regions (default: the AWS session's region);
- ``NAUTILUS_EKS_ROLE_ARN``: a role to assume through STS before anything else (optional);
- the standard AWS variables and files for credentials, region, endpoints (``AWS_ENDPOINT_URL``,
  ``AWS_ENDPOINT_URL_EKS``, ...) and retries (``AWS_MAX_ATTEMPTS``, ``AWS_RETRY_MODE``).

boto3 is imported lazily, so loading the plugin stays cheap and does no I/O.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Any

import structlog

from nautilus_core import ClusterRef, ConfigError, PartialDiscovery, PermanentError
from nautilus_core.config import load_section
from nautilus_eks.errors import PROVIDER, aws_errors
from nautilus_eks.settings import EksSettings
from nautilus_eks.token import TOKEN_TTL_SECONDS, TokenCache, make_token

if TYPE_CHECKING:
    from nautilus_core.kube.client import KubeClient

log = structlog.get_logger(__name__)

REGIONS_ENV = "NAUTILUS_EKS_REGIONS"
ROLE_ENV = "NAUTILUS_EKS_ROLE_ARN"
ROLE_SESSION_NAME = "nautilus-eks"
#: Cluster states in which EKS has not published an endpoint yet (the cluster is kept without one).
_NO_ENDPOINT_YET = frozenset({"CREATING", "FAILED", "DELETING", "PENDING"})


def _assumed_role_session(base: Any, role_arn: str, region: str) -> Any:
    """A boto3 session whose credentials come from assuming ``role_arn`` and refresh themselves."""
    import boto3
    import botocore.session
    from botocore.credentials import CredentialProvider, DeferredRefreshableCredentials

    sts = base.client("sts", region_name=region)

    def fetch() -> dict[str, str]:
        answer = sts.assume_role(RoleArn=role_arn, RoleSessionName=ROLE_SESSION_NAME)["Credentials"]
        return {
            "access_key": answer["AccessKeyId"],
            "secret_key": answer["SecretAccessKey"],
            "token": answer["SessionToken"],
            "expiry_time": answer["Expiration"].isoformat(),
        }

    credentials = DeferredRefreshableCredentials(refresh_using=fetch, method="assume-role")

    class _AssumedRole(CredentialProvider):
        METHOD = "nautilus-assume-role"
        CANONICAL_NAME = "NautilusAssumeRole"

        def load(self) -> Any:
            return credentials

    core = botocore.session.get_session()
    core.get_component("credential_provider").insert_before("env", _AssumedRole())
    return boto3.Session(botocore_session=core, region_name=base.region_name)


class EksProvider:
    """Amazon EKS clusters of one account (the ambient or assumed identity) across regions."""

    name = PROVIDER

    def __init__(self, *, regions: Sequence[str] | None = None, role_arn: str | None = None,
                 session: Any = None, max_workers: int = 8, page_size: int | None = None,
                 token_ttl: float = TOKEN_TTL_SECONDS) -> None:
        """All arguments are optional; ``None`` means "read the environment on first use".

        :param session: a ``boto3.Session`` to use instead of the default credential chain.
        :param max_workers: clusters described in parallel per region.
        :param page_size: names per ListClusters/ListNodegroups page (default: the API's, 100).
        """
        self._regions = list(regions) if regions is not None else None
        self._role_arn = role_arn
        self._session = session
        self._max_workers = max(1, max_workers)
        self._paging = {"PageSize": page_size} if page_size else {}
        self._lock = threading.Lock()
        self._tokens = TokenCache(self._sign, ttl=token_ttl)

    def __repr__(self) -> str:
        return "EksProvider()"

    # ------------------------------------------------------------------ configuration

    def session(self) -> Any:
        """The boto3 session (created, and the role assumed, on first use)."""
        with self._lock:
            if self._session is None:
                import boto3

                base = boto3.Session()
                role = self._role_arn if self._role_arn is not None else load_section(EksSettings).role_arn.strip()
                if role:
                    region = base.region_name or (self.regions(base) or ["us-east-1"])[0]
                    base = _assumed_role_session(base, role, region)
                self._session = base
            return self._session

    def regions(self, session: Any = None) -> list[str]:
        """Regions to scan: the constructor's, else ``NAUTILUS_EKS_REGIONS``, else the session's."""
        if self._regions is not None:
            regions = self._regions
        else:
            regions = load_section(EksSettings).regions
            if not regions:
                region = (session or self.session()).region_name
                regions = [region] if region else []
        if not regions:
            raise ConfigError(f"{PROVIDER}: no AWS region: set {REGIONS_ENV} (comma-separated) or AWS_REGION")
        return list(dict.fromkeys(regions))

    # ------------------------------------------------------------------ discover

    def account(self) -> str:
        """The AWS account id of the identity in use (STS GetCallerIdentity)."""
        session = self.session()
        region = self.regions(session)[0]
        with aws_errors("sts:GetCallerIdentity", region=region, session=session):
            return str(session.client("sts", region_name=region).get_caller_identity()["Account"])

    def discover(self) -> Iterable[ClusterRef]:
        """Every EKS cluster in every configured region, with node counts from managed node groups.

        Raises :class:`~nautilus_core.TransientError` / :class:`~nautilus_core.PermanentError` if any
        region cannot be listed. A cluster that vanishes between list and describe is skipped with a
        warning; one whose description lacks a name or endpoint too, and the answer is then partial:
        :class:`~nautilus_core.PartialDiscovery` carries the other clusters.
        """
        session = self.session()
        regions = self.regions(session)
        account = self.account()
        refs: list[ClusterRef] = []
        skipped: list[str] = []
        for region in regions:
            found, malformed = self._discover_region(session, account, region)
            refs.extend(found)
            skipped += [f"{PROVIDER}: account {account} region {region}: cluster {name} is malformed "
                        "(no name or endpoint)" for name in malformed]
        if skipped:  # those clusters exist: the answer is partial, so nothing may be tombstoned
            raise PartialDiscovery(refs, skipped)
        return refs

    def _discover_region(self, session: Any, account: str, region: str) -> tuple[list[ClusterRef], list[str]]:
        """The region's clusters, and the names of those whose description was malformed."""
        eks = session.client("eks", region_name=region)
        with aws_errors("eks:ListClusters", region=region, account=account, session=session):
            pages = eks.get_paginator("list_clusters").paginate(PaginationConfig=self._paging)
            names = [name for page in pages for name in page.get("clusters") or []]
        with ThreadPoolExecutor(max_workers=min(self._max_workers, max(1, len(names)))) as pool:
            described = list(pool.map(lambda n: self._describe(session, eks, account, region, n), names))
        refs = sorted((ref for ref in described if isinstance(ref, ClusterRef)), key=lambda r: r.name)
        return refs, [name for name, ref in zip(names, described, strict=True) if ref is _MALFORMED]

    def _describe(self, session: Any, eks: Any, account: str, region: str, name: str) -> ClusterRef | object | None:
        """The cluster, ``None`` if it vanished meanwhile, ``_MALFORMED`` if its description is unusable."""
        with aws_errors(f"eks:DescribeCluster {name}", region=region, account=account, session=session):
            cluster = _unless_gone(lambda: eks.describe_cluster(name=name).get("cluster"))
            if cluster is None:
                log.warning("eks_cluster_vanished", cluster=name, region=region, account=account)
                return None
            node_count = self._node_count(eks, name)
        ref = cluster_ref(cluster, account=account, region=region, node_count=node_count)
        return _MALFORMED if ref is None else ref

    def _node_count(self, eks: Any, cluster: str) -> int | None:
        paginator = eks.get_paginator("list_nodegroups")
        pages = paginator.paginate(clusterName=cluster, PaginationConfig=self._paging)
        groups = [g for page in pages for g in page.get("nodegroups") or []]
        if not groups:
            return None  # Fargate or self-managed nodes: the EKS API does not know
        total = 0
        for group in groups:
            answer = _unless_gone(lambda g=group: eks.describe_nodegroup(clusterName=cluster, nodegroupName=g)
                                  .get("nodegroup")) or {}
            total += int((answer.get("scalingConfig") or {}).get("desiredSize") or 0)
        return total

    # ------------------------------------------------------------------ connect

    def _sign(self, region: str, cluster_name: str) -> str:
        session = self.session()
        with aws_errors(f"signing a token for cluster {cluster_name}", region=region, session=session):
            return make_token(session, region, cluster_name)

    def token(self, cluster: ClusterRef) -> str:
        """A bearer token for ``cluster`` (cached ~10 minutes; EKS accepts one for 15)."""
        return self._tokens.get(cluster.location, cluster.name)

    def connect(self, cluster: ClusterRef) -> KubeClient:
        """A client for the cluster's API server, authenticated with STS-presigned tokens.

        :raises PermanentError: the cluster has no endpoint yet, or its CA data is not a PEM.
        """
        from nautilus_core.kube import connect

        if not cluster.endpoint:
            raise PermanentError(f"{PROVIDER}: cluster {cluster.key} has no API endpoint "
                                 f"(status {cluster.status or '?'})")
        ca = _ca_pem(cluster)
        if ca is None and cluster.endpoint.startswith("https://"):
            raise PermanentError(f"{PROVIDER}: cluster {cluster.key} has no usable certificateAuthority data")
        return connect(host=cluster.endpoint, ca_data=ca, token_provider=lambda: self.token(cluster),
                       name=cluster.key)


def _unless_gone(call: Any) -> Any:
    """``call()``, or ``None`` if AWS answers ResourceNotFoundException (deleted meanwhile)."""
    from botocore.exceptions import ClientError

    try:
        return call() or None
    except ClientError as exc:
        if (exc.response.get("Error") or {}).get("Code") == "ResourceNotFoundException":
            return None
        raise


def _ca_pem(cluster: ClusterRef) -> str | None:
    """The PEM of the cluster CA (the API gives it base64-encoded), or ``None`` if absent or not a PEM."""
    from nautilus_core.kube import decode_ca  # kube/ imports ``kubernetes``: only when connecting

    return decode_ca(cluster.extra.get("ca_data"))


#: What ``_describe`` returns for a cluster that exists but whose description is unusable.
_MALFORMED = object()


def cluster_ref(cluster: dict[str, Any], *, account: str, region: str,
                node_count: int | None) -> ClusterRef | None:
    """A :class:`ClusterRef` from a DescribeCluster answer, or ``None`` (with a warning) if malformed."""
    name = cluster.get("name")
    endpoint = cluster.get("endpoint")
    status = cluster.get("status")
    if not name:
        log.warning("eks_cluster_malformed", region=region, account=account, field="name",
                    arn=cluster.get("arn"))
        return None
    if not endpoint and status not in _NO_ENDPOINT_YET:
        log.warning("eks_cluster_malformed", cluster=name, region=region, account=account, field="endpoint",
                    status=status)
        return None
    extra: dict[str, Any] = {"arn": cluster.get("arn"), "region": region}
    ca = (cluster.get("certificateAuthority") or {}).get("data")
    if ca:
        extra["ca_data"] = ca
    if cluster.get("platformVersion"):
        extra["platform_version"] = cluster["platformVersion"]
    return ClusterRef(
        provider=PROVIDER, name=str(name), account=account, location=region,
        version=cluster.get("version"), status=status, node_count=node_count,
        endpoint=str(endpoint).rstrip("/") if endpoint else None,
        labels={str(k): str(v) for k, v in (cluster.get("tags") or {}).items()},
        extra=extra,
    )

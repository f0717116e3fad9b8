"""EKS bearer tokens in the aws-iam-authenticator scheme, and a small per-cluster token cache.

A token is ``k8s-aws-v1.`` followed by the unpadded base64url of an STS ``GetCallerIdentity`` URL,
presigned (SigV4, query string) for 60 seconds with the header ``x-k8s-aws-id: <cluster name>``
signed in. The cluster's authenticator replays the URL against STS to learn who is calling. EKS
accepts a token for 15 minutes after signing; :class:`TokenCache` hands out the same token for
``ttl`` seconds (10 minutes by default) and then signs a new one.

Used by :class:`nautilus_eks.provider.EksProvider.connect` (through the ``token_provider`` callable
handed to ``nautilus_core.kube.connect``) and by tests that check the token's shape.
"""

from __future__ import annotations

import base64
import threading
import time
from collections.abc import Callable
from typing import Any

TOKEN_PREFIX = "k8s-aws-v1."
CLUSTER_ID_HEADER = "x-k8s-aws-id"
URL_EXPIRES_SECONDS = 60
#: EKS accepts a token for 15 minutes; re-sign well before that.
TOKEN_TTL_SECONDS = 600.0

#: DNS suffix of STS per AWS partition (the authenticator only accepts real STS hosts).
_DNS_SUFFIX = {
    "aws": "amazonaws.com",
    "aws-cn": "amazonaws.com.cn",
    "aws-us-gov": "amazonaws.com",
    "aws-iso": "c2s.ic.gov",
    "aws-iso-b": "sc2s.sgov.gov",
}


def sts_host(session: Any, region: str) -> str:
    """The regional STS host of ``region`` (``sts.eu-west-1.amazonaws.com``)."""
    try:
        partition = session.get_partition_for_region(region)
    except Exception:  # unknown region name: assume the commercial partition
        partition = "aws"
    return f"sts.{region}.{_DNS_SUFFIX.get(partition, 'amazonaws.com')}"


def presigned_identity_url(session: Any, region: str, cluster_name: str) -> str:
    """An STS GetCallerIdentity URL presigned for 60 s with ``x-k8s-aws-id`` signed in.

    Signs with the session's current credentials (refreshing them if they are temporary). The URL
    always names the real regional STS host, whatever endpoint override the SDK calls use: the
    cluster, not Nautilus, sends it to STS.
    """
    from botocore.model import ServiceId
    from botocore.signers import RequestSigner

    credentials = session.get_credentials()
    if credentials is None:
        from botocore.exceptions import NoCredentialsError

        raise NoCredentialsError()
    signer = RequestSigner(ServiceId("sts"), region, "sts", "v4", credentials, session.events)
    request = {
        "method": "GET",
        "url": f"https://{sts_host(session, region)}/?Action=GetCallerIdentity&Version=2011-06-15",
        "body": {},
        "headers": {CLUSTER_ID_HEADER: cluster_name},
        "context": {},
    }
    return str(signer.generate_presigned_url(request, operation_name="GetCallerIdentity",
                                             expires_in=URL_EXPIRES_SECONDS, region_name=region))


def encode_token(url: str) -> str:
    """``k8s-aws-v1.`` + base64url(url) without padding."""
    return TOKEN_PREFIX + base64.urlsafe_b64encode(url.encode()).decode().rstrip("=")


def make_token(session: Any, region: str, cluster_name: str) -> str:
    """A fresh bearer token for the EKS cluster ``cluster_name`` in ``region``."""
    return encode_token(presigned_identity_url(session, region, cluster_name))


class TokenCache:
    """Tokens by (region, cluster), re-signed after ``ttl`` seconds. Thread-safe."""

    def __init__(self, sign: Callable[[str, str], str], *, ttl: float = TOKEN_TTL_SECONDS,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self._sign = sign
        self._ttl = ttl
        self._clock = clock
        self._lock = threading.Lock()
        self._tokens: dict[tuple[str, str], tuple[str, float]] = {}

    def get(self, region: str, cluster_name: str) -> str:
        key = (region, cluster_name)
        with self._lock:
            cached = self._tokens.get(key)
            now = self._clock()
            if cached is not None and now - cached[1] < self._ttl:
                return cached[0]
            token = self._sign(region, cluster_name)
            self._tokens[key] = (token, now)
            return token

"""EKS bearer tokens: shape, a signature STS would accept, caching, and connect() preconditions."""

from __future__ import annotations

import base64
import hashlib
import hmac
from urllib.parse import parse_qsl, quote, urlsplit

import pytest

from nautilus_core import ClusterRef, PermanentError
from nautilus_eks import EksProvider
from nautilus_eks.token import TokenCache


def decode(token: str) -> str:
    assert token.startswith("k8s-aws-v1.")
    body = token.removeprefix("k8s-aws-v1.")
    assert "=" not in body and "+" not in body and "/" not in body  # base64url without padding
    return base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)).decode()


def expected_signature(url: str, secret_key: str, headers: dict[str, str]) -> str:
    """SigV4 of a presigned GET, computed independently of botocore."""
    parts = urlsplit(url)
    query = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if k != "X-Amz-Signature"]
    params = dict(query)
    canonical_query = "&".join(f"{quote(k, safe='-_.~')}={quote(v, safe='-_.~')}" for k, v in sorted(query))
    signed = params["X-Amz-SignedHeaders"].split(";")
    all_headers = {"host": parts.netloc, **headers}
    canonical_headers = "".join(f"{h}:{all_headers[h].strip()}\n" for h in signed)
    canonical = "\n".join(["GET", parts.path or "/", canonical_query, canonical_headers,
                           params["X-Amz-SignedHeaders"], hashlib.sha256(b"").hexdigest()])
    stamp = params["X-Amz-Date"]
    scope = params["X-Amz-Credential"].split("/", 1)[1]
    to_sign = "\n".join(["AWS4-HMAC-SHA256", stamp, scope, hashlib.sha256(canonical.encode()).hexdigest()])
    key = ("AWS4" + secret_key).encode()
    for part in scope.split("/"):
        key = hmac.new(key, part.encode(), hashlib.sha256).digest()
    return hmac.new(key, to_sign.encode(), hashlib.sha256).hexdigest()


def ref(name: str, region: str, **kw) -> ClusterRef:
    return ClusterRef(provider="eks", name=name, account="123456789012", location=region, **kw)


def test_token_is_a_presigned_sts_identity_url_for_the_cluster(aws):
    token = EksProvider().token(ref("payments", "eu-west-1"))

    url = decode(token)
    parts = urlsplit(url)
    query = dict(parse_qsl(parts.query))
    assert (parts.scheme, parts.netloc, parts.path) == ("https", "sts.eu-west-1.amazonaws.com", "/")
    assert (query["Action"], query["Version"]) == ("GetCallerIdentity", "2011-06-15")
    assert query["X-Amz-Algorithm"] == "AWS4-HMAC-SHA256"
    assert query["X-Amz-Expires"] == "60"
    assert query["X-Amz-SignedHeaders"].split(";") == ["host", "x-k8s-aws-id"]
    assert query["X-Amz-Credential"].startswith(f"{aws.access_key}/")
    assert query["X-Amz-Credential"].endswith("/eu-west-1/sts/aws4_request")
    assert aws.secret_key not in url
    # STS (and so the cluster) accepts it only if the cluster name was signed in:
    assert query["X-Amz-Signature"] == expected_signature(url, aws.secret_key, {"x-k8s-aws-id": "payments"})
    assert query["X-Amz-Signature"] != expected_signature(url, aws.secret_key, {"x-k8s-aws-id": "other"})


def test_token_names_the_sts_host_of_the_clusters_partition(aws):
    url = decode(EksProvider().token(ref("north", "cn-north-1")))

    assert urlsplit(url).netloc == "sts.cn-north-1.amazonaws.com.cn"
    assert "/cn-north-1/sts/aws4_request" in dict(parse_qsl(urlsplit(url).query))["X-Amz-Credential"]


def test_token_carries_the_session_token_of_temporary_credentials(aws, monkeypatch):
    monkeypatch.setenv("AWS_SESSION_TOKEN", "temporary-session-token")

    query = dict(parse_qsl(urlsplit(decode(EksProvider().token(ref("a", "eu-west-1")))).query))

    assert query["X-Amz-Security-Token"] == "temporary-session-token"


def test_token_cache_reuses_a_token_until_its_ttl_then_signs_again():
    now = [1000.0]
    signed: list[tuple[str, str]] = []

    def sign(region: str, name: str) -> str:
        signed.append((region, name))
        return f"token-{len(signed)}"

    cache = TokenCache(sign, ttl=600, clock=lambda: now[0])
    first = cache.get("eu-west-1", "a")
    now[0] += 599
    assert cache.get("eu-west-1", "a") == first
    assert cache.get("eu-west-1", "b") != first  # per cluster
    now[0] += 1
    assert cache.get("eu-west-1", "a") not in (first, "token-2")
    assert signed == [("eu-west-1", "a"), ("eu-west-1", "b"), ("eu-west-1", "a")]


def test_connect_refuses_a_cluster_without_endpoint(aws):
    with pytest.raises(PermanentError, match=r"eks/123456789012/eu-west-1/new has no API endpoint"):
        EksProvider().connect(ref("new", "eu-west-1", status="CREATING"))


def test_connect_refuses_an_https_endpoint_without_a_pem_ca(aws, make_cluster, monkeypatch):
    # moto's certificateAuthority.data is random text, not a base64 PEM.
    make_cluster("eu-west-1", "odd-ca")
    monkeypatch.setenv("NAUTILUS_EKS_REGIONS", "eu-west-1")
    [cluster] = EksProvider().discover()

    with pytest.raises(PermanentError, match="odd-ca has no usable certificateAuthority"):
        EksProvider().connect(cluster)

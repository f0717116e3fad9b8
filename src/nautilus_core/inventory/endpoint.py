"""Cluster endpoints without credentials: what ``cluster.endpoint`` stores and the CLI prints.

A kubeconfig may carry credentials in its server URL (``http://admin:pw@host``,
``https://host?access_token=...``). The inventory keeps where a cluster is, never how to log in:
userinfo, fragments and credential-like query parameters are dropped. Connecting still uses the
kubeconfig as given. Called by the synchronizer (stored values) and ``inventory.queries`` (rows
written before this rule).
"""

from __future__ import annotations

import re
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

#: Query parameter names that carry secrets (access_token, X-Amz-Signature, sig, password, ...).
CREDENTIAL_PARAM = re.compile(r"token|passw|pwd|secret|key|sig|auth|credential|session|cookie|code", re.I)


def strip_credentials(url: str | None) -> str | None:
    """``url`` without userinfo, fragment and credential-like query parameters (``None`` if unparsable).

    >>> strip_credentials("https://admin:pw@k8s.example:6443/base?access_token=t&region=eu")
    'https://k8s.example:6443/base?region=eu'
    """
    if not url:
        return url
    if "://" not in url:  # host[:port][/path] without a scheme
        rest = url.split("?", 1)[0].split("#", 1)[0]
        host, slash, path = rest.partition("/")
        return host.rpartition("@")[2] + slash + path
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises ValueError for a port that is not a number
    except ValueError:
        return None
    netloc = parts.netloc.rpartition("@")[2]
    kept = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if not CREDENTIAL_PARAM.search(k)]
    return urlunsplit((parts.scheme, netloc, parts.path, urlencode(kept), ""))

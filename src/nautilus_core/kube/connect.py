"""Building a :class:`KubeClient`: in-cluster, from a kubeconfig file/context, or host + token + CA.

Called by the built-in kubeconfig provider, provider plugins (EKS/GKE/AKS pass host, CA data and
a token provider from the cloud's credential chain) and the controller runtime.
"""

from __future__ import annotations

import base64
import binascii
import os
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import yaml
from kubernetes import config as kube_config
from kubernetes.client import ApiClient, Configuration
from kubernetes.config.config_exception import ConfigException

from nautilus_core.config import KubeSettings, kube_settings
from nautilus_core.errors import ConfigError
from nautilus_core.kube.client import DEFAULT_TIMEOUT, KubeClient
from nautilus_core.kube.retry import RetryPolicy

POOL_SIZE = 64


@dataclass(frozen=True)
class KubeContext:
    """One context of a kubeconfig file."""

    name: str
    cluster: str
    server: str
    namespace: str | None = None
    user: str | None = None


def decode_ca(raw: str | bytes | None) -> str | None:
    """A base64-encoded CA bundle, as clouds and kubeconfigs carry it, as PEM text; ``None`` if it is
    absent, not base64 or not a PEM certificate (providers use it to build ``ca_data``)."""
    if not raw:
        return None
    try:
        pem = base64.b64decode(raw, validate=True).decode("ascii")
    except (binascii.Error, UnicodeDecodeError, ValueError):
        return None
    return pem if "-----BEGIN CERTIFICATE-----" in pem else None


def kubeconfig_path(path: str | None = None) -> str:
    """The kubeconfig to read: the argument, else KUBECONFIG (``Settings.kubeconfig``, first entry),
    else ~/.kube/config."""
    if path:
        return os.path.expanduser(path)
    env = kube_settings().kubeconfig
    if env:
        return os.path.expanduser(env.split(os.pathsep)[0])
    return os.path.expanduser("~/.kube/config")


def read_kubeconfig(path: str | None = None) -> dict[str, Any]:
    """A kubeconfig file as a dict, its structure checked (what ``load_kube_config`` relies on).

    :raises ConfigError: the file is missing, unreadable, not YAML, or not shaped like a kubeconfig;
        the message names the file and the field (``kubeconfig /x: clusters: expected a list, got int``).
    """
    file = kubeconfig_path(path)
    try:
        with open(file, encoding="utf-8") as handle:
            raw = yaml.safe_load(handle)
    except OSError as exc:
        raise ConfigError(f"kubeconfig {file}: cannot read it: {exc.strerror or exc}") from None
    except UnicodeDecodeError:
        raise ConfigError(f"kubeconfig {file}: not UTF-8 text") from None
    except yaml.YAMLError as exc:
        where = getattr(exc, "problem_mark", None)
        at = f" at line {where.line + 1}, column {where.column + 1}" if where is not None else ""
        problem = getattr(exc, "problem", None) or type(exc).__name__
        raise ConfigError(f"kubeconfig {file}: not valid YAML{at}: {problem}") from None
    if raw is None:
        raw = {}
    if not isinstance(raw, dict):
        raise ConfigError(f"kubeconfig {file}: expected a mapping (apiVersion, clusters, contexts, users), "
                          f"got {_type_name(raw)}")
    for section, inner in (("clusters", "cluster"), ("contexts", "context"), ("users", "user")):
        entries = raw.get(section)
        if entries is None:
            continue
        if not isinstance(entries, list):
            raise ConfigError(f"kubeconfig {file}: {section}: expected a list, got {_type_name(entries)}")
        for i, entry in enumerate(entries):
            if not isinstance(entry, dict):
                raise ConfigError(f"kubeconfig {file}: {section}[{i}]: expected a mapping, got {_type_name(entry)}")
            if not isinstance(entry.get("name"), str) or not entry["name"]:
                raise ConfigError(f"kubeconfig {file}: {section}[{i}].name: missing or not a string")
            body = entry.get(inner)
            if body is not None and not isinstance(body, dict):
                raise ConfigError(f"kubeconfig {file}: {section}[{i}].{inner}: expected a mapping, "
                                  f"got {_type_name(body)}")
            for key, value in (body or {}).items():
                if key in _STRING_FIELDS and value is not None and not isinstance(value, str):
                    raise ConfigError(f"kubeconfig {file}: {section}[{i}].{inner}.{key}: expected a string, "
                                      f"got {_type_name(value)}")
    current = raw.get("current-context")
    if current is not None and not isinstance(current, str):
        raise ConfigError(f"kubeconfig {file}: current-context: expected a string, got {_type_name(current)}")
    return raw


#: Fields of kubeconfig cluster/context/user entries that must be strings when present.
_STRING_FIELDS = frozenset({"server", "cluster", "user", "namespace", "token", "certificate-authority",
                            "certificate-authority-data", "client-certificate", "client-certificate-data",
                            "client-key", "client-key-data", "tls-server-name", "proxy-url", "username",
                            "password"})


def _type_name(value: Any) -> str:
    names: dict[type, str] = {dict: "a mapping", list: "a list", str: "a string"}
    return names.get(type(value), type(value).__name__)


def list_contexts(path: str | None = None) -> list[KubeContext]:
    """Every context in a kubeconfig file, with the server URL of its cluster.

    :raises ConfigError: the file is missing or malformed (the message names the file and field).
    """
    raw = read_kubeconfig(path)
    servers = {c["name"]: (c.get("cluster") or {}).get("server") or "" for c in raw.get("clusters") or ()}
    out = []
    for ctx in raw.get("contexts") or ():
        spec = ctx.get("context") or {}
        out.append(KubeContext(
            name=ctx["name"], cluster=spec.get("cluster") or "", server=servers.get(spec.get("cluster"), ""),
            namespace=spec.get("namespace"), user=spec.get("user"),
        ))
    return out


def _configuration() -> Configuration:
    cfg = Configuration()
    cfg.retries = False  # urllib3 must not retry behind our back: RetryPolicy does it, visibly
    cfg.connection_pool_maxsize = POOL_SIZE  # workers + watches share one client
    return cfg


def connect(
    *,
    kubeconfig: str | None = None,
    context: str | None = None,
    in_cluster: bool = False,
    host: str | None = None,
    token: str | None = None,
    token_provider: Callable[[], str] | None = None,
    ca_data: str | bytes | None = None,
    verify: bool = True,
    name: str | None = None,
    retry: RetryPolicy | None = None,
    timeout: tuple[float, float] | None = None,
) -> KubeClient:
    """Open a client to one API server.

    Exactly one of: ``in_cluster=True``; ``host`` (with ``token`` or ``token_provider`` and
    ``ca_data``, as cloud providers have them); a kubeconfig file (``kubeconfig``/``$KUBECONFIG``,
    optional ``context``). No I/O happens until the first request.

    :param token_provider: called before each request; return a fresh token (EKS tokens live 15 min).
    :raises ConfigError: the configuration cannot be loaded (names the file or context).
    """
    cfg = _configuration()
    if in_cluster:
        try:
            kube_config.load_incluster_config(client_configuration=cfg)
        except ConfigException as exc:
            raise ConfigError(f"in-cluster configuration: {exc}") from None
        label = name or "in-cluster"
    elif host:
        cfg.host = host.rstrip("/")
        cfg.verify_ssl = verify
        if ca_data:
            cfg.ca_cert_data = ca_data.decode() if isinstance(ca_data, bytes) else ca_data
        if token_provider is not None:
            def refresh(c: Any) -> None:
                c.api_key["BearerToken"] = token_provider()
            cfg.refresh_api_key_hook = refresh  # type: ignore[assignment]
            cfg.api_key_prefix["BearerToken"] = "Bearer"
            cfg.api_key["BearerToken"] = ""
        elif token:
            cfg.api_key["BearerToken"] = token
            cfg.api_key_prefix["BearerToken"] = "Bearer"
        label = name or host
    else:
        file = kubeconfig_path(kubeconfig)
        read_kubeconfig(file)  # a clear ConfigError naming the file and field, before the client parses it
        try:
            kube_config.load_kube_config(config_file=file, context=context, client_configuration=cfg,
                                         persist_config=False)
        # the client raises bare TypeError/KeyError/... for shapes the check above lets through
        except (ConfigException, OSError, yaml.YAMLError, TypeError, ValueError, KeyError, AttributeError) as exc:
            where = f"context {context!r} of " if context else ""
            detail = str(exc) if isinstance(exc, ConfigException) else f"{type(exc).__name__}: {exc}"
            raise ConfigError(f"kubeconfig {where}{file}: {detail}") from None
        cfg.retries = False
        cfg.connection_pool_maxsize = POOL_SIZE
        label = name or context or file
    return KubeClient(ApiClient(configuration=cfg), name=label, retry=retry, timeout=timeout or default_timeout())


def default_timeout() -> tuple[float, float]:
    """(connect, read) seconds; ``NAUTILUS_KUBE_TIMEOUT`` (through Settings) sets the read timeout and caps
    connect. :raises ConfigError: naming the variable (not a positive duration)."""
    return timeout_from(kube_settings())


def timeout_from(settings: KubeSettings) -> tuple[float, float]:
    """(connect, read) seconds for ``settings.kube_timeout``."""
    read = settings.kube_timeout
    return (min(DEFAULT_TIMEOUT[0], read), read)

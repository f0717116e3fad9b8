"""The registry clients of the ODA plugin behind one interface (see ``base.py``), and ``build_registry``.

``build_registry(settings)`` is what the ``oda-components`` reconciler and the ``nautilus oda`` commands
call: it picks the flavour from COMPONENT_REGISTRY_TYPE (``component-registry``, the default: the seed
Component Registry REST API; ``tmf639``: a TMF639 v5 Resource Inventory) and builds the client with the
URL, API key, timeout and retry attempts of :class:`~nautilus_oda.settings.OdaSettings`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from nautilus_core.errors import ConfigError
from nautilus_core.retry import RetryPolicy
from nautilus_oda.registry.base import (
    OWNER_LABEL,
    ApiEntry,
    ComponentEntry,
    Registry,
    RegistryAuthError,
    RegistryError,
    RegistryRejected,
    RegistryUnavailable,
)
from nautilus_oda.registry.component_registry import ComponentRegistryClient
from nautilus_oda.registry.tmf639 import ResourceInventoryClient

if TYPE_CHECKING:
    from nautilus_oda.settings import OdaSettings

__all__ = ["OWNER_LABEL", "ApiEntry", "ComponentEntry", "ComponentRegistryClient", "Registry", "RegistryAuthError",
           "RegistryError", "RegistryRejected", "RegistryUnavailable", "ResourceInventoryClient", "build_registry"]


def build_registry(settings: OdaSettings, *, retry: RetryPolicy | None = None) -> Registry:
    """The registry client ``settings`` ask for. ``retry`` overrides the policy (``RetryPolicy.off()`` in tests).

    :raises ConfigError: an unknown COMPONENT_REGISTRY_TYPE, or an unusable ownership mark.
    """
    policy = retry or RetryPolicy(attempts=settings.component_registry_retry_attempts, base=0.5, max_wait=30.0,
                                  event="registry_retry")
    kwargs = {"registry_name": settings.component_registry_name, "owner": settings.owner,
              "api_key": settings.api_key(), "timeout": settings.component_registry_timeout, "retry": policy}
    if settings.component_registry_type == "component-registry":
        return ComponentRegistryClient(settings.component_registry_url, **kwargs)  # type: ignore[arg-type]
    if settings.component_registry_type == "tmf639":
        return ResourceInventoryClient(settings.component_registry_url, **kwargs)  # type: ignore[arg-type]
    raise ConfigError(f"COMPONENT_REGISTRY_TYPE={settings.component_registry_type!r}: expected "
                      "'component-registry' or 'tmf639'")

"""The registry clients of the ODA plugin behind one interface (see ``base.py``).

``build_registry(settings)`` (added with the clients) picks the flavour from COMPONENT_REGISTRY_TYPE.
"""

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

__all__ = ["OWNER_LABEL", "ApiEntry", "ComponentEntry", "Registry", "RegistryAuthError", "RegistryError",
           "RegistryRejected", "RegistryUnavailable"]

"""nautilus-aks: the Azure Kubernetes Service cluster provider for Nautilus.

The entry point ``aks = "nautilus_aks.plugin"`` registers :class:`AksProvider`; the inventory
pipeline calls its ``discover()`` and ``connect()``. Importing this package does not import the
Azure SDK.
"""

from nautilus_aks.provider import AksProvider

__all__ = ["AksProvider"]

"""nautilus-gke: the Google Kubernetes Engine cluster provider for Nautilus.

The entry point ``gke = "nautilus_gke.plugin"`` registers :class:`GkeProvider`; the inventory
pipeline calls its ``discover()`` and ``connect()``. Importing this package does not import the
Google SDK.
"""

from nautilus_gke.provider import GkeProvider

__all__ = ["GkeProvider"]

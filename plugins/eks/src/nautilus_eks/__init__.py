"""nautilus-eks: the Amazon EKS cluster provider for Nautilus.

The entry point ``eks = "nautilus_eks.plugin"`` registers :class:`EksProvider`; the inventory
pipeline calls its ``discover()`` and ``connect()``. Importing this package does not import boto3.
"""

from nautilus_eks.provider import EksProvider

__all__ = ["EksProvider"]

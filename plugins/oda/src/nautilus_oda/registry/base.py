"""The registry interface of the ODA plugin: entries, errors, and the :class:`Registry` protocol.

Owns what the collector (the ``oda-components`` reconciler, ``nautilus oda`` commands) and the two
registry clients (``component_registry.py``: the seed Component Registry REST API; ``tmf639.py``: the
TMF639 v5 Resource Inventory) agree on. The collector builds :class:`ComponentEntry` values from the
custom resources and calls :meth:`Registry.apply` / :meth:`Registry.delete`; the clients read back
what they own with :meth:`Registry.list_owned` so the collector can compare and send nothing when a
component is unchanged. Ownership is a mark kept in the registry itself (a ``managed-by`` label or
characteristic), so it survives restarts; entries without this owner's mark are never touched.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Literal, Protocol

from nautilus_core.errors import NautilusError, PermanentError, TransientError

#: the label (seed flavour) / characteristic (tmf639) holding the ownership mark
OWNER_LABEL = "managed-by"

ApiStatus = Literal["ready", "pending"]
Segment = Literal["coreFunction", "managementFunction", "securityFunction"]


def frozen_mapping(values: Mapping[str, str] | None = None) -> Mapping[str, str]:
    """A read-only copy of ``values`` (what the entries hold, so they stay hashable-by-content)."""
    return MappingProxyType(dict(values or {}))


@dataclass(frozen=True)
class ApiEntry:
    """One exposed API of a component as the registry should show it."""

    name: str  # ExposedAPI name as the registry shows it (e.g. "productcatalogmanagement")
    url: str | None  # None when the canvas has not published one yet
    specification: tuple[str, ...]  # OAS URL(s)
    status: ApiStatus
    api_type: str = "openapi"
    segment: str = "coreFunction"  # coreFunction | managementFunction | securityFunction
    labels: Mapping[str, str] = field(default_factory=frozen_mapping)  # extra labels of the API

    def __post_init__(self) -> None:
        object.__setattr__(self, "labels", frozen_mapping(self.labels))
        object.__setattr__(self, "specification", tuple(self.specification))

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, ApiEntry):
            return NotImplemented
        return (self.name, self.url, self.specification, self.status, self.api_type, self.segment,
                dict(self.labels)) == (other.name, other.url, other.specification, other.status,
                                       other.api_type, other.segment, dict(other.labels))

    def __hash__(self) -> int:
        return hash((self.name, self.url, self.specification, self.status, self.api_type, self.segment,
                     tuple(sorted(self.labels.items()))))


@dataclass(frozen=True)
class ComponentEntry:
    """One ODA component as the registry should show it."""

    name: str  # registry name: metadata.name, or "<ns>/<name>" when the collector watches all namespaces
    labels: Mapping[str, str]  # already prefix-stripped, e.g. {"version": "1.0", "functionalBlock": "CoreCommerce"}
    apis: tuple[ApiEntry, ...]

    def __post_init__(self) -> None:
        object.__setattr__(self, "labels", frozen_mapping(self.labels))
        object.__setattr__(self, "apis", tuple(self.apis))

    def __eq__(self, other: object) -> bool:
        """Equal when name, labels and the *set* of APIs (by name) match; API order does not matter."""
        if not isinstance(other, ComponentEntry):
            return NotImplemented
        return (self.name == other.name and dict(self.labels) == dict(other.labels)
                and sorted(self.apis, key=_api_key) == sorted(other.apis, key=_api_key))

    def __hash__(self) -> int:
        return hash((self.name, tuple(sorted(self.labels.items())), frozenset(self.apis)))

    def api(self, name: str) -> ApiEntry | None:
        """The API called ``name``, or ``None``."""
        return next((a for a in self.apis if a.name == name), None)


def _api_key(api: ApiEntry) -> tuple[str, str]:
    return (api.name, api.segment)


class RegistryError(NautilusError):
    """Base of the registry clients' errors; the message never contains the API key."""


class RegistryAuthError(RegistryError):
    """The registry refused the API key (401/403): permanent, never retried."""


class RegistryUnavailable(RegistryError, TransientError):
    """Connection refused, timeouts, 5xx or 429 after the bounded retries (``retry_after`` when known)."""


class RegistryRejected(RegistryError, PermanentError):
    """The registry (or the client's own limit check) refused a value; the message names component and field."""

    def __init__(self, message: str, *, component: str | None = None, field: str | None = None) -> None:
        super().__init__(message)
        self.component = component
        self.field = field


class Registry(Protocol):
    """A registry the collector keeps in step with the cluster (see the module docstring)."""

    flavour: str  # "component-registry" | "tmf639"
    registry_name: str  # COMPONENT_REGISTRY_NAME (seed flavour: registry entry of type "self")
    owner: str  # this collector instance's ownership mark (e.g. "nautilus-oda/<instance>")
    calls: Counter[tuple[str, str]]  # (operation, outcome) -> count, for the metrics

    def check(self) -> None:
        """Reachable and the key accepted, else :class:`RegistryAuthError` / :class:`RegistryUnavailable`."""
        ...

    def ensure_registry(self) -> None:
        """Create this collector's registry entry when it is missing (seed flavour; a no-op for tmf639)."""
        ...

    def list_owned(self) -> dict[str, ComponentEntry]:
        """Everything THIS owner created, read back (all pages), by component name."""
        ...

    def apply(self, desired: ComponentEntry, current: ComponentEntry | None) -> int:
        """Make the registry hold ``desired``; ``current`` is what :meth:`list_owned` returned for it.

        Minimal writes: creates what is missing, updates what changed, deletes APIs that left,
        readiness-only changes via the status PATCH (seed flavour). Validates the registry's limits
        first (too-long values are truncated or :class:`RegistryRejected` naming component and field).
        Returns the number of write calls (0 when ``desired == current``).
        """
        ...

    def delete(self, current: ComponentEntry) -> int:
        """Remove a component this owner made (its APIs first); returns the number of write calls."""
        ...

"""The error hierarchy of Nautilus.

Every module raises these; only the CLI turns them into click exceptions and exit codes
(0 ok, 1 operational failure, 2 usage/config error, 3 plugin error).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from nautilus_core.types import ClusterRef


class NautilusError(Exception):
    """Base of every error Nautilus raises on purpose."""

    exit_code = 1


class ConfigError(NautilusError):
    """A setting, flag or argument is invalid; the message names it and what is accepted."""

    exit_code = 2


class PluginError(NautilusError):
    """A plugin failed to load, registered something invalid, or raised from a hook."""

    exit_code = 3

    def __init__(self, message: str, *, plugin: str | None = None, hook: str | None = None) -> None:
        super().__init__(message)
        self.plugin = plugin
        self.hook = hook


class TransientError(NautilusError):
    """A failure worth retrying later (timeouts, 429, 5xx, connection resets)."""

    def __init__(self, message: str, *, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class PermanentError(NautilusError):
    """A failure that retrying will not fix until the input changes (bad spec, 4xx other than 429)."""


class SchemaError(NautilusError):
    """The database's schema is missing, behind, or at a revision this version does not know; the
    message says which and what to run (``nautilus db upgrade``)."""


class InvalidObjectError(PermanentError):
    """An object (row, custom resource, API answer) is malformed; the message names object and field."""

    def __init__(self, obj: str, field: str, problem: str) -> None:
        super().__init__(f"{obj}: field {field!r} {problem}")
        self.obj = obj
        self.field = field
        self.problem = problem


class PartialDiscovery(NautilusError):
    """A provider found some clusters but not all it should have seen (a kubeconfig file that cannot be
    read, a region, project, subscription or page that failed).

    Raised by ``ClusterProvider.discover`` with what it did find: the pipeline syncs ``clusters``,
    records the provider as failed with ``problems`` (each naming the file/region and what went
    wrong), and tombstones none of that provider's clusters in this run.
    """

    def __init__(self, clusters: Iterable[ClusterRef], problems: Iterable[str]) -> None:
        self.clusters: tuple[ClusterRef, ...] = tuple(clusters)
        self.problems: tuple[str, ...] = tuple(problems) or ("discovery incomplete",)
        super().__init__("; ".join(self.problems))

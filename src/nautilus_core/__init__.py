"""Nautilus: operate Kubernetes fleets from a SQL database.

The public API is what this module exports (plus ``nautilus_core.testing`` for test authors);
everything else may change between releases.
"""

from __future__ import annotations

from nautilus_core.cancellation import Cancelled, CancelToken
from nautilus_core.errors import (
    ConfigError,
    InvalidObjectError,
    NautilusError,
    PartialDiscovery,
    PermanentError,
    PluginError,
    SchemaError,
    TransientError,
)
from nautilus_core.hookspecs import hookimpl
from nautilus_core.types import (
    BaseReconciler,
    ClusterProvider,
    ClusterRef,
    ControllerContext,
    Decision,
    Enricher,
    Facts,
    Kind,
    MetricSample,
    NamespaceFacts,
    NodeFacts,
    ObjectCache,
    Outcome,
    OutcomeKind,
    Owns,
    PollSource,
    Reconciler,
    ReconcilerFactory,
    Request,
    ScalingEngine,
    ScalingInput,
    ServiceFacts,
    Watch,
    WatchSource,
)

__all__ = [
    "BaseReconciler",
    "CancelToken",
    "Cancelled",
    "ClusterProvider",
    "ClusterRef",
    "ConfigError",
    "ControllerContext",
    "Decision",
    "Enricher",
    "Facts",
    "InvalidObjectError",
    "Kind",
    "MetricSample",
    "NamespaceFacts",
    "NautilusError",
    "NodeFacts",
    "ObjectCache",
    "Outcome",
    "OutcomeKind",
    "Owns",
    "PartialDiscovery",
    "PermanentError",
    "PluginError",
    "PollSource",
    "Reconciler",
    "ReconcilerFactory",
    "Request",
    "ScalingEngine",
    "ScalingInput",
    "SchemaError",
    "ServiceFacts",
    "TransientError",
    "Watch",
    "WatchSource",
    "hookimpl",
]

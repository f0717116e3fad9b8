"""Nautilus: operate Kubernetes fleets from a SQL database.

The public API is what this module exports (plus ``nautilus_core.testing`` for test authors);
everything else may change between releases.
"""

from __future__ import annotations

from nautilus_core.errors import (
    ConfigError,
    InvalidObjectError,
    NautilusError,
    PermanentError,
    PluginError,
    SchemaError,
    TransientError,
)
from nautilus_core.hookspecs import hookimpl
from nautilus_core.types import (
    ClusterProvider,
    ClusterRef,
    ControllerContext,
    Decision,
    Enricher,
    Facts,
    MetricSample,
    NamespaceFacts,
    NodeFacts,
    Outcome,
    OutcomeKind,
    PollSource,
    Reconciler,
    ReconcilerFactory,
    ScalingEngine,
    ScalingInput,
    ServiceFacts,
    WatchSource,
)

__all__ = [
    "ClusterProvider",
    "ClusterRef",
    "ConfigError",
    "ControllerContext",
    "Decision",
    "Enricher",
    "Facts",
    "InvalidObjectError",
    "MetricSample",
    "NamespaceFacts",
    "NautilusError",
    "NodeFacts",
    "Outcome",
    "OutcomeKind",
    "PermanentError",
    "PluginError",
    "PollSource",
    "Reconciler",
    "ReconcilerFactory",
    "ScalingEngine",
    "ScalingInput",
    "SchemaError",
    "ServiceFacts",
    "TransientError",
    "WatchSource",
    "hookimpl",
]

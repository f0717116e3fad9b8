"""The ``scaling`` plugin: registers the engines ``threshold``, ``hpa`` and ``predictive``.

Owns the hook implementation only. The core's plugin manager imports this module through the
entry point ``scaling = "nautilus_scaling.plugin"`` and calls the hook once when it collects
scaling engines; registration creates the engine objects and does no I/O.
"""

from __future__ import annotations

from collections.abc import Callable

import nautilus_core
from nautilus_core.types import ScalingEngine
from nautilus_scaling.hpa import HpaEngine
from nautilus_scaling.predictive import PredictiveEngine
from nautilus_scaling.threshold import ThresholdEngine


@nautilus_core.hookimpl
def nautilus_register_scaling_engines(register: Callable[[ScalingEngine], None]) -> None:
    """Register one instance of each engine of this package."""
    register(ThresholdEngine())
    register(HpaEngine())
    register(PredictiveEngine())

"""The ``scaling`` plugin: registers the engines ``threshold``, ``hpa``, ``predictive`` and ``llm``.

Owns the hook implementation only. ``llm`` is registered only when the environment configures
it (``OPENAI_API_KEY`` or ``NAUTILUS_LLM_BASE_URL``) and the ``openai`` library is installed.
The core's plugin manager imports this module through the entry point
``scaling = "nautilus_scaling.plugin"`` and calls the hook once when it collects scaling engines;
registration creates the engine objects and does no I/O (it reads the environment only).
"""

from __future__ import annotations

import os
from collections.abc import Callable

import nautilus_core
from nautilus_core.types import ScalingEngine
from nautilus_scaling import llm
from nautilus_scaling.hpa import HpaEngine
from nautilus_scaling.predictive import PredictiveEngine
from nautilus_scaling.threshold import ThresholdEngine


@nautilus_core.hookimpl
def nautilus_register_scaling_engines(register: Callable[[ScalingEngine], None]) -> None:
    """Register one instance of each engine of this package."""
    register(ThresholdEngine())
    register(HpaEngine())
    register(PredictiveEngine())
    if llm.configured(os.environ) and llm.available():
        register(llm.LlmEngine(os.environ))

"""nautilus-scaling: the decision engines ``threshold``, ``hpa``, ``predictive`` and ``llm``.

Owns nothing but the package's public names; the engines live one per module and are registered
by ``nautilus_scaling.plugin``, which the core loads through the ``nautilus`` entry point
``scaling``. Library users may also import the engine classes directly.
"""

from __future__ import annotations

from nautilus_scaling.hpa import HpaEngine
from nautilus_scaling.llm import LlmEngine
from nautilus_scaling.predictive import PredictiveEngine
from nautilus_scaling.threshold import ThresholdEngine

__all__ = ["HpaEngine", "LlmEngine", "PredictiveEngine", "ThresholdEngine"]

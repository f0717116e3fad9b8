"""Fixtures for the nautilus-scaling engine tests: a factory of ScalingInput for one Deployment.

Used by the test modules of this folder; builds real core dataclasses (no mocks).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

import pytest

from nautilus_core import MetricSample, ScalingInput

MakeInput = Callable[..., ScalingInput]


@pytest.fixture
def make_input() -> MakeInput:
    """``make_input(current, low, high, metrics, history, scale_events=(), **options)`` for ``shop/web``."""

    def make(
        current: int = 3,
        low: int = 1,
        high: int = 10,
        metrics: Iterable[MetricSample] = (),
        history: Iterable[tuple[float, int]] = (),
        scale_events: Iterable[tuple[float, int]] = (),
        **options: Any,
    ) -> ScalingInput:
        return ScalingInput(
            namespace="shop",
            name="web",
            current_replicas=current,
            min_replicas=low,
            max_replicas=high,
            metrics=tuple(metrics),
            history=tuple(history),
            options=options,
            scale_events=tuple(scale_events),
        )

    return make

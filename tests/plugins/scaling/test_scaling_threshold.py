"""The ``threshold`` engine: step up on a crossed target, step down when every metric is calm."""

from __future__ import annotations

import math

import pytest

from nautilus_core import MetricSample
from nautilus_scaling.threshold import ThresholdEngine

M = MetricSample
ENGINE = ThresholdEngine()


@pytest.mark.parametrize(
    ("current", "low", "high", "metrics", "options", "expected", "says"),
    [
        pytest.param(3, 1, 10, [M("cpu", 90, 80)], {}, 4, "cpu is 90, above its target of 80, so add one "
                     "step of 1", id="gt-crossed"),
        pytest.param(3, 1, 10, [M("cpu", 90, 80)], {"step": 2}, 5, "one step of 2", id="step-option"),
        pytest.param(3, 1, 10, [M("cpu", 80, 80)], {}, 3, "no room to scale down", id="gt-at-target-holds"),
        pytest.param(3, 1, 10, [M("cpu", 60, 80)], {}, 3, "cpu is 60, above 40 = 0.5 x its target 80",
                     id="gt-between-holds"),
        pytest.param(3, 1, 10, [M("cpu", 40, 80)], {}, 2, "cpu is 40, at most 40 = 0.5 x its target 80",
                     id="gt-at-half-scales-down"),
        pytest.param(3, 1, 10, [M("cpu", 60, 80)], {"scale_down_ratio": 0.8}, 2, "at most 64",
                     id="scale-down-ratio-option"),
        pytest.param(3, 1, 10, [M("free", 50, 80, "lt")], {}, 4, "free is 50, below its target of 80",
                     id="lt-crossed"),
        pytest.param(3, 1, 10, [M("free", 100, 80, "lt")], {}, 3, "free is 100, below 160",
                     id="lt-between-holds"),
        pytest.param(3, 1, 10, [M("free", 160, 80, "lt")], {}, 2, "at least 160 = its target 80 / 0.5",
                     id="lt-at-double-scales-down"),
        pytest.param(3, 1, 10, [M("cpu", 30, 80), M("free", 50, 80, "lt")], {}, 4, "free is 50",
                     id="one-crossed-beats-calm"),
        pytest.param(3, 1, 10, [M("cpu", 30, 80), M("free", 200, 80, "lt")], {}, 2,
                     "every metric is comfortably on the safe side", id="all-calm"),
        pytest.param(3, 1, 10, [M("cpu", 30, 80), M("queue", None, 5)], {}, 3,
                     "queue has no value, and a missing value never causes a scale-down",
                     id="missing-blocks-scale-down"),
        pytest.param(3, 1, 10, [M("cpu", 30, 80), M("queue", math.nan, 5)], {}, 3,
                     "queue has no value", id="nan-blocks-scale-down"),
        pytest.param(3, 1, 10, [M("cpu", 90, 80), M("queue", None, 5)], {}, 4, "cpu is 90",
                     id="missing-does-not-block-scale-up"),
        pytest.param(3, 1, 10, [M("cpu", None, 80), M("queue", math.nan, 5)], {}, 3,
                     "no metric has a value (cpu, queue)", id="all-missing-holds"),
        pytest.param(3, 1, 10, [], {}, 3, "there are no metrics", id="no-metrics-holds"),
        pytest.param(0, 1, 10, [M("cpu", 90, 80)], {}, 1, "current replica count is 0",
                     id="zero-replicas-hold-then-clamp"),
        pytest.param(10, 1, 10, [M("cpu", 90, 80)], {"step": 2}, 10, "12 is clamped to the maximum of 10",
                     id="clamp-max"),
        pytest.param(1, 1, 10, [M("cpu", 10, 80)], {}, 1, "0 is clamped to the minimum of 1",
                     id="clamp-min"),
        pytest.param(12, 1, 10, [M("cpu", 60, 80)], {}, 10, "12 is clamped to the maximum of 10",
                     id="current-above-max"),
        pytest.param(2, 0, 10, [M("queue", 0, 0)], {}, 1, "queue is 0, at most 0",
                     id="target-0-empty-queue-scales-down"),
        pytest.param(2, 0, 10, [M("queue", 3, 0)], {}, 3, "queue is 3, above its target of 0",
                     id="target-0-any-message-scales-up"),
    ],
)
def test_threshold_rule(make_input, current, low, high, metrics, options, expected, says):
    decision = ENGINE.decide(make_input(current, low, high, metrics, **options))

    assert decision.replicas == expected
    assert says in decision.reason


def test_reason_and_details(make_input):
    decision = ENGINE.decide(make_input(10, 1, 10, [M("cpu", 90, 80), M("free", 300, 80, "lt")]))

    assert decision.reason == (
        "Hold at 10: cpu is 90, above its target of 80, so add one step of 1; "
        "11 is clamped to the maximum of 10."
    )
    states = {m["name"]: m["state"] for m in decision.details["metrics"]}
    assert states == {"cpu": "crossed", "free": "comfortable"}
    assert (decision.details["recommendation"], decision.details["clamped"]) == (11, 10)

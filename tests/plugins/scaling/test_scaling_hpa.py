"""The ``hpa`` engine: the Kubernetes HPA rule with numbers checkable by hand."""

from __future__ import annotations

import math

import pytest

from nautilus_core import InvalidObjectError, MetricSample
from nautilus_scaling.hpa import HpaEngine

M = MetricSample
NAN = math.nan
ENGINE = HpaEngine()


@pytest.mark.parametrize(
    ("current", "low", "high", "metrics", "options", "expected", "says"),
    [
        pytest.param(3, 1, 10, [M("cpu", 90, 50)], {}, 6, "ceil(1.8 x 3) = 6", id="ratio-1.8-of-3"),
        pytest.param(10, 1, 20, [M("cpu", 55, 50)], {}, 10, "within the 10% tolerance",
                     id="ratio-1.1-is-within-tolerance-exactly"),
        pytest.param(10, 1, 20, [M("cpu", 45, 50)], {}, 10, "within the 10% tolerance",
                     id="ratio-0.9-is-within-tolerance"),
        pytest.param(10, 1, 20, [M("cpu", 56, 50)], {}, 12, "ceil(1.12 x 10) = 12",
                     id="ratio-1.12-leaves-tolerance"),
        pytest.param(10, 1, 20, [M("cpu", 58, 50)], {"tolerance": 0.2}, 10, "within the 20% tolerance",
                     id="tolerance-option"),
        pytest.param(5, 1, 10, [M("cpu", 20, 50)], {}, 2, "ceil(0.4 x 5) = 2", id="scale-down"),
        pytest.param(4, 1, 10, [M("cpu", 30, 50), M("mem", 80, 50)], {}, 7,
                     "highest proposal of the metrics (cpu 3, mem 7)", id="several-metrics-take-max"),
        pytest.param(2, 1, 100, [M("cpu", 500, 50)], {}, 6, "Pods 4 per 15 s: 2 at the start of the period, so 6",
                     id="rate-limit-4-pods-beats-100-percent"),
        pytest.param(10, 1, 100, [M("cpu", 500, 50)], {}, 20, "allow at most 20 now",
                     id="rate-limit-100-percent-beats-4-pods"),
        pytest.param(10, 1, 100, [M("cpu", 500, 50)], {"scale_up_percent": 50, "scale_up_pods": 2}, 15,
                     "Pods 2 per 15 s: 10 at the start of the period, so 12; Percent 50% per 15 s",
                     id="rate-limit-options-up"),
        pytest.param(10, 1, 100, [M("cpu", 10, 50)], {"scale_down_percent": 50}, 5,
                     "allow no fewer than 5 now (Percent 50% per 15 s", id="rate-limit-options-down"),
        pytest.param(3, 1, 5, [M("cpu", 90, 50)], {}, 5, "6 is clamped to the maximum of 5",
                     id="clamp-max"),
        pytest.param(5, 2, 10, [M("cpu", 5, 50)], {}, 2, "1 is clamped to the minimum of 2",
                     id="clamp-min"),
        pytest.param(12, 1, 10, [M("cpu", 50, 50)], {}, 10, "12 is clamped to the maximum of 10",
                     id="current-above-max"),
        pytest.param(4, 1, 10, [M("cpu", 10, 50), M("queue", None, 5)], {}, 4,
                     "queue has no value, and while a metric is missing the engine never scales down",
                     id="missing-metric-blocks-scale-down"),
        pytest.param(4, 1, 10, [M("cpu", 10, 50), M("queue", NAN, 5)], {}, 4, "queue has no value",
                     id="nan-metric-blocks-scale-down"),
        pytest.param(3, 1, 10, [M("cpu", 90, 50), M("queue", NAN, 5)], {}, 6,
                     "queue has no value and is left out", id="missing-metric-does-not-block-scale-up"),
        pytest.param(3, 1, 10, [M("cpu", None, 50), M("queue", NAN, 5)], {}, 3,
                     "no metric has a value (cpu, queue)", id="all-missing-holds"),
        pytest.param(3, 1, 10, [M("cpu", math.inf, 50)], {}, 3, "no metric has a value",
                     id="infinite-is-missing"),
        pytest.param(3, 1, 10, [], {}, 3, "there are no metrics", id="no-metrics-holds"),
        pytest.param(0, 1, 10, [M("cpu", 90, 50)], {}, 1,
                     "current replica count is 0", id="zero-replicas-hold-then-clamp-to-min"),
        pytest.param(0, 0, 10, [M("cpu", 90, 50)], {}, 0, "current replica count is 0",
                     id="zero-replicas-hold"),
        pytest.param(4, 1, 10, [M("free", 20, 50, "lt")], {}, 8, "ratio target/value = 2.5",
                     id="lt-low-value-scales-up-rate-limited"),
        pytest.param(4, 1, 10, [M("free", 100, 50, "lt")], {}, 2, "ceil(0.5 x 4) = 2",
                     id="lt-high-value-scales-down"),
        pytest.param(4, 1, 6, [M("free", 0, 50, "lt")], {}, 6, "its ratio is unbounded",
                     id="lt-zero-value-asks-for-max"),
        pytest.param(4, 1, 6, [M("free", 5e-324, 50, "lt")], {}, 6, "its ratio is unbounded",
                     id="lt-tiny-value-asks-for-max-without-overflow"),
        pytest.param(4, 1, 6, [M("cpu", 1e308, 1e-300)], {}, 6, "its ratio is unbounded",
                     id="gt-huge-ratio-asks-for-max-without-overflow"),
    ],
)
def test_hpa_rule(make_input, current, low, high, metrics, options, expected, says):
    decision = ENGINE.decide(make_input(current, low, high, metrics, **options))

    assert decision.replicas == expected
    assert says in decision.reason


def test_reason_opens_with_the_change_and_details_carry_every_stage(make_input):
    decision = ENGINE.decide(make_input(2, 1, 5, [M("cpu", 500, 50)]))

    assert decision.reason.startswith("Scale up from 2 to 5: cpu is 500 against a target of 50")
    d = decision.details
    assert d["metrics"][0]["ratio"] == 10.0
    assert d["metrics"][0]["proposal"] == 20
    assert (d["recommendation"], d["stabilized"], d["rate_limited"], d["clamped"]) == (20, 20, 6, 5)
    assert d["rate_limit"]["scale_up_limit"] == 6


# --------------------------------------------------------------------------- stabilization


@pytest.mark.parametrize(
    ("now", "expected"),
    [(1100, 5), (1299, 5), (1299.9, 5), (1300, 2), (1500, 2)],
    ids=["100s-later", "299s-later", "just-inside", "300s-later-released", "long-after"],
)
def test_scale_down_waits_out_the_300s_window(make_input, now, expected):
    data = make_input(5, 1, 10, [M("cpu", 20, 50)], history=[(1000.0, 5)], now=now)

    decision = ENGINE.decide(data)

    assert decision.replicas == expected
    assert decision.details["recommendation"] == 2
    if expected == 5:
        assert "scale-down stabilization window keeps it at 5" in decision.reason


def test_window_uses_the_highest_recommendation_inside_it(make_input):
    # 9 was recommended at 1000, outside (1050, 1350]; inside are 4 and 3, so 4 wins over the raw 2.
    history = [(1000.0, 9), (1100.0, 4), (1250.0, 3)]
    decision = ENGINE.decide(make_input(6, 1, 10, [M("cpu", 10, 50)], history=history, now=1350))

    assert decision.replicas == 4
    assert decision.details["stabilization"]["highest_in_scale_down_window"] == 4
    assert "the highest recommendation of the last 300 s is 4" in decision.reason


def test_scale_up_is_not_stabilized_by_default(make_input):
    history = [(990.0, 3), (995.0, 3)]
    decision = ENGINE.decide(make_input(3, 1, 10, [M("cpu", 90, 50)], history=history, now=1000))

    assert decision.replicas == 6


def test_scale_up_window_option_holds_a_spike(make_input):
    history = [(950.0, 3), (990.0, 4)]
    data = make_input(3, 1, 10, [M("cpu", 90, 50)], history=history, now=1000, scale_up_stabilization=60)

    decision = ENGINE.decide(data)

    assert decision.replicas == 3
    assert "scale-up stabilization window keeps it at 3" in decision.reason


def test_controller_loop_holds_then_releases(make_input):
    """A caller recording details["recommendation"] every 30 s sees the drop applied at 300 s."""
    history: list[tuple[float, int]] = []
    replicas = 6
    seen = {}
    for now in range(0, 331, 30):
        cpu = 50 if now == 0 else 10  # load drops right after t=0
        decision = ENGINE.decide(make_input(replicas, 1, 10, [M("cpu", cpu, 50)], history=history, now=now))
        history.append((float(now), decision.details["recommendation"]))
        replicas = seen[now] = decision.replicas

    assert {t: r for t, r in seen.items() if t < 300} == dict.fromkeys(range(0, 300, 30), 6)
    assert seen[300] == 2  # ceil(0.2 x 6); the recommendation of 6 at t=0 has left the window
    # Now 1 is recommended (ceil(0.2 x 2)), but the recommendations of 2 since t=30 hold it again.
    assert seen[330] == 2


def test_history_without_now_is_an_error(make_input):
    with pytest.raises(InvalidObjectError) as err:
        ENGINE.decide(make_input(5, 1, 10, [M("cpu", 20, 50)], history=[(1000.0, 5)]))

    assert err.value.field == "options.now"


def test_history_without_now_is_fine_when_windows_are_off(make_input):
    data = make_input(5, 1, 10, [M("cpu", 20, 50)], history=[(1000.0, 5)], scale_down_stabilization=0)

    assert ENGINE.decide(data).replicas == 2

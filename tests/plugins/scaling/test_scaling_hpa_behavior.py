"""The ``hpa`` engine's HPA v2 behaviour: per-period policies, selectPolicy, scale events, bad shapes.

Every expected count is worked out by hand in the test's comment or id.
"""

from __future__ import annotations

import math

import pytest

from nautilus_core import InvalidObjectError, MetricSample
from nautilus_scaling.hpa import HpaEngine
from nautilus_scaling.predictive import PredictiveEngine

M = MetricSample
ENGINE = HpaEngine()
HOT = [M("cpu", 500, 50)]  # ratio 10: wants ten times the current count
COLD = [M("cpu", 5, 50)]  # ratio 0.1


def pods(value, period=60):
    return {"type": "Pods", "value": value, "periodSeconds": period}


def percent(value, period=60):
    return {"type": "Percent", "value": value, "periodSeconds": period}


def up(*policies, select="Max", window=0):
    return {"scaleUp": {"stabilizationWindowSeconds": window, "selectPolicy": select,
                        "policies": list(policies)}}


def down(*policies, select="Max", window=0):
    return {"scaleDown": {"stabilizationWindowSeconds": window, "selectPolicy": select,
                          "policies": list(policies)}}


@pytest.mark.parametrize(
    ("current", "high", "metrics", "behavior", "events", "expected", "says"),
    [
        pytest.param(10, 100, HOT, up(pods(4)), [(990.0, 3)], 11,
                     "Pods 4 per 60 s: 7 at the start of the period (3 added in the last 60 s), so 11",
                     id="a-change-10s-ago-counts-against-a-60s-policy"),
        pytest.param(10, 100, HOT, up(pods(4)), [(940.0, 3)], 14, "10 at the start of the period, so 14",
                     id="a-change-exactly-60s-ago-has-left-the-period"),
        pytest.param(10, 100, HOT, up(pods(4)), [(950.0, 6)], 10,
                     "recent changes already used that allowance, so it stays at 10",
                     id="allowance-used-up-holds-not-shrinks"),
        pytest.param(15, 100, HOT, up(percent(50)), [(970.0, 5)], 15, "10 at the start of the period",
                     id="percent-measured-from-period-start: ceil(10x1.5)=15"),
        pytest.param(10, 100, HOT, up(pods(4, 15), percent(100, 15), select="Min"), [], 14,
                     "selectPolicy Min takes the one allowing the least change", id="up-min: min(14,20)"),
        pytest.param(10, 100, HOT, up(pods(4, 15), percent(100, 15), select="Max"), [], 20,
                     "selectPolicy Max takes the one allowing the most change", id="up-max: max(14,20)"),
        pytest.param(10, 100, HOT, up(pods(4), select="Disabled"), [], 10, "scale-up is disabled",
                     id="up-disabled"),
        pytest.param(15, 100, HOT, up(pods(4, 15), percent(100, 120), select="Max"), [(940.0, 10)], 19,
                     "Pods 4 per 15 s: 15 at the start of the period, so 19",
                     id="each-policy-its-own-period: max(15+4, ceil(5x2)=10)"),
        pytest.param(15, 100, HOT, up(pods(4, 15), percent(100, 120), select="Min"), [(940.0, 10)], 15,
                     "Percent 100% per 120 s: 5 at the start of the period (10 added in the last 120 s)",
                     id="min-below-current-is-raised-to-current"),
        pytest.param(12, 100, HOT, up(pods(4)), [(950.0, 4), (980.0, -2)], 14,
                     "10 at the start of the period (2 added in the last 60 s), so 14",
                     id="up-and-down-events-net-out"),
        pytest.param(10, 100, COLD, down(pods(2)), [(980.0, -2)], 10,
                     "12 at the start of the period (2 removed in the last 60 s), so 10",
                     id="down-allowance-used-up-holds"),
        pytest.param(5, 100, COLD, down(percent(50)), [], 2, "Percent 50% per 60 s: 5 at the start of the period, so 2",
                     id="down-percent-rounds-down: floor(5x0.5)=2"),
        pytest.param(10, 100, COLD, down(pods(2), percent(50), select="Min"), [], 8,
                     "selectPolicy Min", id="down-min: max(8,5)"),
        pytest.param(10, 100, COLD, down(pods(2), percent(50), select="Max"), [], 5,
                     "selectPolicy Max", id="down-max: min(8,5)"),
        pytest.param(10, 100, COLD, down(pods(2), select="Disabled"), [], 10, "scale-down is disabled",
                     id="down-disabled"),
        pytest.param(10, 100, HOT, down(pods(1), select="Disabled"), [], 20, "allow at most 20 now",
                     id="disabling-down-leaves-up-default"),
        pytest.param(8, 12, HOT, up(pods(100)), [], 12, "80 is clamped to the maximum of 12",
                     id="max-replicas-bounds-the-policy"),
    ],
)
def test_behavior_policies(make_input, current, high, metrics, behavior, events, expected, says):
    data = make_input(current, 1, high, metrics, scale_events=events, now=1000.0, behavior=behavior)

    decision = ENGINE.decide(data)

    assert decision.replicas == expected, decision.reason
    assert says in decision.reason
    assert decision.details["replica_change"] == expected - current


def test_kubernetes_defaults_when_behavior_is_absent(make_input):
    decision = ENGINE.decide(make_input(3, 1, 100, HOT, behavior={}))
    limits = decision.details["rate_limit"]

    assert decision.replicas == 7  # max(3 + 4, ceil(3 x 2) = 6)
    assert [(p["type"], p["value"], p["period_seconds"]) for p in limits["scale_up"]["policies"]] == [
        ("Pods", 4, 15), ("Percent", 100, 15)]
    assert [(p["type"], p["value"], p["period_seconds"]) for p in limits["scale_down"]["policies"]] == [
        ("Percent", 100, 15)]
    assert decision.details["stabilization"]["scale_down_window"] == 300


def test_a_loop_adds_at_most_four_pods_per_minute(make_input):
    """A caller deciding every 15 s and recording each applied change sees 4 pods a minute."""
    events: list[tuple[float, int]] = []
    replicas, seen = 2, {}
    for now in range(0, 136, 15):
        data = make_input(replicas, 1, 100, HOT, scale_events=events, now=float(now), behavior=up(pods(4)))
        decision = ENGINE.decide(data)
        if decision.details["replica_change"]:
            events.append((float(now), decision.details["replica_change"]))
        replicas = seen[now] = decision.replicas

    assert seen == {0: 6, 15: 6, 30: 6, 45: 6, 60: 10, 75: 10, 90: 10, 105: 10, 120: 14, 135: 14}


def test_behavior_windows_stabilize(make_input):
    history = [(950.0, 9)]
    held = ENGINE.decide(make_input(9, 1, 100, COLD, history=history, now=1000.0,
                                    behavior=down(percent(100, 15), window=60)))
    released = ENGINE.decide(make_input(9, 1, 100, COLD, history=history, now=1010.0,
                                        behavior=down(percent(100, 15), window=60)))

    assert held.replicas == 9
    assert "the highest recommendation of the last 60 s is 9" in held.reason
    assert released.replicas == 1


def test_scale_up_window_from_behavior(make_input):
    data = make_input(3, 1, 100, HOT, history=[(990.0, 3)], now=1000.0, behavior=up(pods(4), window=30))

    assert ENGINE.decide(data).replicas == 3


def test_scale_events_without_now_is_an_error(make_input):
    with pytest.raises(InvalidObjectError) as err:
        ENGINE.decide(make_input(3, 1, 10, HOT, scale_events=[(990.0, 2)]))

    assert err.value.field == "options.now"
    assert "scale_events" in str(err.value)


@pytest.mark.parametrize(
    ("behavior", "field", "says"),
    [
        ("fast", "options.behavior", "expected a mapping"),
        ({"scaleSideways": {}}, "options.behavior.scaleSideways", "not a direction"),
        ({"scaleUp": []}, "options.behavior.scaleUp", "expected a mapping"),
        ({"scaleUp": {"window": 3}}, "options.behavior.scaleUp.window", "not a field"),
        ({"scaleUp": {"stabilizationWindowSeconds": -1}}, "options.behavior.scaleUp.stabilizationWindowSeconds",
         "from 0 to 3600"),
        ({"scaleDown": {"stabilizationWindowSeconds": 3601}},
         "options.behavior.scaleDown.stabilizationWindowSeconds", "from 0 to 3600"),
        ({"scaleDown": {"stabilizationWindowSeconds": math.nan}},
         "options.behavior.scaleDown.stabilizationWindowSeconds", "from 0 to 3600"),
        ({"scaleUp": {"selectPolicy": "max"}}, "options.behavior.scaleUp.selectPolicy", "Max, Min, Disabled"),
        ({"scaleUp": {"policies": []}}, "options.behavior.scaleUp.policies", "at least one policy"),
        ({"scaleUp": {"policies": "Pods"}}, "options.behavior.scaleUp.policies", "list of policies"),
        ({"scaleUp": {"policies": [4]}}, "options.behavior.scaleUp.policies[0]", "expected a mapping"),
        ({"scaleUp": {"policies": [pods(4), {"type": "pods", "value": 1, "periodSeconds": 15}]}},
         "options.behavior.scaleUp.policies[1].type", "'Pods' or 'Percent'"),
        ({"scaleDown": {"policies": [pods(0)]}}, "options.behavior.scaleDown.policies[0].value", "above 0"),
        ({"scaleDown": {"policies": [pods(1.5)]}}, "options.behavior.scaleDown.policies[0].value", "whole"),
        ({"scaleDown": {"policies": [pods(True)]}}, "options.behavior.scaleDown.policies[0].value", "whole"),
        ({"scaleDown": {"policies": [pods(1, 0)]}}, "options.behavior.scaleDown.policies[0].periodSeconds",
         "from 1 to 1800"),
        ({"scaleDown": {"policies": [pods(1, 1801)]}},
         "options.behavior.scaleDown.policies[0].periodSeconds", "from 1 to 1800"),
        ({"scaleDown": {"policies": [{"type": "Pods", "value": 1}]}},
         "options.behavior.scaleDown.policies[0].periodSeconds", "from 1 to 1800"),
        ({"scaleDown": {"policies": [{**pods(1), "period": 5}]}},
         "options.behavior.scaleDown.policies[0].period", "not a policy field"),
    ],
)
def test_invalid_behavior_names_the_field(make_input, behavior, field, says):
    with pytest.raises(InvalidObjectError) as err:
        ENGINE.decide(make_input(3, 1, 10, HOT, behavior=behavior))

    assert err.value.field == field
    assert says in str(err.value)
    assert "shop/web" in str(err.value)


def test_flat_options_and_behavior_cannot_be_combined(make_input):
    with pytest.raises(InvalidObjectError) as err:
        ENGINE.decide(make_input(3, 1, 10, HOT, behavior=up(pods(4)), scale_up_pods=2))

    assert err.value.field == "options.scale_up_pods"


@pytest.mark.parametrize(
    "event", [(1.0,), ("soon", 1), (1.0, 1.5), (math.nan, 1), (1.0, True), "1,1"],
    ids=["short", "time-text", "fraction", "nan-time", "bool-change", "text"],
)
def test_malformed_scale_events_name_the_entry(make_input, event):
    with pytest.raises(InvalidObjectError) as err:
        ENGINE.decide(make_input(3, 1, 10, HOT, scale_events=[(990.0, 1), event], now=1000.0))

    assert err.value.field == "scale_events[1]"


def test_predictive_applies_the_same_behaviour(make_input):
    """predictive forecasts, then hands over to the hpa stages: its policies count scale events too."""
    series = {"cpu": [(940.0, 300), (970.0, 400), (1000.0, 500)]}
    data = make_input(10, 1, 100, HOT, scale_events=[(990.0, 3)], now=1000.0, behavior=up(pods(4)),
                      series=series)

    decision = PredictiveEngine().decide(data)

    assert decision.replicas == 11  # 7 at the start of the 60 s period + 4
    assert "3 added in the last 60 s" in decision.reason

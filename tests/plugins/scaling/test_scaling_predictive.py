"""The ``predictive`` engine: a least-squares trend fed into the hpa rule."""

from __future__ import annotations

import math
from dataclasses import dataclass

import pytest

from nautilus_core import MetricSample
from nautilus_scaling.hpa import HpaEngine
from nautilus_scaling.predictive import PredictiveEngine, fit_line

M = MetricSample
ENGINE = PredictiveEngine()
RISING = [(0, 30), (60, 36), (120, 42), (180, 48)]  # +0.1 per second, 48 now (target 50: not crossed)


def test_rising_trend_scales_up_before_the_target_is_crossed(make_input):
    data = make_input(3, 1, 10, [M("cpu", 48, 50)], now=180, series={"cpu": RISING})

    decision = ENGINE.decide(data)

    # 48 + 0.1 x 300 = 78; 78 / 50 = 1.56; ceil(1.56 x 3) = ceil(4.68) = 5. The hpa rule sees 48: hold.
    assert HpaEngine().decide(make_input(3, 1, 10, [M("cpu", 48, 50)], now=180)).replicas == 3
    assert decision.replicas == 5
    assert decision.reason == (
        "Scale up from 3 to 5: cpu is forecast to reach 78 in 300 s (now 48, trend +0.1/s over 4 points) "
        "against a target of 50 (ratio 1.56), so ceil(1.56 x 3) = 5."
    )
    forecast = decision.details["forecasts"][0]
    assert (forecast["forecast"], forecast["at"], forecast["used"]) == (78.0, 480.0, "forecast")
    assert forecast["slope"] == pytest.approx(0.1)


@pytest.mark.parametrize(
    ("options", "expected", "forecast"),
    [
        pytest.param({}, 5, 78.0, id="no-now-forecasts-from-last-point"),
        pytest.param({"now": 240}, 6, 84.0, id="now-moves-the-forecast"),  # 84/50 = 1.68; ceil(5.04)
        pytest.param({"now": 180, "horizon": 600}, 7, 108.0, id="horizon-option"),  # ceil(6.48)=7
        pytest.param({"now": 180, "horizon": 0}, 3, 48.0, id="horizon-0-is-the-fitted-value"),
    ],
)
def test_forecast_time(make_input, options, expected, forecast):
    decision = ENGINE.decide(make_input(3, 1, 10, [M("cpu", 48, 50)], series={"cpu": RISING}, **options))

    assert decision.replicas == expected
    assert decision.details["forecasts"][0]["forecast"] == forecast


def test_unix_timestamps_keep_precision(make_input):
    start = 1_700_000_000.0
    series = [(start + t, v) for t, v in RISING]
    data = make_input(3, 1, 10, [M("cpu", 48, 50)], now=start + 180, series={"cpu": series})

    decision = ENGINE.decide(data)

    assert decision.replicas == 5
    assert decision.details["forecasts"][0]["forecast"] == 78.0


def test_falling_trend_never_scales_down_early(make_input):
    falling = [(0, 66), (60, 60), (120, 54), (180, 48)]
    decision = ENGINE.decide(make_input(3, 1, 10, [M("cpu", 48, 50)], now=180, series={"cpu": falling}))

    assert decision.replicas == 3
    assert "its forecast of 18 in 300 s is not worse" in decision.reason
    assert decision.details["forecasts"][0]["used"] == "current"


def test_lt_metric_falling_scales_up(make_input):
    free = [(0, 88), (60, 82), (120, 76), (180, 70)]  # -0.1/s: 40 in 300 s; 50/40 = 1.25; ceil(3.75)
    decision = ENGINE.decide(make_input(3, 1, 10, [M("free", 70, 50, "lt")], now=180, series={"free": free}))

    assert decision.replicas == 4
    assert "free is forecast to reach 40 in 300 s" in decision.reason


@pytest.mark.parametrize(
    "series",
    [
        pytest.param([], id="no-points"),
        pytest.param([(120, 42)], id="one-point"),
        pytest.param([(120, 42), (180, 48)], id="two-points"),
        pytest.param([(60, 36), (120, None), (180, 48)], id="three-with-one-missing"),
        pytest.param([(60, 36), (120, math.nan), (180, 48)], id="three-with-one-nan"),
    ],
)
def test_fewer_than_three_points_fall_back_to_hpa(make_input, series):
    data = make_input(3, 1, 10, [M("cpu", 90, 50)], now=180, series={"cpu": series})

    decision = ENGINE.decide(data)

    assert decision.replicas == HpaEngine().decide(make_input(3, 1, 10, [M("cpu", 90, 50)])).replicas == 6
    assert "No forecast was possible (cpu: " in decision.reason
    assert decision.reason.endswith(
        "fewer than the 3 a trend needs), so this is the hpa decision on current values.")


def test_points_at_one_time_fall_back(make_input):
    series = [(60, 36), (60, 40), (60, 44)]
    decision = ENGINE.decide(make_input(3, 1, 10, [M("cpu", 48, 50)], series={"cpu": series}))

    assert decision.replicas == 3
    assert "all 3 points have the same time" in decision.reason


def test_missing_points_are_skipped(make_input):
    series = [(0, 30), (60, None), (120, 42), (180, 48)]
    decision = ENGINE.decide(make_input(3, 1, 10, [M("cpu", 48, 50)], now=180, series={"cpu": series}))

    assert decision.replicas == 5
    assert decision.details["forecasts"][0]["points"] == 3


def test_one_metric_forecast_other_falls_back(make_input):
    metrics = [M("cpu", 48, 50), M("mem", 40, 50)]
    decision = ENGINE.decide(make_input(3, 1, 10, metrics, now=180, series={"cpu": RISING}))

    assert decision.replicas == 5
    assert "No forecast for mem: 0 points, fewer than the 3 a trend needs; its current value is used." \
        in decision.reason


def test_missing_current_value_is_missing_despite_history(make_input):
    data = make_input(4, 1, 10, [M("cpu", 10, 50), M("queue", None, 5)], now=180,
                      series={"queue": [(0, 1), (60, 2), (120, 3)]})

    decision = ENGINE.decide(data)

    assert decision.replicas == 4
    assert "queue has no value" in decision.reason


def test_stabilization_applies_to_forecast_decisions(make_input):
    falling = [(0, 26), (60, 24), (120, 22), (180, 20)]
    data = make_input(5, 1, 10, [M("cpu", 20, 50)], history=[(100.0, 5)], now=180, series={"cpu": falling})

    decision = ENGINE.decide(data)

    assert decision.replicas == 5
    assert decision.details["recommendation"] == 2
    assert "scale-down stabilization window" in decision.reason


def test_series_from_metric_history_field(make_input):
    """Forward compatible with the proposed ``MetricSample.history`` core field."""

    @dataclass(frozen=True)
    class SampleWithHistory(MetricSample):
        history: tuple[tuple[float, float], ...] = ()

    sample = SampleWithHistory("cpu", 48, 50, history=tuple(RISING))
    decision = ENGINE.decide(make_input(3, 1, 10, [sample], now=180))

    assert decision.replicas == 5


@pytest.mark.parametrize(
    ("points", "slope", "at_3"),
    [
        pytest.param([(0, 1), (1, 3), (2, 2)], 0.5, 3.0, id="least-squares"),  # mean (1, 2)
        pytest.param([(0, 5), (10, 5), (20, 5)], 0.0, 5.0, id="flat"),
        pytest.param([(0, 0), (1, 2), (2, 4), (3, 6)], 2.0, 6.0, id="exact-line"),
    ],
)
def test_fit_line(points, slope, at_3):
    trend = fit_line(points)

    assert trend is not None
    assert trend.slope == pytest.approx(slope)
    assert trend.at(3) == pytest.approx(at_3)

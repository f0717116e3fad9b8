"""Malformed inputs name their field; the plugin loads through the core's plugin manager."""

from __future__ import annotations

import json

import pytest

from nautilus_core import InvalidObjectError, MetricSample, PermanentError, ScalingEngine
from nautilus_core.plugins import build_plugin_manager
from nautilus_scaling import HpaEngine, PredictiveEngine, ThresholdEngine

M = MetricSample
ENGINES = [ThresholdEngine(), HpaEngine(), PredictiveEngine()]
CPU = [M("cpu", 90, 50)]


@pytest.mark.parametrize("engine", ENGINES, ids=lambda e: e.name)
@pytest.mark.parametrize(
    ("kwargs", "field", "problem"),
    [
        pytest.param({"low": 5, "high": 3}, "min_replicas", "is 5, more than max_replicas (3)", id="min>max"),
        pytest.param({"current": -1}, "current_replicas", "cannot be negative", id="negative-current"),
        pytest.param({"low": -1}, "min_replicas", "cannot be negative", id="negative-min"),
        pytest.param({"low": 0, "high": -2}, "max_replicas", "cannot be negative", id="negative-max"),
        pytest.param({"current": 2.5}, "current_replicas", "whole number", id="fractional-current"),
        pytest.param({"metrics": [M("cpu", 90, 50, "ge")]}, "metrics[0].condition", "'ge' (metric 'cpu')",
                     id="unknown-condition"),
        pytest.param({"metrics": [M("cpu", 90, None)]}, "metrics[0].target", "is missing", id="no-target"),
        pytest.param({"metrics": [M("cpu", 90, -5)]}, "metrics[0].target", "is -5", id="negative-target"),
        pytest.param({"metrics": [M("cpu", "90", 50)]}, "metrics[0].value", "expected a number",
                     id="text-value"),
        pytest.param({"metrics": [M("cpu", 1, 5), M("cpu", 2, 5)]}, "metrics[1].name", "already used",
                     id="duplicate-metric"),
        pytest.param({"history": [(10.0, -1)]}, "history[0]", "(unix time, replicas)", id="bad-history"),
        pytest.param({"stepp": 2}, "options.stepp", "is not an option of engine", id="unknown-option"),
        pytest.param({"now": "soon"}, "options.now", "unix time", id="bad-now"),
    ],
)
def test_malformed_input_names_object_and_field(make_input, engine, kwargs, field, problem):
    args = {"metrics": CPU, **kwargs}
    positional = {"current", "low", "high", "metrics", "history"}
    options = {k: args.pop(k) for k in list(args) if k not in positional}

    with pytest.raises(InvalidObjectError) as err:
        engine.decide(make_input(**args, **options))

    assert isinstance(err.value, PermanentError)
    assert err.value.obj == "shop/web"
    assert err.value.field == field
    assert problem in err.value.problem
    assert str(err.value).startswith(f"shop/web: field {field!r}")


@pytest.mark.parametrize(
    ("engine", "options", "metrics", "field"),
    [
        pytest.param(ThresholdEngine(), {"step": 0}, CPU, "options.step", id="threshold-step-0"),
        pytest.param(ThresholdEngine(), {"step": True}, CPU, "options.step", id="threshold-step-bool"),
        pytest.param(ThresholdEngine(), {"scale_down_ratio": 0}, CPU, "options.scale_down_ratio",
                     id="threshold-ratio-0"),
        pytest.param(ThresholdEngine(), {"scale_down_ratio": 1.5}, CPU, "options.scale_down_ratio",
                     id="threshold-ratio-above-1"),
        pytest.param(HpaEngine(), {}, [M("cpu", 90, 0)], "metrics[0].target", id="hpa-target-0"),
        pytest.param(HpaEngine(), {"tolerance": "0.1"}, CPU, "options.tolerance", id="hpa-tolerance-text"),
        pytest.param(HpaEngine(), {"scale_down_percent": 150}, CPU, "options.scale_down_percent",
                     id="hpa-down-percent-150"),
        pytest.param(HpaEngine(), {"scale_up_pods": -1}, CPU, "options.scale_up_pods", id="hpa-pods-neg"),
        pytest.param(HpaEngine(), {"horizon": 300}, CPU, "options.horizon", id="hpa-has-no-horizon"),
        pytest.param(PredictiveEngine(), {"horizon": -5}, CPU, "options.horizon", id="predictive-horizon"),
        pytest.param(PredictiveEngine(), {"series": [(0, 1)]}, CPU, "options.series",
                     id="predictive-series-not-mapping"),
        pytest.param(PredictiveEngine(), {"series": {"mem": []}}, CPU, "options.series.mem",
                     id="predictive-series-unknown-metric"),
        pytest.param(PredictiveEngine(), {"series": {"cpu": [(0, 1), ("x", 2)]}}, CPU,
                     "options.series.cpu[1]", id="predictive-series-bad-point"),
    ],
)
def test_malformed_options_name_the_option(make_input, engine, options, metrics, field):
    with pytest.raises(InvalidObjectError) as err:
        engine.decide(make_input(3, 1, 10, metrics, **options))

    assert err.value.field == field


def test_threshold_accepts_target_zero_hpa_does_not(make_input):
    data = make_input(3, 1, 10, [M("queue", 0, 0)])

    assert ThresholdEngine().decide(data).replicas == 2
    with pytest.raises(InvalidObjectError):
        HpaEngine().decide(data)


@pytest.mark.parametrize("engine", ENGINES, ids=lambda e: e.name)
def test_details_are_json_for_nautilus_json_output(make_input, engine):
    data = make_input(3, 1, 10, [M("cpu", 90, 50), M("queue", None, 5)], history=[(100.0, 3)], now=200,
                      **({"series": {"cpu": [(0, 80), (100, 85), (200, 90)]}} if engine.name == "predictive"
                         else {}))

    decision = engine.decide(data)

    assert json.loads(json.dumps(decision.details))["clamped"] == decision.replicas


def test_plugin_registers_three_engines_attributed_to_scaling():
    manager = build_plugin_manager()

    engines = manager.scaling_engines()

    for name in ("threshold", "hpa", "predictive"):
        assert engines[name].plugin == "scaling"
        assert isinstance(engines[name].obj, ScalingEngine)
        assert engines[name].obj.name == name
    info = {p.name: p for p in manager.info()}
    assert info["scaling"].distribution == "nautilus-scaling"
    assert info["scaling"].hooks == ("nautilus_register_scaling_engines",)


def test_registered_engine_decides(make_input):
    engine = build_plugin_manager().scaling_engines()["hpa"].obj

    assert engine.decide(make_input(3, 1, 10, CPU)).replicas == 6


def test_disabling_the_plugin_removes_its_engines():
    manager = build_plugin_manager(disable=["scaling"])

    assert not {"threshold", "hpa", "predictive"} & set(manager.scaling_engines())

"""The ``predictive`` engine: forecast each metric with a straight-line trend, then apply ``hpa``.

Owns the forecast. For every metric it fits a least-squares line (plain Python) through the
metric's recent ``(unix time, value)`` points and reads it ``horizon`` seconds after ``now`` (or
after the newest point when ``now`` is not given). The forecast replaces the current value in the
hpa rule only when it is worse (higher for ``gt``, lower for ``lt``): a forecast can scale up
before the target is crossed, but never scales down earlier than the hpa rule would. The hpa
stabilization, rate limits and clamp then apply unchanged (see ``hpa`` for the contract on
``history`` and ``now``).

Where the points come from: ``MetricSample.history`` when the core type has that field (the
proposed core change) and it is non-empty, else ``options["series"][metric name]``, a sequence of
``(unix time, value)`` pairs; points whose value is ``None``/NaN are skipped. A metric with fewer
than 3 usable points (or all at one time) keeps its current value, and the reason says so; when
no metric can be forecast the decision is the plain hpa decision. A metric without a current value
is missing, whatever its history. Forecasts are rounded to 12 significant digits so that
regression round-off (78.00000000000001) does not tip a tolerance or ceil comparison.

Options: every ``hpa`` option, plus ``horizon`` (seconds ahead, >= 0, default 300) and ``series``.

Called by the scaling controller through the registry built from ``plugin.py``; pure, no I/O.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from nautilus_core.errors import InvalidObjectError
from nautilus_core.types import Decision, MetricSample, ScalingInput
from nautilus_scaling import hpa
from nautilus_scaling.explain import num, signed
from nautilus_scaling.validation import (
    decision_time,
    is_missing,
    is_number,
    number_option,
    object_name,
    validate,
)

NAME = "predictive"
OPTIONS = (*hpa.OPTIONS, "horizon", "series")
MIN_POINTS = 3


@dataclass(frozen=True)
class Trend:
    """A least-squares line through ``points`` points, kept as its centre and slope."""

    slope: float
    mean_time: float
    mean_value: float
    points: int

    def at(self, when: float) -> float:
        return self.mean_value + self.slope * (when - self.mean_time)


def fit_line(points: Sequence[tuple[float, float]]) -> Trend | None:
    """The least-squares line through ``points``; None with fewer than 2 times to tell apart.

    Times are centred on their mean before multiplying, so unix timestamps (~1.7e9) lose no
    precision.
    """
    n = len(points)
    if n < 2:
        return None
    mean_time = math.fsum(t for t, _ in points) / n
    mean_value = math.fsum(v for _, v in points) / n
    sxx = math.fsum((t - mean_time) ** 2 for t, _ in points)
    if sxx == 0:
        return None
    sxy = math.fsum((t - mean_time) * (v - mean_value) for t, v in points)
    return Trend(sxy / sxx, mean_time, mean_value, n)


def _check_series_option(data: ScalingInput) -> None:
    if "series" not in data.options:
        return
    series = data.options["series"]
    obj = object_name(data)
    if not isinstance(series, Mapping):
        raise InvalidObjectError(obj, "options.series",
                                 f"is {series!r}; expected a mapping of metric name to points")
    names = [sample.name for sample in data.metrics]
    for key, points in series.items():
        if key not in names:
            raise InvalidObjectError(obj, f"options.series.{key}",
                                     f"names no metric of this input (metrics: {', '.join(names)})")
        if isinstance(points, str | bytes) or not isinstance(points, Sequence):
            raise InvalidObjectError(obj, f"options.series.{key}",
                                     f"is {points!r}; expected a sequence of (unix time, value) pairs")


def _points(data: ScalingInput, index: int, sample: MetricSample) -> list[tuple[float, float]]:
    """The usable points of one metric's series (see the module docstring for the source)."""
    raw: Any = getattr(sample, "history", ())
    field = f"metrics[{index}].history"
    if not raw:
        raw = data.options.get("series", {}).get(sample.name, ())
        field = f"options.series.{sample.name}"
    out = []
    for i, entry in enumerate(raw):
        ok = (isinstance(entry, tuple | list) and len(entry) == 2 and is_number(entry[0])
              and math.isfinite(entry[0]) and (entry[1] is None or is_number(entry[1])))
        if not ok:
            raise InvalidObjectError(object_name(data), f"{field}[{i}]",
                                     f"is {entry!r}; expected a (unix time, value) pair")
        if not is_missing(entry[1]):
            out.append((float(entry[0]), float(entry[1])))
    return out


def _forecast(
    data: ScalingInput, index: int, reading: hpa.Reading, horizon: float, now: float | None
) -> tuple[hpa.Reading, dict[str, Any], str | None]:
    """The reading the hpa rule gets for one metric, what was computed, and why not (fallback)."""
    info: dict[str, Any] = {"name": reading.name, "points": 0, "slope": None, "forecast": None,
                            "at": None, "used": "missing" if reading.value is None else "current"}
    if reading.value is None:
        return reading, info, None
    points = _points(data, index, data.metrics[index])
    info["points"] = len(points)
    if len(points) < MIN_POINTS:
        return reading, info, f"{len(points)} points, fewer than the {MIN_POINTS} a trend needs"
    trend = fit_line(points)
    if trend is None:
        return reading, info, f"all {len(points)} points have the same time"
    at = (now if now is not None else max(t for t, _ in points)) + horizon
    forecast = float(f"{trend.at(at):.12g}")
    info.update(slope=trend.slope, forecast=forecast, at=at)
    worse = forecast > reading.value if reading.condition == "gt" else forecast < reading.value
    if worse:
        info["used"] = "forecast"
        phrase = (f"{reading.name} is forecast to reach {num(forecast)} in {num(horizon)} s (now "
                  f"{num(reading.value)}, trend {signed(trend.slope)}/s over {trend.points} points)")
        return hpa.Reading(reading.name, forecast, reading.target, reading.condition, phrase), info, None
    phrase = (f"{reading.name} is {num(reading.value)} (its forecast of {num(forecast)} in "
              f"{num(horizon)} s is not worse, and a forecast never scales down early)")
    return hpa.Reading(reading.name, reading.value, reading.target, reading.condition, phrase), info, None


class PredictiveEngine:
    """The hpa rule applied to each metric's linear forecast ``horizon`` seconds ahead."""

    name = NAME

    def decide(self, data: ScalingInput) -> Decision:
        validate(data, engine=NAME, options=OPTIONS, positive_target=True)
        _check_series_option(data)
        settings = hpa.HpaSettings.from_input(data)
        horizon = number_option(data, "horizon", 300.0, minimum=0.0)
        now = decision_time(data, required=settings.needs_time(data))

        results = [_forecast(data, i, r, horizon, now) for i, r in enumerate(hpa.readings(data))]
        infos = [info for _, info, _ in results]
        fallbacks = [f"{info['name']}: {why}" for _, info, why in results if why]
        notes = []
        if fallbacks and not any(info["forecast"] is not None for info in infos):
            notes.append(f"No forecast was possible ({'; '.join(fallbacks)}), so this is the hpa "
                         "decision on current values.")
        elif fallbacks:
            notes.append(f"No forecast for {'; '.join(fallbacks)}; its current value is used.")

        decision = hpa.run(data, [r for r, _, _ in results], settings, now, engine=NAME, notes=notes)
        details = {**decision.details, "horizon": horizon, "forecasts": infos}
        return Decision(decision.replicas, decision.reason, details)

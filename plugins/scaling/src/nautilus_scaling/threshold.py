"""The ``threshold`` engine: step up when a metric crosses its target, step down when all are calm.

Owns the rule. Each metric has a ``condition``: ``gt`` crosses when ``value > target`` (CPU, queue
length), ``lt`` crosses when ``value < target`` (free capacity, idle workers; neither the HPA nor
KEDA offer this). Then:

* any metric crosses its target -> add ``step`` replicas;
* every metric is comfortably on the safe side -> remove ``step`` replicas. Comfortable means
  ``value <= scale_down_ratio x target`` for ``gt`` and ``value >= target / scale_down_ratio``
  for ``lt`` (with the default ratio 0.5: at most half the target, or at least twice it);
* otherwise hold. A missing value (``None``, NaN) never causes a scale-down: it holds, unless
  another metric crosses its target; with every value missing, or ``current_replicas == 0``, the
  engine holds the current count.

The result is always clamped to [min_replicas, max_replicas], and the reason says so.

Options: ``step`` (whole number >= 1, default 1), ``scale_down_ratio`` (0 < ratio <= 1, default
0.5), ``now`` (checked like the other engines' but unused). ``history`` is not used.

Called by the scaling controller through the registry built from ``plugin.py``; pure, no I/O.
"""

from __future__ import annotations

from typing import Any

from nautilus_core.types import Decision, MetricSample, ScalingInput
from nautilus_scaling.explain import clamp, exact, headline, num, sentence
from nautilus_scaling.validation import decision_time, int_option, is_missing, number_option, validate

NAME = "threshold"
OPTIONS = ("step", "scale_down_ratio", "now")

CROSSED, CALM, BAND, MISSING = "crossed", "comfortable", "within_band", "missing"


def _judge(sample: MetricSample, ratio: float) -> tuple[str, float]:
    """The metric's state and the value at which it counts as comfortable."""
    assert sample.target is not None  # validated
    target, factor = exact(sample.target), exact(ratio)
    calm_limit = target * factor if sample.condition == "gt" else target / factor
    if is_missing(sample.value):
        return MISSING, float(calm_limit)
    assert sample.value is not None
    value = exact(sample.value)
    if sample.condition == "gt":
        state = CROSSED if value > target else CALM if value <= calm_limit else BAND
    else:
        state = CROSSED if value < target else CALM if value >= calm_limit else BAND
    return state, float(calm_limit)


def _crossed_text(sample: MetricSample) -> str:
    side = "above" if sample.condition == "gt" else "below"
    assert sample.value is not None and sample.target is not None
    return f"{sample.name} is {num(sample.value)}, {side} its target of {num(sample.target)}"


def _calm_text(sample: MetricSample, limit: float, ratio: float, *, calm: bool) -> str:
    assert sample.value is not None and sample.target is not None
    if sample.condition == "gt":
        bound = "at most" if calm else "above"
        how = f"{num(ratio)} x its target {num(sample.target)}"
    else:
        bound = "at least" if calm else "below"
        how = f"its target {num(sample.target)} / {num(ratio)}"
    return f"{sample.name} is {num(sample.value)}, {bound} {num(limit)} = {how}"


class ThresholdEngine:
    """Step up when any metric crosses its target; step down when every metric is comfortable."""

    name = NAME

    def decide(self, data: ScalingInput) -> Decision:
        validate(data, engine=NAME, options=OPTIONS, positive_target=False)
        step = int_option(data, "step", 1, minimum=1)
        ratio = number_option(data, "scale_down_ratio", 0.5, minimum=0.0, maximum=1.0,
                              above_minimum=True)
        decision_time(data, required=False)  # checked like the other engines', otherwise unused
        current = data.current_replicas
        judged = [(sample, *_judge(sample, ratio)) for sample in data.metrics]
        details: dict[str, Any] = {
            "engine": NAME,
            "step": step,
            "scale_down_ratio": ratio,
            "current_replicas": current,
            "metrics": [
                {"name": s.name, "value": None if is_missing(s.value) else s.value, "target": s.target,
                 "condition": s.condition, "state": state, "scale_down_limit": limit}
                for s, state, limit in judged
            ],
        }
        crossed = [s for s, state, _ in judged if state == CROSSED]
        missing = [s.name for s, state, _ in judged if state == MISSING]
        band = [(s, limit) for s, state, limit in judged if state == BAND]
        calm = [(s, limit) for s, state, limit in judged if state == CALM]

        if current == 0:
            wanted, why = current, ("the current replica count is 0 (scaled to zero or paused), "
                                    "so the engine holds it")
        elif not judged:
            wanted, why = current, "there are no metrics to judge, so the engine holds the current count"
        elif len(missing) == len(judged):
            wanted, why = current, (f"no metric has a value ({', '.join(missing)}), "
                                    "so the engine holds the current count")
        elif crossed:
            wanted = current + step
            why = f"{' and '.join(_crossed_text(s) for s in crossed)}, so add one step of {step}"
        elif missing:
            wanted = current
            why = (f"no metric crosses its target, but {', '.join(missing)} has no value, "
                   "and a missing value never causes a scale-down")
        elif band:
            wanted = current
            texts = "; ".join(_calm_text(s, limit, ratio, calm=False) for s, limit in band)
            why = f"no metric crosses its target, but {texts}, so there is no room to scale down"
        else:
            wanted = max(current - step, 0)
            texts = "; ".join(_calm_text(s, limit, ratio, calm=True) for s, limit in calm)
            why = f"every metric is comfortably on the safe side ({texts}), so remove one step of {step}"

        replicas, clamp_note = clamp(wanted, data.min_replicas, data.max_replicas)
        details["recommendation"] = wanted
        details["clamped"] = replicas
        return Decision(replicas, sentence(headline(current, replicas), [why, clamp_note or ""]), details)

"""The ``hpa`` engine: the Kubernetes HorizontalPodAutoscaler algorithm, explained step by step.

Owns the rule and its three behaviour stages, which ``predictive`` reuses through :func:`run`:

1. Per metric, ``ratio = value / target`` (``target / value`` for ``lt`` metrics, which scale up
   when the value is low). Within ``tolerance`` of 1 the metric proposes the current count, else
   ``ceil(ratio x current_replicas)``. Several metrics: the highest proposal wins. If a metric has
   no value (``None``/NaN) and the rest would scale down, hold instead. An ``lt`` metric at or
   below 0 has an unbounded ratio and proposes ``max_replicas``. This is the *recommendation*.
2. Stabilize (the behaviour's ``stabilizationWindowSeconds``): scaling down goes no lower than the
   highest recommendation of the scale-down window (default 300 s); scaling up goes no higher than
   the lowest of the scale-up window (default 0: no delay).
3. Rate-limit with the behaviour's policies (see :mod:`nautilus_scaling.behavior`): each policy
   measures from the replica count at the start of its own ``periodSeconds``, so a change made
   10 s ago counts against a 60 s policy; ``selectPolicy`` Max/Min/Disabled picks among them.
4. Clamp to [min_replicas, max_replicas].

Decision contract (time and history):

* ``ScalingInput.history`` holds earlier ``(unix time, recommendation)`` pairs, oldest first: the
  ``details["recommendation"]`` of previous decisions (the value of stage 1), not the replica
  counts that were applied. The caller appends each new recommendation and may drop entries
  older than the longest window.
* ``ScalingInput.scale_events`` holds the ``(unix time, replica change)`` of each change the
  caller applied (``details["replica_change"]`` of a decision it carried out, at that decision's
  ``now``); the caller may drop entries older than the longest policy period. Without events
  every policy measures from ``current_replicas``.
* ``ScalingInput.now`` (or ``options["now"]``) is the unix time of this decision; engines never
  read the clock. It is required when ``scale_events`` is non-empty, or ``history`` is non-empty
  and a window is above 0. An entry counts as inside a window or period of ``w`` seconds when
  ``time > now - w``, so a recommendation made 300 s ago has left a 300 s window.
* Holding because of ``current_replicas == 0`` or missing metrics records the current count as the
  recommendation (a conservative choice: it keeps a later scale-down waiting for the window).

Options: ``now``, ``tolerance`` (>= 0, default 0.1), ``behavior`` (the HPA v2 shape,
``{"scaleUp": {"stabilizationWindowSeconds", "selectPolicy", "policies": [{"type", "value",
"periodSeconds"}]}, "scaleDown": {...}}``, Kubernetes defaults for missing parts), or the older
flat ``scale_up_stabilization``, ``scale_down_stabilization``, ``scale_up_pods``,
``scale_up_percent`` and ``scale_down_percent`` (which change the default 15 s policies).

Called by the scaling controller through the registry built from ``plugin.py``, and by
``predictive``; pure, no I/O.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

from nautilus_core.types import Decision, ScalingInput
from nautilus_scaling import behavior
from nautilus_scaling.behavior import Behavior, read_behavior
from nautilus_scaling.explain import clamp, exact, headline, num, sentence
from nautilus_scaling.validation import (
    decision_time,
    is_missing,
    number_option,
    validate,
)

NAME = "hpa"
OPTIONS = ("now", "tolerance", "behavior", *behavior.FLAT)
MAX_RATIO = 10**12  # a metric further than this from its target asks for max_replicas


@dataclass(frozen=True)
class HpaSettings:
    """The tolerance and behaviour of one decision, read from ``options``."""

    tolerance: float
    behavior: Behavior

    @classmethod
    def from_input(cls, data: ScalingInput) -> HpaSettings:
        return cls(tolerance=number_option(data, "tolerance", 0.1, minimum=0.0),
                   behavior=read_behavior(data))

    @property
    def up_window(self) -> float:
        return self.behavior.up.window

    @property
    def down_window(self) -> float:
        return self.behavior.down.window

    def needs_time(self, data: ScalingInput) -> bool:
        """``now`` is required: there is history inside a window, or scale events to count."""
        return bool(data.scale_events) or (bool(data.history) and (self.up_window > 0 or self.down_window > 0))


@dataclass(frozen=True)
class Reading:
    """One metric as the rule sees it; ``phrase`` is how the reason describes its value."""

    name: str
    value: float | None
    target: float
    condition: str
    phrase: str


def readings(data: ScalingInput) -> list[Reading]:
    """The input's metrics as readings of their current values (targets are validated)."""
    out = []
    for sample in data.metrics:
        value = None if is_missing(sample.value) else sample.value
        phrase = f"{sample.name} has no value" if value is None else f"{sample.name} is {num(value)}"
        out.append(Reading(sample.name, value, float(sample.target or 0), sample.condition, phrase))
    return out


@dataclass(frozen=True)
class Verdict:
    """What one metric proposes: ``proposal`` is None when it has no value."""

    reading: Reading
    ratio: Fraction | None
    proposal: int | None
    within: bool = False
    unbounded: bool = False

    def as_dict(self) -> dict[str, Any]:
        r = self.reading
        return {
            "name": r.name, "value": r.value, "target": r.target, "condition": r.condition,
            "ratio": None if self.ratio is None else float(self.ratio),
            "unbounded": self.unbounded, "within_tolerance": self.within, "proposal": self.proposal,
        }

    def clause(self, current: int, tolerance: float) -> str:
        r = self.reading
        if self.unbounded and r.condition == "lt" and (r.value or 0) <= 0:
            return (f"{r.phrase}, at or below 0 for a metric that scales up when low (target "
                    f"{num(r.target)}), so its ratio is unbounded and it proposes {self.proposal}")
        if self.unbounded:
            return (f"{r.phrase} against a target of {num(r.target)}, a ratio above "
                    f"{num(MAX_RATIO)}, so its ratio is unbounded and it proposes {self.proposal}")
        assert self.ratio is not None
        ratio = num(self.ratio) if r.condition == "gt" else f"target/value = {num(self.ratio)}"
        if self.within:
            return (f"{r.phrase} against a target of {num(r.target)} (ratio {ratio}, within the "
                    f"{num(tolerance * 100)}% tolerance), which keeps {current}")
        return (f"{r.phrase} against a target of {num(r.target)} (ratio {ratio}), "
                f"so ceil({num(self.ratio)} x {current}) = {self.proposal}")


def judge(reading: Reading, current: int, high: int, tolerance: float) -> Verdict:
    """Stage 1 for one metric."""
    if reading.value is None:
        return Verdict(reading, None, None)
    value, target = exact(reading.value), exact(reading.target)
    if reading.condition == "gt":
        ratio = value / target
    elif value <= 0:
        return Verdict(reading, None, max(current, high), unbounded=True)
    else:
        ratio = target / value
    if ratio > MAX_RATIO:  # e.g. 50 / 5e-324: no count can follow it, and float() would overflow
        return Verdict(reading, None, max(current, high), unbounded=True)
    if abs(1 - ratio) <= exact(tolerance):
        return Verdict(reading, ratio, current, within=True)
    return Verdict(reading, ratio, max(0, math.ceil(ratio * current)))


def stabilize(
    raw: int, current: int, history: Iterable[tuple[float, int]], now: float | None, s: HpaSettings
) -> tuple[int, str | None, dict[str, Any]]:
    """Stage 2: bound ``raw`` by the recommendations inside the two windows."""
    lowest = highest = raw
    used = 0
    if now is not None:
        for when, recommended in history:
            inside = False
            if when > now - s.up_window:
                lowest, inside = min(lowest, recommended), True
            if when > now - s.down_window:
                highest, inside = max(highest, recommended), True
            used += inside
    value = min(max(current, lowest), highest)
    info = {"scale_up_window": s.up_window, "scale_down_window": s.down_window,
            "lowest_in_scale_up_window": lowest, "highest_in_scale_down_window": highest,
            "history_in_windows": used}
    note = None
    if value > raw:
        note = (f"the scale-down stabilization window keeps it at {value} (the highest "
                f"recommendation of the last {num(s.down_window)} s is {highest})")
    elif value < raw:
        note = (f"the scale-up stabilization window keeps it at {value} (the lowest "
                f"recommendation of the last {num(s.up_window)} s is {lowest})")
    return value, note, info


def rate_limit(
    wanted: int, current: int, events: Sequence[tuple[float, int]], now: float | None, s: HpaSettings
) -> tuple[int, str | None, dict[str, Any]]:
    """Stage 3: the behaviour's policies, counting the scale events inside each period.

    Stage 4's clamp then bounds the result by [min_replicas, max_replicas], which gives the HPA
    controller's ``min(maxReplicas, up limit)`` and ``max(minReplicas, down limit)``.
    """
    up = behavior.limit(behavior.UP, current, s.behavior.up, events, now)
    down = behavior.limit(behavior.DOWN, current, s.behavior.down, events, now)
    info = {"scale_up_limit": up.limit, "scale_down_limit": down.limit,
            "scale_up": up.as_dict(), "scale_down": down.as_dict()}
    if wanted > up.limit:
        return up.limit, up.sentence(current, wanted), info
    if wanted < down.limit:
        return down.limit, down.sentence(current, wanted), info
    return wanted, None, info


def _recommend(verdicts: Sequence[Verdict], current: int, tolerance: float) -> tuple[int, list[str]]:
    """Stage 1 across metrics: the highest proposal, held if a missing metric blocks a scale-down."""
    valid = [v for v in verdicts if v.proposal is not None]
    missing = ", ".join(v.reading.name for v in verdicts if v.proposal is None)
    if all(v.within for v in valid):
        ratios = "; ".join(f"{v.reading.phrase}, ratio {num(v.ratio or 0)}" for v in valid)
        which = "every metric with a value" if missing else "every metric"
        parts = [f"{which} is within the {num(tolerance * 100)}% tolerance of its target "
                 f"({ratios}), which keeps {current}"]
        raw = current
    else:
        driver = max(valid, key=lambda v: v.proposal or 0)
        raw = driver.proposal or 0
        parts = [driver.clause(current, tolerance)]
        if len(valid) > 1:
            proposals = ", ".join(f"{v.reading.name} {v.proposal}" for v in valid)
            parts.append(f"that is the highest proposal of the metrics ({proposals})")
    if missing and raw < current:
        parts.append(f"but {missing} has no value, and while a metric is missing the engine never "
                     f"scales down, so the recommendation stays at {current}")
        raw = current
    elif missing:
        parts.append(f"{missing} has no value and is left out")
    return raw, parts


def run(
    data: ScalingInput,
    metric_readings: Sequence[Reading],
    settings: HpaSettings,
    now: float | None,
    *,
    engine: str = NAME,
    notes: Sequence[str] = (),
) -> Decision:
    """The whole rule on already validated input; ``notes`` are appended to the reason."""
    current, low, high = data.current_replicas, data.min_replicas, data.max_replicas
    verdicts = [judge(r, current, high, settings.tolerance) for r in metric_readings]
    details: dict[str, Any] = {
        "engine": engine, "current_replicas": current, "min_replicas": low, "max_replicas": high,
        "tolerance": settings.tolerance, "now": now, "metrics": [v.as_dict() for v in verdicts],
    }
    if current == 0 or all(v.proposal is None for v in verdicts):
        if current == 0:
            why = ("the current replica count is 0 (scaled to zero or paused) and the rule multiplies "
                   "it, so the engine holds it")
        elif not verdicts:
            why = "there are no metrics, so the engine holds the current count"
        else:
            names = ", ".join(v.reading.name for v in verdicts)
            why = f"no metric has a value ({names}), so the engine holds the current count"
        replicas, clamp_note = clamp(current, low, high)
        details.update(recommendation=current, stabilized=current, rate_limited=current, clamped=replicas,
                       replica_change=replicas - current)
        return Decision(replicas, sentence(headline(current, replicas), [why, clamp_note or ""])
                        + "".join(f" {n}" for n in notes), details)

    raw, parts = _recommend(verdicts, current, settings.tolerance)
    stabilized, stab_note, stab_info = stabilize(raw, current, data.history, now, settings)
    limited, limit_note, limit_info = rate_limit(stabilized, current, data.scale_events, now, settings)
    replicas, clamp_note = clamp(limited, low, high)
    details.update(
        recommendation=raw, stabilized=stabilized, rate_limited=limited, clamped=replicas,
        stabilization=stab_info, rate_limit=limit_info, replica_change=replicas - current,
    )
    parts += [note for note in (stab_note, limit_note, clamp_note) if note]
    reason = sentence(headline(current, replicas), parts) + "".join(f" {n}" for n in notes)
    return Decision(replicas, reason, details)


class HpaEngine:
    """The Kubernetes HPA rule with its default behaviour, configurable through ``options``."""

    name = NAME

    def decide(self, data: ScalingInput) -> Decision:
        validate(data, engine=NAME, options=OPTIONS, positive_target=True)
        settings = HpaSettings.from_input(data)
        now = decision_time(data, required=settings.needs_time(data))
        return run(data, readings(data), settings, now)

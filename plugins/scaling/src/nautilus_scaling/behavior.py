"""The HPA v2 ``behavior``: reading it from options, and the per-period rate limits it sets.

Owns the shape ``options["behavior"] = {"scaleUp": rules, "scaleDown": rules}`` where ``rules`` is
``{"stabilizationWindowSeconds": 0-3600, "selectPolicy": "Max"|"Min"|"Disabled", "policies":
[{"type": "Pods"|"Percent", "value": > 0, "periodSeconds": 1-1800}, ...]}``. Each missing part takes
the Kubernetes default: scale-up window 0 s, policies Pods 4 and Percent 100 per 15 s; scale-down
window 300 s, policy Percent 100 per 15 s; selectPolicy Max. An empty policy list, an unknown key or
a value out of range is an :class:`~nautilus_core.errors.InvalidObjectError` naming the field
(``options.behavior.scaleUp.policies[1].periodSeconds``). The older flat options
(``scale_up_pods``, ``scale_up_percent``, ``scale_down_percent``, ``scale_up_stabilization``,
``scale_down_stabilization``) still work: they change the default rules and cannot be combined
with ``behavior``.

The limits follow the HPA controller: for each policy, the replica count at the start of its
period is ``current - (net change of the scale events inside the last periodSeconds)``; scale-up
proposes ``start + value`` (Pods) or ``ceil(start x (1 + value/100))`` (Percent), scale-down
``start - value`` or ``floor(start x (1 - value/100))``. ``Max`` picks the proposal allowing the
biggest change, ``Min`` the smallest, ``Disabled`` allows no change; an up limit below ``current``
is raised to it and a down limit above ``current`` lowered to it. An event counts inside a period
of ``p`` seconds when ``time > now - p``.

Called by ``hpa`` (and so ``predictive``); pure, no I/O.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

from nautilus_core.errors import InvalidObjectError
from nautilus_core.types import ScalingInput
from nautilus_scaling.explain import exact, num
from nautilus_scaling.validation import is_number, number_option, object_name

UP, DOWN = "scaleUp", "scaleDown"
SELECTS = ("Max", "Min", "Disabled")
TYPES = ("Pods", "Percent")
RULE_KEYS = ("stabilizationWindowSeconds", "selectPolicy", "policies")
POLICY_KEYS = ("type", "value", "periodSeconds")
MAX_WINDOW, MAX_PERIOD, DEFAULT_PERIOD = 3600, 1800, 15
FLAT = ("scale_up_stabilization", "scale_down_stabilization", "scale_up_pods", "scale_up_percent",
        "scale_down_percent")


@dataclass(frozen=True)
class Policy:
    kind: str  # "Pods" | "Percent"
    value: float
    period: int

    def text(self) -> str:
        """``Pods 4 per 15 s``, ``Percent 100% per 60 s``."""
        amount = num(self.value) if self.kind == "Pods" else f"{num(self.value)}%"
        return f"{self.kind} {amount} per {self.period} s"


@dataclass(frozen=True)
class Rules:
    """One direction's rules."""

    window: float
    select: str
    policies: tuple[Policy, ...]


@dataclass(frozen=True)
class Behavior:
    up: Rules
    down: Rules

    @property
    def longest_period(self) -> int:
        return max((p.period for p in (*self.up.policies, *self.down.policies)), default=0)


def _fail(data: ScalingInput, field: str, problem: str) -> InvalidObjectError:
    return InvalidObjectError(obj=object_name(data), field=field, problem=problem)


def _flat_defaults(data: ScalingInput) -> Behavior:
    """The Kubernetes defaults, changed by the flat options when given."""
    up_pods = number_option(data, "scale_up_pods", 4, minimum=0)
    if up_pods != int(up_pods):
        raise _fail(data, "options.scale_up_pods", f"is {up_pods}; expected a whole number")
    up_percent = number_option(data, "scale_up_percent", 100.0, minimum=0.0)
    down_percent = number_option(data, "scale_down_percent", 100.0, minimum=0.0, maximum=100.0)
    return Behavior(
        Rules(number_option(data, "scale_up_stabilization", 0.0, minimum=0.0), "Max",
              (Policy("Pods", up_pods, DEFAULT_PERIOD), Policy("Percent", up_percent, DEFAULT_PERIOD))),
        Rules(number_option(data, "scale_down_stabilization", 300.0, minimum=0.0), "Max",
              (Policy("Percent", down_percent, DEFAULT_PERIOD),)),
    )


def _policy(data: ScalingInput, where: str, raw: object) -> Policy:
    if not isinstance(raw, Mapping):
        raise _fail(data, where, f"is {raw!r}; expected a mapping with type, value and periodSeconds")
    for key in raw:
        if key not in POLICY_KEYS:
            raise _fail(data, f"{where}.{key}", f"is not a policy field (known: {', '.join(POLICY_KEYS)})")
    kind = raw.get("type")
    if kind not in TYPES:
        raise _fail(data, f"{where}.type", f"is {kind!r}; expected 'Pods' or 'Percent'")
    value = raw.get("value")
    if not isinstance(value, int) or isinstance(value, bool) or value <= 0:
        raise _fail(data, f"{where}.value", f"is {value!r}; expected a whole number above 0")
    period = raw.get("periodSeconds")
    if not isinstance(period, int) or isinstance(period, bool) or not 0 < period <= MAX_PERIOD:
        raise _fail(data, f"{where}.periodSeconds",
                    f"is {period!r}; expected a whole number of seconds from 1 to {MAX_PERIOD}")
    return Policy(kind, value, period)


def _rules(data: ScalingInput, direction: str, raw: object, default: Rules) -> Rules:
    where = f"options.behavior.{direction}"
    if raw is None:
        return default
    if not isinstance(raw, Mapping):
        raise _fail(data, where, f"is {raw!r}; expected a mapping ({', '.join(RULE_KEYS)})")
    for key in raw:
        if key not in RULE_KEYS:
            raise _fail(data, f"{where}.{key}", f"is not a field of the rules (known: {', '.join(RULE_KEYS)})")
    window: Any = raw.get("stabilizationWindowSeconds", default.window)
    if not is_number(window) or not math.isfinite(window) or not 0 <= window <= MAX_WINDOW:
        raise _fail(data, f"{where}.stabilizationWindowSeconds",
                    f"is {window!r}; expected seconds from 0 to {MAX_WINDOW}")
    select = raw.get("selectPolicy", default.select)
    if select not in SELECTS:
        raise _fail(data, f"{where}.selectPolicy", f"is {select!r}; expected one of {', '.join(SELECTS)}")
    policies = default.policies
    if "policies" in raw:
        items = raw["policies"]
        if not isinstance(items, Sequence) or isinstance(items, str | bytes):
            raise _fail(data, f"{where}.policies", f"is {items!r}; expected a list of policies")
        if not items:
            raise _fail(data, f"{where}.policies",
                        "is empty; name at least one policy, or leave it out for the defaults")
        policies = tuple(_policy(data, f"{where}.policies[{i}]", p) for i, p in enumerate(items))
    return Rules(float(window), str(select), policies)


def read_behavior(data: ScalingInput) -> Behavior:
    """The behaviour of this decision, with the defaults filled in; raises naming a bad field."""
    defaults = _flat_defaults(data)
    raw = data.options.get("behavior")
    if raw is None:
        return defaults
    flat = [key for key in FLAT if key in data.options]
    if flat:
        raise _fail(data, f"options.{flat[0]}",
                    "cannot be combined with options.behavior; set it in the behavior instead")
    if not isinstance(raw, Mapping):
        raise _fail(data, "options.behavior", f"is {raw!r}; expected a mapping with scaleUp and scaleDown")
    for key in raw:
        if key not in (UP, DOWN):
            raise _fail(data, f"options.behavior.{key}", "is not a direction; expected scaleUp or scaleDown")
    return Behavior(_rules(data, UP, raw.get(UP), defaults.up),
                    _rules(data, DOWN, raw.get(DOWN), defaults.down))


# --------------------------------------------------------------------------- limits


def change_within(events: Sequence[tuple[float, int]], now: float | None, period: int) -> int:
    """The net replica change of the scale events made inside the last ``period`` seconds."""
    if now is None:
        return 0
    return sum(change for when, change in events if when > now - period)


@dataclass(frozen=True)
class Limit:
    """One direction's limit for this decision and how each policy arrived at it."""

    direction: str
    limit: int
    select: str
    proposals: tuple[tuple[Policy, int, int], ...]  # (policy, replicas at period start, proposal)

    def as_dict(self) -> dict[str, Any]:
        return {
            "select_policy": self.select, "limit": self.limit,
            "policies": [{"type": p.kind, "value": p.value, "period_seconds": p.period,
                          "period_start_replicas": start, "proposal": proposal}
                         for p, start, proposal in self.proposals],
        }

    def sentence(self, current: int, wanted: int) -> str:
        """Why ``wanted`` became ``self.limit``."""
        verb = "scale-up" if self.direction == UP else "scale-down"
        if self.select == "Disabled":
            return f"{verb} is disabled (selectPolicy Disabled), so it stays at {current}"
        steps = []
        for p, start, proposal in self.proposals:
            if start == current:
                origin = f"{start} at the start of the period"
            else:
                moved = current - start
                did = f"{moved} added" if moved > 0 else f"{-moved} removed"
                origin = f"{start} at the start of the period ({did} in the last {p.period} s)"
            steps.append(f"{p.text()}: {origin}, so {proposal}")
        pick = ""
        if len(self.proposals) > 1:
            most = "most" if self.select == "Max" else "least"
            pick = f"; selectPolicy {self.select} takes the one allowing the {most} change"
        values = [proposal for _, _, proposal in self.proposals]
        chosen = (max if (self.direction == UP) == (self.select == "Max") else min)(values)
        if chosen != self.limit:
            pick += f"; recent changes already used that allowance, so it stays at {current}"
        bound = "at most" if self.direction == UP else "no fewer than"
        return (f"the {verb} policies allow {bound} {self.limit} now ({'; '.join(steps)}{pick}), "
                f"not {wanted}, so {self.limit}")


def _proposal(direction: str, policy: Policy, start: int) -> int:
    value = exact(policy.value)
    if direction == UP:
        if policy.kind == "Pods":
            return start + int(value)
        return math.ceil(start * (1 + value / 100))
    if policy.kind == "Pods":
        return start - int(value)
    return max(0, math.floor(start * (1 - Fraction(value) / 100)))


def limit(direction: str, current: int, rules: Rules, events: Sequence[tuple[float, int]],
          now: float | None) -> Limit:
    """How far ``direction`` may go from ``current`` now, given the scale events so far."""
    if rules.select == "Disabled":
        return Limit(direction, current, rules.select, ())
    proposals = []
    for policy in rules.policies:
        start = current - change_within(events, now, policy.period)
        proposals.append((policy, start, _proposal(direction, policy, start)))
    values = [proposal for _, _, proposal in proposals]
    if direction == UP:
        chosen = max(values) if rules.select == "Max" else min(values)
        bound = max(chosen, current)
    else:
        chosen = min(values) if rules.select == "Max" else max(values)
        bound = min(chosen, current)
    return Limit(direction, bound, rules.select, tuple(proposals))

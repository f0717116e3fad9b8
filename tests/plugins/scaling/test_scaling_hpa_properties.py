"""Properties of the ``hpa`` engine over generated behaviours, histories and loads.

Monotone in load, always within [min, max], and the behaviour's rate limits never exceeded: a
simulated caller applies every decision and records it as a scale event, and an independent replica
timeline is checked against every policy over every window.
"""

from __future__ import annotations

import itertools
import math
from fractions import Fraction

from hypothesis import given, settings
from hypothesis import strategies as st

from nautilus_core import MetricSample, ScalingInput
from nautilus_scaling.hpa import HpaEngine

ENGINE = HpaEngine()
BOUNDED = settings(max_examples=50, deadline=None)

policy = st.one_of(
    st.fixed_dictionaries({"type": st.just("Pods"), "value": st.integers(1, 6),
                           "periodSeconds": st.sampled_from([15, 30, 60, 120])}),
    st.fixed_dictionaries({"type": st.just("Percent"), "value": st.integers(1, 200),
                           "periodSeconds": st.sampled_from([15, 30, 60, 120])}),
)


ANY_SELECT = st.sampled_from(["Max", "Min", "Disabled"])
ENABLED = st.sampled_from(["Max", "Min"])


def rules(select=ANY_SELECT):
    return st.fixed_dictionaries({
        "stabilizationWindowSeconds": st.sampled_from([0, 30, 300]),
        "selectPolicy": select,
        "policies": st.lists(policy, min_size=1, max_size=3),
    })


behaviors = st.fixed_dictionaries({"scaleUp": rules(), "scaleDown": rules()})
values = st.floats(0, 2000, allow_nan=False)
times = st.lists(st.integers(1, 40), min_size=1, max_size=25)  # seconds between decisions


def data(current, low, high, value, condition="gt", behavior=None, history=(), events=(), now=1000.0):
    return ScalingInput(
        "shop", "web", current, low, high, (MetricSample("load", value, 50.0, condition),),
        history=tuple(history), options={} if behavior is None else {"behavior": behavior},
        now=now, scale_events=tuple(events),
    )


@st.composite
def situations(draw):
    low = draw(st.integers(0, 5))
    high = draw(st.integers(low, 40))
    current = draw(st.integers(0, 45))
    history = draw(st.lists(st.tuples(st.floats(600, 1000), st.integers(0, 45)), max_size=5))
    events = draw(st.lists(st.tuples(st.floats(850, 1000), st.integers(-10, 10)), max_size=5))
    return current, low, high, draw(behaviors), sorted(history), sorted(events)


@BOUNDED
@given(situations(), values, values, st.sampled_from(["gt", "lt"]))
def test_monotone_in_load(situation, a, b, condition):
    current, low, high, behavior, history, events = situation
    lighter, heavier = (a, b) if a <= b else (b, a)
    if condition == "lt":  # an lt metric is under more load when its value is lower
        lighter, heavier = heavier, lighter
    first = ENGINE.decide(data(current, low, high, lighter, condition, behavior, history, events))
    second = ENGINE.decide(data(current, low, high, heavier, condition, behavior, history, events))

    assert first.replicas <= second.replicas, (first.reason, second.reason)


@BOUNDED
@given(situations(), st.one_of(values, st.none(), st.just(math.nan)), st.sampled_from(["gt", "lt"]))
def test_always_within_min_and_max(situation, value, condition):
    current, low, high, behavior, history, events = situation
    decision = ENGINE.decide(data(current, low, high, value, condition, behavior, history, events))

    assert low <= decision.replicas <= high, decision.reason


# --------------------------------------------------------------------------- rate limits


def up_bound(policy, start):
    if policy["type"] == "Pods":
        return start + policy["value"]
    return math.ceil(start * (1 + Fraction(policy["value"], 100)))


def down_bound(policy, start):
    if policy["type"] == "Pods":
        return start - policy["value"]
    return math.floor(start * (1 - Fraction(policy["value"], 100)))


def simulate(start, low, high, behavior, gaps, loads):
    """Decide at each time, apply the change and record it; the replica count after each time."""
    events, history, replicas, now = [], [], start, 0.0
    timeline = [(-math.inf, start)]
    for gap, load in zip(gaps, loads, strict=False):
        now += gap
        decision = ENGINE.decide(data(replicas, low, high, load, "gt", behavior, history, events, now))
        history.append((now, decision.details["recommendation"]))
        if decision.replicas != replicas:
            events.append((now, decision.replicas - replicas))
            replicas = decision.replicas
            timeline.append((now, replicas))
    return timeline, now


def count_at(timeline, when):
    """The replica count after every change made at or before ``when``."""
    return [r for t, r in timeline if t <= when][-1]


def check_windows(timeline, end, rules, direction):
    """At every second, each policy's limit over the window ending there holds (Min: every policy;
    Max: the most generous one, as the HPA's selectPolicy defines)."""
    pick = max if (direction == "up") == (rules["selectPolicy"] == "Max") else min
    bound = up_bound if direction == "up" else down_bound
    for second in range(0, int(end) + 1):
        now = count_at(timeline, second)
        allowed = pick(bound(p, count_at(timeline, second - p["periodSeconds"])) for p in rules["policies"])
        if direction == "up":
            assert now <= allowed, (second, timeline)
        else:
            assert now >= allowed, (second, timeline)


@st.composite
def runs(draw, select=ENABLED):
    low = draw(st.integers(1, 3))
    high = draw(st.integers(low, 60))
    start = draw(st.integers(low, high))
    gaps = draw(times)
    loads = draw(st.lists(values, min_size=len(gaps), max_size=len(gaps)))
    return low, high, start, draw(rules(select)), gaps, loads


@BOUNDED
@given(runs())
def test_scale_up_limits_hold_over_every_window(run):
    low, high, start, up_rules, gaps, loads = run
    behavior = {"scaleUp": up_rules, "scaleDown": {"selectPolicy": "Disabled"}}  # up only
    timeline, end = simulate(start, low, high, behavior, gaps, loads)

    check_windows(timeline, end, up_rules, "up")


@BOUNDED
@given(runs())
def test_scale_down_limits_hold_over_every_window(run):
    low, high, start, down_rules, gaps, loads = run
    behavior = {"scaleUp": {"selectPolicy": "Disabled"}, "scaleDown": down_rules}  # down only
    timeline, end = simulate(start, low, high, behavior, gaps, loads)

    check_windows(timeline, end, down_rules, "down")


@BOUNDED
@given(runs(), rules(ENABLED))
def test_both_directions_respect_the_count_at_each_period_start(run, down_rules):
    """With both directions, each move is bounded from the count at its policies' period starts."""
    low, high, start, up_rules, gaps, loads = run
    timeline, _ = simulate(start, low, high, {"scaleUp": up_rules, "scaleDown": down_rules}, gaps, loads)

    for (_, before), (when, after) in itertools.pairwise(timeline):
        rules_, bound = (up_rules, up_bound) if after > before else (down_rules, down_bound)
        pick = max if (after > before) == (rules_["selectPolicy"] == "Max") else min
        allowed = pick(bound(p, count_at(timeline, when - p["periodSeconds"])) for p in rules_["policies"])
        assert (after <= allowed) if after > before else (after >= allowed), (when, timeline)

"""Checks that a ``ScalingInput`` is well formed, and typed readers for engine options.

Owns the rules every engine of this package shares: replica counts are non-negative integers with
``min_replicas <= max_replicas``; every metric has a unique name, a ``gt``/``lt`` condition and a
finite target; ``history`` holds ``(unix time, replicas)`` pairs and ``scale_events``
``(unix time, replica change)`` pairs; ``options`` holds only the keys
the engine knows (a typo is an error, not a silently ignored setting). A malformed input raises
:class:`~nautilus_core.errors.InvalidObjectError` naming the object (``namespace/name``) and the
field. Missing metric *values* (``None``/NaN/inf) are not malformed: engines treat them as missing.

Called by each engine's ``decide()`` before any arithmetic; pure, no I/O.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from typing import Any

from nautilus_core.errors import InvalidObjectError
from nautilus_core.types import MetricSample, ScalingInput

CONDITIONS = ("gt", "lt")


def object_name(data: ScalingInput) -> str:
    """The ``namespace/name`` an error message names."""
    return f"{data.namespace}/{data.name}"


def is_number(value: object) -> bool:
    """A real number (``bool`` is not one here, although Python says it is an ``int``)."""
    return isinstance(value, int | float) and not isinstance(value, bool)


def is_missing(value: object) -> bool:
    """A metric value the engines cannot use: ``None``, NaN or infinite."""
    return value is None or (is_number(value) and not math.isfinite(value))  # type: ignore[arg-type]


def _fail(data: ScalingInput, field: str, problem: str) -> InvalidObjectError:
    return InvalidObjectError(obj=object_name(data), field=field, problem=problem)


def _check_count(data: ScalingInput, field: str) -> int:
    value = getattr(data, field)
    if not isinstance(value, int) or isinstance(value, bool):
        raise _fail(data, field, f"is {value!r}; expected a whole number of replicas")
    if value < 0:
        raise _fail(data, field, f"is {value}; a replica count cannot be negative")
    return value


def _check_metric(data: ScalingInput, index: int, sample: object, *, positive_target: bool) -> None:
    where = f"metrics[{index}]"
    if not isinstance(sample, MetricSample):
        raise _fail(data, where, f"is {sample!r}; expected a MetricSample")
    if not isinstance(sample.name, str) or not sample.name:
        raise _fail(data, f"{where}.name", f"is {sample.name!r}; expected a non-empty metric name")
    label = f"(metric {sample.name!r})"
    if sample.condition not in CONDITIONS:
        raise _fail(data, f"{where}.condition",
                    f"is {sample.condition!r} {label}; expected 'gt' (scale up when the value is above "
                    "the target) or 'lt' (scale up when it is below)")
    if sample.value is not None and not is_number(sample.value):
        raise _fail(data, f"{where}.value", f"is {sample.value!r} {label}; expected a number or None")
    target = sample.target
    if target is None:
        raise _fail(data, f"{where}.target", f"is missing {label}; every metric needs a target")
    if not is_number(target) or not math.isfinite(target):
        raise _fail(data, f"{where}.target", f"is {target!r} {label}; expected a finite number")
    if positive_target and target <= 0:
        raise _fail(data, f"{where}.target",
                    f"is {target} {label}; this engine divides by the target, so it must be above 0")
    if not positive_target and target < 0:
        raise _fail(data, f"{where}.target", f"is {target} {label}; expected 0 or more")


def _check_history(data: ScalingInput) -> None:
    if not isinstance(data.history, Iterable):
        raise _fail(data, "history", f"is {data.history!r}; expected (unix time, replicas) pairs")
    for index, entry in enumerate(data.history):
        ok = (
            isinstance(entry, tuple | list)
            and len(entry) == 2
            and is_number(entry[0])
            and math.isfinite(entry[0])
            and isinstance(entry[1], int)
            and not isinstance(entry[1], bool)
            and entry[1] >= 0
        )
        if not ok:
            raise _fail(data, f"history[{index}]",
                        f"is {entry!r}; expected a (unix time, replicas) pair with replicas >= 0")


def _check_scale_events(data: ScalingInput) -> None:
    events = getattr(data, "scale_events", ())
    if not isinstance(events, Iterable):
        raise _fail(data, "scale_events", f"is {events!r}; expected (unix time, replica change) pairs")
    for index, entry in enumerate(events):
        ok = (
            isinstance(entry, tuple | list)
            and len(entry) == 2
            and is_number(entry[0])
            and math.isfinite(entry[0])
            and isinstance(entry[1], int)
            and not isinstance(entry[1], bool)
        )
        if not ok:
            raise _fail(data, f"scale_events[{index}]",
                        f"is {entry!r}; expected a (unix time, replica change) pair such as (1700000000.0, 3)")


def validate(data: ScalingInput, *, engine: str, options: Iterable[str], positive_target: bool) -> None:
    """Raise :class:`InvalidObjectError` unless ``data`` is a well-formed input for ``engine``.

    :param options: the option keys ``engine`` understands; any other key is reported.
    :param positive_target: the engine divides by targets, so they must be above 0 (else >= 0).
    """
    _check_count(data, "current_replicas")
    low = _check_count(data, "min_replicas")
    high = _check_count(data, "max_replicas")
    if low > high:
        raise _fail(data, "min_replicas", f"is {low}, more than max_replicas ({high})")
    if not isinstance(data.metrics, Iterable):
        raise _fail(data, "metrics", f"is {data.metrics!r}; expected a sequence of MetricSample")
    seen: dict[str, int] = {}
    for index, sample in enumerate(data.metrics):
        _check_metric(data, index, sample, positive_target=positive_target)
        if sample.name in seen:
            raise _fail(data, f"metrics[{index}].name",
                        f"is {sample.name!r}, already used by metrics[{seen[sample.name]}]")
        seen[sample.name] = index
    _check_history(data)
    _check_scale_events(data)
    if not isinstance(data.options, Mapping):
        raise _fail(data, "options", f"is {data.options!r}; expected a mapping")
    known = tuple(options)
    for key in data.options:
        if key not in known:
            raise _fail(data, f"options.{key}",
                        f"is not an option of engine {engine!r} (known: {', '.join(known)})")


# --------------------------------------------------------------------------- option readers


def number_option(
    data: ScalingInput,
    key: str,
    default: float,
    *,
    minimum: float | None = None,
    maximum: float | None = None,
    above_minimum: bool = False,
) -> float:
    """``options[key]`` as a finite number within bounds, or ``default`` when absent.

    :param above_minimum: the value must be strictly above ``minimum`` (else at least ``minimum``).
    """
    value: Any = data.options.get(key, default)
    field = f"options.{key}"
    if not is_number(value) or not math.isfinite(value):
        raise _fail(data, field, f"is {value!r}; expected a finite number")
    if minimum is not None:
        if above_minimum and value <= minimum:
            raise _fail(data, field, f"is {value}; expected more than {minimum}")
        if not above_minimum and value < minimum:
            raise _fail(data, field, f"is {value}; expected at least {minimum}")
    if maximum is not None and value > maximum:
        raise _fail(data, field, f"is {value}; expected at most {maximum}")
    return float(value)


def int_option(data: ScalingInput, key: str, default: int, *, minimum: int) -> int:
    """``options[key]`` as a whole number of at least ``minimum``, or ``default`` when absent."""
    value: Any = data.options.get(key, default)
    if not isinstance(value, int) or isinstance(value, bool):
        raise _fail(data, f"options.{key}", f"is {value!r}; expected a whole number")
    if value < minimum:
        raise _fail(data, f"options.{key}", f"is {value}; expected at least {minimum}")
    return value


def decision_time(data: ScalingInput, *, required: bool) -> float | None:
    """The time of this decision in unix seconds; engines never read the clock.

    Taken from ``ScalingInput.now`` when the core type has that field and it is set (the proposed
    core change), else from ``options["now"]``. ``required`` makes a missing time an error, used
    when a stabilization window must be measured against ``history``.
    """
    value: Any = getattr(data, "now", None)
    field = "now"
    if value is None:
        value, field = data.options.get("now"), "options.now"
    if value is None:
        if required:
            raise _fail(data, "options.now",
                        "is missing; it is required when history or scale_events are given, to "
                        "measure the stabilization windows and policy periods (the engine never "
                        "reads the clock)")
        return None
    if not is_number(value) or not math.isfinite(value):
        raise _fail(data, field, f"is {value!r}; expected a unix time in seconds")
    return float(value)

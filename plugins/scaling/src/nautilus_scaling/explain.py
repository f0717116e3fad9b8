"""Arithmetic and wording shared by the engines' decisions: exact numbers, headlines, clamping.

Owns how numbers are compared (exact decimal arithmetic on the values as written, so 55/50 is
exactly 1.1 and ``ceil(1.1 x 10)`` is 11, as a user checking by hand expects, not 12 as binary
floating point would give) and how they are printed in a reason, the opening words of every
reason ("Scale up from 3 to 6", "Hold at 3"), and the final clamp to [min, max] with its sentence.

Called by the ``threshold``, ``hpa`` and ``predictive`` engine modules; pure, no I/O.
"""

from __future__ import annotations

from fractions import Fraction


def exact(value: float) -> Fraction:
    """``value`` as the decimal it prints as (``0.55`` -> 11/20, not the nearest binary fraction)."""
    return Fraction(repr(float(value)))


def num(value: float | Fraction) -> str:
    """A number as a reason shows it: ``90``, ``1.8``, ``1.56``, ``0.00125``."""
    value = float(value)
    if value == int(value) and abs(value) < 1e15:
        return str(int(value))
    if abs(value) >= 1:
        return f"{value:.2f}".rstrip("0").rstrip(".")
    return f"{value:.3g}"


def signed(value: float) -> str:
    """A rate with its sign: ``+0.1``, ``-2``."""
    text = num(value)
    return text if text.startswith("-") else f"+{text}"


def headline(current: int, replicas: int) -> str:
    """The opening words of a reason."""
    if replicas > current:
        return f"Scale up from {current} to {replicas}"
    if replicas < current:
        return f"Scale down from {current} to {replicas}"
    return f"Hold at {current}"


def clamp(replicas: int, low: int, high: int) -> tuple[int, str | None]:
    """``replicas`` within [low, high], and the sentence saying so when it had to move."""
    if replicas > high:
        return high, f"{replicas} is clamped to the maximum of {high}"
    if replicas < low:
        return low, f"{replicas} is clamped to the minimum of {low}"
    return replicas, None


def sentence(head: str, parts: list[str]) -> str:
    """``"Head: part one; part two."``: one sentence, the parts in the order they happened."""
    body = "; ".join(part for part in parts if part)
    return f"{head}: {body}." if body else f"{head}."

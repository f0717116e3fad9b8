"""Kubernetes resource quantities ("500m", "1.5Gi", "1e3"): parsing, canonical spelling, comparison.

Follows the rules of apimachinery's ``resource.Quantity``: ``<signedNumber><suffix>`` where the suffix
is binary SI (Ki Mi Gi Ti Pi Ei), decimal SI (n u m "" k M G T P E) or a decimal exponent
(``e3``, ``E-2``). Values are exact (no floats) and rounded up to the nearest nano unit. The canonical
form keeps the family of the input's suffix, emits no fractional digits and uses the largest suffix
that loses nothing: ``1.5`` -> ``1500m``, ``1024Mi`` -> ``1Gi``, ``1.5Gi`` -> ``1536Mi``, ``1e3`` -> ``1e3``;
binary values below 1024 or with a fraction are spelled in decimal SI (``0.5Ki`` -> ``512``).

An API server answers in canonical form, so the statefulsets reconciler (``manifests``) sends canonical
quantities and compares live and desired ones by value. Bottom layer: imports nothing of Nautilus.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from fractions import Fraction
from typing import Literal

__all__ = ["MAX_QUANTITY", "Quantity", "canonical_quantity", "parse_quantity", "same_quantity"]

Family = Literal["BinarySI", "DecimalSI", "DecimalExponent"]

#: the largest magnitude a quantity may have (Kubernetes caps binary quantities here)
MAX_QUANTITY = 2**63 - 1
_NANO = 10**9
_BINARY = {"Ki": 10, "Mi": 20, "Gi": 30, "Ti": 40, "Pi": 50, "Ei": 60}
_DECIMAL = {"n": -9, "u": -6, "m": -3, "": 0, "k": 3, "M": 6, "G": 9, "T": 12, "P": 15, "E": 18}
_DECIMAL_SUFFIX = {exponent: suffix for suffix, exponent in _DECIMAL.items()}
_BINARY_SUFFIX = ["", "Ki", "Mi", "Gi", "Ti", "Pi", "Ei"]
_SYNTAX = re.compile(r"([+-]?)(\d+\.?\d*|\.\d+)(Ki|Mi|Gi|Ti|Pi|Ei|[eE][+-]?\d+|[numkMGTPE]?)")
# beyond these exponents a value is certainly past MAX_QUANTITY or below one nano unit
_EXPONENT_LIMIT = 64
_MAX_LENGTH = 64


@dataclass(frozen=True)
class Quantity:
    """An exact quantity: ``nanos`` units of 10^-9 (signed) and the suffix family it was written in."""

    nanos: int
    family: Family = "DecimalSI"

    @property
    def value(self) -> Fraction:
        return Fraction(self.nanos, _NANO)

    def canonical(self) -> str:
        """The spelling an API server answers with (see the module docstring)."""
        if self.nanos == 0:
            return "0"
        sign = "-" if self.nanos < 0 else ""
        nanos = abs(self.nanos)
        if self.family == "BinarySI" and nanos >= 1024 * _NANO and nanos % _NANO == 0:
            amount, power = nanos // _NANO, 0
            while amount % 1024 == 0 and power < len(_BINARY_SUFFIX) - 1:
                amount, power = amount // 1024, power + 1
            return f"{sign}{amount}{_BINARY_SUFFIX[power]}"
        amount, exponent = nanos, -9
        while amount % 10 == 0:
            amount, exponent = amount // 10, exponent + 1
        while exponent % 3:
            amount, exponent = amount * 10, exponent - 1
        if self.family == "DecimalExponent":
            return f"{sign}{amount}" + (f"e{exponent}" if exponent else "")
        if exponent > 18:  # past exa: still exact, with the largest suffix
            amount, exponent = amount * 10 ** (exponent - 18), 18
        return f"{sign}{amount}{_DECIMAL_SUFFIX[exponent]}"

    def __str__(self) -> str:
        return self.canonical()


@functools.lru_cache(maxsize=4096)  # a fleet repeats a few spellings; resyncs parse them again and again
def parse_quantity(text: str) -> Quantity:
    """The :class:`Quantity` ``text`` spells (exact; rounded up to a nano unit, like Kubernetes).

    :raises ValueError: not a quantity, or larger than ``MAX_QUANTITY`` in magnitude.
    """
    if not isinstance(text, str):
        raise ValueError(f"{text!r} is not a quantity (a string such as 500m, 1.5Gi, 1e3)")
    if len(text) > _MAX_LENGTH:
        raise ValueError(f"{text[:20]!r}... is too long for a quantity ({len(text)} characters)")
    match = _SYNTAX.fullmatch(text)
    if not match:
        raise ValueError(f"{text!r} is not a quantity (e.g. 500m, 1.5Gi, 10G, 1e3)")
    sign, number, suffix = match.groups()
    whole, _, fraction = number.partition(".")
    amount = Fraction(int(whole or "0") * 10 ** len(fraction) + int(fraction or "0"), 10 ** len(fraction))
    family: Family
    if suffix in _BINARY:
        family, amount = "BinarySI", amount * 2 ** _BINARY[suffix]
    elif suffix[:1] in ("e", "E") and suffix not in _DECIMAL:
        exponent = int(suffix[1:])
        if amount and exponent > _EXPONENT_LIMIT:
            raise ValueError(f"{text!r} is larger than the largest quantity ({MAX_QUANTITY})")
        exponent = max(min(exponent, _EXPONENT_LIMIT), -_EXPONENT_LIMIT)
        family, amount = "DecimalExponent", amount * Fraction(10) ** exponent
    else:
        family, amount = "DecimalSI", amount * Fraction(10) ** _DECIMAL[suffix]
    if amount > MAX_QUANTITY:
        raise ValueError(f"{text!r} is larger than the largest quantity ({MAX_QUANTITY})")
    nanos = -(-amount.numerator * _NANO // amount.denominator)  # round up: asking for some gets some
    if family == "BinarySI" and 0 < nanos < _NANO:
        family = "DecimalSI"
    return Quantity(-nanos if sign == "-" else nanos, family)


def canonical_quantity(text: str) -> str:
    """``text`` in the spelling an API server answers with: ``"0.5"`` -> ``"500m"``, ``"1024Mi"`` -> ``"1Gi"``."""
    return parse_quantity(text).canonical()


def same_quantity(a: object, b: object) -> bool:
    """True when ``a`` and ``b`` are the same amount however spelled (``0.5`` and ``500m``); values
    that are not quantities compare as they are."""
    if a == b:
        return True
    try:
        return isinstance(a, str) and isinstance(b, str) and parse_quantity(a).nanos == parse_quantity(b).nanos
    except ValueError:
        return False

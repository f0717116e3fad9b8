"""Kubernetes quantities: the parser, the canonical spelling an API server answers with, comparison."""

from __future__ import annotations

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from nautilus_core.quantity import MAX_QUANTITY, canonical_quantity, parse_quantity, same_quantity


@pytest.mark.parametrize(("text", "canonical"), [
    # the examples of apimachinery's resource.Quantity documentation
    ("1.5", "1500m"), ("1.5Gi", "1536Mi"),
    # decimal SI: no fraction, the largest suffix that loses nothing
    ("0.5", "500m"), ("500m", "500m"), ("1000m", "1"), ("1000", "1k"), ("2000000", "2M"), ("0.1m", "100u"),
    ("1.0000000001", "1000000001n"), ("0.1n", "1n"), ("+2k", "2k"), ("-1.5", "-1500m"), (".5", "500m"),
    ("1.", "1"), ("1E", "1E"), ("100M", "100M"),
    # binary SI: the family is kept, except below 1Ki or with a fraction (then decimal SI)
    ("1024Mi", "1Gi"), ("1Ki", "1Ki"), ("1000Mi", "1000Mi"), ("0.5Gi", "512Mi"), ("0.5Ki", "512"),
    ("1.0001Ki", "1024102400u"), ("7Ei", "7Ei"),
    # decimal exponents: exponent a multiple of 3, as large as possible
    ("1e3", "1e3"), ("1E3", "1e3"), ("1500e0", "1500"), ("1.5e3", "1500"), ("12e6", "12e6"), ("1e-3", "1e-3"),
    ("1e-100", "1e-9"),
    ("0", "0"), ("0Gi", "0"), ("0e999999999", "0"),
])
def test_canonical_spelling(text, canonical):
    assert canonical_quantity(text) == canonical


@pytest.mark.parametrize("text", ["", " 1", "1 ", "abc", "1.5.5", "1KB", "1K", "1kb", ".", "-", "1e", "1ee3",
                                  "10E", "8Ei", "1e99999999", "1" * 100, "½"])
def test_what_is_not_a_quantity_raises_value_error(text):
    with pytest.raises(ValueError, match="quantity"):
        parse_quantity(text)


def test_comparison_is_by_value():
    assert same_quantity("0.5", "500m") and same_quantity("1024Mi", "1Gi") and same_quantity("1e3", "1k")
    assert same_quantity("1Gi", "1073741824") and same_quantity("1.5Gi", "1536Mi")
    assert not same_quantity("1Gi", "1G") and not same_quantity("500m", "501m")
    assert not same_quantity("abc", "1") and same_quantity("abc", "abc") and not same_quantity(None, "0")


_DECIMAL_FORM = r"-?\d+[numkMGTPE]?"
_FAMILY_FORMS = {
    "DecimalSI": _DECIMAL_FORM,
    "BinarySI": rf"-?\d+(Ki|Mi|Gi|Ti|Pi|Ei)|{_DECIMAL_FORM}",  # decimal below 1Ki or with a fraction
    "DecimalExponent": r"-?\d+(e-?\d+)?",
}
_SUFFIXES = ["", "n", "u", "m", "k", "M", "G", "T", "P", "E", "Ki", "Mi", "Gi", "Ti", "Pi", "Ei",
             "e0", "e3", "e-3", "E6", "e2", "e-7", "e10"]


@st.composite
def quantities(draw):
    whole = draw(st.integers(min_value=0, max_value=10**6))
    digits = draw(st.text(alphabet="0123456789", max_size=9))
    sign = draw(st.sampled_from(["", "+", "-"]))
    number = f"{whole}.{digits}" if digits or draw(st.booleans()) else str(whole)
    return f"{sign}{number}{draw(st.sampled_from(_SUFFIXES))}"


def _within_range(text):
    try:
        parse_quantity(text)
    except ValueError:
        return False
    return True


@given(quantities().filter(_within_range))
@settings(max_examples=1000, deadline=None)
def test_canonical_form_round_trips_and_is_stable(text):
    quantity = parse_quantity(text)
    canonical = quantity.canonical()
    again = parse_quantity(canonical)
    assert again.nanos == quantity.nanos                        # nothing lost
    assert again.canonical() == canonical                        # canonical of canonical is itself
    assert "." not in canonical and not canonical.startswith("+")  # no fraction, no plus sign
    assert abs(quantity.nanos) <= MAX_QUANTITY * 10**9
    assert re.fullmatch(_FAMILY_FORMS[quantity.family], canonical)  # the suffix family of the input is kept


@given(st.text(max_size=30))
@settings(max_examples=500, deadline=None)
def test_any_text_parses_or_raises_value_error(text):
    try:
        quantity = parse_quantity(text)
    except ValueError:
        return
    assert parse_quantity(quantity.canonical()).nanos == quantity.nanos

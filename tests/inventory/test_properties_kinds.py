"""Property-based: merging the rows several enrichers contribute to one kind (``inventory.kinds.merge_rows``).

Whatever the items and however a kind's columns are split between enrichers, the merged rows are the
rows one enricher owning every column would give (first of each key kept); a failed contributor
withholds the whole kind; hostile items (not mappings, keys of any type) never raise."""

from __future__ import annotations

from typing import Any

from hypothesis import given
from hypothesis import strategies as st
from inv_helpers import property_settings

from nautilus_core.inventory.kinds import BUILTIN_KINDS, merge_rows
from nautilus_core.types import Facts, NamespaceFacts

COLUMNS = BUILTIN_KINDS["namespaces"].columns
namespaces = st.lists(st.builds(
    NamespaceFacts, name=st.sampled_from(["a", "b", "c", "d"]), phase=st.sampled_from([None, "Active"]),
    labels=st.dictionaries(st.text(max_size=3), st.text(max_size=3), max_size=2),
    pod_counts=st.dictionaries(st.sampled_from(["Running", "Pending"]), st.integers(0, 9), max_size=2)), max_size=8)
split = st.lists(st.integers(0, 2), min_size=len(COLUMNS), max_size=len(COLUMNS))  # column i -> enricher


def first_per_key(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    seen: dict[str, dict[str, Any]] = {}
    for row in rows:
        seen.setdefault(row["name"], row)
    return list(seen.values())


@given(items=namespaces, owners=split)
@property_settings()
def test_splitting_a_kinds_columns_between_enrichers_gives_the_same_rows(items, owners):
    alone, _ = merge_rows(BUILTIN_KINDS, {"one": {"namespaces": COLUMNS}}, {"one": Facts(namespaces=tuple(items))})
    contributions = {f"e{i}": {"namespaces": tuple(c for c, o in zip(COLUMNS, owners, strict=True) if o == i)}
                     for i in sorted(set(owners))}
    results = {name: Facts(namespaces=tuple(items)) for name in contributions}
    merged, problems = merge_rows(BUILTIN_KINDS, contributions, results)
    assert problems == []
    expected = alone["namespaces"] if len(contributions) == 1 else first_per_key(alone["namespaces"])
    assert merged["namespaces"] == expected


@given(items=namespaces, owners=split, failing=st.integers(0, 2))
@property_settings()
def test_a_failed_contributor_withholds_the_kind(items, owners, failing):
    contributions = {f"e{i}": {"namespaces": tuple(c for c, o in zip(COLUMNS, owners, strict=True) if o == i)}
                     for i in sorted(set(owners))}
    victim = f"e{failing}" if f"e{failing}" in contributions else next(iter(contributions))
    results: dict[str, Any] = {n: Facts(namespaces=tuple(items)) for n in contributions}
    results[victim] = RuntimeError("fetch failed")
    merged, _ = merge_rows(BUILTIN_KINDS, contributions, results)
    assert "namespaces" not in merged


hostile = st.one_of(st.none(), st.integers(), st.text(max_size=3), st.lists(st.integers(), max_size=2),
                    st.dictionaries(st.sampled_from(["name", "labels", "phase", "x"]),
                                    st.one_of(st.none(), st.integers(), st.text(max_size=3),
                                              st.lists(st.integers(), max_size=2)), max_size=4))


@given(first=st.lists(hostile, max_size=6), second=st.lists(hostile, max_size=6))
@property_settings()
def test_hostile_items_never_raise(first, second):
    contributions = {"a": {"namespaces": ("phase",)}, "b": {"namespaces": ("labels",)}}
    merged, problems = merge_rows(BUILTIN_KINDS, contributions,
                                  {"a": Facts(rows={"namespaces": first}), "b": Facts(rows={"namespaces": second})})
    readable = sum(isinstance(i, dict) for i in first + second)
    assert sum(p["count"] for p in problems if p.get("label") == "namespaces:unreadable-row") == \
        len(first) + len(second) - readable
    assert len(merged["namespaces"]) <= readable
    assert all(set(row) == {"name", "phase", "labels"} for row in merged["namespaces"])

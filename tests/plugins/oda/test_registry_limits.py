"""Hostile label keys and values (hypothesis): a value over the registry's limit is truncated, a key over it,
reserved or unencodable is rejected naming component and field — checked before anything is sent, so the
registry never answers a 422, and what is sent reads back exactly."""

from __future__ import annotations

import itertools

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from nautilus_core.retry import RetryPolicy
from nautilus_oda.registry import (
    ApiEntry,
    ComponentEntry,
    ComponentRegistryClient,
    RegistryRejected,
    ResourceInventoryClient,
)
from nautilus_oda.registry.component_registry import LIMITS
from nautilus_oda.registry.limits import ELLIPSIS, normalize
from nautilus_oda.testing import FakeComponentRegistry, FakeResourceInventory

# text with everything hostile: NULs, lone surrogates, control and combining characters, astral code points;
# short, or around the registry's limits (value 200, key 100)
anything = st.characters(codec=None)
hostile_text = st.text(anything, max_size=6) | st.text(anything, min_size=195, max_size=240) | st.text(max_size=5)
keys = st.text(anything, max_size=8) | st.text(anything, min_size=97, max_size=104) | st.sampled_from(
    ["managed-by", "k" * 100, "k" * 101, ""])
labels = st.dictionaries(keys, hostile_text, max_size=4)
SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _encodable(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return "\x00" not in text


@SETTINGS
@given(labels)
def test_normalize_truncates_values_and_rejects_bad_keys_naming_the_field(values: dict[str, str]) -> None:
    entry = ComponentEntry("prodcat", values, ())
    try:
        result = normalize(entry, LIMITS)
    except RegistryRejected as exc:
        assert exc.component == "prodcat" and "prodcat" in str(exc)
        assert exc.field is not None and exc.field.startswith("labels")
        bad = [k for k, v in values.items() if not k or len(k) > 100 or k == "managed-by" or not _encodable(k)
               or not _encodable(v)]
        assert bad, f"rejected a valid entry: {exc}"
        return
    assert set(result.labels) == set(values)
    for key, value in values.items():
        got = result.labels[key]
        assert len(key) <= 100 and len(got) <= 200
        assert got == value if len(value) <= 200 else got == value[:199] + ELLIPSIS
    assert normalize(result, LIMITS) == result  # stable: an unchanged component stays unchanged


def test_hostile_labels_never_fail_at_the_registry_and_read_back_as_normalized() -> None:
    names = itertools.count()
    with FakeComponentRegistry() as fake:
        registry = ComponentRegistryClient(fake.url, registry_name="r", owner="nautilus-oda/t", retry=RetryPolicy.off())

        @SETTINGS
        @given(labels, labels)
        def check(component_labels: dict[str, str], api_labels: dict[str, str]) -> None:
            entry = ComponentEntry(f"c{next(names)}", component_labels,
                                   (ApiEntry("api", None, (), "ready", labels=api_labels),))
            writes = fake.writes
            try:
                expected = normalize(entry, LIMITS)
            except RegistryRejected:
                try:
                    registry.apply(entry, None)
                except RegistryRejected as exc:
                    assert "HTTP" not in str(exc)  # refused here, not by the registry
                    assert fake.writes == writes  # nothing was sent
                    return
                raise AssertionError("an entry normalize rejects was applied") from None
            registry.apply(entry, None)
            assert registry.list_owned()[entry.name] == expected

        check()


def test_tmf639_keeps_long_values_whole() -> None:
    names = itertools.count()
    with FakeResourceInventory() as fake:
        registry = ResourceInventoryClient(fake.url, registry_name="r", owner="nautilus-oda/t", retry=RetryPolicy.off())

        @SETTINGS
        @given(st.dictionaries(st.text(min_size=1, max_size=300).filter(lambda k: k not in ("managed-by", "registry")),
                               st.text(max_size=400), max_size=3))
        def check(values: dict[str, str]) -> None:
            entry = ComponentEntry(f"c{next(names)}", values, ())
            try:
                registry.apply(entry, None)
            except RegistryRejected as exc:
                assert exc.component == entry.name and not all(_encodable(k + v) for k, v in values.items())
                return
            assert dict(registry.list_owned()[entry.name].labels) == values

        check()

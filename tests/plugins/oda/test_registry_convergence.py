"""Any sequence of component versions (hypothesis), for both flavours: after each apply the registry reads back
exactly what was asked, applying it again writes nothing, and deleting leaves nothing of this owner."""

from __future__ import annotations

import contextlib
import itertools
from collections.abc import Callable

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from nautilus_core.retry import RetryPolicy
from nautilus_oda.registry import (
    ApiEntry,
    ComponentEntry,
    ComponentRegistryClient,
    Registry,
    RegistryUnavailable,
    ResourceInventoryClient,
)
from nautilus_oda.testing import FakeComponentRegistry, FakeResourceInventory, LocalServer

word = st.sampled_from(["a", "b", "core", "v1", "x y", "ü", "1.0"])
api = st.builds(
    ApiEntry,
    name=st.sampled_from(["pcm", "metrics", "party"]),
    url=st.none() | st.sampled_from(["http://c/pcm", "http://c/other"]),
    specification=st.lists(st.sampled_from(["https://s/1.json", "https://s/2.json"]), max_size=2,
                           unique=True).map(tuple),
    status=st.sampled_from(["ready", "pending"]),
    segment=st.sampled_from(["coreFunction", "managementFunction", "securityFunction"]),
    labels=st.dictionaries(st.sampled_from(["tier", "team"]), word, max_size=2),
)
version = st.tuples(
    st.dictionaries(st.sampled_from(["version", "functionalBlock", "owners"]), word, max_size=3),
    st.lists(api, max_size=3, unique_by=lambda a: a.name),
)
SETTINGS = settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])

Factory = Callable[[], tuple[LocalServer, Callable[[str], Registry]]]


def seed() -> tuple[LocalServer, Callable[[str], Registry]]:
    fake = FakeComponentRegistry().start()
    return fake, lambda owner: ComponentRegistryClient(fake.url, registry_name="r", owner=owner,
                                                       retry=RetryPolicy.off())


def tmf() -> tuple[LocalServer, Callable[[str], Registry]]:
    fake = FakeResourceInventory().start()
    return fake, lambda owner: ResourceInventoryClient(fake.url, registry_name="r", owner=owner,
                                                       retry=RetryPolicy.off())


@pytest.mark.parametrize("factory", [seed, tmf], ids=["component-registry", "tmf639"])
def test_any_sequence_of_versions_converges_with_minimal_writes(factory: Factory) -> None:
    fake, make = factory()
    names = itertools.count()
    try:
        bystander = make("nautilus-oda/other")
        bystander.apply(ComponentEntry("theirs", {"version": "9"}, (ApiEntry("pcm", None, (), "ready"),)), None)
        registry = make("nautilus-oda/me")

        @SETTINGS
        @given(st.lists(version, min_size=1, max_size=4))
        def check(versions: list[tuple[dict[str, str], list[ApiEntry]]]) -> None:
            name = f"c{next(names)}"
            for labels, apis in versions:
                desired = ComponentEntry(name, labels, tuple(apis))
                registry.apply(desired, registry.list_owned().get(name))
                current = registry.list_owned().get(name)
                assert current == desired
                writes = fake.writes
                assert registry.apply(desired, current) == 0
                assert make("nautilus-oda/me").apply(desired, None) == 0  # a restarted client agrees
                assert fake.writes == writes
            registry.delete(registry.list_owned()[name])
            assert name not in registry.list_owned()

        check()
        assert set(bystander.list_owned()) == {"theirs"}  # never touched by the other owner's work
    finally:
        fake.stop()


def component_rows(fake: LocalServer, name: str) -> int:
    if isinstance(fake, FakeComponentRegistry):
        return sum(1 for c in fake.rows("components") if c["name"] == name)
    assert isinstance(fake, FakeResourceInventory)
    return sum(1 for c in fake.of_category("ODAComponent") if c["name"] == name)


@pytest.mark.parametrize("factory", [seed, tmf], ids=["component-registry", "tmf639"])
def test_an_apply_cut_short_by_a_failure_completes_on_the_next_without_duplicates(factory: Factory) -> None:
    fake, make = factory()
    names = itertools.count()
    try:
        registry = make("nautilus-oda/me")
        registry.ensure_registry()

        @SETTINGS
        @given(version, version, st.integers(0, 12))
        def check(first: tuple[dict[str, str], list[ApiEntry]], second: tuple[dict[str, str], list[ApiEntry]],
                  after: int) -> None:
            name = f"c{next(names)}"
            registry.apply(ComponentEntry(name, first[0], tuple(first[1])), registry.list_owned().get(name))
            desired = ComponentEntry(name, second[0], tuple(second[1]))
            current = registry.list_owned().get(name)
            fake.fail(503, times=1, after=after)  # one call of this apply fails (when it makes that many)
            with contextlib.suppress(RegistryUnavailable):
                registry.apply(desired, current)
            fake.clear_faults()  # one this apply did not reach
            registry.apply(desired, registry.list_owned().get(name))
            assert registry.list_owned()[name] == desired
            assert make("nautilus-oda/me").apply(desired, None) == 0
            assert component_rows(fake, name) == 1

        check()
    finally:
        fake.stop()

"""Registry faults, for both flavours over real HTTP: a refused key, 429 with Retry-After, 5xx, a registry
that is down or fails mid-list; and the API key never appears in an error or a log line."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import Any

import pytest
from structlog.testing import capture_logs

from nautilus_core.retry import RetryPolicy
from nautilus_core.testing import until
from nautilus_oda.registry import (
    OWNER_LABEL,
    ApiEntry,
    ComponentEntry,
    ComponentRegistryClient,
    Registry,
    RegistryAuthError,
    RegistryUnavailable,
    ResourceInventoryClient,
)
from nautilus_oda.registry.http import retry_after_header
from nautilus_oda.testing import FakeComponentRegistry, FakeResourceInventory, LocalServer

KEY = "k-very-SECRET-4711"
REGISTRY = "canvas-a"
OWNER = "nautilus-oda/a"
ENTRY = ComponentEntry("prodcat", {"version": "1"}, (ApiEntry("pcm", "http://x/pcm", (), "ready"),))


class Sleeps(list[float]):
    """Records the waits of the retry policy instead of sleeping (no wall clock in tests)."""

    def __call__(self, seconds: float) -> None:
        self.append(seconds)


@pytest.fixture(params=["component-registry", "tmf639"])
def flavour(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def fake(flavour: str) -> Iterator[LocalServer]:
    server: LocalServer = FakeComponentRegistry(api_key=KEY) if flavour == "component-registry" \
        else FakeResourceInventory(api_key=KEY)
    with server:
        yield server


def make(fake: LocalServer, *, key: str = KEY, attempts: int = 4, sleeps: Sleeps | None = None) -> Registry:
    retry = RetryPolicy(attempts=attempts, base=0.5, max_wait=30.0, sleep=sleeps if sleeps is not None else Sleeps())
    cls: Any = ComponentRegistryClient if isinstance(fake, FakeComponentRegistry) else ResourceInventoryClient
    return cls(fake.url, registry_name=REGISTRY, owner=OWNER, api_key=key, timeout=5.0, retry=retry)


def seed_owned(fake: LocalServer, count: int) -> None:
    if isinstance(fake, FakeComponentRegistry):
        fake.insert("registries", {"name": REGISTRY, "type": "self", "url": "http://r"})
        for i in range(count):
            fake.insert("components", {"registry_name": REGISTRY, "name": f"c{i}"}, {OWNER_LABEL: OWNER})
    else:
        assert isinstance(fake, FakeResourceInventory)
        for i in range(count):
            fake.insert({"@type": "LogicalResource", "category": "ODAComponent", "name": f"c{i}",
                         "resourceCharacteristic": [{"name": OWNER_LABEL, "value": OWNER},
                                                    {"name": "registry", "value": REGISTRY}]})


def sent(fake: LocalServer) -> int:
    return sum(fake.requests.values())


def test_a_wrong_key_is_a_clear_error_and_not_retried(fake: LocalServer) -> None:
    sleeps = Sleeps()
    registry = make(fake, key="not-the-key", sleeps=sleeps)
    with pytest.raises(RegistryAuthError) as info:
        registry.check()
    assert "401" in str(info.value) and "API key" in str(info.value)
    assert "not-the-key" not in str(info.value)
    assert sent(fake) == 1 and sleeps == []


def test_a_key_refused_on_a_write_stops_at_once(fake: LocalServer) -> None:
    registry = make(fake)
    registry.ensure_registry()
    registry.list_owned()
    fake.refuse_key()
    before = sent(fake)
    with pytest.raises(RegistryAuthError):
        registry.apply(ENTRY, None)
    assert sent(fake) - before == 1


def test_429_retry_after_is_honoured(fake: LocalServer) -> None:
    sleeps = Sleeps()
    registry = make(fake, sleeps=sleeps)
    fake.fail(429, times=2, retry_after=7, text="Too Many Requests")
    registry.check()
    assert sleeps == [7.0, 7.0]
    assert sent(fake) == 3


def test_retry_after_takes_seconds_or_an_http_date() -> None:
    now = 1_700_000_000.0  # 2023-11-14T22:13:20Z
    assert retry_after_header("3") == 3.0
    assert retry_after_header("Tue, 14 Nov 2023 22:13:50 GMT", now=now) == 30.0
    assert retry_after_header("Tue, 14 Nov 2023 22:00:00 GMT", now=now) == 0.0  # in the past: at once
    assert retry_after_header("soon") is None and retry_after_header("-1") is None and retry_after_header("nan") is None


def test_5xx_is_retried_a_bounded_number_of_times(fake: LocalServer) -> None:
    sleeps = Sleeps()
    registry = make(fake, attempts=3, sleeps=sleeps)
    fake.fail(503, times=2)
    registry.check()  # two failures, then an answer
    assert sleeps == [0.5, 1.0]

    fake.reset_counts()
    fake.fail(502, times=10, text="Bad Gateway")
    with pytest.raises(RegistryUnavailable) as info:
        registry.check()
    assert "502" in str(info.value) and "3 attempt" in str(info.value)
    assert sent(fake) == 3


def test_a_registry_slower_than_the_timeout_is_unavailable(fake: LocalServer) -> None:
    cls: Any = ComponentRegistryClient if isinstance(fake, FakeComponentRegistry) else ResourceInventoryClient
    registry = cls(fake.url, registry_name=REGISTRY, owner=OWNER, api_key=KEY, timeout=0.2,
                   retry=RetryPolicy(attempts=2, sleep=Sleeps()))
    fake.stall(1.0, times=2)
    with pytest.raises(RegistryUnavailable, match="2 attempt"):
        registry.check()
    assert sent(fake) == 2


@pytest.mark.parametrize("target", ["component", "api"])
def test_a_create_whose_answer_was_lost_is_not_made_twice(fake: LocalServer, target: str) -> None:
    cls: Any = ComponentRegistryClient if isinstance(fake, FakeComponentRegistry) else ResourceInventoryClient
    registry: Registry = cls(fake.url, registry_name=REGISTRY, owner=OWNER, api_key=KEY, timeout=0.3,
                             retry=RetryPolicy(attempts=4, sleep=Sleeps()))
    registry.ensure_registry()
    registry.list_owned()
    if target == "api":
        registry.apply(ComponentEntry("prodcat", {"version": "1"}, ()), None)
    if isinstance(fake, FakeComponentRegistry):
        path = "/components/" if target == "component" else "/exposed-apis/"
    else:
        path = "/tmf-api/resourceInventoryManagement/v5/resource"
    posts = fake.count("POST", path)
    current = registry.list_owned().get("prodcat")  # what the collector holds; a requeue passes it again
    fake.stall(1.0, method="POST", path=path)  # carried out, but answered after the client gave up
    if isinstance(fake, FakeComponentRegistry) and target == "component":
        registry.apply(ENTRY, current)  # unique names: the retry is safe
    else:
        with pytest.raises(RegistryUnavailable, match="not retried"):
            registry.apply(ENTRY, current)
        assert fake.count("POST", path) == posts + 1  # a create that may have landed is not re-sent
    until(lambda: landed(fake, target), timeout=5, what="the stalled create")
    registry.apply(ENTRY, current)
    assert registry.list_owned() == {"prodcat": ENTRY}
    assert make(fake).list_owned() == {"prodcat": ENTRY}  # a fresh read: one component, one API
    assert landed(fake, target) == 1


def landed(fake: LocalServer, target: str) -> int:
    """How many copies of the component (or of its API) the registry holds."""
    if isinstance(fake, FakeComponentRegistry):
        if target == "component":
            return sum(1 for c in fake.rows("components") if c["name"] == "prodcat")
        return len(fake.apis_of("prodcat"))
    assert isinstance(fake, FakeResourceInventory)
    return len(fake.of_category("ODAComponent" if target == "component" else "API"))


def test_a_registry_that_is_down_is_unavailable_and_keeps_its_data_when_back(fake: LocalServer) -> None:
    registry = make(fake, attempts=2)
    registry.ensure_registry()
    registry.apply(ENTRY, None)
    fake.down()
    with pytest.raises(RegistryUnavailable) as info:
        registry.list_owned()
    assert fake.url.split("/tmf-api")[0] in str(info.value)
    with pytest.raises(RegistryUnavailable):
        registry.apply(ComponentEntry("other", {}, ()), None)
    fake.up()
    assert registry.list_owned() == {"prodcat": ENTRY}


def test_a_list_that_fails_midway_raises_instead_of_answering_part(fake: LocalServer) -> None:
    seed_owned(fake, 1_500)
    registry = make(fake, attempts=2)
    fake.fail(503, times=2, after=1)  # the first page is served, the second fails twice
    with pytest.raises(RegistryUnavailable):
        registry.list_owned()
    assert len(registry.list_owned()) == 1_500


def test_the_api_key_never_reaches_errors_or_logs(fake: LocalServer, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    errors: list[str] = []
    with capture_logs() as logs:
        registry = make(fake, attempts=3)
        errors.append(repr(registry))
        fake.fail(500, times=3, text=f"upstream refused {KEY} for this route")  # a server echoing the bare key
        with pytest.raises(RegistryUnavailable) as unavailable:
            registry.check()
        errors.append(str(unavailable.value))
        fake.refuse_key()
        with pytest.raises(RegistryAuthError) as refused:
            registry.list_owned()
        errors.append(str(refused.value))
        fake.refuse_key(False)
        fake.down()
        with pytest.raises(RegistryUnavailable) as down:
            registry.apply(ENTRY, None)
        errors.append(str(down.value))
    assert any(entry.get("event") == "retry" for entry in logs)  # the retries were logged ...
    for text in [*errors, repr(logs), caplog.text]:
        assert KEY not in text  # ... and nothing anywhere shows the key

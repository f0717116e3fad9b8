"""``kube.lease``: leader election with a coordination.k8s.io/v1 Lease, against the emulator.

Timings are short (lease 1 s, renew deadline 0.6 s, retry 0.2 s). A leader "dies" by losing its own
network path to the API server (its client is pointed at a local port that refuses connections or
never answers), while the other candidate keeps talking to the emulator.
"""

from __future__ import annotations

import re
import socket
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

import pytest
from structlog.testing import capture_logs

from nautilus_core.errors import ConfigError
from nautilus_core.kube import KubeClient, RetryPolicy, connect
from nautilus_core.kube.lease import LeaderElector

LEASES = ("coordination.k8s.io/v1", "leases")
NAME, NS = "nautilus-controller", "default"
OFF = RetryPolicy.off()
FAST = {"lease_duration": 1.0, "renew_deadline": 0.6, "retry_period": 0.2}
MICRO_TIME = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$")


@dataclass
class Candidate:
    """An elector with its own client, stop event, thread and a record of its callbacks."""

    elector: LeaderElector
    client: KubeClient
    events: list[tuple[str, float]]
    stop: threading.Event = field(default_factory=threading.Event)
    thread: threading.Thread | None = None

    @property
    def is_leader(self) -> bool:
        return self.elector.is_leader

    @property
    def callbacks(self) -> list[str]:
        return [name for name, _ in self.events]

    def when(self, event: str) -> float:
        return next(at for name, at in self.events if name == event)

    def start(self) -> Candidate:
        self.thread = self.elector.start_in_thread(self.stop)
        return self

    def halt(self) -> None:
        self.stop.set()
        if self.thread is not None:
            self.thread.join(timeout=10)
            assert not self.thread.is_alive(), f"{self.elector} did not stop"


@pytest.fixture
def candidate(kubeconfig_path) -> Iterator[Callable[..., Candidate]]:
    """``candidate("a", **timings)``: a started elector; every one is stopped and joined at teardown."""
    made: list[Candidate] = []

    def make(identity: str, *, start: bool = True, on_started: Callable[[], None] | None = None,
             retry: RetryPolicy = OFF, **timings: float) -> Candidate:
        client = connect(kubeconfig=str(kubeconfig_path), retry=retry)
        events: list[tuple[str, float]] = []

        def started() -> None:
            events.append(("started", time.monotonic()))
            if on_started is not None:
                on_started()

        elector = LeaderElector(client, name=NAME, namespace=NS, identity=identity,
                                on_started_leading=started,
                                on_stopped_leading=lambda: events.append(("stopped", time.monotonic())),
                                **(timings or FAST))
        made.append(Candidate(elector, client, events))
        return made[-1].start() if start else made[-1]

    yield make
    for cand in made:
        cand.halt()
    for cand in made:
        cand.client.close()


def refusing_url() -> str:
    """A local URL nothing listens on (a port just bound and released): connections are refused."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{sock.getsockname()[1]}"


@pytest.fixture(params=["refuse", "hang"])
def dead_end(request) -> Iterator[str]:
    """A local URL where requests fail: connection refused, or accepted and never answered."""
    if request.param == "refuse":
        yield refusing_url()
        return
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen(64)
        yield f"http://127.0.0.1:{sock.getsockname()[1]}"


def cut_off(cand: Candidate, url: str) -> None:
    """This candidate's requests now go to ``url`` (the other candidates are not affected)."""
    cand.client.api_client.configuration.host = url


def wait_until(predicate: Callable[[], bool], timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.01)
    return predicate()


def sample_leaders(cands: list[Candidate], seconds: float) -> list[tuple[str, ...]]:
    """Who claims to lead, sampled every few milliseconds for ``seconds``."""
    samples = []
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        samples.append(tuple(c.elector.identity for c in cands if c.is_leader))
        time.sleep(0.003)
    return samples


def lease_spec(kube_emulator) -> dict:
    lease = kube_emulator.get(*LEASES, NAME, NS)
    assert lease is not None
    return lease["spec"]


def test_single_candidate_creates_the_lease_renews_it_and_releases_it_on_stop(candidate, kube_emulator):
    a = candidate("a")
    assert wait_until(lambda: a.is_leader, 3)
    assert a.elector.observed_holder == "a" and a.callbacks == ["started"]
    first = lease_spec(kube_emulator)
    assert first["holderIdentity"] == "a"
    assert first["leaseDurationSeconds"] == 1 and first["leaseTransitions"] == 0
    assert MICRO_TIME.match(first["acquireTime"]) and MICRO_TIME.match(first["renewTime"])

    assert wait_until(lambda: lease_spec(kube_emulator)["renewTime"] != first["renewTime"], 2)
    renewed = lease_spec(kube_emulator)
    assert renewed["holderIdentity"] == "a" and renewed["acquireTime"] == first["acquireTime"]
    assert renewed["leaseTransitions"] == 0 and a.is_leader

    a.halt()
    released = lease_spec(kube_emulator)
    assert released["holderIdentity"] == "" and released["leaseDurationSeconds"] == 1
    assert released["leaseTransitions"] == 0
    assert not a.is_leader and a.callbacks == ["started", "stopped"]
    assert a.elector.release() is False  # nothing left to release


def test_never_two_leaders_through_start_loss_and_release(candidate, kube_emulator):
    a, b = candidate("a"), candidate("b")
    samples = sample_leaders([a, b], 1.5)
    first = next(c for c in (a, b) if c.is_leader)
    other = b if first is a else a

    cut_off(first, refusing_url())
    samples += sample_leaders([a, b], 2.5)
    assert other.is_leader and not first.is_leader

    cut_off(first, kube_emulator.url)  # back online, then the new leader stops and releases
    other.halt()
    samples += sample_leaders([a, b], 1.5)

    assert all(len(s) <= 1 for s in samples), "two candidates claimed to lead at the same time"
    holders = [s[0] for s in samples if s]
    changes = [h for i, h in enumerate(holders) if i == 0 or h != holders[i - 1]]
    ident = first.elector.identity
    assert changes == [ident, other.elector.identity, ident]
    assert len(holders) > len(samples) * 0.5  # someone led most of the time
    assert lease_spec(kube_emulator)["holderIdentity"] == ident


def test_released_lease_is_taken_over_well_within_the_lease_duration(candidate, kube_emulator):
    timings = {"lease_duration": 3.0, "renew_deadline": 2.0, "retry_period": 0.2}
    a = candidate("a", **timings)
    assert wait_until(lambda: a.is_leader, 3)
    b = candidate("b", **timings)
    assert wait_until(lambda: b.elector.observed_holder == "a", 3)

    a.halt()
    stopped = time.monotonic()
    # Without the release, b would wait until the lease expired: >= 2.5 s after a's last renewal it saw.
    assert wait_until(lambda: b.is_leader, timings["lease_duration"] / 2)
    assert b.when("started") - stopped < timings["lease_duration"] / 2
    assert a.callbacks == ["started", "stopped"] and not a.is_leader
    spec = lease_spec(kube_emulator)
    assert spec["holderIdentity"] == "b" and spec["leaseTransitions"] == 1


def test_leader_cut_off_from_the_api_steps_down_before_the_other_takes_over(candidate, kube_emulator, dead_end):
    a = candidate("a")
    assert wait_until(lambda: a.is_leader, 3)
    b = candidate("b")
    assert wait_until(lambda: b.elector.observed_holder == "a", 3)

    with capture_logs() as logs:
        cut_off(a, dead_end)
        cut = time.monotonic()
        assert wait_until(lambda: b.is_leader, 3 * FAST["lease_duration"])

    assert a.callbacks == ["started", "stopped"] and not a.is_leader
    assert a.when("stopped") - cut < FAST["lease_duration"]  # stepped down before the lease expired...
    assert a.when("stopped") < b.when("started")  # ...so the two never led at once
    # b waited for the lease to expire (1 s after it last saw a renewal, at most ~0.5 s before the cut)
    assert b.when("started") - cut > FAST["lease_duration"] - 0.5
    assert b.elector.observed_holder == "b" and a.elector.observed_holder == "a"
    spec = lease_spec(kube_emulator)
    assert spec["holderIdentity"] == "b" and spec["leaseTransitions"] == 1
    assert any(e["event"] == "lease_renew_failed" and e["identity"] == "a" for e in logs)
    assert any(e["event"] == "lease_lost" and e["reason"] == "renew_deadline_exceeded" for e in logs)


def test_leadership_lapses_at_the_renew_deadline_even_while_the_elector_is_stuck(candidate, kube_emulator):
    # The client's own retries (against the advice to turn them off) keep a's thread busy for seconds
    # after its renew deadline; is_leader must not wait for the thread to notice.
    a = candidate("a", retry=RetryPolicy(attempts=4, base=0.5))
    assert wait_until(lambda: a.is_leader, 3)
    b = candidate("b")
    assert wait_until(lambda: b.elector.observed_holder == "a", 3)

    cut_off(a, refusing_url())
    samples = sample_leaders([a, b], 2.5)
    assert all(len(s) <= 1 for s in samples), "the stuck leader still claimed to lead"
    assert b.is_leader and not a.is_leader
    assert lease_spec(kube_emulator)["holderIdentity"] == "b"
    cut_off(a, kube_emulator.url)  # so that its retries end quickly at teardown


def test_candidates_racing_for_an_expired_lease_one_wins_the_other_gets_a_conflict(candidate, kube_emulator):
    kube_emulator.create({
        "apiVersion": "coordination.k8s.io/v1", "kind": "Lease", "metadata": {"name": NAME, "namespace": NS},
        "spec": {"holderIdentity": "ghost", "leaseDurationSeconds": 1, "leaseTransitions": 3,
                 "acquireTime": "2024-01-01T00:00:00.000000Z", "renewTime": "2024-01-01T00:00:00.000000Z"},
    })
    # The first two writes land 0.8 s late: both candidates read the expired lease before either wins.
    slow = kube_emulator.inject(method="PUT", path=f"/leases/{NAME}", status=None, delay=0.8, times=2)
    timings = {"lease_duration": 2.0, "renew_deadline": 1.5, "retry_period": 0.2}
    with capture_logs() as logs:
        a, b = candidate("a", **timings), candidate("b", **timings)
        samples = sample_leaders([a, b], 3.5)

    assert all(len(s) <= 1 for s in samples)
    assert slow.hits == 2
    winner, loser = (a, b) if a.is_leader else (b, a)
    assert winner.is_leader and not loser.is_leader and loser.callbacks == []
    conflicts = [e for e in logs if e["event"] == "lease_update_conflict"]
    assert [e["identity"] for e in conflicts] == [loser.elector.identity]
    spec = lease_spec(kube_emulator)
    assert spec["holderIdentity"] == winner.elector.identity
    assert spec["leaseTransitions"] == 4  # one takeover, not two
    assert spec["acquireTime"] != "2024-01-01T00:00:00.000000Z"


def test_leader_rides_out_a_transient_error(candidate, kube_emulator):
    a = candidate("a")
    assert wait_until(lambda: a.is_leader, 3)
    with capture_logs() as logs:
        fault = kube_emulator.inject(method="PUT", path=f"/leases/{NAME}", status=503, times=1)
        assert wait_until(lambda: fault.hits == 1, 2)
        before = lease_spec(kube_emulator)["renewTime"]
        assert wait_until(lambda: lease_spec(kube_emulator)["renewTime"] != before, 2)
    assert a.is_leader and a.callbacks == ["started"]
    assert [e["event"] for e in logs if e["log_level"] == "warning"] == ["lease_renew_failed"]


def test_leader_steps_down_at_once_when_someone_else_holds_the_lease(candidate, kube_emulator):
    a = candidate("a", lease_duration=30.0, renew_deadline=20.0, retry_period=0.2)
    assert wait_until(lambda: a.is_leader, 3)
    kube_emulator.patch(*LEASES, NAME, {"spec": {"holderIdentity": "intruder"}}, namespace=NS)
    assert wait_until(lambda: not a.is_leader, 2)  # long before the 20 s renew deadline
    assert a.callbacks == ["started", "stopped"] and a.elector.observed_holder == "intruder"
    a.halt()
    assert lease_spec(kube_emulator)["holderIdentity"] == "intruder"  # not ours to release


def test_a_failing_callback_does_not_stop_the_election(candidate, kube_emulator):
    def boom() -> None:
        raise RuntimeError("callback bug")

    with capture_logs() as logs:
        a = candidate("a", on_started=boom)
        assert wait_until(lambda: a.is_leader, 3)
        first = lease_spec(kube_emulator)["renewTime"]
        assert wait_until(lambda: lease_spec(kube_emulator)["renewTime"] != first, 2)
    assert a.is_leader
    assert [e["callback"] for e in logs if e["event"] == "lease_callback_failed"] == ["on_started_leading"]


@pytest.mark.parametrize(("timings", "named"), [
    ({"lease_duration": 10.0, "renew_deadline": 10.0, "retry_period": 2.0}, "lease_duration"),
    ({"lease_duration": 15.0, "renew_deadline": 2.4, "retry_period": 2.0}, "renew_deadline"),
    ({"lease_duration": 15.0, "renew_deadline": 10.0, "retry_period": 0.0}, "retry_period"),
    ({"identity": ""}, "identity"),
])
def test_invalid_settings_are_config_errors_naming_the_parameter(kubeconfig_path, timings, named):
    settings = {"name": NAME, "namespace": NS, "identity": "a", **timings}
    with connect(kubeconfig=str(kubeconfig_path), retry=OFF) as client, \
            pytest.raises(ConfigError, match=named):
        LeaderElector(client, **settings)

"""WorkQueue: client-go semantics (dedupe, one worker per key, reruns, delays, backoff, shutdown)."""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Callable, Iterator

import pytest

from nautilus_core.controller.metrics import ControllerMetrics
from nautilus_core.controller.queue import WorkQueue


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def queue(clock: FakeClock) -> Iterator[WorkQueue]:
    q = WorkQueue("test", backoff_base=5, backoff_max=300, clock=clock)
    yield q
    q.shut_down()


def drain_ready(q: WorkQueue) -> list[str]:
    """Hand out every ready key (marking each done) without blocking."""
    keys = []
    while (key := q.get(timeout=0)) is not None:
        keys.append(key)
        q.done(key)
    return keys


def start_thread(target: Callable[[], object]) -> threading.Thread:
    thread = threading.Thread(target=target, daemon=True)
    thread.start()
    return thread


# ---------------------------------------------------------------------- dedupe, order, reruns


def test_fifo_and_dedupe_while_waiting(queue: WorkQueue) -> None:
    for key in ["a", "b", "a", "c", "b", "a"]:
        queue.add(key)
    assert len(queue) == 3
    assert drain_ready(queue) == ["a", "b", "c"]
    assert len(queue) == 0


def test_add_while_processing_gives_exactly_one_rerun_after_done(queue: WorkQueue) -> None:
    queue.add("ns/a")
    assert queue.get(timeout=0) == "ns/a"
    for _ in range(5):
        queue.add("ns/a")
    # Not handed out again while the first run is in flight.
    assert queue.get(timeout=0) is None
    assert queue.processing == 1
    queue.done("ns/a")
    assert queue.get(timeout=0) == "ns/a"
    queue.done("ns/a")
    assert queue.get(timeout=0) is None
    assert queue.processing == 0


def test_done_without_new_events_does_not_requeue(queue: WorkQueue) -> None:
    queue.add("a")
    assert queue.get(timeout=0) == "a"
    queue.done("a")
    queue.done("a")  # a second done, or one for an unknown key, changes nothing
    queue.done("never-added")
    assert len(queue) == 0 and queue.processing == 0


def test_counts_ready_delayed_and_processing(queue: WorkQueue) -> None:
    queue.add("a")
    queue.add("b")
    queue.add_after("c", 10)
    assert (len(queue), queue.processing) == (3, 0)
    key = queue.get(timeout=0)
    assert key is not None
    assert (len(queue), queue.processing) == (2, 1)
    queue.add(key)  # dirtied while processing: counted again
    assert len(queue) == 3
    queue.done(key)
    assert (len(queue), queue.processing) == (3, 0)


def test_a_key_is_never_handed_to_two_workers_at_once() -> None:
    q = WorkQueue("hammer")
    keys = [f"k{i}" for i in range(4)]
    in_flight: set[str] = set()
    lock = threading.Lock()
    violations: list[str] = []
    runs = {key: 0 for key in keys}
    stop_adding = threading.Event()

    def worker() -> None:
        while (key := q.get()) is not None:
            with lock:
                if key in in_flight:
                    violations.append(key)
                in_flight.add(key)
                runs[key] += 1
            time.sleep(random.uniform(0, 0.002))  # widen the window for a second hand-out
            q.add(random.choice(keys))           # events arriving during processing
            with lock:
                in_flight.discard(key)
            q.done(key)

    def producer() -> None:
        while not stop_adding.is_set():
            q.add(random.choice(keys))

    workers = [start_thread(worker) for _ in range(8)]
    producers = [start_thread(producer) for _ in range(3)]
    deadline = time.monotonic() + 10
    while sum(runs.values()) < 400 and time.monotonic() < deadline:
        time.sleep(0.01)
    stop_adding.set()
    for t in producers:
        t.join()
    assert q.shut_down(drain=True, timeout=10)
    for t in workers:
        t.join(timeout=10)
        assert not t.is_alive()

    assert violations == []
    assert sum(runs.values()) >= 400
    assert all(n > 0 for n in runs.values())


def test_concurrent_adds_of_one_key_while_processing_collapse_into_one_rerun() -> None:
    q = WorkQueue("collapse")
    q.add("a")
    assert q.get(timeout=0) == "a"
    def add_many() -> None:
        for _ in range(200):
            q.add("a")

    adders = [start_thread(add_many) for _ in range(4)]
    for t in adders:
        t.join()
    q.done("a")
    assert q.get(timeout=0) == "a"
    q.done("a")
    assert q.get(timeout=0) is None
    q.shut_down()


# ---------------------------------------------------------------------- delays


def test_add_after_hands_keys_out_in_ready_time_order(queue: WorkQueue, clock: FakeClock) -> None:
    queue.add_after("late", 30)
    queue.add_after("early", 10)
    queue.add_after("middle", 20)
    assert queue.get(timeout=0) is None
    clock.advance(15)
    assert drain_ready(queue) == ["early"]
    clock.advance(100)
    assert drain_ready(queue) == ["middle", "late"]


def test_add_after_only_moves_ready_time_earlier(queue: WorkQueue, clock: FakeClock) -> None:
    queue.add_after("a", 10)
    queue.add_after("a", 60)  # later: ignored, still ready at +10
    assert len(queue) == 1
    clock.advance(10)
    assert drain_ready(queue) == ["a"]

    queue.add_after("b", 60)
    queue.add_after("b", 5)   # earlier: moved
    clock.advance(5)
    assert drain_ready(queue) == ["b"]
    clock.advance(100)
    assert drain_ready(queue) == []  # the superseded +60 entry does not fire again


def test_plain_add_makes_a_delayed_key_ready_now(queue: WorkQueue, clock: FakeClock) -> None:
    queue.add_after("a", 60)
    queue.add("a")
    assert len(queue) == 1
    assert drain_ready(queue) == ["a"]
    clock.advance(60)
    assert drain_ready(queue) == []


def test_add_after_of_a_ready_key_keeps_it_ready(queue: WorkQueue) -> None:
    queue.add("a")
    queue.add_after("a", 60)
    assert len(queue) == 1
    assert drain_ready(queue) == ["a"]


def test_add_after_with_no_delay_is_a_plain_add(queue: WorkQueue) -> None:
    queue.add_after("a", 0)
    assert drain_ready(queue) == ["a"]


def test_delayed_key_wakes_a_blocked_getter() -> None:
    q = WorkQueue("wake")
    got: list[str | None] = []
    getter = start_thread(lambda: got.append(q.get(timeout=10)))
    q.add_after("a", 0.05)
    getter.join(timeout=10)
    assert got == ["a"]
    q.done("a")
    q.shut_down()


def test_get_times_out_with_none() -> None:
    q = WorkQueue("timeout")
    assert q.get(timeout=0.02) is None
    q.shut_down()


# ---------------------------------------------------------------------- rate limiting


def test_rate_limited_backoff_doubles_up_to_the_cap_and_forget_resets(queue: WorkQueue) -> None:
    delays = [queue.add_rate_limited("a") for _ in range(9)]
    assert delays == [5, 10, 20, 40, 80, 160, 300, 300, 300]
    assert queue.failures("a") == 9
    assert queue.failures("b") == 0
    queue.forget("a")
    assert queue.failures("a") == 0
    assert queue.add_rate_limited("a") == 5


def test_rate_limited_key_becomes_ready_after_its_backoff(queue: WorkQueue, clock: FakeClock) -> None:
    assert queue.add_rate_limited("a") == 5
    clock.advance(4.9)
    assert queue.get(timeout=0) is None
    clock.advance(0.1)
    assert drain_ready(queue) == ["a"]


def test_rate_limited_min_delay_honours_a_longer_retry_after(queue: WorkQueue, clock: FakeClock) -> None:
    assert queue.add_rate_limited("a", min_delay=600) == 600  # above backoff_max: still honoured
    assert queue.add_rate_limited("b", min_delay=1) == 5      # shorter than the backoff: backoff wins
    assert queue.failures("a") == 1
    clock.advance(300)
    assert drain_ready(queue) == ["b"]
    clock.advance(300)
    assert drain_ready(queue) == ["a"]


def test_backoff_uses_constructor_settings_and_survives_huge_failure_counts() -> None:
    q = WorkQueue("custom", backoff_base=0.5, backoff_max=3)
    assert [q.add_rate_limited("a") for _ in range(5)] == [0.5, 1, 2, 3, 3]
    for _ in range(2000):
        q.add_rate_limited("b")
    assert q.add_rate_limited("b") == 3
    q.shut_down()


def test_invalid_backoff_is_rejected() -> None:
    with pytest.raises(ValueError, match="backoff"):
        WorkQueue("bad", backoff_base=0)


# ---------------------------------------------------------------------- shutdown


def test_shutdown_wakes_blocked_getters_with_none() -> None:
    q = WorkQueue("shutdown")
    results: list[str | None] = []
    getters = [start_thread(lambda: results.append(q.get())) for _ in range(3)]
    time.sleep(0.05)
    q.shut_down()
    for t in getters:
        t.join(timeout=10)
        assert not t.is_alive()
    assert results == [None, None, None]
    assert q.shutting_down


def test_after_shutdown_adds_are_ignored_and_nothing_is_handed_out(queue: WorkQueue) -> None:
    queue.add("waiting")
    queue.shut_down()
    queue.add("new")
    queue.add_after("later", 1)
    assert queue.get(timeout=0) is None
    assert len(queue) == 1  # only "waiting", never handed out


def test_drain_waits_for_in_flight_keys() -> None:
    q = WorkQueue("drain")
    q.add("a")
    assert q.get(timeout=0) == "a"
    drained = threading.Event()

    def shut() -> None:
        q.shut_down(drain=True)
        drained.set()

    t = start_thread(shut)
    assert not drained.wait(0.05)  # "a" is still in flight
    assert q.shutting_down
    q.done("a")
    assert drained.wait(10)
    t.join()


def test_drain_timeout_reports_work_still_in_flight() -> None:
    q = WorkQueue("drain-timeout")
    q.add("a")
    assert q.get(timeout=0) == "a"
    assert q.shut_down(drain=True, timeout=0.02) is False
    q.done("a")
    assert q.shut_down(drain=True, timeout=0.02) is True


# ---------------------------------------------------------------------- metrics hooks


def test_metrics_record_adds_depth_retries_and_latencies(clock: FakeClock) -> None:
    metrics = ControllerMetrics()
    q = WorkQueue("clusters", metrics=metrics, clock=clock)

    def sample(name: str) -> float | None:
        return metrics.sample(name, {"name": "clusters"})

    assert sample("workqueue_depth") == 0
    q.add("a")
    q.add("a")  # deduped: not an add
    q.add("b")
    assert sample("workqueue_adds_total") == 2
    assert sample("workqueue_depth") == 2

    clock.advance(3)
    assert q.get(timeout=0) == "a"
    assert sample("workqueue_depth") == 1
    assert sample("workqueue_queue_duration_seconds_count") == 1
    assert sample("workqueue_queue_duration_seconds_sum") == 3
    clock.advance(2)
    q.done("a")
    assert sample("workqueue_work_duration_seconds_count") == 1
    assert sample("workqueue_work_duration_seconds_sum") == 2

    q.add_rate_limited("a")
    assert sample("workqueue_retries_total") == 1
    assert sample("workqueue_adds_total") == 2  # delayed: counted when it becomes ready
    clock.advance(5)
    assert q.get(timeout=0) == "b"
    assert q.get(timeout=0) == "a"
    assert sample("workqueue_adds_total") == 3
    q.shut_down()


def test_events_go_ahead_of_a_queued_resync_burst():
    queue = WorkQueue("lanes")
    for i in range(1000):
        queue.add(f"resync-{i}", low_priority=True)
    queue.add("event")
    queue.add("resync-500")                         # an event for a key already waiting behind the burst
    assert [queue.get(timeout=0), queue.get(timeout=0)] == ["event", "resync-500"]
    handed = []
    while (key := queue.get(timeout=0)) is not None:
        handed.append(key)
        queue.done(key)
    assert len(handed) == 999 and "resync-500" not in handed and handed[0] == "resync-0"


def test_a_low_priority_add_while_processing_reruns_in_the_low_lane_unless_an_event_follows():
    queue = WorkQueue("lanes")
    queue.add("a")
    assert queue.get(timeout=0) == "a"
    queue.add("a", low_priority=True)               # resync while "a" runs
    queue.add("b", low_priority=True)
    queue.add("c")
    queue.done("a")
    assert [queue.get(timeout=0), queue.get(timeout=0), queue.get(timeout=0)] == ["c", "b", "a"]
    queue.add("b", low_priority=True)
    queue.add("b")                                  # then an event: the rerun is in the front lane
    queue.add("d", low_priority=True)
    queue.done("b")
    assert queue.get(timeout=0) == "b"

"""Work queue with client-go ``util/workqueue`` semantics: dedupe, delays, per-key backoff.

Owns :class:`WorkQueue`, the thread-safe queue of object keys between event sources (informers, the
periodic resync, reconcile results) and the reconcile workers. The controller runtime
(``controller/runtime.py``) creates one queue per controller, adds keys from its event handlers and
runs ``worker_count`` threads that loop on :meth:`WorkQueue.get` / :meth:`WorkQueue.done`.

Semantics (those of client-go's workqueue, as controller-runtime uses it):

* FIFO + *dirty* set + *processing* set. :meth:`~WorkQueue.add` is a no-op while the key is dirty
  (waiting to be handed out). A key being processed is marked dirty but not queued; :meth:`~WorkQueue.done`
  re-queues it. So one key is never handed to two workers at once, and any number of events that
  arrive while it is processed collapse into one rerun.
* :meth:`~WorkQueue.add_after` keeps delayed keys in a heap; a key's ready time only ever moves
  earlier, and a plain ``add`` makes a delayed key ready now. No thread per delay: getters wait on the
  one condition variable until the earliest ready time.
* :meth:`~WorkQueue.add_rate_limited` delays a key ``min(backoff_base * 2**failures, backoff_max)``
  seconds and counts the failure; :meth:`~WorkQueue.forget` resets the count. There is no built-in
  maximum: the runtime decides when to give up (``failures(key) >= max_retries``).
* Two lanes: keys added with ``low_priority=True`` (the periodic resync) are handed out only when no
  other key is ready, so an event never waits behind a resync burst; adding a waiting low-priority key
  normally moves it to the front lane.
* :meth:`~WorkQueue.shut_down` stops handing out keys (blocked getters return ``None``) and ignores
  later adds; with ``drain=True`` it waits for the keys in flight to be marked done. Keys still waiting
  are not handed out any more (unlike client-go): a restarted controller relists everything anyway.

Metrics go to an optional ``metrics`` object (:class:`~nautilus_core.controller.metrics.ControllerMetrics`
or anything with the methods of :class:`QueueMetrics`); ``workqueue_depth`` is the number of keys ready
to be handed out, as in client-go (delayed keys are not counted there, but are in ``len(queue)``).
"""

from __future__ import annotations

import heapq
import threading
import time
from collections import deque
from collections.abc import Callable
from typing import Protocol

__all__ = ["QueueMetrics", "WorkQueue"]

# 2**64 * any sane base exceeds any sane cap; larger exponents would only risk float overflow.
_MAX_EXPONENT = 64


class QueueMetrics(Protocol):
    """What a queue reports; :class:`~nautilus_core.controller.metrics.ControllerMetrics` implements it."""

    def queue_add(self, name: str) -> None: ...

    def queue_depth(self, name: str, depth: int) -> None: ...

    def queue_retry(self, name: str) -> None: ...

    def queue_latency(self, name: str, seconds: float) -> None: ...

    def work_duration(self, name: str, seconds: float) -> None: ...


class WorkQueue:
    """Thread-safe queue of keys (``"namespace/name"`` or any string) with client-go semantics.

    :param name: the queue's name, the ``name`` label of the ``workqueue_*`` metrics.
    :param backoff_base: first delay of :meth:`add_rate_limited`, in seconds (``Settings.backoff_base``).
    :param backoff_max: cap of the rate-limited delay, in seconds (``Settings.backoff_max``).
    :param metrics: receives adds, depth, retries, time in queue and work duration; ``None`` for none.
    :param clock: monotonic seconds; inject a fake in tests. Ready times and metrics use it, while the
        ``timeout`` arguments of :meth:`get` and :meth:`shut_down` are real seconds.

    Typical worker loop::

        while (key := queue.get()) is not None:
            try:
                reconcile(key)
            except Exception:
                queue.add_rate_limited(key)
            else:
                queue.forget(key)
            finally:
                queue.done(key)
    """

    def __init__(self, name: str = "default", *, backoff_base: float = 5.0, backoff_max: float = 300.0,
                 metrics: QueueMetrics | None = None, clock: Callable[[], float] = time.monotonic) -> None:
        if backoff_base <= 0 or backoff_max <= 0:
            raise ValueError(f"queue {name!r}: backoff_base and backoff_max must be > 0, "
                             f"got {backoff_base} and {backoff_max}")
        self.name = name
        self.backoff_base = float(backoff_base)
        self.backoff_max = float(backoff_max)
        self._metrics = metrics
        self._clock = clock
        self._cond = threading.Condition(threading.Lock())
        self._queue: deque[str] = deque()        # ready keys, FIFO; each is also in _dirty
        self._low: deque[str] = deque()          # ready low-priority keys (stale entries skipped)
        self._low_ready: set[str] = set()        # keys waiting in _low
        self._low_pending: set[str] = set()      # low-priority keys added while processing
        self._dirty: set[str] = set()            # keys that need (another) run
        self._processing: set[str] = set()       # keys handed out and not yet done
        self._waiting: dict[str, float] = {}     # delayed key -> ready time
        self._heap: list[tuple[float, int, str]] = []  # (ready, seq, key); stale entries skipped
        self._seq = 0
        self._failures: dict[str, int] = {}
        self._added_at: dict[str, float] = {}    # dirty key -> when it became dirty
        self._started_at: dict[str, float] = {}  # processing key -> when it was handed out
        self._shutting_down = False
        if metrics is not None:
            metrics.queue_depth(name, 0)

    # ------------------------------------------------------------------ adding

    def add(self, key: str, low_priority: bool = False) -> None:
        """Make ``key`` ready now, unless it is already waiting to be handed out (then nothing happens).

        If the key is being processed it is only marked dirty; :meth:`done` queues it again. A delayed
        key (``add_after``) becomes ready now. ``low_priority`` keys wait behind every other ready key.
        Ignored after :meth:`shut_down`.
        """
        with self._cond:
            if self._shutting_down:
                return
            self._waiting.pop(key, None)
            self._add_locked(key, self._clock(), low_priority)

    def add_after(self, key: str, delay: float) -> None:
        """Add ``key`` once ``delay`` seconds have passed; ``delay <= 0`` is a plain :meth:`add`.

        A key already delayed to a later time is moved earlier; an earlier ready time is kept, and a
        key that is already ready (or dirty while processing) stays as it is. Ignored after shutdown.
        """
        if delay <= 0:
            self.add(key)
            return
        with self._cond:
            if self._shutting_down or key in self._dirty:
                return
            ready = self._clock() + delay
            current = self._waiting.get(key)
            if current is not None and current <= ready:
                return
            self._waiting[key] = ready
            self._seq += 1
            heapq.heappush(self._heap, (ready, self._seq, key))
            self._cond.notify_all()  # a getter may now have to wake up earlier

    def add_rate_limited(self, key: str, min_delay: float = 0.0) -> float:
        """Add ``key`` after its backoff, ``min(backoff_base * 2**failures, backoff_max)``; count a failure.

        :param min_delay: wait at least this long (a server's Retry-After); it may exceed ``backoff_max``.
            Pass it here rather than calling :meth:`add_after` afterwards, which can only move a key earlier.
        :returns: the delay used, in seconds (5, 10, 20, ... 300 with the default settings).
        """
        with self._cond:
            failures = self._failures.get(key, 0)
            self._failures[key] = failures + 1
            backoff = min(self.backoff_base * 2.0 ** min(failures, _MAX_EXPONENT), self.backoff_max)
            delay = max(backoff, min_delay)
            if self._metrics is not None:
                self._metrics.queue_retry(self.name)
        self.add_after(key, delay)
        return delay

    def failures(self, key: str) -> int:
        """How many times ``key`` went through :meth:`add_rate_limited` since it was last forgotten."""
        with self._cond:
            return self._failures.get(key, 0)

    def forget(self, key: str) -> None:
        """Reset the failure count of ``key`` (after a success, or when giving up on it)."""
        with self._cond:
            self._failures.pop(key, None)

    # ------------------------------------------------------------------ consuming

    def get(self, timeout: float | None = None) -> str | None:
        """Hand out the oldest ready key and mark it processing; the caller must call :meth:`done`.

        Blocks until a key is ready. :returns: the key, or ``None`` when ``timeout`` seconds passed
        without one (``timeout=0`` never blocks) or the queue is shut down.
        """
        deadline = None if timeout is None else time.monotonic() + timeout
        with self._cond:
            while True:
                if self._shutting_down:
                    return None
                now = self._clock()
                self._promote_due(now)
                if self._queue or self._low_ready:
                    return self._hand_out(now)
                wait = self._heap[0][0] - now if self._heap else None
                if deadline is not None:
                    remaining = deadline - time.monotonic()
                    if remaining <= 0:
                        return None
                    wait = remaining if wait is None else min(wait, remaining)
                self._cond.wait(wait)

    def done(self, key: str) -> None:
        """Mark ``key`` finished; if it was added while processing, queue it again (one rerun).

        Calling it for a key that is not being processed does nothing.
        """
        with self._cond:
            if key not in self._processing:
                return
            self._processing.discard(key)
            started = self._started_at.pop(key, None)
            if self._metrics is not None and started is not None:
                self._metrics.work_duration(self.name, max(0.0, self._clock() - started))
            if key in self._dirty:
                if key in self._low_pending:
                    self._low_pending.discard(key)
                    self._low.append(key)
                    self._low_ready.add(key)
                else:
                    self._queue.append(key)
                self._report_depth()
            self._cond.notify_all()  # getters, and shut_down(drain=True) waiting for in-flight keys

    # ------------------------------------------------------------------ shutdown and state

    def shut_down(self, drain: bool = False, timeout: float | None = None) -> bool:
        """Stop handing out keys: blocked and later :meth:`get` calls return ``None``, adds are ignored.

        :param drain: also wait until every key in flight has been marked :meth:`done`.
        :param timeout: with ``drain``, give up waiting after this many seconds.
        :returns: ``True`` when nothing is in flight any more (always, without ``drain`` if idle).
        """
        deadline = None if timeout is None else time.monotonic() + timeout
        with self._cond:
            self._shutting_down = True
            self._cond.notify_all()
            if not drain:
                return not self._processing
            while self._processing:
                remaining = None if deadline is None else deadline - time.monotonic()
                if remaining is not None and remaining <= 0:
                    return False
                self._cond.wait(remaining)
            return True

    @property
    def shutting_down(self) -> bool:
        with self._cond:
            return self._shutting_down

    @property
    def processing(self) -> int:
        """Number of keys handed out and not yet :meth:`done`."""
        with self._cond:
            return len(self._processing)

    def __len__(self) -> int:
        """Keys waiting: ready, delayed, and in flight but added again (each will run once more)."""
        with self._cond:
            return len(self._dirty) + len(self._waiting)

    def __repr__(self) -> str:
        with self._cond:
            return (f"<WorkQueue {self.name!r} ready={len(self._queue) + len(self._low_ready)} "
                    f"delayed={len(self._waiting)} "
                    f"processing={len(self._processing)}{' shutting down' if self._shutting_down else ''}>")

    # ------------------------------------------------------------------ internals (lock held)

    def _add_locked(self, key: str, now: float, low: bool = False) -> None:
        if key in self._dirty:
            if not low and key in self._low_ready:  # an event for a key waiting behind the resync
                self._low_ready.discard(key)
                self._queue.append(key)
                self._cond.notify_all()
            elif not low:
                self._low_pending.discard(key)
            return
        self._dirty.add(key)
        self._added_at[key] = now
        if self._metrics is not None:
            self._metrics.queue_add(self.name)
        if key in self._processing:
            if low:
                self._low_pending.add(key)
            return  # done() queues it
        if low:
            self._low.append(key)
            self._low_ready.add(key)
        else:
            self._queue.append(key)
        self._report_depth()
        self._cond.notify_all()

    def _promote_due(self, now: float) -> None:
        while self._heap and self._heap[0][0] <= now:
            ready, _, key = heapq.heappop(self._heap)
            if self._waiting.get(key) != ready:
                continue  # stale: the key was moved earlier, added normally, or already promoted
            del self._waiting[key]
            self._add_locked(key, now)

    def _hand_out(self, now: float) -> str:
        if self._queue:
            key = self._queue.popleft()
        else:
            key = self._low.popleft()
            while key not in self._low_ready:  # moved to the front lane meanwhile
                key = self._low.popleft()
            self._low_ready.discard(key)
        self._dirty.discard(key)
        self._processing.add(key)
        self._started_at[key] = now
        added = self._added_at.pop(key, None)
        if self._metrics is not None:
            if added is not None:
                self._metrics.queue_latency(self.name, max(0.0, now - added))
            self._report_depth()
        return key

    def _report_depth(self) -> None:
        if self._metrics is not None:
            self._metrics.queue_depth(self.name, len(self._queue) + len(self._low_ready))

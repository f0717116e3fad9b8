"""``Watcher``: list-then-watch, resume from resourceVersion, bookmarks, 410 relist, silent-stream restart."""

from __future__ import annotations

import queue
import threading
import time

import pytest

from nautilus_core.kube import RetryPolicy, Watcher, connect


def cm(name):
    return {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name, "namespace": "default"}}


class Run:
    """Runs a watcher in a thread and collects its events."""

    def __init__(self, watcher):
        self.watcher = watcher
        self.events: queue.Queue = queue.Queue()
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self):
        for event in self.watcher.events():
            self.events.put((event.type, event.obj["metadata"]["name"]))

    def take(self, n, timeout=10.0):
        deadline = time.monotonic() + timeout
        out = []
        while len(out) < n:
            out.append(self.events.get(timeout=max(0.01, deadline - time.monotonic())))
        return out

    def quiet(self, wait=0.5):
        time.sleep(wait)
        return self.events.empty()

    def stop(self):
        self.watcher.stop()
        self.thread.join(timeout=10)
        assert not self.thread.is_alive()


@pytest.fixture
def kube(kubeconfig_path):
    with connect(kubeconfig=str(kubeconfig_path), retry=RetryPolicy.off()) as client:
        yield client


def until(predicate, timeout=10.0):
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "condition not met in time"
        time.sleep(0.02)


def test_list_then_watch_sees_every_change_once(kube_emulator, kube):
    kube_emulator.create(cm("before"))
    run = Run(Watcher(kube, "v1", "configmaps", namespace="default", page_limit=1))
    try:
        assert run.take(1) == [("ADDED", "before")]
        assert run.watcher.synced.wait(5)
        kube_emulator.create(cm("after"))
        kube_emulator.patch("v1", "configmaps", "before", {"data": {"x": "1"}}, namespace="default")
        kube_emulator.delete("v1", "configmaps", "after", namespace="default")
        assert run.take(3) == [("ADDED", "after"), ("MODIFIED", "before"), ("DELETED", "after")]
        assert run.quiet()
    finally:
        run.stop()


def test_resumes_from_last_resource_version_with_bookmarks(kube_emulator, kube):
    run = Run(Watcher(kube, "v1", "configmaps", namespace="default", server_timeout=1))
    try:
        assert run.watcher.synced.wait(5)
        kube_emulator.create(cm("one"))
        assert run.take(1) == [("ADDED", "one")]
        until(lambda: run.watcher.stats.watches >= 3)       # the server ended the stream twice
        kube_emulator.create(cm("two"))
        assert run.take(1) == [("ADDED", "two")]
        assert run.quiet()                                   # nothing replayed twice
        watches = kube_emulator.requests.filter(method="GET", path="/api/v1/namespaces/default/configmaps")
        resumed = [r.query for r in watches if r.query.get("watch") in ("true", "1")]
        assert all(q.get("allowWatchBookmarks") == "true" and q.get("resourceVersion") for q in resumed)
        assert run.watcher.stats.lists == 1                  # resumed, never relisted
        until(lambda: run.watcher.stats.bookmarks > 0)
    finally:
        run.stop()


def test_410_gone_relists_and_reports_what_vanished(kube_emulator, kube):
    kube_emulator.create(cm("keep"))
    kube_emulator.create(cm("doomed"))
    run = Run(Watcher(kube, "v1", "configmaps", namespace="default", server_timeout=1))
    try:
        assert sorted(run.take(2)) == [("ADDED", "doomed"), ("ADDED", "keep")]
        with kube_emulator.unreachable("refuse"):
            until(lambda: run.watcher.stats.errors >= 1)
            kube_emulator.delete("v1", "configmaps", "doomed", namespace="default")
            kube_emulator.create(cm("born"))
            kube_emulator.expire_history()
        events = sorted(run.take(2, timeout=20))
        assert events == [("ADDED", "born"), ("DELETED", "doomed")]
        assert run.watcher.stats.gone >= 1 and run.watcher.stats.lists >= 2
        assert run.quiet()
    finally:
        run.stop()


def test_silent_stream_is_restarted(kube_emulator, kube):
    kube_emulator.bookmark_interval = 60.0            # nothing at all on the stream
    run = Run(Watcher(kube, "v1", "configmaps", namespace="default", silence_timeout=0.5))
    try:
        assert run.watcher.synced.wait(5)
        until(lambda: run.watcher.stats.silent_restarts >= 1)
        kube_emulator.create(cm("late"))
        assert run.take(1) == [("ADDED", "late")]
    finally:
        run.stop()


def test_stop_unblocks_a_waiting_watch_promptly(kube_emulator, kube):
    kube_emulator.bookmark_interval = 60.0
    run = Run(Watcher(kube, "v1", "configmaps", namespace="default"))
    assert run.watcher.synced.wait(5)
    time.sleep(0.2)
    started = time.monotonic()
    run.stop()
    assert time.monotonic() - started < 5

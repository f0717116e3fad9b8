"""Must show: the collector run on the emulator's fleet, then the dashboard in Chromium.

The CrashLoopBackOff, ImagePullBackOff and OOMKilled pods are listed first (failing), a
ContainerCreating pod under a minute old is initializing and one stuck for an hour is degraded, and
a failing pod's logs filter to errors. On SQLite and PostgreSQL.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pytest
from web_helpers import CHROMIUM, cards, save_screenshot, serve_app, wait_js

from nautilus_core.inventory.providers import KubeconfigProvider
from nautilus_core.podwatch.collect import Collector
from nautilus_core.podwatch.settings import PodwatchSettings
from nautilus_core.testing import FleetSpec, populate

SPEC = FleetSpec(namespaces=1, pods_per_namespace=40, nodes=3, services=2, seed=5, log_lines=12)


@pytest.fixture
def collected(engine: Any, kube_emulator: Any, tmp_path: Path) -> Any:
    summary = populate(kube_emulator, SPEC)
    kubeconfig = kube_emulator.write_kubeconfig(tmp_path / "kubeconfig")
    namespace = summary.namespaces[0]
    collector = Collector(engine, {"kubeconfig": KubeconfigProvider(str(kubeconfig))},
                          PodwatchSettings(target_namespace=[namespace]))
    report = collector.run_once()
    assert not report.failures
    return summary


def by_state(summary: Any, state: str) -> list[str]:
    return [name for (_, name), value in summary.pods.items() if value == state]


def test_the_api_on_the_collected_fleet(engine, collected):
    with serve_app(engine) as url:
        pods = httpx.get(url + "/api/v1/pods", params={"limit": 1000}).json()["items"]
    names = [p["name"] for p in pods]
    health = {p["name"]: p["health"] for p in pods}
    failing_prefix = names[:sum(1 for p in pods if p["health"] == "failing")]
    for state in ("crashloop", "image-pull-backoff", "oomkilled"):
        assert by_state(collected, state), f"the fleet has a {state} pod"
        assert set(by_state(collected, state)) <= set(failing_prefix), state
    oom = next(p for p in pods if p["name"] == by_state(collected, "oomkilled")[0])
    assert oom["top"]["reason"] == "OOMKilled"
    assert all(health[n] == "initializing" for n in by_state(collected, "creating"))
    assert all(health[n] == "degraded" for n in by_state(collected, "creating-stuck"))


@pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="needs Debian's chromium (.ci/run installs it)")
def test_the_dashboard_on_the_collected_fleet(engine, collected, page, artifacts):
    young, stuck = by_state(collected, "creating")[0], by_state(collected, "creating-stuck")[0]
    crashing = by_state(collected, "crashloop")[0]
    with serve_app(engine) as url:
        page.goto(url + "/")
        page.wait_for_selector("#pods > li.pod")
        shown = cards(page)
        healths = [c["health"] for c in shown]
        first_other = next(i for i, h in enumerate(healths) if h != "failing")
        assert all(h != "failing" for h in healths[first_other:])  # failing pods first, all of them
        prefix = " ".join(c["text"] for c in shown[:first_other])
        for reason in ("CrashLoopBackOff", "ImagePullBackOff", "OOMKilled"):
            assert reason in prefix
        card = {c["name"]: c for c in shown}
        assert card[young]["health"] == "initializing" and "ContainerCreating" in card[young]["text"]
        assert card[stuck]["health"] == "degraded" and "ContainerCreating" in card[stuck]["text"]
        save_screenshot(page, artifacts, "podwatch-emulated-fleet.png")

        page.click(f"#pods > li.pod[data-name='{crashing}']")
        wait_js(page, "document.querySelectorAll('#logs > li').length > 0")
        levels = set(page.eval_on_selector_all("#logs > li", "els => els.map(e => e.dataset.level)"))
        assert "error" in levels and len(levels) > 1
        page.click("#log-filters .level[data-level='error']")
        wait_js(page, "(() => { const l = [...document.querySelectorAll('#logs > li')];"
                      " return l.length > 0 && l.every(e => e.dataset.level === 'error'); })()")
        assert page.problems == []

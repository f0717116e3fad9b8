"""The dashboard in a real headless Chromium (Debian's /usr/bin/chromium, driven by Playwright).

The page loads with no console error or CSP violation, failing pods come first, a pod opens with its
containers and Events, its logs filter to errors, hostile log lines render as text and run nothing,
the periodic refresh (a short interval here) keeps the scroll position, the open pod and the filters
while showing new data, and the token's sign-in page lets a browser in. A screenshot of the dashboard
is saved under the test's tmp dir (and $NAUTILUS_ARTIFACTS when set).
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import update
from web_helpers import CHROMIUM, HOSTILE_IMG, HOSTILE_SCRIPT, cards, save_screenshot, serve_app, triage_rows, wait_js

from nautilus_core.db import Pod
from nautilus_core.testing import until
from nautilus_core.web import WebOptions

pytestmark = pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="needs Debian's chromium (.ci/run installs it)")


def test_failing_pods_first_a_pod_opens_and_its_logs_filter_to_errors(engine, page, artifacts):
    triage = triage_rows(engine)
    with serve_app(engine) as url:
        page.goto(url + "/")
        page.wait_for_selector("#pods > li.pod")
        shown = cards(page)
        assert [c["name"] for c in shown[:3]] == ["api-7c9-crash", "worker-oom", "web-pull"]
        assert all(c["health"] == "failing" and "health-failing" in c["cls"] for c in shown[:3])
        assert [c["health"] for c in shown[3:6]] == ["degraded", "degraded", "initializing"]
        first = shown[0]["text"]
        assert "api: CrashLoopBackOff" in first and "the process exits: read its logs" in first
        assert "4 errors" in first and "1 exception" in first and "1 warning" in first
        assert shown[-1]["name"] == "old-crash-gone" and "gone" in shown[-1]["cls"]
        assert page.text_content("#summary").startswith("failing 3")
        assert "1\u201321 of 21 pods" in page.text_content("#page-info")
        page.click("#summary .gone-chip")  # only the pods that vanished
        wait_js(page, "document.querySelectorAll('#pods > li.pod').length === 1")
        assert cards(page)[0]["name"] == "old-crash-gone"
        page.click("#summary .gone-chip")
        wait_js(page, "document.querySelectorAll('#pods > li.pod').length === 21")
        page.click("#summary .chip[data-health='failing']")  # the health chips filter
        wait_js(page, "document.querySelectorAll('#pods > li.pod').length === 4")
        assert {c["health"] for c in cards(page)} == {"failing"}
        page.click("#summary .chip[data-health='failing']")
        wait_js(page, "document.querySelectorAll('#pods > li.pod').length === 21")

        page.click("#pods > li.pod[data-name='api-7c9-crash']")
        page.wait_for_selector("#detail:not([hidden]) #d-containers tbody tr")
        assert page.text_content("#d-name") == "shop/api-7c9-crash"
        rows = page.eval_on_selector_all("#d-containers tbody tr", "rs => rs.map(r => r.cells[0].textContent)")
        assert rows == ["init migrate", "api", "sidecar"]
        assert "log unreadable: log call failed: 500" in page.text_content("#d-containers")
        events = page.text_content("#d-events")
        assert "BackOff" in events and "\u00d731" in events
        assert "<b>Unhealthy</b>" in events and HOSTILE_IMG in events  # Event text from the cluster: as text
        assert page.eval_on_selector_all("#d-events img, #d-events b", "els => els.length") == 0
        wait_js(page, "document.querySelectorAll('#logs > li').length === 9")

        page.click("#log-filters .level[data-level='error']")
        wait_js(page, "[...document.querySelectorAll('#logs > li')].length === 4 && "
                               "[...document.querySelectorAll('#logs > li')].every(l => l.dataset.level === 'error')")
        texts = page.eval_on_selector_all("#logs .log-text", "els => els.map(e => e.textContent)")
        assert HOSTILE_SCRIPT in texts and HOSTILE_IMG in texts  # shown as text ...
        assert page.eval_on_selector_all("#logs img, #logs script", "els => els.length") == 0  # ... not as HTML
        assert page.evaluate("window.__pwned") is None  # and nothing ran
        assert "4 error" in page.text_content("#log-info")
        save_screenshot(page, artifacts, "podwatch-dashboard.png")
        assert page.problems == []
        assert triage.pods


def test_refresh_keeps_scroll_selection_and_filters_and_shows_new_data(engine, page, artifacts):
    triage = triage_rows(engine, extra_healthy=90)
    with serve_app(engine, WebOptions(pods_refresh=30, logs_refresh=10)) as url:
        page.set_viewport_size({"width": 1100, "height": 700})
        page.goto(url + "/?pods_refresh=0.5&logs_refresh=0.5")  # short intervals for the test
        page.wait_for_selector("#pods > li.pod")
        wait_js(page, "document.body.dataset.podsRefreshSeconds === '0.5'")
        page.click("#pods > li.pod[data-name='api-7c9-crash']")
        page.click("#log-filters .level[data-level='error']")
        wait_js(page, "document.querySelectorAll('#logs > li').length === 4")
        page.eval_on_selector("#list-pane", "e => e.scrollTop = 1500")
        scrolled = page.eval_on_selector("#list-pane", "e => e.scrollTop")
        assert scrolled > 1000  # the list is long enough to scroll
        pods_before = int(page.evaluate("document.body.dataset.podsRefreshes"))
        logs_before = int(page.evaluate("document.body.dataset.logsRefreshes"))

        with engine.begin() as conn:  # the collector wrote something new meanwhile
            conn.execute(update(Pod.__table__).where(Pod.__table__.c.id == triage.pods["worker-oom"])  # type: ignore[attr-defined]
                         .values(top_message="exit code 137 again", last_seen_at=datetime.now(UTC)))
        until(lambda: "exit code 137 again" in page.text_content("#pods > li.pod[data-name='worker-oom']"),
              what="the refreshed list to show the new message")
        wait_js(page, f"Number(document.body.dataset.podsRefreshes) >= {pods_before + 2} && "
                      f"Number(document.body.dataset.logsRefreshes) >= {logs_before + 2}")
        assert abs(page.eval_on_selector("#list-pane", "e => e.scrollTop") - scrolled) <= 1
        assert page.get_attribute("#pods > li.pod[data-name='api-7c9-crash']", "aria-selected") == "true"
        assert page.text_content("#d-name") == "shop/api-7c9-crash"
        assert page.get_attribute("#log-filters .level[data-level='error']", "aria-pressed") == "true"
        levels = page.eval_on_selector_all("#logs > li", "els => els.map(e => e.dataset.level)")
        assert levels == ["error"] * 4
        assert page.problems == []


def test_with_a_token_the_browser_signs_in_first(engine, page):
    triage_rows(engine)
    with serve_app(engine, WebOptions(token="browser-token-123")) as url:
        page.goto(url + "/")
        assert page.url.endswith("/login")
        page.fill("input[name=token]", "not-it")
        page.click("button[type=submit]")
        assert "That token is not valid." in page.text_content("body")
        page.fill("input[name=token]", "browser-token-123")
        page.click("button[type=submit]")
        page.wait_for_selector("#pods > li.pod")
        assert cards(page)[0]["name"] == "api-7c9-crash"
        cookies = page.context.cookies()
        assert all("browser-token-123" not in c["value"] for c in cookies)
        assert any(c["httpOnly"] and c["sameSite"] == "Strict" for c in cookies)
        assert not page.is_hidden("#logout")

"""Fixtures of the dashboard tests: ``triage`` (the data set of ``web_helpers.triage_rows`` in the
test database), ``web`` (the app served over HTTP on it), ``artifacts`` (where screenshots go).
Every test using ``engine`` runs on SQLite and PostgreSQL.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from web_helpers import CHROMIUM, Triage, serve_app, triage_rows


@pytest.fixture
def triage(engine: Any) -> Triage:
    return triage_rows(engine)


@pytest.fixture
def web(engine: Any, triage: Triage) -> Iterator[str]:
    with serve_app(engine) as url:
        yield url


@pytest.fixture
def artifacts(tmp_path: Path) -> list[Path]:
    """Where a test saves artifacts: its tmp dir, and $NAUTILUS_ARTIFACTS when set."""
    places = [tmp_path]
    extra = os.environ.get("NAUTILUS_ARTIFACTS")
    if extra:
        Path(extra).mkdir(parents=True, exist_ok=True)
        places.append(Path(extra))
    return places


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """Debian's headless Chromium driven by Playwright (no browser download); skips without it."""
    if not Path(CHROMIUM).exists():
        pytest.skip("needs Debian's chromium (.ci/run installs it)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        chromium = pw.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        try:
            yield chromium
        finally:
            chromium.close()


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    page = context.new_page()
    page.problems = []  # console errors, page errors and CSP violations seen
    page.on("console", lambda m: m.type == "error" and page.problems.append(m.text))
    page.on("pageerror", lambda e: page.problems.append(str(e)))
    try:
        yield page
    finally:
        context.close()

"""Developer and CI sessions: tests, lint, typecheck, imports (layer contracts), browser, bench.

``nox -s tests`` installs the core and every plugin (editable, with test extras) into a fresh
virtualenv and runs the whole suite on SQLite and PostgreSQL (``NAUTILUS_TEST_POSTGRES_URL``,
default: the server on 127.0.0.1:5432). The dashboard's tests (``tests/web``, also ``nox -s browser``)
drive Debian's ``/usr/bin/chromium`` through Playwright (``.ci/run`` installs the package; no
browser is downloaded).
"""

from __future__ import annotations

import nox

nox.options.sessions = ["lint", "imports", "tests"]
nox.options.reuse_existing_virtualenvs = True

PLUGINS = ["eks", "gke", "aks", "oda", "scaling"]
POSTGRES_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"


def install_all(session: nox.Session) -> None:
    session.install("-e", ".[dev]")
    for plugin in PLUGINS:
        extras = "[test]" if plugin in ("eks", "gke", "aks") else "[llm]" if plugin == "scaling" else ""
        session.install("-e", f"plugins/{plugin}{extras}")


@nox.session
def tests(session: nox.Session) -> None:
    """The whole test suite (core, plugins, emulator), SQLite and PostgreSQL."""
    install_all(session)
    env = {"NAUTILUS_TEST_POSTGRES_URL": session.env.get("NAUTILUS_TEST_POSTGRES_URL", POSTGRES_URL)}
    session.run("pytest", *session.posargs, env=env)


@nox.session
def lint(session: nox.Session) -> None:
    """ruff over everything."""
    session.install("ruff>=0.5")
    session.run("ruff", "check", "src", "plugins", "tests", "bench", "noxfile.py")


@nox.session
def typecheck(session: nox.Session) -> None:
    """mypy over the core."""
    install_all(session)
    session.install("mypy>=1.10")
    session.run("mypy")


@nox.session
def imports(session: nox.Session) -> None:
    """import-linter: layers import downward only; only kube/ imports kubernetes; no cloud SDK."""
    session.install("-e", ".", "import-linter>=2.0")
    session.run("lint-imports")


@nox.session
def browser(session: nox.Session) -> None:
    """The dashboard alone: API over HTTP, schemathesis, headless Chromium (Debian's) via Playwright."""
    install_all(session)
    env = {"NAUTILUS_TEST_POSTGRES_URL": session.env.get("NAUTILUS_TEST_POSTGRES_URL", POSTGRES_URL)}
    session.run("pytest", "tests/web", *session.posargs, env=env)


@nox.session
def bench(session: nox.Session) -> None:
    """Benchmarks that print figures (not timed tests)."""
    install_all(session)
    session.run("python", "-m", "bench", *session.posargs)

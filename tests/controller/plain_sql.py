"""Plain SQL the way users type it: the ``sqlite3`` and ``psql`` command-line clients in a subprocess.

Used by controller tests to insert, update and delete ``managed_resource`` rows without SQLAlchemy, so
the text formats SQLite's ``CURRENT_TIMESTAMP`` default and our triggers write are what the controller
reads back.
"""

from __future__ import annotations

import shutil
import subprocess

import pytest
from sqlalchemy.engine import make_url


def run_sql(db_url: str, sql: str) -> str:
    """Run ``sql`` with the database's own command-line client; returns its output."""
    url = make_url(db_url)
    if url.get_backend_name() == "sqlite":
        tool = shutil.which("sqlite3")
        if tool is None:
            pytest.skip("the sqlite3 command-line client is not installed")
        cmd = [tool, "-bail", str(url.database)]
    else:
        tool = shutil.which("psql")
        if tool is None:
            pytest.skip("the psql command-line client is not installed")
        libpq = url.set(drivername="postgresql").render_as_string(hide_password=False)
        cmd = [tool, "-X", "-q", "-v", "ON_ERROR_STOP=1", "-At", libpq]
    done = subprocess.run(cmd, input=sql, capture_output=True, text=True, timeout=30, check=False)
    assert done.returncode == 0, f"{cmd[0]} failed: {done.stderr}"
    return done.stdout

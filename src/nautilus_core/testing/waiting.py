"""``until``: poll a condition in a test until it holds, failing with what was awaited.

Owns the one polling helper the suite and plugin authors' tests use to wait for an eventually
consistent result (a controller's status, an object the emulator's simulated cluster creates).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any


def until(predicate: Callable[[], Any], timeout: float = 15.0, what: str = "condition",
          poll: float = 0.05) -> Any:
    """The first truthy value ``predicate()`` returns within ``timeout`` seconds.

    :raises AssertionError: ``timed out waiting for <what>`` when it never held.
    """
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(poll)

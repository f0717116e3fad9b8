"""``fieldValidation`` of one write request: Strict (400 on unknown fields), Warn (headers), Ignore.

Owns the per-request collection of unknown fields. The HTTP layer (``verbs.py``) opens a
:func:`collecting` block around a create, update or patch; whatever finds fields the schema does not
declare (the pruning of custom resources in ``crd.py``, the built-in schemas in ``openapi.py``) calls
:func:`report`. Under ``Strict`` that raises the real server's 400 ``strict decoding error``; under
``Warn`` (the server's default) the paths become ``Warning`` headers of the answer; ``Ignore`` drops
them. Outside a request (test code writing through ``KubeEmulator``) reports are ignored.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterable, Iterator
from contextvars import ContextVar
from dataclasses import dataclass, field

from nautilus_core.testing import status as st

MODES = ("Strict", "Warn", "Ignore")


@dataclass
class Collector:
    mode: str
    unknown: list[str] = field(default_factory=list)

    def headers(self) -> list[tuple[str, str]]:
        if self.mode != "Warn":
            return []
        return [
            ("Warning", f'299 - "unknown field \\"{_quoted(path)}\\""')
            for path in dict.fromkeys(self.unknown)
        ]


def _quoted(text: str) -> str:
    """A field name safe inside a quoted header value: printable ASCII, the rest escaped as \\uXXXX."""
    return "".join(
        char if " " <= char <= "~" and char not in '"\\' else f"\\u{ord(char):04x}" for char in text
    )


_current: ContextVar[Collector | None] = ContextVar("nautilus_emulator_field_validation", default=None)


def parse_mode(raw: str | None) -> str:
    if raw in (None, ""):
        return "Warn"
    if raw not in MODES:
        raise st.bad_request(
            f'fieldValidation: Unsupported value: "{raw}": supported values: "Ignore", "Strict", "Warn"'
        )
    return raw


@contextlib.contextmanager
def collecting(raw_mode: str | None) -> Iterator[Collector]:
    collector = Collector(parse_mode(raw_mode))
    token = _current.set(collector)
    try:
        yield collector
    finally:
        _current.reset(token)


def report(paths: Iterable[str]) -> None:
    """Unknown fields found in the object being written (dotted paths, e.g. ``spec.foo``)."""
    found = list(paths)
    collector = _current.get()
    if not found or collector is None or collector.mode == "Ignore":
        return
    if collector.mode == "Strict":
        listed = ", ".join(f'unknown field "{path}"' for path in dict.fromkeys(found))
        raise st.bad_request(f"strict decoding error: {listed}")
    collector.unknown.extend(found)

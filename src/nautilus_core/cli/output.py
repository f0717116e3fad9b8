"""Helpers shared by CLI commands: the state decorator, JSON output, plain-text tables, durations."""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from typing import Any

import click

from nautilus_core.cli import State

pass_state = click.make_pass_decorator(State)


def echo_json(doc: Any) -> None:
    click.echo(json.dumps(doc, indent=2, default=str))


def table(rows: Sequence[Sequence[Any]], headers: Sequence[str]) -> str:
    """A kubectl-style table: upper-case headers, columns padded by the widest cell."""
    cells = [[str(h).upper() for h in headers]] + [["" if c is None else str(c) for c in r] for r in rows]
    widths = [max(len(row[i]) for row in cells) for i in range(len(headers))]
    return "\n".join("   ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip() for row in cells)


_DURATION = re.compile(r"^(\d+(?:\.\d+)?)(ms|s|m|h|d)?$")
_UNITS = {"ms": 0.001, "s": 1, "m": 60, "h": 3600, "d": 86400, None: 1}


class Duration(click.ParamType):
    """``90``, ``30s``, ``15m``, ``1h``, ``1d`` -> seconds (float)."""

    name = "duration"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> float:
        if isinstance(value, (int, float)):
            return float(value)
        match = _DURATION.match(str(value).strip())
        if not match or float(match.group(1)) <= 0:
            self.fail(f"{value!r} is not a duration like 30s, 15m, 1h or 1d", param, ctx)
        return float(match.group(1)) * _UNITS[match.group(2)]


def pod_counts_text(counts: dict[str, int] | None, limit: int = 4) -> str:
    if not counts:
        return "-"
    items = sorted(counts.items(), key=lambda kv: (kv[0] != "Running", -kv[1], kv[0]))
    text = " ".join(f"{k}={v}" for k, v in items[:limit])
    return text + (f" +{len(items) - limit} more" if len(items) > limit else "")

"""Helpers shared by CLI commands: the state decorator, JSON output, plain-text tables, the duration type."""

from __future__ import annotations

import json
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


class Duration(click.ParamType):
    """``90``, ``500ms``, ``30s``, ``15m``, ``1h30m``, ``1d`` -> seconds (float); the parser of the settings."""

    name = "duration"

    def __init__(self, *, allow_zero: bool = False) -> None:
        self.allow_zero = allow_zero

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> float:
        from nautilus_core.durations import parse_duration

        try:
            return parse_duration(value, allow_zero=self.allow_zero)
        except ValueError as exc:
            self.fail(str(exc), param, ctx)


def pod_counts_text(counts: dict[str, int] | None, limit: int = 4) -> str:
    if not counts:
        return "-"
    items = sorted(counts.items(), key=lambda kv: (kv[0] != "Running", -kv[1], kv[0]))
    text = " ".join(f"{k}={v}" for k, v in items[:limit])
    return text + (f" +{len(items) - limit} more" if len(items) > limit else "")

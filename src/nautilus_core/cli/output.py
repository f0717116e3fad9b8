"""Helpers shared by CLI commands: the state decorator, JSON output, tables."""

from __future__ import annotations

import click

from nautilus_core.cli import State

pass_state = click.make_pass_decorator(State)

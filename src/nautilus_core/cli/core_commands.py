"""Built-in commands of the core: ``nautilus plugins`` and ``nautilus db``.

Each is a thin layer over :class:`nautilus_core.api.Nautilus`; registered by ``cli/__init__``.
"""

from __future__ import annotations

import json
from dataclasses import asdict

import click

from nautilus_core.cli.output import pass_state


@click.command("plugins")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON document on stdout.")
@pass_state
def plugins_command(state, as_json: bool) -> None:
    """List installed plugins, their distributions and the hooks they implement.

    \b
    Examples:
      nautilus plugins
      nautilus plugins --json | jq '.plugins[].name'
    """
    manager = state.plugins
    infos = manager.info()
    failures = manager.failures
    if as_json:
        doc = {
            "plugins": [asdict(i) | {"hooks": list(i.hooks)} for i in infos],
            "failed": [asdict(f) for f in failures],
        }
        click.echo(json.dumps(doc, indent=2))
        return
    width = max((len(i.name) for i in infos), default=4)
    for info in infos:
        origin = "built-in" if info.builtin else f"{info.distribution} {info.version}"
        hooks = ", ".join(h.removeprefix("nautilus_") for h in info.hooks) or "(no hooks)"
        click.echo(f"{info.name:<{width}}  {origin:<28}  {hooks}")
    for failure in failures:
        click.echo(f"{failure.name:<{width}}  {failure.distribution:<28}  FAILED: {failure.error}")


@click.group("db")
def db_group() -> None:
    """Manage the Nautilus database schema.

    \b
    Examples:
      nautilus db upgrade
      DATABASE_URL=postgresql://nautilus@db/nautilus nautilus db upgrade
    """


@db_group.command("upgrade")
@click.option("--revision", default="head", show_default=True, help="Migration revision to upgrade to.")
@pass_state
def db_upgrade(state, revision: str) -> None:
    """Create or upgrade the schema (idempotent).

    \b
    Example:
      nautilus db upgrade
    """
    app = state.app
    current = app.upgrade_database(revision)
    click.echo(f"database {app.settings.redacted_url()} at revision {current}")


@db_group.command("current")
@pass_state
def db_current(state) -> None:
    """Print the schema revision of the database (never migrates; says when it is not the head).

    \b
    Example:
      nautilus db current
    """
    from nautilus_core.db import current_revision
    from nautilus_core.db.migrate import require_current
    from nautilus_core.errors import SchemaError

    app = state.app
    click.echo(current_revision(app.engine) or "empty")
    try:
        require_current(app.engine)
    except SchemaError as exc:
        click.echo(f"nautilus: {exc}", err=True)


def _commands() -> tuple[click.Command, ...]:
    from nautilus_core.cli.controller_commands import controller_group
    from nautilus_core.cli.inventory_commands import demo_command, inventory_group
    from nautilus_core.cli.podwatch_commands import podwatch_group
    from nautilus_core.cli.scaling_commands import scaling_group

    return (plugins_command, db_group, inventory_group, controller_group, scaling_group, podwatch_group,
            demo_command)


COMMANDS = _commands()

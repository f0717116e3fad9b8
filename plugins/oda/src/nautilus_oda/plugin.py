"""Entry point of the nautilus-oda plugin (group ``nautilus``, name ``oda``).

Registers the ``OdaSettings`` section (seed variable names such as COMPONENT_REGISTRY_URL), the
``oda-components`` reconciler (ODA Components -> Component Registry) and the ``nautilus oda`` commands.
Registration does no I/O; the reconciler module and the registry clients are imported when used.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from nautilus_core.hookspecs import hookimpl
from nautilus_core.types import ControllerContext, ReconcilerFactory


@hookimpl
def nautilus_register_settings(register: Callable[[type], None]) -> None:
    from nautilus_oda.settings import OdaSettings

    register(OdaSettings)


@hookimpl
def nautilus_register_reconcilers(register: Callable[[str, ReconcilerFactory], None]) -> None:
    def factory(ctx: ControllerContext) -> object:
        from nautilus_oda.reconciler import OdaReconciler

        return OdaReconciler(ctx)

    register("oda-components", factory)  # type: ignore[arg-type]


@hookimpl
def nautilus_register_commands(cli: Any) -> None:
    from nautilus_oda.cli import oda_group

    cli.add_command(oda_group)

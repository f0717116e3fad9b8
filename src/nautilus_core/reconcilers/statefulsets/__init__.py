"""The built-in statefulsets reconciler plugin (``nautilus controller run -r statefulsets``).

Listed in ``plugins.BUILTIN_PLUGINS``; registration does no I/O.
"""

from __future__ import annotations

from collections.abc import Callable

from nautilus_core.hookspecs import hookimpl
from nautilus_core.types import ControllerContext, ReconcilerFactory


@hookimpl
def nautilus_register_reconcilers(register: Callable[[str, ReconcilerFactory], None]) -> None:
    def factory(ctx: ControllerContext) -> object:
        from nautilus_core.reconcilers.statefulsets.reconciler import StatefulSetReconciler

        return StatefulSetReconciler(ctx)

    register("statefulsets", factory)  # type: ignore[arg-type]

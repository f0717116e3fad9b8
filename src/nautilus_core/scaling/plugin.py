"""The built-in intelligent-scaling plugin (``nautilus controller run -r intelligent-scaling``).

Listed in ``plugins.BUILTIN_PLUGINS``; registration does no I/O (the operator module is imported when
the controller builds the reconciler).
"""

from __future__ import annotations

from collections.abc import Callable

from nautilus_core.hookspecs import hookimpl
from nautilus_core.types import ControllerContext, ReconcilerFactory


@hookimpl
def nautilus_register_settings(register: Callable[[type], None]) -> None:
    from nautilus_core.scaling.model import ScalingSettings

    register(ScalingSettings)


@hookimpl
def nautilus_register_reconcilers(register: Callable[[str, ReconcilerFactory], None]) -> None:
    def factory(ctx: ControllerContext) -> object:
        from nautilus_core.scaling.operator import IntelligentScalingReconciler

        return IntelligentScalingReconciler(ctx)

    register("intelligent-scaling", factory)  # type: ignore[arg-type]

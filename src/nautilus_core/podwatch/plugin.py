"""The built-in pod triage plugin: registers the ``podwatch`` settings section.

Listed in ``plugins.BUILTIN_PLUGINS``; registration does no I/O. The commands (``nautilus podwatch``)
are built-in CLI commands (``cli.podwatch_commands``).
"""

from __future__ import annotations

from collections.abc import Callable

from nautilus_core.hookspecs import hookimpl


@hookimpl
def nautilus_register_settings(register: Callable[[type], None]) -> None:
    from nautilus_core.podwatch.settings import PodwatchSettings

    register(PodwatchSettings)

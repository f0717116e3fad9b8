"""Pod triage (``nautilus podwatch``): classification of pods and their logs, the collector, its settings.

Public names, imported on first use so that loading the built-in plugin (``podwatch.plugin``) stays cheap:

* :class:`Verdict` (kubectl's STATUS/READY/RESTARTS, health bucket, attention, top :class:`Issue`,
  :class:`ContainerVerdict` rows), :class:`TriageOptions`, :func:`attention_key`, :class:`MalformedPod`
  from ``podwatch.triage``, whose :func:`~nautilus_core.podwatch.triage.triage` makes a verdict (the
  function is not re-exported here: ``podwatch.triage`` is the module's name);
* :func:`parse_log` -> :class:`LogEntry` list, :func:`level_counts` (``podwatch.logparse``);
* :func:`mask_secrets` (``podwatch.secrets``).

kubectl's ages (``human_duration``, ``since``) live in :mod:`nautilus_core.podstatus`.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from nautilus_core.podwatch.logparse import LogEntry, level_counts, parse_log
    from nautilus_core.podwatch.secrets import mask_secrets
    from nautilus_core.podwatch.triage import (
        ContainerVerdict,
        Issue,
        MalformedPod,
        TriageOptions,
        Verdict,
        attention_key,
    )

_EXPORTS = {
    "ContainerVerdict": "triage", "Issue": "triage", "MalformedPod": "triage", "TriageOptions": "triage",
    "Verdict": "triage", "attention_key": "triage",
    "LogEntry": "logparse", "level_counts": "logparse", "parse_log": "logparse",
    "mask_secrets": "secrets",
}
__all__ = ["ContainerVerdict", "Issue", "LogEntry", "MalformedPod", "TriageOptions", "Verdict", "attention_key",
           "level_counts", "mask_secrets", "parse_log"]


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{module}"), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})

"""The registries' value limits, checked before anything is sent: what is truncated, what is rejected.

Owns :class:`Limits` and :func:`normalize`, which the two clients call at the top of ``apply`` so a
value that would fail never reaches the registry. The seed Component Registry accepts a label key of
at most 100 characters and a value of at most 200 (else a 422): a too-long **value** is truncated to
the limit (ending in ``…`` so a reader sees it was cut, and deterministically so an unchanged
component stays unchanged); a too-long, empty or reserved **key** is a
:class:`~nautilus_oda.registry.base.RegistryRejected` naming the component and the field. Text that
JSON cannot carry to a registry intact (a lone surrogate, a NUL) is rejected the same way. Two APIs
of one name in one component are rejected (the registry keys APIs by name).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace

import structlog

from nautilus_oda.registry.base import ApiEntry, ComponentEntry, RegistryRejected

log = structlog.get_logger(__name__)

ELLIPSIS = "…"


@dataclass(frozen=True)
class Limits:
    """What one registry flavour accepts. ``None``: no limit."""

    label_key: int | None = 100
    label_value: int | None = 200
    reserved_component_labels: frozenset[str] = field(default_factory=frozenset)
    reserved_api_labels: frozenset[str] = field(default_factory=frozenset)


def _reject(component: str, field_name: str, problem: str) -> RegistryRejected:
    return RegistryRejected(f"component {component!r}: field {field_name!r} {problem}; not sent to the registry",
                            component=component, field=field_name)


def check_text(value: str, component: str, field_name: str) -> str:
    """``value`` unchanged when a registry can store it, else :class:`RegistryRejected`."""
    if not isinstance(value, str):
        raise _reject(component, field_name, f"is a {type(value).__name__}, not text")
    if "\x00" in value:
        raise _reject(component, field_name, "contains a NUL character")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise _reject(component, field_name, "is not valid Unicode (a lone surrogate)") from None
    return value


def truncate(value: str, limit: int | None) -> str:
    """``value`` cut to ``limit`` characters, the last one ``…`` when it was cut."""
    if limit is None or len(value) <= limit:
        return value
    return value[:limit - 1] + ELLIPSIS


def _labels(labels: Mapping[str, str], limits: Limits, reserved: frozenset[str], component: str,
            where: str) -> dict[str, str]:
    out: dict[str, str] = {}
    for key, value in labels.items():
        key_field = f"{where}[{key[:60]!r}]" if isinstance(key, str) else where
        check_text(key, component, key_field)
        if not key:
            raise _reject(component, where, "has an empty label key")
        if limits.label_key is not None and len(key) > limits.label_key:
            raise _reject(component, key_field, f"has a label key of {len(key)} characters "
                                                f"(the registry accepts at most {limits.label_key})")
        if key in reserved:
            raise _reject(component, key_field, "uses a label key the collector reserves for itself")
        text = check_text(value, component, key_field)
        cut = truncate(text, limits.label_value)
        if cut != text:
            log.warning("registry_value_truncated", component=component, field=key_field, length=len(text),
                        limit=limits.label_value)
        out[key] = cut
    return out


def normalize(entry: ComponentEntry, limits: Limits) -> ComponentEntry:
    """``entry`` as the registry will hold it (values truncated), or :class:`RegistryRejected`."""
    name = check_text(entry.name, entry.name if isinstance(entry.name, str) else "?", "name")
    if not name:
        raise _reject(name, "name", "is empty")
    labels = _labels(entry.labels, limits, limits.reserved_component_labels, name, "labels")
    apis: list[ApiEntry] = []
    seen: set[str] = set()
    for api in entry.apis:
        where = f"apis[{api.name[:60]!r}]" if isinstance(api.name, str) else "apis"
        check_text(api.name, name, f"{where}.name")
        if not api.name:
            raise _reject(name, "apis", "has an API with an empty name")
        if api.name in seen:
            raise _reject(name, where, "names two exposed APIs (the registry keys APIs by name)")
        seen.add(api.name)
        if api.status not in ("ready", "pending"):
            raise _reject(name, f"{where}.status", f"is {api.status!r}, not 'ready' or 'pending'")
        if api.url is not None:
            check_text(api.url, name, f"{where}.url")
        for i, spec in enumerate(api.specification):
            check_text(spec, name, f"{where}.specification[{i}]")
        api_type = truncate(check_text(api.api_type, name, f"{where}.api_type"), limits.label_value)
        segment = check_text(api.segment, name, f"{where}.segment")
        api_labels = _labels(api.labels, limits, limits.reserved_api_labels, name, f"{where}.labels")
        apis.append(replace(api, api_type=api_type, segment=segment, labels=api_labels,
                            url=api.url or None))
    return ComponentEntry(name=name, labels=labels, apis=tuple(apis))

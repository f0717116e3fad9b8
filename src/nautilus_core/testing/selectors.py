"""Label and field selectors, parsed once per request and matched against stored objects.

Owns the selector grammar of the Kubernetes API (``labelSelector``: ``=``, ``==``, ``!=``, ``in``,
``notin``, ``key``, ``!key``; ``fieldSelector``: ``=``, ``==``, ``!=`` on the fields the real server
supports per kind). Called by the store (``store.py``) for list, watch and deletecollection, and by the
Python API of :class:`~nautilus_core.testing.KubeEmulator`. Bad selectors raise a 400 ``ApiError``.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any

from nautilus_core.testing.status import bad_request

Matcher = Callable[[Mapping[str, Any]], bool]

_KEY_RE = re.compile(
    r"^([a-z0-9A-Z]([-a-z0-9A-Z_.]*[a-z0-9A-Z])?/)?[a-z0-9A-Z]([-a-z0-9A-Z_.]*[a-z0-9A-Z])?$"
)
_SET_RE = re.compile(r"^(\S+)\s+(in|notin)\s+\((.*)\)$")

# Fields the real API server accepts in fieldSelector, besides metadata.name and metadata.namespace.
_FIELDS_BY_KIND: dict[str, frozenset[str]] = {
    "Pod": frozenset(
        {
            "spec.nodeName",
            "spec.restartPolicy",
            "spec.schedulerName",
            "spec.serviceAccountName",
            "spec.hostNetwork",
            "status.phase",
            "status.podIP",
            "status.nominatedNodeName",
        }
    ),
    "Event": frozenset(
        {
            "involvedObject.kind",
            "involvedObject.namespace",
            "involvedObject.name",
            "involvedObject.uid",
            "involvedObject.apiVersion",
            "involvedObject.resourceVersion",
            "involvedObject.fieldPath",
            "reason",
            "reportingComponent",
            "source",
            "type",
        }
    ),
    "Node": frozenset({"spec.unschedulable"}),
    "Namespace": frozenset({"status.phase"}),
    "Secret": frozenset({"type"}),
    "ReplicaSet": frozenset({"status.replicas"}),
}


def _split_top_level(text: str) -> list[str]:
    """Split on commas that are not inside parentheses."""
    parts: list[str] = []
    depth = 0
    current: list[str] = []
    for char in text:
        if char == "(":
            depth += 1
        elif char == ")":
            depth -= 1
        if char == "," and depth == 0:
            parts.append("".join(current))
            current = []
        else:
            current.append(char)
    parts.append("".join(current))
    return [part.strip() for part in parts if part.strip()]


def _check_key(key: str, selector: str) -> str:
    if not _KEY_RE.match(key):
        raise bad_request(f"unable to parse requirement: invalid label key {key!r} in selector {selector!r}")
    return key


def _requirement(term: str, selector: str) -> Callable[[Mapping[str, str]], bool]:
    match = _SET_RE.match(term)
    if match is not None:
        key, operator, raw_values = match.groups()
        _check_key(key, selector)
        values = frozenset(value.strip() for value in raw_values.split(",") if value.strip())
        if operator == "in":
            return lambda labels: labels.get(key) in values
        return lambda labels: labels.get(key) not in values
    for operator in ("!=", "==", "="):
        if operator in term:
            key, _, value = (part.strip() for part in term.partition(operator))
            _check_key(key, selector)
            if operator == "!=":
                return lambda labels: labels.get(key) != value
            return lambda labels: labels.get(key) == value
    if term.startswith("!"):
        key = _check_key(term[1:].strip(), selector)
        return lambda labels: key not in labels
    key = _check_key(term, selector)
    return lambda labels: key in labels


def parse_label_selector(selector: str | None) -> Matcher | None:
    """A predicate on whole objects, or None when the selector is empty (matches everything)."""
    if not selector or not selector.strip():
        return None
    requirements = [_requirement(term, selector) for term in _split_top_level(selector)]

    def matches(obj: Mapping[str, Any]) -> bool:
        labels = (obj.get("metadata") or {}).get("labels") or {}
        return all(requirement(labels) for requirement in requirements)

    return matches


def _field_value(obj: Mapping[str, Any], path: str) -> str:
    node: Any = obj
    for part in path.split("."):
        if not isinstance(node, Mapping):
            return ""
        node = node.get(part)
    if node is None:
        return ""
    if isinstance(node, bool):
        return "true" if node else "false"
    if isinstance(node, Mapping):
        # ``source`` of events is an object; the server compares its component.
        return str(node.get("component", ""))
    return str(node)


def parse_field_selector(selector: str | None, kind: str, custom: bool = False) -> Matcher | None:
    """A predicate on whole objects; unsupported field labels are a 400 error like on a real server."""
    if not selector or not selector.strip():
        return None
    allowed = {"metadata.name", "metadata.namespace"} | (
        set() if custom else _FIELDS_BY_KIND.get(kind, set())
    )
    terms: list[tuple[str, bool, str]] = []
    for term in _split_top_level(selector):
        for operator in ("!=", "==", "="):
            if operator in term:
                field, _, value = (part.strip() for part in term.partition(operator))
                break
        else:
            raise bad_request(f"invalid selector: {selector!r}; can't understand {term!r}")
        if field not in allowed:
            raise bad_request(f"field label not supported: {field}")
        terms.append((field, operator == "!=", value))

    def matches(obj: Mapping[str, Any]) -> bool:
        return all(
            (_field_value(obj, field) != value) if negate else (_field_value(obj, field) == value)
            for field, negate, value in terms
        )

    return matches


def combine(*matchers: Matcher | None) -> Matcher | None:
    """One predicate for several (None ones are skipped); None when nothing filters."""
    active = [matcher for matcher in matchers if matcher is not None]
    if not active:
        return None
    if len(active) == 1:
        return active[0]
    return lambda obj: all(matcher(obj) for matcher in active)

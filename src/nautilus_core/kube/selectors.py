"""Label selectors matched in memory, for lists answered by the informer cache.

Owns :class:`Selector`: the Kubernetes label-selector grammar (``a=b``, ``a==b``, ``a!=b``, ``a``,
``!a``, ``a in (x,y)``, ``a notin (x)``; requirements joined by commas) parsed once and matched
against an object's labels. Called by ``controller.cache`` and ``scaling.operator``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache

from nautilus_core.errors import ConfigError

_SET = re.compile(r"^\s*(!?)\s*([A-Za-z0-9_./-]+)\s*(?:(in|notin)\s*\(([^)]*)\))?\s*$")
_EQ = re.compile(r"^\s*([A-Za-z0-9_./-]+)\s*(==|=|!=)\s*([A-Za-z0-9_.-]*)\s*$")


@dataclass(frozen=True)
class _Requirement:
    key: str
    op: str  # "=", "!=", "in", "notin", "exists", "!exists"
    values: frozenset[str] = frozenset()

    def matches(self, labels: Mapping[str, str]) -> bool:
        present = self.key in labels
        value = labels.get(self.key)
        if self.op == "=":
            return present and value in self.values
        if self.op == "!=":
            return not present or value not in self.values
        if self.op == "in":
            return present and value in self.values
        if self.op == "notin":
            return not present or value not in self.values
        return present if self.op == "exists" else not present


def _split(text: str) -> list[str]:
    """Split on commas outside parentheses."""
    parts, depth, current = [], 0, ""
    for ch in text:
        depth += ch == "("
        depth -= ch == ")"
        if ch == "," and depth == 0:
            parts.append(current)
            current = ""
        else:
            current += ch
    parts.append(current)
    return [p for p in parts if p.strip()]


@dataclass(frozen=True)
class Selector:
    requirements: tuple[_Requirement, ...]

    @staticmethod
    @lru_cache(maxsize=256)
    def parse(text: str) -> Selector:
        """:raises ConfigError: the text is not a label selector (the message quotes it)."""
        reqs = []
        for part in _split(text):
            eq = _EQ.match(part)
            if eq:
                op = "!=" if eq.group(2) == "!=" else "="
                reqs.append(_Requirement(eq.group(1), op, frozenset({eq.group(3)})))
                continue
            match = _SET.match(part)
            if not match or (match.group(1) and match.group(3)):
                raise ConfigError(f"label selector {text!r}: cannot parse {part.strip()!r}")
            negate, key, op, values = match.groups()
            if op:
                reqs.append(_Requirement(key, op, frozenset(v.strip() for v in values.split(",") if v.strip())))
            else:
                reqs.append(_Requirement(key, "!exists" if negate else "exists"))
        return Selector(tuple(reqs))

    def matches(self, labels: Mapping[str, str]) -> bool:
        return all(r.matches(labels) for r in self.requirements)

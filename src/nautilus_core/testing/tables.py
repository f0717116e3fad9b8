"""Server-side tables of the API emulator: what ``kubectl get`` prints.

Owns the ``meta.k8s.io/v1`` ``Table`` answers a client gets when it asks with
``Accept: application/json;as=Table;v=v1;g=meta.k8s.io`` (kubectl always does): the column definitions
and cells the real server's printers produce (the built-in kinds' printers are in ``printers.py`` and
``printers_misc.py``), custom resources' columns (their CRD's ``additionalPrinterColumns``, simple
JSONPaths) and NAME/AGE for the rest. Each row carries the object's metadata
(``PartialObjectMetadata``), or the whole object with ``includeObject=Object``. Called by
``handlers.py`` for get, list and watch.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

import orjson

from nautilus_core.testing.printers import AGE_COLUMN, NAME_COLUMN, PRINTERS, Column, Obj, Printer, age, since
from nautilus_core.testing.printers_misc import MISC_PRINTERS
from nautilus_core.testing.resources import ResourceType


def wants_table(accept: str | None) -> bool:
    return bool(accept) and "as=Table" in (accept or "")


# -- custom resources: additionalPrinterColumns ----------------------------------------------------------

_STEP = re.compile(
    r"\.([A-Za-z0-9_\-/]+)|\[(\d+|\*)\]|\[\?\(@\.([A-Za-z0-9_.\-]+)\s*==\s*['\"]([^'\"]*)['\"]\)\]"
)


def json_path(obj: Any, path: str) -> list[Any]:
    """The values at a CRD column's simple JSONPath (``.a.b``, ``[0]``, ``[*]``, ``[?(@.k=="v")]``)."""
    values = [obj]
    text = path.strip()
    if text.startswith("{") and text.endswith("}"):
        text = text[1:-1]
    position = 0
    while position < len(text):
        match = _STEP.match(text, position)
        if match is None:
            return []
        position = match.end()
        name, index, key, wanted = match.groups()
        found: list[Any] = []
        for value in values:
            if name is not None and isinstance(value, dict) and name in value:
                found.append(value[name])
            elif index == "*" and isinstance(value, list):
                found.extend(value)
            elif index is not None and index != "*" and isinstance(value, list) and int(index) < len(value):
                found.append(value[int(index)])
            elif key is not None and isinstance(value, list):
                found.extend(
                    item
                    for item in value
                    if isinstance(item, dict) and str((json_path(item, "." + key) or [None])[0]) == wanted
                )
        values = found
    return values


def _cell(kind: str, values: list[Any], now: datetime) -> Any:
    if not values:
        return None
    value = values[0]
    if kind == "date":
        return since(value, now)
    if isinstance(value, (dict, list)):
        return orjson.dumps(value).decode()
    if kind in ("integer", "number", "boolean"):
        return value
    return value if isinstance(value, str) else orjson.dumps(value).decode()


def _printer(rtype: ResourceType) -> Printer:
    key = (rtype.group, rtype.kind)
    known = None if rtype.storage else PRINTERS.get(key) or MISC_PRINTERS.get(key)
    if known is not None:
        return known
    if rtype.columns:
        columns: list[Column] = [
            (name, kind, description, priority) for name, kind, _, description, priority, _ in rtype.columns
        ]
        paths = [(kind, path) for _, kind, _, _, _, path in rtype.columns]
        return columns, lambda obj, now: [_cell(kind, json_path(obj, path), now) for kind, path in paths]
    return [AGE_COLUMN], lambda obj, now: [age(obj, now)]


def _definitions(columns: list[Column]) -> list[dict[str, Any]]:
    result = []
    for name, kind, description, priority in [NAME_COLUMN, *columns]:
        shown_kind = "string" if kind == "date" else kind
        result.append(
            {
                "name": name,
                "type": shown_kind,
                "format": "name" if name == "Name" else ("date" if kind == "date" else ""),
                "description": description,
                "priority": priority,
            }
        )
    return result


def _partial(obj: Obj) -> Obj:
    return {"kind": "PartialObjectMetadata", "apiVersion": "meta.k8s.io/v1", "metadata": obj["metadata"]}


def table(
    rtype: ResourceType,
    objects: list[Obj],
    metadata: dict[str, Any],
    include: str | None = None,
    with_columns: bool = True,
) -> dict[str, Any]:
    """The Table of ``objects`` (``include``: None/``Metadata``, ``Object`` or ``None``)."""
    columns, printer = _printer(rtype)
    now = datetime.now(UTC)
    rows = []
    for obj in objects:
        row: dict[str, Any] = {"cells": [obj["metadata"].get("name", ""), *printer(obj, now)]}
        if include == "Object":
            row["object"] = obj
        elif include != "None":
            row["object"] = _partial(obj)
        rows.append(row)
    body: dict[str, Any] = {"kind": "Table", "apiVersion": "meta.k8s.io/v1", "metadata": metadata}
    if with_columns:
        body["columnDefinitions"] = _definitions(columns)
    body["rows"] = rows
    return body

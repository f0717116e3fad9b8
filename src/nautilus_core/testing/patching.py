"""Patch semantics of the API emulator: JSON merge, strategic merge, JSON patch, server-side apply.

Owns the pure functions that turn (stored object, patch body) into a new object. They never mutate the
stored object (the store shares unchanged subtrees between versions, see ``store.py``). Called by the
store's ``patch``. Simplifications, on purpose: a strategic merge patch merges maps like a JSON merge
patch and replaces lists (no merge by ``name``); server-side apply merges the applied configuration into
the live object the same way and records one ``managedFields`` entry per field manager, without
conflict detection.
"""

from __future__ import annotations

from typing import Any

import orjson

from nautilus_core.testing.status import ApiError, bad_request

MERGE = "application/merge-patch+json"
STRATEGIC = "application/strategic-merge-patch+json"
JSON_PATCH = "application/json-patch+json"
APPLY = "application/apply-patch+yaml"
PATCH_TYPES = {
    "merge": MERGE,
    "strategic": STRATEGIC,
    "json": JSON_PATCH,
    "apply": APPLY,
    MERGE: MERGE,
    STRATEGIC: STRATEGIC,
    JSON_PATCH: JSON_PATCH,
    APPLY: APPLY,
}


def deep_copy(value: Any) -> Any:
    """A fast deep copy for JSON-like values."""
    return orjson.loads(orjson.dumps(value))


def merge_patch(target: Any, patch: Any) -> Any:
    """RFC 7386: maps merge recursively, ``null`` removes a key, anything else replaces."""
    if not isinstance(patch, dict):
        return patch
    result = dict(target) if isinstance(target, dict) else {}
    for key, value in patch.items():
        if value is None:
            result.pop(key, None)
        else:
            result[key] = merge_patch(result.get(key), value)
    return result


def strategic_merge_patch(target: Any, patch: Any) -> Any:
    """Like :func:`merge_patch`, honouring ``$patch: replace|delete`` and dropping other ``$`` directives."""
    if not isinstance(patch, dict):
        return patch
    directive = patch.get("$patch")
    if directive == "delete":
        return None
    plain = {key: value for key, value in patch.items() if not key.startswith("$")}
    if directive == "replace":
        return plain
    result = dict(target) if isinstance(target, dict) else {}
    for key, value in plain.items():
        merged = None if value is None else strategic_merge_patch(result.get(key), value)
        if merged is None:
            result.pop(key, None)
        else:
            result[key] = merged
    return result


def _pointer(path: str) -> list[str]:
    if path == "":
        return []
    if not path.startswith("/"):
        raise bad_request(f"invalid JSON pointer {path!r}")
    return [part.replace("~1", "/").replace("~0", "~") for part in path[1:].split("/")]


def _walk(doc: Any, parts: list[str], path: str) -> Any:
    node = doc
    for part in parts:
        if isinstance(node, dict) and part in node:
            node = node[part]
        elif isinstance(node, list) and part.isdigit() and int(part) < len(node):
            node = node[int(part)]
        else:
            raise ApiError(
                422,
                "Invalid",
                f"the server rejected our request due to an error in our request: path {path!r} not found",
            )
    return node


def _remove(doc: Any, path: str) -> Any:
    parts = _pointer(path)
    if not parts:
        raise bad_request("cannot remove the whole document")
    parent = _walk(doc, parts[:-1], path)
    last = parts[-1]
    if isinstance(parent, dict) and last in parent:
        return parent.pop(last)
    if isinstance(parent, list) and last.isdigit() and int(last) < len(parent):
        return parent.pop(int(last))
    raise ApiError(422, "Invalid", f"unable to remove nonexistent key {path!r}")


def _add(doc: Any, path: str, value: Any, replace: bool = False) -> Any:
    parts = _pointer(path)
    if not parts:
        return value
    parent = _walk(doc, parts[:-1], path)
    last = parts[-1]
    if isinstance(parent, dict):
        if replace and last not in parent:
            raise ApiError(422, "Invalid", f"replace operation does not apply: doc is missing key {path!r}")
        parent[last] = value
    elif isinstance(parent, list):
        if last == "-" and not replace:
            parent.append(value)
        elif last.isdigit() and int(last) <= len(parent) - (1 if replace else 0):
            if replace:
                parent[int(last)] = value
            else:
                parent.insert(int(last), value)
        else:
            raise ApiError(422, "Invalid", f"index out of range in {path!r}")
    else:
        raise ApiError(422, "Invalid", f"cannot add to a scalar at {path!r}")
    return doc


def json_patch(target: Any, operations: Any) -> Any:
    """RFC 6902 operations (add, remove, replace, move, copy, test) applied to a copy of ``target``."""
    if not isinstance(operations, list):
        raise bad_request("a JSON patch must be a list of operations")
    doc = deep_copy(target)
    for operation in operations:
        if not isinstance(operation, dict) or "op" not in operation or "path" not in operation:
            raise bad_request(f"invalid JSON patch operation: {operation!r}")
        op, path = operation["op"], operation["path"]
        if op == "add":
            doc = _add(doc, path, deep_copy(operation.get("value")))
        elif op == "remove":
            _remove(doc, path)
        elif op == "replace":
            doc = _add(doc, path, deep_copy(operation.get("value")), replace=True)
        elif op in ("move", "copy"):
            source = operation.get("from", "")
            value = _remove(doc, source) if op == "move" else deep_copy(_walk(doc, _pointer(source), source))
            doc = _add(doc, path, value)
        elif op == "test":
            if _walk(doc, _pointer(path), path) != operation.get("value"):
                raise ApiError(422, "Invalid", f"testing value {path!r} failed")
        else:
            raise bad_request(f"unknown JSON patch operation {op!r}")
    return doc


def apply_patch(patch_type: str, target: Any, body: Any) -> Any:
    """Dispatch on the content type; server-side apply merges like a JSON merge patch."""
    if patch_type in (MERGE, APPLY):
        if not isinstance(body, dict):
            raise bad_request("a merge patch must be a JSON object")
        return merge_patch(target, body)
    if patch_type == STRATEGIC:
        if not isinstance(body, dict):
            raise bad_request("a strategic merge patch must be a JSON object")
        return strategic_merge_patch(target, body)
    if patch_type == JSON_PATCH:
        return json_patch(target, body)
    raise unsupported_media_type()


def unsupported_media_type() -> ApiError:
    accepted = ", ".join(sorted(set(PATCH_TYPES.values())))
    return ApiError(
        415,
        "UnsupportedMediaType",
        f"the body of the request was in an unknown format - accepted media types include: {accepted}",
    )

"""Patch semantics of the API emulator: JSON merge, strategic merge, JSON patch.

Owns the pure functions that turn (stored object, patch body) into a new object. They never mutate the
stored object (the store shares unchanged subtrees between versions, see ``store.py``). Called by
``verbs.py`` and by :class:`~nautilus_core.testing.KubeEmulator`. A strategic merge patch follows the
kind's patch metadata (``openapi.PatchNode``: containers by name, ports by containerPort, ...), with
``$patch``, ``$retainKeys``, ``$deleteFromPrimitiveList`` and ``$setElementOrder``; without schemas
(custom resources, or kubernetes-validate absent) it merges maps and replaces lists. Server-side apply
lives in ``server_side_apply.py``.
"""

from __future__ import annotations

from typing import Any, Protocol

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


class PatchMeta(Protocol):
    """Patch metadata of one field (``openapi.PatchNode`` for built-in kinds)."""

    merge_key: str | None
    strategy: str

    def child(self, key: str) -> PatchMeta | None: ...

    def items(self) -> PatchMeta | None: ...


def _strip(value: Any) -> Any:
    """A patch value without ``$`` directives, as stored when nothing is merged into it."""
    if isinstance(value, dict):
        return {k: _strip(v) for k, v in value.items() if not k.startswith("$")}
    if isinstance(value, list):
        return [_strip(item) for item in value if not (isinstance(item, dict) and "$patch" in item)]
    return value


def strategic_merge_patch(target: Any, patch: Any, meta: PatchMeta | None = None) -> Any:
    """Kubernetes' strategic merge patch: lists whose field says ``merge`` are merged by their
    ``patchMergeKey`` (containers by name, ports by containerPort, ...), other lists are replaced;
    honours ``$patch: replace|delete|merge``, ``$retainKeys``, ``$deleteFromPrimitiveList/<field>``
    and ``$setElementOrder/<field>``. ``meta`` None (no schema) merges maps and replaces lists."""
    if not isinstance(patch, dict):
        return patch
    directive = patch.get("$patch")
    if directive == "delete":
        return None
    if directive == "replace":
        return _strip(patch)
    result = dict(target) if isinstance(target, dict) else {}
    for key, value in patch.items():
        if key.startswith("$"):
            continue
        child = meta.child(key) if meta is not None else None
        if value is None:
            result.pop(key, None)
        elif isinstance(value, list):
            strategy = child.strategy.split(",") if child is not None else []
            if "merge" in strategy and child is not None:
                result[key] = _merge_list(result.get(key), value, child.merge_key, child.items())
            else:
                result[key] = _strip(value)
        elif isinstance(value, dict):
            merged = strategic_merge_patch(result.get(key), value, child)
            if merged is None:
                result.pop(key, None)
            else:
                result[key] = merged
        else:
            result[key] = value
    for key, value in patch.items():
        field = key.partition("/")[2]
        if not isinstance(value, list):
            continue
        if key.startswith("$deleteFromPrimitiveList/") and isinstance(result.get(field), list):
            result[field] = [item for item in result[field] if item not in value]
        elif key.startswith("$setElementOrder/") and isinstance(result.get(field), list):
            child = meta.child(field) if meta is not None else None
            result[field] = _ordered(result[field], value or [], child.merge_key if child else None)
    retain = patch.get("$retainKeys")
    if isinstance(retain, list):
        result = {key: value for key, value in result.items() if key in retain}
    return result


def _merge_list(target: Any, patch: list[Any], merge_key: str | None, items: PatchMeta | None) -> list[Any]:
    current = list(target) if isinstance(target, list) else []
    if any(isinstance(item, dict) and item.get("$patch") == "replace" for item in patch):
        return _strip([item for item in patch if not (isinstance(item, dict) and "$patch" in item)])
    if merge_key is None:  # a list of primitives merged as a set, e.g. finalizers
        return current + [item for item in patch if item not in current]
    for item in patch:
        if not isinstance(item, dict) or merge_key not in item:
            continue
        index = next(
            (
                i
                for i, old in enumerate(current)
                if isinstance(old, dict) and old.get(merge_key) == item[merge_key]
            ),
            None,
        )
        if item.get("$patch") == "delete":
            if index is not None:
                del current[index]
        elif index is None:
            current.append(_strip(item))
        else:
            current[index] = strategic_merge_patch(current[index], item, items)
    return current


def _ordered(values: list[Any], order: list[Any], merge_key: str | None) -> list[Any]:
    def key_of(item: Any) -> Any:
        return item.get(merge_key) if merge_key and isinstance(item, dict) else item

    wanted = [key_of(item) for item in order]
    rank = {orjson.dumps(k): i for i, k in enumerate(wanted)}
    placed = sorted(
        (item for item in values if orjson.dumps(key_of(item)) in rank),
        key=lambda item: rank[orjson.dumps(key_of(item))],
    )
    rest = [item for item in values if orjson.dumps(key_of(item)) not in rank]
    return placed + rest


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


def apply_patch(patch_type: str, target: Any, body: Any, meta: PatchMeta | None = None) -> Any:
    """Dispatch on the content type (``meta``: the kind's patch keys, for strategic merge)."""
    if patch_type in (MERGE, APPLY):
        if not isinstance(body, dict):
            raise bad_request("a merge patch must be a JSON object")
        return merge_patch(target, body)
    if patch_type == STRATEGIC:
        if not isinstance(body, dict):
            raise bad_request("a strategic merge patch must be a JSON object")
        return strategic_merge_patch(target, body, meta)
    if patch_type == JSON_PATCH:
        return json_patch(target, body)
    raise unsupported_media_type()


def unsupported_media_type(custom: bool = False) -> ApiError:
    """415; custom resources (``custom``) take no strategic merge patch, like on a real server."""
    accepted = ", ".join(sorted(set(PATCH_TYPES.values()) - ({STRATEGIC} if custom else set())))
    return ApiError(
        415,
        "UnsupportedMediaType",
        f"the body of the request was in an unknown format - accepted media types include: {accepted}",
    )

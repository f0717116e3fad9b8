"""Server-side apply in the API emulator: field ownership (``managedFields``), conflicts, removals.

Owns the pure functions of ``PATCH application/apply-patch+yaml``: the set of fields an applied
configuration sets (in the ``FieldsV1`` form the real server writes: ``f:<field>``, ``k:{<keys>}`` for
items of map lists, ``v:<value>`` for items of set lists, ``.`` for the item itself), the 409
``Conflict`` with one ``FieldManagerConflict`` cause per field another manager owns with a different
value (unless ``force``, which takes the field over), the merge of the configuration into the live
object (map lists by their keys, set lists by value, other lists replaced), and the removal of the
fields this manager applied before and no longer sends, when no other manager owns them. Writes
that are not applies and name a ``fieldManager`` get an ``Update`` entry for the fields they changed.
Lists are typed by the schema (``openapi.PatchNode``: the built-in kinds' ``x-kubernetes-list-*`` and
patch keys, or a CRD's schema). Called by ``verbs.py``.
"""

from __future__ import annotations

from typing import Any, Protocol

import orjson

from nautilus_core.testing import status as st
from nautilus_core.testing.object_rules import now_rfc3339

Obj = dict[str, Any]
Path = tuple[str, ...]
_IGNORED_META = {
    "name",
    "namespace",
    "uid",
    "resourceVersion",
    "creationTimestamp",
    "generation",
    "managedFields",
}
_IGNORED_META |= {"deletionTimestamp", "deletionGracePeriodSeconds", "selfLink"}


class ListSchema(Protocol):
    merge_key: str | None
    strategy: str
    list_type: str | None
    list_keys: list[str] | None

    def child(self, key: str) -> ListSchema | None: ...

    def items(self) -> ListSchema | None: ...


def _keys(node: ListSchema | None) -> list[str] | None:
    if node is None:
        return None
    if node.list_keys:
        return list(node.list_keys)
    return [node.merge_key] if node.merge_key else None


def _is_set(node: ListSchema | None) -> bool:
    if node is None:
        return False
    return node.list_type == "set" or (not node.merge_key and "merge" in node.strategy.split(","))


def _item_key(item: Any, keys: list[str]) -> str:
    present = {key: item[key] for key in keys if isinstance(item, dict) and key in item}
    return "k:" + orjson.dumps(present, option=orjson.OPT_SORT_KEYS).decode()


# -- field sets -----------------------------------------------------------------------------------------


def fields_of(obj: Obj, schema: ListSchema | None, skip_status: bool) -> set[Path]:
    """Every leaf path the object sets, server-owned metadata (and status, ``skip_status``) aside."""
    paths: set[Path] = set()
    for key, value in obj.items():
        if key in ("apiVersion", "kind") or (key == "status" and skip_status):
            continue
        if key == "metadata" and isinstance(value, dict):
            value = {k: v for k, v in value.items() if k not in _IGNORED_META}
            if not value:
                continue
        _collect(value, schema.child(key) if schema else None, (f"f:{key}",), paths)
    return paths


def _collect(value: Any, node: ListSchema | None, path: Path, paths: set[Path]) -> None:
    if isinstance(value, dict) and value:
        for key, item in value.items():
            _collect(item, node.child(key) if node else None, (*path, f"f:{key}"), paths)
        return
    if isinstance(value, list) and value:
        keys = _keys(node)
        if keys:
            for index, item in enumerate(value):
                if not isinstance(item, dict) or keys[0] not in item:
                    raise st.ApiError(
                        422,
                        "Invalid",
                        f"{show(path)}: element {index}: associative list with keys has an element that "
                        f'omits key field "{keys[0]}" (and doesn\'t have default value)',
                    )
                at = (*path, _item_key(item, keys))
                paths.add((*at, "."))
                if isinstance(item, dict):
                    for key, sub in item.items():
                        if key not in keys:
                            items = node.items() if node else None
                            _collect(sub, items.child(key) if items else None, (*at, f"f:{key}"), paths)
                    paths.update((*at, f"f:{key}") for key in keys if key in item)
            return
        if _is_set(node):
            paths.update((*path, "v:" + orjson.dumps(item).decode()) for item in value)
            return
    paths.add(path)


def to_fields_v1(paths: set[Path]) -> dict[str, Any]:
    tree: dict[str, Any] = {}
    for path in sorted(paths):
        node = tree
        for part in path:
            node = node.setdefault(part, {})
    return tree


def from_fields_v1(tree: Any, prefix: Path = ()) -> set[Path]:
    paths: set[Path] = set()
    if not isinstance(tree, dict):
        return paths
    for key, sub in tree.items():
        if isinstance(sub, dict) and sub:
            paths |= from_fields_v1(sub, (*prefix, key))
        else:
            paths.add((*prefix, key))
    return paths


def show(path: Path) -> str:
    """A field path as conflicts name it: ``.spec.replicas``, ``.spec.containers[name="app"].image``."""
    text = ""
    for part in path:
        kind, _, rest = part.partition(":")
        if part == ".":
            continue
        if kind == "f":
            text += f".{rest}"
        elif kind == "k":
            keys = orjson.loads(rest)
            text += "[" + ",".join(f"{k}={orjson.dumps(v).decode()}" for k, v in keys.items()) + "]"
        elif kind == "v":
            text += f"[{rest}]"
    return text


# -- values at paths ------------------------------------------------------------------------------------

_MISSING = object()


def _step(value: Any, part: str) -> Any:
    kind, _, rest = part.partition(":")
    if part == ".":
        return value
    if kind == "f":
        return value.get(rest, _MISSING) if isinstance(value, dict) else _MISSING
    if kind == "k" and isinstance(value, list):
        wanted = orjson.loads(rest)
        return next(
            (i for i in value if isinstance(i, dict) and all(i.get(k) == v for k, v in wanted.items())),
            _MISSING,
        )
    if kind == "v" and isinstance(value, list):
        wanted = orjson.loads(rest)
        return wanted if wanted in value else _MISSING
    return _MISSING


def value_at(obj: Any, path: Path) -> Any:
    for part in path:
        obj = _step(obj, part)
        if obj is _MISSING:
            return _MISSING
    return obj


def _remove(obj: Any, path: Path) -> Any:
    """A copy of ``obj`` without the field or list item at ``path`` (unchanged when absent)."""
    if not path or not isinstance(obj, (dict, list)):
        return obj
    head, rest = path[0], path[1:]
    if rest == (".",) or not rest:
        if isinstance(obj, dict) and head.startswith("f:"):
            return {k: v for k, v in obj.items() if k != head[2:]}
        if isinstance(obj, list):
            target = _step(obj, head)
            return [item for item in obj if item is not target] if target is not _MISSING else obj
        return obj
    child = _step(obj, head)
    if child is _MISSING:
        return obj
    new = _remove(child, rest)
    if isinstance(obj, dict):
        return {**obj, head[2:]: new}
    return [new if item is child else item for item in obj]


# -- merging --------------------------------------------------------------------------------------------


def merge(live: Any, applied: Any, node: ListSchema | None) -> Any:
    """The applied configuration merged into the live object (lists by their schema type)."""
    if isinstance(applied, dict) and isinstance(live, dict):
        result = dict(live)
        for key, value in applied.items():
            result[key] = merge(live.get(key), value, node.child(key) if node else None)
        return result
    if isinstance(applied, list) and isinstance(live, list):
        keys = _keys(node)
        if keys:
            result_list = list(live)
            items = node.items() if node else None
            for item in applied:
                key = _item_key(item, keys)
                index = next((i for i, old in enumerate(result_list) if _item_key(old, keys) == key), None)
                if index is None:
                    result_list.append(item)
                else:
                    result_list[index] = merge(result_list[index], item, items)
            return result_list
        if _is_set(node):
            return list(live) + [item for item in applied if item not in live]
    return applied


# -- one apply ------------------------------------------------------------------------------------------


def apply(
    live: Obj,
    applied: Obj,
    manager: str,
    api_version: str,
    schema: ListSchema | None,
    force: bool,
    subresource: str | None,
    skip_status: bool,
) -> Obj:
    """The object after ``manager`` applies ``applied`` to ``live`` (409 on conflicts unless ``force``)."""
    entries = [dict(e) for e in live["metadata"].get("managedFields") or [] if isinstance(e, dict)]
    mine = fields_of(applied, schema, skip_status)
    owned = [(e, from_fields_v1(e.get("fieldsV1"))) for e in entries]
    own_entry = next(
        (e for e, _ in owned if e.get("manager") == manager and e.get("operation") == "Apply"), None
    )
    before = from_fields_v1(own_entry.get("fieldsV1")) if own_entry else set()

    conflicts: list[tuple[str, str, Path]] = []
    for entry, paths in owned:
        if entry is own_entry:
            continue
        for path in sorted(mine & paths):
            if path[-1] != "." and value_at(live, path) != value_at(applied, path):
                conflicts.append((str(entry.get("manager")), str(entry.get("apiVersion", api_version)), path))
    if conflicts and not force:
        raise _conflict_error(live, conflicts)

    meta = {k: v for k, v in (applied.get("metadata") or {}).items() if k not in _IGNORED_META}
    clean = {k: v for k, v in applied.items() if k not in ("apiVersion", "kind", "metadata")}
    result = merge(live, {**clean, "metadata": meta}, schema)
    others = set().union(*(paths for entry, paths in owned if entry is not own_entry)) if owned else set()
    for path in sorted(before - mine - others, key=len, reverse=True):
        result = _remove(result, path)

    kept = []
    for entry, paths in owned:
        if entry is own_entry:
            continue
        remaining = paths - {path for manager, _, path in conflicts if manager == entry.get("manager")}
        if remaining:
            kept.append({**entry, "fieldsV1": to_fields_v1(remaining)})
    new_entry: dict[str, Any] = {
        "manager": manager,
        "operation": "Apply",
        "apiVersion": api_version,
        "time": now_rfc3339(),
        "fieldsType": "FieldsV1",
        "fieldsV1": to_fields_v1(mine),
    }
    if subresource:
        new_entry["subresource"] = subresource
    if own_entry is not None and before == mine:
        new_entry["time"] = own_entry.get("time", new_entry["time"])  # a no-op apply changes nothing
    result["metadata"]["managedFields"] = [*kept, new_entry]
    return result


def created_entry(
    applied: Obj, manager: str, api_version: str, schema: ListSchema | None, skip_status: bool
) -> dict[str, Any]:
    return {
        "manager": manager,
        "operation": "Apply",
        "apiVersion": api_version,
        "time": now_rfc3339(),
        "fieldsType": "FieldsV1",
        "fieldsV1": to_fields_v1(fields_of(applied, schema, skip_status)),
    }


def record_update(
    old: Obj | None, new: Obj, manager: str, api_version: str, schema: ListSchema | None
) -> Obj:
    """``new`` with ``manager`` owning (operation Update) the fields it changed against ``old``."""
    before = fields_of(old, schema, False) if old else set()
    after = fields_of(new, schema, False)
    changed = {
        path
        for path in after
        if old is None or path not in before or value_at(old, path) != value_at(new, path)
    }
    if not changed:
        return new
    entries = [dict(e) for e in (old or new)["metadata"].get("managedFields") or [] if isinstance(e, dict)]
    kept = []
    mine: set[Path] = set()
    for entry in entries:
        paths = from_fields_v1(entry.get("fieldsV1"))
        if entry.get("manager") == manager and entry.get("operation") == "Update":
            mine = paths
            continue
        remaining = paths - changed
        if remaining:
            kept.append({**entry, "fieldsV1": to_fields_v1(remaining)})
    entry = {
        "manager": manager,
        "operation": "Update",
        "apiVersion": api_version,
        "time": now_rfc3339(),
        "fieldsType": "FieldsV1",
        "fieldsV1": to_fields_v1((mine & after) | changed),
    }
    return {**new, "metadata": {**new["metadata"], "managedFields": [*kept, entry]}}


def _conflict_error(live: Obj, conflicts: list[tuple[str, str, Path]]) -> st.ApiError:
    count = len(conflicts)
    noun = "conflict" if count == 1 else "conflicts"
    if count == 1:
        manager, version, path = conflicts[0]
        message = f'Apply failed with 1 conflict: conflict with "{manager}" using {version}: {show(path)}'
    else:
        groups: dict[tuple[str, str], list[Path]] = {}
        for manager, version, path in conflicts:
            groups.setdefault((manager, version), []).append(path)
        parts = [
            f'conflicts with "{manager}" using {version}:\n' + "\n".join(f"- {show(p)}" for p in paths)
            for (manager, version), paths in groups.items()
        ]
        message = f"Apply failed with {count} {noun}: " + "\n".join(parts)
    causes = [
        {
            "reason": "FieldManagerConflict",
            "message": f'conflict with "{manager}" using {version}',
            "field": show(path),
        }
        for manager, version, path in conflicts
    ]
    return st.ApiError(409, "Conflict", message, {"causes": causes})

"""OpenAPI of the API emulator: ``/openapi/v3`` documents, built-in schemas, unknown fields, patch keys.

Owns the schemas of the built-in kinds, read from the JSON schemas the ``kubernetes-validate``
package ships per Kubernetes minor version (imported lazily; without it the emulator serves no
OpenAPI and checks no built-in fields), and what is derived from them: the ``/openapi/v3`` root index
and one OpenAPI 3.0 document per served group-version (paths with the ``fieldValidation`` query
parameter on every write, and schemas for built-in kinds and for the CRDs' versions from ``crd.py``),
so ``kubectl apply`` with its default ``--validate=strict`` hands validation to the server and
``kubectl explain`` has its texts; :func:`report_unknown`, which drops the fields a built-in kind does
not declare (as the real decoder does) and reports them for ``fieldValidation`` (see
``field_validation.py``); and :func:`patch_schema`, the ``x-kubernetes-patch-merge-key``/``-strategy``
tree the strategic merge patch (``patching.py``) follows.
Called by ``handlers.py`` (documents) and ``verbs.py`` (writes).
"""

from __future__ import annotations

import functools
import hashlib
import importlib.util
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import orjson

from nautilus_core.testing import status as st
from nautilus_core.testing.resources import ResourceType

Schema = dict[str, Any]
_REF = "#/$defs/"
_COMPONENTS = "#/components/schemas/"
DEFAULT_MINOR = 30


@functools.lru_cache(maxsize=4)
def _definitions(minor: int) -> dict[str, Schema] | None:
    """The ``$defs`` of the shipped schemas for Kubernetes 1.<minor> (the nearest one shipped)."""
    spec = importlib.util.find_spec("kubernetes_validate")
    if spec is None or spec.origin is None:
        return None
    root = Path(spec.origin).parent / "kubernetes-json-schema"
    shipped = {}
    for folder in root.glob("v1.*.0-local"):
        match = re.match(r"v1\.(\d+)\.0-local$", folder.name)
        if match:
            shipped[int(match.group(1))] = folder
    if not shipped:
        return None
    best = min(shipped, key=lambda m: (abs(m - minor), -m))
    data = orjson.loads((shipped[best] / "_definitions.json").read_bytes())
    return dict(data.get("$defs") or data.get("definitions") or {})


def minor_of(git_version: str) -> int:
    match = re.match(r"v?1\.(\d+)", git_version)
    return int(match.group(1)) if match else DEFAULT_MINOR


@functools.lru_cache(maxsize=4)
def _by_kind(minor: int) -> dict[tuple[str, str, str], str]:
    defs = _definitions(minor) or {}
    index: dict[tuple[str, str, str], str] = {}
    for name, schema in defs.items():
        for gvk in schema.get("x-kubernetes-group-version-kind") or []:
            index.setdefault((gvk.get("group", ""), gvk.get("version", ""), gvk.get("kind", "")), name)
    return index


def builtin_schema(rtype: ResourceType, minor: int = DEFAULT_MINOR) -> tuple[str, dict[str, Schema]] | None:
    """(definition name, all definitions) of a built-in kind, or None (custom, or no schemas shipped)."""
    if rtype.storage:
        return None
    defs = _definitions(minor)
    name = _by_kind(minor).get((rtype.group, rtype.version, rtype.kind))
    return None if defs is None or name is None else (name, defs)


# -- unknown fields -------------------------------------------------------------------------------------


def _resolve(schema: Schema, defs: dict[str, Schema]) -> Schema:
    seen = 0
    while "$ref" in schema and seen < 50:
        schema = defs.get(schema["$ref"].rsplit("/", 1)[-1], {})
        seen += 1
    return schema


def prune_unknown(rtype: ResourceType, obj: Any, minor: int = DEFAULT_MINOR) -> tuple[Any, list[str]]:
    """``obj`` without the fields its built-in kind does not declare, and their dotted paths.

    Unchanged subtrees are shared, not copied; custom resources are pruned by ``crd.py`` instead.
    """
    found = builtin_schema(rtype, minor)
    if found is None or not isinstance(obj, dict):
        return obj, []
    name, defs = found
    paths: list[str] = []
    return _prune(defs[name], obj, "", defs, paths), paths


def _prune(schema: Schema, value: Any, path: str, defs: dict[str, Schema], paths: list[str]) -> Any:
    schema = _resolve(schema, defs)
    if isinstance(value, dict):
        properties = schema.get("properties")
        extra = schema.get("additionalProperties")
        if properties is None and not isinstance(extra, dict):
            return value
        result: dict[str, Any] = {}
        changed = False
        for key, item in value.items():
            child = f"{path}.{key}" if path else key
            if properties is not None and key in properties:
                new = _prune(properties[key], item, child, defs, paths)
            elif isinstance(extra, dict):
                new = _prune(extra, item, child, defs, paths)
            elif properties is not None:
                paths.append(child)
                changed = True
                continue
            else:
                new = item
            changed = changed or new is not item
            result[key] = new
        return result if changed else value
    if isinstance(value, list):
        items = schema.get("items")
        if not isinstance(items, dict):
            return value
        pruned = [_prune(items, item, f"{path}[{index}]", defs, paths) for index, item in enumerate(value)]
        return pruned if any(new is not old for new, old in zip(pruned, value, strict=True)) else value
    return value


def report_unknown(rtype: ResourceType, obj: Any) -> Any:
    """Drop the unknown fields of a built-in object, reporting them to the request's ``fieldValidation``."""
    from nautilus_core.testing import field_validation

    pruned, paths = prune_unknown(rtype, obj)
    field_validation.report(paths)
    return pruned


# -- strategic merge patch keys -------------------------------------------------------------------------


class PatchNode:
    """What the schema says below one field: patch keys (``patching.PatchMeta``) and list types (SSA)."""

    __slots__ = ("_defs", "_schema", "list_keys", "list_type", "merge_key", "strategy")

    def __init__(self, schema: Schema, defs: dict[str, Schema]) -> None:
        self.merge_key: str | None = schema.get("x-kubernetes-patch-merge-key")
        self.strategy: str = schema.get("x-kubernetes-patch-strategy", "")
        self.list_type: str | None = schema.get("x-kubernetes-list-type")
        self.list_keys: list[str] | None = schema.get("x-kubernetes-list-map-keys")
        self._schema = _resolve(schema, defs)
        self._defs = defs

    def child(self, key: str) -> PatchNode | None:
        properties = self._schema.get("properties") or {}
        sub = properties.get(key)
        if sub is None:
            sub = self._schema.get("additionalProperties")
        return PatchNode(sub, self._defs) if isinstance(sub, dict) else None

    def items(self) -> PatchNode | None:
        items = self._schema.get("items")
        return PatchNode(items, self._defs) if isinstance(items, dict) else None


def patch_schema(rtype: ResourceType) -> PatchNode | None:
    found = builtin_schema(rtype)
    if found is None:
        return None
    name, defs = found
    return PatchNode(defs[name], defs)


# -- /openapi/v3 ----------------------------------------------------------------------------------------


def _to_openapi(schema: Any) -> Any:
    """A shipped JSON schema node as OpenAPI 3.0 (refs to components, no ``null`` types)."""
    if isinstance(schema, list):
        return [_to_openapi(item) for item in schema]
    if not isinstance(schema, dict):
        return schema
    result: Schema = {}
    for key, value in schema.items():
        if key == "$ref" and isinstance(value, str):
            continue
        if key == "type" and isinstance(value, list):
            kinds = [kind for kind in value if kind != "null"]
            value = kinds[0] if len(kinds) == 1 else kinds
        elif key in ("properties", "$defs"):
            value = {name: _to_openapi(sub) for name, sub in value.items()}
        else:
            value = _to_openapi(value)
        result[key] = value
    ref = schema.get("$ref")
    if isinstance(ref, str):
        target = {"$ref": _COMPONENTS + ref.rsplit("/", 1)[-1]}
        if not result:
            return target
        result["allOf"] = [target]
    options = result.get("oneOf")
    option_kinds = (
        {str(o.get("type")) for o in options if isinstance(o, dict)} if isinstance(options, list) else set()
    )
    if "string" in option_kinds:  # IntOrString and Quantity, written as the real server's documents do
        result.pop("oneOf")
        result["type"] = "string"
        if "integer" in option_kinds:
            result["format"] = "int-or-string"
            result["x-kubernetes-int-or-string"] = True
    return result


def _closure(names: list[str], defs: dict[str, Schema]) -> dict[str, Schema]:
    found: dict[str, Schema] = {}
    pending = list(names)
    while pending:
        name = pending.pop()
        if name in found or name not in defs:
            continue
        found[name] = defs[name]
        pending.extend(re.findall(r'"\$ref":"[^"]*/([^"/]+)"', orjson.dumps(defs[name]).decode()))
    return found


def _gvk(rtype: ResourceType) -> dict[str, str]:
    return {"group": rtype.group, "version": rtype.version, "kind": rtype.kind}


def custom_schema_name(rtype: ResourceType) -> str:
    return ".".join(reversed(rtype.group.split("."))) + f".{rtype.version}.{rtype.kind}"


def _paths(rtype: ResourceType, ref: str) -> dict[str, Any]:
    prefix = f"/apis/{rtype.group}/{rtype.version}" if rtype.group else f"/api/{rtype.version}"
    base = (
        f"{prefix}/namespaces/{{namespace}}/{rtype.plural}"
        if rtype.namespaced
        else f"{prefix}/{rtype.plural}"
    )
    body = {"content": {"application/json": {"schema": {"$ref": ref}}}}
    patch_types = [
        "application/json-patch+json",
        "application/merge-patch+json",
        "application/apply-patch+yaml",
    ]
    if not rtype.storage:
        patch_types.append("application/strategic-merge-patch+json")
    patch_body = {
        "content": {
            kind: {"schema": {"$ref": "#/components/schemas/io.k8s.apimachinery.pkg.apis.meta.v1.Patch"}}
            for kind in patch_types
        }
    }
    answer = {"200": {"description": "OK", "content": {"application/json": {"schema": {"$ref": ref}}}}}
    field_validation = {
        "name": "fieldValidation",
        "in": "query",
        "description": "how the server treats unknown or duplicate fields: Ignore, Warn or Strict",
        "schema": {"type": "string", "uniqueItems": True},
    }

    def operation(action: str, writes: bool, request: bool) -> dict[str, Any]:
        op: dict[str, Any] = {
            "operationId": f"{action}{rtype.kind}",
            "responses": answer,
            "x-kubernetes-action": action,
            "x-kubernetes-group-version-kind": _gvk(rtype),
        }
        if writes:
            op["parameters"] = [field_validation]
        if request:
            op["requestBody"] = patch_body if action == "patch" else body
        return op

    return {
        base: {"get": operation("list", False, False), "post": operation("post", True, True)},
        f"{base}/{{name}}": {
            "get": operation("get", False, False),
            "put": operation("put", True, True),
            "patch": operation("patch", True, True),
            "delete": operation("delete", False, False),
        },
    }


def group_version_path(rtype: ResourceType) -> str:
    return f"apis/{rtype.group}/{rtype.version}" if rtype.group else f"api/{rtype.version}"


def document(
    types: list[ResourceType], custom_schema: Callable[[ResourceType], Schema | None], git_version: str
) -> dict[str, Any]:
    """The OpenAPI 3.0 document of one group-version (``custom_schema``: a CRD version's schema)."""
    defs = _definitions(minor_of(git_version)) or {}
    index = _by_kind(minor_of(git_version))
    paths: dict[str, Any] = {}
    wanted: list[str] = []
    schemas: dict[str, Any] = {}
    for rtype in types:
        if rtype.storage:
            name = custom_schema_name(rtype)
            schemas[name] = _custom_component(rtype, custom_schema(rtype))
            wanted.append("io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta")
        else:
            found = index.get((rtype.group, rtype.version, rtype.kind))
            if found is None:
                continue
            name = found
            wanted.append(found)
        paths.update(_paths(rtype, _COMPONENTS + name))
    for name, schema in _closure(wanted, defs).items():
        schemas.setdefault(name, _to_openapi(schema))
    return {
        "openapi": "3.0.0",
        "info": {"title": "Kubernetes", "version": git_version},
        "paths": paths,
        "components": {"schemas": schemas},
    }


def _custom_component(rtype: ResourceType, schema: Schema | None) -> Schema:
    component: Schema = dict(schema or {"type": "object", "x-kubernetes-preserve-unknown-fields": True})
    properties = dict(component.get("properties") or {})
    properties.setdefault("apiVersion", {"type": "string", "description": "APIVersion of this object"})
    properties.setdefault("kind", {"type": "string", "description": "Kind of this object"})
    properties["metadata"] = {
        "description": "Standard object's metadata.",
        "allOf": [{"$ref": _COMPONENTS + "io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta"}],
    }
    component["properties"] = properties
    component["x-kubernetes-group-version-kind"] = [_gvk(rtype)]
    return component


def answer(
    rest: str,
    served: dict[str, list[ResourceType]],
    custom_schema: Callable[[ResourceType], Schema | None],
    git_version: str,
) -> dict[str, Any]:
    """``GET /openapi/v3[/<rest>]``: the root index (``rest`` empty) or one group-version's document.

    ``served``: the published types by group-version path (``api/v1``, ``apis/apps/v1``, ...).
    """
    if not available():
        raise st.ApiError(404, "NotFound", "the server could not find the requested resource (openapi)", {})
    if not rest:
        paths = {}
        for path, types in served.items():
            doc = document(types, custom_schema, git_version)
            paths[path] = {"serverRelativeURL": f"/openapi/v3/{path}?hash={digest(doc)}"}
        return {"paths": paths}
    wanted = served.get(rest)
    if wanted is None:
        raise st.unknown_resource()
    return document(wanted, custom_schema, git_version)


def digest(doc: dict[str, Any]) -> str:
    return hashlib.sha512(orjson.dumps(doc, option=orjson.OPT_SORT_KEYS)).hexdigest()[:128].upper()


def available() -> bool:
    return _definitions(DEFAULT_MINOR) is not None

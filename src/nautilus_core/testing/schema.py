"""Structural OpenAPI v3 schemas of CustomResourceDefinitions: validation, pruning, defaulting.

Owns the pure functions the API server applies to a custom resource with the schema of its CRD
version: :func:`prune` drops fields the schema does not declare (unless
``x-kubernetes-preserve-unknown-fields``), :func:`apply_defaults` fills ``default`` values,
:func:`validate` returns the causes of a 422 (``field`` paths like ``spec.items[0].name`` and the
messages the real server writes), and :func:`structural_errors` checks a CRD's own schema. Called by
``crd.py`` on every write of a custom resource; values are plain JSON-like Python values and are
never mutated (new containers are built where something changes).

Not implemented: CEL rules (``x-kubernetes-validations``) and the ``format`` checks beyond ints.
"""

from __future__ import annotations

import re
from typing import Any, NamedTuple

import orjson

Schema = dict[str, Any]
_ROOT_KEYS = ("apiVersion", "kind", "metadata")
_TYPES: dict[str, tuple[type, ...]] = {
    "object": (dict,),
    "array": (list,),
    "string": (str,),
    "integer": (int,),
    "number": (int, float),
    "boolean": (bool,),
}


class Cause(NamedTuple):
    """One reason of a 422: ``reason`` (FieldValueInvalid, ...), ``field`` path and ``message``."""

    reason: str
    field: str
    message: str

    def as_dict(self) -> dict[str, str]:
        return {"reason": self.reason, "message": self.message, "field": self.field}

    def text(self) -> str:
        return f"{self.field}: {self.message}" if self.field else self.message


def _render(value: Any) -> str:
    if isinstance(value, str):
        return f'"{value}"'
    if value is None:
        return '"null"'
    return orjson.dumps(value).decode()


def _child(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key


def _is_type(value: Any, name: str) -> bool:
    if isinstance(value, bool) and name in ("integer", "number"):
        return False
    if name == "integer" and isinstance(value, float):
        return value.is_integer()
    expected = _TYPES.get(name)
    return expected is None or isinstance(value, expected)


def _preserves(schema: Schema) -> bool:
    return bool(schema.get("x-kubernetes-preserve-unknown-fields"))


# -- pruning and defaults -----------------------------------------------------------------------------


def prune(schema: Schema, value: Any, path: str = "", root: bool = True) -> tuple[Any, list[str]]:
    """``value`` without the fields ``schema`` does not declare, and the paths that were dropped."""
    dropped: list[str] = []
    return _prune(schema, value, path, root, dropped), dropped


def _prune(schema: Schema, value: Any, path: str, root: bool, dropped: list[str]) -> Any:
    if isinstance(value, list):
        items = schema.get("items")
        if not isinstance(items, dict):
            return value
        return [_prune(items, item, f"{path}[{index}]", False, dropped) for index, item in enumerate(value)]
    if not isinstance(value, dict):
        return value
    properties = schema.get("properties") or {}
    extra = schema.get("additionalProperties")
    keep_meta = root or schema.get("x-kubernetes-embedded-resource")
    result: dict[str, Any] = {}
    for key, item in value.items():
        if keep_meta and key in _ROOT_KEYS:
            result[key] = item
        elif key in properties:
            result[key] = _prune(properties[key], item, _child(path, key), False, dropped)
        elif isinstance(extra, dict):
            result[key] = _prune(extra, item, _child(path, key), False, dropped)
        elif _preserves(schema) or extra is True:
            result[key] = item
        else:
            dropped.append(_child(path, key))
    return result


def apply_defaults(schema: Schema, value: Any) -> Any:
    """``value`` with the schema's ``default`` values filled in where a parent object exists."""
    if isinstance(value, list):
        items = schema.get("items")
        return [apply_defaults(items, item) for item in value] if isinstance(items, dict) else value
    if not isinstance(value, dict):
        return value
    properties = schema.get("properties") or {}
    extra = schema.get("additionalProperties")
    result = dict(value)
    for key, sub in properties.items():
        if key not in result and "default" in sub:
            result[key] = orjson.loads(orjson.dumps(sub["default"]))
        if key in result:
            result[key] = apply_defaults(sub, result[key])
    if isinstance(extra, dict):
        for key in value:
            if key not in properties:
                result[key] = apply_defaults(extra, result[key])
    return result


# -- validation ---------------------------------------------------------------------------------------


def validate(schema: Schema, value: Any, path: str = "") -> list[Cause]:
    """Every violation of ``schema`` by ``value`` (empty when valid), with the real server's wording."""
    causes: list[Cause] = []
    _validate(schema, value, path, causes)
    return causes


def _type_error(schema: Schema, value: Any, path: str) -> Cause | None:
    if value is None:
        if schema.get("nullable"):
            return None
        wanted = schema.get("type") or "object"
        return Cause(
            "FieldValueTypeInvalid",
            path,
            f'Invalid value: "null": {path} in body must be of type {wanted}: "null"',
        )
    if schema.get("x-kubernetes-int-or-string"):
        if _is_type(value, "integer") or isinstance(value, str):
            return None
        return Cause(
            "FieldValueTypeInvalid",
            path,
            f"Invalid value: {_render(value)}: {path} in body must be of type integer,string: {_render(value)}",
        )
    wanted = schema.get("type")
    if not wanted or _is_type(value, wanted):
        return None
    actual = _json_type(value)
    return Cause(
        "FieldValueTypeInvalid",
        path,
        f'Invalid value: "{actual}": {path} in body must be of type {wanted}: "{actual}"',
    )


def _json_type(value: Any) -> str:
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    if isinstance(value, str):
        return "string"
    return "array" if isinstance(value, list) else "object"


def _validate(schema: Schema, value: Any, path: str, causes: list[Cause]) -> None:
    error = _type_error(schema, value, path)
    if error is not None:
        causes.append(error)
        return
    if value is None:
        return
    _value_checks(schema, value, path, causes)
    for combinator in ("allOf", "anyOf", "oneOf"):
        options = schema.get(combinator)
        if isinstance(options, list) and options:
            _combined(combinator, options, value, path, causes)
    negated = schema.get("not")
    if isinstance(negated, dict) and not validate(negated, value, path):
        causes.append(
            Cause(
                "FieldValueInvalid",
                path,
                f'Invalid value: {_render(value)}: {path} in body must not be valid against "not"',
            )
        )
    if isinstance(value, dict):
        properties = schema.get("properties") or {}
        for name in schema.get("required") or ():
            if name not in value:
                causes.append(Cause("FieldValueRequired", _child(path, name), "Required value"))
        extra = schema.get("additionalProperties")
        for key, item in value.items():
            if key in properties:
                _validate(properties[key], item, _child(path, key), causes)
            elif isinstance(extra, dict):
                _validate(extra, item, _child(path, key), causes)
    elif isinstance(value, list):
        items = schema.get("items")
        if isinstance(items, dict):
            for index, item in enumerate(value):
                _validate(items, item, f"{path}[{index}]", causes)
        _list_uniqueness(schema, value, path, causes)


def _combined(combinator: str, options: list[Any], value: Any, path: str, causes: list[Cause]) -> None:
    results = [validate(option, value, path) for option in options if isinstance(option, dict)]
    if combinator == "allOf":
        for found in results:
            causes.extend(found)
        return
    passed = sum(1 for found in results if not found)
    if combinator == "anyOf" and not passed:
        causes.append(
            Cause(
                "FieldValueInvalid",
                path,
                f"Invalid value: {_render(value)}: {path} in body must match at least one schema in anyOf",
            )
        )
    if combinator == "oneOf" and passed != 1:
        causes.append(
            Cause(
                "FieldValueInvalid",
                path,
                f"Invalid value: {_render(value)}: {path} in body must match exactly one schema in oneOf",
            )
        )


def _value_checks(schema: Schema, value: Any, path: str, causes: list[Cause]) -> None:
    shown = _render(value)
    enum = schema.get("enum")
    if isinstance(enum, list) and value not in enum:
        supported = ", ".join(_render(option) for option in enum)
        causes.append(
            Cause(
                "FieldValueNotSupported", path, f"Unsupported value: {shown}: supported values: {supported}"
            )
        )
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        low, high = schema.get("minimum"), schema.get("maximum")
        if low is not None:
            if schema.get("exclusiveMinimum") and value <= low:
                causes.append(
                    Cause(
                        "FieldValueInvalid",
                        path,
                        f"Invalid value: {shown}: {path} in body should be greater than {low}",
                    )
                )
            elif value < low:
                causes.append(
                    Cause(
                        "FieldValueInvalid",
                        path,
                        f"Invalid value: {shown}: {path} in body should be greater than or equal to {low}",
                    )
                )
        if high is not None:
            if schema.get("exclusiveMaximum") and value >= high:
                causes.append(
                    Cause(
                        "FieldValueInvalid",
                        path,
                        f"Invalid value: {shown}: {path} in body should be less than {high}",
                    )
                )
            elif value > high:
                causes.append(
                    Cause(
                        "FieldValueInvalid",
                        path,
                        f"Invalid value: {shown}: {path} in body should be less than or equal to {high}",
                    )
                )
        step = schema.get("multipleOf")
        if step and value % step:
            causes.append(
                Cause(
                    "FieldValueInvalid",
                    path,
                    f"Invalid value: {shown}: {path} in body should be a multiple of {step}",
                )
            )
    if isinstance(value, str):
        if schema.get("maxLength") is not None and len(value) > schema["maxLength"]:
            causes.append(
                Cause("FieldValueTooLong", path, f"Too long: may not be longer than {schema['maxLength']}")
            )
        if schema.get("minLength") is not None and len(value) < schema["minLength"]:
            causes.append(
                Cause(
                    "FieldValueInvalid",
                    path,
                    f"Invalid value: {shown}: {path} in body should be at least {schema['minLength']} chars long",
                )
            )
        pattern = schema.get("pattern")
        if isinstance(pattern, str) and re.search(pattern, value) is None:
            causes.append(
                Cause(
                    "FieldValueInvalid",
                    path,
                    f"Invalid value: {shown}: {path} in body should match '{pattern}'",
                )
            )
    if isinstance(value, list):
        if schema.get("maxItems") is not None and len(value) > schema["maxItems"]:
            causes.append(
                Cause(
                    "FieldValueTooMany",
                    path,
                    f"Too many: {len(value)}: must have at most {schema['maxItems']} items",
                )
            )
        if schema.get("minItems") is not None and len(value) < schema["minItems"]:
            causes.append(
                Cause(
                    "FieldValueInvalid",
                    path,
                    f"Invalid value: {len(value)}: {path} in body should have at least {schema['minItems']} items",
                )
            )
    if isinstance(value, dict):
        if schema.get("maxProperties") is not None and len(value) > schema["maxProperties"]:
            causes.append(
                Cause(
                    "FieldValueTooMany",
                    path,
                    f"Too many: {len(value)}: must have at most {schema['maxProperties']} items",
                )
            )
        if schema.get("minProperties") is not None and len(value) < schema["minProperties"]:
            causes.append(
                Cause(
                    "FieldValueInvalid",
                    path,
                    f"Invalid value: {len(value)}: {path} in body should have at least "
                    f"{schema['minProperties']} properties",
                )
            )


def _list_uniqueness(schema: Schema, value: list[Any], path: str, causes: list[Cause]) -> None:
    kind = schema.get("x-kubernetes-list-type")
    if kind == "set":
        seen: list[Any] = []
        for index, item in enumerate(value):
            if item in seen:
                causes.append(
                    Cause("FieldValueDuplicate", f"{path}[{index}]", f"Duplicate value: {_render(item)}")
                )
            seen.append(item)
    elif kind == "map":
        keys = schema.get("x-kubernetes-list-map-keys") or []
        seen_keys: list[tuple[Any, ...]] = []
        for index, item in enumerate(value):
            if not isinstance(item, dict):
                continue
            key = tuple(item.get(name) for name in keys)
            if key in seen_keys:
                shown = ", ".join(f"{name}: {_render(item.get(name))}" for name in keys)
                causes.append(
                    Cause(
                        "FieldValueDuplicate",
                        f"{path}[{index}]",
                        f"Duplicate value: map[string]interface {{}}{{{shown}}}",
                    )
                )
            seen_keys.append(key)


# -- the CRD's own schema -----------------------------------------------------------------------------


def structural_errors(schema: Any, path: str) -> list[Cause]:
    """Why a CRD version's ``openAPIV3Schema`` is not structural (``path`` names it in the CRD)."""
    if not isinstance(schema, dict):
        return [Cause("FieldValueRequired", path, "Required value: schemas are required")]
    causes: list[Cause] = []
    if schema.get("type") != "object" and not _preserves(schema):
        causes.append(
            Cause(
                "FieldValueInvalid",
                f"{path}.type",
                f'Invalid value: "{schema.get("type", "")}": must be object at the root',
            )
        )
    _structural(schema, path, causes, top=True)
    return causes


def _structural(schema: Schema, path: str, causes: list[Cause], top: bool = False) -> None:
    typed = schema.get("type")
    if not top and not typed and not _preserves(schema) and not schema.get("x-kubernetes-int-or-string"):
        causes.append(
            Cause(
                "FieldValueRequired",
                f"{path}.type",
                "Required value: must not be empty for specified object fields",
            )
        )
    if typed is not None and typed not in _TYPES:
        causes.append(
            Cause(
                "FieldValueNotSupported",
                f"{path}.type",
                f'Unsupported value: "{typed}": supported values: '
                '"array", "boolean", "integer", "number", "object", "string"',
            )
        )
    if schema.get("properties") and isinstance(schema.get("additionalProperties"), dict):
        causes.append(
            Cause(
                "FieldValueForbidden",
                f"{path}.additionalProperties",
                "Forbidden: additionalProperties and properties are mutual exclusive",
            )
        )
    for name, sub in (schema.get("properties") or {}).items():
        if isinstance(sub, dict):
            _structural(sub, f"{path}.properties[{name}]", causes)
    for key in ("items", "additionalProperties"):
        sub = schema.get(key)
        if isinstance(sub, dict):
            _structural(sub, f"{path}.{key}", causes)
    if typed == "array" and not isinstance(schema.get("items"), dict):
        causes.append(Cause("FieldValueRequired", f"{path}.items", "Required value: must be specified"))

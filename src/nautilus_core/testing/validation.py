"""Validation of what clients write through the API emulator, answered the way the API server does.

Owns the two checks a real server runs on a written object, in its order, and their answers:

* decoding (``go_types.decode``): a value of the wrong JSON type where a built-in kind's Go struct expects
  another (``metadata: "x"``, ``metadata.name: 123``, ConfigMap data that are not strings,
  ``replicas: "3"``, a malformed quantity) is a 400 ``BadRequest`` whose message names the Go field,
  as ``encoding/json`` phrases it; the body is never stored.
* validation (``kind_rules.validate``): the value rules of the kinds the emulator serves (names by their
  DNS rule, label and annotation keys and values, the required parts of workloads, pods and services,
  ``replicas >= 0``, the selector matching the template's labels, no new finalizer on an object being
  deleted, immutable selectors) give a 422 ``Invalid`` Status with one ``details.causes`` entry per
  field error (``field.Error`` of k8s.io/apimachinery: ``<field>: <Type>: <value>: <detail>``).

This module holds the field errors, the 422 answer and the metadata rules; the type schema and the
400 answer are in ``go_types.py``, the per-kind rules and the entry point :func:`kind_rules.validate` in
``kind_rules.py``. Called through those by ``object_rules.py`` on every create and update that does not
come from test code (trusted writes only get the metadata type check, so a test cannot corrupt the
store either).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import orjson

from nautilus_core.testing import status as st
from nautilus_core.testing.resources import ResourceType

Obj = dict[str, Any]

REQUIRED = "FieldValueRequired"
INVALID = "FieldValueInvalid"
NOT_SUPPORTED = "FieldValueNotSupported"
DUPLICATE = "FieldValueDuplicate"
FORBIDDEN = "FieldValueForbidden"
TOO_LONG = "FieldValueTooLong"
_TYPE_TEXT = {
    REQUIRED: "Required value",
    INVALID: "Invalid value",
    NOT_SUPPORTED: "Unsupported value",
    DUPLICATE: "Duplicate value",
    FORBIDDEN: "Forbidden",
    TOO_LONG: "Too long",
}
_NO_VALUE = (REQUIRED, FORBIDDEN, TOO_LONG)
_OMIT = object()

_LABEL = "[a-z0-9]([-a-z0-9]*[a-z0-9])?"
_DNS1123_LABEL_RE = re.compile(f"^{_LABEL}$")
_DNS1123_SUBDOMAIN_RE = re.compile(rf"^{_LABEL}(\.{_LABEL})*$")
_DNS1035_LABEL_RE = re.compile("^[a-z]([-a-z0-9]*[a-z0-9])?$")
_QUALIFIED_NAME_RE = re.compile("^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$")
_LABEL_VALUE_RE = re.compile("^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$")

DNS1123_SUBDOMAIN_MSG = (
    "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', "
    "and must start and end with an alphanumeric character (e.g. 'example.com', regex used for "
    r"validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')"
)
DNS1123_LABEL_MSG = (
    "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must "
    "start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for "
    "validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')"
)
DNS1035_LABEL_MSG = (
    "a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an "
    "alphabetic character, and end with an alphanumeric character (e.g. 'my-name',  or 'abc-123', "
    "regex used for validation is '[a-z]([-a-z0-9]*[a-z0-9])?')"
)
QUALIFIED_NAME_MSG = (
    "name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with "
    "an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for "
    "validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')"
)
LABEL_VALUE_MSG = (
    "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', "
    "and must start and end with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  or "
    "'12345', regex used for validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')"
)
ANNOTATIONS_MAX_BYTES = 256 * 1024


@dataclass(frozen=True, slots=True)
class FieldError:
    """One ``field.Error``: its type (a ``CauseType``), the field path, the bad value and a detail."""

    type: str
    field: str
    value: Any = _OMIT
    detail: str = ""

    def body(self) -> str:
        text = _TYPE_TEXT[self.type]
        if self.type not in _NO_VALUE and self.value is not _OMIT:
            text = f"{text}: {_render(self.value)}"
        return f"{text}: {self.detail}" if self.detail else text

    def __str__(self) -> str:
        return f"{self.field}: {self.body()}"


def _render(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return str(value)
    if isinstance(value, str):
        return orjson.dumps(value).decode()
    try:
        return orjson.dumps(value).decode()
    except TypeError:
        return repr(value)


def qualified_kind(kind: str, group: str) -> str:
    return f"{kind}.{group}" if group else kind


def invalid(kind: str, group: str, name: str, errors: list[FieldError]) -> st.ApiError:
    """The 422 ``Invalid`` Status of ``errors`` (``errors.NewInvalid``)."""
    listed = str(errors[0]) if len(errors) == 1 else "[" + ", ".join(str(e) for e in errors) + "]"
    details: dict[str, Any] = {"name": name, "kind": kind}
    if group:
        details["group"] = group
    details["causes"] = [{"reason": e.type, "message": e.body(), "field": e.field} for e in errors]
    return st.ApiError(
        422, "Invalid", f'{qualified_kind(kind, group)} "{name}" is invalid: {listed}', details
    )


# -- names, labels, annotations ----------------------------------------------------------------------


def dns1123_subdomain(value: str) -> list[str]:
    problems = []
    if len(value) > 253:
        problems.append("must be no more than 253 characters")
    if not _DNS1123_SUBDOMAIN_RE.match(value):
        problems.append(DNS1123_SUBDOMAIN_MSG)
    return problems


def dns1123_label(value: str) -> list[str]:
    problems = []
    if len(value) > 63:
        problems.append("must be no more than 63 characters")
    if not _DNS1123_LABEL_RE.match(value):
        problems.append(DNS1123_LABEL_MSG)
    return problems


def dns1035_label(value: str) -> list[str]:
    problems = []
    if len(value) > 63:
        problems.append("must be no more than 63 characters")
    if not _DNS1035_LABEL_RE.match(value):
        problems.append(DNS1035_LABEL_MSG)
    return problems


def path_segment(value: str) -> list[str]:
    """RBAC and a few other kinds only forbid what cannot be a URL path segment."""
    if value in (".", ".."):
        return [f"may not be '{value}'"]
    return [f"may not contain '{bad}'" for bad in ("/", "%") if bad in value]


def qualified_name(value: str) -> list[str]:
    """A label or annotation key: an optional DNS-subdomain prefix and '/', then a name of <= 63."""
    prefix, slash, name = value.rpartition("/")
    problems = []
    if slash and not prefix:
        problems.append("prefix part must be non-empty")
    elif slash:
        problems.extend(f"prefix part {p}" for p in dns1123_subdomain(prefix))
    if not name:
        problems.append("name part must be non-empty")
    else:
        if len(name) > 63:
            problems.append("name part must be no more than 63 characters")
        if not _QUALIFIED_NAME_RE.match(name):
            problems.append(QUALIFIED_NAME_MSG)
    return problems


def label_value(value: str) -> list[str]:
    problems = []
    if len(value) > 63:
        problems.append("must be no more than 63 characters")
    if not _LABEL_VALUE_RE.match(value):
        problems.append(LABEL_VALUE_MSG)
    return problems


def check_labels(labels: Any, path: str) -> list[FieldError]:
    errors: list[FieldError] = []
    for key, value in (labels or {}).items():
        errors.extend(FieldError(INVALID, path, key, p) for p in qualified_name(key))
        errors.extend(FieldError(INVALID, path, value, p) for p in label_value(value))
    return errors


def check_annotations(annotations: Any, path: str) -> list[FieldError]:
    errors: list[FieldError] = []
    size = 0
    for key, value in (annotations or {}).items():
        errors.extend(FieldError(INVALID, path, key, p) for p in qualified_name(key.lower()))
        size += len(key.encode()) + len(value.encode())
    if size > ANNOTATIONS_MAX_BYTES:
        errors.append(
            FieldError(TOO_LONG, path, detail=f"may not be more than {ANNOTATIONS_MAX_BYTES} bytes")
        )
    return errors


def name_rule(rtype: ResourceType) -> Any:
    """How the real server checks ``metadata.name`` of this kind."""
    if not rtype.group and rtype.kind == "Namespace":
        return dns1123_label
    if not rtype.group and rtype.kind == "Service":
        return dns1035_label
    if rtype.group == "rbac.authorization.k8s.io" or rtype.kind == "HorizontalPodAutoscaler":
        return path_segment
    return dns1123_subdomain


def check_metadata(rtype: ResourceType, meta: Obj, creating: bool) -> list[FieldError]:
    errors: list[FieldError] = []
    name = meta.get("name") or ""
    if name:
        errors.extend(FieldError(INVALID, "metadata.name", name, p) for p in name_rule(rtype)(name))
    elif creating:
        errors.append(FieldError(REQUIRED, "metadata.name", detail="name or generateName is required"))
    errors.extend(check_labels(meta.get("labels"), "metadata.labels"))
    errors.extend(check_annotations(meta.get("annotations"), "metadata.annotations"))
    for index, finalizer in enumerate(meta.get("finalizers") or []):
        problems = qualified_name(finalizer)
        errors.extend(FieldError(INVALID, f"metadata.finalizers[{index}]", finalizer, p) for p in problems)
    for index, ref in enumerate(meta.get("ownerReferences") or []):
        where = f"metadata.ownerReferences[{index}]"
        for field in ("apiVersion", "kind", "name", "uid"):
            if not ref.get(field):
                errors.append(FieldError(REQUIRED, f"{where}.{field}", detail=f"{field} must not be empty"))
    return errors


def check_update_metadata(old: Obj, new: Obj) -> list[FieldError]:
    """Rules that compare the stored object with the written one."""
    errors: list[FieldError] = []
    old_meta, new_meta = old["metadata"], new["metadata"]
    if old_meta.get("deletionTimestamp"):
        before = set(old_meta.get("finalizers") or [])
        added = sorted(f for f in new_meta.get("finalizers") or [] if f not in before)
        if added:
            shown = "[]string{" + ", ".join(orjson.dumps(f).decode() for f in added) + "}"
            errors.append(
                FieldError(
                    FORBIDDEN,
                    "metadata.finalizers",
                    detail="no new finalizers can be added if the object is being deleted, "
                    f"found new finalizers {shown}",
                )
            )
    return errors

"""ODA ``Component`` and ``ExposedAPI`` custom resources (raw dicts) -> registry entries.

Owns :func:`component_entry`: one Component (v1beta3, v1beta4 or v1 shape; the shape is read from
the object itself, since an API server without a conversion webhook serves every version with the
stored shape) plus the ExposedAPIs that belong to it -> a :class:`~nautilus_oda.registry.ComponentEntry`.

- labels: the Component's metadata labels with the ``oda.tmforum.org/`` prefix stripped, then
  ``version``, ``functionalBlock``, ``publicationDate``, ``status``, ``owners`` and ``maintainers``
  (v1: from ``spec.componentMetadata``); the registry's ownership label is never taken from a CR.
- APIs: every ``exposedAPIs`` entry of ``coreFunction`` / ``managementFunction`` / ``securityFunction``
  (plus ExposedAPI objects of the component no spec entry names). URL: the ExposedAPI's
  ``status.apiStatus.url``, else the component's ``status.coreAPIs`` / ``managementAPIs`` /
  ``securityAPIs`` entry. Status ``ready``/``pending``: ExposedAPI ``status.implementation.ready``, else
  the status entry's ``ready``, else the component's ``summary/status`` (``Complete``: ready).
- Values are passed on as they are: the registry client truncates what is longer than its registry
  holds (``registry.limits``). Label keys longer than the seed registry's 100 characters (possible
  only with a long DNS prefix) are left out rather than failing the whole component.

A malformed object raises :class:`~nautilus_core.errors.InvalidObjectError` naming the object and the
field (``Component shop/prodcat: field 'spec.coreFunction' is missing``). Called by the
``oda-components`` reconciler and the ``nautilus oda`` commands; does no I/O.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from nautilus_core.errors import InvalidObjectError
from nautilus_oda.registry.base import OWNER_LABEL, ApiEntry, ComponentEntry

LABEL_PREFIX = "oda.tmforum.org/"
COMPONENT_LABEL = "oda.tmforum.org/componentName"
SEGMENTS = ("coreFunction", "managementFunction", "securityFunction")
STATUS_LISTS = {"coreFunction": "coreAPIs", "managementFunction": "managementAPIs",
                "securityFunction": "securityAPIs"}
SUMMARY_KEY = "summary/status"
MAX_KEY, MAX_VALUE = 100, 200  # the seed registry's Label limits
MAX_APIS = 500


def object_name(obj: Mapping[str, Any], kind: str = "Component") -> str:
    """``Component <namespace>/<name>`` for messages (tolerates a broken metadata)."""
    meta = obj.get("metadata") if isinstance(obj, Mapping) else None
    meta = meta if isinstance(meta, Mapping) else {}
    return f"{kind} {meta.get('namespace') or '?'}/{meta.get('name') or '?'}"


def _sub(parent: Mapping[str, Any], key: str) -> Mapping[str, Any]:
    """``parent[key]`` when it is an object, else an empty one (for fields the collector only peeks at)."""
    value = parent.get(key)
    return value if isinstance(value, Mapping) else {}


def registry_name(namespace: str, name: str, all_namespaces: bool) -> str:
    """A component's name in the registry: ``name``, or ``namespace/name`` when every namespace is watched."""
    return f"{namespace}/{name}" if all_namespaces else name


class _Reader:
    """Typed access into one raw object; every failure names the object and the field path."""

    def __init__(self, what: str) -> None:
        self.what = what

    def fail(self, field: str, problem: str) -> InvalidObjectError:
        return InvalidObjectError(self.what, field, problem)

    def mapping(self, parent: Mapping[str, Any], key: str, path: str, *, required: bool = False) -> Mapping[str, Any]:
        value = parent.get(key)
        if value is None:
            if required:
                raise self.fail(path, "is missing")
            return {}
        if not isinstance(value, Mapping):
            raise self.fail(path, f"must be an object, not {type(value).__name__}")
        return value

    def sequence(self, parent: Mapping[str, Any], key: str, path: str) -> Sequence[Any]:
        value = parent.get(key)
        if value is None:
            return ()
        if not isinstance(value, list):
            raise self.fail(path, f"must be a list, not {type(value).__name__}")
        return value

    def text(self, parent: Mapping[str, Any], key: str, path: str, *, required: bool = False) -> str | None:
        value = parent.get(key)
        if value is None or value == "":
            if required:
                raise self.fail(path, "is missing")
            return None
        if isinstance(value, bool) or not isinstance(value, str | int | float):
            raise self.fail(path, f"must be a string, not {type(value).__name__}")
        return str(value)


def _people(reader: _Reader, meta: Mapping[str, Any], key: str, path: str) -> str | None:
    """``owners`` / ``maintainers`` ([{name, email}]) -> ``"Ann <ann@x.org>, Bob"``."""
    out = []
    for i, person in enumerate(reader.sequence(meta, key, path)):
        if isinstance(person, str):
            out.append(person)
            continue
        if not isinstance(person, Mapping):
            raise reader.fail(f"{path}[{i}]", f"must be an object, not {type(person).__name__}")
        name = reader.text(person, "name", f"{path}[{i}].name")
        email = reader.text(person, "email", f"{path}[{i}].email")
        out.append(f"{name} <{email}>" if name and email else (name or email or ""))
    text = ", ".join(p for p in out if p)
    return text or None


def _specification(reader: _Reader, api: Mapping[str, Any], path: str) -> tuple[str, ...]:
    """v1beta3: a list of URL strings; v1beta4/v1: a list of {url, version}, or one such object."""
    raw = api.get("specification")
    if raw is None or raw == "":
        return ()
    items = raw if isinstance(raw, list) else [raw]
    urls = []
    for i, item in enumerate(items):
        where = f"{path}.specification" + (f"[{i}]" if isinstance(raw, list) else "")
        if isinstance(item, str):
            url = item
        elif isinstance(item, Mapping):
            url = reader.text(item, "url", f"{where}.url", required=True) or ""
        else:
            raise reader.fail(where, f"must be a URL or an object with url, not {type(item).__name__}")
        if url.strip():
            urls.append(url.strip())
    return tuple(urls)


def _port(reader: _Reader, api: Mapping[str, Any], path: str) -> int | None:
    value = api.get("port")
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        if isinstance(value, str) and value.isdigit():
            value = int(value)
        else:
            raise reader.fail(f"{path}.port", f"must be an integer port, not {value!r}")
    if not 1 <= value <= 65535:
        raise reader.fail(f"{path}.port", f"is {value}, outside 1..65535")
    return value


def _ready(value: Any) -> bool | None:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.lower() in ("true", "false"):
        return value.lower() == "true"
    return None


def _status_entries(status: Mapping[str, Any], segment: str) -> list[Mapping[str, Any]]:
    raw = status.get(STATUS_LISTS[segment])
    return [e for e in raw if isinstance(e, Mapping)] if isinstance(raw, list) else []


def _exposed_by_api(component: str, exposed: Iterable[Mapping[str, Any]]) -> dict[str, Mapping[str, Any]]:
    """ExposedAPI objects by the API name they expose (``spec.name``, else ``<component>-`` stripped)."""
    found: dict[str, Mapping[str, Any]] = {}
    for obj in exposed:
        if not isinstance(obj, Mapping):
            continue
        spec = _sub(obj, "spec")
        meta = _sub(obj, "metadata")
        name = spec.get("name") if isinstance(spec.get("name"), str) and spec.get("name") else None
        if name is None:
            own = str(meta.get("name") or "")
            name = own.removeprefix(f"{component}-") if own else None
        if name:
            found[name] = obj
    return found


def belongs_to(exposed: Mapping[str, Any], component: str) -> bool:
    """An ExposedAPI belongs to ``component`` by its ``oda.tmforum.org/componentName`` label (else its name)."""
    meta = _sub(exposed, "metadata")
    labels = _sub(meta, "labels")
    parent = labels.get(COMPONENT_LABEL)
    if isinstance(parent, str) and parent:
        return parent == component
    return str(meta.get("name") or "").startswith(f"{component}-")


def component_of(exposed: Mapping[str, Any]) -> str | None:
    """The name of the Component an ExposedAPI belongs to (its label), or None."""
    meta = _sub(exposed, "metadata")
    labels = _sub(meta, "labels")
    parent = labels.get(COMPONENT_LABEL)
    return parent if isinstance(parent, str) and parent else None


def _labels(reader: _Reader, obj: Mapping[str, Any], spec: Mapping[str, Any]) -> dict[str, str]:
    meta = reader.mapping(obj, "metadata", "metadata")
    labels: dict[str, str] = {}
    for key, value in reader.mapping(meta, "labels", "metadata.labels").items():
        if not isinstance(value, str):
            raise reader.fail(f"metadata.labels.{key}", "must be a string")
        short = str(key).removeprefix(LABEL_PREFIX)
        if short and short != OWNER_LABEL and len(short) <= MAX_KEY:
            labels[short] = value
    # v1 keeps the descriptive fields under componentMetadata; earlier versions directly in spec
    if "componentMetadata" in spec:
        info, base = reader.mapping(spec, "componentMetadata", "spec.componentMetadata"), "spec.componentMetadata"
    else:
        info, base = spec, "spec"
    for field in ("version", "functionalBlock", "publicationDate", "status", "description", "id"):
        value = reader.text(info, field, f"{base}.{field}")
        if value is not None and field != "description" and field != "id":
            labels[field] = value
    for field in ("owners", "maintainers"):
        value = _people(reader, info, field, f"{base}.{field}")
        if value is not None:
            labels[field] = value
    return labels


def component_entry(obj: Mapping[str, Any], exposed: Iterable[Mapping[str, Any]] = (), *,
                    all_namespaces: bool = False) -> ComponentEntry:
    """The registry entry of Component ``obj`` with its ``exposed`` ExposedAPI objects (any order; the
    ones of other components are ignored).

    :raises InvalidObjectError: a malformed Component, naming the object and the field.
    """
    if not isinstance(obj, Mapping):
        raise InvalidObjectError("Component ?/?", "", f"must be an object, not {type(obj).__name__}")
    what = object_name(obj)
    reader = _Reader(what)
    meta = reader.mapping(obj, "metadata", "metadata", required=True)
    name = reader.text(meta, "name", "metadata.name", required=True) or ""
    namespace = reader.text(meta, "namespace", "metadata.namespace") or ""
    spec = reader.mapping(obj, "spec", "spec", required=True)
    status_raw = obj.get("status")
    status: Mapping[str, Any] = status_raw if isinstance(status_raw, Mapping) else {}
    summary = status.get(SUMMARY_KEY)
    summary_ready = None
    if isinstance(summary, Mapping) and isinstance(summary.get("deployment_status"), str):
        summary_ready = summary["deployment_status"] == "Complete"
    objects = [e for e in exposed if isinstance(e, Mapping) and belongs_to(e, name)]
    by_api = _exposed_by_api(name, objects)
    reader.mapping(spec, "coreFunction", "spec.coreFunction", required=True)
    apis: dict[str, ApiEntry] = {}
    for segment in SEGMENTS:
        block = reader.mapping(spec, segment, f"spec.{segment}")
        entries = _status_entries(status, segment)
        for i, api in enumerate(reader.sequence(block, "exposedAPIs", f"spec.{segment}.exposedAPIs")):
            path = f"spec.{segment}.exposedAPIs[{i}]"
            if not isinstance(api, Mapping):
                raise reader.fail(path, f"must be an object, not {type(api).__name__}")
            api_name = reader.text(api, "name", f"{path}.name", required=True) or ""
            if len(api_name) > MAX_VALUE:
                raise reader.fail(f"{path}.name", f"is {len(api_name)} characters, longer than {MAX_VALUE}")
            if api_name in apis:  # the registry keys a component's APIs by name
                raise reader.fail(f"{path}.name", f"{api_name!r} is listed twice (in {apis[api_name].segment} "
                                                  f"and {segment})")
            apis[api_name] = _api(reader, api, path, segment, api_name, name, by_api.pop(api_name, None),
                                             entries, summary_ready)
    for api_name, cr in sorted(by_api.items()):  # ExposedAPIs the spec does not list (yet)
        spec_of = _sub(cr, "spec")
        raw_segment = spec_of.get("segment")
        segment = raw_segment if isinstance(raw_segment, str) and raw_segment in SEGMENTS else "coreFunction"
        if api_name in apis or len(api_name) > MAX_VALUE:
            continue
        sub = _Reader(object_name(cr, "ExposedAPI"))
        apis[api_name] = _api(sub, spec_of, "spec", segment, api_name, name, cr,
                                         _status_entries(status, segment), summary_ready)
    if len(apis) > MAX_APIS:
        raise reader.fail("spec", f"lists {len(apis)} exposed APIs, more than {MAX_APIS}")
    return ComponentEntry(registry_name(namespace, name, all_namespaces), _labels(reader, obj, spec),
                          tuple(apis.values()))


def _api(reader: _Reader, api: Mapping[str, Any], path: str, segment: str, api_name: str, component: str,
         cr: Mapping[str, Any] | None, entries: list[Mapping[str, Any]], summary_ready: bool | None) -> ApiEntry:
    _port(reader, api, path)  # validated (out of range: malformed), not sent
    spec_urls = _specification(reader, api, path)
    labels: dict[str, str] = {}
    for field in ("implementation", "path"):  # checked, not sent: cluster-internal, unique per API (a
        reader.text(api, field, f"{path}.{field}")  # registry label row each), and the URL says where it is
    developer_ui = reader.text(api, "developerUI", f"{path}.developerUI")
    if developer_ui is not None:
        labels["developerUI"] = developer_ui
    api_type = reader.text(api, "apiType", f"{path}.apiType") or "openapi"
    url: str | None = None
    ready: bool | None = None
    if cr is not None:
        cr_status = _sub(cr, "status")
        api_status = _sub(cr_status, "apiStatus")
        if isinstance(api_status.get("url"), str) and api_status["url"]:
            url = api_status["url"]
        impl = _sub(cr_status, "implementation")
        ready = _ready(impl.get("ready"))
        if not spec_urls:
            cr_spec = _sub(cr, "spec")
            try:
                spec_urls = _specification(_Reader(object_name(cr, "ExposedAPI")), cr_spec, "spec")
            except InvalidObjectError:
                spec_urls = ()
    entry = next((e for e in entries if e.get("name") in (api_name, f"{component}-{api_name}")), None)
    if entry is not None:
        if url is None and isinstance(entry.get("url"), str) and entry["url"]:
            url = entry["url"]
        if ready is None:
            ready = _ready(entry.get("ready"))
    if ready is None:
        ready = summary_ready
    return ApiEntry(name=api_name, url=url, specification=spec_urls, status="ready" if ready else "pending",
                    api_type=api_type, segment=segment, labels=labels)

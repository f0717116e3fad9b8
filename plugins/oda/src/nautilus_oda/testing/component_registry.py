"""``FakeComponentRegistry``: the seed Component Registry REST API over real HTTP, as the Gen-1 service answers.

Owns the fake the registry client tests, the collector's tests and ``bench/oda`` run against (via the
``component_registry`` fixture or directly). Faithful to the service's observed behaviour (see
REFERENCE.md, "ODA Canvas"), quirks included, so the client is proven against them:

- JSON bodies only: a body that is not a JSON object is FastAPI's 422 list (``{"detail": [{type, loc, msg,
  input}]}``), like every validation error (a label key over 100 or a value over 200 characters, a missing
  field, a wrong type, a status other than pending/ready, skip < 0, limit outside 1..1000).
- A collection path without its trailing slash (``/labels``) answers 307 to ``/labels/``; an item path
  with one answers 307 to the path without it.
- Integer ids per table, the next being the highest + 1, so a deleted highest id is reused.
- POST answers show ``labels: []`` even when ``label_ids`` were given (a GET shows them); PUT is a
  partial update (``label_ids``, when given, replace the labels) that checks no uniqueness.
- Lists are bare arrays without a total, ordered by id, paged with ``skip``/``limit`` (default 100).
  ``GET /components/?registry_name=`` filters; ``GET /exposed-apis/`` filters by registry and component
  only when both are given, else by ``status`` when given, else answers everything.
- Duplicate label ``key=value``, registry name or component-in-registry: 400 ``{"detail": ...}``; an
  unknown label id: 400; an unknown registry/component on create or an unknown id: 404.
  Duplicate exposed-API names are accepted.
- DELETE answers 204; deleting a component leaves its exposed APIs behind; deleting a label in use, or a
  registry that has components, is a plain-text 500.
- ``PATCH /exposed-apis/{id}/status`` with ``{"status": ...}`` (none: 400 "Status is required").
- ``/health`` and ``/stats``.
Plus what the base :class:`~nautilus_oda.testing.server.LocalServer` adds: an optional API key (401),
faults, request counts.
"""

from __future__ import annotations

import re
from typing import Any

import orjson

from nautilus_oda.testing.server import LocalServer, Request, Response

COLLECTIONS = ("labels", "registries", "components", "exposed-apis")
_ITEM = re.compile(r"^/(labels|registries|components|exposed-apis)/([^/]+)(/status)?/?$")
REGISTRY_TYPES = ("upstream", "downstream", "self")
API_STATUSES = ("pending", "ready")


class _Invalid(Exception):
    def __init__(self, errors: list[dict[str, Any]]) -> None:
        self.errors = errors


def _err(kind: str, loc: list[Any], msg: str, value: Any, ctx: dict[str, Any] | None = None) -> dict[str, Any]:
    out = {"type": kind, "loc": loc, "msg": msg, "input": value}
    if ctx:
        out["ctx"] = ctx
    return out


def _detail(status: int, text: str) -> Response:
    return Response(status, {"detail": text})


class FakeComponentRegistry(LocalServer):
    """A seed Component Registry on 127.0.0.1 (see the module docstring). Thread-safe."""

    health_paths = frozenset({"/health"})

    def __init__(self, *, api_key: str | None = None, port: int = 0) -> None:
        super().__init__(api_key=api_key, port=port)
        self.tables: dict[str, dict[int, dict[str, Any]]] = {c: {} for c in COLLECTIONS}
        # label links (the service's association tables): collection -> row id -> label ids
        self.links: dict[str, dict[int, list[int]]] = {c: {} for c in ("registries", "components", "exposed-apis")}

    # -- direct access for tests (what a person would do by hand, or what a test asserts) ------------------

    def insert(self, collection: str, row: dict[str, Any], labels: dict[str, str] | None = None) -> dict[str, Any]:
        """Store ``row`` in ``collection`` without the API (a hand-made entry); ``labels`` are created as needed."""
        with self._lock:
            rid = self._next_id(collection)
            stored = {**row, "id": rid}
            self.tables[collection][rid] = stored
            if collection != "labels":
                self.links[collection][rid] = [self._label(k, v) for k, v in (labels or {}).items()]
            return self._show(collection, stored)

    def rows(self, collection: str) -> list[dict[str, Any]]:
        """Every row of ``collection`` as a GET shows it (labels resolved), by id."""
        with self._lock:
            return [self._show(collection, r) for _, r in sorted(self.tables[collection].items())]

    def component(self, name: str, registry: str | None = None) -> dict[str, Any] | None:
        return next((c for c in self.rows("components") if c["name"] == name
                     and (registry is None or c["registry_name"] == registry)), None)

    def apis_of(self, component: str, registry: str | None = None) -> list[dict[str, Any]]:
        return [a for a in self.rows("exposed-apis") if a["component_name"] == component
                and (registry is None or a["registry_name"] == registry)]

    @staticmethod
    def labels_of(row: dict[str, Any]) -> dict[str, str]:
        return {lb["key"]: lb["value"] for lb in row.get("labels", [])}

    # -- storage helpers ---------------------------------------------------------------------------------

    def _next_id(self, collection: str) -> int:
        table = self.tables[collection]
        return max(table) + 1 if table else 1

    def _label(self, key: str, value: str) -> int:
        for rid, row in self.tables["labels"].items():
            if row["key"] == key and row["value"] == value:
                return rid
        rid = self._next_id("labels")
        self.tables["labels"][rid] = {"id": rid, "key": key, "value": value}
        return rid

    def _show(self, collection: str, row: dict[str, Any], *, with_labels: bool = True) -> dict[str, Any]:
        if collection == "labels":
            return dict(row)
        ids = self.links[collection].get(row["id"], []) if with_labels else []
        return {**row, "labels": [dict(self.tables["labels"][i]) for i in ids if i in self.tables["labels"]]}

    # -- HTTP ----------------------------------------------------------------------------------------------

    def route(self, request: Request) -> Response:
        path = request.path
        if path == "/health" and request.method == "GET":
            return Response(200, {"status": "healthy", "service": "ODA Canvas Microservice"})
        if path == "/stats" and request.method == "GET":
            return Response(200, {"oda_canvas": {f"total_{k.replace('-', '_')}": len(self.tables[k])
                                                 for k in COLLECTIONS}})
        if path.lstrip("/") in COLLECTIONS:  # FastAPI's redirect_slashes
            return self._redirect(request, path + "/")
        try:
            for collection in COLLECTIONS:
                if path == f"/{collection}/":
                    if request.method == "GET":
                        return self._list(collection, request)
                    if request.method == "POST":
                        return self._create(collection, self._body(request))
                    return _detail(405, "Method Not Allowed")
            match = _ITEM.match(path)
            if match is None:
                return _detail(404, "Not Found")
            if path.endswith("/"):
                return self._redirect(request, path.rstrip("/"))
            collection, raw_id, status = match.groups()
            param = {"labels": "label_id", "registries": "registry_id", "components": "component_id",
                     "exposed-apis": "api_id"}[collection]
            if not raw_id.isdigit():
                raise _Invalid([_err("int_parsing", ["path", param],
                                     "Input should be a valid integer, unable to parse string as an integer", raw_id)])
            rid = int(raw_id)
            if status:
                if collection != "exposed-apis" or request.method != "PATCH":
                    return _detail(405 if collection == "exposed-apis" else 404,
                                   "Method Not Allowed" if collection == "exposed-apis" else "Not Found")
                return self._patch_status(rid, self._body(request))
            if request.method == "GET":
                return self._get(collection, rid)
            if request.method == "PUT":
                return self._update(collection, rid, self._body(request))
            if request.method == "DELETE":
                return self._delete(collection, rid)
            return _detail(405, "Method Not Allowed")
        except _Invalid as exc:
            return Response(422, {"detail": exc.errors})

    def _redirect(self, request: Request, target: str) -> Response:
        query = "&".join(f"{k}={v}" for k, values in request.query.items() for v in values)
        location = f"{self.url}{target}" + (f"?{query}" if query else "")
        return Response(307, headers={"Location": location})

    @staticmethod
    def _body(request: Request) -> dict[str, Any]:
        if not request.body:
            raise _Invalid([_err("missing", ["body"], "Field required", None)])
        content_type = request.headers.get("content-type", "")
        doc: Any = request.body.decode("utf-8", "replace")
        if "json" in content_type:  # FastAPI parses JSON only when the request says it is JSON
            try:
                doc = orjson.loads(request.body)
            except orjson.JSONDecodeError:
                raise _Invalid([_err("json_invalid", ["body", 0], "JSON decode error", {})]) from None
        if not isinstance(doc, dict):
            raise _Invalid([_err("model_attributes_type", ["body"],
                                 "Input should be a valid dictionary or object to extract fields from",
                                 request.body.decode("utf-8", "replace"))])
        return doc

    # -- validation (the service's pydantic schemas) ---------------------------------------------------------

    @staticmethod
    def _validate(body: dict[str, Any], schema: dict[str, tuple[Any, ...]], *, partial: bool) -> dict[str, Any]:
        """``schema``: field -> (kind, required, default, max_length / choices)."""
        errors, out = [], {}
        for name, (kind, required, default, extra) in schema.items():
            if name not in body or (partial and body[name] is None):
                if required and not partial:
                    errors.append(_err("missing", ["body", name], "Field required", body))
                elif not partial:
                    out[name] = default
                continue
            value = body[name]
            if kind == "str":
                if not isinstance(value, str):
                    errors.append(_err("string_type", ["body", name], "Input should be a valid string", value))
                    continue
                if isinstance(extra, int) and len(value) > extra:
                    errors.append(_err("string_too_long", ["body", name],
                                       f"String should have at most {extra} characters", value, {"max_length": extra}))
                    continue
                if isinstance(extra, tuple) and value not in extra:
                    options = " or ".join(repr(o) for o in extra)
                    errors.append(_err("enum", ["body", name], f"Input should be {options}", value,
                                       {"expected": options}))
                    continue
            elif kind == "ids":
                if not isinstance(value, list):
                    errors.append(_err("list_type", ["body", name], "Input should be a valid list", value))
                    continue
                bad = [i for i, v in enumerate(value) if isinstance(v, bool) or not isinstance(v, int)]
                if bad:
                    errors.append(_err("int_type", ["body", name, bad[0]], "Input should be a valid integer",
                                       value[bad[0]]))
                    continue
            out[name] = value
        if errors:
            raise _Invalid(errors)
        return out

    SCHEMAS: dict[str, dict[str, tuple[Any, ...]]] = {
        "labels": {"key": ("str", True, None, 100), "value": ("str", True, None, 200)},
        "registries": {"name": ("str", True, None, None), "type": ("str", True, None, REGISTRY_TYPES),
                       "url": ("str", True, None, None), "label_ids": ("ids", False, [], None)},
        "components": {"registry_name": ("str", True, None, None), "name": ("str", True, None, None),
                       "label_ids": ("ids", False, [], None)},
        "exposed-apis": {"registry_name": ("str", True, None, None), "component_name": ("str", True, None, None),
                         "name": ("str", True, None, None), "url": ("str", True, None, None),
                         "oas_specification": ("str", True, None, None),
                         "status": ("str", False, "pending", API_STATUSES), "label_ids": ("ids", False, [], None)},
    }

    def _query_int(self, request: Request, name: str, default: int, low: int, high: int | None) -> int:
        raw = request.param(name)
        if raw is None:
            return default
        try:
            value = int(raw)
        except ValueError:
            raise _Invalid([_err("int_parsing", ["query", name], "Input should be a valid integer, unable to parse "
                                 "string as an integer", raw)]) from None
        if value < low:
            raise _Invalid([_err("greater_than_equal", ["query", name], f"Input should be greater than or equal to "
                                 f"{low}", raw, {"ge": low})])
        if high is not None and value > high:
            raise _Invalid([_err("less_than_equal", ["query", name], f"Input should be less than or equal to {high}",
                                 raw, {"le": high})])
        return value

    # -- handlers ----------------------------------------------------------------------------------------------

    def _list(self, collection: str, request: Request) -> Response:
        skip = self._query_int(request, "skip", 0, 0, None)
        limit = self._query_int(request, "limit", 100, 1, 1000)
        rows = [r for _, r in sorted(self.tables[collection].items())]
        if collection == "components" and request.param("registry_name"):
            rows = [r for r in rows if r["registry_name"] == request.param("registry_name")]
        if collection == "exposed-apis":
            registry, component, status = (request.param("registry_name"), request.param("component_name"),
                                           request.param("status"))
            if registry and component:
                rows = [r for r in rows if r["registry_name"] == registry and r["component_name"] == component]
            elif status:
                rows = [r for r in rows if r["status"] == status]
        return Response(200, [self._show(collection, r) for r in rows[skip:skip + limit]])

    def _get(self, collection: str, rid: int) -> Response:
        row = self.tables[collection].get(rid)
        if row is None:
            return _detail(404, f"{_singular(collection)} not found")
        return Response(200, self._show(collection, row))

    def _check_labels(self, ids: list[int]) -> Response | None:
        for label_id in ids:
            if label_id not in self.tables["labels"]:
                return _detail(400, f"Label with ID {label_id} not found")
        return None

    def _registry_named(self, name: str) -> dict[str, Any] | None:
        return next((r for r in self.tables["registries"].values() if r["name"] == name), None)

    def _create(self, collection: str, body: dict[str, Any]) -> Response:
        data = self._validate(body, self.SCHEMAS[collection], partial=False)
        label_ids = data.pop("label_ids", [])
        if collection == "labels":
            if any(r["key"] == data["key"] and r["value"] == data["value"] for r in self.tables["labels"].values()):
                return _detail(400, f"Label with key '{data['key']}' and value '{data['value']}' already exists")
        elif collection == "registries":
            if self._registry_named(data["name"]):
                return _detail(400, "Registry name already exists")
        elif collection == "components":
            if not self._registry_named(data["registry_name"]):
                return _detail(404, "Registry not found")
            if any(r["registry_name"] == data["registry_name"] and r["name"] == data["name"]
                   for r in self.tables["components"].values()):
                return _detail(400, f"Component '{data['name']}' already exists in registry "
                                    f"'{data['registry_name']}'")
        else:
            if not self._registry_named(data["registry_name"]):
                return _detail(404, "Registry not found")
            if not any(r["registry_name"] == data["registry_name"] and r["name"] == data["component_name"]
                       for r in self.tables["components"].values()):
                return _detail(404, "Component not found")
        problem = self._check_labels(label_ids)
        if problem is not None:
            return problem
        rid = self._next_id(collection)
        row = {"id": rid, **data}
        self.tables[collection][rid] = row
        if collection != "labels":
            self.links[collection][rid] = list(dict.fromkeys(label_ids))
        return Response(201, self._show(collection, row, with_labels=False))  # the service shows labels: []

    def _update(self, collection: str, rid: int, body: dict[str, Any]) -> Response:
        row = self.tables[collection].get(rid)
        if row is None:
            return _detail(404, f"{_singular(collection)} not found")
        data = self._validate(body, self.SCHEMAS[collection], partial=True)
        label_ids = data.pop("label_ids", None)
        if label_ids is not None:
            problem = self._check_labels(label_ids)
            if problem is not None:
                return problem
        row.update(data)  # partial, no uniqueness check
        if label_ids is not None and collection != "labels":
            self.links[collection][rid] = list(dict.fromkeys(label_ids))
        return Response(200, self._show(collection, row))

    def _patch_status(self, rid: int, body: dict[str, Any]) -> Response:
        data = self._validate(body, self.SCHEMAS["exposed-apis"], partial=True)
        if data.get("status") is None:
            return _detail(400, "Status is required")
        row = self.tables["exposed-apis"].get(rid)
        if row is None:
            return _detail(404, "Exposed API not found")
        row["status"] = data["status"]
        return Response(200, self._show("exposed-apis", row))

    def _delete(self, collection: str, rid: int) -> Response:
        if rid not in self.tables[collection]:
            return _detail(404, f"{_singular(collection)} not found")
        if collection == "labels" and any(rid in ids for links in self.links.values() for ids in links.values()):
            return Response(500, text="Internal Server Error")  # the foreign key fails unhandled
        if collection == "registries":
            name = self.tables["registries"][rid]["name"]
            if any(c["registry_name"] == name for c in self.tables["components"].values()):
                return Response(500, text="Internal Server Error")
        del self.tables[collection][rid]
        if collection != "labels":
            self.links[collection].pop(rid, None)  # exposed APIs of a deleted component stay
        return Response(204)


def _singular(collection: str) -> str:
    return {"labels": "Label", "registries": "Registry", "components": "Component",
            "exposed-apis": "Exposed API"}[collection]

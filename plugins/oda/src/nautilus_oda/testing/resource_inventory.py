"""``FakeResourceInventory``: a TMF639 v5 Resource Inventory over real HTTP (what the ODA Canvas moved to).

Owns the fake the ``tmf639`` registry client is tested against (fixture ``resource_inventory``). Serves
under ``/tmf-api/resourceInventoryManagement/v5`` (:attr:`url` includes it):

- ``GET /resource``: TMF630 paging with ``offset``/``limit`` (``limit`` capped at :attr:`max_limit`); the
  answer is the bare array with ``X-Total-Count`` and ``X-Result-Count``, ``200`` when it holds every match,
  ``206 Partial Content`` when it is a page of more. Every other query parameter is a TMF630 attribute
  filter: ``category=API``, comma-separated values mean any of them, and a dotted name reaches into
  nested objects and lists (``resourceCharacteristic.value=x``: any element matching). ``fields=`` keeps
  only the named top-level attributes (plus ``id``, ``href``, ``@type``).
- ``POST /resource`` (201; ``@type`` required; the server assigns ``id`` and ``href`` unless an unused
  ``id`` is given: 409 when it is taken), ``GET /resource/{id}``, ``PATCH /resource/{id}`` (JSON merge
  patch, ``application/merge-patch+json`` or ``application/json``, else 415; ``id``/``href`` are
  read-only: 400), ``DELETE /resource/{id}`` (204). Unknown ids: 404.
- Errors are TMF630 ``Error`` objects: ``{"@type": "Error", "code", "reason", "message", "status"}``.
- Shape checks a real inventory makes: ``resourceCharacteristic`` is a list of objects with a string
  ``name``; ``resourceRelationship`` a list of objects with ``relationshipType`` and ``resource.id``.
Plus the base :class:`~nautilus_oda.testing.server.LocalServer`: API key (401), faults, request counts.
"""

from __future__ import annotations

import uuid
from typing import Any

import orjson

from nautilus_oda.testing.server import LocalServer, Request, Response

PREFIX = "/tmf-api/resourceInventoryManagement/v5"
_PAGING = frozenset({"offset", "limit", "fields", "sort"})


def _error(status: int, reason: str, message: str) -> Response:
    return Response(status, {"@type": "Error", "code": str(status), "reason": reason, "message": message,
                             "status": str(status)})


def _values(obj: Any, path: list[str]) -> list[Any]:
    """Every value at the dotted ``path`` under ``obj`` (lists fan out)."""
    if isinstance(obj, list):
        return [v for item in obj for v in _values(item, path)]
    if not path:
        return [obj]
    if not isinstance(obj, dict) or path[0] not in obj:
        return []
    return _values(obj[path[0]], path[1:])


def _merge(target: Any, patch: Any) -> Any:
    """RFC 7386 JSON merge patch."""
    if not isinstance(patch, dict):
        return patch
    out = dict(target) if isinstance(target, dict) else {}
    for key, value in patch.items():
        if value is None:
            out.pop(key, None)
        else:
            out[key] = _merge(out.get(key), value)
    return out


class FakeResourceInventory(LocalServer):
    """A TMF639 v5 Resource Inventory on 127.0.0.1 (see the module docstring). Thread-safe."""

    health_paths = frozenset({f"{PREFIX}/health", "/health"})

    def __init__(self, *, api_key: str | None = None, port: int = 0, max_limit: int = 1000) -> None:
        super().__init__(api_key=api_key, port=port)
        self.max_limit = max_limit
        self.resources: dict[str, dict[str, Any]] = {}  # insertion order is the listing order

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}{PREFIX}"

    # -- direct access for tests -------------------------------------------------------------------------------

    def insert(self, resource: dict[str, Any]) -> dict[str, Any]:
        """Store ``resource`` without the API (a hand-made entry); returns it with its id and href."""
        with self._lock:
            rid = str(resource.get("id") or uuid.uuid4())
            stored = {**resource, "id": rid, "href": f"{PREFIX}/resource/{rid}"}
            self.resources[rid] = stored
            return dict(stored)

    def of_category(self, category: str) -> list[dict[str, Any]]:
        with self._lock:
            return [dict(r) for r in self.resources.values() if r.get("category") == category]

    @staticmethod
    def characteristics(resource: dict[str, Any]) -> dict[str, Any]:
        return {c.get("name"): c.get("value") for c in resource.get("resourceCharacteristic") or []}

    # -- HTTP --------------------------------------------------------------------------------------------------

    def route(self, request: Request) -> Response:
        path = request.path
        if path in self.health_paths:
            return Response(200, {"status": "ok"})
        if not path.startswith(PREFIX + "/resource"):
            return _error(404, "Not Found", f"no such path: {path}")
        rest = path[len(PREFIX + "/resource"):]
        if rest in ("", "/"):
            if request.method == "GET":
                return self._list(request)
            if request.method == "POST":
                return self._create(request)
            return _error(405, "Method Not Allowed", f"{request.method} is not allowed on /resource")
        rid = rest.lstrip("/")
        if "/" in rid:
            return _error(404, "Not Found", f"no such path: {path}")
        resource = self.resources.get(rid)
        if resource is None:
            return _error(404, "Not Found", f"Resource with id {rid} not found")
        if request.method == "GET":
            return Response(200, self._select(resource, request.param("fields")))
        if request.method == "DELETE":
            del self.resources[rid]
            return Response(204)
        if request.method == "PATCH":
            return self._patch(resource, request)
        return _error(405, "Method Not Allowed", f"{request.method} is not allowed on /resource/{{id}}")

    @staticmethod
    def _json(request: Request) -> Any:
        try:
            return orjson.loads(request.body) if request.body else None
        except orjson.JSONDecodeError:
            return _error(400, "Bad Request", "the body is not valid JSON")

    @staticmethod
    def _shape(resource: dict[str, Any]) -> str | None:
        chars = resource.get("resourceCharacteristic")
        if chars is not None and (not isinstance(chars, list) or not all(
                isinstance(c, dict) and isinstance(c.get("name"), str) for c in chars)):
            return "resourceCharacteristic must be a list of objects with a string name"
        rels = resource.get("resourceRelationship")
        if rels is not None and (not isinstance(rels, list) or not all(
                isinstance(r, dict) and isinstance(r.get("relationshipType"), str)
                and isinstance(r.get("resource"), dict) and isinstance(r["resource"].get("id"), str)
                for r in rels)):
            return "resourceRelationship must be a list of objects with relationshipType and resource.id"
        for key in ("name", "category", "@type"):
            if key in resource and not isinstance(resource[key], str):
                return f"{key} must be a string"
        return None

    def _create(self, request: Request) -> Response:
        body = self._json(request)
        if isinstance(body, Response):
            return body
        if not isinstance(body, dict):
            return _error(400, "Bad Request", "the body must be a Resource object")
        if not body.get("@type"):
            return _error(400, "Bad Request", "@type is required")
        problem = self._shape(body)
        if problem:
            return _error(400, "Bad Request", problem)
        if "id" in body and str(body["id"]) in self.resources:
            return _error(409, "Conflict", f"Resource with id {body['id']} already exists")
        stored = self.insert(body)
        return Response(201, stored, headers={"Location": stored["href"]})

    def _patch(self, resource: dict[str, Any], request: Request) -> Response:
        content_type = request.headers.get("content-type", "").split(";")[0].strip()
        if content_type not in ("application/merge-patch+json", "application/json"):
            return _error(415, "Unsupported Media Type", f"PATCH takes application/merge-patch+json, "
                                                         f"not {content_type or 'nothing'}")
        patch = self._json(request)
        if isinstance(patch, Response):
            return patch
        if not isinstance(patch, dict):
            return _error(400, "Bad Request", "a merge patch must be an object")
        for key in ("id", "href"):
            if key in patch and patch[key] != resource.get(key):
                return _error(400, "Bad Request", f"{key} is read-only")
        merged = _merge(resource, patch)
        problem = self._shape(merged)
        if problem:
            return _error(400, "Bad Request", problem)
        resource.clear()
        resource.update(merged)
        return Response(200, dict(resource))

    @staticmethod
    def _select(resource: dict[str, Any], fields: str | None) -> dict[str, Any]:
        if not fields:
            return dict(resource)
        keep = {f.strip() for f in fields.split(",")} | {"id", "href", "@type"}
        return {k: v for k, v in resource.items() if k in keep}

    def _list(self, request: Request) -> Response:
        try:
            offset = int(request.param("offset") or 0)
            limit = int(request.param("limit") or self.max_limit)
        except ValueError:
            return _error(400, "Bad Request", "offset and limit must be whole numbers")
        if offset < 0 or limit < 0:
            return _error(400, "Bad Request", "offset and limit must not be negative")
        limit = min(limit, self.max_limit)
        rows = list(self.resources.values())
        for name, values in request.query.items():
            if name in _PAGING:
                continue
            wanted = {v for value in values for v in value.split(",")}
            rows = [r for r in rows if any(str(v) in wanted for v in _values(r, name.split(".")))]
        page = rows[offset:offset + limit]
        headers = {"X-Total-Count": str(len(rows)), "X-Result-Count": str(len(page))}
        status = 200 if offset == 0 and len(page) == len(rows) else 206
        return Response(status, [self._select(r, request.param("fields")) for r in page], headers=headers)

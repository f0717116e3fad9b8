"""The dashboard's HTTP API: pods, one pod, its logs, the summary, the UI's settings, ``/healthz``.

Owns :data:`router` (mounted by ``web.app.create_app``). Handlers are synchronous (FastAPI runs
them in its thread pool), read the engine from ``request.app.state`` and answer documents built by
``web.queries``, serialised with orjson; the pydantic models of ``web.schemas`` describe them in the
OpenAPI schema. Query parameters are bounded (page size, offsets, text length) and validated, so a
hostile request gets a 422 naming the parameter, never a 500.
"""

from __future__ import annotations

from typing import Annotated, Any

import orjson
import structlog
from fastapi import APIRouter, HTTPException, Path, Query, Request
from fastapi.responses import Response
from sqlalchemy import text

from nautilus_core.db.models import Health, LogLevel
from nautilus_core.web import queries
from nautilus_core.web.schemas import ErrorDocument, HealthStatus, LogPage, PodDetail, PodPage, Summary, UiConfig

__all__ = ["router"]

log = structlog.get_logger(__name__)

router = APIRouter()

MAX_PAGE = 1000
MAX_OFFSET = 10_000_000
MAX_TEXT = 200
PodId = Annotated[int, Path(ge=1, le=2**63 - 1, description="the pod's id (``id`` in the list)")]
NOT_FOUND: dict[int | str, dict[str, Any]] = {404: {"model": ErrorDocument, "description": "no such pod"}}


class JSONResponse(Response):
    media_type = "application/json"

    def render(self, content: Any) -> bytes:
        return orjson.dumps(content, option=orjson.OPT_UTC_Z | orjson.OPT_NON_STR_KEYS)


def _clean(name: str, values: list[str] | str | None) -> Any:
    """Refuse NUL characters (PostgreSQL cannot compare them) with a 422 naming the parameter."""
    items = [values] if isinstance(values, str) else list(values or [])
    for value in items:
        if "\x00" in value:
            raise HTTPException(422, f"query parameter {name!r} must not contain NUL characters")
    return values


def _engine(request: Request) -> Any:
    return request.app.state.engine


TextParam = Annotated[str | None, Query(max_length=MAX_TEXT)]
ListParam = Annotated[list[str], Query(max_length=100)]


def _filter(cluster: list[str], namespace: list[str], health: list[Health], q: str | None, owner: str | None,
            gone: str) -> queries.PodFilter:
    _clean("cluster", cluster)
    _clean("namespace", namespace)
    _clean("q", q)
    _clean("owner", owner)
    return queries.PodFilter(tuple(cluster), tuple(namespace), tuple(h.value for h in health), q or None,
                             owner or None, gone)


@router.get("/api/v1/pods", response_model=PodPage, tags=["pods"],
            summary="Pods, most attention first (live before gone), paged")
def list_pods(request: Request,
              cluster: Annotated[ListParam, Query(description="cluster name or key (repeatable)")] = [],  # noqa: B006
              namespace: Annotated[ListParam, Query(description="namespace (repeatable)")] = [],  # noqa: B006
              health: Annotated[list[Health], Query(description="health bucket (repeatable)")] = [],  # noqa: B006
              q: Annotated[TextParam, Query(description="text in name, status, node, owner, top issue")] = None,
              owner: Annotated[TextParam, Query(description="owner name, or Kind/name")] = None,
              gone: Annotated[str, Query(pattern="^(include|exclude|only)$",
                                         description="pods that vanished: include, exclude or only")] = "include",
              limit: Annotated[int, Query(ge=1, le=MAX_PAGE)] = 100,
              offset: Annotated[int, Query(ge=0, le=MAX_OFFSET)] = 0) -> Response:
    f = _filter(cluster, namespace, health, q, owner, gone)
    return JSONResponse(queries.list_pods(_engine(request), f, limit=limit, offset=offset))


@router.get("/api/v1/pods/{pod_id}", response_model=PodDetail, responses=NOT_FOUND, tags=["pods"],
            summary="One pod with its containers, Events and top issue")
def get_pod(request: Request, pod_id: PodId) -> Response:
    detail = queries.pod_detail(_engine(request), pod_id)
    if detail is None:
        raise HTTPException(404, f"no pod with id {pod_id}")
    return JSONResponse(detail)


@router.get("/api/v1/pods/{pod_id}/logs", response_model=LogPage, responses=NOT_FOUND, tags=["pods"],
            summary="A pod's classified log entries, newest first, paged")
def get_logs(request: Request, pod_id: PodId,
             level: Annotated[list[LogLevel], Query(description="level (repeatable)")] = [],  # noqa: B006
             container: Annotated[ListParam, Query(description="container name (repeatable)")] = [],  # noqa: B006
             previous: Annotated[bool | None, Query(description="only the previous instance (true) or "
                                                                 "the current one (false)")] = None,
             q: Annotated[TextParam, Query(description="text in the entry")] = None,
             limit: Annotated[int, Query(ge=1, le=MAX_PAGE)] = 200,
             offset: Annotated[int, Query(ge=0, le=MAX_OFFSET)] = 0) -> Response:
    _clean("container", container)
    _clean("q", q)
    engine = _engine(request)
    if not queries.pod_exists(engine, pod_id):
        raise HTTPException(404, f"no pod with id {pod_id}")
    return JSONResponse(queries.pod_logs(engine, pod_id, levels=[lv.value for lv in level], containers=container,
                                         previous=previous, text=q or None, limit=limit, offset=offset))


@router.get("/api/v1/summary", response_model=Summary, tags=["pods"],
            summary="Live pods per health, per cluster and per namespace; gone pods apart")
def get_summary(request: Request,
                cluster: Annotated[ListParam, Query(description="cluster name or key (repeatable)")] = [],  # noqa: B006
                namespace: Annotated[ListParam, Query(description="namespace (repeatable)")] = []) -> Response:  # noqa: B006
    f = _filter(cluster, namespace, [], None, None, "include")
    return JSONResponse(queries.summary(_engine(request), f))


@router.get("/api/v1/config", response_model=UiConfig, tags=["ui"], summary="The dashboard's refresh intervals")
def get_config(request: Request) -> Response:
    options = request.app.state.options
    return JSONResponse({"pods_refresh_seconds": options.pods_refresh, "logs_refresh_seconds": options.logs_refresh,
                         "page_size": options.page_size, "auth": bool(options.token)})


@router.get("/healthz", response_model=HealthStatus, tags=["health"],
            responses={503: {"model": HealthStatus, "description": "the database or a runnable is failing"}},
            summary="Liveness: the database answers (and the runnables served with the app are alive)")
def healthz(request: Request) -> Response:
    checks: dict[str, str] = {}
    ok = True
    try:
        with _engine(request).connect() as conn:
            conn.execute(text("SELECT 1"))
        checks["database"] = "ok"
    except Exception as exc:
        ok = False
        checks["database"] = f"failing: {type(exc).__name__}"
        log.warning("web_health_database_failing", error=type(exc).__name__)
    extra = request.app.state.health
    if extra is not None:
        for name, (alive, message) in extra().items():
            checks[name] = message if alive else f"failing: {message}"
            ok = ok and alive
    return JSONResponse({"status": "ok" if ok else "failing", "checks": checks}, status_code=200 if ok else 503)

"""Kubernetes ``Status`` errors of the API emulator.

Owns :class:`ApiError` (an error with the code, reason, message and details a real API server would
send) and the helpers that build the common ones. Raised by the store (``store.py``) and the HTTP layer
(``handlers.py``, ``watch.py``); rendered as ``Status`` JSON by the HTTP layer, and raised as-is by the
thread-safe Python API of :class:`~nautilus_core.testing.KubeEmulator`.
"""

from __future__ import annotations

from typing import Any

import orjson

REASONS = {
    400: "BadRequest",
    401: "Unauthorized",
    403: "Forbidden",
    404: "NotFound",
    405: "MethodNotAllowed",
    409: "Conflict",
    410: "Expired",
    413: "RequestEntityTooLarge",
    415: "UnsupportedMediaType",
    422: "Invalid",
    429: "TooManyRequests",
    500: "InternalError",
    503: "ServiceUnavailable",
    504: "Timeout",
}


class ApiError(Exception):
    """An API failure as the Kubernetes API server reports it (a ``Status`` object)."""

    def __init__(self, code: int, reason: str | None, message: str, details: dict[str, Any] | None = None):
        super().__init__(f"{code} {reason}: {message}")
        self.code = code
        self.reason = reason or REASONS.get(code, "Unknown")
        self.message = message
        self.details = details

    def status(self) -> dict[str, Any]:
        return status_body(self.code, self.reason, self.message, self.details)

    def body(self) -> bytes:
        return orjson.dumps(self.status())


def status_body(
    code: int, reason: str | None, message: str, details: dict[str, Any] | None = None
) -> dict[str, Any]:
    """A ``Status`` object; ``status`` is Success for 2xx codes, Failure otherwise."""
    body: dict[str, Any] = {
        "apiVersion": "v1",
        "kind": "Status",
        "metadata": {},
        "status": "Success" if 200 <= code < 300 else "Failure",
    }
    if message:
        body["message"] = message
    reason = reason if reason is not None else REASONS.get(code, "")
    if reason:
        body["reason"] = reason
    body["code"] = code
    if details is not None:
        body["details"] = details
    return body


def _details(plural: str, group: str, name: str | None) -> dict[str, Any]:
    details: dict[str, Any] = {"kind": plural}
    if name is not None:
        details["name"] = name
    if group:
        details["group"] = group
    return details


def _qualified(plural: str, group: str) -> str:
    return f"{plural}.{group}" if group else plural


def not_found(plural: str, group: str, name: str) -> ApiError:
    return ApiError(
        404, "NotFound", f'{_qualified(plural, group)} "{name}" not found', _details(plural, group, name)
    )


def already_exists(plural: str, group: str, name: str) -> ApiError:
    return ApiError(
        409,
        "AlreadyExists",
        f'{_qualified(plural, group)} "{name}" already exists',
        _details(plural, group, name),
    )


def conflict(plural: str, group: str, name: str) -> ApiError:
    return ApiError(
        409,
        "Conflict",
        f'Operation cannot be fulfilled on {_qualified(plural, group)} "{name}": the object has '
        "been modified; please apply your changes to the latest version and try again",
        _details(plural, group, name),
    )


def invalid(kind: str, group: str, name: str | None, message: str) -> ApiError:
    details: dict[str, Any] = {"kind": kind, "name": name or ""}
    if group:
        details["group"] = group
    return ApiError(422, "Invalid", f'{kind} "{name or ""}" is invalid: {message}', details)


def bad_request(message: str) -> ApiError:
    return ApiError(400, "BadRequest", message)


def unknown_resource() -> ApiError:
    return ApiError(404, "NotFound", "the server could not find the requested resource", {})


def too_large_resource_version(requested: int, current: int) -> ApiError:
    """A list at a resourceVersion the server has not reached (504 after the real server's wait)."""
    return ApiError(
        504,
        "Timeout",
        f"Too large resource version: {requested}, current: {current}",
        {
            "causes": [{"reason": "ResourceVersionTooLarge", "message": "Too large resource version"}],
            "retryAfterSeconds": 1,
        },
    )


def gone(requested: int | str, oldest: int) -> ApiError:
    return ApiError(410, "Expired", f"too old resource version: {requested} ({oldest})")

"""structlog configuration and secret redaction.

Only the CLI (or an embedding application) calls ``configure_logging``; library code just does
``structlog.get_logger(__name__)``. Console rendering on a TTY, JSON otherwise or with
LOG_FORMAT=json; logs go to stderr. ``redact`` runs on every event so passwords, tokens, API keys
and DSN passwords never reach output.
"""

from __future__ import annotations

import logging
import re
import sys
from collections.abc import MutableMapping
from typing import Any, TextIO

import structlog

SECRET_KEYS = re.compile(
    r"(pass(word|wd)?|secret|token|api[_-]?key|authorization|credential|private[_-]?key|session[_-]?key)",
    re.IGNORECASE,
)
# user:password@host in URLs/DSNs
_DSN = re.compile(r"(?P<scheme>[a-z][a-z0-9+.-]*://)(?P<user>[^:/@\s]*):(?P<pw>[^@\s]+)@", re.IGNORECASE)
# key=value / key: value pairs inside free text
_INLINE = re.compile(
    r"(?P<key>\b[\w-]*(?:password|passwd|secret|token|api[_-]?key|apikey)[\w-]*\b)(?P<sep>\s*[=:]\s*)"
    r"(?P<q>['\"]?)(?P<value>[^\s'\",;&]+)",
    re.IGNORECASE,
)
_BEARER = re.compile(r"(Bearer|Basic)\s+[A-Za-z0-9._~+/=-]+", re.IGNORECASE)
MASK = "***"


def redact_text(text: str) -> str:
    """Mask DSN passwords, ``password=...``-style pairs and bearer tokens inside free text."""
    text = _DSN.sub(lambda m: f"{m['scheme']}{m['user']}:{MASK}@", text)
    text = _BEARER.sub(lambda m: f"{m.group(1)} {MASK}", text)
    return _INLINE.sub(lambda m: f"{m['key']}{m['sep']}{m['q']}{MASK}", text)


def redact_value(key: str, value: Any) -> Any:
    if SECRET_KEYS.search(key) and value not in (None, "", False):
        return MASK
    if isinstance(value, str):
        return redact_text(value)
    if isinstance(value, dict):
        return {k: redact_value(str(k), v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return type(value)(redact_value(key, v) for v in value)
    if isinstance(value, BaseException):
        return redact_text(f"{type(value).__name__}: {value}")
    return value


def redact(_logger: Any, _method: str, event_dict: MutableMapping[str, Any]) -> MutableMapping[str, Any]:
    """structlog processor: mask secrets in every key/value of the event."""
    for key in list(event_dict):
        event_dict[key] = redact_value(key, event_dict[key])
    return event_dict


def _redact_rendered(_logger: Any, _method: str, rendered: Any) -> Any:
    # Last line of defence: tracebacks are rendered after ``redact`` ran.
    return redact_text(rendered) if isinstance(rendered, str) else rendered


class _StreamLogger:
    """Writes rendered lines to ``stream``, or to whatever ``sys.stderr`` is at write time."""

    def __init__(self, stream: TextIO | None) -> None:
        self._stream = stream

    def msg(self, message: str) -> None:
        stream = self._stream or sys.stderr
        stream.write(message + "\n")
        stream.flush()

    log = debug = info = warning = warn = error = critical = exception = fatal = msg


def _has_rich() -> bool:
    try:
        import rich  # noqa: F401
    except ImportError:
        return False
    return True


def configure_logging(level: str = "INFO", fmt: str | None = None, stream: TextIO | None = None) -> None:
    """Configure structlog (and stdlib logging) once for a process.

    :param fmt: ``"json"``, ``"text"`` or ``None`` (text on a TTY, JSON otherwise).
    """
    tty = (stream or sys.stderr).isatty()
    if fmt is None:
        fmt = "text" if tty else "json"
    renderer: Any
    if fmt == "json":
        renderer = structlog.processors.JSONRenderer()
        # never render frame locals: they hold rows, settings and tokens
        exc: list[Any] = [structlog.processors.ExceptionRenderer(
            structlog.tracebacks.ExceptionDictTransformer(show_locals=False))]
    else:
        renderer = structlog.dev.ConsoleRenderer(
            colors=tty, exception_formatter=structlog.dev.RichTracebackFormatter(show_locals=False)
            if _has_rich() else structlog.dev.plain_traceback)
        exc = []
    numeric = logging.getLevelNamesMapping()[level.upper()]
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            *exc,
            redact,
            renderer,
            _redact_rendered,
        ],
        wrapper_class=structlog.make_filtering_bound_logger(numeric),
        logger_factory=lambda *_: _StreamLogger(stream),
        cache_logger_on_first_use=False,
    )
    logging.basicConfig(level=max(numeric, logging.WARNING), stream=stream or sys.stderr, force=True)

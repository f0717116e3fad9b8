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
from urllib.parse import unquote_plus

import structlog

SECRET_KEYS = re.compile(
    r"(pass(word|wd)?|secret|token|api[_-]?key|authorization|credential|private[_-]?key|session[_-]?key)",
    re.IGNORECASE,
)
# a URL inside free text: scheme://authority[/path][?query][#fragment]
_URL = re.compile(r"(?P<scheme>\b[a-z][a-z0-9+.-]*://)(?P<rest>[^\s'\"<>`]+)", re.IGNORECASE)
_USER = re.compile(r"[^:/?#@\s]*")
_AT_HOST = re.compile(r"@(?=(?:[\w.-]+|\[[0-9A-Fa-f:.]+\])(?:[:/?#]|$))")
# query-string keys that carry credentials: password=, sslpassword=, access_token=, api_key=, X-Amz-Signature=,
# sig= (Azure SAS), client_secret=, key= ...
_SECRET_PARAM = re.compile(
    r"(pass(word|wd)?|secret|token|api[_-]?key|apikey|auth|credential|signature|private[_-]?key"
    r"|session[_-]?key|(^|[_.-])(key|sig|code)$)",
    re.IGNORECASE,
)
# key=value / key: value pairs inside free text
_INLINE = re.compile(
    r"(?P<key>\b[\w-]*(?:password|passwd|secret|token|api[_-]?key|apikey)[\w-]*\b)(?P<sep>\s*[=:]\s*)"
    r"(?P<q>['\"]?)(?P<value>[^\s'\",;&]+)",
    re.IGNORECASE,
)
_BEARER = re.compile(r"(Bearer|Basic)\s+[A-Za-z0-9._~+/=-]+", re.IGNORECASE)
MASK = "***"


def redact_url(url: str) -> str:
    """``url`` with every credential masked: the password of ``user:password@`` and the value of
    each query parameter that carries one (``password=``, ``sslpassword=``, ``access_token=``, ...).

    >>> redact_url("postgresql://u:pw@db/app?sslmode=require&password=s3cret")
    'postgresql://u:***@db/app?sslmode=require&password=***'
    """
    scheme, sep, rest = url.partition("://")
    if not sep:
        return url
    prefix = ""
    user = _USER.match(rest)
    if user and rest[user.end():user.end() + 1] == "@":
        prefix, rest = rest[:user.end() + 1], rest[user.end() + 1:]
    elif user and rest[user.end():user.end() + 1] == ":":
        # the password ends at an "@" followed by a host; it may hold unencoded "/", "?" or "@": take the
        # last such "@" before the first "?", else (a "?" in the password) the first one after it
        hosts = [m.start() for m in _AT_HOST.finditer(rest, user.end())]
        first_question = rest.find("?")
        before = [at for at in hosts if first_question < 0 or at < first_question]
        at = before[-1] if before else (hosts[0] if hosts else -1)
        if at >= 0:
            prefix, rest = f"{user.group(0)}:{MASK}@", rest[at + 1:]
    cut = min((i for i in (rest.find("/"), rest.find("?"), rest.find("#")) if i >= 0), default=len(rest))
    authority, tail = prefix + rest[:cut], rest[cut:]
    tail, hash_, fragment = tail.partition("#")
    path, question, query = tail.partition("?")
    if question:
        query = _redact_query(query)
    if hash_ and "=" in fragment:  # OAuth implicit flow puts access_token=... in the fragment
        fragment = _redact_query(fragment)
    return f"{scheme}://{authority}{path}{question}{query}{hash_}{fragment}"


def _redact_query(query: str) -> str:
    parts = []
    for item in query.split("&"):  # "&" only: a raw ";" may sit inside a value
        key, eq, _value = item.partition("=")
        if eq and _SECRET_PARAM.search(unquote_plus(key)):
            item = f"{key}={MASK}"
        parts.append(item)
    return "&".join(parts)


def redact_text(text: str) -> str:
    """Mask URL credentials (userinfo passwords, secret query parameters), ``password=...``-style
    pairs and bearer tokens inside free text."""
    out, last = [], 0
    for url in _URL.finditer(text):  # URLs by their own rules; the free text around them by the pair rules
        out += [_redact_free_text(text[last:url.start()]), redact_url(url.group(0))]
        last = url.end()
    out.append(_redact_free_text(text[last:]))
    return "".join(out)


def _redact_free_text(text: str) -> str:
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
    # other libraries log through the standard library: their lines are redacted too
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(_RedactingFormatter("%(levelname)s:%(name)s:%(message)s"))
    logging.basicConfig(level=max(numeric, logging.WARNING), handlers=[handler], force=True)


class _RedactingFormatter(logging.Formatter):
    """A standard-library formatter whose output (message and traceback) passes through ``redact_text``."""

    def format(self, record: logging.LogRecord) -> str:
        return redact_text(super().format(record))

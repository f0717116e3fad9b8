"""Container log classification: the lines of a log body become entries with a level.

Owns :func:`parse_log` (and :class:`LogEntry`): the body of ``GET .../pods/{name}/log?timestamps=true``
becomes a list of entries, each with the kubelet's timestamp, a level (info, warning, error, exception)
and its text. Called by the podwatch collector once per container log (and previous-instance log); the
collector stores the entries in ``log_line`` and counts them per level (:func:`level_counts`).

Levels come from the common formats: plain prefixes (``ERROR ...``, ``2024-06-01 12:00:00 WARN ...``,
``error: ...``), bracketed levels (``[error]``, ``[WARN]``), JSON lines with a ``level`` / ``severity`` /
``lvl`` field (words, pino/bunyan numbers, syslog and Cloud Logging severities), logfmt ``level=``,
klog headers (``E0102 15:04:05.000000 1 file.go:12] ...``). Stack traces are ONE entry of level
exception, whatever their length: Python tracebacks (with chained ``During handling ...`` parts), Java
exceptions with ``\\tat ...`` frames, ``Caused by:`` and ``... N more``, Go panics with their goroutine
dumps, Node.js errors with ``    at ...`` frames (and the source excerpt Node prints above them).

Never raises, never loses text: every non-blank line is in exactly one entry, in order (only blank lines,
trailing whitespace and the kubelet's timestamp prefix are dropped; NUL bytes, which PostgreSQL cannot
store, become U+FFFD); with ``mask`` (the default) secrets are masked first (:mod:`.secrets`). Linear in
the input: one pass over the lines with precompiled expressions, a handful of string tests per line.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime

from nautilus_core.db.models.podwatch import LogLevel
from nautilus_core.podwatch.secrets import mask_secrets

__all__ = ["LogEntry", "LogLevel", "level_counts", "mask_secrets", "parse_log"]

INFO, WARNING, ERROR, EXCEPTION = LogLevel.INFO, LogLevel.WARNING, LogLevel.ERROR, LogLevel.EXCEPTION


@dataclass(frozen=True, slots=True)
class LogEntry:
    """One log entry: a line, or a whole stack trace (``text`` then holds ``\\n``)."""

    ts: datetime | None
    level: LogLevel
    text: str


_WORDS: dict[str, LogLevel] = {
    **dict.fromkeys(
        ("error", "err", "eror", "fatal", "crit", "critical", "panic", "dpanic", "alert", "emerg",
         "emergency", "severe"),
        ERROR,
    ),
    **dict.fromkeys(("warn", "warning", "wrn"), WARNING),
}
_INFO_WORDS = ("info", "notice", "debug", "dbug", "dbg", "trace", "verbose")
_ANY_CASE: dict[str, LogLevel] = {**dict.fromkeys(_INFO_WORDS, INFO), **_WORDS}
_UPPER: dict[str, LogLevel] = {word.upper(): level for word, level in _ANY_CASE.items()}
_ALARMS = ("err", "warn", "fatal", "crit", "panic", "severe", "alert", "emerg", "exception", "throwable")

_JSON_LEVEL = re.compile(
    r'"(?i:level|severity|lvl|loglevel|log_level|log\.level|levelname|@l)"\s*:\s*(?:"([A-Za-z]+)"|(\d+))'
)
_JSON_STACK = re.compile(
    r'"(?:stack|stack_trace|stacktrace|exc_info|exception|error\.stack_trace|err\.stack)"\s*:\s*(?:"[^"]|\{)'
)
_KLOG = re.compile(r"[IWEF]\d{4} \d\d:\d\d:\d\d\.\d{6}\s+\d+ [^\]\s]+\] ")
_LOGFMT_KEYS = ("level=", "lvl=", "severity=", "loglevel=")
_LOGFMT_VALUE = re.compile(r"[\"']?([a-z]+)")
#: candidates for a level word (each starts with a character set, which the regex engine scans quickly)
_UPPER_WORD = re.compile(r"[A-Z]{3,9}")
_BRACKETED = re.compile(r"[\[<]([A-Za-z]{3,9})[\]>]")
_COLON_WORD = re.compile(r"[A-Za-z]{3,9}(?=:\s|:$|\t)")
_BOUNDARY = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-")
HEAD = 160  # a line's level is looked for in its first characters
#: a line naming an exception (Python's last line, Java's first, Node's "TypeError: x")
_EXC_HEAD = re.compile(r"[\w$.]*(?:Error|Exception|Throwable)(?![\w$])")
_PY_START = re.compile(r"\s*(?:\+ )?(?:Exception Group )?Traceback \(most recent call last\):")
_PY_LAST = re.compile(r"[A-Za-z_][\w.]*(?::|$)")
_PY_CHAIN = ("During handling of the above exception", "The above exception was the direct cause")
_FRAME = re.compile(r"[ \t]+(?:at |from |\.\.\. \d+ (?:more|common frames omitted))")
_PY_FRAME = re.compile(r"[ \t]+File \"")
_GO_START = re.compile(r"(?:panic: |fatal error: |SIGQUIT: |SIGABRT: |goroutine \d+ \[)")
_GO_MORE = re.compile(
    r"(?:goroutine \d+ \[|\[signal |created by |exit status \d|panic: |\.\.\.|[ \t]|\[recovered\]"
    r"|r(?:[a-z0-9]{1,3}) +0x|[^\s(]+\(.*\)$)"
)
_GENERIC_MORE = ("Caused by:", "Suppressed:", "--- End of", "Node.js v")
_NODE_SOURCE = re.compile(r"(?:file://)?\S+\.[cm]?[jt]sx?:\d+$")
_DIGITS = frozenset("0123456789")
_PEM_MAX = 200  # lines of one unmasked private-key block kept together

# modes of the entry being built
_LINE, _TRACE, _PYTHON, _GO, _NODE, _PEM = range(6)


def _json_level(text: str) -> LogLevel | None:
    m = _JSON_LEVEL.search(text)
    if m is None:
        return None
    if ('"stack' in text or '"exc' in text or '"err' in text) and _JSON_STACK.search(text):
        return EXCEPTION
    word, number = m.groups()
    if word is not None:
        return _WORDS.get(word.lower(), INFO)
    value = int(number[:6])
    if value <= 7:  # syslog: 0 emergency .. 3 error, 4 warning
        return ERROR if value <= 3 else WARNING if value == 4 else INFO
    if value < 100:  # pino / bunyan: 40 warn, 50 error, 60 fatal
        return ERROR if value >= 50 else WARNING if value >= 40 else INFO
    return ERROR if value >= 500 else WARNING if value >= 400 else INFO  # Cloud Logging


def _plain_level(head: str) -> LogLevel | None:
    """The leftmost level word of ``head``: ERROR/WARN/INFO..., [error]/<warn>, error:/Warning: or a
    tab-separated level (zap's console format); None when there is none."""
    best, found = len(head), None
    for m in _UPPER_WORD.finditer(head):
        start, end = m.span()
        if (m.group() in _UPPER and (start == 0 or head[start - 1] not in _BOUNDARY)
                and (end == len(head) or head[end] not in _BOUNDARY)):
            best, found = start, m.group().lower()
            break
    if "[" in head or "<" in head:
        for m in _BRACKETED.finditer(head, 0, best):
            word = m.group(1).lower()
            if word in _ANY_CASE:
                best, found = m.start(), word
                break
    if ":" in head or "\t" in head:
        for m in _COLON_WORD.finditer(head, 0, best):
            word = m.group().lower()
            if word in _ANY_CASE and (m.start() == 0 or head[m.start() - 1] not in _BOUNDARY):
                found = word
                break
    return None if found is None else _WORDS.get(found, INFO)


def _token_level(head: str) -> LogLevel | None:
    """The level named by one of the first words of ``head`` (the common layouts: ``LEVEL msg``,
    ``<time> LEVEL msg``, ``[<time>] [level] msg``, ``level: msg``, ``LEVEL:logger:msg``), or None."""
    for token in head.split(None, 8)[:8]:
        level = _UPPER.get(token)
        if level is not None:
            return level
        word = token.strip("[]<>()|,")
        marked = len(word) != len(token)  # [error], <warn>
        if word[-1:] == ":":  # error:, Warning:
            word, marked = word[:-1], True
        if ":" in word:  # WARNING:root:message
            word = word.split(":", 1)[0]
        level = _UPPER.get(word)
        if level is not None:
            return level
        if marked:
            level = _ANY_CASE.get(word.lower())
            if level is not None:
                return level
    return None


def _classify(text: str) -> LogLevel:
    """The level of a line that starts an entry (no continuation rules)."""
    first = text[0]
    if first == "{":
        level = _json_level(text)
        if level is not None:
            return level
    elif first in "IWEF" and _KLOG.match(text):
        return ERROR if first in "EF" else WARNING if first == "W" else INFO
    head = text[:HEAD]
    low = head.lower()
    if "=" in head:
        for key in _LOGFMT_KEYS:
            at = low.find(key)
            if at >= 0 and (at == 0 or low[at - 1] in " \t{,"):
                m = _LOGFMT_VALUE.match(low, at + len(key))
                if m is not None:
                    return _WORDS.get(m.group(1), INFO)
    level = _token_level(head)
    if level is not None:
        return level
    for stem in _ALARMS:  # without any of these the line is info, whatever the layout
        if stem in low:
            break
    else:
        return INFO
    level = _plain_level(head)
    if level is not None:
        return level
    return ERROR if _EXC_HEAD.match(text) else INFO


def parse_log(raw: str, *, timestamps: bool = True, mask: bool = True) -> list[LogEntry]:
    """Entries of ``raw``, the body of ``GET .../log`` (``timestamps``: each line starts with the kubelet's
    RFC 3339 timestamp and a space, as with ``?timestamps=true``). Never raises; see the module docstring.

    >>> [(e.level.value, e.text) for e in parse_log("ERROR boom\\nKeyError: 'x'", timestamps=False)]
    [('error', 'ERROR boom'), ('error', "KeyError: 'x'")]
    """
    if not isinstance(raw, str) or not raw:
        return []
    if "\x00" in raw:
        raw = raw.replace("\x00", "\ufffd")
    if mask:
        raw = mask_secrets(raw)
    entries: list[LogEntry] = []
    append_entry = entries.append
    lines: list[str] = []
    ts: datetime | None = None
    level = INFO
    mode = _LINE
    py_done = py_chained = False

    fromisoformat = datetime.fromisoformat
    classify = _classify
    for line in raw.split("\n"):
        line_ts = None
        if timestamps and line[10:11] == "T":  # the kubelet's prefix: 2024-06-01T12:00:00.123456789Z
            space = line.find(" ", 19, 40)
            if space > 0:
                try:
                    line_ts = fromisoformat(line[:space])
                except ValueError:
                    pass
                else:
                    if line_ts.tzinfo is None:
                        line_ts = line_ts.replace(tzinfo=UTC)
                    line = line[space + 1:]
        text = line.rstrip()
        if not text:
            continue
        first = text[0]
        if lines:  # does this line continue the entry being built?
            if mode == _LINE:
                if first in " \t" and _FRAME.match(text):
                    lines.append(text)
                    mode, level = _TRACE, EXCEPTION
                    continue
            elif mode == _TRACE:
                if first in " \t" or text.startswith(_GENERIC_MORE) or text in ("}", "]"):
                    lines.append(text)
                    continue
            elif mode == _PYTHON:
                if first in " \t":
                    lines.append(text)
                    continue
                if py_chained and _PY_START.match(text):
                    lines.append(text)
                    py_chained = py_done = False
                    continue
                if not py_done and _PY_LAST.match(text):
                    lines.append(text)
                    py_done = True
                    continue
                if py_done and text.startswith(_PY_CHAIN):
                    lines.append(text)
                    py_chained = True
                    continue
            elif mode == _GO:
                if _GO_MORE.match(text):
                    lines.append(text)
                    continue
            elif mode == _NODE:
                if first in " \t" or text == "^":
                    lines.append(text)
                    if _FRAME.match(text):
                        mode, level = _TRACE, EXCEPTION
                    continue
                if _EXC_HEAD.match(text):
                    lines.append(text)
                    mode, level = _TRACE, EXCEPTION
                    continue
            elif mode == _PEM:
                lines.append(text)
                if "-----END" in text or len(lines) >= _PEM_MAX:
                    append_entry(LogEntry(ts, level, "\n".join(lines)))
                    lines = []
                continue
            append_entry(LogEntry(ts, level, lines[0] if len(lines) == 1 else "\n".join(lines)))
        # a new entry
        lines = [text]
        ts = line_ts
        if first in "T \t" and (_PY_START.match(text) or _PY_FRAME.match(text)):
            mode, level, py_done, py_chained = _PYTHON, EXCEPTION, False, False
        elif first in "pfgS" and _GO_START.match(text):
            mode, level = _GO, EXCEPTION
        elif first == "-" and "-----BEGIN" in text and "PRIVATE KEY" in text and "-----END" not in text:
            mode, level = _PEM, _classify(text)
        elif text[-1] in _DIGITS and " " not in text and _NODE_SOURCE.match(text):
            mode, level = _NODE, INFO
        else:
            mode, level = _LINE, classify(text)
    if lines:
        append_entry(LogEntry(ts, level, "\n".join(lines)))
    return entries


def level_counts(entries: Iterable[LogEntry]) -> Counter[LogLevel]:
    """How many entries of each level (for the pod's and container's error/warning/exception counts)."""
    return Counter(entry.level for entry in entries)

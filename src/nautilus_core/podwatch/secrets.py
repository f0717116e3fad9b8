"""Masking of well-known secret forms in container log text, before it is stored or shown.

Owns :func:`mask_secrets`: bearer tokens, ``Authorization`` headers, ``password=`` / ``passwd`` /
``secret=`` / ``token=`` / ``api_key=`` values in key=value, ``key: value`` and JSON forms, AWS access key
ids (``AKIA...``), JSON Web Tokens, private-key PEM blocks and the password of ``user:password@`` in URLs.
Called by :func:`nautilus_core.podwatch.logparse.parse_log` (on by default; the collector's
``PODWATCH_MASK_SECRETS`` turns it off) on the whole log body, so a PEM block spanning lines is one match.

Each form keeps its name and delimiters and replaces only the secret with ``***``
(``password=***``, ``Authorization: Bearer ***``, ``AKIA***``), so the masked text still reads as the line
did, and masking is idempotent: ``mask_secrets(mask_secrets(s)) == mask_secrets(s)``. A private key cut by
the log tail (no END line, or no BEGIN line) is masked to the end (or from the start) of the text.
Linear and cheap on ordinary logs: each rule runs only when the text holds its trigger (plain substring
tests on the lower-cased text), and the key=value rule is tried only where a key word starts.
"""

from __future__ import annotations

import re

__all__ = ["MASK", "mask_secrets"]

MASK = "***"

_PEM_LABEL = r"(?:[A-Z0-9]+ )*PRIVATE KEY(?: BLOCK)?"
_PEM_BEGIN = re.compile(rf"-----BEGIN {_PEM_LABEL}-----")
_PEM_END = re.compile(rf"-----END {_PEM_LABEL}-----")

# names whose value is a secret; a name may carry a prefix (db_password, X-Auth-Token, client_secret,
# aws_secret_access_key) or be camelCase (dbPassword, accessToken); sizes, types and file paths of a
# secret are not secrets themselves (max_tokens=, token_type=, password_file=). The expression starts with a
# character set (the regex engine then skips quickly to candidates); the first letter and the rest are
# checked together by ``_KEYWORD`` in the replacement.
_KEYWORD = re.compile(
    r"(?i:pass(?:word|wd|phrase|(?![a-z]))|private[_-]?key|secret|signature|sig|token|api[_-]?key|apikey"
    r"|access[_-]?key|credentials?)"
)
_NOT_SECRET_SUFFIX = (
    r"(?![\w.-]*?(?:_?(?:count|len|length|type|ttl|expiry|expires(?:_in|_at)?|name|file|path|ref|limit"
    r"|usage|policy|required|set|enabled)|s)(?![\w.-]))"
)
_KEY = (
    r"[PpSsTtAaCc](?<![A-Za-z0-9][a-z])(?<![A-Z][A-Z])"  # a word starts here, or a camelCase part
    r"(?i:ass(?:word|wd|phrase|(?![a-z]))|rivate[_-]?key|ecret|ignature|ig(?=[ \t]*=)|oken|pi[_-]?key|pikey"
    r"|ccess[_-]?key|redentials?)"
    rf"{_NOT_SECRET_SUFFIX}[\w.-]*"
)
_VALUE = (
    r"(?:\"(?P<dq>(?:[^\"\\\n]|\\.)+)\""  # "quoted" (JSON)
    r"|'(?P<sq>[^'\n]+)'"  # 'quoted'
    r"|\\\"(?P<eq>(?:[^\"\\\n]|\\[^\"\n])+)\\\""  # \"escaped\" (JSON inside a JSON string)
    r"|(?P<v>[^\s\"'\\,;&}\]]+))"  # bare
)
_PEM = re.compile(rf"(?P<begin>{_PEM_BEGIN.pattern}).*?(?P<end>{_PEM_END.pattern}|\Z)", re.DOTALL)
_AUTH = re.compile(
    r"(?i)(authorization\\?[\"']?[ \t]*[:=][ \t]*\[?\\?[\"']?"
    r"(?:(?:bearer|basic|digest|token|negotiate|apikey|aws4-hmac-sha256)[ \t]+)?)([^\s\"'\\,;\]]+)"
)
_BEARER = re.compile(r"(?i)(bearer[ \t]+)[A-Za-z0-9._~+/=-]{8,}")
_URL = re.compile(r"(://[^\s:/?#@\"']*:)[^\s/@\"']+@")
_KV = re.compile(rf"(?P<key>{_KEY})(?P<sep>\\?[\"']?[ \t]*(?:=>|[=:])[ \t]*){_VALUE}")
_AWS = re.compile(r"(?<![A-Z0-9])(AKIA|ASIA|AGPA|AIDA|AROA|ANPA|ANVA|AIPA|ABIA|ACCA)[A-Z0-9]{16}(?![A-Z0-9])")
_JWT = re.compile(r"(?<![\w-])eyJ[\w-]{8,}\.eyJ[\w-]{8,}\.[\w-]+")
#: where a key=value rule may start (in the lower-cased text), found with plain substring search; the
#: expression is tried only there (scanning the whole text with it costs several times more). A "key" is
#: a start only behind api / access / private (api_key, accessKey, private-key).
_KV_WORDS = ("pass", "secret", "token", "credential", "sig")
_KEY_PREFIXES = ("api_", "api-", "api", "access_", "access-", "access", "private_", "private-", "private")
#: the check for access key ids: starts with a literal, so the regex engine skips fast to each "A"
_AWS_QUICK = re.compile(r"A(?:KIA|SIA|GPA|IDA|ROA|NPA|NVA|IPA|BIA|CCA)[A-Z0-9]{16}")


def _pem(m: re.Match[str]) -> str:
    return f"{m.group('begin')}{MASK}{m.group('end')}"


def _kv(m: re.Match[str]) -> str:
    key = m.group("key")
    if _KEYWORD.match(key) is None:  # "Pecret": the first letter belongs to another keyword
        return m.group(0)
    head = f"{key}{m.group('sep')}"
    if m.group("dq") is not None:
        return f'{head}"{MASK}"'
    if m.group("sq") is not None:
        return f"{head}'{MASK}'"
    if m.group("eq") is not None:
        return f'{head}\\"{MASK}\\"'
    return f"{head}{MASK}"


def _mask_pairs(text: str, low: str) -> str:
    """``_KV.sub(_kv, text)``, trying the expression only where a key word starts (``low``: the text
    lower-cased)."""
    if len(low) != len(text):  # "İ".lower() is two characters: positions would not match, scan it all
        return _KV.sub(_kv, text)
    starts: set[int] = set()
    for word in _KV_WORDS:
        at = low.find(word)
        while at >= 0:
            starts.add(at)
            at = low.find(word, at + 1)
    at = low.find("key")
    while at >= 0:
        for prefix in _KEY_PREFIXES:
            if low.startswith(prefix, at - len(prefix), at):
                starts.add(at - len(prefix))
                break
        at = low.find("key", at + 1)
    if not starts:
        return text
    out, done = [], 0
    for at in sorted(starts):
        if at < done:
            continue
        m = _KV.match(text, at)
        if m is None:
            continue
        out += [text[done:at], _kv(m)]
        done = m.end()
    return "".join(out) + text[done:] if out else text


def mask_secrets(text: str) -> str:
    """``text`` with every well-known secret form masked (see the module docstring); idempotent.

    >>> mask_secrets('login ok password=hunter2 Authorization: Bearer eyJhbGciOi.x.y')
    'login ok password=*** Authorization: Bearer ***'
    """
    low = text.lower()
    original = text
    if "private key" in low:
        head = ""
        end = _PEM_END.search(text)
        if end is not None and _PEM_BEGIN.search(text, 0, end.start()) is None:
            # the tail starts inside a key: mask from the start of the text
            head, text = f"{MASK}{end.group(0)}", text[end.end():]
        text = head + _PEM.sub(_pem, text)
    if "authorization" in low:
        text = _AUTH.sub(rf"\1{MASK}", text)
    if "bearer" in low:
        text = _BEARER.sub(rf"\1{MASK}", text)
    if "://" in text and "@" in text:
        text = _URL.sub(rf"\1{MASK}@", text)
    text = _mask_pairs(text, low if text is original else text.lower())
    if _AWS_QUICK.search(text):
        text = _AWS.sub(rf"\1{MASK}", text)
    if "eyJ" in text:
        text = _JWT.sub(f"eyJ{MASK}", text)
    return text

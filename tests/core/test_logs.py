"""Logging: JSON/console output on stderr and redaction of every kind of secret."""

from __future__ import annotations

import io
import json

import structlog
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from nautilus_core.logs import configure_logging, redact_text


def _emit(**kw) -> dict:
    stream = io.StringIO()
    configure_logging("INFO", "json", stream=stream)
    try:
        structlog.get_logger("test").info("event_happened", **kw)
    finally:
        structlog.reset_defaults()
    return json.loads(stream.getvalue())


def test_secret_keys_are_masked():
    doc = _emit(password="hunter2", api_key="abc", token="t0k", cluster="prod")
    assert doc["password"] == doc["api_key"] == doc["token"] == "***"
    assert doc["cluster"] == "prod"
    assert doc["event"] == "event_happened"


def test_secrets_inside_values_are_masked():
    doc = _emit(
        url="postgresql+psycopg://nest:hunter2@db:5432/fleet",
        error="login failed for password=hunter2; retry",
        headers={"Authorization": "Bearer abc.def.ghi", "Accept": "json"},
        message="sent Authorization: Bearer eyJhbGciOi to api",
    )
    text = json.dumps(doc)
    assert "hunter2" not in text and "abc.def.ghi" not in text and "eyJhbGciOi" not in text
    assert doc["url"] == "postgresql+psycopg://nest:***@db:5432/fleet"
    assert doc["headers"]["Accept"] == "json"


def test_exceptions_in_logs_are_redacted():
    stream = io.StringIO()
    configure_logging("INFO", "json", stream=stream)
    try:
        try:
            raise RuntimeError("cannot connect to postgresql://u:hunter2@h/d")
        except RuntimeError:
            structlog.get_logger("t").exception("db_failed")
    finally:
        structlog.reset_defaults()
    out = stream.getvalue()
    assert "db_failed" in out and "hunter2" not in out


def test_level_filters_and_text_format():
    stream = io.StringIO()
    configure_logging("WARNING", "text", stream=stream)
    try:
        log = structlog.get_logger("t")
        log.info("quiet_event")
        log.warning("loud_event", token="zzz")
    finally:
        structlog.reset_defaults()
    out = stream.getvalue()
    assert "quiet_event" not in out
    assert "loud_event" in out and "zzz" not in out


def test_redact_text_keeps_ordinary_text():
    assert redact_text("namespace=default pods=3") == "namespace=default pods=3"
    assert redact_text("apikey: XYZ123") == "apikey: ***"


def test_tracebacks_never_show_frame_locals():
    stream = io.StringIO()
    configure_logging("INFO", "json", stream=stream)
    try:
        def connect(dsn_password="plain-local-value"):
            raise ValueError("cannot connect")
        try:
            connect()
        except ValueError:
            structlog.get_logger("t").exception("connect_failed")
    finally:
        structlog.reset_defaults()
    out = stream.getvalue()
    assert "cannot connect" in out and "plain-local-value" not in out


def test_every_credential_form_of_a_url_is_masked():
    for text, shown in [
        ("postgresql://u@h/db?password=s3cret", "postgresql://u@h/db?password=***"),
        ("postgresql://u:s3cret@h/db?sslmode=require&sslpassword=s3cret",
         "postgresql://u:***@h/db?sslmode=require&sslpassword=***"),
        ("connect to https://api.example/x?access_token=s3cret&limit=5 failed",
         "connect to https://api.example/x?access_token=***&limit=5 failed"),
        ("https://acct.blob/c?sv=2020&sig=s3cret", "https://acct.blob/c?sv=2020&sig=***"),
        ("https://h/cb#access_token=s3cret&state=1", "https://h/cb#access_token=***&state=1"),
        ("http://admin:s3/cret@10.0.0.1:6443/api", "http://admin:***@10.0.0.1:6443/api"),
        ("postgresql://u@h/db?api%5Fkey=s3cret", "postgresql://u@h/db?api%5Fkey=***"),
    ]:
        assert redact_text(text) == shown


@given(user=st.text(alphabet=st.characters(codec="utf-8", exclude_characters="\x00"), max_size=12),
       secret=st.text(alphabet=st.characters(exclude_categories=("Cc", "Cs", "Co", "Cn", "Zs", "Zl", "Zp")),
                      min_size=6, max_size=30),
       key=st.sampled_from(["password", "sslpassword", "token", "client_secret", "apikey", "X-Amz-Signature"]),
       encode=st.booleans())
@settings(max_examples=200, deadline=None)
def test_a_url_password_never_survives_redaction(user, secret, key, encode):
    from urllib.parse import quote

    # a well-formed URL holds only these raw in its userinfo and query values (RFC 3986 minus the characters
    # that end a URL in free text); the rest must be percent-encoded (raw "@" or "/" is best effort, tested above)
    value = quote(secret, safe="") if encode else "".join(c for c in secret if c not in "@/?#[]%&'\"<>` ")
    assume(len(value) >= 6 and value not in f"error: cannot reach postgresql://{quote(user, safe='')}"
           f":@db:5432/app?sslmode=require&{key}=: refused")
    url = f"postgresql://{quote(user, safe='')}:{value}@db:5432/app?sslmode=require&{key}={value}"
    masked = redact_text(f"error: cannot reach {url}: refused")
    assert value not in masked.replace("***", "")
    assert "db:5432/app" in masked and "sslmode=require" in masked


def test_standard_library_log_lines_are_redacted():
    import logging

    stream = io.StringIO()
    configure_logging("INFO", "json", stream=stream)
    try:
        logging.getLogger("some.library").warning("cannot reach postgresql://u:hunter2@db/app?sslpassword=k3y")
        try:
            raise OSError("refused: https://api/x?access_token=t0ken")
        except OSError:
            logging.getLogger("some.library").exception("failed")
    finally:
        structlog.reset_defaults()
        logging.basicConfig(force=True)
    out = stream.getvalue()
    assert "cannot reach postgresql://u:***@db/app?sslpassword=***" in out
    assert "hunter2" not in out and "k3y" not in out and "t0ken" not in out and "OSError" in out

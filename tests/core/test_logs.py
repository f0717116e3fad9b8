"""Logging: JSON/console output on stderr and redaction of every kind of secret."""

from __future__ import annotations

import io
import json

import structlog

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

"""The ``llm`` engine against a local chat-completions server written here (127.0.0.1, no network).

The server speaks the protocol the ``openai`` client uses (``POST /v1/chat/completions``) and
answers as each test tells it: a good answer, malformed JSON, an out-of-range count, too slowly,
500, 401. Every failure must give the hpa decision and say so; the API key must never show.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from nautilus_core import ConfigError, InvalidObjectError, MetricSample
from nautilus_core.plugins import build_plugin_manager
from nautilus_scaling.hpa import HpaEngine
from nautilus_scaling.llm import AnswerError, LlmEngine, parse_answer

pytest.importorskip("openai")

KEY = "sk-test-5ecret-do-not-show-0123456789"
HOT = [MetricSample("cpu", 90, 50)]  # hpa: ceil(1.8 x 3) = 6


class ChatServer:
    """A chat-completions endpoint whose next answers the test sets: ``(status, body, delay)``."""

    def __init__(self) -> None:
        self.answer: tuple[int, Any, float] = (200, {"replicas": 4, "reason": "ok"}, 0.0)
        self.requests: list[dict[str, Any]] = []
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", 0))
                server.requests.append({"path": self.path, "auth": self.headers.get("Authorization"),
                                        "body": json.loads(self.rfile.read(length) or b"{}")})
                status, body, delay = server.answer
                time.sleep(delay)
                if status == 200:
                    content = body if isinstance(body, str) else json.dumps(body)
                    payload = {"id": "c1", "object": "chat.completion", "created": 0, "model": "local",
                               "choices": [{"index": 0, "finish_reason": "stop",
                                            "message": {"role": "assistant", "content": content}}]}
                else:  # an error body that echoes the key, as some servers do
                    payload = {"error": {"message": f"Incorrect API key provided: {KEY}", "type": "x"}}
                data = json.dumps(payload).encode()
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(data)))
                    self.end_headers()
                    self.wfile.write(data)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up (the timeout test)

            def log_message(self, *args: Any) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/v1"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def chat() -> Iterator[ChatServer]:
    server = ChatServer()
    yield server
    server.close()


@pytest.fixture
def engine(chat) -> LlmEngine:
    return LlmEngine({"OPENAI_API_KEY": KEY, "NAUTILUS_LLM_BASE_URL": chat.url,
                      "NAUTILUS_LLM_MODEL": "tiny-local", "NAUTILUS_LLM_TIMEOUT": "5"})


def assert_no_key(decision, caplog, capsys) -> None:
    captured = capsys.readouterr()
    for text in (decision.reason, json.dumps(decision.details), caplog.text, captured.out, captured.err):
        assert KEY not in text
        assert "5ecret" not in text


def test_good_answer_is_used_and_the_request_asks_for_a_strict_schema(chat, engine, make_input, caplog, capsys):
    chat.answer = (200, {"replicas": 4, "reason": "CPU is high but rising slowly."}, 0.0)

    decision = engine.decide(make_input(3, 1, 10, HOT))

    assert decision.replicas == 4
    assert decision.reason == ("Scale up from 3 to 4: the model tiny-local at http://127.0.0.1:"
                               f"{chat.url.split(':')[2].split('/')[0]} answered 4: CPU is high but rising slowly.")
    assert decision.details["fallback"] is False
    assert decision.details["recommendation"] == 6  # hpa's, for the caller's history
    request = chat.requests[0]
    assert request["path"] == "/v1/chat/completions"
    assert request["auth"] == f"Bearer {KEY}"
    body = request["body"]
    assert body["model"] == "tiny-local"
    schema = body["response_format"]
    assert schema["type"] == "json_schema" and schema["json_schema"]["strict"] is True
    assert schema["json_schema"]["schema"]["required"] == ["replicas", "reason"]
    facts = json.loads(body["messages"][-1]["content"])
    assert (facts["current_replicas"], facts["min_replicas"], facts["max_replicas"]) == (3, 1, 10)
    assert facts["hpa_would_choose"] == 6
    assert KEY not in json.dumps(body["messages"])
    assert_no_key(decision, caplog, capsys)


def test_out_of_range_answer_is_clamped(chat, engine, make_input):
    chat.answer = (200, {"replicas": 99, "reason": "Go big."}, 0.0)

    decision = engine.decide(make_input(3, 1, 10, HOT))

    assert decision.replicas == 10
    assert "answered 99" in decision.reason and "99 is clamped to the maximum of 10" in decision.reason


@pytest.mark.parametrize(
    ("status", "body", "delay", "cause"),
    [
        pytest.param(200, "replicas: four", 0.0, "the answer was not JSON", id="malformed"),
        pytest.param(200, {"replicas": "4", "reason": "x"}, 0.0, "replicas was not a whole number",
                     id="replicas-text"),
        pytest.param(200, {"replicas": -2, "reason": "x"}, 0.0, "replicas was -2, below 0", id="negative"),
        pytest.param(200, {"replicas": 4}, 0.0, "the answer had no reason", id="no-reason"),
        pytest.param(200, [4], 0.0, "not a JSON object", id="array"),
        pytest.param(200, {"replicas": 4, "reason": "x"}, 3.0, "did not answer within 1 s", id="timeout"),
        pytest.param(500, None, 0.0, "the model answered HTTP 500", id="500"),
        pytest.param(401, None, 0.0, "the model answered HTTP 401 (the API key was refused)", id="401"),
    ],
)
def test_failures_fall_back_to_hpa_and_say_so(chat, make_input, caplog, capsys, status, body, delay, cause):
    engine = LlmEngine({"OPENAI_API_KEY": KEY, "NAUTILUS_LLM_BASE_URL": chat.url})
    chat.answer = (status, body, delay)
    data = make_input(3, 1, 10, HOT, timeout=1)

    with caplog.at_level(logging.WARNING):
        decision = engine.decide(data)

    assert decision.replicas == HpaEngine().decide(make_input(3, 1, 10, HOT)).replicas == 6
    assert decision.reason.startswith("Scale up from 3 to 6: the llm engine fell back to hpa because ")
    assert cause in decision.reason
    assert "ceil(1.8 x 3) = 6" in decision.reason  # hpa's own explanation follows
    assert decision.details["fallback"] is True
    assert_no_key(decision, caplog, capsys)


def test_unreachable_server_falls_back(make_input):
    engine = LlmEngine({"NAUTILUS_LLM_BASE_URL": "http://127.0.0.1:9/v1"})

    decision = engine.decide(make_input(3, 1, 10, HOT, timeout=2))

    assert decision.replicas == 6
    assert "the model could not be reached" in decision.reason


def test_options_override_the_environment(chat, make_input):
    engine = LlmEngine({"OPENAI_API_KEY": KEY, "NAUTILUS_LLM_BASE_URL": "http://127.0.0.1:9/v1"})
    chat.answer = (200, {"replicas": 5, "reason": "fine"}, 0.0)

    decision = engine.decide(make_input(3, 1, 10, HOT, base_url=chat.url, model="other"))

    assert decision.replicas == 5
    assert chat.requests[0]["body"]["model"] == "other"


def test_hpa_options_shape_the_fallback(chat, engine, make_input):
    chat.answer = (500, None, 0.0)
    behavior = {"scaleUp": {"policies": [{"type": "Pods", "value": 1, "periodSeconds": 60}]}}

    decision = engine.decide(make_input(3, 1, 10, HOT, behavior=behavior))

    assert decision.replicas == 4
    assert "Pods 1 per 60 s" in decision.reason


def test_unconfigured_engine_refuses_clearly(make_input):
    with pytest.raises(ConfigError, match=r"set OPENAI_API_KEY .* or NAUTILUS_LLM_BASE_URL"):
        LlmEngine({}).decide(make_input(3, 1, 10, HOT))


@pytest.mark.parametrize(
    ("options", "field"),
    [({"base_url": "ftp://x"}, "options.base_url"), ({"base_url": 7}, "options.base_url"),
     ({"model": ""}, "options.model"), ({"timeout": 0}, "options.timeout"),
     ({"timeout": 301}, "options.timeout"), ({"api_key": "x"}, "options.api_key")],
    ids=["base-url-scheme", "base-url-type", "model", "timeout-zero", "timeout-long", "no-key-option"],
)
def test_bad_options_name_the_field(make_input, options, field):
    with pytest.raises(InvalidObjectError) as err:
        LlmEngine({"OPENAI_API_KEY": KEY}).decide(make_input(3, 1, 10, HOT, **options))

    assert err.value.field == field
    assert KEY not in str(err.value)


@pytest.mark.parametrize(
    ("env", "says"),
    [({"NAUTILUS_LLM_TIMEOUT": "soon"}, "NAUTILUS_LLM_TIMEOUT is 'soon'"),
     ({"NAUTILUS_LLM_TIMEOUT": "-1"}, "NAUTILUS_LLM_TIMEOUT is '-1'"),
     ({"NAUTILUS_LLM_BASE_URL": "127.0.0.1:8080"}, "NAUTILUS_LLM_BASE_URL must be an http(s) URL")],
    ids=["timeout-text", "timeout-negative", "base-url"],
)
def test_bad_environment_is_a_config_error(make_input, env, says):
    with pytest.raises(ConfigError) as err:
        LlmEngine({"OPENAI_API_KEY": KEY, **env}).decide(make_input(3, 1, 10, HOT))

    assert says in str(err.value)


@settings(max_examples=50, deadline=None)
@given(st.one_of(
    st.text(max_size=200),
    st.recursive(st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
                 lambda inner: st.lists(inner, max_size=3) | st.dictionaries(
                     st.sampled_from(["replicas", "reason", "x"]), inner, max_size=3),
                 max_leaves=8).map(json.dumps),
))
def test_any_answer_parses_to_a_count_and_a_short_reason_or_is_refused(content):
    try:
        replicas, reason = parse_answer(content)
    except AnswerError:
        return
    assert isinstance(replicas, int) and not isinstance(replicas, bool) and replicas >= 0
    assert 0 < len(reason) <= 300 and "\n" not in reason


def test_repr_hides_the_key():
    assert KEY not in repr(LlmEngine({"OPENAI_API_KEY": KEY}))


def test_registered_only_when_configured(monkeypatch):
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    monkeypatch.delenv("NAUTILUS_LLM_BASE_URL", raising=False)
    assert "llm" not in build_plugin_manager().scaling_engines()

    monkeypatch.setenv("NAUTILUS_LLM_BASE_URL", "http://127.0.0.1:9/v1")
    engines = build_plugin_manager().scaling_engines()
    assert engines["llm"].plugin == "scaling"
    assert engines["llm"].obj.name == "llm"

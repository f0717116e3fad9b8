"""The ``llm`` engine: asks an OpenAI-compatible chat model for the replica count, ``hpa`` as the net.

Owns the settings, the request and the checking of the answer. The engine first runs ``hpa`` on
the same input (its decision is the fallback and is shown to the model), then sends one
chat-completions request through the ``openai`` client library (the ``nautilus-scaling[llm]``
extra) asking for a strict JSON-schema answer ``{"replicas": int, "reason": str}``. A valid answer
is clamped to [min_replicas, max_replicas]. Any failure (no connection, a timeout, an HTTP error
such as 401 or 500, an answer that is not the schema's JSON, replicas that are not a whole number)
gives the ``hpa`` decision, and the reason opens by saying the engine fell back and why.

Settings, each from ``options`` first, then the environment given to the engine (``os.environ``
by default): ``base_url`` / ``NAUTILUS_LLM_BASE_URL`` (default the OpenAI API), ``model`` /
``NAUTILUS_LLM_MODEL`` (default ``gpt-4o-mini``), ``timeout`` / ``NAUTILUS_LLM_TIMEOUT`` (seconds,
default 10). The API key comes only from ``OPENAI_API_KEY`` (never from options, which may be
stored in a custom resource); a local server without keys needs only the base URL. The engine is
off unless configured: the plugin registers it only when ``OPENAI_API_KEY`` or
``NAUTILUS_LLM_BASE_URL`` is set and ``openai`` is installed, and ``decide`` on an unconfigured
engine raises :class:`~nautilus_core.errors.ConfigError` saying what to set. The key never
appears in a reason, detail, log or error: reasons name only the HTTP status or the kind of
failure, never the server's text, and any text shown is scrubbed of the key.

Options: ``base_url``, ``model``, ``timeout``, and every ``hpa`` option (for the fallback and the
hint). ``details["recommendation"]`` is the hpa recommendation, so a caller keeps one history.

Called by the scaling controller through the registry built from ``plugin.py``; the only I/O is
the one request to the configured model.
"""

from __future__ import annotations

import dataclasses
import importlib.util
import json
import math
import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import structlog

from nautilus_core.errors import ConfigError, InvalidObjectError
from nautilus_core.types import Decision, ScalingInput
from nautilus_scaling import hpa
from nautilus_scaling.explain import clamp, headline, num, sentence
from nautilus_scaling.validation import decision_time, is_missing, number_option, object_name, validate

log = structlog.get_logger(__name__)

NAME = "llm"
OPTIONS = (*hpa.OPTIONS, "base_url", "model", "timeout")
DEFAULT_MODEL = "gpt-4o-mini"
DEFAULT_TIMEOUT = 10.0
MAX_TIMEOUT = 300.0
MAX_REASON = 300
SCHEMA = {
    "type": "object",
    "properties": {
        "replicas": {"type": "integer", "description": "the replica count to run now"},
        "reason": {"type": "string", "description": "one sentence explaining the count"},
    },
    "required": ["replicas", "reason"],
    "additionalProperties": False,
}
SYSTEM = (
    "You decide how many replicas a Kubernetes Deployment should run. You get its current, minimum "
    "and maximum replica counts, its metrics (a 'gt' metric wants more replicas when its value is "
    "above its target, an 'lt' metric when it is below), and what the Kubernetes HPA rule would "
    "choose. Answer with the JSON object of the schema only: replicas (a whole number within the "
    "minimum and maximum) and a one-sentence reason."
)


def configured(environ: Mapping[str, str]) -> bool:
    """Whether the environment turns the engine on (an API key or a base URL)."""
    return bool(environ.get("OPENAI_API_KEY") or environ.get("NAUTILUS_LLM_BASE_URL"))


def available() -> bool:
    """Whether the ``openai`` client library (the ``llm`` extra) is installed."""
    return importlib.util.find_spec("openai") is not None


def _where(base_url: str) -> str:
    """The base URL as a reason shows it: scheme, host and port, never user info or a query."""
    parts = urlsplit(base_url)
    host = parts.hostname or "?"
    port = f":{parts.port}" if parts.port else ""
    return f"{parts.scheme}://{host}{port}"


@dataclass(frozen=True)
class LlmSettings:
    base_url: str | None
    model: str
    timeout: float


class AnswerError(ValueError):
    """The model's answer is not the schema's JSON; the message says what is wrong (no key)."""


def parse_answer(content: object) -> tuple[int, str]:
    """``(replicas, reason)`` from the message content, or :class:`AnswerError`."""
    if not isinstance(content, str) or not content.strip():
        raise AnswerError("the answer was empty")
    try:
        answer = json.loads(content)
    except ValueError:
        raise AnswerError("the answer was not JSON") from None
    if not isinstance(answer, dict):
        raise AnswerError("the answer was not a JSON object")
    replicas = answer.get("replicas")
    if isinstance(replicas, float) and math.isfinite(replicas) and replicas == int(replicas):
        replicas = int(replicas)
    if not isinstance(replicas, int) or isinstance(replicas, bool):
        raise AnswerError("the answer's replicas was not a whole number")
    if replicas < 0:
        raise AnswerError(f"the answer's replicas was {replicas}, below 0")
    reason = answer.get("reason")
    if not isinstance(reason, str) or not reason.strip():
        raise AnswerError("the answer had no reason")
    text = " ".join(reason.split())
    if len(text) > MAX_REASON:
        text = text[: MAX_REASON - 3].rstrip() + "..."
    return replicas, text


class LlmEngine:
    """Asks a chat model; falls back to ``hpa`` on any failure."""

    name = NAME

    def __init__(self, environ: Mapping[str, str] | None = None) -> None:
        env = os.environ if environ is None else environ
        self._key = env.get("OPENAI_API_KEY") or None
        self._env = {k: env[k] for k in ("NAUTILUS_LLM_BASE_URL", "NAUTILUS_LLM_MODEL",
                                         "NAUTILUS_LLM_TIMEOUT") if env.get(k)}

    def __repr__(self) -> str:  # never show the key
        return f"LlmEngine(configured={bool(self._key or self._env.get('NAUTILUS_LLM_BASE_URL'))})"

    def _settings(self, data: ScalingInput) -> LlmSettings:
        """The settings of this decision: options win over the environment; bad ones name the field."""
        env_url = self._env.get("NAUTILUS_LLM_BASE_URL")
        if env_url is not None and urlsplit(env_url).scheme not in ("http", "https"):
            raise ConfigError("NAUTILUS_LLM_BASE_URL must be an http(s) URL such as http://127.0.0.1:8080/v1")
        base_url = data.options.get("base_url", env_url)
        if base_url is not None and (not isinstance(base_url, str)
                                     or urlsplit(base_url).scheme not in ("http", "https")):
            raise InvalidObjectError(object_name(data), "options.base_url",
                                     "is not an http(s) URL; expected one such as http://127.0.0.1:8080/v1")
        model = data.options.get("model", self._env.get("NAUTILUS_LLM_MODEL", DEFAULT_MODEL))
        if not isinstance(model, str) or not model.strip():
            raise InvalidObjectError(object_name(data), "options.model",
                                     f"is {model!r}; expected a model name such as {DEFAULT_MODEL}")
        raw: Any = self._env.get("NAUTILUS_LLM_TIMEOUT", DEFAULT_TIMEOUT)
        try:
            timeout = float(raw)
        except ValueError:
            raise ConfigError(f"NAUTILUS_LLM_TIMEOUT is {raw!r}; expected seconds") from None
        if not 0 < timeout <= MAX_TIMEOUT:
            raise ConfigError(f"NAUTILUS_LLM_TIMEOUT is {raw!r}; expected seconds above 0, at most {MAX_TIMEOUT}")
        timeout = number_option(data, "timeout", timeout, minimum=0.0, maximum=MAX_TIMEOUT, above_minimum=True)
        return LlmSettings(base_url, model, timeout)

    def _scrub(self, text: str) -> str:
        return text.replace(self._key, "***") if self._key else text

    def decide(self, data: ScalingInput) -> Decision:
        validate(data, engine=NAME, options=OPTIONS, positive_target=True)
        settings = self._settings(data)
        if not (self._key or settings.base_url):
            raise ConfigError("engine 'llm' is not configured: set OPENAI_API_KEY (for the OpenAI API) "
                              "or NAUTILUS_LLM_BASE_URL (for an OpenAI-compatible server)")
        if not available():
            raise ConfigError("engine 'llm' needs the openai client library: "
                              "pip install 'nautilus-scaling[llm]'")
        hpa_options = {k: v for k, v in data.options.items() if k in hpa.OPTIONS}
        fallback = hpa.HpaEngine().decide(dataclasses.replace(data, options=hpa_options))
        where = _where(settings.base_url) if settings.base_url else "the OpenAI API"
        try:
            replicas, reason = parse_answer(self._ask(data, settings, fallback))
        except AnswerError as err:
            return self._fall_back(data, fallback, settings, where, self._scrub(str(err)))
        except Exception as err:  # any client failure falls back; _failure names its kind
            return self._fall_back(data, fallback, settings, where, self._failure(err, settings))
        final, clamp_note = clamp(replicas, data.min_replicas, data.max_replicas)
        current = data.current_replicas
        details = self._details(data, settings, fallback, answer={"replicas": replicas, "reason": reason})
        details.update(fallback=False, clamped=final, replica_change=final - current)
        said = f"the model {settings.model} at {where} answered {replicas}: {self._scrub(reason)}"
        return Decision(final, sentence(headline(current, final), [said.rstrip("."), clamp_note or ""]),
                        details)

    def _ask(self, data: ScalingInput, settings: LlmSettings, fallback: Decision) -> object:
        import openai

        client = openai.OpenAI(api_key=self._key or "unused", base_url=settings.base_url,
                               timeout=settings.timeout, max_retries=0)
        facts = {
            "deployment": f"{data.namespace}/{data.name}",
            "current_replicas": data.current_replicas,
            "min_replicas": data.min_replicas,
            "max_replicas": data.max_replicas,
            "metrics": [{"name": m.name, "value": None if is_missing(m.value) else m.value,
                         "target": m.target, "condition": m.condition} for m in data.metrics],
            "hpa_would_choose": fallback.replicas,
            "hpa_reason": fallback.reason,
            "now": decision_time(data, required=False),
        }
        try:
            response = client.chat.completions.create(
                model=settings.model,
                messages=[{"role": "system", "content": SYSTEM},
                          {"role": "user", "content": json.dumps(facts)}],
                response_format={"type": "json_schema", "json_schema": {
                    "name": "scaling_decision", "strict": True, "schema": SCHEMA}},
                temperature=0,
            )
        finally:
            client.close()
        choices = getattr(response, "choices", None)
        if not choices:
            raise AnswerError("the answer had no choices")
        return getattr(choices[0].message, "content", None)

    @staticmethod
    def _failure(err: Exception, settings: LlmSettings) -> str:
        """The kind of failure, without the server's text (which may echo part of the key)."""
        import openai

        if isinstance(err, openai.APITimeoutError):
            return f"the model did not answer within {num(settings.timeout)} s"
        if isinstance(err, openai.APIStatusError):
            hint = " (the API key was refused)" if err.status_code in (401, 403) else ""
            return f"the model answered HTTP {err.status_code}{hint}"
        if isinstance(err, openai.APIConnectionError):
            return "the model could not be reached"
        return f"the request failed ({type(err).__name__})"

    def _details(self, data: ScalingInput, settings: LlmSettings, fallback: Decision,
                 answer: dict[str, Any] | None) -> dict[str, Any]:
        return {
            "engine": NAME, "model": settings.model,
            "base_url": _where(settings.base_url) if settings.base_url else None,
            "current_replicas": data.current_replicas, "min_replicas": data.min_replicas,
            "max_replicas": data.max_replicas, "answer": answer,
            "recommendation": fallback.details.get("recommendation", data.current_replicas),
            "hpa": dict(fallback.details),
        }

    def _fall_back(self, data: ScalingInput, fallback: Decision, settings: LlmSettings, where: str,
                   why: str) -> Decision:
        log.warning("llm_fallback", obj=f"{data.namespace}/{data.name}", model=settings.model,
                    base_url=where, cause=why)
        details = self._details(data, settings, fallback, answer=None)
        details.update(fallback=True, fallback_cause=why, clamped=fallback.replicas,
                       replica_change=fallback.replicas - data.current_replicas)
        head, _, body = fallback.reason.partition(": ")
        note = f"the llm engine fell back to hpa because {why} (model {settings.model} at {where})"
        reason = f"{head}: {note}; {body}" if body else f"{head.rstrip('.')}: {note}."
        return Decision(fallback.replicas, reason, details)

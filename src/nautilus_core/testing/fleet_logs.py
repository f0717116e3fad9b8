"""Synthetic container logs for the fleet generator.

Owns the text of generated logs: application lines at INFO, WARN and ERROR levels in a few common
formats (plain, logfmt-ish, JSON), and for failing containers a multi-line Python traceback or Java
exception with ``Caused by`` and ``... N more``. Deterministic from the generator's random source.
Called by ``fleet.py``, which stores the text with ``KubeEmulator.set_logs``.
"""

from __future__ import annotations

import random

_MESSAGES = {
    "INFO": (
        "request completed path=/api/v1/orders status=200 duration_ms={n}",
        "connected to database host=postgres.{ns}.svc pool_size=10",
        "cache warmed entries={n}",
        "health check ok",
        "processed batch size={n}",
        "listening on 0.0.0.0:8080",
    ),
    "WARN": (
        "slow query took {n}ms table=orders",
        "retrying upstream call attempt=2 backoff_ms={n}",
        "connection pool near capacity in_use={n} max=100",
        "deprecated config key 'timeout' used",
    ),
    "ERROR": (
        "upstream request failed status=503 service=inventory.{ns}",
        "failed to process message id={n}: validation error",
        "database connection refused: dial tcp 10.96.0.{n}:5432: connect: connection refused",
    ),
}

_PYTHON_TRACE = """Traceback (most recent call last):
  File "/app/service/main.py", line 88, in <module>
    run(settings)
  File "/app/service/worker.py", line 142, in run
    handler.process(message)
  File "/app/service/handlers.py", line 57, in process
    total = sum(item["price"] for item in order["items"])
KeyError: 'items'"""

_JAVA_TRACE = """Exception in thread "main" java.lang.IllegalStateException: Failed to start application
\tat com.example.app.Application.main(Application.java:42)
\tat java.base/jdk.internal.reflect.NativeMethodAccessorImpl.invoke0(Native Method)
Caused by: java.sql.SQLTransientConnectionException: HikariPool-1 - Connection is not available
\tat com.zaxxer.hikari.pool.HikariPool.createTimeoutException(HikariPool.java:696)
\tat com.example.app.repository.OrderRepository.findAll(OrderRepository.java:31)
\t... 12 more"""

_OOM_TRACE = """java.lang.OutOfMemoryError: Java heap space
\tat java.base/java.util.Arrays.copyOf(Arrays.java:3512)
\tat com.example.app.cache.ReportCache.load(ReportCache.java:77)
\t... 8 more"""


def _line(rng: random.Random, level: str, namespace: str, stamp: str, style: int) -> str:
    message = rng.choice(_MESSAGES[level]).format(n=rng.randint(1, 999), ns=namespace)
    if style == 0:
        return f"{stamp} {level} {message}"
    if style == 1:
        return f'time="{stamp}" level={level.lower()} msg="{message}"'
    return f'{{"ts": "{stamp}", "level": "{level.lower()}", "msg": "{message}"}}'


def container_log(
    rng: random.Random, namespace: str, lines: int, failing: bool, java: bool, oom: bool = False
) -> str:
    """Log text of one container: mostly INFO, some WARN; failing ones end with ERROR and a trace."""
    style = rng.randrange(3)
    out = []
    for i in range(lines):
        roll = rng.random()
        level = "ERROR" if failing and roll > 0.8 else "WARN" if roll > 0.88 else "INFO"
        out.append(_line(rng, level, namespace, f"2024-06-01T12:{i // 60 % 60:02d}:{i % 60:02d}Z", style))
    if failing:
        out.append(_line(rng, "ERROR", namespace, "2024-06-01T12:59:59Z", style))
        out.append(_OOM_TRACE if oom else _JAVA_TRACE if java else _PYTHON_TRACE)
    return "\n".join(out) + "\n"

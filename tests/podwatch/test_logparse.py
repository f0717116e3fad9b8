"""Log classification: levels from the common line formats, each stack trace (Python, Java, Go, Node.js)
as one exception entry, the kubelet's timestamps, and logs read from the emulated fleet with kubectl."""

from __future__ import annotations

import os
import shutil
import subprocess
from datetime import UTC, datetime
from pathlib import Path

import pytest

from nautilus_core.podwatch.logparse import LogEntry, LogLevel, level_counts, parse_log
from nautilus_core.testing import KubeEmulator
from nautilus_core.testing.fleet import FleetSpec, populate

INFO, WARNING, ERROR, EXCEPTION = LogLevel.INFO, LogLevel.WARNING, LogLevel.ERROR, LogLevel.EXCEPTION

LINES = [
    # plain prefixes and application timestamps
    ("ERROR could not reach upstream", ERROR),
    ("WARN pool near capacity", WARNING),
    ("INFO listening on :8080", INFO),
    ("2024-06-01T12:00:00Z ERROR upstream request failed status=503", ERROR),
    ("2024-06-01 12:00:00,123 - app.db - WARNING - slow query took 812ms", WARNING),
    ("WARNING:root:disk almost full", WARNING),
    ("12:00:00.001 [main] ERROR o.s.boot.SpringApplication - Application run failed", ERROR),
    ("FATAL: password authentication failed for user \"app\"", ERROR),
    ("CRITICAL worker died", ERROR),
    ("SEVERE: Servlet.service() threw exception", ERROR),
    ("DEBUG cache hit key=orders:42", INFO),
    ("error: unable to load config file /etc/app.yaml", ERROR),
    ("Warning: resource is deprecated", WARNING),
    ("2024-06-01T12:00:00.000Z\terror\tapp/main.go:42\tconnection refused", ERROR),  # zap console
    # bracketed levels
    ("[ERROR] payment declined", ERROR),
    ("[2024-06-01 12:00:00] [warn] retrying", WARNING),
    ("2024/06/01 12:00:00 [error] 29#29: *1 connect() failed (111: Connection refused)", ERROR),  # nginx
    ("[2024-06-01T12:00:00Z INFO  app] started", INFO),  # Rust env_logger
    ("<warn> low memory", WARNING),
    # JSON lines
    ('{"ts": "2024-06-01T12:00:00Z", "level": "error", "msg": "boom"}', ERROR),
    ('{"severity": "WARNING", "message": "slow"}', WARNING),
    ('{"lvl": "info", "msg": "ok"}', INFO),
    ('{"level": 50, "msg": "pino error"}', ERROR),
    ('{"level": 40, "msg": "pino warn"}', WARNING),
    ('{"level": 30, "msg": "pino info"}', INFO),
    ('{"severity": 500, "message": "cloud logging error"}', ERROR),
    ('{"log.level": "warn", "message": "ecs"}', WARNING),
    ('{"levelname": "ERROR", "message": "python json logger"}', ERROR),
    ('{"level": "error", "msg": "failed", "stack": "Error: failed\\n    at main (/app/index.js:3:9)"}', EXCEPTION),
    ('{"msg": "no level here, but the word ERROR"}', ERROR),
    ('{"msg": "no level at all"}', INFO),
    # logfmt
    ('time="2024-06-01T12:00:00Z" level=error msg="upstream failed"', ERROR),
    ("ts=2024-06-01T12:00:00Z lvl=warn msg=slow", WARNING),
    ("t=2024-06-01T12:00:00+0000 lvl=eror msg=\"Failed to start\"", ERROR),  # log15 / grafana
    ('level="warning" msg="quoted level"', WARNING),
    ("level=info msg=\"retrying after ERROR\"", INFO),
    # klog
    ("E0102 15:04:05.123456       1 reflector.go:138] failed to list *v1.Pod: connection refused", ERROR),
    ("W0102 15:04:05.123456       1 warnings.go:70] v1 Endpoints is deprecated", WARNING),
    ("I0102 15:04:05.123456       1 main.go:12] starting", INFO),
    ("F0102 15:04:05.123456       1 main.go:99] cannot continue", ERROR),
    # exceptions named on one line
    ("java.lang.OutOfMemoryError: Java heap space", ERROR),
    ("TypeError: Cannot read properties of undefined (reading 'id')", ERROR),
    # no level
    ("request completed path=/api/v1/orders status=200", INFO),
    ("there was no error in this request", INFO),
    ("ERR_CONNECTION_REFUSED is a browser code, not a level", INFO),
]


@pytest.mark.parametrize(("line", "level"), LINES, ids=[line[:40] for line, _ in LINES])
def test_line_levels(line: str, level: LogLevel) -> None:
    (entry,) = parse_log(line + "\n", timestamps=False)
    assert (entry.level, entry.text) == (level, line)


PYTHON = '''Traceback (most recent call last):
  File "/app/service/worker.py", line 142, in run
    handler.process(message)
  File "/app/service/handlers.py", line 57, in process
    total = sum(item["price"] for item in order["items"])
KeyError: 'items'

During handling of the above exception, another exception occurred:

Traceback (most recent call last):
  File "/app/service/main.py", line 88, in <module>
    run(settings)
RuntimeError: worker failed'''

JAVA = '''Exception in thread "main" java.lang.IllegalStateException: Failed to start application
\tat com.example.app.Application.main(Application.java:42)
\tat java.base/jdk.internal.reflect.NativeMethodAccessorImpl.invoke0(Native Method)
Caused by: java.sql.SQLTransientConnectionException: HikariPool-1 - Connection is not available
\tat com.zaxxer.hikari.pool.HikariPool.createTimeoutException(HikariPool.java:696)
\t... 12 more
\tSuppressed: java.io.IOException: close failed
\t\tat com.example.app.Pool.close(Pool.java:10)'''

GO = '''panic: runtime error: invalid memory address or nil pointer dereference
[signal SIGSEGV: segmentation violation code=0x1 addr=0x0 pc=0x6c1f2a]

goroutine 42 [running]:
main.(*Server).handle(0x0, {0x7e8a30, 0xc0000b6000})
\t/app/server.go:42 +0x2a
net/http.HandlerFunc.ServeHTTP(0xc0001a2000?, {0x7e8a30?, 0xc0000b6000?}, 0x0?)
\t/usr/local/go/src/net/http/server.go:2136 +0x29
created by net/http.(*Server).Serve in goroutine 1
\t/usr/local/go/src/net/http/server.go:3086 +0x4db
exit status 2'''

NODE = '''/app/src/server.js:42
    throw new Error('database unreachable');
    ^

Error: database unreachable
    at Object.<anonymous> (/app/src/server.js:42:11)
    at Module._compile (node:internal/modules/cjs/loader:1256:14)
    at TCPConnectWrap.afterConnect [as oncomplete] (node:net:1555:16) {
  errno: -111,
  code: 'ECONNREFUSED'
}

Node.js v18.17.0'''

NODE_PLAIN = '''TypeError: Cannot read properties of undefined (reading 'id')
    at getUser (/app/src/users.js:12:20)
    at async Promise.all (index 0)'''

RUBY = '''/app/lib/worker.rb:10:in `perform': undefined method `id' for nil:NilClass (NoMethodError)
\tfrom /app/lib/runner.rb:5:in `block in run'
\tfrom /app/bin/worker:3:in `<main>\''''


@pytest.mark.parametrize("trace", [PYTHON, JAVA, GO, NODE, NODE_PLAIN, RUBY],
                         ids=["python-chained", "java", "go-panic", "node", "node-plain", "ruby"])
def test_a_stack_trace_is_one_exception_entry(trace: str) -> None:
    raw = f"INFO before\n{trace}\nWARN after\n"
    entries = parse_log(raw, timestamps=False)
    assert [e.level for e in entries] == [INFO, EXCEPTION, WARNING]
    assert entries[1].text == "\n".join(line for line in trace.splitlines() if line.strip())
    assert (entries[0].text, entries[2].text) == ("INFO before", "WARN after")


def test_the_log_line_before_a_trace_stays_an_error_line() -> None:
    raw = "2024-06-01 12:00:00 ERROR [main] App - Application run failed\n" + JAVA + "\n"
    entries = parse_log(raw, timestamps=False)
    assert [e.level for e in entries] == [ERROR, EXCEPTION]
    assert level_counts(entries) == {ERROR: 1, EXCEPTION: 1}


def test_two_traces_back_to_back_are_two_entries() -> None:
    python_one = "Traceback (most recent call last):\n  File \"a.py\", line 1, in <module>\nValueError: one"
    entries = parse_log(f"{python_one}\n{python_one}\n{GO}\n", timestamps=False)
    assert [e.level for e in entries] == [EXCEPTION] * 3


def test_a_trace_cut_by_the_tail_is_still_an_exception() -> None:
    tail = '  File "/app/x.py", line 3, in f\n    g()\nZeroDivisionError: division by zero\nINFO next\n'
    assert [e.level for e in parse_log(tail, timestamps=False)] == [EXCEPTION, INFO]


def test_kubelet_timestamps_are_parsed_and_stripped() -> None:
    raw = ("2024-06-01T12:00:00.123456789Z ERROR boom\n"
           "2024-06-01T12:00:01.000000001Z Traceback (most recent call last):\n"
           "2024-06-01T12:00:01.000000002Z   File \"/app/main.py\", line 1, in <module>\n"
           "2024-06-01T12:00:01.000000003Z KeyError: 'x'\n"
           "not a timestamp INFO ok\n")
    entries = parse_log(raw)
    assert [(e.ts, e.level) for e in entries] == [
        (datetime(2024, 6, 1, 12, 0, 0, 123456, tzinfo=UTC), ERROR),
        (datetime(2024, 6, 1, 12, 0, 1, 0, tzinfo=UTC), EXCEPTION),
        (None, INFO),
    ]
    assert entries[1].text == "Traceback (most recent call last):\n  File \"/app/main.py\", line 1, in <module>\n" \
                              "KeyError: 'x'"
    assert parse_log("2024-06-01T12:00:00Z x\n", timestamps=False) == [LogEntry(None, INFO, "2024-06-01T12:00:00Z x")]


def test_blank_lines_crlf_and_nul_bytes() -> None:
    entries = parse_log("INFO a\r\n\r\n   \nERROR b\x00c\n", timestamps=False)
    assert [(e.level, e.text) for e in entries] == [(INFO, "INFO a"), (ERROR, "ERROR b\ufffdc")]
    assert parse_log("", timestamps=False) == []


def test_secrets_are_masked_by_default_and_on_request_only() -> None:
    raw = "2024-06-01T12:00:00Z INFO connecting to postgresql://app:s3cr3t@db:5432/app\n" \
          "2024-06-01T12:00:01Z ERROR login failed password=hunter2\n"
    masked = parse_log(raw)
    assert [e.text for e in masked] == ["INFO connecting to postgresql://app:***@db:5432/app",
                                        "ERROR login failed password=***"]
    assert "hunter2" in parse_log(raw, mask=False)[1].text


def test_a_private_key_in_a_log_is_one_masked_entry() -> None:
    raw = ("2024-06-01T12:00:00Z INFO loaded key\n"
           "2024-06-01T12:00:00Z -----BEGIN RSA PRIVATE KEY-----\n"
           "2024-06-01T12:00:00Z MIIEowIBAAKCAQEA0Z3VS5JJcds3xfn/ygWyF8PbnGy0AHB7MhgwMbRvI0MBZhpF\n"
           "2024-06-01T12:00:00Z -----END RSA PRIVATE KEY-----\n"
           "2024-06-01T12:00:01Z INFO next\n")
    texts = [e.text for e in parse_log(raw)]
    assert texts == ["INFO loaded key", "-----BEGIN RSA PRIVATE KEY-----***-----END RSA PRIVATE KEY-----",
                     "INFO next"]
    unmasked = parse_log(raw, mask=False)
    assert len(unmasked) == 3 and "MIIEow" in unmasked[1].text


@pytest.mark.skipif(shutil.which("kubectl") is None, reason="kubectl is not installed")
def test_logs_of_the_emulated_fleet_read_with_kubectl(kube_emulator: KubeEmulator, tmp_path: Path) -> None:
    summary = populate(kube_emulator, FleetSpec(namespaces=1, pods_per_namespace=14, seed=3, log_lines=30))
    kubeconfig = kube_emulator.write_kubeconfig(tmp_path / "kubeconfig", context="emulator")
    namespace, name = summary.pods_in("crashloop")[0]

    def logs(*args: str) -> str:
        return kubectl("logs", name, "--timestamps", *args)

    def kubectl(*args: str) -> str:
        return subprocess.run(["kubectl", "-n", namespace, *args], check=True, capture_output=True, text=True,
                              timeout=60, env={"PATH": os.environ.get("PATH", "/usr/bin:/bin"),
                                               "HOME": str(tmp_path), "KUBECONFIG": str(kubeconfig)}).stdout

    container = kubectl("get", "pod", name, "-o", "jsonpath={.spec.containers[0].name}")
    previous = parse_log(logs("-c", container, "--previous"))
    counts = level_counts(previous)
    assert counts[EXCEPTION] == 1 and counts[ERROR] >= 1
    assert all(e.ts is not None for e in previous)
    trace = next(e for e in previous if e.level is EXCEPTION)
    assert trace.text.count("\n") >= 3 and ("Traceback" in trace.text or "\tat " in trace.text)
    current = parse_log(logs("-c", container, "--tail", "5"))
    assert 1 <= len(current) <= 5

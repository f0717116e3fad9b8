"""A real Prometheus (Debian's ``prometheus`` binary) on 127.0.0.1 scraping a local exporter every second.

``exporter`` serves ``http_requests_total`` (a counter the test drives) with prometheus_client on a free
loopback port; ``prometheus`` starts the server with a temporary TSDB, waits until its first scrape is in,
and stops it at the end of the module. Skipped with a reason only where the binary is not installed.
"""

from __future__ import annotations

import shutil
import socket
import subprocess
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from prometheus_client import CollectorRegistry, Counter
from prometheus_client.exposition import start_http_server


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Exporter:
    port: int
    requests: Counter


@dataclass
class Prometheus:
    url: str
    exporter: Exporter


@pytest.fixture(scope="module")
def prometheus(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Prometheus]:
    binary = shutil.which("prometheus")
    if binary is None:
        pytest.skip("the prometheus binary is not installed (Debian package 'prometheus')")
    registry = CollectorRegistry()
    counter = Counter("http_requests", "Requests served", registry=registry)
    exporter_port = free_port()
    server, thread = start_http_server(exporter_port, addr="127.0.0.1", registry=registry)
    work = tmp_path_factory.mktemp("prometheus")
    config = work / "prometheus.yml"
    config.write_text(f"""global:
  scrape_interval: 1s
  evaluation_interval: 1s
scrape_configs:
  - job_name: app
    static_configs:
      - targets: ["127.0.0.1:{exporter_port}"]
""")
    port = free_port()
    proc = subprocess.Popen([binary, f"--config.file={config}", f"--storage.tsdb.path={work / 'data'}",
                             f"--web.listen-address=127.0.0.1:{port}", "--log.level=warn"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                with urllib.request.urlopen(f"{url}/api/v1/query?query=up", timeout=2) as answer:
                    if b'"value"' in answer.read():
                        break
            except OSError:
                pass
            assert time.monotonic() < deadline, "prometheus did not start scraping within 30 s"
            time.sleep(0.2)
        yield Prometheus(url, Exporter(exporter_port, counter))
    finally:
        proc.terminate()
        proc.wait(timeout=20)
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)

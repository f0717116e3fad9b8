"""The Prometheus client against a real Prometheus (PromQL evaluated for real) and local fakes."""

from __future__ import annotations

import http.server
import threading
import time

import pytest

from nautilus_core.scaling.prometheus import Auth, PrometheusClient, PrometheusUnavailable, PromQLError, QueryCache


def test_a_request_rate_is_real_promql(prometheus):
    client = PrometheusClient(prometheus.url)
    deadline = time.monotonic() + 20
    rate = None
    while time.monotonic() < deadline:
        prometheus.exporter.requests.inc(50)
        rate = client.query('sum(rate(http_requests_total[10s]))')
        if rate:
            break
        time.sleep(0.5)
    assert rate is not None and rate > 0
    assert client.query("vector(3)") == 3.0
    assert client.query("scalar(vector(2)) * 2") == 4.0


def test_empty_nan_and_several_series(prometheus):
    client = PrometheusClient(prometheus.url)
    assert client.query('up{job="no-such-job"}') is None           # empty vector: no value
    assert client.query("0 / 0") is None                              # NaN: no value
    with pytest.raises(PromQLError, match="returned 2 series"):
        client.query('label_replace(vector(1), "a", "x", "", "") or label_replace(vector(2), "a", "y", "", "")')


def test_invalid_promql_is_prometheus_own_bad_data_naming_the_query(prometheus):
    client = PrometheusClient(prometheus.url)
    with pytest.raises(PromQLError, match=r"query 'sum\(rate\(' : ?bad_data|query 'sum\(rate\(': bad_data"):
        client.query("sum(rate(")
    assert client.requests == 1                                       # not retried


def test_identical_queries_in_one_cycle_are_sent_once(prometheus):
    client = PrometheusClient(prometheus.url)
    cycle = QueryCache()
    for _ in range(5):
        assert cycle.query(client, "vector(7)") == 7.0
    assert cycle.query(client, "vector(8)") == 8.0
    assert (cycle.sent, client.requests) == (2, 2)


class _Fake(http.server.BaseHTTPRequestHandler):
    answers: list[tuple[int, dict[str, str], bytes]] = []
    seen: list[dict[str, str]] = []

    def do_GET(self) -> None:
        type(self).seen.append(dict(self.headers))
        status, headers, body = type(self).answers.pop(0) if type(self).answers else (
            200, {}, b'{"status":"success","data":{"resultType":"vector","result":[]}}')
        self.send_response(status)
        for k, v in headers.items():
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args) -> None:
        pass


@pytest.fixture
def fake():
    _Fake.answers, _Fake.seen = [], []
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Fake)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}", _Fake
    server.shutdown()
    server.server_close()


def test_429_and_5xx_are_retried_honouring_retry_after_then_reported(fake):
    url, handler = fake
    sleeps = []
    handler.answers = [(429, {"Retry-After": "1.5"}, b"slow down"), (503, {}, b"down"),
                       (200, {}, b'{"status":"success","data":{"resultType":"scalar","result":[1,"5"]}}')]
    client = PrometheusClient(url, attempts=3, backoff=0.01, sleep=sleeps.append)
    assert client.query("q") == 5.0
    assert sleeps[0] == 1.5 and len(sleeps) == 2
    handler.answers = [(500, {}, b"")] * 3
    with pytest.raises(PrometheusUnavailable, match="HTTP 500 after 3 attempts"):
        client.query("q")


def test_a_server_that_is_down_is_unavailable_and_secrets_stay_out_of_errors(fake):
    url, handler = fake
    client = PrometheusClient(url, auth=Auth(token="s3cret-token"), attempts=1)
    client.query("q")
    assert handler.seen[0]["Authorization"] == "Bearer s3cret-token"
    down = PrometheusClient("http://admin:hunter2@127.0.0.1:1", auth=Auth(token="s3cret-token"), attempts=2,
                            sleep=lambda s: None)
    with pytest.raises(PrometheusUnavailable) as info:
        down.query("q")
    assert "hunter2" not in str(info.value) and "s3cret" not in str(info.value)
    assert "s3cret" not in repr(down.auth)


def test_credentials_refused_is_a_clear_error(fake):
    url, handler = fake
    handler.answers = [(401, {}, b'{"status":"error","errorType":"unauthorized","error":"no"}')]
    with pytest.raises(PromQLError, match="credentials refused"):
        PrometheusClient(url, auth=Auth(username="u", password="p")).query("q")
    assert handler.seen[0]["Authorization"].startswith("Basic ")


def test_retries_switched_off_send_one_request(fake):
    from nautilus_core.retry import RetryPolicy

    url, handler = fake
    handler.answers = [(503, {"Retry-After": "1"}, b"down"), (200, {}, b"")]
    client = PrometheusClient(url, retry=RetryPolicy.off())
    with pytest.raises(PrometheusUnavailable, match="HTTP 503 after 1 attempts"):
        client.query("q")
    assert client.requests == 1

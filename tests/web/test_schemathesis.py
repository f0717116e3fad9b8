"""schemathesis against the app's own OpenAPI schema, over HTTP: no request gets a 500.

Every operation of ``/openapi.json`` gets a bounded number of generated requests, valid ones
(positive) and invalid ones (negative), against the served triage data set, on SQLite and PostgreSQL.
A 2xx answer must also match the schema the app publishes.
"""

from __future__ import annotations

import pytest
import requests
from hypothesis import HealthCheck, given, settings
from schemathesis import GenerationMode
from schemathesis.openapi import from_url

EXAMPLES = 25


@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE])
def test_no_generated_request_gets_a_server_error(web, mode):
    schema = from_url(web + "/openapi.json")
    operations = [result.ok() for result in schema.get_all_operations()]
    assert {op.path for op in operations} >= {"/api/v1/pods", "/api/v1/pods/{pod_id}/logs", "/api/v1/summary"}
    failures: list[str] = []
    with requests.Session() as session:
        for operation in operations:
            if mode is GenerationMode.NEGATIVE and not list(operation.iter_parameters()):
                continue  # nothing to make invalid (/healthz, /api/v1/config)
            check_operation(operation, mode, web, session, failures)
    assert failures == []


def check_operation(operation, mode, web, session, failures) -> None:
    @settings(max_examples=EXAMPLES, deadline=None, database=None, derandomize=True,
              suppress_health_check=list(HealthCheck))
    @given(case=operation.as_strategy(generation_mode=mode))
    def check(case):
        response = case.call(base_url=web, session=session)
        if response.status_code >= 500:
            failures.append(f"{operation.label}: {response.status_code} for {case.as_curl_command()}")
        elif mode is GenerationMode.POSITIVE and response.status_code < 300:
            operation.validate_response(response)

    check()

"""Secret masking of log text: each well-known form is masked and keeps its shape, ordinary lines are left
alone, a secret value never survives, and masking is idempotent."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st
from triage_helpers import property_settings

from nautilus_core.podwatch.secrets import mask_secrets

CASES = [
    ("Authorization: Bearer eyJhbGciOiJSUzI1NiJ9.payload.sig", "Authorization: Bearer ***"),
    ('curl -H "Authorization: Basic dXNlcjpwYXNzd29yZA==" https://api', 'curl -H "Authorization: Basic ***" https://api'),
    ("headers=map[Authorization:[Bearer abcdefghijklmnop] Accept:[*/*]]",
     "headers=map[Authorization:[Bearer ***] Accept:[*/*]]"),
    ('{"headers": {"authorization": "Token 0123456789abcdef"}}', '{"headers": {"authorization": "Token ***"}}'),
    ("calling upstream with bearer 0123456789abcdef0123", "calling upstream with bearer ***"),
    ("login failed password=hunter2 user=bob", "login failed password=*** user=bob"),
    ("DB_PASSWORD=s3cr3t! DB_USER=app", "DB_PASSWORD=*** DB_USER=app"),
    ("passwd: letmein", "passwd: ***"),
    ("client_secret=abc123&grant_type=client_credentials", "client_secret=***&grant_type=client_credentials"),
    ("aws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", "aws_secret_access_key = ***"),
    ("refresh_token=r1.abc.def expires_in=3600", "refresh_token=*** expires_in=3600"),
    ("GET /callback?code=x&access_token=tok123&state=s", "GET /callback?code=x&access_token=***&state=s"),
    ('{"user": "bob", "password": "p@ss word", "token": 123456}', '{"user": "bob", "password": "***", "token": ***}'),
    ("{'password': 'hunter2', 'user': 'bob'}", "{'password': '***', 'user': 'bob'}"),
    ('msg="{\\"apiKey\\": \\"k-123\\"}"', 'msg="{\\"apiKey\\": \\"***\\"}"'),
    ("config: {Password:hunter2 Host:db}", "config: {Password:*** Host:db}"),
    ("dbPassword=x1 accessToken=x2 X-Api-Key: x3", "dbPassword=*** accessToken=*** X-Api-Key: ***"),
    ("using key AKIAIOSFODNN7EXAMPLE for s3", "using key AKIA*** for s3"),
    ("temporary ASIAY34FZKBOKMUTVV7A ok", "temporary ASIA*** ok"),
    ("session eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c ok",
     "session eyJ*** ok"),
    ("connecting to postgresql://app:s3cr3t@db.shop.svc:5432/app", "connecting to postgresql://app:***@db.shop.svc:5432/app"),
    ("amqp://guest:guest@rabbitmq:5672/", "amqp://guest:***@rabbitmq:5672/"),
    ("redis://:only-password@cache:6379/0", "redis://:***@cache:6379/0"),
    ("-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEA\nabc\n-----END RSA PRIVATE KEY-----\nafter",
     "-----BEGIN RSA PRIVATE KEY-----***-----END RSA PRIVATE KEY-----\nafter"),
    ("-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjE\n", "-----BEGIN OPENSSH PRIVATE KEY-----***"),
    ("MIIEowIBAAKCAQEA\n-----END PRIVATE KEY-----\nINFO next", "***-----END PRIVATE KEY-----\nINFO next"),
    ("İstanbul İzmir password=hunter2", "İstanbul İzmir password=***"),  # lower() makes "İ" two characters
]

UNTOUCHED = [
    "request completed path=/api/v1/orders status=200 duration_ms=12",
    "max_tokens=512 token_count=12 tokens=5 password_file=/run/secrets/db token_type=Bearer",
    "signal=9 bypass=true compass=north passed=12",
    'secret "db-credentials" not found',
    "a bearer token is missing",
    "see https://example.com/docs?page=2 and http://host:8080/path",
    "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----",
    "PWD=/app HOME=/root",
]


@pytest.mark.parametrize(("text", "expected"), CASES, ids=[c[0][:30] for c in CASES])
def test_each_secret_form_is_masked(text: str, expected: str) -> None:
    assert mask_secrets(text) == expected
    assert mask_secrets(expected) == expected


@pytest.mark.parametrize("text", UNTOUCHED)
def test_ordinary_text_is_left_alone(text: str) -> None:
    assert mask_secrets(text) == text


SECRET = st.text(alphabet="abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789!#$%^*()+/._~-",
                 min_size=8, max_size=30).filter(lambda s: not s.startswith(("*", "-")))
TEMPLATES = st.sampled_from([
    "password={}", "PASSWORD: {}", '"password": "{}"', "token={} next", "Authorization: Bearer {}",
    "api_key={}&x=1", "dsn=postgres://user:{}@db/app", 'apiKey="{}"', "secret: {}",
])


@property_settings()
@given(TEMPLATES, SECRET, st.text(max_size=30), st.text(max_size=30))
def test_a_secret_value_never_survives(template: str, secret: str, before: str, after: str) -> None:
    if any(c in secret for c in "@/") and "postgres" in template:
        secret = secret.replace("@", "a").replace("/", "b")
    masked = mask_secrets(f"{before}\n{template.format(secret)}\n{after}")
    assert secret not in masked.split("\n")[1]


NOISE = st.lists(st.sampled_from([*"aP=: \"'\\\n{}[],;&@/-_AKIS0189eyJ.*", "password", "token", "Bearer ",
                                  "Authorization", "://", "AKIA", "-----BEGIN PRIVATE KEY-----",
                                  "-----END PRIVATE KEY-----", "secret", "sig", "Token"]), max_size=40).map("".join)


@property_settings()
@given(st.one_of(NOISE, st.text(max_size=200)))
def test_masking_is_idempotent(text: str) -> None:
    once = mask_secrets(text)
    assert mask_secrets(once) == once

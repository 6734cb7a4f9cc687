"""Password logins with a token cache (clock injected), AK/SK signing on the wire, and 401 handling."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

import pytest
import responses

from tests.conftest import SNAPSHOT, VOLUME
from tests.helpers import SECRETS
from tests.test_client import CREATED
from vbscli import backups, iam
from vbscli.auth import AkSkAuth, build_auth
from vbscli.backups import BackupSpec
from vbscli.client import Client
from vbscli.errors import ServiceError
from vbscli.iam import TokenCache

IAM = "https://iam.test.example/v3"
ENDPOINT = "https://evs.test.example"
PROJECT = "p1"
URL = f"{ENDPOINT}/v3/{PROJECT}/backups"
PASSWORD = "pw-S3cret-value"
SECRETS.update({PASSWORD, "sk-SECRET-key", "issued-token-1", "issued-token-2"})
AUTH = {
    "type": "password",
    "auth_url": IAM,
    "username": "backup-bot",
    "password": PASSWORD,
    "domain": "acme",
    "project_id": PROJECT,
}


class Clock:
    def __init__(self) -> None:
        self.now = datetime(2026, 11, 28, 12, 0, tzinfo=timezone.utc)

    def __call__(self) -> datetime:
        return self.now


def issue(token: str, expires: datetime) -> None:
    responses.post(
        f"{IAM}/auth/tokens",
        status=201,
        headers={"X-Subject-Token": token},
        json={
            "token": {
                "expires_at": expires.strftime("%Y-%m-%dT%H:%M:%S.000000Z"),
                "project": {"id": PROJECT, "name": "eu-de_x"},
            }
        },
    )


def make_client(tmp_path, clock, auth=AUTH):
    cache = TokenCache(tmp_path / "cache")
    holder: dict = {}
    a = build_auth(
        auth,
        PROJECT if auth.get("project_id") else None,
        login=lambda url, body: iam.login(holder["c"]._transport(), url, body),
        cache=cache,
        clock=clock,
    )
    holder["c"] = Client(ENDPOINT, PROJECT if auth.get("project_id") else None, a)
    return holder["c"]


def iam_calls() -> int:
    return sum(1 for c in responses.calls if c.request.url.startswith(IAM))


@responses.activate
def test_login_body_and_token_use(tmp_path):
    clock = Clock()
    issue("issued-token-1", clock.now + timedelta(hours=24))
    responses.post(
        URL, json=CREATED, status=202, match=[responses.matchers.header_matcher({"X-Auth-Token": "issued-token-1"})]
    )
    backups.create(make_client(tmp_path, clock), BackupSpec(VOLUME, SNAPSHOT))
    body = json.loads(responses.calls[0].request.body)
    assert body == {
        "auth": {
            "identity": {
                "methods": ["password"],
                "password": {"user": {"name": "backup-bot", "password": PASSWORD, "domain": {"name": "acme"}}},
            },
            "scope": {"project": {"id": PROJECT}},
        }
    }


@responses.activate
def test_cached_token_is_reused_across_runs_until_shortly_before_expiry(tmp_path):
    clock = Clock()
    issue("issued-token-1", clock.now + timedelta(hours=1))
    responses.post(URL, json=CREATED, status=202)
    for _ in range(3):  # three cron runs, one minute apart
        backups.create(make_client(tmp_path, clock), BackupSpec(VOLUME, SNAPSHOT))
        clock.now += timedelta(minutes=1)
    assert iam_calls() == 1
    cached = list((tmp_path / "cache").glob("*.json"))
    assert len(cached) == 1 and cached[0].stat().st_mode & 0o777 == 0o600
    clock.now += timedelta(minutes=50)  # 7 minutes before expiry: renewed
    backups.create(make_client(tmp_path, clock), BackupSpec(VOLUME, SNAPSHOT))
    assert iam_calls() == 2


@responses.activate
def test_401_on_a_cached_token_logs_in_again_and_repeats_once(tmp_path):
    clock = Clock()
    issue("issued-token-1", clock.now + timedelta(hours=24))
    responses.post(URL, json=CREATED, status=202)
    backups.create(make_client(tmp_path, clock), BackupSpec(VOLUME, SNAPSHOT))  # fills the cache
    responses.reset()
    issue("issued-token-2", clock.now + timedelta(hours=24))
    responses.post(
        URL,
        status=401,
        json={"unauthorized": {"code": 401, "message": "revoked"}},
        match=[responses.matchers.header_matcher({"X-Auth-Token": "issued-token-1"})],
    )
    responses.post(
        URL, json=CREATED, status=202, match=[responses.matchers.header_matcher({"X-Auth-Token": "issued-token-2"})]
    )
    assert backups.create(make_client(tmp_path, clock), BackupSpec(VOLUME, SNAPSHOT)) == CREATED
    assert iam_calls() == 1
    assert sum(1 for c in responses.calls if c.request.url == URL) == 2


@responses.activate
def test_401_on_a_fresh_token_is_not_repeated(tmp_path):
    clock = Clock()
    issue("issued-token-1", clock.now + timedelta(hours=24))
    responses.post(URL, status=401, json={"unauthorized": {"code": 401, "message": "no"}})
    with pytest.raises(ServiceError) as info:
        backups.create(make_client(tmp_path, clock), BackupSpec(VOLUME, SNAPSHOT))
    assert info.value.exit_code == 4
    assert sum(1 for c in responses.calls if c.request.url == URL) == 1


@responses.activate
def test_iam_refusal_is_an_auth_error_naming_iam(tmp_path):
    responses.post(
        f"{IAM}/auth/tokens", status=401, json={"error": {"code": 401, "message": "The username or password is wrong."}}
    )
    with pytest.raises(ServiceError) as info:
        backups.create(make_client(tmp_path, Clock()), BackupSpec(VOLUME, SNAPSHOT))
    assert info.value.exit_code == 4
    assert info.value.message.startswith(f"IAM login at {IAM}/auth/tokens failed: The username or password is wrong.")


@responses.activate
def test_project_name_scope_takes_the_project_id_from_the_token(tmp_path):
    clock = Clock()
    auth = {**AUTH, "project_id": None, "project_name": "eu-de_x"}
    del auth["project_id"]
    issue("issued-token-1", clock.now + timedelta(hours=24))
    responses.post(URL, json=CREATED, status=202)
    backups.create(make_client(tmp_path, clock, auth), BackupSpec(VOLUME, SNAPSHOT))
    scope = json.loads(responses.calls[0].request.body)["auth"]["scope"]
    assert scope == {"project": {"name": "eu-de_x", "domain": {"name": "acme"}}}  # Keystone wants the domain


@responses.activate
def test_aksk_requests_are_signed_and_401_is_never_repeated():
    clock = Clock()
    auth = AkSkAuth("AK-PUBLIC", "sk-SECRET-key", security_token=None, project=PROJECT, clock=clock)
    client = Client(ENDPOINT, PROJECT, auth)
    responses.post(
        URL, status=401, json={"error_code": "APIGW.0301", "error_msg": "Incorrect IAM authentication information"}
    )
    with pytest.raises(ServiceError):
        backups.create(client, BackupSpec(VOLUME, SNAPSHOT))
    assert len(responses.calls) == 1
    sent = responses.calls[0].request.headers
    assert sent["X-Sdk-Date"] == "20261128T120000Z"
    assert sent["X-Project-Id"] == PROJECT
    assert sent["Authorization"].startswith("SDK-HMAC-SHA256 Access=AK-PUBLIC, SignedHeaders=")
    signed = sent["Authorization"].split("SignedHeaders=")[1].split(",")[0].split(";")
    assert {"host", "x-sdk-date", "x-project-id", "content-type"} <= set(signed)
    assert "sk-SECRET-key" not in sent["Authorization"]


def test_aksk_signature_verifies_with_the_published_algorithm():
    """Checked by the emulator's verifier, written apart from vbs's signer (not by the signer itself)."""
    from vbscli.emulator import auth as verifier

    clock = Clock()
    auth = AkSkAuth("AK", "sk-SECRET-key", security_token="st-SECRET", project=PROJECT, clock=clock)
    SECRETS.add("st-SECRET")
    headers = {"Content-Type": "application/json"}
    auth.sign("POST", URL, headers, b"{}")
    names = headers["Authorization"].split("SignedHeaders=")[1].split(",")[0].split(";")
    assert "x-security-token" in names
    lowered = {k.lower(): v for k, v in headers.items()}
    request = verifier.canonical_request("POST", f"/v3/{PROJECT}/backups", lowered, names, b"{}")
    expected = verifier.expected_signature("sk-SECRET-key", headers["X-Sdk-Date"], request)
    assert headers["Authorization"].endswith(f"Signature={expected}")


def test_a_failed_cache_write_leaves_no_temporary_file(tmp_path):
    cache = TokenCache(tmp_path / "cache")
    key = TokenCache.key(AUTH)
    (tmp_path / "cache" / f"{key}.json").mkdir(parents=True)  # the final rename cannot succeed
    cache.save(key, iam.Grant("issued-token-1", datetime(2026, 11, 29, tzinfo=timezone.utc)))
    assert [p.name for p in (tmp_path / "cache").iterdir()] == [f"{key}.json"]


@responses.activate
def test_threads_refused_a_replaced_token_repeat_with_the_new_one_and_one_login(tmp_path):
    """One login per token generation: the second thread refused the old token does not log in again."""
    clock = Clock()
    issue("issued-token-1", clock.now + timedelta(hours=24))
    responses.post(URL, json=CREATED, status=202)
    backups.create(make_client(tmp_path, clock), BackupSpec(VOLUME, SNAPSHOT))  # fills the cache
    responses.reset()
    issue("issued-token-2", clock.now + timedelta(hours=24))
    client = make_client(tmp_path, clock)
    old = {"X-Auth-Token": "issued-token-1"}
    client.auth.sign("GET", URL, {}, b"")  # the cached token is in use
    assert client.auth.refresh(old) is True  # the first thread refused: one login
    assert client.auth.refresh(old) is True  # a second thread refused the same old token: no login
    assert iam_calls() == 1
    assert client.auth.refresh({"X-Auth-Token": "issued-token-2"}) is False  # the new one refused: give up
    assert iam_calls() == 1


@responses.activate
def test_a_login_whose_answer_is_lost_is_retried_and_the_create_is_not_looked_up(tmp_path):
    """The create had not left when the login failed: it is surely not sent, whatever the login's fate."""
    import random

    import requests

    from vbscli.retry import RetryPolicy

    clock = Clock()
    responses.post(f"{IAM}/auth/tokens", body=requests.exceptions.ReadTimeout())
    issue("issued-token-1", clock.now + timedelta(hours=24))
    responses.post(URL, json=CREATED, status=202)
    client = make_client(tmp_path, clock)
    client.retry = RetryPolicy(max_attempts=3, sleep=lambda s: None, rng=random.Random(1))
    lines: list[str] = []
    client.notify = lines.append
    assert backups.create(client, BackupSpec(VOLUME, SNAPSHOT, name="n1"), notify=lines.append) == CREATED
    assert iam_calls() == 2
    assert [c.request.method for c in responses.calls if c.request.url.startswith(ENDPOINT)] == ["POST"]
    assert len(lines) == 1 and lines[0].startswith("retrying create in ") and "did not answer" in lines[0]

"""Retrying: what is safe to repeat, what must be looked up first, and how long to wait. Nothing sleeps."""

from __future__ import annotations

import random
from datetime import datetime, timezone

import pytest
import requests
import responses

from tests.conftest import SNAPSHOT, VOLUME
from tests.test_client import CREATED
from vbscli import backups
from vbscli.auth import TokenAuth
from vbscli.backups import BackupSpec
from vbscli.client import Client
from vbscli.errors import NetworkError, ServiceError
from vbscli.retry import AMBIGUOUS, FINAL, RETRY, RetryPolicy, classify

ENDPOINT = "https://evs.test.example"
URL = f"{ENDPOINT}/v3/p1/backups"
DETAIL = f"{ENDPOINT}/v3/p1/backups/detail"
NOW = datetime(2026, 11, 28, 2, 30, tzinfo=timezone.utc)


class Sleeper:
    def __init__(self):
        self.t = 0.0
        self.waits: list[float] = []

    def sleep(self, s):
        self.waits.append(s)
        self.t += s

    def clock(self):
        return self.t


def make(attempts=4, deadline=300.0):
    sleeper = Sleeper()
    policy = RetryPolicy(
        max_attempts=attempts, deadline=deadline, sleep=sleeper.sleep, clock=sleeper.clock, rng=random.Random(7)
    )
    lines: list[str] = []
    return Client(ENDPOINT, "p1", TokenAuth("t"), retry=policy, notify=lines.append), sleeper, lines


def spec():
    return BackupSpec(VOLUME, SNAPSHOT, name="nightly-1")


def err(status, code=None, retry_after=None):
    return ServiceError(status=status, code=code, message="m", retry_after=retry_after)


@pytest.mark.parametrize(
    ("exc", "verdict"),
    [
        (err(429), RETRY),
        (err(400, "APIGW.0308"), RETRY),
        (err(503), RETRY),
        (err(413, retry_after=5), RETRY),
        (err(413), FINAL),
        (err(500), AMBIGUOUS),
        (err(400), FINAL),
        (err(401), FINAL),
        (err(404), FINAL),
        (err(502), AMBIGUOUS),
        (err(504), AMBIGUOUS),
        (NetworkError("refused"), RETRY),
        (NetworkError("read timeout", sent=True), AMBIGUOUS),
        (NetworkError("tls", retryable=False), FINAL),
    ],
)
def test_classification(exc, verdict):
    assert classify(exc) == verdict


def test_backoff_grows_with_jitter_and_is_capped_and_retry_after_wins():
    policy = RetryPolicy(rng=random.Random(1))
    for attempt, ceiling in ((1, 1), (2, 2), (3, 4), (4, 8), (10, 20)):
        d = policy.delay(attempt, None)
        assert ceiling / 2 <= d <= ceiling
    assert policy.delay(1, 7) == 7
    assert policy.delay(1, 3600) == 60


@responses.activate
def test_throttled_twice_then_created_with_one_line_per_retry():
    client, sleeper, lines = make()
    throttled = {"error_code": "APIGW.0308", "error_msg": "throttled", "request_id": "r"}
    responses.post(URL, status=429, json=throttled, headers={"Retry-After": "3"})
    responses.post(URL, status=429, json=throttled)
    responses.post(URL, status=202, json=CREATED)
    assert backups.create(client, spec()) == CREATED
    assert len(responses.calls) == 3
    assert sleeper.waits[0] == 3.0 and 1.0 <= sleeper.waits[1] <= 2.0
    assert len(lines) == 2 and lines[0].startswith("retrying create in 3.0 s (attempt 2 of 4): HTTP 429 APIGW.0308")


@responses.activate
def test_gives_up_after_max_attempts():
    client, sleeper, lines = make(attempts=3)
    responses.post(URL, status=503, json={"error": {"code": "VolumeBackup.0900", "message": "down"}})
    with pytest.raises(ServiceError) as info:
        backups.create(client, spec())
    assert len(responses.calls) == 3 and len(lines) == 2
    assert info.value.one_line() == "HTTP 503 VolumeBackup.0900: down; gave up after 3 attempts"
    assert info.value.exit_code == 5


@responses.activate
def test_deadline_stops_retrying():
    client, sleeper, lines = make(attempts=10, deadline=10)
    responses.post(URL, status=503, json={}, headers={"Retry-After": "6"})
    with pytest.raises(ServiceError) as info:
        backups.create(client, spec())
    assert len(responses.calls) == 2  # 6 s, then another 6 s would pass the 10 s deadline
    assert "; gave up: the 10 s deadline would pass" in info.value.one_line()


@responses.activate
def test_quota_overlimit_without_retry_after_is_not_retried():
    client, sleeper, lines = make()
    responses.post(URL, status=413, json={"overLimit": {"code": 413, "message": "Backup quota exceeded"}})
    with pytest.raises(ServiceError) as info:
        backups.create(client, spec())
    assert len(responses.calls) == 1 and info.value.exit_code == 1


@responses.activate
def test_connection_refused_is_retried():
    client, sleeper, lines = make()
    responses.post(URL, body=requests.exceptions.ConnectionError(ConnectionRefusedError(111, "refused")))
    responses.post(URL, status=202, json=CREATED)
    assert backups.create(client, spec()) == CREATED
    assert len(lines) == 1


def listing(*items):
    return {"backups": list(items)}


def found(created_at):
    return {
        "id": "bb089eba-6b38-41c8-85a4-2b94fad7d570",
        "name": "nightly-1",
        "volume_id": VOLUME,
        "snapshot_id": SNAPSHOT,
        "created_at": created_at,
        "status": "creating",
        "links": CREATED["backup"]["links"],
    }


@responses.activate
def test_lost_answer_but_backup_exists_is_reported_not_recreated():
    client, sleeper, lines = make()
    responses.post(URL, body=requests.exceptions.ReadTimeout())
    responses.get(DETAIL, json=listing(found("2026-11-28T02:30:05.000000")))
    doc = backups.create(client, spec(), notify=lines.append, now=lambda: NOW)
    assert doc["backup"]["id"] == "bb089eba-6b38-41c8-85a4-2b94fad7d570"
    assert sum(1 for c in responses.calls if c.request.method == "POST") == 1
    assert (
        "name=nightly-1" in responses.calls[1].request.url and f"volume_id={VOLUME}" in responses.calls[1].request.url
    )
    assert any("was created: reporting it" in line for line in lines)


@responses.activate
def test_lost_answer_and_no_backup_is_sent_again_once():
    client, sleeper, lines = make()
    responses.post(URL, status=504, body=b"")
    responses.post(URL, status=202, json=CREATED)
    # yesterday's backup of the same name does not count
    responses.get(DETAIL, json=listing(found("2026-11-27T02:30:05.000000")))
    assert backups.create(client, spec(), notify=lines.append, now=lambda: NOW) == CREATED
    assert sum(1 for c in responses.calls if c.request.method == "POST") == 2
    assert any("does not exist: sending the request again" in line for line in lines)


@responses.activate
def test_lost_answer_and_failed_lookup_is_exit_5_with_how_to_check():
    client, sleeper, lines = make()
    responses.post(URL, body=requests.exceptions.ConnectionError(ConnectionResetError(104, "Connection reset by peer")))
    responses.get(DETAIL, status=500, json={"computeFault": {"code": 500, "message": "db down"}})
    with pytest.raises(NetworkError) as info:
        backups.create(client, spec(), now=lambda: NOW)
    assert info.value.exit_code == 5
    assert "looking for backup 'nightly-1' failed too" in info.value.message
    assert f"vbs backup list --volume-id {VOLUME} --name nightly-1" in info.value.hint
    assert sum(1 for c in responses.calls if c.request.method == "POST") == 1


@responses.activate
def test_get_requests_repeat_ambiguous_failures():
    client, sleeper, lines = make()
    bid = "bb089eba-6b38-41c8-85a4-2b94fad7d570"
    responses.get(f"{ENDPOINT}/v3/p1/backups/{bid}", body=requests.exceptions.ReadTimeout())
    responses.get(f"{ENDPOINT}/v3/p1/backups/{bid}", json={"backup": {"id": bid}})
    assert backups.show(client, bid) == {"backup": {"id": bid}}


def test_default_name_is_valid_and_findable():
    from vbscli.validate import check_name

    name = backups.default_name(NOW, "a1b2c3")
    assert name == "vbs-20261128-023000-a1b2c3"
    assert check_name(name) == name
    assert backups.default_name() != backups.default_name()

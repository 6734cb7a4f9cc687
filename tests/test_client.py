"""The HTTP layer against `responses`: what is sent, and how every kind of answer is read."""

import json
import socket

import pytest
import requests
import responses
from responses import matchers

from tests.conftest import PROJECT, SNAPSHOT, TOKEN, VOLUME
from vbscli import __version__, backups
from vbscli.auth import TokenAuth
from vbscli.backups import BackupSpec
from vbscli.client import MAX_BODY, Client
from vbscli.errors import BadResponseError, NetworkError, ServiceError
from vbscli.exit_codes import ExitCode

ENDPOINT = "https://evs.test.example"
URL = f"{ENDPOINT}/v3/{PROJECT}/backups"
BACKUP_ID = "bb089eba-6b38-41c8-85a4-2b94fad7d570"
CREATED = {
    "backup": {
        "id": BACKUP_ID,
        "links": [
            {"href": f"{ENDPOINT}/v3/{PROJECT}/backups/{BACKUP_ID}", "rel": "self"},
            {"href": f"{ENDPOINT}/{PROJECT}/backups/{BACKUP_ID}", "rel": "bookmark"},
        ],
        "name": "backup1",
    }
}


@pytest.fixture
def client():
    c = Client(ENDPOINT, PROJECT, TokenAuth(TOKEN), connect_timeout=3, read_timeout=7)
    yield c
    c.close()


def spec(**kw):
    return BackupSpec(VOLUME, SNAPSHOT, **kw)


@responses.activate
def test_create_sends_documented_request_and_returns_document_unchanged(client):
    responses.post(
        URL,
        json=CREATED,
        status=202,
        match=[
            matchers.json_params_matcher(
                {"backup": {"volume_id": VOLUME, "snapshot_id": SNAPSHOT, "name": "backup1", "description": "d"}},
                strict_match=True,
            ),
            matchers.header_matcher(
                {
                    "Content-Type": "application/json",
                    "Accept": "application/json",
                    "X-Auth-Token": TOKEN,
                }
            ),
        ],
    )
    assert backups.create(client, spec(name="backup1", description="d")) == CREATED
    sent = responses.calls[0].request
    assert sent.headers["User-Agent"].startswith(f"vbscli/{__version__} ")
    assert b"container" not in sent.body and b"incremental" not in sent.body


@responses.activate
def test_force_is_sent_only_when_asked(client):
    responses.post(URL, json=CREATED, status=202)
    backups.create(client, spec(force=True))
    backups.create(client, spec())
    assert json.loads(responses.calls[0].request.body)["backup"]["force"] is True
    assert "force" not in json.loads(responses.calls[1].request.body)["backup"]


@responses.activate
def test_timeouts_and_tls_verification_are_always_set(client):
    responses.post(URL, json=CREATED, status=202)
    backups.create(client, spec())
    req_kwargs = responses.calls[0].request.req_kwargs
    assert req_kwargs["timeout"] == (3, 7)
    assert req_kwargs["verify"] is True


@responses.activate
def test_invalid_spec_sends_nothing(client):
    from vbscli.errors import InputError

    with pytest.raises(InputError):
        backups.create(client, spec(name="auto-nightly"))
    assert len(responses.calls) == 0


@pytest.mark.parametrize(
    ("status", "body", "code", "exit_code"),
    [
        (
            400,
            {"badRequest": {"code": "VolumeBackup.0013", "message": "A backup is in progress"}},
            "VolumeBackup.0013",
            1,
        ),
        (404, {"itemNotFound": {"code": 404, "message": "Volume not found"}}, "itemNotFound", 1),
        (401, {"unauthorized": {"code": 401, "message": "Authentication required"}}, "unauthorized", 4),
        (401, {"error_code": "APIGW.0307", "error_msg": "The token must be updated."}, "APIGW.0307", 4),
        (403, {"forbidden": {"code": 403, "message": "Policy does not allow"}}, "forbidden", 4),
        (415, {"badMediaType": {"code": 415, "message": "Unsupported"}}, "badMediaType", 1),
        (429, {"error_code": "APIGW.0308", "error_msg": "throttled", "request_id": "r"}, "APIGW.0308", 5),
        (500, {"computeFault": {"code": 500, "message": "boom"}}, "computeFault", 5),
        (503, {"error": {"code": "VolumeBackup.0900", "message": "unavailable"}}, "VolumeBackup.0900", 5),
    ],
)
@responses.activate
def test_service_errors_are_typed(client, status, body, code, exit_code):
    responses.post(URL, json=body, status=status, headers={"X-Openstack-Request-Id": "req-42"})
    with pytest.raises(ServiceError) as info:
        backups.create(client, spec())
    err = info.value
    assert (err.status, err.code, err.request_id, err.exit_code) == (status, code, "req-42", exit_code)


@pytest.mark.parametrize(
    ("status", "body", "message"),
    [
        (502, b"<html><title>Bad Gateway</title></html>", "HTML page 'Bad Gateway'"),
        (504, b"", "Gateway Timeout (empty body)"),
        (400, b'{"badRequest": {"mess', "Bad Request ("),
    ],
)
@responses.activate
def test_unreadable_error_bodies(client, status, body, message):
    responses.post(URL, body=body, status=status)
    with pytest.raises(ServiceError) as info:
        backups.create(client, spec())
    assert message in info.value.message


@pytest.mark.parametrize(
    ("body", "content_type", "expected"),
    [
        (b"<html>ok</html>", "text/html", "is not JSON"),
        (json.dumps({"backup": {"name": "x"}}).encode(), "application/json", "without a backup id"),
        (json.dumps({"backup": {"id": "x", "links": "nope"}}).encode(), "application/json", "malformed links"),
        (b'{"backup": {"id": "bb08', "application/json", "is not JSON"),
        (b"[]", "application/json", "without a backup id"),
    ],
)
@responses.activate
def test_success_status_with_wrong_shape_is_not_success(client, body, content_type, expected):
    responses.post(URL, body=body, status=202, content_type=content_type)
    with pytest.raises(BadResponseError, match=expected) as info:
        backups.create(client, spec())
    assert info.value.exit_code == ExitCode.SERVICE


@responses.activate
def test_redirects_are_not_followed(client):
    responses.post(URL, status=302, headers={"Location": "https://elsewhere.example/"})
    with pytest.raises(BadResponseError, match="HTTP 302"):
        backups.create(client, spec())
    assert len(responses.calls) == 1


@responses.activate
def test_oversized_answer_is_refused(client):
    responses.post(URL, body=b"x" * (MAX_BODY + 1), status=202)
    with pytest.raises(BadResponseError, match="larger than 8 MiB"):
        backups.create(client, spec())


@pytest.mark.parametrize(
    ("exc", "message", "hint"),
    [
        (requests.exceptions.ConnectTimeout(), f"could not connect to {ENDPOINT} within 3 s", "--connect-timeout"),
        (requests.exceptions.ReadTimeout(), f"{ENDPOINT} did not answer within 7 s", "may have been processed"),
        (
            requests.exceptions.SSLError("certificate verify failed"),
            f"TLS connection to {ENDPOINT} failed",
            "--ca-bundle",
        ),
        (
            requests.exceptions.ConnectionError(ConnectionRefusedError(111, "Connection refused")),
            "refused",
            "check the endpoint URL and port",
        ),
        (
            requests.exceptions.ConnectionError(socket.gaierror(-2, "Name or service not known")),
            "cannot resolve the host name 'evs.test.example'",
            "check the endpoint URL and your DNS",
        ),
        (
            requests.exceptions.ConnectionError(ConnectionResetError(104, "Connection reset by peer")),
            "Connection reset by peer",
            "may have been processed",
        ),
    ],
)
@responses.activate
def test_network_failures_name_the_endpoint_and_what_to_check(client, exc, message, hint):
    responses.post(URL, body=exc)
    with pytest.raises(NetworkError) as info:
        backups.create(client, spec())
    assert message in info.value.message
    assert hint in info.value.hint
    assert info.value.exit_code == ExitCode.SERVICE


@responses.activate
def test_trace_masks_the_token():
    lines: list[str] = []
    c = Client(ENDPOINT, PROJECT, TokenAuth(TOKEN), trace=lines.append)
    responses.post(URL, json=CREATED, status=202, headers={"X-Openstack-Request-Id": "req-9"})
    backups.create(c, spec(name="backup1"))
    text = "\n".join(lines)
    assert TOKEN not in text
    assert "> X-Auth-Token: <redacted>" in text
    assert f"> POST {URL}" in text
    assert any(line.startswith("< HTTP 202 (") and "ms)" in line for line in lines)
    assert "< X-Openstack-Request-Id: req-9" in text
    assert '"name": "backup1"' in text


def test_dry_run_call_is_signed_but_not_sent(client):
    call = client.sign(backups.create_call(client, spec()))
    assert call.method == "POST" and call.url == URL
    assert call.headers["X-Auth-Token"] == TOKEN
    assert "TokenAuth(<redacted>)" == repr(client.auth)

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from vbscli.error_body import parse_error
from vbscli.exit_codes import ExitCode

RID = {"X-Openstack-Request-Id": "req-7d1e"}


def parse(status, body, headers=None):
    data = body if isinstance(body, bytes) else json.dumps(body).encode()
    return parse_error(status, headers if headers is not None else dict(RID), data)


def test_openstack_shape_with_string_code():
    err = parse(400, {"badRequest": {"code": "VolumeBackup.0005", "message": "Name cannot start with auto."}})
    assert (err.status, err.code, err.message, err.request_id) == (
        400,
        "VolumeBackup.0005",
        "Name cannot start with auto.",
        "req-7d1e",
    )
    assert err.error_class == "badRequest"
    assert err.exit_code == ExitCode.REJECTED


def test_openstack_shape_with_integer_code_uses_the_class():
    err = parse(404, {"itemNotFound": {"code": 404, "message": "Volume could not be found."}})
    assert err.code == "itemNotFound"
    assert err.message == "Volume could not be found."


def test_error_shape():
    err = parse(500, {"error": {"code": "VolumeBackup.0900", "message": "Service unavailable"}})
    assert (err.code, err.message, err.exit_code) == ("VolumeBackup.0900", "Service unavailable", ExitCode.SERVICE)


def test_gateway_shape_and_request_id_from_body():
    body = {
        "error_code": "APIGW.0308",
        "error_msg": "The throttling threshold has been reached",
        "request_id": "abc123",
    }
    err = parse(429, body, headers={})
    assert (err.code, err.request_id, err.exit_code) == ("APIGW.0308", "abc123", ExitCode.SERVICE)


@pytest.mark.parametrize("header", ["X-Request-Id", "X-Openstack-Request-Id", "X-Compute-Request-Id", "x-request-id"])
def test_request_id_from_any_documented_header(header):
    err = parse(400, {"badRequest": {"code": "X", "message": "m"}}, headers={header: "req-1"})
    assert err.request_id == "req-1"


@pytest.mark.parametrize(
    ("status", "expected"),
    [(400, 1), (404, 1), (409, 1), (401, 4), (403, 4), (408, 5), (429, 5), (500, 5), (502, 5), (503, 5), (504, 5)],
)
def test_exit_code_per_status(status, expected):
    assert parse(status, {"error": {"code": "c", "message": "m"}}).exit_code == expected


def test_overlimit_with_retry_after_is_a_service_condition_without_is_a_rejection():
    body = {"overLimit": {"code": 413, "message": "Rate limit", "retryAfter": "7"}}
    assert parse(413, body, headers={"Retry-After": "7"}).exit_code == ExitCode.SERVICE
    assert parse(413, body, headers={}).retry_after == 7.0
    quota = {"overLimit": {"code": 413, "message": "Backup quota exceeded"}}
    assert parse(413, quota, headers={}).exit_code == ExitCode.REJECTED


def test_empty_body_gives_the_reason_phrase():
    err = parse(503, b"")
    assert err.message == "Service Unavailable (empty body)"
    assert err.code is None


def test_html_body_shows_the_page_title():
    err = parse(502, b"<html><head><title>502 Bad Gateway</title></head><body>nginx</body></html>")
    assert err.message == "Bad Gateway (HTML page '502 Bad Gateway')"


def test_truncated_json():
    err = parse(400, b'{"badRequest": {"code": "VolumeBackup.00', headers={"Content-Type": "application/json"})
    assert err.message == "Bad Request (truncated or malformed JSON)"


def test_unrecognised_json_is_reported_as_such():
    assert "unrecognised JSON" in parse(500, [1, 2]).message
    assert "unrecognised JSON" in parse(500, {"weird": 1}).message


def test_messages_are_one_line_and_bounded():
    err = parse(400, {"badRequest": {"code": "X", "message": "line1\nline2\r\n\x1b[31m" + "y" * 1000}})
    assert "\n" not in err.message and "\x1b" not in err.message
    assert len(err.message) <= 400


@given(st.binary(max_size=300), st.integers(min_value=400, max_value=599))
def test_never_raises_on_arbitrary_bytes(body, status):
    err = parse_error(status, {}, body)
    assert err.status == status and err.message and "\n" not in err.message


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=True) | st.text(max_size=20),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=4),
    max_leaves=20,
)


@given(json_values, st.integers(min_value=400, max_value=599))
def test_never_raises_on_arbitrary_json(doc, status):
    err = parse_error(status, {"Retry-After": "x"}, json.dumps(doc).encode())
    assert err.status == status and isinstance(err.message, str) and err.message
    json.dumps(err.as_dict())

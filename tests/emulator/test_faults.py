"""Failures on demand: each fault kind, scripted sequences, random rates, and changing them at run time."""

from __future__ import annotations

import json
import time

import pytest
import requests

from tests.emulator.conftest import UNKNOWN, Api

THROTTLED_KEYS = {"error_code", "error_msg", "request_id"}


def step(fault: str, match: str = "POST backups", times: int = 1, **extra) -> dict:
    return {"match": match, "fault": fault, "times": times, **extra}


@pytest.fixture
def scripted(start):
    """scripted(*steps, **config) -> an Api on an emulator started with that fault script."""
    callers = []

    def _scripted(*steps: dict, **config) -> Api:
        caller = Api(start(script=list(steps), **config))
        callers.append(caller)
        return caller

    yield _scripted
    for caller in callers:
        caller.close()


def names(api: Api) -> list[str]:
    return [b["name"] for b in api.get("/backups").json()["backups"]]


def test_first_two_creates_get_503_then_normal(scripted):
    api = scripted(step("status", times=2, status=503))
    assert api.get("/backups").status_code == 200  # other routes are not matched
    first, second, third = (api.create(name=f"try-{n}") for n in range(3))
    assert [first.status_code, second.status_code, third.status_code] == [503, 503, 202]
    assert first.json() == {
        "serviceUnavailable": {"code": 503, "message": first.json()["serviceUnavailable"]["message"]}
    }
    assert first.headers["X-Openstack-Request-Id"] != second.headers["X-Openstack-Request-Id"]
    assert "Retry-After" not in first.headers
    stats = api.emu.stats()
    assert stats["backups_created"] == 1 and stats["requests"]["POST backups"] == 3
    assert stats["faults_fired"] == {"status": 2}
    assert names(api) == ["try-2"]


def test_status_with_custom_body_and_retry_after(scripted):
    api = scripted(step("status", status=500, retry_after=3, body={"error": {"code": "X.1", "message": "m"}}))
    response = api.create()
    assert response.status_code == 500
    assert response.json() == {"error": {"code": "X.1", "message": "m"}}
    assert response.headers["Retry-After"] == "3"


def test_status_500_is_a_compute_fault(scripted):
    response = scripted(step("status", status=500)).create()
    assert response.json()["computeFault"]["code"] == 500


def test_throttle_is_the_gateways_429(scripted):
    api = scripted(step("throttle"), step("throttle", retry_after=2))
    plain, with_header = api.create(), api.create()
    for response in (plain, with_header):
        assert response.status_code == 429
        body = response.json()
        assert set(body) == THROTTLED_KEYS
        assert body["error_code"] == "APIGW.0308"
        assert body["error_msg"] == "The throttling threshold has been reached"
        assert body["request_id"]
    assert "Retry-After" not in plain.headers
    assert with_header.headers["Retry-After"] == "2"
    assert api.emu.stats()["backups_created"] == 0


def test_overlimit_with_and_without_retry_after(scripted):
    api = scripted(
        step("overlimit", retry_after=7), step("overlimit", retry_after=7, retry_after_header=False), step("overlimit")
    )
    header_and_field, field_only, neither = api.create(), api.create(), api.create()
    for response in (header_and_field, field_only, neither):
        assert response.status_code == 413
        assert response.json()["overLimit"]["code"] == 413
    assert header_and_field.headers["Retry-After"] == "7"
    assert header_and_field.json()["overLimit"]["retryAfter"] == 7
    assert "Retry-After" not in field_only.headers and field_only.json()["overLimit"]["retryAfter"] == 7
    assert "Retry-After" not in neither.headers and "retryAfter" not in neither.json()["overLimit"]


def test_drop_before_loses_the_request(scripted):
    api = scripted(step("drop_before"))
    with pytest.raises(requests.ConnectionError):
        api.create(name="lost")
    assert api.emu.stats()["backups_created"] == 0
    assert names(api) == []
    assert api.emu.stats()["requests"]["POST backups"] == 1
    assert api.create(name="again").status_code == 202


def test_drop_after_creates_but_never_answers(scripted):
    api = scripted(step("drop_after"))
    with pytest.raises(requests.ConnectionError):
        api.create(name="made")
    assert api.emu.stats()["backups_created"] == 1
    assert names(api) == ["made"]


def test_html_answer(scripted):
    api = scripted(step("html"), step("html", status=200))
    bad_gateway, ok_but_html = api.create(), api.create()
    assert bad_gateway.status_code == 502 and ok_but_html.status_code == 200
    for response in (bad_gateway, ok_but_html):
        assert response.headers["Content-Type"] == "text/html"
        assert response.text.startswith("<html>")
        with pytest.raises(ValueError):
            response.json()
    assert api.emu.stats()["backups_created"] == 0


def test_truncated_body_after_a_real_create(scripted):
    api = scripted(step("truncated"))
    response = api.create(name="half")
    assert response.status_code == 202
    assert int(response.headers["Content-Length"]) == len(response.content)
    assert response.content.startswith(b'{"backup": {"id": "')
    with pytest.raises(ValueError):
        json.loads(response.content)
    assert names(api) == ["half"]


def test_truncated_keeps_the_routes_status(scripted):
    api = scripted(step("truncated", match="GET backup"))
    response = api.get(f"/backups/{UNKNOWN}")
    assert response.status_code == 404 and not response.text.endswith("}}")


def test_empty_body(scripted):
    api = scripted(step("empty"), step("empty", status=200))
    first, second = api.create(), api.create()
    assert (first.status_code, first.content) == (503, b"")
    assert (second.status_code, second.content) == (200, b"")
    assert first.headers["Content-Length"] == "0"


def test_delay_then_a_normal_answer(scripted):
    api = scripted(step("delay", seconds=0.01))
    started = time.monotonic()
    response = api.create()
    assert time.monotonic() - started >= 0.01
    assert response.status_code == 202


def test_slow_body_arrives_whole_but_slowly(scripted):
    api = scripted(step("slow_body", match="GET backup", seconds=0.0002))
    started = time.monotonic()
    response = api.get(f"/backups/{UNKNOWN}")
    elapsed = time.monotonic() - started
    assert response.status_code == 404 and list(response.json()) == ["itemNotFound"]
    assert elapsed >= len(response.content) * 0.0002


def test_huge_body_streams_until_the_client_hangs_up(scripted, log):
    api = scripted(step("huge_body", match="GET backups"))
    response = api.session.get(f"{api.base}/backups", headers=api.headers(), stream=True, timeout=5)
    assert response.status_code == 200 and "Content-Length" not in response.headers
    received = 0
    for chunk in response.iter_content(65536):
        received += len(chunk)
        if received > 4 * 1024 * 1024:
            break
    response.close()
    assert received > 4 * 1024 * 1024
    assert log.wait_for("fault=huge_body")  # the server gave up writing once the client left
    assert api.get("/backups").status_code == 200


def test_latency_is_added_to_api_answers(start):
    api = Api(start(latency=0.01))
    started = time.monotonic()
    assert api.get("/backups").status_code == 200
    assert time.monotonic() - started >= 0.01
    api.close()


def test_match_picks_method_and_route(scripted):
    api = scripted(
        step("status", match="GET backup", status=500),
        step("status", match="backups", status=502),
        step("status", match="*", status=504),
    )
    assert api.get("/backups/detail").status_code == 504  # only '*' matches backups_detail
    assert api.create().status_code == 502  # 'backups' matches any method
    assert api.get(f"/backups/{UNKNOWN}").status_code == 500
    assert api.create().status_code == 202
    assert api.get("/backups/detail").status_code == 200


def test_steps_for_the_same_route_apply_in_order(scripted):
    api = scripted(step("status", status=500), step("throttle"), step("status", status=503, times=2))
    assert [api.create().status_code for _ in range(5)] == [500, 429, 503, 503, 202]


def test_error_rate_one_fails_every_api_request(start):
    api = Api(start(error_rate=1.0, retry_after=1, random_seed=3))
    responses = [api.get("/backups") for _ in range(10)]
    assert {r.status_code for r in responses} <= {500, 503}
    for response in responses:
        expected = "computeFault" if response.status_code == 500 else "serviceUnavailable"
        assert list(response.json()) == [expected]
        assert response.headers["Retry-After"] == "1"
    assert api.session.get(f"{api.emu.url}/_emulator/health", timeout=5).status_code == 200


def test_throttle_rate_one_throttles_every_api_request(start):
    api = Api(start(throttle_rate=1.0))
    assert {api.create().status_code for _ in range(5)} == {429}
    assert api.emu.stats()["faults_fired"] == {"throttle": 5}


def test_random_faults_repeat_with_the_same_random_seed(start):
    def outcome(seed: int) -> list[int]:
        api = Api(start(error_rate=0.3, throttle_rate=0.3, random_seed=seed))
        return [api.get("/backups").status_code for _ in range(30)]

    first = outcome(5)
    assert first == outcome(5)
    assert {200, 429} <= set(first) and set(first) & {500, 503}


def test_faults_change_at_run_time_over_http(emu, api):
    assert api.create().status_code == 202
    script = [step("status", times=2, status=503, retry_after=0)]
    changed = api.control("POST", "faults", {"script": script, "latency": 0})
    assert changed.status_code == 200
    assert changed.json()["script"] == [
        {"fault": "status", "match": "POST backups", "times": 2, "status": 503, "retry_after": 0.0}
    ]
    assert [api.create().status_code for _ in range(3)] == [503, 503, 202]
    assert api.control("GET", "faults").json()["script"][0]["times"] == 0
    api.control("POST", "faults", {"throttle_rate": 1})
    assert api.create().status_code == 429
    api.control("POST", "faults", {})
    assert api.create().status_code == 202
    assert emu.stats()["backups_created"] == 3


@pytest.mark.parametrize(
    "config",
    [
        {"script": [{"fault": "explode"}]},
        {"script": [step("status", match="POST servers")]},
        {"script": [step("status", times=0)]},
        {"script": [step("status", status=99)]},
        {"script": [step("status", colour="red")]},
        {"error_rate": 1.5},
        {"latency": -1},
        {"latency": "slow"},
        {"surprise": 1},
        ["not", "an", "object"],
    ],
)
def test_invalid_fault_configuration_is_refused_and_changes_nothing(emu, api, config):
    api.control("POST", "faults", {"script": [step("status", status=500)]})
    response = api.control("POST", "faults", config)
    assert response.status_code == 400
    assert response.json()["error"]["code"] == 400
    assert api.create().status_code == 500  # the earlier script is still in force


def test_control_endpoints_are_never_faulted_or_authenticated(start):
    api = Api(start(script=[step("status", match="*", status=500, times=5)], latency=0), token=None)
    assert api.control("GET", "health").json()["status"] == "ok"
    assert api.control("GET", "stats").status_code == 200
    assert api.control("POST", "reset-stats").status_code == 200
    assert api.control("GET", "faults").json()["script"][0]["times"] == 5
    assert api.emu.stats()["requests"] == {}


def test_invalid_script_in_the_config_fails_at_construction():
    from vbscli.emulator import Emulator, EmulatorConfig, FaultError

    with pytest.raises(FaultError, match="times"):
        Emulator(EmulatorConfig(script=[step("status", times=-1)]))

"""show, list (paging) and waiting, against `responses`; time is injected, nothing sleeps."""

from __future__ import annotations

import pytest
import responses

from tests.conftest import VOLUME
from vbscli import backups, polling
from vbscli.auth import TokenAuth
from vbscli.client import Client
from vbscli.errors import BackupFailed, InputError, ServiceError, WaitTimeout

ENDPOINT = "https://evs.test.example"
BASE = f"{ENDPOINT}/v3/p1"
BID = "bb089eba-6b38-41c8-85a4-2b94fad7d570"


@pytest.fixture
def client():
    return Client(ENDPOINT, "p1", TokenAuth("t"))


def detail(status, **extra):
    return {"backup": {"id": BID, "name": "n", "status": status, "volume_id": VOLUME, **extra}}


@responses.activate
def test_show_returns_the_document(client):
    responses.get(f"{BASE}/backups/{BID}", json=detail("available", size=10))
    assert backups.show(client, BID) == detail("available", size=10)


def test_show_checks_the_id_before_sending(client):
    with pytest.raises(InputError, match="invalid backup ID 'x'"):
        backups.show(client, "x")


@responses.activate
def test_show_unknown_id_is_a_rejection(client):
    responses.get(
        f"{BASE}/backups/{BID}",
        status=404,
        json={"itemNotFound": {"code": 404, "message": f"Backup {BID} could not be found."}},
    )
    with pytest.raises(ServiceError) as info:
        backups.show(client, BID)
    assert info.value.exit_code == 1 and "could not be found" in info.value.message


@responses.activate
def test_list_follows_next_links_using_only_their_marker(client):
    page1 = {
        "backups": [{"id": "a"}, {"id": "b"}],
        "backups_links": [{"rel": "next", "href": "https://placeholder.invalid/v3/p1/backups/detail?marker=b&limit=2"}],
    }
    page2 = {"backups": [{"id": "c"}]}
    responses.get(
        f"{BASE}/backups/detail",
        json=page2,
        match=[responses.matchers.query_param_matcher({"volume_id": VOLUME, "limit": "200", "marker": "b"})],
    )
    responses.get(
        f"{BASE}/backups/detail",
        json=page1,
        match=[responses.matchers.query_param_matcher({"volume_id": VOLUME, "limit": "200"})],
    )
    assert backups.list_backups(client, volume_id=VOLUME) == {"backups": [{"id": "a"}, {"id": "b"}, {"id": "c"}]}
    assert all(c.request.url.startswith(ENDPOINT) for c in responses.calls)


@responses.activate
def test_list_stops_at_limit_and_never_loops_on_a_repeated_marker(client):
    looping = {"backups": [{"id": "a"}], "backups_links": [{"rel": "next", "href": f"{BASE}/backups/detail?marker=a"}]}
    responses.get(f"{BASE}/backups/detail", json=looping)
    assert len(backups.list_backups(client)["backups"]) == 2  # second page repeats the marker: stop
    responses.reset()
    responses.get(f"{BASE}/backups/detail", json={"backups": [{"id": "a"}, {"id": "b"}, {"id": "c"}]})
    assert backups.list_backups(client, limit=2) == {"backups": [{"id": "a"}, {"id": "b"}]}
    assert "limit=2" in responses.calls[0].request.url


@responses.activate
def test_list_checks_its_filters_itself_when_the_service_ignores_them(client):
    """A service may ignore a filter it does not know: the answer is checked on our side, and the
    limit counts only what matches, across pages (a page with no match does not end the listing)."""
    other = "5c1a9f0e-2b3d-4e5f-8a9b-0c1d2e3f4a99"
    page1 = {
        "backups": [
            {"id": "a", "name": "nightly-1", "status": "available", "volume_id": other},
            {"id": "b", "name": "nightly-1", "status": "error", "volume_id": VOLUME},
        ],
        "backups_links": [{"rel": "next", "href": f"{BASE}/backups/detail?marker=b"}],
    }
    page2 = {
        "backups": [
            {"id": "c", "name": "nightly-2", "status": "available", "volume_id": VOLUME},
            {"id": "d", "name": "nightly-1", "status": "available", "volume_id": VOLUME.upper()},
            {"id": "e", "name": "nightly-1", "status": "available", "volume_id": VOLUME},
        ]
    }

    def answer(request):
        import json

        return 200, {}, json.dumps(page2 if "marker=b" in request.url else page1)

    responses.add_callback(responses.GET, f"{BASE}/backups/detail", callback=answer)
    found = backups.list_backups(client, volume_id=VOLUME, status="available", name="nightly-1", limit=1)
    assert [b["id"] for b in found["backups"]] == ["d"]
    assert "name=nightly-1" in responses.calls[0].request.url and "status=available" in responses.calls[0].request.url
    found = backups.list_backups(client, volume_id=VOLUME, status="available", name="nightly-1")
    assert [b["id"] for b in found["backups"]] == ["d", "e"]


class FakeTime:
    def __init__(self):
        self.now = 0.0
        self.sleeps: list[float] = []

    def clock(self):
        return self.now

    def sleep(self, seconds):
        self.sleeps.append(seconds)
        self.now += seconds


@responses.activate
def test_wait_polls_with_growing_interval_until_available(client):
    for status in ("creating", "creating", "creating", "creating", "available"):
        responses.get(f"{BASE}/backups/{BID}", json=detail(status))
    t = FakeTime()
    seen = []
    doc = backups.wait_available(
        client,
        BID,
        polling.WaitPolicy(timeout=600, interval=4, first=2),
        on_status=lambda s, e: seen.append(s),
        sleep=t.sleep,
        clock=t.clock,
    )
    assert doc["backup"]["status"] == "available"
    assert t.sleeps == [2, 3, 4, 4]
    assert seen == ["creating"] * 4 + ["available"]


@responses.activate
def test_wait_error_status_raises_backup_failed_with_reason(client):
    responses.get(f"{BASE}/backups/{BID}", json=detail("error", fail_reason="snapshot unreadable"))
    t = FakeTime()
    with pytest.raises(BackupFailed) as info:
        backups.wait_available(client, BID, polling.WaitPolicy(), sleep=t.sleep, clock=t.clock)
    assert info.value.exit_code == 6 and "snapshot unreadable" in info.value.message


@responses.activate
def test_wait_timeout_says_the_backup_goes_on(client):
    responses.get(f"{BASE}/backups/{BID}", json=detail("creating"))
    t = FakeTime()
    with pytest.raises(WaitTimeout) as info:
        backups.wait_available(client, BID, polling.WaitPolicy(timeout=10, interval=5), sleep=t.sleep, clock=t.clock)
    assert info.value.exit_code == 7
    assert "still creating after 10 s" in info.value.message
    assert f"vbs backup show {BID}" in info.value.hint
    assert sum(t.sleeps) == 10


@responses.activate
def test_wait_survives_a_failed_poll(client):
    responses.get(f"{BASE}/backups/{BID}", status=503, json={"error": {"code": "x", "message": "busy"}})
    responses.get(f"{BASE}/backups/{BID}", json=detail("available"))
    t = FakeTime()
    assert (
        backups.wait_available(client, BID, polling.WaitPolicy(), sleep=t.sleep, clock=t.clock)["backup"]["status"]
        == "available"
    )

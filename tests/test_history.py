"""The report's reads: every page of backups and of disks, GETs only, names that may fail without
failing the report, and reads that really run at the same time (shown by a server that answers
only once several requests are waiting together)."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl, urlsplit

import pytest
import responses

from vbscli import history
from vbscli.auth import TokenAuth
from vbscli.client import Client
from vbscli.errors import ServiceError

ENDPOINT = "https://evs.test.example"
BASE = f"{ENDPOINT}/v3/p1"
A = "aaaaaaaa-0000-4000-8000-000000000001"
B = "bbbbbbbb-0000-4000-8000-000000000002"


def item(bid, volume, status="available", created="2026-03-09T02:00:00.000000", size=10):
    return {"id": bid, "volume_id": volume, "status": status, "created_at": created, "size": size, "name": "n"}


def next_link(key, marker):
    return {
        f"{key}_links": [{"rel": "next", "href": f"https://placeholder.invalid/v3/p1/{key}/detail?marker={marker}"}]
    }


def query(**params):
    return [responses.matchers.query_param_matcher({k: str(v) for k, v in params.items()})]


@pytest.fixture
def client():
    return Client(ENDPOINT, "p1", TokenAuth("t"))


@responses.activate
def test_every_page_of_backups_and_of_disks_is_read_with_gets_only(client):
    responses.get(
        f"{BASE}/backups/detail",
        json={"backups": [item("b1", A), item("b2", B, "error")], **next_link("backups", "b2")},
        match=query(limit=200),
    )
    responses.get(f"{BASE}/backups/detail", json={"backups": [item("b3", A)]}, match=query(limit=200, marker="b2"))
    responses.get(
        f"{BASE}/volumes/detail",
        json={"volumes": [{"id": A.upper(), "name": "db01"}], **next_link("volumes", A)},
        match=query(limit=200),
    )
    responses.get(
        f"{BASE}/volumes/detail",
        json={"volumes": [{"id": B, "name": ""}, {"id": "c", "name": None}]},
        match=query(limit=200, marker=A),
    )
    told: list = []
    found = history.read(client, on_names_problem=told.append)
    assert [(b.id, b.volume_id, b.status, b.size) for b in found.backups] == [
        ("b1", A, "available", 10),
        ("b2", B, "error", 10),
        ("b3", A, "available", 10),
    ]
    assert found.names == {A: "db01"}  # a disk without a name shows its ID
    assert told == []
    assert len(responses.calls) == 4 and {c.request.method for c in responses.calls} == {"GET"}


@pytest.mark.parametrize("status", [404, 403, 500])
@responses.activate
def test_disk_names_that_cannot_be_read_do_not_fail_the_report(client, status):
    responses.get(f"{BASE}/backups/detail", json={"backups": [item("b1", A)]})
    responses.get(f"{BASE}/volumes/detail", status=status, json={"error": {"code": status, "message": "no"}})
    told = []
    found = history.read(client, on_names_problem=told.append)
    assert [b.id for b in found.backups] == ["b1"]
    assert found.names == {}
    assert len(told) == 1 and isinstance(told[0], ServiceError) and told[0].status == status


@responses.activate
def test_a_failing_backup_listing_fails_the_report(client):
    responses.get(f"{BASE}/backups/detail", status=500, json={"computeFault": {"code": 500, "message": "down"}})
    responses.get(f"{BASE}/volumes/detail", json={"volumes": []})
    with pytest.raises(ServiceError) as caught:
        history.read(client)
    assert caught.value.status == 500


@responses.activate
def test_named_disks_are_read_one_listing_each_and_checked_client_side(client):
    responses.get(f"{BASE}/backups/detail", json={"backups": [item("a1", A)]}, match=query(limit=200, volume_id=A))
    # This server ignores the filter: another disk's backups must not be counted for B.
    responses.get(
        f"{BASE}/backups/detail",
        json={"backups": [item("a1", A), item("b1", B)]},
        match=query(limit=200, volume_id=B),
    )
    responses.get(f"{BASE}/volumes/detail", json={"volumes": []})
    found = history.read(client, [A, B.upper(), A], parallel=2)
    assert sorted((b.id, b.volume_id) for b in found.backups) == [("a1", A), ("b1", B)]
    assert len(responses.calls) == 3  # A once, B once, the names once


class Rendezvous:
    """A service that answers a listing only when `parties` requests are waiting at once."""

    def __init__(self, parties: int) -> None:
        self.barrier = threading.Barrier(parties, timeout=10)
        self.paths: list[str] = []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def do_GET(self):
                parts = urlsplit(self.path)
                outer.paths.append(self.path)
                try:
                    outer.barrier.wait()
                    status = 200
                except threading.BrokenBarrierError:
                    status = 503
                key = "volumes" if parts.path.endswith("/volumes/detail") else "backups"
                volume = dict(parse_qsl(parts.query)).get("volume_id", A)
                items = [{"id": volume}] if key == "volumes" else [item(f"of-{volume}", volume)]
                body = json.dumps({key: items} if status == 200 else {"error": {"code": 503}}).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> Rendezvous:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.barrier.abort()
        self.server.shutdown()
        self.server.server_close()

    def client(self, pool: int) -> Client:
        host, port = self.server.server_address[:2]
        return Client(f"http://{host}:{port}", "p1", TokenAuth("t"), pool_size=pool, read_timeout=20)


def test_the_names_are_read_while_the_backups_are():
    with Rendezvous(parties=2) as service:
        found = history.read(service.client(pool=2))
    assert [b.volume_id for b in found.backups] == [A]
    assert len(service.paths) == 2


def test_named_disks_are_read_several_at_a_time():
    disks = [f"{n:08x}-0000-4000-8000-000000000000" for n in range(3)]
    with Rendezvous(parties=4) as service:  # three listings and the names, all in flight together
        found = history.read(service.client(pool=4), disks, parallel=3)
    assert sorted(b.volume_id for b in found.backups) == sorted(disks)


def test_ages_are_measured_on_our_clock_unless_the_services_is_clearly_different():
    from datetime import datetime, timedelta, timezone

    ours = datetime(2026, 3, 10, 12, 0, 0, 500000, tzinfo=timezone.utc)
    assert history.History([], server_now=None).now(ours) == ours
    near = ours - timedelta(seconds=59)  # the Date header counts whole seconds: not worth following
    assert history.History([], server_now=near).now(ours) == ours
    skewed = ours + timedelta(hours=2)  # this machine's clock is two hours behind the service's
    assert history.History([], server_now=skewed).now(ours) == skewed


@responses.activate
def test_a_failed_disk_stops_the_read_without_reading_the_others(client):
    disks = [f"{n:08x}-0000-4000-8000-000000000000" for n in range(10)]
    responses.get(f"{BASE}/backups/detail", status=403, json={"forbidden": {"code": 403, "message": "no"}})
    responses.get(f"{BASE}/volumes/detail", json={"volumes": []})
    with pytest.raises(ServiceError):
        history.read(client, disks, parallel=1)
    listings = [c for c in responses.calls if "/backups/detail" in c.request.url]
    assert 1 <= len(listings) <= 3


def test_throttled_listings_halve_the_concurrency_once_per_round_trip(monkeypatch):
    """Four disks read together, all four throttled: one decrease, as a fleet run does (AIMD)."""
    from vbscli import batch
    from vbscli.retry import RetryPolicy

    halvings: list[bool] = []

    class Recording(batch.Limiter):
        def throttled(self, ticket=None):
            halved = super().throttled(ticket)
            halvings.append(halved)
            return halved

    monkeypatch.setattr(batch, "Limiter", Recording)
    disks = [f"{n:08x}-0000-4000-8000-000000000000" for n in range(4)]
    with Rendezvous(parties=4) as service:  # the four first attempts arrive together...
        first = {d: True for d in disks}
        original = service.server.RequestHandlerClass.do_GET

        def do_get(handler):
            volume = dict(parse_qsl(urlsplit(handler.path).query)).get("volume_id")
            if volume in first and first.pop(volume):  # ...and are throttled together
                try:
                    service.barrier.wait()
                except threading.BrokenBarrierError:
                    pass
                body = b'{"error_code": "APIGW.0308", "error_msg": "throttled"}'
                handler.send_response(429)
                handler.send_header("Content-Type", "application/json")
                handler.send_header("Content-Length", str(len(body)))
                handler.end_headers()
                handler.wfile.write(body)
                return
            body = json.dumps({"volumes": []} if volume is None else {"backups": [item("b", volume)]}).encode()
            handler.send_response(200)
            handler.send_header("Content-Type", "application/json")
            handler.send_header("Content-Length", str(len(body)))
            handler.end_headers()
            handler.wfile.write(body)

        service.server.RequestHandlerClass.do_GET = do_get
        client = service.client(pool=5)
        client.retry = RetryPolicy(max_attempts=2, sleep=lambda seconds: None)
        try:
            found = history.read(client, disks, parallel=4)
        finally:
            service.server.RequestHandlerClass.do_GET = original
    assert sorted(b.volume_id for b in found.backups) == sorted(disks)
    assert sorted(halvings) == [False, False, False, True]


# -- reading one page ahead -------------------------------------------------------------------


def test_the_next_page_is_read_while_the_last_one_is_digested():
    asked = [threading.Event() for _ in range(3)]

    def pages():
        for n in range(3):
            asked[n].set()
            yield [{"page": n}]

    reader = history.read_ahead(pages())
    assert next(reader) == [{"page": 0}]
    # Still digesting page 0: page 1 is asked for meanwhile, not when the reader comes back.
    assert asked[1].wait(10)
    assert list(reader) == [[{"page": 1}], [{"page": 2}]]


def test_a_failed_page_reaches_the_reader_after_the_pages_before_it():
    def pages():
        yield [{"page": 0}]
        raise ServiceError(503, "HTTP 503")

    reader = history.read_ahead(pages())
    assert next(reader) == [{"page": 0}]
    with pytest.raises(ServiceError):
        next(reader)


def test_a_reader_that_stops_stops_the_pages_after_the_one_in_flight():
    produced = []
    ended = threading.Event()

    def pages():
        try:
            for n in range(100):
                produced.append(n)
                yield [{"page": n}]
        finally:
            ended.set()  # the reading thread let go of the listing

    reader = history.read_ahead(pages())
    assert next(reader) == [{"page": 0}]
    reader.close()  # the reader failed or was interrupted
    assert ended.wait(10)
    assert len(produced) <= 3  # the page handed, one waiting, at most one more in flight

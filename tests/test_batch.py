"""Reading fleet files, adapting concurrency, and the run's exit code (no network)."""

from __future__ import annotations

import pytest

from vbscli import batch
from vbscli.batch import Item, Limiter, Outcome
from vbscli.errors import InputError, ServiceError
from vbscli.retry import is_throttle

V1, S1 = "5c1a9f0e-2b3d-4e5f-8a9b-0c1d2e3f4a01", "9e3c7d21-6f4a-4b8c-9d0e-1f2a3b4c5d01"


def test_yaml_items_keep_their_line_numbers():
    text = f"# fleet\n- {{volume_id: {V1}, snapshot_id: {S1}, name: a}}\n\n- volume_id: {V1}\n  snapshot_id: nope\n"
    items = batch.parse(text, "fleet.yaml")
    assert [i.line for i in items] == [2, 4]
    assert items[0].spec.name == "a" and items[1].spec is None
    assert items[1].problem.startswith("fleet.yaml:4: invalid --snapshot-id 'nope': not a UUID")


def test_json_lines_and_csv():
    jsonl = f'{{"volume_id": "{V1}", "snapshot_id": "{S1}", "force": true}}\n{{broken\n'
    items = batch.parse(jsonl, "f.jsonl")
    assert items[0].spec.force is True and items[0].spec.name.startswith("vbs-")
    assert items[1].line == 2 and "invalid JSON" in items[1].problem
    csv = f"volume_id,snapshot_id,name,force\n{V1},{S1},n1,yes\n{V1},{S1},auto-x,no\n"
    items = batch.parse(csv, "f.csv")
    assert items[0].spec.force is True and items[0].line == 2
    assert items[1].line == 3 and "starts with 'auto'" in items[1].problem


def test_unknown_fields_and_unknown_formats_are_reported():
    assert "unknown field 'size'" in batch.parse(f"- {{volume_id: {V1}, snapshot_id: {S1}, size: 3}}\n", "f")[0].problem
    with pytest.raises(InputError, match="not a YAML list, JSON lines or CSV"):
        batch.parse("hello world\n", "f")
    with pytest.raises(InputError, match="no items"):
        batch.parse("[]\n", "f")


def test_limiter_halves_when_throttled_and_grows_back_one_at_a_time():
    limiter = Limiter(16)
    limiter.throttled()
    limiter.throttled()
    assert int(limiter.limit) == 4
    for _ in range(4):
        limiter.acquire()
        limiter.release(True)
    assert 4 < limiter.limit < 6
    for _ in range(200):
        limiter.acquire()
        limiter.release(True)
    assert limiter.limit == 16


def test_throttle_detection():
    assert is_throttle(ServiceError(429, "APIGW.0308", "t"))
    assert is_throttle(ServiceError(413, "overLimit", "t", retry_after=3))
    assert not is_throttle(ServiceError(413, "overLimit", "quota"))
    assert not is_throttle(ServiceError(503, None, "down"))


def outcome(result, code):
    return Outcome(Item(1), result, code)


def test_exit_code_of_a_run():
    assert batch.exit_code([outcome("created", 0), outcome("skipped", 0)]) == 0
    assert batch.exit_code([outcome("created", 0), outcome("failed", 5)]) == 1
    assert batch.exit_code([outcome("failed", 4), outcome("failed", 4)]) == 4
    assert batch.exit_code([outcome("failed", 5), outcome("failed", 4)]) == 1
    assert batch.exit_code([outcome("failed", 1), outcome("failed", 1)]) == 1


def test_eight_requests_throttled_together_halve_the_limit_once():
    """AIMD as TCP does it: one decrease per round trip, however many of its requests were throttled."""
    limiter = Limiter(8)
    tickets = [limiter.ticket() for _ in range(8)]  # eight requests sent in the same round trip
    halved = [limiter.throttled(ticket) for ticket in tickets]
    assert halved.count(True) == 1 and limiter.limit == 4
    # their repeats go out after the decrease: throttled again, that is the next round trip
    assert limiter.throttled(limiter.ticket()) is True and limiter.limit == 2


def test_the_limit_grows_by_one_per_round_trip_of_successes():
    limiter = Limiter(8)
    limiter.throttled()
    assert limiter.limit == 4
    for _ in range(4):  # one round trip: `limit` successes
        limiter.acquire()
        limiter.release(True)
    assert 4.9 < limiter.limit < 5.1

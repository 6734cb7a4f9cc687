"""A backup is 'creating' for create_delay seconds of the injected clock, then 'available' or 'error'."""

from __future__ import annotations

import pytest

from tests.emulator.conftest import FAILING, FAILING_SNAP, Api


@pytest.fixture
def slow(start):
    emu = start(create_delay=5)
    caller = Api(emu)
    yield caller
    caller.close()


def status_of(api: Api, backup_id: str) -> dict:
    return api.get(f"/backups/{backup_id}").json()["backup"]


def test_creating_then_available_after_the_delay(slow, clock):
    backup_id = slow.create(name="nightly").json()["backup"]["id"]
    backup = status_of(slow, backup_id)
    assert backup["status"] == "creating" and backup["object_count"] == 0
    assert backup["updated_at"] == backup["created_at"] == "2026-11-28T10:00:00.000000"
    clock.advance(4.999)
    assert status_of(slow, backup_id)["status"] == "creating"
    clock.advance(0.001)
    backup = status_of(slow, backup_id)
    assert backup["status"] == "available" and backup["fail_reason"] is None
    assert backup["updated_at"] == "2026-11-28T10:00:05.000000"
    assert backup["object_count"] > 0


def test_status_filter_follows_the_clock(slow, clock):
    slow.create(name="nightly")
    assert [b["name"] for b in slow.get("/backups", status="creating").json()["backups"]] == ["nightly"]
    assert slow.get("/backups", status="available").json()["backups"] == []
    clock.advance(5)
    assert slow.get("/backups", status="creating").json()["backups"] == []
    assert [b["name"] for b in slow.get("/backups", status="available").json()["backups"]] == ["nightly"]


def test_fail_backups_volume_ends_in_error_with_a_reason(slow, clock):
    backup_id = slow.create(FAILING, FAILING_SNAP, name="doomed").json()["backup"]["id"]
    assert status_of(slow, backup_id)["status"] == "creating"
    assert status_of(slow, backup_id)["fail_reason"] is None
    clock.advance(5)
    backup = status_of(slow, backup_id)
    assert backup["status"] == "error"
    assert backup["fail_reason"].startswith("Backup of the disk snapshot failed")


def test_zero_delay_is_available_at_once(api):
    backup_id = api.create().json()["backup"]["id"]
    assert status_of(api, backup_id)["status"] == "available"


def test_zero_delay_failure_is_error_at_once(api):
    backup_id = api.create(FAILING, FAILING_SNAP).json()["backup"]["id"]
    assert status_of(api, backup_id)["status"] == "error"


def test_a_changed_delay_applies_to_new_backups_only(start, clock):
    emu = start(create_delay=5)
    api = Api(emu)
    first = api.create().json()["backup"]["id"]
    emu.store.create_delay = 100
    clock.advance(5)
    second = api.create().json()["backup"]["id"]
    assert status_of(api, first)["status"] == "available"
    assert status_of(api, second)["status"] == "creating"
    clock.advance(100)
    assert status_of(api, second)["status"] == "available"
    api.close()

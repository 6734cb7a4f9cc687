"""The rest of the cycle in the emulator: snapshots, deleting and restoring backups, chains and quotas."""

from __future__ import annotations

from datetime import timedelta

import pytest

from tests.emulator.conftest import IN_USE, SNAPSHOT, START, UNKNOWN, VOLUME, Api
from vbscli.emulator import demo_seed
from vbscli.emulator.seed import SeedError, Volume, seed_from


@pytest.fixture
def slow(start):
    """Every operation takes 5 s of the test's clock."""
    caller = Api(start(create_delay=5))
    yield caller
    caller.close()


def snap(api: Api, volume: str = VOLUME, version: str | None = None, **fields) -> object:
    extra = {"OpenStack-API-Version": version} if version else {}
    body = {"snapshot": {"volume_id": volume, **fields}}
    return api.session.post(f"{api.base}/snapshots", json=body, headers=api.headers(extra), timeout=5)


def delete(api: Api, path: str) -> object:
    return api.session.delete(f"{api.base}{path}", headers=api.headers(), timeout=5)


def restore(api: Api, backup_id: str, **fields) -> object:
    return api.session.post(
        f"{api.base}/backups/{backup_id}/restore", json={"restore": fields}, headers=api.headers(), timeout=5
    )


def status(api: Api, path: str) -> str:
    answer = api.get(path)
    if answer.status_code == 404:
        return "gone"
    return next(iter(answer.json().values()))["status"]


# -- snapshots -----------------------------------------------------------------------------------


def test_a_snapshot_is_creating_then_available_with_its_name_and_metadata(slow, clock):
    answer = snap(slow, name="vbs-for-nightly", description="for a backup", metadata={"created_by": "vbs"})
    assert answer.status_code == 202
    made = answer.json()["snapshot"]
    assert made["status"] == "creating" and made["volume_id"] == VOLUME and made["size"] == 10
    assert (made["name"], made["metadata"]) == ("vbs-for-nightly", {"created_by": "vbs"})
    clock.advance(5)
    shown = slow.get(f"/snapshots/{made['id']}").json()["snapshot"]
    assert shown["status"] == "available" and shown["created_at"] == "2026-11-28T10:00:00.000000"
    assert slow.emu.stats()["snapshots_created"] == 1


def test_snapshot_listing_filters_by_volume_and_ignores_a_metadata_filter(api):
    mine = snap(api, name="mine", metadata={"created_by": "vbs"}).json()["snapshot"]["id"]
    listed = api.get("/snapshots/detail", volume_id=VOLUME, metadata='{"created_by": "nobody"}').json()["snapshots"]
    assert mine in [s["id"] for s in listed] and SNAPSHOT in [s["id"] for s in listed]
    assert {s["volume_id"] for s in listed} == {VOLUME}
    summary = api.get("/snapshots").json()["snapshots"]
    assert set(summary[0]) == {"id", "name"}


def test_snapshot_listing_pages_with_next_links(api):
    api.emu.store.max_limit = 2
    for n in range(3):
        snap(api, name=f"s{n}")
    page = api.get("/snapshots/detail", volume_id=VOLUME).json()
    assert len(page["snapshots"]) == 2 and page["snapshots_links"][0]["rel"] == "next"
    rest = api.get(page["snapshots_links"][0]["href"]).json()
    assert len(rest["snapshots"]) == 2 and "snapshots_links" not in rest  # 3 made + the seed's one


def test_an_attached_disk_needs_force_and_force_false_is_refused_from_3_66(api):
    assert snap(api, IN_USE).status_code == 400
    assert snap(api, IN_USE, force=True).status_code == 202
    assert snap(api, force=False).status_code == 202  # the base version takes it
    refused = snap(api, force=False, version="volume 3.66")
    assert refused.status_code == 400 and "force" in refused.json()["badRequest"]["message"]
    assert snap(api, version="volume 3.66").status_code == 202


def test_snapshot_input_is_checked(api):
    assert snap(api, "not-a-uuid").status_code == 400
    assert snap(api, UNKNOWN).status_code == 404
    assert snap(api, name="x" * 256).status_code == 400
    assert snap(api, metadata={"k": 1}).status_code == 400
    assert snap(api, force="yes").status_code == 400


def test_a_snapshot_cannot_be_deleted_while_creating_or_backing_up(slow, clock):
    made = snap(slow).json()["snapshot"]["id"]
    assert delete(slow, f"/snapshots/{made}").status_code == 400  # creating
    assert slow.create(snapshot=made).json()["badRequest"]["code"] == "VolumeBackup.0017"
    clock.advance(5)
    backup = slow.create(snapshot=made).json()["backup"]["id"]
    assert status(slow, f"/snapshots/{made}") == "backing-up"
    refused = delete(slow, f"/snapshots/{made}")
    assert refused.status_code == 400 and "backing-up" in refused.json()["badRequest"]["message"]
    clock.advance(5)
    assert status(slow, f"/backups/{backup}") == "available"
    accepted = delete(slow, f"/snapshots/{made}")
    assert (accepted.status_code, accepted.content) == (202, b"")
    assert status(slow, f"/snapshots/{made}") == "deleting"
    assert delete(slow, f"/snapshots/{made}").status_code == 400
    clock.advance(5)
    assert status(slow, f"/snapshots/{made}") == "gone"
    detail = slow.get(f"/backups/{backup}").json()["backup"]
    assert detail["snapshot_id"] == made  # kept after the snapshot is gone
    assert detail["data_timestamp"] == "2026-11-28T10:00:00.000000" != detail["created_at"]


def test_a_failing_disk_makes_error_snapshots(start, clock):
    seed = demo_seed()
    seed.volumes[0].fail_snapshots = True
    api = Api(start(seed=seed, create_delay=1))
    made = snap(api).json()["snapshot"]["id"]
    clock.advance(1)
    assert status(api, f"/snapshots/{made}") == "error"
    assert delete(api, f"/snapshots/{made}").status_code == 202


# -- deleting backups and chains -----------------------------------------------------------------


def test_deleting_goes_through_deleting_to_404_and_a_second_delete_gets_400(slow, clock):
    backup = slow.emu.store.add_backup(VOLUME, START - timedelta(days=1), name="old")
    answer = delete(slow, f"/backups/{backup}")
    assert (answer.status_code, answer.content) == (202, b"")
    assert status(slow, f"/backups/{backup}") == "deleting"
    again = delete(slow, f"/backups/{backup}")
    assert again.status_code == 400
    assert "Backup status must be available or error" in again.json()["badRequest"]["message"]
    clock.advance(5)
    assert status(slow, f"/backups/{backup}") == "gone"
    assert delete(slow, f"/backups/{backup}").status_code == 404
    assert slow.get("/backups").json()["backups"] == []


def test_a_backup_in_progress_cannot_be_deleted(slow):
    creating = slow.create(name="running").json()["backup"]["id"]
    assert delete(slow, f"/backups/{creating}").status_code == 400
    restoring = slow.emu.store.add_backup(IN_USE, START, status="restoring")
    assert delete(slow, f"/backups/{restoring}").status_code == 400


def test_as_vbs_no_backup_has_dependents_and_any_can_be_deleted(api):
    """VBS keeps the increments to itself: the first backup is full, later ones incremental, and
    deleting one (oldest first, or one in the middle) is the service's business."""
    first, second, third = (api.create(name=f"b{n}").json()["backup"]["id"] for n in range(3))
    shown = {b["id"]: b for b in api.get("/backups/detail").json()["backups"]}
    assert [shown[i]["is_incremental"] for i in (first, second, third)] == [False, True, True]
    assert [shown[i]["has_dependent_backups"] for i in (first, second, third)] == [False, False, False]
    assert delete(api, f"/backups/{first}").status_code == 202
    assert delete(api, f"/backups/{second}").status_code == 202
    assert api.get(f"/backups/{third}").json()["backup"]["status"] == "available"


def test_as_cinder_a_new_backup_builds_on_the_latest_and_a_parent_waits_for_its_dependents(start):
    seed = demo_seed()
    seed.chains = "cinder"
    api = Api(start(seed=seed))
    first, second, third = (api.create(name=f"b{n}").json()["backup"]["id"] for n in range(3))
    shown = {b["id"]: b for b in api.get("/backups/detail").json()["backups"]}
    assert [shown[i]["is_incremental"] for i in (first, second, third)] == [False, True, True]
    assert [shown[i]["has_dependent_backups"] for i in (first, second, third)] == [True, True, False]
    refused = delete(api, f"/backups/{second}")
    assert refused.status_code == 400
    assert refused.json()["badRequest"]["message"] == "Invalid backup: Incremental backups exist for this backup."
    assert delete(api, f"/backups/{third}").status_code == 202
    assert delete(api, f"/backups/{second}").status_code == 202  # its dependent is gone
    assert api.get(f"/backups/{first}").json()["backup"]["has_dependent_backups"] is False
    fourth = api.create(name="b4").json()["backup"]["id"]
    assert api.get(f"/backups/{fourth}").json()["backup"]["is_incremental"] is True  # builds on the first


def test_a_seed_or_the_command_line_chooses_the_chains(tmp_path):
    assert seed_from({"project_id": "p", "tokens": ["t"]}).chains == "vbs"
    assert seed_from({"project_id": "p", "tokens": ["t"], "chains": "cinder"}).chains == "cinder"
    with pytest.raises(SeedError, match="'chains' must be vbs or cinder, not 'upstream'"):
        seed_from({"project_id": "p", "tokens": ["t"], "chains": "upstream"})


def test_history_can_be_added_with_chains(api):
    """A test asks for a chain (as VBS, the API never makes one): it behaves as upstream's does."""
    store = api.emu.store
    full = store.add_backup(VOLUME, START - timedelta(days=3), name="full")
    child = store.add_backup(VOLUME, START - timedelta(days=2), name="inc", parent_id=full)
    failed = store.add_backup(VOLUME, START - timedelta(days=1), name="bad", status="error")
    listed = {b["name"]: b for b in api.get("/backups/detail").json()["backups"]}
    assert listed["full"]["has_dependent_backups"] and not listed["full"]["is_incremental"]
    assert listed["inc"]["is_incremental"] and listed["bad"]["status"] == "error"
    assert delete(api, f"/backups/{full}").status_code == 400
    assert delete(api, f"/backups/{failed}").status_code == 202
    assert delete(api, f"/backups/{child}").status_code == 202
    assert delete(api, f"/backups/{full}").status_code == 202


# -- restores ------------------------------------------------------------------------------------


def restore_seed():
    seed = demo_seed()
    seed.volumes += [
        Volume("5c1a9f0e-2b3d-4e5f-8a9b-0c1d2e3f4a05", "available", 10),
        Volume("5c1a9f0e-2b3d-4e5f-8a9b-0c1d2e3f4a06", "available", 10, fail_restores=True),
        Volume("5c1a9f0e-2b3d-4e5f-8a9b-0c1d2e3f4a07", "available", 5),
    ]
    return seed


def test_a_restore_runs_on_the_backup_and_the_target(start, clock):
    api = Api(start(seed=restore_seed(), create_delay=5))
    backup = api.emu.store.add_backup(VOLUME, START, name="b")
    target = "5c1a9f0e-2b3d-4e5f-8a9b-0c1d2e3f4a05"
    answer = restore(api, backup, volume_id=target)
    assert answer.status_code == 202
    assert answer.json() == {"restore": {"backup_id": backup, "volume_id": target, "volume_name": None}}
    assert status(api, f"/backups/{backup}") == "restoring"
    assert status(api, f"/volumes/{target}") == "restoring-backup"
    assert restore(api, backup, volume_id=target).status_code == 400  # backup busy
    assert delete(api, f"/backups/{backup}").status_code == 400
    clock.advance(5)
    assert status(api, f"/backups/{backup}") == "available"
    assert status(api, f"/volumes/{target}") == "available"


def test_a_restore_can_fail_on_the_target(start, clock):
    api = Api(start(seed=restore_seed(), create_delay=1))
    backup = api.emu.store.add_backup(VOLUME, START, name="b")
    target = "5c1a9f0e-2b3d-4e5f-8a9b-0c1d2e3f4a06"
    assert restore(api, backup, volume_id=target).status_code == 202
    clock.advance(1)
    assert status(api, f"/volumes/{target}") == "error_restoring"
    assert status(api, f"/backups/{backup}") == "available"  # as upstream: the backup is fine


def test_restore_refusals(start):
    api = Api(start(seed=restore_seed()))
    backup = api.emu.store.add_backup(VOLUME, START, name="b", size=10)
    assert restore(api, backup, volume_id="5c1a9f0e-2b3d-4e5f-8a9b-0c1d2e3f4a07").status_code == 400  # too small
    assert restore(api, backup, volume_id=IN_USE).status_code == 400
    assert restore(api, backup, volume_id=UNKNOWN).status_code == 404
    assert restore(api, UNKNOWN, volume_id=VOLUME).status_code == 404
    assert restore(api, backup, volume_id="nope").status_code == 400
    no_body = api.post(f"/backups/{backup}/restore", "{}")
    assert no_body.status_code == 400


def test_a_restore_without_a_target_makes_a_new_volume_as_upstream_does(api):
    backup = api.emu.store.add_backup(VOLUME, START, name="b")
    made = restore(api, backup, name="restored").json()["restore"]
    assert made["volume_name"] == "restored" and made["volume_id"] != VOLUME
    volume = api.get(f"/volumes/{made['volume_id']}").json()["volume"]
    assert (volume["name"], volume["status"], volume["size"]) == ("restored", "available", 10)


# -- quotas and faults ---------------------------------------------------------------------------


def test_full_quotas_are_413_with_retry_after_0(start):
    seed = demo_seed()
    seed.quotas = {"backups": 1, "snapshots": 5}
    api = Api(start(seed=seed))
    assert api.create(name="one").status_code == 202
    refused = api.create("5c1a9f0e-2b3d-4e5f-8a9b-0c1d2e3f4a02", "9e3c7d21-6f4a-4b8c-9d0e-1f2a3b4c5d02", force=True)
    assert refused.status_code == 413 and refused.headers["Retry-After"] == "0"
    assert refused.json() == {
        "overLimit": {
            "code": 413,
            "message": "BackupLimitExceeded: Maximum number of backups allowed (1) exceeded",
            "retryAfter": "0",
        }
    }
    assert snap(api).status_code == 202  # the seed's 4 snapshots and this one make 5
    full = snap(api)
    assert full.status_code == 413 and "SnapshotLimitExceeded" in full.json()["overLimit"]["message"]


def test_seed_quotas_and_failure_flags_are_checked():
    seed = seed_from(
        {
            "project_id": "p1",
            "tokens": ["t"],
            "volumes": [{"id": VOLUME, "fail_snapshots": True, "fail_restores": True}],
            "quotas": {"backups": 10, "snapshots": 10},
        }
    )
    assert seed.quotas == {"backups": 10, "snapshots": 10}
    assert seed.volumes[0].fail_snapshots and seed.volumes[0].fail_restores
    from vbscli.emulator import SeedError

    for bad in ({"quotas": {"backup": 1}}, {"quotas": {"backups": -1}}, {"quotas": [1]}):
        with pytest.raises(SeedError):
            seed_from({"project_id": "p1", "tokens": ["t"], **bad})


@pytest.mark.parametrize(
    ("match", "call"),
    [
        ("POST snapshots", lambda api: snap(api)),
        ("GET snapshot", lambda api: api.get(f"/snapshots/{SNAPSHOT}")),
        ("GET snapshots_detail", lambda api: api.get("/snapshots/detail")),
        ("DELETE snapshot", lambda api: delete(api, f"/snapshots/{SNAPSHOT}")),
        ("GET volume", lambda api: api.get(f"/volumes/{VOLUME}")),
    ],
)
def test_every_new_call_can_be_faulted(start, match, call):
    api = Api(start(script=[{"match": match, "fault": "status", "status": 503}]))
    assert call(api).status_code == 503
    assert api.emu.stats()["faults_fired"] == {"status": 1}


def test_a_dropped_answer_to_a_delete_or_restore_still_did_the_work(start):
    api = Api(
        start(
            seed=restore_seed(),
            create_delay=5,
            script=[
                {"match": "DELETE backup", "fault": "drop_after"},
                {"match": "POST backup_restore", "fault": "drop_after"},
            ],
        )
    )
    doomed = api.emu.store.add_backup(VOLUME, START, name="doomed")
    kept = api.emu.store.add_backup(IN_USE, START, name="kept")
    import requests

    with pytest.raises(requests.ConnectionError):
        delete(api, f"/backups/{doomed}")
    assert status(api, f"/backups/{doomed}") == "deleting"
    with pytest.raises(requests.ConnectionError):
        restore(api, kept, volume_id="5c1a9f0e-2b3d-4e5f-8a9b-0c1d2e3f4a05")
    assert status(api, f"/backups/{kept}") == "restoring"

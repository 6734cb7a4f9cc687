"""The whole cycle through the installed `vbs` against the emulator: fresh snapshots, delete, restore, prune."""

from __future__ import annotations

import json
import os
import pty
import re
import select
import signal
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from tests.conftest import Service
from tests.helpers import run_vbs, vbs_binary
from tests.test_retention import oracle, synthetic_history
from vbscli.emulator import Emulator, EmulatorConfig, demo_seed
from vbscli.emulator.seed import Volume

VOLUME = "5c1a9f0e-2b3d-4e5f-8a9b-0c1d2e3f4a01"
IN_USE = "5c1a9f0e-2b3d-4e5f-8a9b-0c1d2e3f4a02"
TARGET = "5c1a9f0e-2b3d-4e5f-8a9b-0c1d2e3f4a05"
BAD_TARGET = "5c1a9f0e-2b3d-4e5f-8a9b-0c1d2e3f4a06"
UNKNOWN = "00000000-0000-4000-8000-000000000000"
NOW = datetime.now(timezone.utc)


@contextmanager
def own_emulator(create_delay: float = 0.0, **seed_changes) -> Iterator[Service]:
    """An emulator of the test's own, with two more disks to restore onto (one whose restores fail)."""
    seed = demo_seed()
    seed.volumes += [Volume(TARGET, "available", 10), Volume(BAD_TARGET, "available", 10, fail_restores=True)]
    for key, value in seed_changes.items():
        setattr(seed, key, value)
    with Emulator(EmulatorConfig(port=0, seed=seed, create_delay=create_delay)) as emu:
        yield Service(emu)


def old_backup(service: Service, volume: str = VOLUME, days: int = 3, **extra) -> str:
    return service.emu.store.add_backup(volume, NOW - timedelta(days=days), name=f"old-{days}", **extra)


def held(service: Service) -> set[str]:
    """The ids of the backups the emulator still holds (deletions that are done have gone)."""
    service.emu.store.settle()
    return set(service.emu.store.backups)


def snapshots_of(service: Service) -> list[dict]:
    store = service.emu.store
    store.settle()
    with store.lock:
        return [store.snapshot_view(s, store.clock()) for s in store.snapshots.values()]


def made_by_vbs(service: Service) -> list[dict]:
    return [s for s in snapshots_of(service) if s["metadata"].get("created_by") == "vbs"]


def backup_status(service: Service, backup_id: str) -> str:
    status, doc = service.emu.store.show(backup_id, service.emu.url)
    return "gone" if status == 404 else doc["backup"]["status"]


# -- create from a fresh snapshot ----------------------------------------------------------------


def test_fresh_snapshot_with_wait_is_deleted_once_the_backup_is_available(emulator: Service):
    run = run_vbs("backup", "create", "--volume-id", VOLUME, "--name", "nightly-1", "--wait", env=emulator.env)
    assert run.exit_code == 0, run.stderr
    assert run.stderr == ""
    backup = run.json()["backup"]
    assert backup["status"] == "available" and backup["name"] == "nightly-1"
    stats = emulator.emu.stats()
    assert stats["snapshots_created"] == 1 and stats["requests"]["POST snapshots"] == 1
    assert stats["requests"]["DELETE snapshot"] == 1
    assert made_by_vbs(emulator) == []  # deleted; the backup keeps its snapshot_id
    assert backup["snapshot_id"] not in [s["id"] for s in snapshots_of(emulator)]


def test_fresh_snapshot_without_wait_stays_until_prune_and_says_so(emulator: Service):
    run = run_vbs("backup", "create", "--volume-id", VOLUME, "--name", "nightly-2", env=emulator.env)
    assert run.exit_code == 0, run.stderr
    backup_id = run.json()["backup"]["id"]
    (snapshot,) = made_by_vbs(emulator)
    assert f"snapshot {snapshot['id']} stays until 'vbs backup prune' removes it" in run.stderr
    assert snapshot["name"] == "vbs-for-nightly-2" and len(snapshot["name"]) <= 64
    assert snapshot["metadata"]["vbs_backup"] == "nightly-2"
    assert emulator.emu.store.backups[backup_id].snapshot_id == snapshot["id"]
    pruned = run_vbs("backup", "prune", "--volume-id", VOLUME, "--keep-last", "1", "--yes", env=emulator.env)
    assert pruned.exit_code == 0, pruned.stderr
    entry = next(e for e in pruned.json()["prune"] if e["type"] == "snapshot")
    assert (entry["id"], entry["action"], entry["outcome"]) == (snapshot["id"], "delete", "deleting")
    assert made_by_vbs(emulator) == []


def test_keep_snapshot_keeps_it_and_a_given_snapshot_is_never_touched(emulator: Service):
    run = run_vbs("backup", "create", "--volume-id", VOLUME, "--wait", "--keep-snapshot", env=emulator.env)
    assert run.exit_code == 0 and len(made_by_vbs(emulator)) == 1
    given = "9e3c7d21-6f4a-4b8c-9d0e-1f2a3b4c5d01"
    run = run_vbs("backup", "create", "--volume-id", VOLUME, "--snapshot-id", given, "--wait", env=emulator.env)
    assert run.exit_code == 0 and given in [s["id"] for s in snapshots_of(emulator)]
    assert emulator.emu.stats()["snapshots_created"] == 1


def test_a_lost_answer_to_the_snapshot_request_never_makes_two(emulator: Service):
    emulator.faults(script=[{"match": "POST snapshots", "fault": "drop_after"}])
    run = run_vbs(
        "backup",
        "create",
        "--volume-id",
        VOLUME,
        "--name",
        "lost",
        "--wait",
        env={**emulator.env, "VBS_MAX_ATTEMPTS": "4"},
    )
    assert run.exit_code == 0, run.stderr
    assert "the answer to the request for snapshot 'vbs-for-lost' was lost" in run.stderr
    assert "but snapshot " in run.stderr and " was made: reporting it" in run.stderr
    stats = emulator.emu.stats()
    assert stats["snapshots_created"] == 1 and stats["requests"]["POST snapshots"] == 1
    assert stats["backups_created"] == 1


def test_a_snapshot_request_that_surely_was_not_processed_is_sent_again_once(emulator: Service):
    emulator.faults(script=[{"match": "POST snapshots", "fault": "drop_before"}])
    run = run_vbs("backup", "create", "--volume-id", VOLUME, "--wait", env={**emulator.env, "VBS_MAX_ATTEMPTS": "4"})
    assert run.exit_code == 0, run.stderr
    stats = emulator.emu.stats()
    assert stats["snapshots_created"] == 1 and stats["requests"]["POST snapshots"] == 2


def test_a_failing_snapshot_exits_6_and_is_cleaned_up():
    seed = demo_seed()
    seed.volumes[0].fail_snapshots = True
    with Emulator(EmulatorConfig(port=0, seed=seed, create_delay=0)) as emu:
        service = Service(emu)
        run = run_vbs("backup", "create", "--volume-id", VOLUME, "--wait", "-o", "table", env=service.env)
        assert run.exit_code == 6
        assert "failed (status error)" in run.stderr and "the backup was not made" in run.stderr
        assert emu.stats()["backups_created"] == 0 and made_by_vbs(service) == []


def test_a_refused_backup_does_not_leave_its_snapshot_behind():
    with own_emulator(quotas={"backups": 0}) as service:
        run = run_vbs("backup", "create", "--volume-id", VOLUME, "-o", "table", env=service.env)
        assert run.exit_code != 0 and "BackupLimitExceeded" in run.stderr
        assert service.emu.stats()["snapshots_created"] == 1 and made_by_vbs(service) == []


def test_a_full_snapshot_quota_is_named_as_such_with_what_to_do():
    with own_emulator(quotas={"snapshots": len(demo_seed().snapshots)}) as service:
        run = run_vbs("backup", "create", "--volume-id", VOLUME, "-o", "table", env=service.env)
        assert run.exit_code == 1 and run.stdout == ""
        assert (
            "HTTP 413 overLimit: SnapshotLimitExceeded: Maximum number of snapshots allowed (4) exceeded" in run.stderr
        )
        assert "the project's snapshot quota is full: delete snapshots you no longer need" in run.stderr
        assert service.emu.stats()["requests"]["POST snapshots"] == 1  # a refusal: not repeated
        assert "POST backups" not in service.emu.stats()["requests"]


def test_an_attached_disk_needs_force_for_its_snapshot_too(emulator: Service):
    run = run_vbs("backup", "create", "--volume-id", IN_USE, "-o", "table", env=emulator.env)
    assert run.exit_code == 1 and run.stdout == ""
    # Cinder refuses it in its own words ("must be available, but ... in-use"): the hint is vbs's
    assert re.fullmatch(
        r"vbs: error: HTTP 400 badRequest: Invalid volume: .* in-use\. \(request id [^)]+\); the disk is attached "
        r"to a server: add --force to back it up anyway \(data cached in memory is not included\)\n",
        run.stderr,
    )
    assert emulator.emu.stats()["snapshots_created"] == 0
    forced = run_vbs("backup", "create", "--volume-id", IN_USE, "--force", "--wait", env=emulator.env)
    assert forced.exit_code == 0, forced.stderr


def test_fleet_items_without_snapshot_id_get_their_own_snapshot(emulator: Service, tmp_path):
    fleet = tmp_path / "fleet.yaml"
    fleet.write_text(f"- {{volume_id: {VOLUME}, name: a}}\n- {{volume_id: {IN_USE}, name: b, force: true}}\n")
    run = run_vbs("backup", "create", "--from", str(fleet), "--wait", env=emulator.env)
    assert run.exit_code == 0, run.stderr
    lines = [json.loads(line) for line in run.stdout.splitlines()]
    assert sorted((d["name"], d["result"], d["snapshot"]["kept"]) for d in lines) == [
        ("a", "available", False),
        ("b", "available", False),
    ]
    assert emulator.emu.stats()["snapshots_created"] == 2 and made_by_vbs(emulator) == []


# -- options that would do nothing are refused (issue #12 item 9) ---------------------------------


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ("backup", "create", "--volume-id", VOLUME, "--wait-timeout", "60"),
            "--wait-timeout only applies with --wait",
        ),
        (
            ("backup", "create", "--volume-id", VOLUME, "--poll-interval", "5"),
            "--poll-interval only applies with --wait",
        ),
        (
            ("backup", "create", "--volume-id", VOLUME, "--wait", "--dry-run"),
            "--dry-run cannot be combined with --wait",
        ),
        (("backup", "create", "--volume-id", VOLUME, "--keep-snapshot"), "--keep-snapshot only applies with --wait"),
        (
            ("backup", "create", "--volume-id", VOLUME, "--snapshot-id", UNKNOWN, "--wait", "--keep-snapshot"),
            "--snapshot-id cannot be combined with --keep-snapshot",
        ),
        (("backup", "delete", UNKNOWN, "--yes", "--wait-timeout", "9"), "--wait-timeout only applies with --wait"),
        (("backup", "delete", UNKNOWN, "--dry-run", "--yes"), "--dry-run cannot be combined with --yes"),
        (
            ("backup", "restore", UNKNOWN, "--volume-id", VOLUME, "--dry-run", "--wait"),
            "cannot be combined with --wait",
        ),
        (
            ("backup", "prune", "--all", "--keep-last", "2", "--backups", "x.json"),
            "--backups only applies with --dry-run",
        ),
        (("backup", "prune", "--all", "--keep-last", "2", "--plan", "--yes"), "--plan cannot be combined with --yes"),
        (("backup", "prune", "--all", "--keep-last", "2", "--dry-run", "--parallel", "3"), "cannot be combined"),
        (("backup", "prune", "--all"), "a retention policy is required"),
        (("backup", "prune", "--keep-last", "2"), "choose the disks with one of --volume-id"),
        (("backup", "prune", "--all", "--volume-id", VOLUME, "--keep-last", "2"), "not --volume-id and --all"),
        (("backup", "prune", "--all", "--keep-within", "2x"), "invalid --keep-within '2x'"),
        (("backup", "prune", "--all", "--keep-last", "1", "--name-prefix", "a b"), "invalid --name-prefix"),
        (("backup", "restore", UNKNOWN, "--yes"), "missing --volume-id"),
        (
            ("backup", "restore", UNKNOWN, "--volume-id", VOLUME, "--new-volume-name", "x", "--yes"),
            "cannot be combined",
        ),
    ],
)
def test_options_without_effect_or_sense_are_refused_before_anything_is_sent(emulator: Service, args, message):
    run = run_vbs(*args, "-o", "table", env=emulator.env)
    assert run.exit_code == 2, run.stderr
    assert message in run.stderr and run.stdout == ""
    assert emulator.emu.stats()["requests"] == {}


# -- dry runs send nothing (issue #12 item 10, and the destructive commands) ---------------------


def test_fleet_dry_run_checks_the_whole_file_and_prints_every_request(emulator: Service, tmp_path):
    fleet = tmp_path / "fleet.csv"
    fleet.write_text(
        f"volume_id,snapshot_id,name\n{VOLUME},9e3c7d21-6f4a-4b8c-9d0e-1f2a3b4c5d01,given\n{IN_USE},,fresh\n"
    )
    run = run_vbs("backup", "create", "--from", str(fleet), "--dry-run", env=emulator.env)
    assert run.exit_code == 0, run.stderr
    requests = [json.loads(line) for line in run.stdout.splitlines()]
    assert [(r["line"], r["method"], r["url"].rsplit("/", 1)[1]) for r in requests] == [
        (2, "POST", "backups"),
        (3, "POST", "snapshots"),
        (3, "POST", "backups"),
    ]
    assert requests[0]["body"]["backup"]["name"] == "given"
    assert requests[1]["body"]["snapshot"]["metadata"]["created_by"] == "vbs"
    assert requests[2]["body"]["backup"]["snapshot_id"] == "<id of the fresh snapshot>"
    assert requests[0]["headers"]["X-Auth-Token"] == "<redacted>"
    assert "vbs: dry run: 3 requests for 2 items; nothing was sent" in run.stderr
    assert emulator.emu.stats()["requests"] == {}


def test_fleet_dry_run_lists_every_invalid_item(emulator: Service, tmp_path):
    fleet = tmp_path / "fleet.jsonl"
    fleet.write_text(
        json.dumps({"volume_id": "bad"}) + "\n" + json.dumps({"volume_id": VOLUME, "name": "auto-x"}) + "\n"
    )
    run = run_vbs("backup", "create", "--from", str(fleet), "--dry-run", "-o", "table", env=emulator.env)
    assert run.exit_code == 2 and run.stdout == ""
    assert f"{fleet}:1: invalid --volume-id" in run.stderr and f"{fleet}:2: invalid --name" in run.stderr
    assert emulator.emu.stats()["requests"] == {}


def test_destructive_dry_runs_send_nothing_not_even_a_login(emulator: Service, tmp_path):
    profile = tmp_path / "config.yaml"
    profile.write_text(
        f"""profiles:
  pw:
    endpoint: {emulator.emu.url}
    project_id: {emulator.emu.project_id}
    auth:
      {{type: password, auth_url: {emulator.emu.url}/v3, username: demo, password: demo-password, domain: demo-domain}}
"""
    )
    os.chmod(profile, 0o600)
    env = {"VBS_CONFIG": str(profile), "NO_PROXY": "127.0.0.1"}
    fleet = tmp_path / "fleet.jsonl"
    fleet.write_text(json.dumps({"volume_id": VOLUME, "name": "a"}) + "\n")
    listing = tmp_path / "backups.json"
    listing.write_text(json.dumps({"backups": [{"id": UNKNOWN, "volume_id": VOLUME, "status": "available"}]}))
    for args in (
        ("backup", "delete", UNKNOWN, "--dry-run"),
        ("backup", "restore", UNKNOWN, "--volume-id", VOLUME, "--dry-run"),
        ("backup", "prune", "--all", "--keep-last", "3", "--dry-run"),
        ("backup", "create", "--volume-id", VOLUME, "--dry-run"),
        ("backup", "create", "--from", str(fleet), "--dry-run"),
    ):
        run = run_vbs("-p", "pw", *args, env=env)
        assert run.exit_code == 0, run.stderr
        assert "X-Auth-Token" in run.stdout
    planned = run_vbs(
        "-p", "pw", "backup", "prune", "--all", "--keep-last", "3", "--dry-run", "--backups", str(listing), env=env
    )
    assert planned.exit_code == 0 and planned.json()["prune"][0]["action"] == "keep"
    assert emulator.emu.stats()["requests"] == {}


def test_a_prune_dry_run_without_a_listing_says_in_one_line_how_to_see_the_plan(emulator: Service):
    old_backup(emulator)
    run = run_vbs("backup", "prune", "--keep-daily", "7", "--all", "--dry-run", env=emulator.env)
    assert run.exit_code == 0, run.stderr
    assert emulator.emu.stats()["requests"] == {}
    hint = [line for line in run.stderr.splitlines() if "to see the plan" in line]
    assert hint == [
        "vbs: to see the plan: --plan instead of --dry-run (reads the backups, deletes nothing), "
        "or --dry-run --backups FILE with the output of 'vbs backup list -o json'"
    ]
    reads = [json.loads(line) for line in run.stdout.splitlines()]
    assert [(r["method"], r["url"].split("?")[0].rsplit("/", 2)[-2:]) for r in reads] == [
        ("GET", ["backups", "detail"]),
        ("GET", ["snapshots", "detail"]),
    ]
    planned = run_vbs("backup", "prune", "--keep-daily", "7", "--all", "--plan", env=emulator.env)
    assert planned.exit_code == 0 and len(planned.json()["prune"]) == 1


# -- delete ---------------------------------------------------------------------------------------


def test_delete_needs_yes_without_a_terminal_and_then_deletes(emulator: Service):
    backup_id = old_backup(emulator)
    run = run_vbs("backup", "delete", backup_id, "-o", "table", env=emulator.env)
    assert run.exit_code == 2 and "pass --yes" in run.stderr
    assert emulator.emu.stats()["requests"] == {}
    run = run_vbs("backup", "delete", backup_id, "--yes", "--wait", env=emulator.env)
    assert run.exit_code == 0, run.stderr
    assert run.json() == {"deletions": [{"id": backup_id, "result": "deleted", "exit_code": 0, "error": None}]}
    assert backup_status(emulator, backup_id) == "gone"


def test_delete_shows_the_service_refusing_a_backup_with_dependents(emulator: Service):
    parent = old_backup(emulator, days=2)
    old_backup(emulator, days=1, parent_id=parent)
    run = run_vbs("backup", "delete", parent, "--yes", "-o", "table", env=emulator.env)
    assert run.exit_code == 1 and run.stdout == ""
    assert "HTTP 400" in run.stderr and "Invalid backup: Incremental backups exist for this backup." in run.stderr


def test_delete_many_goes_on_after_a_failure_and_counts_it(emulator: Service):
    ids = [old_backup(emulator, days=n) for n in (1, 2, 3)]
    run = run_vbs("backup", "delete", ids[0], UNKNOWN, ids[2], "--yes", "-o", "table", env=emulator.env)
    assert run.exit_code == 1
    assert f"backup {UNKNOWN}: HTTP 404" in run.stderr and "vbs: 1 of 3 failed" in run.stderr
    assert [backup_status(emulator, i) for i in ids] == ["gone", "available", "gone"]


def test_a_lost_answer_to_a_delete_is_looked_up_not_repeated():
    with own_emulator(create_delay=30) as service:
        backup_id = old_backup(service)
        service.faults(script=[{"match": "DELETE backup", "fault": "drop_after"}])
        run = run_vbs("backup", "delete", backup_id, "--yes", env={**service.env, "VBS_MAX_ATTEMPTS": "4"})
        assert run.exit_code == 0, run.stderr
        assert "the answer to the delete of backup" in run.stderr and "the service has it" in run.stderr
        assert service.emu.stats()["requests"]["DELETE backup"] == 1  # a second one would get 400
        assert backup_status(service, backup_id) == "deleting"


# -- restore --------------------------------------------------------------------------------------


def test_restore_with_wait_ends_with_the_disk_available():
    with own_emulator() as service:
        backup_id = old_backup(service)
        run = run_vbs("backup", "restore", backup_id, "--volume-id", TARGET, "--yes", "--wait", env=service.env)
        assert run.exit_code == 0, run.stderr
        volume = run.json()["volume"]
        assert (volume["id"], volume["status"]) == (TARGET, "available")
        plain = run_vbs("backup", "restore", backup_id, "--volume-id", TARGET, "--yes", env=service.env)
        assert plain.json() == {"restore": {"backup_id": backup_id, "volume_id": TARGET, "volume_name": None}}


def test_restore_that_fails_on_the_disk_exits_6():
    with own_emulator() as service:
        backup_id = old_backup(service)
        run = run_vbs(
            "backup", "restore", backup_id, "--volume-id", BAD_TARGET, "--yes", "--wait", "-o", "json", env=service.env
        )
        assert run.exit_code == 6 and run.stdout == ""
        error = run.error()
        assert error["code"] == "RestoreFailed" and "error_restoring" in error["message"]


def test_restore_needs_yes_without_a_terminal(emulator: Service):
    backup_id = old_backup(emulator)
    run = run_vbs("backup", "restore", backup_id, "--volume-id", VOLUME, "-o", "table", env=emulator.env)
    assert run.exit_code == 2 and emulator.emu.stats()["requests"] == {}


def test_a_lost_answer_to_a_restore_is_looked_up_not_repeated():
    with own_emulator(create_delay=30) as service:
        backup_id = old_backup(service)
        service.faults(script=[{"match": "POST backup_restore", "fault": "drop_after"}])
        run = run_vbs(
            "backup", "restore", backup_id, "--volume-id", TARGET, "--yes", env={**service.env, "VBS_MAX_ATTEMPTS": "4"}
        )
        assert run.exit_code == 0, run.stderr
        assert run.json()["restore"]["volume_id"] == TARGET
        assert service.emu.stats()["requests"]["POST backup_restore"] == 1


# -- prune ----------------------------------------------------------------------------------------


def load(service: Service, history: list[dict]) -> None:
    for b in history:
        created = datetime.fromisoformat(b["created_at"]).replace(tzinfo=timezone.utc)
        service.emu.store.add_backup(
            b["volume_id"], created, name=b["name"], status=b["status"], parent_id=b["parent"], backup_id=b["id"]
        )


def test_prune_on_a_synthetic_history_follows_the_policy(emulator: Service):
    history, notable = synthetic_history()
    load(emulator, history)
    policy = ("--keep-daily", "7", "--keep-weekly", "4", "--keep-monthly", "3")
    planned = run_vbs("backup", "prune", "--all", *policy, "--plan", env=emulator.env)
    assert planned.exit_code == 0, planned.stderr
    decisions = {e["id"]: e for e in planned.json()["prune"]}
    expected = oracle(history, daily=7, weekly=4, monthly=3)
    assert {i for i, e in decisions.items() if e["action"] == "keep"} == expected
    assert set(decisions) == {b["id"] for b in history}
    assert {e["outcome"] for e in decisions.values()} == {None}
    assert emulator.emu.stats()["requests"].get("DELETE backup") is None

    run = run_vbs("backup", "prune", "--all", *policy, "--yes", "--parallel", "8", env=emulator.env)
    assert run.exit_code == 0, run.stderr
    outcomes = {e["id"]: e["outcome"] for e in run.json()["prune"]}
    assert {i for i, o in outcomes.items() if o == "kept"} == expected
    assert held(emulator) == expected  # the chain went newest first: the service refuses otherwise
    assert backup_status(emulator, notable["creating"]["id"]) == "creating"
    assert backup_status(emulator, notable["error"]["id"]) == "gone"
    assert f"vbs: deleted {len(history) - len(expected)} backups; kept {len(expected)} backups" in run.stderr


def test_prune_per_disk_with_a_prefix_and_offline_dry_run(emulator: Service, tmp_path):
    mine = [old_backup(emulator, days=d) for d in (1, 2, 3)]
    hand = emulator.emu.store.add_backup(VOLUME, NOW - timedelta(days=9), name="before-upgrade")
    other = old_backup(emulator, volume=IN_USE, days=5)
    listing = tmp_path / "backups.json"
    listing.write_text(run_vbs("backup", "list", env=emulator.env).stdout)
    emulator.emu.reset_stats()
    dry = run_vbs(
        "backup", "prune", "--volume-id", VOLUME, "--keep-last", "1", "--name-prefix", "old-", "--dry-run",
        "--backups", str(listing), env=emulator.env,
    )  # fmt: skip
    assert dry.exit_code == 0, dry.stderr
    assert emulator.emu.stats()["requests"] == {}
    actions = {e["id"]: e["action"] for e in dry.json()["prune"]}
    assert actions == {mine[0]: "keep", mine[1]: "delete", mine[2]: "delete", hand: "keep"}
    run = run_vbs(
        "backup", "prune", "--volume-id", VOLUME, "--keep-last", "1", "--name-prefix", "old-", "--yes", env=emulator.env
    )
    assert run.exit_code == 0
    assert held(emulator) == {mine[0], hand, other}


def nightly_backups(service: Service, volume: str, count: int) -> list[str]:
    """`count` backups made as the nightly job makes them (a fresh snapshot each, waited for), oldest first."""
    made = []
    for n in range(count):
        run = run_vbs(
            "backup", "create", "--volume-id", volume, "--name", f"nightly-{n}", "--wait", "-f", "id", env=service.env
        )
        assert run.exit_code == 0, run.stderr
        made.append(run.stdout.strip())
    return made


def test_as_vbs_backups_made_through_the_api_have_no_dependents_and_old_ones_go(emulator: Service):
    made = nightly_backups(emulator, VOLUME, 3)
    run = run_vbs("backup", "prune", "--volume-id", VOLUME, "--keep-last", "1", "--yes", env=emulator.env)
    assert run.exit_code == 0, run.stderr
    assert held(emulator) == {made[-1]}
    assert run.stderr.splitlines() == ["vbs: deleted 2 backups; kept 1 backup"]


def test_with_cinder_chains_prune_keeps_what_a_kept_backup_builds_on_and_says_what_to_do():
    with own_emulator(chains="cinder") as service:
        made = nightly_backups(service, VOLUME, 3)
        run = run_vbs("backup", "prune", "--volume-id", VOLUME, "--keep-last", "1", "--yes", env=service.env)
        assert run.exit_code == 0, run.stderr
        assert held(service) == set(made)  # each one is what the next one builds on
        assert run.stderr.splitlines() == [
            "vbs: nothing to delete; kept 3 backups",
            "vbs: 2 backups kept only because newer incremental backups depend on them: they go once those do; "
            "a full backup starts a new chain (vbs never asks for incremental ones)",
        ]
        reasons = {e["id"]: e["reasons"] for e in run.json()["prune"]}
        assert reasons[made[0]] == [f"backup {made[1]}, which depends on it, stays"]
        assert {e["outcome"] for e in run.json()["prune"]} == {"kept"}


def test_the_emulator_takes_cinder_chains_from_its_command_line(tmp_path):
    pid_file = tmp_path / "emulator.pid"
    start = run_vbs(
        "emulator", "start", "--detach", "--port", "0", "--create-delay", "0", "--chains", "cinder",
        "--pid-file", str(pid_file), "-o", "json",
    )  # fmt: skip
    assert start.exit_code == 0, start.stderr
    info = start.json()["emulator"]
    stopped = False
    try:
        env = {"VBS_ENDPOINT": info["url"], "VBS_PROJECT_ID": info["project_id"], "VBS_TOKEN": "demo-token"}
        service = type("Remote", (), {"env": env})()
        older, newer = nightly_backups(service, VOLUME, 2)
        refused = run_vbs("backup", "delete", older, "--yes", "-o", "table", env=env)
        assert refused.exit_code == 1 and "Incremental backups exist for this backup" in refused.stderr
        assert run_vbs("backup", "delete", newer, "--yes", "--wait", env=env).exit_code == 0
        assert run_vbs("backup", "delete", older, "--yes", env=env).exit_code == 0  # its dependent is gone
        stopped = run_vbs("emulator", "stop", "--pid-file", str(pid_file)).exit_code == 0
        assert stopped
    finally:
        if not stopped:  # never leave it running: stop exactly the process this test started
            os.kill(info["pid"], signal.SIGKILL)


def test_prune_from_a_fleet_file_prunes_each_disk_it_names_once(emulator: Service, tmp_path):
    """Read as `report --from` reads it: only volume_id counts, so two items of one disk (two fresh
    snapshots, which a create refuses as a duplicate) and a name a create would refuse are fine."""
    mine = [old_backup(emulator, days=d) for d in (1, 2, 3)]
    attached = [old_backup(emulator, volume=IN_USE, days=d) for d in (1, 2)]
    elsewhere = old_backup(emulator, volume="5c1a9f0e-2b3d-4e5f-8a9b-0c1d2e3f4a04", days=5)  # not in the file
    fleet = tmp_path / "fleet.csv"
    fleet.write_text(
        "\ufeffvolume_id,snapshot_id,name\n"  # as Excel saves it
        f"{VOLUME},,db01-nightly\n{VOLUME},,db01-weekly\n{IN_USE.upper()},,auto-app\n"
    )
    run = run_vbs("backup", "prune", "--from", str(fleet), "--keep-last", "1", "--yes", env=emulator.env)
    assert run.exit_code == 0, run.stderr
    assert held(emulator) == {mine[0], attached[0], elsewhere}
    assert "vbs: deleted 3 backups; kept 2 backups" in run.stderr
    requests = emulator.emu.stats()["requests"]
    assert requests["GET backups_detail"] == 2  # one listing per disk named


def test_prune_from_a_file_with_bad_items_names_each_and_sends_nothing(emulator: Service, tmp_path):
    fleet = tmp_path / "fleet.jsonl"
    fleet.write_text(
        json.dumps({"volume_id": VOLUME}) + "\n" + json.dumps({"volume_id": "db01"}) + "\n"
        + json.dumps({"volume_id": VOLUME, "retention": 7}) + "\n"
    )  # fmt: skip
    run = run_vbs("backup", "prune", "--from", str(fleet), "--keep-last", "1", "--yes", "-o", "table", env=emulator.env)
    assert run.exit_code == 2 and run.stdout == ""
    assert f"vbs: warning: invalid item: {fleet}:2: invalid volume_id" in run.stderr
    assert f"vbs: warning: invalid item: {fleet}:3: unknown field 'retention'" in run.stderr
    assert f"vbs: error: 2 items in {fleet} are invalid; nothing was sent" in run.stderr
    assert emulator.emu.stats()["requests"] == {}


def test_a_failed_deletion_does_not_stop_the_others(emulator: Service):
    ids = [old_backup(emulator, days=d) for d in range(1, 6)]
    emulator.faults(script=[{"match": "DELETE backup", "fault": "status", "status": 403}])
    run = run_vbs("backup", "prune", "--all", "--keep-last", "1", "--yes", "-o", "table", env=emulator.env)
    assert run.exit_code == 1
    assert "vbs: 1 of 4 failed" in run.stderr and "HTTP 403" in run.stderr
    assert len(held(emulator)) == 2 and ids[0] in held(emulator)


def test_prune_needs_yes_without_a_terminal_and_sends_nothing(emulator: Service):
    old_backup(emulator)
    run = run_vbs("backup", "prune", "--all", "--keep-last", "1", "-o", "table", env=emulator.env)
    assert run.exit_code == 2 and "pass --yes" in run.stderr
    assert emulator.emu.stats()["requests"] == {}


# -- on a terminal: show, then ask ----------------------------------------------------------------


def _converse(args: tuple[str, ...], env: dict[str, str], answer: bytes, stdout: Path | None = None) -> tuple[int, str]:
    """Run vbs on a terminal (stdin and stderr; stdout too, unless redirected to `stdout`), and type
    `answer` at its question: a line (b"y"), or keys such as Ctrl-C (b"\x03") or Ctrl-D (b"\x04")."""
    pid, fd = pty.fork()
    if pid == 0:
        if stdout is not None:
            os.dup2(os.open(stdout, os.O_WRONLY | os.O_CREAT | os.O_TRUNC), 1)
        os.execve(vbs_binary(), ["vbs", *args], {**os.environ, "COLUMNS": "200", "NO_COLOR": "1", **env})
    keys = answer if answer[:1] < b" " else answer + b"\n"
    screen, answered = b"", 0.0
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        ready, _, _ = select.select([fd], [], [], 0.2)
        if answered and keys == b"\x03" and time.monotonic() - answered > 2:
            os.write(fd, keys)  # a Ctrl-C that came before the read began waits for it: press again, as people do
            answered = time.monotonic()
        if not ready:
            continue
        try:
            chunk = os.read(fd, 4096)
        except OSError:
            break
        if not chunk:
            break
        screen += chunk
        if not answered and b"[y/N]" in screen:
            os.write(fd, keys)
            answered = time.monotonic()
    _, status = os.waitpid(pid, 0)
    return os.waitstatus_to_exitcode(status), screen.decode(errors="replace")


def test_on_a_terminal_delete_shows_what_it_will_delete_and_asks(emulator: Service):
    backup_id = old_backup(emulator)
    code, screen = _converse(("backup", "delete", backup_id), emulator.env, b"n")
    assert code == 130 and "about to delete 1 backup" in screen and "old-3" in screen
    assert "not confirmed: nothing deleted" in screen and backup_status(emulator, backup_id) == "available"
    code, screen = _converse(("backup", "delete", backup_id), emulator.env, b"y")
    assert code == 0, screen
    assert backup_status(emulator, backup_id) == "gone"


def test_on_a_terminal_a_backup_not_found_is_shown_and_the_others_are_asked_about(emulator: Service):
    backup_id = old_backup(emulator)
    code, screen = _converse(("backup", "delete", backup_id, UNKNOWN, "-o", "table"), emulator.env, b"y")
    assert code == 1, screen
    assert f"  {UNKNOWN}  not found" in screen and "Delete it? [y/N]: y" in screen
    assert f"backup {UNKNOWN}: HTTP 404" in screen and "vbs: 1 of 2 failed" in screen
    assert backup_status(emulator, backup_id) == "gone"


@pytest.mark.parametrize(("keys", "told"), [(b"\x03", "interrupted; not confirmed"), (b"\x04", "not confirmed")])
def test_on_a_terminal_ctrl_c_or_ctrl_d_at_the_question_deletes_nothing(emulator: Service, keys, told):
    backup_id = old_backup(emulator)
    code, screen = _converse(("backup", "delete", backup_id), emulator.env, keys)
    assert code == 130, screen
    assert f"vbs: error: {told}: nothing deleted" in screen
    assert backup_status(emulator, backup_id) == "available"
    assert "DELETE backup" not in emulator.emu.stats()["requests"]


def test_on_a_terminal_the_question_stays_off_stdout_which_carries_only_the_result(emulator: Service, tmp_path):
    backup_id = old_backup(emulator)
    out = tmp_path / "stdout.json"
    code, screen = _converse(("backup", "delete", backup_id, "-o", "json"), emulator.env, b"y", stdout=out)
    assert code == 0, screen
    assert "Delete it? [y/N]: y" in screen
    text = out.read_text()
    assert text.startswith("{") and json.loads(text)["deletions"][0]["id"] == backup_id


def test_on_a_terminal_prune_shows_the_plan_and_asks(emulator: Service):
    ids = [old_backup(emulator, days=d) for d in (1, 2)]
    code, screen = _converse(("backup", "prune", "--all", "--keep-last", "1"), emulator.env, b"y")
    assert code == 0, screen
    assert "prune will delete 1 backup" in screen and f"backup {ids[1]}" in screen and "no rule keeps it" in screen
    assert held(emulator) == {ids[0]}


def test_on_a_terminal_restore_names_the_disk_it_overwrites():
    with own_emulator() as service:
        backup_id = old_backup(service)
        code, screen = _converse(("backup", "restore", backup_id, "--volume-id", TARGET), service.env, b"n")
        assert code == 130 and f"will overwrite disk {TARGET}" in screen
        assert service.emu.stats()["requests"].get("POST backup_restore") is None

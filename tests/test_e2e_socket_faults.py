"""The installed `vbs` against raw socket servers that break answers mid-exchange: a stand-in for the
create, and a proxy in front of the emulator for every other call (snapshots, deletes, restores,
prune, the report's listings, logins).

For each fault: the exit code, the message, no traceback (run_vbs checks it), and how many backups
the server really made - never two.
"""

from __future__ import annotations

import json
from contextlib import contextmanager
from datetime import datetime, timedelta, timezone

import pytest

from tests.conftest import Profiles
from tests.helpers import SECRETS, run_vbs
from tests.socket_server import FaultProxy, FaultServer

VOLUME = "5c1a9f0e-2b3d-4e5f-8a9b-0c1d2e3f4a01"
SNAPSHOT = "9e3c7d21-6f4a-4b8c-9d0e-1f2a3b4c5d01"
CREATE = ("backup", "create", "--volume-id", VOLUME, "--snapshot-id", SNAPSHOT)
FAST = ("--connect-timeout", "2", "--read-timeout", "0.5")
SECRETS.add("tok-socket-secret")

BROKEN_ANSWERS = [
    ("reset_after_headers", "was cut off"),
    ("cut_body", "was cut off (HTTP 202, 22 of 300 bytes received"),
    ("stall_body", "stopped sending its answer (HTTP 202"),
    ("status_then_close", "answered HTTP 202 with a body that is not JSON"),
    ("headers_then_close", "was cut off (HTTP 202, 0 of 300 bytes received"),
]


@pytest.mark.parametrize(("fault", "told"), BROKEN_ANSWERS, ids=[f for f, _ in BROKEN_ANSWERS])
def test_a_broken_create_answer_is_looked_up_and_the_backup_reported_once(fault, told):
    with FaultServer(create_faults=[fault]) as server:
        run = run_vbs(*CREATE, "--name", "nightly", *FAST, env={**server.env, "VBS_MAX_ATTEMPTS": "4"})
        assert run.exit_code == 0, run.stderr
        assert run.json()["backup"]["id"] == server.backups[0]["id"]
        assert told in run.stderr and "was created: reporting it" in run.stderr
        assert "bug in vbs" not in run.stderr
        assert len(server.backups) == 1 and server.count("POST") == 1


@pytest.mark.parametrize("fault", ["cut_body", "reset_after_headers"])
def test_when_the_lookup_breaks_too_vbs_exits_5_and_says_how_to_check(fault):
    with FaultServer(create_faults=[fault], lookup_faults=[fault] * 4) as server:
        run = run_vbs(*CREATE, "--name", "nightly", *FAST, "-o", "json", env={**server.env, "VBS_MAX_ATTEMPTS": "4"})
        assert run.exit_code == 5 and run.stdout == ""
        error = run.error()
        assert error["code"] == "NetworkError"
        assert "the answer to the create request was lost" in error["message"]
        assert "looking for backup 'nightly' failed too" in error["message"]
        assert f"check: vbs backup list --volume-id {VOLUME} --name nightly" in error["message"]
        assert len(server.backups) == 1 and server.count("POST") == 1
        assert server.count("GET") == 4  # a look-up is a GET: repeated, like any read


def test_a_cut_answer_to_a_read_is_repeated(tmp_path):
    with FaultServer() as server:
        assert run_vbs(*CREATE, "--name", "one", env=server.env).exit_code == 0
        server.lookup_faults = ["cut_body"]
        run = run_vbs("backup", "list", "--name", "one", *FAST, env={**server.env, "VBS_MAX_ATTEMPTS": "2"})
        assert run.exit_code == 0, run.stderr
        assert [b["name"] for b in run.json()["backups"]] == ["one"]
        assert "retrying list in" in run.stderr and "was cut off" in run.stderr
        assert "check whether the backup exists" not in run.stderr


def test_a_read_that_times_out_does_not_advise_about_a_create(tmp_path):
    with FaultServer() as server:
        server.lookup_faults = ["stall_body"]
        run = run_vbs("backup", "list", *FAST, "-o", "table", env=server.env)
        assert run.exit_code == 5
        assert "stopped sending its answer" in run.stderr
        assert "backup exists" not in run.stderr and "before retrying" not in run.stderr


def test_a_fleet_run_goes_on_past_a_cut_answer_and_makes_each_backup_once(tmp_path):
    fleet = tmp_path / "fleet.jsonl"
    fleet.write_text(
        "".join(
            # one snapshot each: a fleet file may not name the same volume and snapshot twice
            json.dumps({"volume_id": VOLUME, "snapshot_id": SNAPSHOT[:-1] + str(n), "name": name}) + "\n"
            for n, name in enumerate(("first", "second", "third"))
        )
    )
    with FaultServer(create_faults=["cut_body", "stall_body"]) as server:
        run = run_vbs(
            "backup",
            "create",
            "--from",
            str(fleet),
            "--parallel",
            "1",
            *FAST,
            env={**server.env, "VBS_MAX_ATTEMPTS": "3"},
        )
        assert run.exit_code == 0, run.stderr
        lines = [json.loads(line) for line in run.stdout.splitlines()]
        assert sorted(d["result"] for d in lines) == ["created"] * 3
        assert sorted(b["name"] for b in server.backups) == ["first", "second", "third"]
        assert server.count("POST") == 3
        assert run.stderr.splitlines()[-1] == "vbs: all 3 done"


# -- the rest of the cycle, through a socket proxy in front of the emulator ----------------------

TARGET = "5c1a9f0e-2b3d-4e5f-8a9b-0c1d2e3f4a05"
CUTS = ["cut_body", "stall_body", "reset_after_headers", "status_then_close"]


@contextmanager
def proxied(rules, create_delay: float = 0.0):
    """The emulator (with a spare disk to restore onto) behind a FaultProxy that spoils the answers
    `rules` name; yields (emulator, proxy, environment pointing vbs at the proxy)."""
    from vbscli.emulator import Emulator, EmulatorConfig, demo_seed
    from vbscli.emulator.seed import Volume

    seed = demo_seed()
    seed.volumes.append(Volume(TARGET, "available", 10))
    with Emulator(EmulatorConfig(port=0, seed=seed, create_delay=create_delay)) as emu:
        with FaultProxy(emu.url, rules) as proxy:
            env = {"VBS_ENDPOINT": proxy.url, "VBS_PROJECT_ID": emu.project_id, "VBS_TOKEN": emu.token}
            yield emu, proxy, {**env, "VBS_MAX_ATTEMPTS": "4"}


def old(emu, days: int) -> str:
    return emu.store.add_backup(VOLUME, datetime.now(timezone.utc) - timedelta(days=days), name=f"old-{days}")


def reported(run, fault: str, what: str) -> bool:
    """The lost (or unreadable) answer was looked up and what the service did was reported."""
    if fault == "status_then_close":  # a 202 without a body: accepted, unreadable
        return "answered HTTP 202 with a body that is not JSON, but " in run.stderr
    return f"the answer to {what}" in run.stderr and "reporting it" in run.stderr


@pytest.mark.parametrize("fault", CUTS)
def test_a_broken_answer_to_the_snapshot_request_makes_one_snapshot_and_one_backup(fault):
    with proxied([("POST", r"/snapshots$", fault)]) as (emu, proxy, env):
        run = run_vbs("backup", "create", "--volume-id", VOLUME, "--name", "fresh", "--wait", *FAST, env=env)
        assert run.exit_code == 0, run.stderr
        assert reported(run, fault, "the request for snapshot 'vbs-for-fresh' was lost")
        stats = emu.stats()
        assert (stats["snapshots_created"], stats["backups_created"]) == (1, 1)
        assert proxy.count("POST") == 2  # one snapshot request, one backup request
        assert run.json()["backup"]["status"] == "available"


@pytest.mark.parametrize("fault", CUTS)
def test_a_broken_answer_to_a_delete_is_looked_up_and_never_repeated(fault):
    with proxied([("DELETE", r"/backups/", fault)], create_delay=30) as (emu, proxy, env):
        backup_id = old(emu, 3)
        run = run_vbs("backup", "delete", backup_id, "--yes", *FAST, env=env)
        assert run.exit_code == 0, run.stderr
        if fault != "status_then_close":  # a DELETE's 202 has no body to miss
            assert reported(run, fault, f"the delete of backup {backup_id} was lost")
        assert proxy.count("DELETE") == 1  # a second one would be refused: the backup is deleting
        assert run.json()["deletions"][0]["result"] == "deleting"


@pytest.mark.parametrize("fault", CUTS)
def test_a_broken_answer_to_a_restore_is_looked_up_and_never_repeated(fault):
    with proxied([("POST", r"/restore$", fault)], create_delay=30) as (emu, proxy, env):
        backup_id = old(emu, 3)
        run = run_vbs("backup", "restore", backup_id, "--volume-id", TARGET, "--yes", *FAST, env=env)
        assert run.exit_code == 0, run.stderr
        assert reported(run, fault, f"the restore of backup {backup_id} was lost")
        assert proxy.count("POST") == 1
        assert run.json()["restore"]["volume_id"] == TARGET


@pytest.mark.parametrize("fault", ["cut_body", "stall_body", "reset_after_headers"])
def test_a_broken_answer_to_a_prune_deletion_is_looked_up_and_the_others_go_on(fault):
    with proxied([("DELETE", r"/backups/", fault)], create_delay=30) as (emu, proxy, env):
        doomed = {old(emu, 3), old(emu, 2)}
        old(emu, 1)  # the newest: kept
        run = run_vbs("backup", "prune", "--volume-id", VOLUME, "--keep-last", "1", "--yes", *FAST, env=env)
        assert run.exit_code == 0, run.stderr
        assert "was lost" in run.stderr and "reporting it" in run.stderr
        outcomes = {e["id"]: e["outcome"] for e in run.json()["prune"] if e["action"] == "delete"}
        assert outcomes == dict.fromkeys(doomed, "deleting")
        assert proxy.count("DELETE") == 2  # each once


@pytest.mark.parametrize("fault", ["cut_body", "stall_body", "reset_after_headers"])
def test_a_broken_listing_of_the_report_is_read_again_and_named(fault):
    with proxied([("GET", r"/backups/detail$", fault)]) as (emu, proxy, env):
        old(emu, 3)
        run = run_vbs("backup", "report", *FAST, env=env)
        assert run.exit_code == 0, run.stderr
        assert run.stderr.startswith("vbs: warning: retrying list in ")
        assert [v["volume_id"] for v in run.json()["volumes"]] == [VOLUME]
        assert proxy.count("GET /v3/") >= 3  # the disks' names, the cut listing, the listing again


@pytest.mark.parametrize("fault", ["cut_body", "stall_body"])
def test_a_broken_login_answer_is_repeated_when_the_catalog_gives_the_endpoint(fault, profiles: Profiles):
    """The endpoint comes from the service catalog of the login: a login whose answer was cut is
    repeated like any read (a login changes nothing), and the backup is made once."""
    from tests.test_e2e_auth import write_profiles

    with proxied([("POST", r"/auth/tokens$", fault)]) as (emu, proxy, _):
        write_profiles(profiles, emu)
        profiles.write(
            profiles.path.read_text().replace(f"auth_url: {emu.url}/v3", f"auth_url: {proxy.url}/v3")
            + f"  catalog:\n    region_name: RegionOne\n    project_id: {emu.project_id}\n"
            f"    auth: {{type: password, auth_url: {proxy.url}/v3, username: demo, password: demo-password,"
            " domain: demo-domain}\n"
        )
        run = run_vbs("-p", "catalog", *CREATE, "--name", "via-catalog", *FAST, env={"VBS_MAX_ATTEMPTS": "4"})
        assert run.exit_code == 0, run.stderr
        assert run.stderr.startswith("vbs: warning: retrying login in ") and "IAM login at" in run.stderr
        assert proxy.count("POST /v3/auth/tokens") == 2 and emu.stats()["backups_created"] == 1

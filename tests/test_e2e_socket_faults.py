"""The installed `vbs` against a raw socket server that breaks answers mid-exchange.

For each fault: the exit code, the message, no traceback (run_vbs checks it), and how many backups
the server really made - never two.
"""

from __future__ import annotations

import json

import pytest

from tests.helpers import SECRETS, run_vbs
from tests.socket_server import FaultServer

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

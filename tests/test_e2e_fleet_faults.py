"""`vbs backup create --from FILE` when things go wrong around it: a revoked token shared by every
thread, Ctrl-C in the middle of a waiting run, and a reader that goes away."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import time

from tests.conftest import Profiles, Service
from tests.helpers import run_vbs, vbs_binary
from tests.test_e2e_auth import write_profiles

V1, S1 = "5c1a9f0e-2b3d-4e5f-8a9b-0c1d2e3f4a01", "9e3c7d21-6f4a-4b8c-9d0e-1f2a3b4c5d01"
V2, S2 = "5c1a9f0e-2b3d-4e5f-8a9b-0c1d2e3f4a02", "9e3c7d21-6f4a-4b8c-9d0e-1f2a3b4c5d02"  # in use: needs force


def fleet_file(tmp_path, rows: list[dict]) -> str:
    path = tmp_path / "fleet.jsonl"
    path.write_text("".join(json.dumps(row) + "\n" for row in rows))
    return str(path)


def item(n: int, snapshots: dict[int, str] | None = None, **extra) -> dict:
    """Item n, of V1 (odd n) or V2, from its own snapshot if given (a fleet file may not name one
    volume and snapshot twice)."""
    volume, snapshot = (V1, S1) if n % 2 else (V2, S2)
    snapshot = (snapshots or {}).get(n, snapshot)
    return {"volume_id": volume, "snapshot_id": snapshot, "name": f"item-{n}", "force": True, **extra}


def snapshots_for(emu, numbers) -> dict[int, str]:
    """A fresh snapshot for each item number, made through the emulator's API (available at once
    without a create delay)."""
    import requests

    made = {}
    for n in numbers:
        answer = requests.post(
            f"{emu.url}/v3/{emu.project_id}/snapshots",
            json={"snapshot": {"volume_id": V1 if n % 2 else V2, "force": True}},
            headers={"X-Auth-Token": emu.token},
            timeout=10,
        )
        assert answer.status_code == 202, answer.text
        made[n] = answer.json()["snapshot"]["id"]
    return made


def wait_until(condition, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "the run never got there"
        time.sleep(0.02)


def test_eight_threads_refused_a_revoked_token_share_one_new_login(emulator: Service, profiles: Profiles, tmp_path):
    write_profiles(profiles, emulator.emu)
    snapshots = snapshots_for(emulator.emu, range(8))
    assert run_vbs("backup", "create", "--volume-id", V1, "--snapshot-id", S1, "--name", "prime").exit_code == 0
    emulator.emu.tokens.revoke_all()  # the cached token dies, as after a password change
    emulator.emu.reset_stats()
    path = fleet_file(tmp_path, [item(n, snapshots) for n in range(8)])
    run = run_vbs("backup", "create", "--from", path, "--parallel", "8")
    assert run.exit_code == 0, run.stderr
    assert run.stderr == "vbs: all 8 done\n"
    assert sorted(json.loads(line)["result"] for line in run.stdout.splitlines()) == ["created"] * 8
    assert emulator.requests("POST auth_tokens") == 1
    assert emulator.created() == 8


def test_ctrl_c_during_a_waiting_run_stops_at_once_and_says_what_exists(tmp_path):
    from vbscli.emulator import Emulator, EmulatorConfig, demo_seed
    from vbscli.emulator.seed import Snapshot

    seed = demo_seed()  # with a snapshot of V1 for each item: a fleet file may not name one twice
    snapshots = {n: f"9e3c7d21-6f4a-4b8c-9d0e-1f2a3b4c5e0{n}" for n in (1, 3, 5, 7)}
    seed.snapshots += [Snapshot(snapshot, V1) for snapshot in snapshots.values()]
    rows = [
        {"volume_id": V2, "snapshot_id": S2, "name": "refused"},  # in use without force: fails at once
        item(1, snapshots),
        item(3, snapshots),
        item(5, snapshots),
        item(7, snapshots),
    ]
    path = fleet_file(tmp_path, rows)
    script = [
        {"match": "POST backups", "fault": "delay", "seconds": 0, "times": 2},  # the first two go through
        {"match": "POST backups", "fault": "delay", "seconds": 30},  # the third is on its way when Ctrl-C comes
    ]
    with Emulator(EmulatorConfig(port=0, create_delay=120, script=script, seed=seed)) as slow:
        env = {**os.environ, **Service(slow).env}
        proc = subprocess.Popen(
            [vbs_binary(), "backup", "create", "--from", path, "--parallel", "2", "--wait", "--poll-interval", "1"],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        wait_until(lambda: slow.stats()["requests"].get("POST backups", 0) == 3)
        wait_until(lambda: slow.stats()["requests"].get("GET backup", 0) >= 1)
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=10)  # far less than the 30 s request or the 120 s backup
        created = set(slow.store.backups)
    assert proc.returncode == 130, err
    lines = out.splitlines()
    assert [json.loads(line)["result"] for line in lines] == ["failed"]  # printed lines stay whole
    assert err.count("\n") == 1 and err.startswith("vbs: error: interrupted; created: line ")
    # Lines 2 and 3 race for the second worker's slot: one was accepted and is being waited for, the
    # other's request is the one held back by the service.
    (created_line, backup_id), *others = re.findall(r"line (\d) backup ([0-9a-f-]{36})", err)
    assert not others and created_line in ("2", "3") and backup_id in created
    maybe_line = "3" if created_line == "2" else "2"
    name = {"2": "item-1", "3": "item-3"}[maybe_line]
    assert "may or may not have been created (no answer yet; check with vbs backup list" in err
    assert f"line {maybe_line} '{name}' of volume {V1}" in err
    assert "not sent: lines 4, 5" in err
    assert "Traceback" not in err


def test_a_closed_output_stops_sending_and_says_so(emulator: Service, tmp_path):
    snapshots = snapshots_for(emulator.emu, range(1, 5))
    emulator.faults(latency=0.5)
    path = fleet_file(tmp_path, [item(n, snapshots) for n in range(1, 5)])
    proc = subprocess.Popen(
        [vbs_binary(), "backup", "create", "--from", path, "--parallel", "1"],
        env={**os.environ, **emulator.env},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    first = proc.stdout.readline()
    proc.stdout.close()  # the reader goes away, as `| head -n 1` does
    err = proc.stderr.read()
    proc.wait(timeout=30)
    assert json.loads(first)["result"] == "created"
    assert proc.returncode == 141, err
    assert "Traceback" not in err and err.count("\n") == 1
    assert err.startswith("vbs: output closed (broken pipe): stopped sending; 2 of 4 items done (0 failed)")
    assert "not printed: line 2 created backup " in err and err.rstrip().endswith("not sent: lines 3, 4")
    assert emulator.requests("POST backups") == 2

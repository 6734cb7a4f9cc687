"""`vbs backup create --from FILE` through the installed binary against the emulator."""

from __future__ import annotations

import json
import os
import subprocess

from tests.conftest import Service
from tests.helpers import run_vbs, vbs_binary

VOLUMES = [(f"5c1a9f0e-2b3d-4e5f-8a9b-0c1d2e3f4a0{i}", f"9e3c7d21-6f4a-4b8c-9d0e-1f2a3b4c5d0{i}") for i in (1, 2, 3)]


def fleet(tmp_path, names=("a", "b"), fmt="yaml"):
    (v1, s1), (v2, s2), _ = VOLUMES
    rows = [(v1, s1, names[0], ""), (v2, s2, names[1], "true")]
    path = tmp_path / f"fleet.{fmt}"
    if fmt == "yaml":
        path.write_text(
            "".join(
                f"- {{volume_id: {v}, snapshot_id: {s}, name: {n}{', force: true' if f else ''}}}\n"
                for v, s, n, f in rows
            )
        )
    else:
        path.write_text("volume_id,snapshot_id,name,force\n" + "".join(f"{v},{s},{n},{f}\n" for v, s, n, f in rows))
    return path


def test_json_lines_one_per_item_and_a_summary_on_stderr(emulator: Service, tmp_path):
    run = run_vbs("backup", "create", "--from", str(fleet(tmp_path)), env=emulator.env)
    assert run.exit_code == 0, run.stderr
    lines = [json.loads(line) for line in run.stdout.splitlines()]
    assert sorted((d["line"], d["result"], d["name"]) for d in lines) == [(1, "created", "a"), (2, "created", "b")]
    assert all(d["backup"]["id"] for d in lines)
    assert run.stderr == "vbs: all 2 done\n"
    assert emulator.created() == 2


def test_invalid_items_stop_the_run_before_anything_is_sent(emulator: Service, tmp_path):
    path = fleet(tmp_path, names=("ok", "auto-bad"), fmt="csv")
    run = run_vbs("backup", "create", "--from", str(path), "-o", "table", env=emulator.env)
    assert run.exit_code == 2 and run.stdout == ""
    assert f"vbs: warning: invalid item: {path}:3: invalid --name 'auto-bad'" in run.stderr
    assert "1 of 2 items" in run.stderr and "--skip-invalid" in run.stderr
    assert emulator.emu.stats()["requests"] == {}
    run = run_vbs("backup", "create", "--from", str(path), "--skip-invalid", "-o", "table", env=emulator.env)
    assert run.exit_code == 1 and "1 of 2 failed" in run.stderr
    assert emulator.created() == 1


def test_every_item_is_tried_and_failures_are_counted(emulator: Service, tmp_path):
    (v1, s1), _, _ = VOLUMES
    path = tmp_path / "f.jsonl"
    path.write_text(
        json.dumps({"volume_id": v1, "snapshot_id": s1, "name": "good"})
        + "\n"
        + json.dumps({"volume_id": VOLUMES[1][0], "snapshot_id": VOLUMES[1][1], "name": "no-force"})
        + "\n"
    )
    run = run_vbs("backup", "create", "--from", str(path), "-o", "table", env=emulator.env)
    assert run.exit_code == 1
    assert "VolumeBackup.0016" not in run.stdout and "in-use" in run.stdout  # the service's message per item
    assert run.stderr.strip() == "vbs: 1 of 2 failed"


def test_all_failing_for_one_reason_exits_with_that_code(emulator: Service, tmp_path):
    run = run_vbs("backup", "create", "--from", str(fleet(tmp_path)), env={**emulator.env, "VBS_TOKEN": "bad"})
    assert run.exit_code == 4 and "2 of 2 failed" in run.stderr


def test_skip_existing_makes_a_rerun_do_only_what_is_left(emulator: Service, tmp_path):
    path = fleet(tmp_path, names=("keep", "again"))
    emulator.faults(
        script=[
            {
                "match": "POST backups",
                "fault": "status",
                "status": 400,
                "times": 1,
                "body": {"badRequest": {"code": "VolumeBackup.0012", "message": "busy"}},
            }
        ]
    )
    first = run_vbs("backup", "create", "--from", str(path), env=emulator.env)
    assert first.exit_code == 1 and emulator.created() == 1
    second = run_vbs("backup", "create", "--from", str(path), "--skip-existing", env=emulator.env)
    assert second.exit_code == 0, second.stderr
    results = sorted(json.loads(line)["result"] for line in second.stdout.splitlines())
    assert results == ["created", "skipped"]
    assert emulator.created() == 2


def test_stdin_and_wait(emulator: Service, tmp_path):
    text = fleet(tmp_path).read_text()
    proc = subprocess.run(
        [vbs_binary(), "backup", "create", "--from", "-", "--wait"],
        input=text,
        text=True,
        capture_output=True,
        env={**os.environ, **emulator.env},
        timeout=60,
    )
    assert proc.returncode == 0, proc.stderr
    assert {json.loads(line)["result"] for line in proc.stdout.splitlines()} == {"available"}


def test_faults_and_throttling_still_create_each_backup_exactly_once(tmp_path):
    from vbscli.emulator import Emulator, EmulatorConfig
    from vbscli.emulator.seed import Seed, Snapshot, Volume

    # 30 disks, one snapshot each: a fleet file may not name the same volume and snapshot twice.
    pairs = [
        (f"5c1a9f0e-2b3d-4e5f-8a9b-0c1d2e3f{n:04x}", f"9e3c7d21-6f4a-4b8c-9d0e-1f2a3b4c{n:04x}") for n in range(30)
    ]
    seed = Seed(
        project_id="0123456789abcdef0123456789abcdef",
        tokens=["demo-token"],
        volumes=[Volume(v, "in-use") for v, _ in pairs],
        snapshots=[Snapshot(s, v) for v, s in pairs],
    )
    items = [
        json.dumps({"volume_id": v, "snapshot_id": s, "name": f"fleet-{n}", "force": True})
        for n, (v, s) in enumerate(pairs)
    ]
    path = tmp_path / "many.jsonl"
    path.write_text("\n".join(items) + "\n")
    with Emulator(EmulatorConfig(port=0, create_delay=0.0, seed=seed)) as emu:
        service = Service(emu)
        service.faults(error_rate=0.1, throttle_rate=0.1, retry_after=0, random_seed=3)
        run = run_vbs(
            "backup", "create", "--from", str(path), "--parallel", "6", env={**service.env, "VBS_MAX_ATTEMPTS": "10"}
        )
        assert run.exit_code == 0, run.stderr
        assert service.created() == 30
        listing = run_vbs("backup", "list", env=service.env).json()["backups"]
    assert sorted(b["name"] for b in listing) == sorted(f"fleet-{n}" for n in range(30))


def test_from_cannot_be_mixed_with_single_item_options(emulator: Service, tmp_path):
    run = run_vbs("backup", "create", "--from", str(fleet(tmp_path)), "--name", "x", "-o", "table")
    assert run.exit_code == 2 and "--from cannot be combined with --name" in run.stderr


def test_terminal_shows_a_progress_bar_then_the_table(emulator: Service, tmp_path):
    from tests.test_e2e import _in_terminal

    screen = _in_terminal(
        ("backup", "create", "--from", str(fleet(tmp_path)), "-o", "table"), {**emulator.env, "NO_COLOR": "1"}
    )
    assert "backups" in screen and "2/2" in screen and "0 failed" in screen and "in flight" in screen
    assert "Backup ID / error" in screen and "vbs: all 2 done" in screen


def test_fleet_options_need_from(emulator: Service):
    run = run_vbs(
        "backup",
        "create",
        "--volume-id",
        VOLUMES[0][0],
        "--snapshot-id",
        VOLUMES[0][1],
        "--parallel",
        "4",
        "-o",
        "table",
        env=emulator.env,
    )
    assert run.exit_code == 2 and "--parallel only applies with --from FILE" in run.stderr
    assert emulator.emu.stats()["requests"] == {}

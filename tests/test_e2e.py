"""The installed `vbs`, in a subprocess, against the emulator over real HTTP on 127.0.0.1."""

from __future__ import annotations

import os
import pty
import re
import signal
import subprocess
import time

from tests.conftest import Service
from tests.helpers import run_vbs, vbs_binary

VOLUME = "5c1a9f0e-2b3d-4e5f-8a9b-0c1d2e3f4a01"
SNAPSHOT = "9e3c7d21-6f4a-4b8c-9d0e-1f2a3b4c5d01"
IN_USE, IN_USE_SNAP = "5c1a9f0e-2b3d-4e5f-8a9b-0c1d2e3f4a02", "9e3c7d21-6f4a-4b8c-9d0e-1f2a3b4c5d02"
FAILING, FAILING_SNAP = "5c1a9f0e-2b3d-4e5f-8a9b-0c1d2e3f4a03", "9e3c7d21-6f4a-4b8c-9d0e-1f2a3b4c5d03"
CREATE = ("backup", "create", "--volume-id", VOLUME, "--snapshot-id", SNAPSHOT)
ANSI = re.compile(r"\x1b\[[0-9;]*m")


def test_create_json_is_the_service_document(emulator: Service):
    run = run_vbs(*CREATE, "--name", "nightly", env=emulator.env)
    assert run.exit_code == 0, run.stderr
    assert run.stderr == ""
    backup = run.json()["backup"]
    assert set(backup) == {"id", "name", "links"} and backup["name"] == "nightly"
    self_link, bookmark = (link["href"] for link in backup["links"])
    assert self_link == f"{emulator.emu.url}/v3/{emulator.emu.project_id}/backups/{backup['id']}"
    assert bookmark == f"{emulator.emu.url}/{emulator.emu.project_id}/backups/{backup['id']}"
    assert emulator.created() == 1


def test_create_table_shows_id_name_and_links_uncut(emulator: Service):
    run = run_vbs(*CREATE, "--name", "nightly", "-o", "table", env=emulator.env)
    assert run.exit_code == 0
    backup_id = re.search(r"ID\s+│\s+([0-9a-f-]{36})", run.stdout).group(1)
    assert f"{emulator.emu.url}/v3/{emulator.emu.project_id}/backups/{backup_id}" in run.stdout
    assert f"{emulator.emu.url}/{emulator.emu.project_id}/backups/{backup_id}" in run.stdout
    assert not ANSI.search(run.stdout)


def test_wait_ends_with_full_detail(emulator: Service):
    run = run_vbs(*CREATE, "--wait", env=emulator.env)
    assert run.exit_code == 0
    backup = run.json()["backup"]
    assert backup["status"] == "available" and backup["volume_id"] == VOLUME and "created_at" in backup


def test_wait_for_a_failing_backup_exits_6_with_the_reason(emulator: Service):
    run = run_vbs(
        "backup",
        "create",
        "--volume-id",
        FAILING,
        "--snapshot-id",
        FAILING_SNAP,
        "--wait",
        "-o",
        "table",
        env=emulator.env,
    )
    assert run.exit_code == 6 and run.stdout == ""
    assert "failed: Backup of the disk snapshot failed" in run.stderr


def test_show_and_list(emulator: Service):
    created = run_vbs(*CREATE, "--name", "listed", env=emulator.env).json()["backup"]["id"]
    show = run_vbs("backup", "show", created, env=emulator.env)
    assert show.exit_code == 0 and show.json()["backup"]["id"] == created
    listing = run_vbs("backup", "list", "--volume-id", VOLUME, "--name", "listed", env=emulator.env)
    assert [b["id"] for b in listing.json()["backups"]] == [created]
    unknown = run_vbs("backup", "show", "00000000-0000-4000-8000-000000000000", "-o", "table", env=emulator.env)
    assert unknown.exit_code == 1 and "could not be found" in unknown.stderr


def test_list_pages_through_next_links(emulator: Service):
    for n in range(5):
        body = {"backup": {"volume_id": VOLUME, "snapshot_id": SNAPSHOT, "name": f"page-{n}"}}
        assert emulator.emu.store.create(body, emulator.emu.url)[0] == 202
        time.sleep(0.002)  # distinct creation times: the listing is newest first
    emulator.emu.store.max_limit = 2  # the service cuts pages: vbs must follow the next links
    try:
        run = run_vbs("backup", "list", "--volume-id", VOLUME, env=emulator.env)
    finally:
        emulator.emu.store.max_limit = 1000
    names = [b["name"] for b in run.json()["backups"]]
    assert names == [f"page-{n}" for n in range(4, -1, -1)]
    assert emulator.requests("GET backups_detail") == 3
    assert len(run_vbs("backup", "list", "--limit", "3", env=emulator.env).json()["backups"]) == 3


def test_service_rejections_exit_1_with_code_and_request_id(emulator: Service):
    run = run_vbs(
        "backup", "create", "--volume-id", IN_USE, "--snapshot-id", IN_USE_SNAP, "-o", "table", env=emulator.env
    )
    assert run.exit_code == 1 and run.stdout == ""
    assert re.fullmatch(
        r"vbs: error: HTTP 400 VolumeBackup\.0016: .+ \(request id req-[0-9a-f-]{36}\); "
        r"the disk is attached to a server: add --force to back it up anyway "
        r"\(data cached in memory is not included\)\n",
        run.stderr,
    )
    assert "force=true" not in run.stderr  # vbs speaks in its options, not the API's fields
    forced = run_vbs(
        "backup", "create", "--volume-id", IN_USE, "--snapshot-id", IN_USE_SNAP, "--force", env=emulator.env
    )
    assert forced.exit_code == 0
    mismatch = run_vbs("backup", "create", "--volume-id", VOLUME, "--snapshot-id", IN_USE_SNAP, env=emulator.env)
    assert mismatch.exit_code == 1 and mismatch.error()["code"] == "VolumeBackup.0015"


def test_an_unknown_disk_gets_the_hint_to_check_the_ids(emulator: Service):
    """VBS says a disk does not exist with its own code (VolumeBackup.0021), not `itemNotFound`: the
    user still gets told what to check."""
    unknown = "5c1a9f0e-2b3d-4e5f-8a9b-0c1d2e3f4aff"
    run = run_vbs(
        "backup", "create", "--volume-id", unknown, "--snapshot-id", SNAPSHOT, "-o", "table", env=emulator.env
    )
    assert run.exit_code == 1 and run.stdout == ""
    assert re.fullmatch(
        r"vbs: error: HTTP 404 VolumeBackup\.0021: .+ \(request id req-[0-9a-f-]{36}\); "
        r"check the IDs, the endpoint URL and the project ID\n",
        run.stderr,
    )


def test_invalid_input_sends_nothing(emulator: Service):
    run = run_vbs(*CREATE, "--name", "auto-nightly", env=emulator.env)
    assert run.exit_code == 2
    assert emulator.emu.stats()["requests"] == {}


def test_bad_token_exits_4(emulator: Service):
    run = run_vbs(*CREATE, "-o", "table", env={**emulator.env, "VBS_TOKEN": "wrong-token"})
    assert run.exit_code == 4
    assert "HTTP 401 unauthorized" in run.stderr and "the token may be expired or revoked" in run.stderr
    assert emulator.created() == 0


def test_other_project_exits_4(emulator: Service):
    run = run_vbs(*CREATE, env={**emulator.env, "VBS_PROJECT_ID": "ffffffffffffffffffffffffffffffff"})
    assert run.exit_code == 4 and run.error()["status"] == 403


def test_configuration_problem_exits_3(emulator: Service):
    run = run_vbs(*CREATE, env={**emulator.env, "VBS_READ_TIMEOUT": "soon"})
    assert run.exit_code == 3 and "VBS_READ_TIMEOUT must be a number of seconds" in run.stderr


def test_service_failure_exits_5(emulator: Service):
    emulator.faults(script=[{"match": "POST backups", "fault": "status", "status": 500}])
    run = run_vbs(*CREATE, "-o", "table", env=emulator.env)
    assert run.exit_code == 5
    assert run.stderr.startswith("vbs: error: HTTP 500 computeFault: ")
    assert emulator.created() == 0


def test_wait_timeout_exits_7_and_ctrl_c_exits_130():
    from vbscli.emulator import Emulator, EmulatorConfig

    with Emulator(EmulatorConfig(port=0, create_delay=120)) as slow:
        env = Service(slow).env
        run = run_vbs(*CREATE, "--wait", "--wait-timeout", "1", "-o", "table", env=env)
        assert run.exit_code == 7
        assert "is still creating after 1 s of waiting" in run.stderr
        assert "the backup goes on in the service" in run.stderr
        proc = subprocess.Popen(
            [
                vbs_binary(),
                "backup",
                "create",
                "--volume-id",
                IN_USE,
                "--snapshot-id",
                IN_USE_SNAP,
                "--force",
                "--wait",
                "-o",
                "table",
            ],
            env={**os.environ, **env},
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        polls = slow.stats()["requests"].get("GET backup", 0)
        deadline = time.monotonic() + 20
        while slow.stats()["requests"].get("GET backup", 0) == polls and time.monotonic() < deadline:
            time.sleep(0.02)  # until the new process is polling
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=20)
    assert proc.returncode == 130 and out == ""
    assert re.fullmatch(
        r"vbs: error: interrupted; backup [0-9a-f-]{36} goes on in the service; "
        r"check it with: vbs backup show [0-9a-f-]{36}\n",
        err,
    )


def test_dry_run_sends_nothing(emulator: Service):
    run = run_vbs(*CREATE, "--dry-run", env=emulator.env)
    assert run.exit_code == 0 and run.json()["headers"]["X-Auth-Token"] == "<redacted>"
    assert emulator.emu.stats()["requests"] == {}


def test_debug_trace_has_no_secret(emulator: Service):
    run = run_vbs("--debug", *CREATE, env=emulator.env)
    assert run.exit_code == 0
    assert "vbs: debug: > POST" in run.stderr and "vbs: debug: < HTTP 202" in run.stderr
    assert "X-Openstack-Request-Id: req-" in run.stderr


def _in_terminal(args: tuple[str, ...], env: dict[str, str]) -> str:
    """Run vbs with stdout on a pseudo-terminal, as in an interactive shell."""
    pid, fd = pty.fork()
    if pid == 0:
        os.execve(vbs_binary(), ["vbs", *args], {**os.environ, "COLUMNS": "200", "TERM": "xterm", **env})
    chunks = []
    while True:
        try:
            data = os.read(fd, 65536)
        except OSError:
            break
        if not data:
            break
        chunks.append(data)
    os.waitpid(pid, 0)
    return b"".join(chunks).decode()


def test_terminal_gets_a_coloured_table_unless_no_color(emulator: Service):
    shown = _in_terminal(CREATE, emulator.env)
    assert "Bookmark link" in shown and ANSI.search(shown)
    plain = _in_terminal(CREATE, {**emulator.env, "NO_COLOR": "1"})
    assert "Bookmark link" in plain and not ANSI.search(plain)


def test_vbs_emulator_process_with_seed_and_faults(tmp_path):
    seed = tmp_path / "seed.yaml"
    seed.write_text(f"""\
project_id: "11112222333344445555666677778888"
tokens: [seed-token]
volumes:
  - {{id: {VOLUME}, status: available}}
snapshots:
  - {{id: {SNAPSHOT}, volume_id: {VOLUME}, status: available}}
""")
    faults = tmp_path / "faults.yaml"
    faults.write_text("- {match: POST backups, fault: status, status: 503, retry_after: 0}\n")
    proc = subprocess.Popen(
        [vbs_binary(), "emulator", "--port", "0", "--seed", str(seed), "--faults", str(faults), "--create-delay", "0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        first = proc.stdout.readline()
        url = re.fullmatch(r"vbs emulator listening on (http://127\.0\.0\.1:\d+)\n", first).group(1)
        env = {
            "VBS_ENDPOINT": url,
            "VBS_PROJECT_ID": "11112222333344445555666677778888",
            "VBS_TOKEN": "seed-token",
            "VBS_MAX_ATTEMPTS": "2",
        }
        run = run_vbs(*CREATE, "--name", "seeded", env=env)
        assert run.exit_code == 0, run.stderr
        assert run.stderr.startswith("vbs: warning: retrying create in 0.0 s (attempt 2 of 2): HTTP 503")
    finally:
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=10)
    assert proc.returncode == 0
    assert err.splitlines()[-1] == "vbs emulator stopped"
    assert sum(1 for line in err.splitlines() if '"POST /v3/' in line) == 2


def test_vbs_emulator_refuses_a_bad_seed(tmp_path):
    seed = tmp_path / "seed.yaml"
    seed.write_text("project_id: p\nvolumes:\n  - {id: not-a-uuid}\n")
    run = run_vbs("emulator", "--port", "0", "--seed", str(seed), "-o", "table")
    assert run.exit_code == 3
    assert "not-a-uuid" in run.stderr and str(seed) in run.stderr


def test_wait_on_a_terminal_shows_status_and_elapsed_time():
    from vbscli.emulator import Emulator, EmulatorConfig

    with Emulator(EmulatorConfig(port=0, create_delay=2.5)) as slow:
        screen = _in_terminal((*CREATE, "--wait", "--poll-interval", "1"), {**Service(slow).env, "NO_COLOR": "1"})
    assert re.search(r"backup [0-9a-f-]{36}: creating \(\d+ s\)", screen), screen
    assert "Status" in screen and "available" in screen

"""Ctrl-C in the commands that change data or run long (delete, restore, prune, the report): the
installed `vbs` stops at once, exit 130, and says what may have been done and how to check."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import time
from datetime import datetime, timedelta, timezone

import pytest

from tests.conftest import Service
from tests.helpers import assert_no_secrets, run_vbs, vbs_binary
from tests.test_e2e_network import env_for, silent_server  # noqa: F401 - a fixture

VOLUME = "5c1a9f0e-2b3d-4e5f-8a9b-0c1d2e3f4a01"
BACKUP = "3f7f9b85-4352-4534-a2a7-17bc7b74ffd5"
TARGET = "5c1a9f0e-2b3d-4e5f-8a9b-0c1d2e3f4a05"
ON_ITS_WAY = [
    (
        ("backup", "delete", BACKUP, "--yes"),
        f"the delete of backup {BACKUP} may have reached the service, so backup {BACKUP} may be deleting; "
        f"check its status with: vbs backup show {BACKUP}",
    ),
    (
        ("backup", "restore", BACKUP, "--volume-id", TARGET, "--yes"),
        f"the restore of backup {BACKUP} may have reached the service, so the restore may have started; "
        f"check the backup (vbs backup show {BACKUP}) and the target disk",
    ),
    (
        ("backup", "create", "--volume-id", VOLUME, "--name", "fresh"),
        "the request for snapshot 'vbs-for-fresh' may have reached the service, so snapshot 'vbs-for-fresh' "
        f"may exist; check the snapshots of disk {VOLUME} for one named 'vbs-for-fresh' ('vbs backup prune' "
        "removes it)",
    ),
]


def interrupted(proc: subprocess.Popen) -> tuple[str, str]:
    """Ctrl-C, as a terminal sends it; the run must end long before any request it waits for would."""
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=15)
    assert proc.returncode == 130, err
    assert "Traceback" not in err
    assert_no_secrets(out + err, "the output")
    return out, err


def wait_until(condition, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "the run never got there"
        time.sleep(0.02)


@pytest.mark.parametrize(("args", "note"), ON_ITS_WAY, ids=["delete", "restore", "snapshot"])
def test_ctrl_c_while_a_request_that_changes_something_is_on_its_way_says_what_may_exist(
    silent_server,  # noqa: F811
    args,
    note,
):
    port = silent_server.getsockname()[1]
    proc = subprocess.Popen(
        [vbs_binary(), *args, "-o", "table"],
        env={**os.environ, **env_for(port)},
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    conn, _ = silent_server.accept()  # the request is in flight: now interrupt it
    try:
        out, err = interrupted(proc)
    finally:
        conn.close()
    assert out == "" and err == f"vbs: error: interrupted; {note}\n"


def test_ctrl_c_while_deleting_many_and_waiting_stops_at_once_and_says_what_the_service_took():
    from vbscli.emulator import Emulator, EmulatorConfig

    with Emulator(EmulatorConfig(port=0, create_delay=120)) as slow:  # a deletion takes 2 minutes
        now = datetime.now(timezone.utc)
        ids = [slow.store.add_backup(VOLUME, now - timedelta(days=n), name=f"old-{n}") for n in (3, 2, 1)]
        proc = subprocess.Popen(
            [vbs_binary(), "backup", "delete", *ids, "--yes", "--wait", "--poll-interval", "1", "--parallel", "2"],
            env={**os.environ, **Service(slow).env},
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        wait_until(lambda: slow.stats()["requests"].get("GET backup", 0) >= 2)  # both deletions are waited for
        out, err = interrupted(proc)
        deletes = slow.stats()["requests"]["DELETE backup"]
    assert out == "" and deletes == 2
    taken = re.fullmatch(r"vbs: error: interrupted; deleting or deleted: (.+); not sent: 1 of 3\n", err)
    assert taken, err
    assert taken.group(1).split(", ") == ids[:2]


def test_ctrl_c_during_a_report_does_not_wait_for_the_listings_in_flight():
    from vbscli.emulator import Emulator, EmulatorConfig

    with Emulator(EmulatorConfig(port=0, latency=60)) as slow:  # every answer takes a minute
        proc = subprocess.Popen(
            [vbs_binary(), "backup", "report"],
            env={**os.environ, **Service(slow).env},
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        wait_until(lambda: sum(slow.stats()["requests"].values()) >= 2)  # backups and disk names asked for
        out, err = interrupted(proc)
    assert out == "" and err == "vbs: error: interrupted\n"


def test_ctrl_c_during_a_prune_tells_how_to_check_a_snapshot_not_with_backup_show():
    """A snapshot whose delete had no answer yet is checked with a prune's plan, not `vbs backup show`
    (which shows backups only); a backup's delete still points at `vbs backup show`."""
    from vbscli.emulator import Emulator, EmulatorConfig

    with Emulator(EmulatorConfig(port=0, create_delay=0.0)) as emu:
        service = Service(emu)
        made = run_vbs("backup", "create", "--volume-id", VOLUME, "--name", "nightly-1", env=service.env)
        assert made.exit_code == 0, made.stderr  # no --wait: its fresh snapshot stays for prune
        snapshot = emu.store.backups[made.json()["backup"]["id"]].snapshot_id
        old = emu.store.add_backup(VOLUME, datetime.now(timezone.utc) - timedelta(days=3), name="nightly-0")
        service.faults(script=[{"match": "DELETE *", "fault": "delay", "seconds": 60, "times": 2}])
        proc = subprocess.Popen(
            [vbs_binary(), "backup", "prune", "--volume-id", VOLUME, "--keep-last", "1", "--yes"],
            env={**os.environ, **service.env},
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        wait_until(lambda: sum(n for k, n in emu.stats()["requests"].items() if k.startswith("DELETE")) == 2)
        out, err = interrupted(proc)
    assert out == ""
    assert err == (
        f"vbs: error: interrupted; may or may not have been deleted (no answer yet; check with vbs backup show ID): "
        f"{old}; snapshots that may or may not have been deleted (no answer yet; 'vbs backup prune --plan' lists "
        f"those still there, and the next prune deletes them): {snapshot}; not sent: 0 of 2\n"
    )

"""Never two, at the socket: the cycle's requests that change something (a snapshot, a delete, a
restore) meet answers broken on a real connection - dropped after the work was done, cut short,
stalled mid-body - and each is looked up, never repeated: the emulator counts what it really did."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta, timezone

import pytest

from tests.conftest import Service
from tests.helpers import run_vbs
from vbscli.emulator import Emulator, EmulatorConfig, demo_seed
from vbscli.emulator.seed import Volume

VOLUME = "5c1a9f0e-2b3d-4e5f-8a9b-0c1d2e3f4a01"
TARGET = "5c1a9f0e-2b3d-4e5f-8a9b-0c1d2e3f4a05"
FAST = ("--connect-timeout", "2", "--read-timeout", "0.5")
BROKEN = [
    ("drop_after", "the work is done, then the connection is reset without an answer"),
    ("truncated", "an accepted answer whose body is cut in half"),
    ("slow_body", "an answer that stalls after its headers"),
]


@contextmanager
def service(create_delay: float, fault: str, route: str) -> Iterator[Service]:
    """An emulator whose next `route` request gets `fault` (a byte a second for slow_body)."""
    seed = demo_seed()
    seed.volumes.append(Volume(TARGET, "available", 10))
    script = [{"match": route, "fault": fault}]
    with Emulator(EmulatorConfig(port=0, seed=seed, create_delay=create_delay, script=script)) as emu:
        yield Service(emu)


def an_old_backup(svc: Service) -> str:
    return svc.emu.store.add_backup(VOLUME, datetime.now(timezone.utc) - timedelta(days=2), name="old")


@pytest.mark.parametrize("fault", [f for f, _ in BROKEN], ids=[f for f, _ in BROKEN])
def test_a_snapshot_whose_answer_breaks_is_found_and_backed_up_never_made_twice(fault):
    with service(0, fault, "POST snapshots") as svc:
        run = run_vbs(
            "backup", "create", "--volume-id", VOLUME, "--name", "nightly", *FAST,
            env={**svc.env, "VBS_MAX_ATTEMPTS": "4"},
        )  # fmt: skip
        assert run.exit_code == 0, run.stderr
        assert "but the service has" in run.stderr and "snapshot 'vbs-for-nightly'" in run.stderr
        stats = svc.emu.stats()
        assert (stats["snapshots_created"], stats["requests"]["POST snapshots"]) == (1, 1)
        assert stats["backups_created"] == 1 and stats["faults_fired"] == {fault: 1}
        backup = svc.emu.store.backups[run.json()["backup"]["id"]]
        made = [s for s in svc.emu.store.snapshots.values() if getattr(s, "metadata", {}).get("created_by") == "vbs"]
        assert [s.id for s in made] == [backup.snapshot_id]


@pytest.mark.parametrize("fault", [f for f, _ in BROKEN], ids=[f for f, _ in BROKEN])
def test_a_delete_whose_answer_breaks_is_looked_up_never_sent_twice(fault):
    with service(30, fault, "DELETE backup") as svc:
        backup_id = an_old_backup(svc)
        run = run_vbs("backup", "delete", backup_id, "--yes", *FAST, env={**svc.env, "VBS_MAX_ATTEMPTS": "4"})
        assert run.exit_code == 0, run.stderr
        assert run.json()["deletions"][0]["result"] == "deleting"
        assert svc.emu.stats()["requests"]["DELETE backup"] == 1  # a second one would get 400
        assert svc.emu.store.show(backup_id, svc.emu.url)[1]["backup"]["status"] == "deleting"


@pytest.mark.parametrize("fault", [f for f, _ in BROKEN], ids=[f for f, _ in BROKEN])
def test_a_restore_whose_answer_breaks_is_looked_up_never_sent_twice(fault):
    with service(30, fault, "POST backup_restore") as svc:
        backup_id = an_old_backup(svc)
        run = run_vbs(
            "backup", "restore", backup_id, "--volume-id", TARGET, "--yes", *FAST,
            env={**svc.env, "VBS_MAX_ATTEMPTS": "4"},
        )  # fmt: skip
        assert run.exit_code == 0, run.stderr
        assert run.json()["restore"] == {"backup_id": backup_id, "volume_id": TARGET, "volume_name": None}
        assert "but the service has" in run.stderr and f"restore of backup {backup_id}" in run.stderr
        assert svc.emu.stats()["requests"]["POST backup_restore"] == 1
        assert svc.emu.store.show(backup_id, svc.emu.url)[1]["backup"]["status"] == "restoring"


@pytest.mark.parametrize("fault", ["drop_after", "slow_body"])
def test_the_cleanup_of_a_snapshot_whose_answer_breaks_is_looked_up_never_sent_twice(fault):
    with service(0, fault, "DELETE snapshot") as svc:
        run = run_vbs(
            "backup", "create", "--volume-id", VOLUME, "--name", "nightly", "--wait", *FAST,
            env={**svc.env, "VBS_MAX_ATTEMPTS": "4"},
        )  # fmt: skip
        assert run.exit_code == 0, run.stderr
        assert "the answer to the delete of snapshot" in run.stderr and "the service has it" in run.stderr
        assert svc.emu.stats()["requests"]["DELETE snapshot"] == 1

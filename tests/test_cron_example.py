"""The README's cron example, the nightly job, run as cron would: no terminal, against the emulator."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import datetime, timedelta, timezone
from pathlib import Path

from tests.conftest import Service

ROOT = Path(__file__).resolve().parent.parent
SCRIPT = ROOT / "examples" / "nightly-backup.sh"
VOLUME = "5c1a9f0e-2b3d-4e5f-8a9b-0c1d2e3f4a01"
FAILING = "5c1a9f0e-2b3d-4e5f-8a9b-0c1d2e3f4a03"


def run_script(emulator: Service, tmp_path: Path, volume: str, **env: str):
    log = tmp_path / "backup.log"
    full = {
        **os.environ,
        **emulator.env,
        **env,
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}",
    }
    proc = subprocess.run(
        ["sh", str(SCRIPT), volume, str(log)],
        env=full,
        capture_output=True,
        text=True,
        timeout=60,
        stdin=subprocess.DEVNULL,
    )
    return proc, log.read_text() if log.exists() else ""


def past_nights(emulator: Service, volume: str, nights: int) -> dict[int, str]:
    """Nightly backups of the last `nights` nights (1 = last night), as earlier runs left them."""
    now = datetime.now(timezone.utc).replace(hour=2, minute=30, second=0, microsecond=0)
    made = {}
    for night in range(nights, 0, -1):
        when = now - timedelta(days=night)
        made[night] = emulator.emu.store.add_backup(volume, when, name=f"nightly-{when:%Y%m%d}")
    return made


def test_the_readme_shows_the_script_as_it_is():
    assert SCRIPT.read_text() in (ROOT / "README.md").read_text()


def test_a_night_backs_up_a_fresh_snapshot_and_prunes_old_nights(emulator: Service, tmp_path):
    nights = past_nights(emulator, VOLUME, 400)
    hand_made = emulator.emu.store.add_backup(VOLUME, datetime(2025, 1, 1, tzinfo=timezone.utc), name="before-upgrade")
    proc, log = run_script(emulator, tmp_path, VOLUME)
    assert (proc.returncode, proc.stdout, proc.stderr) == (0, "", "")
    ok, pruned = (line for line in log.strip().splitlines() if not line.startswith("vbs: "))
    assert f" ok {VOLUME} " in ok and '"status": "available"' in ok
    assert pruned.split()[1:3] == ["pruned", VOLUME]
    report = json.loads(pruned.split(" ", 3)[3])["prune"]
    deleted = {e["id"] for e in report if e["outcome"] == "deleting"}
    # kept: 7 daily (tonight and the 6 nights before), the newest of 4 weeks and of 6 months, at most 17
    assert 400 + 1 - 17 <= len(deleted) <= 400 + 1 - 11 and hand_made not in deleted
    assert {nights[n] for n in range(1, 7)}.isdisjoint(deleted)
    assert nights[400] in deleted
    stats = emulator.emu.stats()
    assert stats["snapshots_created"] == 1 and stats["requests"]["DELETE snapshot"] == 1
    assert stats["requests"]["DELETE backup"] == len(deleted)


def test_failed_backup_exits_6_says_so_and_prunes_nothing(emulator: Service, tmp_path):
    past_nights(emulator, FAILING, 20)
    proc, log = run_script(emulator, tmp_path, FAILING)
    assert proc.returncode == 6
    assert "the service reports the snapshot or backup failed" in proc.stderr
    assert "FAILED(6)" in log and "fail_reason" not in proc.stderr
    assert "DELETE backup" not in emulator.emu.stats()["requests"]


def test_refused_credentials_exit_4(emulator: Service, tmp_path):
    proc, log = run_script(emulator, tmp_path, VOLUME, VBS_TOKEN="expired-token")
    assert proc.returncode == 4
    assert "credentials refused" in proc.stderr
    assert '"status": 401' in log

"""The README's cron example, run as cron would: no terminal, against the emulator."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from tests.conftest import Service

ROOT = Path(__file__).resolve().parent.parent
SCRIPT = ROOT / "examples" / "nightly-backup.sh"


def run_script(emulator: Service, tmp_path: Path, volume: str, snapshot: str, **env: str):
    log = tmp_path / "backup.log"
    full = {
        **os.environ,
        **emulator.env,
        **env,
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}",
    }
    proc = subprocess.run(
        ["sh", str(SCRIPT), volume, snapshot, str(log)],
        env=full,
        capture_output=True,
        text=True,
        timeout=60,
        stdin=subprocess.DEVNULL,
    )
    return proc, log.read_text() if log.exists() else ""


def test_the_readme_shows_the_script_as_it_is():
    assert SCRIPT.read_text() in (ROOT / "README.md").read_text()


def test_success_logs_one_json_line(emulator: Service, tmp_path):
    proc, log = run_script(
        emulator, tmp_path, "5c1a9f0e-2b3d-4e5f-8a9b-0c1d2e3f4a01", "9e3c7d21-6f4a-4b8c-9d0e-1f2a3b4c5d01"
    )
    assert (proc.returncode, proc.stdout, proc.stderr) == (0, "", "")
    line = log.strip().splitlines()[-1]
    assert " ok 5c1a9f0e-2b3d-4e5f-8a9b-0c1d2e3f4a01 " in line and '"status": "available"' in line


def test_failed_backup_exits_6_and_says_so(emulator: Service, tmp_path):
    proc, log = run_script(
        emulator, tmp_path, "5c1a9f0e-2b3d-4e5f-8a9b-0c1d2e3f4a03", "9e3c7d21-6f4a-4b8c-9d0e-1f2a3b4c5d03"
    )
    assert proc.returncode == 6
    assert "the service reports the backup failed" in proc.stderr
    assert "FAILED(6)" in log and "fail_reason" not in proc.stderr


def test_refused_credentials_exit_4(emulator: Service, tmp_path):
    proc, log = run_script(
        emulator,
        tmp_path,
        "5c1a9f0e-2b3d-4e5f-8a9b-0c1d2e3f4a01",
        "9e3c7d21-6f4a-4b8c-9d0e-1f2a3b4c5d01",
        VBS_TOKEN="expired-token",
    )
    assert proc.returncode == 4
    assert "credentials refused" in proc.stderr
    assert '"status": 401' in log

"""The README's quick start works as written (after its install step, which this suite has done)."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

from tests.helpers import run_vbs

ROOT = Path(__file__).resolve().parent.parent
INSTALL = "python3 -m venv .venv && . .venv/bin/activate && pip install -q . && "


def quick_start() -> str:
    section = (ROOT / "README.md").read_text().split("## Quick start", 1)[1].split("\n## ", 1)[0]
    line = next(line for line in section.splitlines() if line.startswith(INSTALL))
    return line[len(INSTALL) :]


def git(*args: str, cwd: Path) -> str:
    return subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True, check=True).stdout


def test_quick_start_creates_a_backup_through_the_emulator(tmp_path, isolated_env):
    """The README's own command, in a working tree like a clone's. It picks a free port itself
    (`--port 0`), so it never collides with anything; the emulator it started, and only that one, is
    stopped through its PID file afterwards."""
    clone = tmp_path / "clone"
    clone.mkdir()
    shutil.copy(ROOT / ".gitignore", clone / ".gitignore")
    git("init", "-q", cwd=clone)
    before = git("status", "--porcelain", "--untracked-files=all", cwd=clone)
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"}
    try:
        proc = subprocess.run(
            ["bash", "-c", quick_start()],
            cwd=clone,
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
            stdin=subprocess.DEVNULL,
        )
        status = run_vbs("emulator", "status", "-o", "json").json()["emulator"]
    finally:
        stop = run_vbs("emulator", "stop", "-o", "json")
    assert proc.returncode == 0, proc.stderr
    assert re.search(r"Status\s+│ available", proc.stdout)
    assert "first-backup" in proc.stdout
    assert status["status"] == "running"
    assert f"endpoint: {status['url']}\n" in (isolated_env / ".config" / "vbs" / "config.yaml").read_text()
    assert Path(status["log_file"]).read_text().startswith(f"vbs emulator listening on {status['url']}\n")
    assert stop.exit_code == 0 and stop.json()["emulator"]["pid"] == status["pid"]
    assert git("status", "--porcelain", "--untracked-files=all", cwd=clone) == before  # nothing left in the clone

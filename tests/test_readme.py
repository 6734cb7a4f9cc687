"""The README's quick start works as written (after its install step, which this suite has done)."""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
INSTALL = "python3 -m venv .venv && . .venv/bin/activate && pip install -q . && "


def quick_start() -> str:
    section = (ROOT / "README.md").read_text().split("## Quick start", 1)[1].split("\n## ", 1)[0]
    line = next(line for line in section.splitlines() if line.startswith(INSTALL))
    return line[len(INSTALL) :]


def test_quick_start_creates_a_backup_through_the_emulator(tmp_path, isolated_env):
    with socket.socket() as probe:
        if probe.connect_ex(("127.0.0.1", 8776)) == 0:
            pytest.fail("port 8776, used by the quick start, is taken")
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"}
    try:
        proc = subprocess.run(
            ["bash", "-c", quick_start()],
            cwd=tmp_path,
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
            stdin=subprocess.DEVNULL,
        )
    finally:
        subprocess.run(["pkill", "-f", "vbs emulator --port 8776"], check=False)
    assert proc.returncode == 0, proc.stderr
    assert re.search(r"Status\s+│ available", proc.stdout)
    assert "first-backup" in proc.stdout
    assert "vbs emulator listening on http://127.0.0.1:8776" in (tmp_path / "emulator.log").read_text()
    assert (isolated_env / ".config" / "vbs" / "config.yaml").exists()

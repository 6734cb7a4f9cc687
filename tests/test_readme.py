"""The README's quick start works as written (after its install step, which this suite has done)."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

from tests.helpers import run_vbs

ROOT = Path(__file__).resolve().parent.parent
INSTALL = "python3 -m venv .venv && . .venv/bin/activate && pip install -q . && "


def sh_blocks(start: str, end: str) -> list[str]:
    """Every ```sh block of the README between the headings `start` and `end`, unindented."""
    section = (ROOT / "README.md").read_text().split(f"\n{start}\n", 1)[1].split(f"\n{end}\n", 1)[0]
    return [textwrap.dedent(b) for b in re.findall(r"^ *```sh\n(.*?)^ *```", section, re.S | re.M)]


def quick_start() -> str:
    section = (ROOT / "README.md").read_text().split("## Quick start", 1)[1].split("\n## ", 1)[0]
    line = next(line for line in section.splitlines() if line.startswith(INSTALL))
    return line[len(INSTALL) :]


def block(heading: str, after: str = "") -> str:
    """The first ```sh block of the README section `heading` (after the text `after`)."""
    section = (ROOT / "README.md").read_text().split(heading, 1)[1]
    if after:
        section = section.split(after, 1)[1]
    return section.split("```sh\n", 1)[1].split("```", 1)[0]


def shell_env() -> dict[str, str]:
    return {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"}


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
    env = shell_env()
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


def test_the_example_history_block_shows_the_report_after_the_quick_start(tmp_path, isolated_env):
    """The emulator section's commands for examples/report-seed.yaml, as written, right after the quick
    start (its `demo` profile, its emulator still running): the report shows the example's six disks."""
    env = shell_env()
    try:
        quick = subprocess.run(["bash", "-c", quick_start()], cwd=tmp_path, env=env, capture_output=True, timeout=60)
        assert quick.returncode == 0, quick.stderr
        script = "set -e\n" + block("## The emulator", "is a ready-made one")  # JSON: no terminal
        proc = subprocess.run(["bash", "-c", script], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)
    finally:
        run_vbs("emulator", "stop")
    assert proc.returncode == 0, proc.stderr
    report = proc.stdout[proc.stdout.rindex('{\n  "volumes"') :]  # after what `emulator stop` printed
    names = [disk["volume_name"] for disk in json.loads(report)["volumes"]]
    assert names == ["build-cache", None, "files-archive", "web01-root", "db01-wal", "db01-data"]


def test_the_completion_install_lines_work_in_a_fresh_home(isolated_env):
    lines = block("## Shell completion")
    proc = subprocess.run(["bash", "-ec", lines], env=shell_env(), capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    for installed, shipped in [
        (".local/share/bash-completion/completions/vbs", "vbs.bash"),
        (".zfunc/_vbs", "_vbs"),
        (".config/fish/completions/vbs.fish", "vbs.fish"),
    ]:
        assert (isolated_env / installed).read_text() == (ROOT / "completions" / shipped).read_text()


def test_the_examples_run_as_written_after_the_quick_start(tmp_path, isolated_env):
    """Every `sh` example from the nightly job to the configuration, and the profile commands, pasted
    in order into one shell after the quick start, against its emulator: each line must succeed."""
    blocks = sh_blocks("## The nightly job", "## Configuration") + sh_blocks("### Managing profiles", "### clouds.yaml")
    section = (ROOT / "README.md").read_text().split("### A whole fleet in one run", 1)[1]
    (tmp_path / "fleet.yaml").write_text(section.split("```yaml\n", 1)[1].split("```", 1)[0])  # the README's
    script = "\n".join(
        [
            "set -e",  # as typed: a pipeline's status is its last command's
            "trap 'echo \"failed: $BASH_COMMAND\" >&2' ERR",
            f"cd {ROOT}",
            f". {Path(sys.executable).parent}/activate",
            quick_start(),
            f"cd {tmp_path}",
            *blocks,
        ]
    )
    try:
        proc = subprocess.run(
            ["bash", "-c", script],
            env=shell_env(),
            capture_output=True,
            text=True,
            timeout=180,
            stdin=subprocess.DEVNULL,
        )
    finally:
        run_vbs("emulator", "stop")
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert len(blocks) >= 10 and "jq" in "".join(blocks)


def test_every_link_to_a_heading_of_the_readme_finds_it():
    """Anchors as GitHub makes them: lower case, punctuation dropped, spaces as hyphens."""
    text = re.sub(r"^```.*?^```", "", (ROOT / "README.md").read_text(), flags=re.S | re.M)  # no code blocks
    anchors = set()
    for heading in re.findall(r"^#{1,6} (.+)$", text, re.M):
        anchor = re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")
        anchors.add(anchor if anchor not in anchors else f"{anchor}-1")
    links = set(re.findall(r"\]\(#([^)]+)\)", text))
    assert links and not links - anchors, sorted(links - anchors)

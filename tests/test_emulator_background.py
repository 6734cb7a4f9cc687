"""`vbs emulator start --detach`, `status` and `stop`: readiness built in, a PID file, and stopping exactly
the emulator that was started. Every test stops what it started, by its PID file, and nothing else."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.helpers import Run, run_vbs, vbs_binary
from vbscli.emulator import Emulator, EmulatorConfig

VOLUME, SNAPSHOT = "5c1a9f0e-2b3d-4e5f-8a9b-0c1d2e3f4a01", "9e3c7d21-6f4a-4b8c-9d0e-1f2a3b4c5d01"


def health(url: str) -> dict:
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    with opener.open(f"{url}/_emulator/health", timeout=5) as answer:
        return json.loads(answer.read())


def refused(url: str) -> bool:
    host, port = url.removeprefix("http://").rsplit(":", 1)
    with socket.socket() as probe:
        return probe.connect_ex((host, int(port))) != 0


def gone(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    stat = Path(f"/proc/{pid}/stat")
    return stat.exists() and stat.read_text().rsplit(")", 1)[1].split()[0] == "Z"


@pytest.fixture
def started(isolated_env: Path) -> Iterator[list[Run]]:
    """The background emulators a test starts; whatever is still running afterwards is stopped by its
    PID file (never by name)."""
    runs: list[Run] = []
    yield runs
    for run in runs:
        if run.exit_code == 0:
            info = run.json()["emulator"]
            run_vbs("emulator", "stop", "--pid-file", info["pid_file"])
            if not gone(info["pid"]):  # a failed test must not leave its emulator behind
                os.kill(info["pid"], signal.SIGKILL)


def start(started: list[Run], *args: str) -> Run:
    run = run_vbs("emulator", "start", "--detach", "--port", "0", "--create-delay", "0", *args, "-o", "json")
    started.append(run)
    return run


def test_detach_returns_once_it_listens_and_stop_ends_exactly_it(started, isolated_env: Path):
    run = start(started)
    assert run.exit_code == 0, run.stderr
    info = run.json()["emulator"]
    state = isolated_env / ".local" / "state" / "vbs"
    assert info["status"] == "running" and info["project_id"] == "0123456789abcdef0123456789abcdef"
    assert (info["pid_file"], info["log_file"]) == (str(state / "emulator.pid"), str(state / "emulator.log"))
    assert health(info["url"]) == {"status": "ok", "pid": info["pid"]}  # ready: no waiting needed
    assert (state / "emulator.pid").read_text() == f"{info['pid']}\n{info['url']}\n{info['log_file']}\n"
    env = {"VBS_ENDPOINT": info["url"], "VBS_PROJECT_ID": info["project_id"], "VBS_TOKEN": "demo-token"}
    create = run_vbs("backup", "create", "--volume-id", VOLUME, "--snapshot-id", SNAPSHOT, "-f", "id", env=env)
    assert create.exit_code == 0, create.stderr
    log = Path(info["log_file"]).read_text()
    assert log.startswith(f"vbs emulator listening on {info['url']}\n") and '"POST /v3/' in log

    status = run_vbs("emulator", "status", "-o", "json")
    assert status.exit_code == 0 and status.json()["emulator"] == {k: v for k, v in info.items() if k != "project_id"}
    assert run_vbs("emulator", "status", "-f", "url").stdout == f"{info['url']}\n"

    stop = run_vbs("emulator", "stop", "-o", "json")
    assert stop.exit_code == 0 and stop.json()["emulator"]["status"] == "stopped"
    assert refused(info["url"]) and gone(info["pid"]) and not (state / "emulator.pid").exists()
    assert Path(info["log_file"]).read_text().endswith("vbs emulator stopped\n")
    again = run_vbs("emulator", "stop", "-o", "json")  # nothing left to stop: says so, and succeeds
    assert again.exit_code == 0 and again.json()["emulator"]["status"] == "stopped"
    assert again.stderr == f"vbs: no emulator is running (no PID file at {state / 'emulator.pid'})\n"
    assert run_vbs("emulator", "status", "-f", "status").stdout == "stopped\n"


def test_a_taken_port_is_refused_clearly_and_leaves_nothing_running(started, isolated_env: Path):
    with Emulator(EmulatorConfig(port=0)) as other:
        run = start(started, "--port", str(other.port))
        assert (run.exit_code, run.stdout) == (3, "")
        error = run.error()
        assert error["code"] == "ConfigError"
        assert error["message"] == (
            f"cannot listen on 127.0.0.1:{other.port}: Address already in use; "
            "choose another --port (0 picks a free one)"
        )
        assert health(other.url)["pid"] == os.getpid()  # the emulator already there is untouched
    assert not (isolated_env / ".local" / "state" / "vbs" / "emulator.pid").exists()
    assert run_vbs("emulator", "status", "-f", "status").stdout == "stopped\n"


def test_a_second_start_with_the_same_pid_file_is_refused(started):
    first = start(started)
    assert first.exit_code == 0
    url, pid = first.json()["emulator"]["url"], first.json()["emulator"]["pid"]
    second = start(started)
    assert second.exit_code == 3
    assert second.error()["message"].startswith(f"an emulator is already running at {url} (pid {pid}, PID file ")
    assert "give another --pid-file to run a second one" in second.error()["message"]
    assert health(url)["pid"] == pid


def test_two_emulators_side_by_side_and_stop_ends_only_the_one_named(started, tmp_path: Path):
    one = start(started, "--pid-file", str(tmp_path / "one.pid"))
    two = start(started, "--pid-file", str(tmp_path / "two.pid"))
    assert one.exit_code == two.exit_code == 0
    first, second = one.json()["emulator"], two.json()["emulator"]
    assert second["log_file"] == str(tmp_path / "two.log")
    assert run_vbs("emulator", "stop", "--pid-file", str(tmp_path / "one.pid")).exit_code == 0
    assert refused(first["url"]) and gone(first["pid"])
    assert health(second["url"])["pid"] == second["pid"]


def test_a_stale_pid_file_is_cleared_and_another_process_is_never_signalled(tmp_path: Path):
    pid_file = tmp_path / "emulator.pid"
    finished = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    pid_file.write_text(f"{finished.stdout.strip()}\nhttp://127.0.0.1:9\n\n")
    status = run_vbs("emulator", "status", "--pid-file", str(pid_file), "-f", "status")
    assert status.stdout == "stopped\n" and not pid_file.exists()

    bystander = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        pid_file.write_text(f"{bystander.pid}\nhttp://127.0.0.1:9\n\n")  # alive, but no emulator of it answers
        stop = run_vbs("emulator", "stop", "--pid-file", str(pid_file), "-o", "table")
        assert stop.exit_code == 3
        assert stop.stderr.startswith(f"vbs: error: {pid_file} names process {bystander.pid}, but no emulator")
        assert "vbs leaves that process alone" in stop.stderr
        assert bystander.poll() is None and pid_file.exists()
    finally:
        bystander.kill()
        bystander.wait()


def test_a_foreground_emulator_with_a_pid_file_is_stopped_by_it(tmp_path: Path):
    pid_file = tmp_path / "fg.pid"
    proc = subprocess.Popen(
        [vbs_binary(), "emulator", "start", "--port", "0", "--quiet", "--pid-file", str(pid_file)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        url = proc.stdout.readline().split()[-1]
        assert pid_file.read_text().splitlines()[:2] == [str(proc.pid), url]
        stop = run_vbs("emulator", "stop", "--pid-file", str(pid_file), "-f", "status")
        assert stop.stdout == "stopped\n"
        assert proc.wait(timeout=10) == 0 and not pid_file.exists()
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.communicate()


def test_the_log_file_is_only_written_where_asked(tmp_path: Path):
    run = run_vbs("emulator", "start", "--port", "0", "--log-file", str(tmp_path / "x.log"), "--seed", "nope.yaml")
    assert run.exit_code == 3 and "nope.yaml" in run.stderr  # options are checked before anything starts
    assert not (tmp_path / "x.log").exists()


SLOW_TO_EXIT = """
import signal, sys, time
from vbscli.emulator import Emulator, EmulatorConfig, background

pid_file = sys.argv[1]
emu = Emulator(EmulatorConfig(port=0)).start()

def on_term(*_):
    emu.stop()
    background.withdraw(pid_file)  # as the emulator does on its way out, before the process has ended
    time.sleep(1)  # a process slow to exit (a loaded machine, a long teardown)
    sys.exit(0)

signal.signal(signal.SIGTERM, on_term)
background.record(pid_file, emu.url, None)
print(emu.url, flush=True)
while True:
    time.sleep(60)
"""


def test_stop_returns_only_once_the_process_has_ended(tmp_path: Path):
    """The emulator removes its PID file before its process ends: `stop` waits for the process itself,
    so a script may rely on it being gone when `stop` returns."""
    pid_file = tmp_path / "slow.pid"
    proc = subprocess.Popen([sys.executable, "-c", SLOW_TO_EXIT, str(pid_file)], stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout.readline().startswith("http://127.0.0.1:")
        stop = run_vbs("emulator", "stop", "--pid-file", str(pid_file), "-f", "status")
        assert (stop.exit_code, stop.stdout) == (0, "stopped\n")
        assert gone(proc.pid) and not pid_file.exists()
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.communicate()

"""Running the emulator: ports, start and stop, the banner, the request log, counters, threads and signals."""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import urllib.request

import pytest
import requests

from tests.emulator.conftest import PROJECT, SNAPSHOT, VOLUME, Api
from vbscli.emulator import Emulator, EmulatorConfig, banner, demo_seed

LOG_LINE = re.compile(r'^127\.0\.0\.1 "(GET|POST) (/\S*)" (\d{3}|-) req-[0-9a-f-]{36} \d+\.\dms( fault=\w+)?$')


def test_port_zero_binds_a_free_port_and_reports_it(emu):
    assert emu.port > 0 and emu.url == f"http://127.0.0.1:{emu.port}"
    assert requests.get(f"{emu.url}/_emulator/health", timeout=5).json() == {"status": "ok", "pid": os.getpid()}
    with pytest.raises(OSError):
        Emulator(EmulatorConfig(port=emu.port)).start()


def test_stop_closes_the_port_and_is_idempotent():
    emu = Emulator(EmulatorConfig(port=0, create_delay=0))
    with pytest.raises(RuntimeError):
        _ = emu.port
    emu.start()
    with pytest.raises(RuntimeError, match="already running"):
        emu.start()
    port = emu.port
    emu.stop()
    emu.stop()
    assert emu.port == port
    with pytest.raises(ConnectionRefusedError):
        socket.create_connection(("127.0.0.1", port), timeout=1)


def test_context_manager_starts_and_stops():
    with Emulator(EmulatorConfig(port=0)) as emu:
        url = emu.url
        assert requests.get(f"{url}/_emulator/health", timeout=5).status_code == 200
    with pytest.raises(requests.ConnectionError):
        requests.get(f"{url}/_emulator/health", timeout=5)


def test_banner_starts_with_the_readiness_line_and_lists_the_seed(emu):
    text = banner(emu)
    lines = text.splitlines()
    assert lines[0] == f"vbs emulator listening on http://127.0.0.1:{emu.port}"
    assert PROJECT in text and "demo-token" in text
    for volume in demo_seed().volumes:
        assert re.search(rf"^\s+{volume.id}\s+{re.escape(volume.status)}\b", text, re.M)
    for snapshot in demo_seed().snapshots:
        assert snapshot.id in text
    assert f"export VBS_ENDPOINT={emu.url} VBS_PROJECT_ID={PROJECT} VBS_TOKEN=demo-token" in text


def test_one_log_line_per_request(emu, api, log):
    api.create(name="logged")
    api.get("/backups")
    api.control("GET", "health")
    assert log.wait_for("/_emulator/health")
    lines = log.text.splitlines()
    assert len(lines) == 3
    matches = [LOG_LINE.match(line) for line in lines]
    assert all(matches), lines
    assert [(m.group(1), m.group(2), m.group(3)) for m in matches] == [
        ("POST", f"/v3/{PROJECT}/backups", "202"),
        ("GET", f"/v3/{PROJECT}/backups", "200"),
        ("GET", "/_emulator/health", "200"),
    ]


def test_no_log_stream_means_silence(start, capsys):
    api = Api(start(log=None))
    assert api.create().status_code == 202
    assert capsys.readouterr() == ("", "")


def test_stats_count_what_arrived(emu, api):
    api.create(name="one")
    api.create(name="auto-x")
    api.get("/backups")
    api.get("/backups/detail")
    stats = api.control("GET", "stats").json()
    assert stats == emu.stats()
    assert stats["requests"] == {"POST backups": 2, "GET backups": 1, "GET backups_detail": 1}
    assert stats["backups_created"] == 1 and stats["backups"] == 1 and stats["faults_fired"] == {}


def test_reset_stats_keeps_backups_and_reset_forgets_them(emu, api):
    api.create(name="kept")
    assert api.control("POST", "reset-stats").json()["requests"] == {}
    assert emu.stats()["backups_created"] == 0 and emu.stats()["backups"] == 1
    api.control("POST", "faults", {"throttle_rate": 1})
    assert api.control("POST", "reset").json()["backups"] == 0
    assert api.get("/backups").json() == {"backups": []}  # faults were cleared too
    assert api.control("POST", "nothing-here").status_code == 404


def test_concurrent_creates_of_one_disk_make_exactly_one_backup(start):
    emu = start(create_delay=60)
    barrier = threading.Barrier(8)
    statuses: list[int] = []

    def create() -> None:
        caller = Api(emu)
        barrier.wait()
        statuses.append(caller.create().status_code)
        caller.close()

    threads = [threading.Thread(target=create) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(statuses) == [202] + [400] * 7
    assert emu.stats()["backups_created"] == 1


def test_importing_the_emulator_loads_no_third_party_module():
    code = (
        "import sys, vbscli.emulator; "
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('requests', 'rich', 'typer', 'click', 'yaml')))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=30, check=True).stdout
    assert out.strip() == "[]"


SERVE = """
import sys
from vbscli.emulator import Emulator, EmulatorConfig, banner
emu = Emulator(EmulatorConfig(port=0, create_delay=0, log=sys.stderr))
sys.exit(emu.serve_forever_until_signal(on_ready=lambda: print(banner(emu), end="", flush=True)))
"""


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
def test_a_separate_process_is_scripted_over_http_and_stops_on_a_signal(signum):
    proc = subprocess.Popen([sys.executable, "-c", SERVE], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        first = proc.stdout.readline()
        url = re.fullmatch(r"vbs emulator listening on (http://127\.0\.0\.1:\d+)\n", first).group(1)

        def call(method: str, path: str, body: dict | None = None, token: bool = False) -> tuple[int, dict]:
            headers = {"Content-Type": "application/json", **({"X-Auth-Token": "demo-token"} if token else {})}
            data = json.dumps(body).encode() if body is not None else None
            request = urllib.request.Request(url + path, data=data, method=method, headers=headers)
            try:
                with urllib.request.urlopen(request, timeout=5) as response:
                    return response.status, json.loads(response.read())
            except urllib.error.HTTPError as exc:
                return exc.code, json.loads(exc.read())

        script = [{"match": "POST backups", "fault": "status", "status": 503, "times": 1}]
        assert call("POST", "/_emulator/faults", {"script": script})[0] == 200
        create = {"backup": {"volume_id": VOLUME, "snapshot_id": SNAPSHOT, "name": "remote"}}
        assert call("POST", f"/v3/{PROJECT}/backups", create, token=True)[0] == 503
        assert call("POST", f"/v3/{PROJECT}/backups", create, token=True)[0] == 202
        status, stats = call("GET", "/_emulator/stats")
        assert stats["backups_created"] == 1 and stats["faults_fired"] == {"status": 1}
    finally:
        proc.send_signal(signum)
        out, err = proc.communicate(timeout=10)
    assert proc.returncode == 0
    lines = err.splitlines()
    assert lines[-1] == "vbs emulator stopped"
    assert [line.split('"')[1] for line in lines[:-1]] == [
        "POST /_emulator/faults",
        f"POST /v3/{PROJECT}/backups",
        f"POST /v3/{PROJECT}/backups",
        "GET /_emulator/stats",
    ]
    assert "demo-token" not in err


def test_a_signal_right_after_the_banner_still_stops_cleanly():
    proc = subprocess.Popen([sys.executable, "-c", SERVE], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    assert proc.stdout.readline().startswith("vbs emulator listening on http://127.0.0.1:")
    proc.send_signal(signal.SIGTERM)
    out, err = proc.communicate(timeout=10)
    assert (proc.returncode, err) == (0, "vbs emulator stopped\n")

#!/usr/bin/env python3
"""Whole-process cost of `vbs`, beside a floor measured in the same run.

The floor is a plain Python script that imports requests and makes the same POST: the least any
Python client can do. Each case runs as a fresh process against a local emulator on 127.0.0.1, the
cases interleaved so that machine noise hits all of them alike; the median wall time, CPU time (user +
system: steadier than wall time on a busy machine) and peak resident memory of each are printed with
their ratio to the floor.

vbscli's modules are byte-compiled first, as `pip install` does for the libraries of the floor: an
editable install (or PYTHONDONTWRITEBYTECODE in the environment) would otherwise make every vbs run
compile its own sources, and the comparison would measure that instead of vbs.

    python benchmarks/startup.py [--runs 15]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

FLOOR = """\
import json, sys, requests
url, token, volume, snapshot = sys.argv[1:5]
body = {"backup": {"volume_id": volume, "snapshot_id": snapshot, "name": "bench"}}
r = requests.post(url, json=body, headers={"X-Auth-Token": token, "Accept": "application/json"},
                  timeout=(10, 60))
print(json.dumps(r.json(), indent=2))
"""

GOALS = {"create, JSON": 1.35, "create, table": 1.6}


def measure(argv: list[str], env: dict[str, str]) -> tuple[float, float, int]:
    """Wall seconds, CPU seconds and peak RSS (KiB) of one child process."""
    started = time.perf_counter()
    proc = subprocess.Popen(argv, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL)
    _, status, usage = os.wait4(proc.pid, 0)
    elapsed = time.perf_counter() - started
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"{' '.join(argv)} failed: {proc.stderr.read().decode() if proc.stderr else ''}")
    proc.stderr.close() if proc.stderr else None
    return elapsed, usage.ru_utime + usage.ru_stime, usage.ru_maxrss


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=15, help="runs of each case (default 15)")
    args = parser.parse_args()

    import compileall

    compileall.compile_dir(str(ROOT / "vbscli"), quiet=1)
    from vbscli.emulator import Emulator, EmulatorConfig, demo_seed

    vbs = str(Path(sys.executable).parent / "vbs")
    if not Path(vbs).exists():
        raise SystemExit("install the package first: pip install -e .")

    seed = demo_seed()
    volume = next(v for v in seed.volumes if v.status == "available" and not v.fail_backups)
    snapshot = next(s for s in seed.snapshots if s.volume_id == volume.id)
    with (
        Emulator(EmulatorConfig(port=0, seed=seed, create_delay=0.0, log=None)) as emu,
        tempfile.TemporaryDirectory() as tmp,
    ):
        config = Path(tmp) / "config.yaml"
        config.write_text(
            f"default: bench\nprofiles:\n  bench:\n    endpoint: {emu.url}\n"
            f"    project_id: {emu.project_id}\n    auth: {{type: token, token: {emu.token}}}\n"
            f"  cached:\n    endpoint: {emu.url}\n    project_id: {emu.project_id}\n"
            f"    auth: {{type: password, auth_url: {emu.url}/v3, username: demo, password: demo-password,"
            " domain: demo-domain}\n"
        )
        config.chmod(0o600)
        clouds = Path(tmp) / "clouds.yaml"  # a login whose endpoint comes from the (cached) service catalog
        clouds.write_text(
            f"clouds:\n  bench:\n    auth_type: v3applicationcredential\n    auth:\n      auth_url: {emu.url}/v3\n"
            f"      application_credential_id: {seed.application_credentials[0].id}\n"
            f"      application_credential_secret: {seed.application_credentials[0].secret}\n"
            "    region_name: RegionOne\n"
        )
        floor_script = Path(tmp) / "floor.py"
        floor_script.write_text(FLOOR)
        env = {k: v for k, v in os.environ.items() if not k.startswith("VBS_")}
        env.update(
            {
                "VBS_CONFIG": str(config),
                "NO_PROXY": "127.0.0.1",
                "XDG_CACHE_HOME": str(Path(tmp) / "cache"),  # logins cached by the warm-up run
                "OS_CLIENT_CONFIG_FILE": str(clouds),
            }
        )
        create = [vbs, "backup", "create", "--volume-id", volume.id, "--snapshot-id", snapshot.id]
        url = f"{emu.url}/v3/{emu.project_id}/backups"
        cases = {
            "python -c pass": [sys.executable, "-c", "pass"],
            "floor: requests POST": [sys.executable, str(floor_script), url, emu.token, volume.id, snapshot.id],
            "vbs --version": [vbs, "--version"],
            "create --dry-run": [*create, "--dry-run", "-o", "json"],
            "create, JSON": [*create, "-o", "json", "--name", "bench"],
            "create, table": [*create, "-o", "table", "--name", "bench"],
            "create, cached login": [*create, "-p", "cached", "-o", "json", "--name", "bench"],
            "create, catalog cached": [*create, "--os-cloud", "bench", "-o", "json", "--name", "bench"],
        }
        for argv in cases.values():  # warm the file cache
            measure(argv, env)
        times: dict[str, list[float]] = {name: [] for name in cases}
        cpus: dict[str, list[float]] = {name: [] for name in cases}
        peaks: dict[str, list[int]] = {name: [] for name in cases}
        for _ in range(args.runs):
            for name, argv in cases.items():
                wall, cpu, rss = measure(argv, env)
                times[name].append(wall)
                cpus[name].append(cpu)
                peaks[name].append(rss)
        created = emu.stats().get("backups_created")

    floor_t = statistics.median(times["floor: requests POST"])
    floor_c = statistics.median(cpus["floor: requests POST"])
    floor_m = statistics.median(peaks["floor: requests POST"])
    print(f"{args.runs} runs each, medians; floor = plain Python script importing requests making the same POST")
    header = f"{'case':24} {'wall ms':>8} {'x floor':>8} {'cpu ms':>7} {'x floor':>8} {'peak MiB':>9} {'x floor':>8}"
    print(f"{header}  goal")
    failed = False
    for name in cases:
        t = statistics.median(times[name])
        c = statistics.median(cpus[name])
        m = statistics.median(peaks[name])
        goal = GOALS.get(name)
        verdict = ""
        if goal:
            ok = t / floor_t <= goal
            failed |= not ok
            verdict = f"<= {goal}x {'met' if ok else 'MISSED'}"
        print(
            f"{name:24} {t * 1000:8.1f} {t / floor_t:8.2f} {c * 1000:7.1f} {c / floor_c:8.2f} "
            f"{m / 1024:9.1f} {m / floor_m:8.2f}  {verdict}"
        )
    print(f"backups created on the emulator: {created}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

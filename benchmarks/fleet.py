#!/usr/bin/env python3
"""A fleet run against the ideal, and against one `vbs` process per disk.

In one run, against an emulator (separate process) that adds 50 ms to every answer and is seeded
with a disk and a snapshot for each item:
- `vbs backup create --from FILE --parallel 16` with 1,000 items, one per disk;
- the ideal: items x latency / parallelism;
- 50 separate `vbs backup create` processes, one after another, scaled to 1,000.
Prints wall time, peak memory and both ratios; exits 1 unless every backup was made.

    python benchmarks/fleet.py [--items 1000] [--parallel 16] [--latency 0.05] [--singles 50]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.request import urlopen

from common import emulator_process, service_env

PROJECT = "0123456789abcdef0123456789abcdef"


def disk(n: int) -> tuple[str, str]:
    """(volume ID, snapshot ID) of the n-th disk of the seed."""
    return f"5c1a9f0e-2b3d-4e5f-8a9b-{n:012x}", f"9e3c7d21-6f4a-4b8c-9d0e-{n:012x}"


def seed_text(disks: int) -> str:
    """A seed file: `disks` disks with a snapshot each, so every item of the fleet file backs up a
    disk of its own (an item that repeats another's disk and snapshot is refused, as it should be)."""
    lines = [f'project_id: "{PROJECT}"', "tokens: [demo-token]", "volumes:"]
    lines += [f"  - {{id: {disk(n)[0]}, size: 10}}" for n in range(disks)]
    lines.append("snapshots:")
    lines += [f"  - {{id: {disk(n)[1]}, volume_id: {disk(n)[0]}}}" for n in range(disks)]
    return "\n".join(lines) + "\n"


def timed(argv: list[str], env: dict[str, str]) -> tuple[float, int, int]:
    """Wall seconds, peak RSS (KiB) and exit status of one process."""
    started = time.perf_counter()
    proc = subprocess.Popen(
        argv, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, stdin=subprocess.DEVNULL
    )
    _, status, usage = os.wait4(proc.pid, 0)
    return time.perf_counter() - started, usage.ru_maxrss, os.waitstatus_to_exitcode(status)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=1000)
    parser.add_argument("--parallel", type=int, default=16)
    parser.add_argument("--latency", type=float, default=0.05)
    parser.add_argument("--singles", type=int, default=50)
    args = parser.parse_args()
    vbs = str(Path(sys.executable).parent / "vbs")
    with tempfile.TemporaryDirectory() as tmp:
        seed = Path(tmp) / "seed.yaml"
        seed.write_text(seed_text(max(args.items, args.singles)))
        items = Path(tmp) / "fleet.jsonl"
        items.write_text(
            "".join(
                json.dumps({"volume_id": disk(n)[0], "snapshot_id": disk(n)[1], "name": f"fleet-{n}"}) + "\n"
                for n in range(args.items)
            )
        )
        emulator, url = emulator_process(
            vbs, "--seed", str(seed), "--latency", str(args.latency), "--create-delay", "0"
        )
        try:
            env = service_env(url, PROJECT, "demo-token", tmp)
            fleet = [vbs, "backup", "create", "--from", str(items), "--parallel", str(args.parallel)]
            fleet_s, fleet_kib, fleet_rc = timed(fleet, env)
            singles = []
            for n in range(args.singles):
                volume, snapshot = disk(n)
                single = [
                    vbs,
                    "backup",
                    "create",
                    "--volume-id",
                    volume,
                    "--snapshot-id",
                    snapshot,
                    "--name",
                    f"single-{n}",
                ]
                singles.append(timed(single, env))
            with urlopen(f"{url}/_emulator/stats", timeout=10) as answer:
                stats = json.loads(answer.read())
        finally:
            emulator.terminate()
            emulator.wait(10)
    ideal = args.items * args.latency / args.parallel
    single_total = sum(s[0] for s in singles) * args.items / args.singles
    print(f"{args.items} items, --parallel {args.parallel}, {args.latency * 1000:.0f} ms added per request")
    print(f"fleet run:             {fleet_s:8.2f} s  exit {fleet_rc}  peak {fleet_kib / 1024:.1f} MiB")
    print(f"ideal:                 {ideal:8.2f} s  -> fleet / ideal = {fleet_s / ideal:.2f}x (goal <= 1.3x)")
    print(
        f"{args.singles} single processes: {sum(s[0] for s in singles):8.2f} s, scaled to {args.items}: "
        f"{single_total:.1f} s  -> singles / fleet = {single_total / fleet_s:.1f}x;  "
        f"peak {max(s[1] for s in singles) / 1024:.1f} MiB each"
    )
    print(f"backups the emulator created: {stats.get('backups_created')} (expected {args.items + args.singles})")
    return 0 if fleet_rc == 0 and stats.get("backups_created") == args.items + args.singles else 1


if __name__ == "__main__":
    sys.exit(main())

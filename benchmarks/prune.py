#!/usr/bin/env python3
"""Prune at scale against the ideal: listing and plan against pages x latency, deletions against
deletions x latency / parallel.

In one run, against an emulator on 127.0.0.1 that adds 50 ms to every answer and holds 10,000
backups on 1,000 disks (10 nights each):
- `vbs backup prune --all --keep-last 3 --plan`: reads every backup page by page and plans; its wall
  time (process start included) is compared with (pages read) x latency. It deletes nothing, so it
  is run `--runs` times and the best run counts (the others show how noisy the machine is);
- a bare client (http.client on one kept-alive connection, no vbs) reading the same pages the same
  way, best of `--runs`: what this machine and this emulator allow at best;
- `vbs backup prune --all --keep-last 3 --yes --parallel 16`: the deletions, from the first DELETE
  the emulator received to the last answer, are compared with deletions x latency / parallel.
Prints both ratios (goal: at most 1.3x each) and the start-up time measured in the same run.

    python benchmarks/prune.py [--disks 1000] [--nights 10] [--keep 3] [--parallel 16] [--latency 0.05] [--runs 3]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import threading
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from common import bare_client, service_env  # noqa: E402 - beside this script


class DeleteClock:
    """The emulator's request log, reduced to when DELETE answers went out."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.first: float | None = None
        self.last: float | None = None
        self.count = 0

    def write(self, line: str) -> int:
        if '"DELETE ' in line:
            now = time.monotonic()
            elapsed = float(line.rsplit(" ", 1)[-1].split("ms")[0]) / 1000  # the answer's own duration
            with self.lock:
                started = now - elapsed
                self.first = started if self.first is None else min(self.first, started)
                self.last = now if self.last is None else max(self.last, now)
                self.count += 1
        return len(line)

    def flush(self) -> None:
        pass


def timed(argv: list[str], env: dict[str, str]) -> tuple[float, int, str]:
    started = time.perf_counter()
    proc = subprocess.run(argv, env=env, capture_output=True, text=True, stdin=subprocess.DEVNULL, timeout=3600)
    return time.perf_counter() - started, proc.returncode, proc.stderr.strip()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--disks", type=int, default=1000)
    parser.add_argument("--nights", type=int, default=10)
    parser.add_argument("--keep", type=int, default=3)
    parser.add_argument("--parallel", type=int, default=16)
    parser.add_argument("--latency", type=float, default=0.05)
    parser.add_argument("--runs", type=int, default=3, help="runs of the read-only parts; the best counts")
    parser.add_argument("--no-deletions", action="store_true", help="measure only the listing and the plan")
    args = parser.parse_args()

    from vbscli.emulator import Emulator, EmulatorConfig, demo_seed

    vbs = str(Path(sys.executable).parent / "vbs")
    log = DeleteClock()
    emulator = Emulator(EmulatorConfig(port=0, seed=demo_seed(), create_delay=0, latency=args.latency, log=log))
    last_night = datetime.now(timezone.utc).replace(hour=2, minute=30, second=0, microsecond=0)
    for night in range(args.nights, 0, -1):  # night by night, as the history accumulates
        for disk in range(args.disks):
            when = last_night - timedelta(days=night) + timedelta(seconds=disk)
            emulator.store.add_backup(f"7d2b1c3e-4f5a-4b6c-8d7e-{disk:012d}", when, name=f"nightly-{when:%Y%m%d}")
    total = args.disks * args.nights
    with emulator, tempfile.TemporaryDirectory() as tmp:
        env = service_env(emulator.url, emulator.project_id, emulator.token, tmp)
        startup, _, _ = timed([vbs, "backup", "prune", "--help"], env)
        policy = ["--all", "--keep-last", str(args.keep)]
        plans = [timed([vbs, "backup", "prune", *policy, "--plan"], env) for _ in range(args.runs)]
        requests = emulator.stats()["requests"]
        pages = (requests.get("GET backups_detail", 0) + requests.get("GET snapshots_detail", 0)) // args.runs
        plan_s, plan_rc, plan_err = min(plans)
        bare_argv = bare_client(emulator.url, emulator.project_id, emulator.token, "snapshots/detail")
        bare_s = min(timed(bare_argv, env)[0] for _ in range(args.runs))
        emulator.reset_stats()
        if args.no_deletions:
            print_plan(args, total, startup, plans, pages, bare_s)
            return 1 if any(run[1] for run in plans) else 0
        run_s, run_rc, run_err = timed(
            [vbs, "backup", "prune", *policy, "--yes", "--parallel", str(args.parallel), "-o", "json"], env
        )
        stats = emulator.stats()
        deletions = stats["requests"].get("DELETE backup", 0)
        left = stats["backups"]
    delete_ideal = deletions * args.latency / args.parallel
    delete_s = (log.last or 0.0) - (log.first or 0.0)
    print_plan(args, total, startup, plans, pages, bare_s)
    print(
        f"deletions:                          {delete_s:6.2f} s  ({deletions} deletions, --parallel {args.parallel}); "
        f"ideal {delete_ideal:.2f} s  -> ratio {delete_s / delete_ideal:.2f}x (goal <= 1.3x)"
    )
    summary = run_err.splitlines()[-1] if run_err else ""
    print(f"whole prune run:                    {run_s:6.2f} s  exit {run_rc}; {summary}")
    expected_left = args.disks * min(args.keep, args.nights)
    print(f"backups left: {left} (expected {expected_left})")
    if any(run[1] for run in plans) or run_rc or left != expected_left:
        print(json.dumps({"plan_stderr": plan_err[-2000:], "run_stderr": run_err[-2000:]}, indent=2))
        return 1
    return 0


def print_plan(
    args: argparse.Namespace,
    total: int,
    startup: float,
    plans: list[tuple[float, int, str]],
    pages: int,
    bare_s: float,
) -> None:
    plan_s, plan_rc, _ = min(plans)
    list_ideal = pages * args.latency
    print(f"{total} backups on {args.disks} disks, --keep-last {args.keep}, {args.latency * 1000:.0f} ms per request")
    print(f"start-up (vbs backup prune --help): {startup:6.2f} s")
    print(
        f"listing + plan (--plan):            {plan_s:6.2f} s  exit {plan_rc}; {pages} pages x latency = "
        f"{list_ideal:.2f} s  -> ratio {plan_s / list_ideal:.2f}x (goal <= 1.3x); "
        f"without start-up {(plan_s - startup) / list_ideal:.2f}x"
    )
    print(f"  every run: {', '.join(f'{run[0]:.2f} s' for run in plans)} (the best counts)")
    print(
        f"bare client, same pages:            {bare_s:6.2f} s  -> ratio {bare_s / list_ideal:.2f}x; "
        f"vbs --plan / bare client {plan_s / bare_s:.2f}x"
    )


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/env python3
"""What one TAB press costs: the shipped static script against running the program on every TAB.

Measured in one run, each as a ratio to `python3 -c pass` (the least any Python-based completion
can cost):
- static: bash runs the shipped completion function (commands, options, choices), also past a
  `-p NAME` or `--os-cloud NAME` already typed (which must not start Python);
- profiles, clouds: the lean `vbs __complete-profiles` and `vbs __complete-clouds` paths (they read the
  user's files, so they start Python; only when a profile or cloud name is being completed);
- dynamic: typer's default, which starts `vbs` with _VBS_COMPLETE=complete_bash on every TAB.

    python benchmarks/completion.py [--runs 20]
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
DYNAMIC = (
    "import sys; from typer._completion_classes import completion_init; completion_init(); "
    "sys.argv[0] = 'vbs'; from vbscli.__main__ import main; main()"
)


def wall(argv: list[str], env: dict[str, str]) -> float:
    started = time.perf_counter()
    subprocess.run(argv, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
    return time.perf_counter() - started


def static_tab_seconds(runs: int, words: str = "vbs backup create --out", env: dict[str, str] | None = None) -> float:
    """Seconds per completion inside one bash, timed with bash's own clock over many TAB presses."""
    count = len(words.split())
    script = f"""
source {ROOT / "completions" / "vbs.bash"}
COMP_WORDS=({words}); COMP_CWORD={count - 1}
start=$EPOCHREALTIME
for ((n = 0; n < {runs * 50}; n++)); do _vbs_complete; done
end=$EPOCHREALTIME
echo "$start $end"
"""
    out = subprocess.run(
        ["bash", "--norc", "--noprofile", "-c", script], capture_output=True, text=True, check=True, env=env
    ).stdout.split()
    return (float(out[1]) - float(out[0])) / (runs * 50)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=20)
    args = parser.parse_args()
    vbs = str(Path(sys.executable).parent / "vbs")
    # An installed package has bytecode (pip compiles it); make sure a source checkout has it too.
    subprocess.run([sys.executable, "-m", "compileall", "-q", str(ROOT / "vbscli")], check=True)
    with tempfile.TemporaryDirectory() as tmp:
        config = Path(tmp) / "config.yaml"
        config.write_text("profiles:\n  prod: {endpoint: 'https://e.example', project_id: p, auth: {token_env: T}}\n")
        clouds = Path(tmp) / "clouds.yaml"
        clouds.write_text("clouds:\n  mycloud: {auth: {auth_url: 'https://k.example/v3'}}\n")
        env = {**os.environ, "VBS_CONFIG": str(config), "OS_CLIENT_CONFIG_FILE": str(clouds)}
        dynamic_env = {
            **env,
            "_VBS_COMPLETE": "complete_bash",
            "COMP_WORDS": "vbs backup create --out",
            "COMP_CWORD": "3",
        }
        cases = {
            "python3 -c pass": ([sys.executable, "-c", "pass"], env),
            "profiles (lean path)": ([vbs, "__complete-profiles"], env),
            "clouds (lean path)": ([vbs, "__complete-clouds"], env),
            # typer's own scheme, switched on for this measurement: the program runs on every TAB.
            "dynamic (typer, per TAB)": ([sys.executable, "-c", DYNAMIC], dynamic_env),
        }
        for argv, e in cases.values():
            wall(argv, e)
        times = {name: [wall(argv, e) for _ in range(args.runs)] for name, (argv, e) in cases.items()}
        medians = {name: statistics.median(t) for name, t in times.items()}
        medians["static (bash function)"] = static_tab_seconds(args.runs)
        medians["static, past -p/--os-cloud"] = static_tab_seconds(
            args.runs, "vbs -p prod --os-cloud mycloud backup create --out", env
        )
    floor = medians["python3 -c pass"]
    print(f"one TAB press, median of {args.runs}; ratio to python3 -c pass")
    order = ("static (bash function)", "static, past -p/--os-cloud", "python3 -c pass", "profiles (lean path)")
    for name in (*order, "clouds (lean path)", "dynamic (typer, per TAB)"):
        print(f"{name:28} {medians[name] * 1000:8.2f} ms {medians[name] / floor:8.2f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())

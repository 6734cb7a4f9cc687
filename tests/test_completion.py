"""The shipped completion scripts, loaded in real bash, zsh and fish, driven non-interactively."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.helpers import run_vbs

ROOT = Path(__file__).resolve().parent.parent
SCRIPTS = {
    "bash": ROOT / "completions" / "vbs.bash",
    "zsh": ROOT / "completions" / "_vbs",
    "fish": ROOT / "completions" / "vbs.fish",
}

CASES = [
    (["vbs", "ba"], ["backup"]),
    (["vbs", "backup", "cr"], ["create"]),
    (["vbs", "backup", "create", "--out"], ["--output"]),
    (["vbs", "-o", ""], ["json", "table"]),
    (["vbs", "--profile", ""], ["lab", "prod"]),
    (["vbs", "profile", "show", ""], ["lab", "prod"]),
    (["vbs", "-p", "prod", "backup", ""], ["create", "delete", "list", "prune", "restore", "show"]),
    (["vbs", "backup", "list", "--status", "err"], ["error", "error_restoring"]),
    (["vbs", "completion", ""], ["bash", "fish", "zsh"]),
]


def shell(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        if os.environ.get("CI"):
            pytest.fail(f"{name} is not installed (.ci/run installs it)")
        pytest.skip(f"{name} is not installed")
    return path


def quoted(words: list[str]) -> str:
    return " ".join("''" if w == "" else w for w in words)


def complete_bash(words: list[str]) -> list[str]:
    script = f"""
source {SCRIPTS["bash"]}
COMP_WORDS=({quoted(words)}); COMP_CWORD={len(words) - 1}
_vbs_complete
printf '%s\\n' "${{COMPREPLY[@]}}"
"""
    return _run([shell("bash"), "--norc", "--noprofile", "-c", script])


def complete_zsh(words: list[str]) -> list[str]:
    # A harness in real zsh: compadd is replaced by a function that prints what zsh would offer
    # (candidates matching the word being completed), and _vbs runs with words/CURRENT as zsh sets them.
    script = f"""
compdef() {{ : }}
compset() {{ : }}
compadd() {{
    [[ $1 == -- ]] && shift
    local c
    for c in "$@"; do [[ $c == ${{cur#*=}}* ]] && print -r -- $c; done
    return 0
}}
source {SCRIPTS["zsh"]}
words=({quoted(words)}); CURRENT={len(words)}
_vbs
"""
    return _run([shell("zsh"), "-f", "-c", script])


def complete_fish(words: list[str]) -> list[str]:
    line = " ".join(words)
    script = f"source {SCRIPTS['fish']}; complete -C '{line}'"
    return [c.split("\t")[0] for c in _run([shell("fish"), "--no-config", "-c", script])]


def _run(argv: list[str]) -> list[str]:
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"}
    proc = subprocess.run(argv, capture_output=True, text=True, env=env, timeout=30, stdin=subprocess.DEVNULL)
    assert proc.returncode == 0, proc.stderr
    return sorted(line for line in proc.stdout.splitlines() if line)


@pytest.mark.parametrize("complete", [complete_bash, complete_zsh, complete_fish], ids=["bash", "zsh", "fish"])
def test_completions_in_real_shells(prod_profile, complete):
    for words, expected in CASES:
        assert complete(words) == expected, words


def test_completion_command_prints_the_shipped_scripts():
    for name, path in SCRIPTS.items():
        run = run_vbs("completion", name)
        assert run.exit_code == 0
        assert run.stdout == path.read_text()


def test_profile_names_path_imports_no_heavy_modules(prod_profile):
    proc = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "vbscli", "__complete-profiles"],
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    assert proc.returncode == 0
    assert proc.stdout == "lab\nprod\n"
    imported = {line.split("|")[-1].strip() for line in proc.stderr.splitlines() if "|" in line}
    for heavy in ("typer", "rich", "requests", "urllib3"):
        assert heavy not in imported, f"{heavy} imported on the completion path"


def test_profile_names_path_is_silent_on_a_broken_file(profiles):
    profiles.write("profiles: [unclosed\n")
    run = run_vbs("__complete-profiles")
    assert (run.exit_code, run.stdout, run.stderr) == (0, "", "")

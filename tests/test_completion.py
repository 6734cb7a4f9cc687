"""The shipped completion scripts, loaded in real bash, zsh and fish, driven non-interactively."""

from __future__ import annotations

import os
import re
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
    (["vbs", "-o", ""], ["json", "table", "value"]),
    (["vbs", "--profile", ""], ["lab", "prod"]),
    (["vbs", "profile", "show", ""], ["lab", "prod"]),
    (["vbs", "-p", "prod", "backup", ""], ["create", "delete", "list", "prune", "report", "restore", "show"]),
    (["vbs", "backup", "list", "--status", "err"], ["error", "error_restoring"]),
    (["vbs", "completion", ""], ["bash", "fish", "zsh"]),
    (["vbs", "emulator", ""], ["start", "status", "stop"]),
]

FILE_CASES = [
    (["vbs", "backup", "create", "--from", "fl"], ["fleet.yaml"]),
    (["vbs", "emulator", "start", "--seed", "se"], ["seed.yaml"]),
    (["vbs", "emulator", "start", "--faults", "s"], ["seed.yaml", "sub/"]),
    (["vbs", "--ca-bundle", "c"], ["ca.pem"]),
    (["vbs", "emulator", "stop", "--pid-file", "sub/"], ["sub/emulator.pid"]),
    (["vbs", "emulator", "start", "--log-file", "sub/"], ["sub/emulator.pid"]),
    (["vbs", "backup", "prune", "--backups", "fl"], ["fleet.yaml"]),
    (["vbs", "backup", "report", "--prometheus", "c"], ["ca.pem"]),
]
"""Options that take a file complete file names (in a directory holding the files named here)."""


def shell(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        if os.environ.get("CI"):
            pytest.fail(f"{name} is not installed (.ci/run installs it)")
        pytest.skip(f"{name} is not installed")
    return path


def quoted(words: list[str]) -> str:
    return " ".join("''" if w == "" else w for w in words)


def complete_bash(words: list[str], cwd: Path | None = None, path: str | None = None) -> list[str]:
    script = f"""
source {SCRIPTS["bash"]}
COMP_WORDS=({quoted(words)}); COMP_CWORD={len(words) - 1}
_vbs_complete
printf '%s\\n' "${{COMPREPLY[@]}}"
"""
    return _run([shell("bash"), "--norc", "--noprofile", "-c", script], cwd, path)


def complete_zsh(words: list[str], cwd: Path | None = None, path: str | None = None) -> list[str]:
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
    return _run([shell("zsh"), "-f", "-c", script], cwd, path)


def complete_fish(words: list[str], cwd: Path | None = None, path: str | None = None) -> list[str]:
    line = " ".join(words)
    script = f"source {SCRIPTS['fish']}; complete -C '{line}'"
    return [c.split("\t")[0] for c in _run([shell("fish"), "--no-config", "-c", script], cwd, path)]


def _run(argv: list[str], cwd: Path | None = None, path: str | None = None) -> list[str]:
    env = {**os.environ, "PATH": path or f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"}
    proc = subprocess.run(argv, capture_output=True, text=True, env=env, timeout=30, stdin=subprocess.DEVNULL, cwd=cwd)
    assert proc.returncode == 0, proc.stderr
    return sorted(line for line in proc.stdout.splitlines() if line)


@pytest.fixture
def files(tmp_path: Path) -> Path:
    for name in ("fleet.yaml", "seed.yaml", "ca.pem", "sub/emulator.pid"):
        (tmp_path / name).parent.mkdir(exist_ok=True)
        (tmp_path / name).touch()
    return tmp_path


@pytest.mark.parametrize("complete", [complete_bash, complete_fish], ids=["bash", "fish"])
def test_file_options_complete_file_names(files, complete):
    for words, expected in FILE_CASES:
        # bash adds the "/" of a directory when it displays it (compopt -o filenames), fish in the candidate
        assert [c.rstrip("/") for c in complete(words, files)] == [e.rstrip("/") for e in expected], words
    # --from=FILE, in one word
    found = complete(["vbs", "backup", "create", "--from=fl"], files)
    assert found in (["fleet.yaml"], ["--from=fleet.yaml"]), found


def test_file_options_complete_file_names_in_interactive_zsh(files):
    """zsh completes file names with its own _files, which only runs inside a real completion widget:
    an interactive zsh on a terminal, with TAB pressed after the command line."""
    for words, expected in [*FILE_CASES, (["vbs", "backup", "create", "--from=fl"], ["--from=fleet.yaml"])]:
        line, screen = _zsh_tab(" ".join(words), files)
        if len(expected) == 1:  # the one candidate is inserted into the command line
            assert line == " ".join([*words[:-1], expected[0]]), (words, line, screen)
        else:  # the candidates are listed below it
            assert line == " ".join(words) and all(c in screen for c in expected), (words, screen)


def _zsh_tab(typed: str, cwd: Path, timeout: float = 20) -> tuple[str, str]:
    """Type `typed` and TAB in an interactive zsh (completion system loaded, the shipped script
    sourced) on a pseudo-terminal. Returns the command line after the TAB and the whole screen.

    To read the command line back, it is turned into `echo LINEX:<the line>` (Ctrl-A, then typing)
    and run: keys are handled in order, so its output comes after the completion has finished.
    """
    import pty
    import select
    import time

    zsh = shell("zsh")
    pid, fd = pty.fork()
    if pid == 0:
        os.chdir(cwd)
        os.execve(zsh, [zsh, "-f", "-i"], {**os.environ, "TERM": "dumb", "PS1": "%% "})
    seen = b""

    def until(token: bytes) -> None:
        nonlocal seen
        deadline = time.monotonic() + timeout
        while token not in seen:
            left = deadline - time.monotonic()
            assert left > 0 and select.select([fd], [], [], left)[0], f"no {token!r} in {seen!r}"
            seen += os.read(fd, 4096)

    try:
        setup = f"autoload -Uz compinit && compinit -u -D && source {SCRIPTS['zsh']} && echo READ''Y\n"
        os.write(fd, setup.encode())
        until(b"READY\r\n")
        until(b"% ")
        seen = b""
        os.write(fd, typed.encode() + b"\t\x01echo LINE''X:\n")
        until(b"LINEX:")
        until(b"\r\n")
        screen = seen.decode(errors="replace")
        return screen.rsplit("LINEX:", 1)[1].split("\r\n", 1)[0].strip(), screen
    finally:
        os.kill(pid, 9)
        os.waitpid(pid, 0)


@pytest.mark.parametrize("complete", [complete_bash, complete_zsh, complete_fish], ids=["bash", "zsh", "fish"])
def test_completions_in_real_shells(prod_profile, complete):
    for words, expected in CASES:
        assert complete(words) == expected, words


def test_completion_command_prints_the_shipped_scripts():
    for name, path in SCRIPTS.items():
        run = run_vbs("completion", name)
        assert run.exit_code == 0
        assert run.stdout == path.read_text()


def lean_path(command: str, cwd: Path) -> tuple[str, set[str]]:
    """What `vbs <command>` prints, and the modules it imports (python -X importtime)."""
    proc = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "vbscli", command], capture_output=True, text=True, cwd=cwd
    )
    assert proc.returncode == 0, proc.stderr
    imported = {line.split("|")[-1].strip() for line in proc.stderr.splitlines() if "|" in line}
    for heavy in ("typer", "rich", "requests", "urllib3", "vbscli.errors", "vbscli.clouds", "vbscli.config"):
        assert heavy not in imported, f"{heavy} imported on the completion path"
    assert {name for name in imported if name.startswith("vbscli")} <= {"vbscli", "vbscli.exit_codes", "vbscli.paths"}
    return proc.stdout, imported


def test_profile_names_path_imports_no_heavy_modules(prod_profile):
    assert lean_path("__complete-profiles", ROOT)[0] == "lab\nprod\n"


def test_profile_names_path_is_silent_on_a_broken_file(profiles):
    profiles.write("profiles: [unclosed\n")
    run = run_vbs("__complete-profiles")
    assert (run.exit_code, run.stdout, run.stderr) == (0, "", "")


CLOUD_CASES = [
    (["vbs", "--os-cloud", ""], ["appcred", "mycloud", "mycloud-cron"]),
    (["vbs", "backup", "list", "--os-cloud", "myc"], ["mycloud", "mycloud-cron"]),
    (["vbs", "profile", "add", "x", "--os-cloud", "a"], ["appcred"]),
]


@pytest.fixture
def clouds_yaml(isolated_env: Path) -> Path:
    """clouds.yaml where vbs looks for it (~/.config/openstack), and a cloud only secure.yaml names."""
    folder = isolated_env / ".config" / "openstack"
    folder.mkdir(parents=True)
    (folder / "clouds.yaml").write_text(
        "clouds:\n  mycloud: {auth: {auth_url: 'https://k.example/v3'}}\n  mycloud-cron: {auth_type: token}\n"
    )
    (folder / "secure.yaml").write_text("clouds:\n  appcred: {auth: {application_credential_secret: s}}\n")
    return folder


@pytest.mark.parametrize("complete", [complete_bash, complete_zsh, complete_fish], ids=["bash", "zsh", "fish"])
def test_os_cloud_completes_the_clouds_of_clouds_yaml(clouds_yaml, tmp_path, complete):
    for words, expected in CLOUD_CASES:
        assert complete(words, tmp_path) == expected, words
    found = complete(["vbs", "--os-cloud=myc"], tmp_path)  # in one word
    assert found in (["mycloud", "mycloud-cron"], ["--os-cloud=mycloud", "--os-cloud=mycloud-cron"]), found
    (tmp_path / "clouds.yaml").write_text("clouds: {here: {}}\n")  # the current directory's comes first
    assert complete(["vbs", "--os-cloud", ""], tmp_path) == ["appcred", "here"]


def test_cloud_names_path_finds_what_vbs_finds(clouds_yaml, tmp_path):
    """The lean path and the full clouds.yaml reader (what `--os-cloud NAME` uses) agree."""
    from vbscli import clouds

    for cwd in (tmp_path, clouds_yaml):
        run = subprocess.run(
            [sys.executable, "-m", "vbscli", "__complete-clouds"], capture_output=True, text=True, cwd=cwd
        )
        assert run.stdout.splitlines() == clouds.names(dict(os.environ), str(cwd))
    broken = subprocess.run(
        [sys.executable, "-m", "vbscli", "__complete-clouds"],
        capture_output=True,
        text=True,
        env={**os.environ, "OS_CLIENT_CONFIG_FILE": str(tmp_path / "missing.yaml")},
    )
    assert (broken.returncode, broken.stderr) == (0, "")


def test_cloud_names_path_imports_no_heavy_modules(clouds_yaml):
    assert lean_path("__complete-clouds", clouds_yaml)[0] == "appcred\nmycloud\nmycloud-cron\n"


@pytest.mark.parametrize("complete", [complete_bash, complete_zsh, complete_fish], ids=["bash", "zsh", "fish"])
def test_a_tab_starts_vbs_only_to_read_the_names_it_offers(prod_profile, clouds_yaml, tmp_path, complete):
    """Past `-p prod` or `--os-cloud x`, a TAB completes from the script alone; vbs runs (to read the
    user's files) only when the word being completed is a profile or cloud name."""
    calls = tmp_path / "calls"
    fake = tmp_path / "bin" / "vbs"
    fake.parent.mkdir()
    fake.write_text(f'#!/bin/sh\necho "$@" >> {calls}\necho named\n')
    fake.chmod(0o755)
    path = f"{fake.parent}{os.pathsep}{os.environ['PATH']}"
    assert complete(["vbs", "-p", "prod", "--os-cloud", "x", "backup", "li"], tmp_path, path) == ["list"]
    assert complete(["vbs", "--os-cloud", "x", "backup", "list", "--st"], tmp_path, path) == ["--status"]
    assert not calls.exists()
    assert complete(["vbs", "-p", "prod", "--os-cloud", ""], tmp_path, path) == ["named"]
    assert calls.read_text() == "__complete-clouds\n"


def test_every_option_that_takes_a_file_completes_file_names():
    """Read from the help (not from the generator): an option shown as `--x FILE` in any command's help
    is completed with file names in every shipped script, so an option added later is covered too."""
    from tests.test_help import plain_pages

    scripts = {name: path.read_text() for name, path in SCRIPTS.items()}
    found = 0
    for path, text in plain_pages().items():
        for option in re.findall(r"^\s+(?:-\w, )?(--[a-z-]+) FILE\b", text, re.M):
            found += 1
            where = " ".join(["vbs", *path])
            assert f'"{where}|{option}") _vbs_r="@files"' in scripts["bash"], (where, option)
            assert f'"{where}|{option}") _vbs_r="@files"' in scripts["zsh"], (where, option)
            assert f"case '{where}|{option}'\n            printf '%s\\n' '@files'" in scripts["fish"], (where, option)
    assert found >= 25  # --ca-bundle on every command that connects, and the commands' own file options

"""Help for a newcomer: commands in the order they are needed, values named in words, nothing cut, and
`vbs` or a group alone printing help."""

from __future__ import annotations

import os
import pty
import re

import pytest

from tests.helpers import run_vbs, vbs_binary

ORDER = ["backup", "profile", "completion", "emulator"]


def command_paths() -> list[tuple[str, ...]]:
    """Every command and group of the installed vbs, read from its help."""
    paths: list[tuple[str, ...]] = []

    def walk(path: tuple[str, ...]) -> None:
        paths.append(path)
        text = run_vbs(*path, "--help").stdout
        if "\nCommands:\n" in text:
            for line in text.split("\nCommands:\n", 1)[1].splitlines():
                if re.match(r"^  \S", line):
                    walk((*path, line.split()[0]))

    walk(())
    return paths


def test_commands_are_listed_in_the_order_a_user_needs_them():
    text = run_vbs("--help").stdout
    listed = [line.split()[0] for line in text.split("\nCommands:\n", 1)[1].splitlines() if re.match(r"^  \S", line)]
    assert listed == ORDER


def test_commands_are_listed_in_that_order_on_a_terminal_too():
    pid, fd = pty.fork()
    if pid == 0:
        os.execve(vbs_binary(), ["vbs", "--help"], {**os.environ, "COLUMNS": "100", "TERM": "xterm", "NO_COLOR": "1"})
    screen = b""
    while True:
        try:
            chunk = os.read(fd, 65536)
        except OSError:
            break
        if not chunk:
            break
        screen += chunk
    os.waitpid(pid, 0)
    panel = re.sub(r"\x1b\[[0-9;]*m", "", screen.decode()).split("Commands", 1)[1]
    found = [name for name in re.findall(r"│ (\w+) ", panel) if name in ORDER]
    assert found == ORDER


def test_every_help_page_names_values_in_words_and_cuts_nothing():
    pages = {path: run_vbs(*path, "--help") for path in command_paths()}
    assert len(pages) >= 12
    for path, run in pages.items():
        assert run.exit_code == 0 and run.stderr == "", path
        text = run.stdout
        for unreadable in (r"<[a-z |_]+>", r"\{\w+\}", r"\bx[<>]=", r"\d\.0[;\]]", "…", r"[a-z]\.\.\.$"):
            assert not re.search(unreadable, text, re.M), (path, unreadable, text)
        assert all(len(line) <= 80 or " " not in line.strip() for line in text.splitlines()), path
    assert "Usage: vbs completion [OPTIONS] SHELL\n" in pages[("completion",)].stdout
    create = " ".join(pages[("backup", "create")].stdout.split())
    assert re.search(r"--wait-timeout SECONDS [^\[]*\[(default: 3600; )?at least 1\]", create), create
    assert re.search(r"--parallel N [^\[]*\[1 to 64\]", create), create
    assert "--port PORT" in pages[("emulator", "start")].stdout


def test_without_a_terminal_no_sentence_or_url_is_cut():
    text = run_vbs("--help").stdout
    assert re.search(r"https://evs\.eu-de\.otc\.t-systems\.com\b", text)  # whole, on one line
    commands = " ".join(text.split("\nCommands:\n", 1)[1].split())
    assert "completion Print the shell completion script (see the README for where to install it)" in commands
    assert "emulator Run a local VBS emulator (for trying vbs and testing scripts without a cloud)" in commands


@pytest.mark.parametrize("group", [(), ("backup",), ("profile",), ("emulator",)])
def test_vbs_or_a_group_alone_prints_its_help_on_stdout_and_succeeds(group):
    run = run_vbs(*group)
    assert (run.exit_code, run.stderr) == (0, "")
    assert run.stdout.startswith(f"Usage: {' '.join(['vbs', *group])} [OPTIONS] COMMAND [ARGS]...\n")
    assert run.stdout == run_vbs(*group, "--help").stdout

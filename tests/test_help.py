"""Help for a newcomer: commands in the order they are needed, values named in words, nothing cut, and
`vbs` or a group alone printing help."""

from __future__ import annotations

import functools
import os
import pty
import re
import sys

import pytest

from tests.helpers import run_vbs, vbs_binary

ORDER = ["backup", "profile", "completion", "emulator"]


@functools.lru_cache(maxsize=1)
def plain_pages() -> dict[tuple[str, ...], str]:
    """Every page of help as printed without a terminal, by command path."""
    return {path: run_vbs(*path, "--help").stdout for path in command_paths()}


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


def screen_of(pid: int, fd: int) -> str:
    """All that a process started with pty.fork() showed on its terminal, once it has ended."""
    screen = b""
    while True:
        try:
            chunk = os.read(fd, 65536)
        except OSError:  # the program ended and closed the terminal
            break
        if not chunk:
            break
        screen += chunk
    os.waitpid(pid, 0)
    return re.sub(r"\x1b\[[0-9;?]*[a-zA-Z]", "", screen.decode()).replace("\r\n", "\n")


def test_commands_are_listed_in_that_order_on_a_terminal_too():
    pid, fd = pty.fork()
    if pid == 0:
        os.execve(vbs_binary(), ["vbs", "--help"], {**os.environ, "COLUMNS": "100", "TERM": "xterm", "NO_COLOR": "1"})
    panel = screen_of(pid, fd).split("Commands", 1)[1]
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


PAGES = """
import sys
from vbscli.__main__ import run
for line in sys.stdin.read().splitlines():
    print("=== " + line, flush=True)
    try:
        run([*line.split(), "--help"])
    except SystemExit:
        pass
    sys.stdout.flush()
"""


def terminal_help(paths: list[tuple[str, ...]], columns: int) -> dict[tuple[str, ...], str]:
    """Each page of help as a terminal of `columns` shows it (one process on a pseudo-terminal)."""
    read_end, write_end = os.pipe()
    os.write(write_end, "".join(" ".join(p) + "\n" for p in paths).encode())
    os.close(write_end)
    pid, fd = pty.fork()
    if pid == 0:
        os.dup2(read_end, 0)
        env = {**os.environ, "COLUMNS": str(columns), "LINES": "50", "TERM": "xterm", "NO_COLOR": "1"}
        os.execve(sys.executable, [sys.executable, "-c", PAGES], env)
    os.close(read_end)
    pages = screen_of(pid, fd).split("=== ")[1:]
    return {tuple(page.split("\n", 1)[0].split()): page.split("\n", 1)[1] for page in pages}


@pytest.mark.parametrize("columns", [60, 80, 100, 160])
def test_on_a_terminal_no_option_value_or_url_is_cut(columns):
    """Panels on a wide terminal, plain text on a narrow one: no page is wider than the terminal, and
    every option, metavar and the example URL is there whole (never `--application-credential-na…`)."""
    paths = list(plain_pages())
    pages = terminal_help(paths, columns)
    assert set(pages) == set(paths)
    for path, text in pages.items():
        assert "…" not in text, (columns, path, text)
        assert all(len(line) <= columns for line in text.splitlines()), (columns, path, text)
        words = set(re.findall(r"[^\s│,]+", text))
        for line in plain_pages()[path].splitlines():  # the plain page names every option
            if not re.match(r"  (-|\[?[A-Z_.]+\]?(\s|$))", line):  # an option's or an argument's line
                continue
            for token in re.findall(r"(?<![\w-])--[a-z][a-z-]+|\b[A-Z][A-Z_]{2,}\b", line.strip().split("  ")[0]):
                assert token in words, (columns, path, token)
    assert "https://evs.eu-de.otc.t-systems.com" in pages[()]
    assert ("╭" in pages[()]) == (columns >= 100)  # panels only where they fit

"""Run vbs the ways users do (in-process with CliRunner, or the installed binary) and check outputs."""

from __future__ import annotations

import fcntl
import json
import os
import pty
import struct
import subprocess
import sys
import termios
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

SECRETS: set[str] = set()
"""Every secret any test configures; none may ever appear in an output."""


def assert_no_secrets(text: str, where: str) -> None:
    for secret in SECRETS:
        assert secret not in text, f"a secret leaked into {where}"


@dataclass
class Run:
    exit_code: int
    stdout: str
    stderr: str

    def json(self) -> Any:
        return json.loads(self.stdout)

    def error(self) -> dict:
        """The JSON error object printed on stderr with `-o json`."""
        return json.loads(self.stderr.strip().splitlines()[-1])["error"]


def invoke(*args: str, env: dict[str, str] | None = None, input: str | None = None, check: bool = True) -> Run:
    """In-process, through vbscli.__main__.run (the one place that turns failures into exit codes and
    messages) inside typer's CliRunner isolation (stdout is not a terminal, as under cron)."""
    from typer.testing import CliRunner

    from vbscli.__main__ import run as run_vbs_in_process

    with CliRunner().isolation(input=input, env=env) as streams:
        try:
            code = run_vbs_in_process(list(args))
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else 1
        sys.stdout.flush()
        sys.stderr.flush()
        stdout, stderr = streams[0].getvalue().decode(), streams[1].getvalue().decode()
    run = Run(code, stdout, stderr)
    if check:
        _check(run)
    return run


def vbs_binary() -> str:
    """The installed console script next to this interpreter."""
    path = Path(sys.executable).parent / "vbs"
    assert path.exists(), f"vbs is not installed next to {sys.executable}; run: pip install -e '.[test]'"
    return str(path)


def run_vbs(*args: str, env: dict[str, str] | None = None, timeout: float = 30) -> Run:
    """The installed `vbs` in a subprocess, with the test's environment plus `env`."""
    full_env = dict(os.environ)
    full_env.update(env or {})
    proc = subprocess.run(
        [vbs_binary(), *args],
        env=full_env,
        capture_output=True,
        text=True,
        timeout=timeout,
        stdin=subprocess.DEVNULL,
    )
    run = Run(proc.returncode, proc.stdout, proc.stderr)
    _check(run)
    return run


def in_terminal(
    *args: str, columns: int = 80, env: dict[str, str] | None = None, stderr_apart: bool = True, timeout: float = 30
) -> Run:
    """The installed `vbs` in a shell window: stdin and stdout on a pseudo-terminal of `columns` columns
    (TERM=xterm-256color; COLUMNS, LINES and NO_COLOR unset unless `env` sets them). stderr goes to a pipe
    of its own, so a test tells the table from the notes; with `stderr_apart=False` it shares the terminal
    (and `stdout` is the whole screen). Line ends are \\n, escape codes are kept."""
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 50, columns, 0, 0))
    full = {k: v for k, v in os.environ.items() if k not in ("COLUMNS", "LINES", "NO_COLOR")}
    full.update({"TERM": "xterm-256color", **(env or {})})
    proc = subprocess.Popen(
        [vbs_binary(), *args],
        stdin=slave,
        stdout=slave,
        stderr=subprocess.PIPE if stderr_apart else slave,
        env=full,
    )
    os.close(slave)
    errors: list[bytes] = []
    reader = threading.Thread(target=lambda: errors.append(proc.stderr.read() if proc.stderr else b""))
    reader.start()
    chunks = []
    while True:
        try:
            data = os.read(master, 65536)
        except OSError:  # the program ended and the terminal closed
            break
        if not data:
            break
        chunks.append(data)
    os.close(master)
    code = proc.wait(timeout)
    reader.join(timeout)
    run = Run(code, b"".join(chunks).decode().replace("\r\n", "\n"), b"".join(errors).decode())
    _check(run)
    return run


def _check(run: Run) -> None:
    assert_no_secrets(run.stdout, "stdout")
    assert_no_secrets(run.stderr, "stderr")
    assert "Traceback" not in run.stderr, run.stderr

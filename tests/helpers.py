"""Run vbs the ways users do (in-process with CliRunner, or the installed binary) and check outputs."""

from __future__ import annotations

import json
import os
import subprocess
import sys
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


def _check(run: Run) -> None:
    assert_no_secrets(run.stdout, "stdout")
    assert_no_secrets(run.stderr, "stderr")
    assert "Traceback" not in run.stderr, run.stderr

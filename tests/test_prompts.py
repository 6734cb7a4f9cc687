"""`vbs profile add` on a terminal: it asks for what is missing, and a secret is typed without echo."""

from __future__ import annotations

import os
import pty
import select
import termios
import time

import yaml

from tests.conftest import Profiles, file_mode
from tests.helpers import SECRETS, vbs_binary

SECRET = "typed-S3CRET-token"
SECRETS.add(SECRET)


def _read_until(fd: int, text: str | None, timeout: float = 20) -> str:
    """What the terminal shows until `text` appears (or, with None, until the program ends)."""
    seen = b""
    deadline = time.monotonic() + timeout
    while text is None or text.encode() not in seen:
        assert time.monotonic() < deadline, f"no {text!r} on the terminal; it shows {seen!r}"
        ready, _, _ = select.select([fd], [], [], 0.2)
        if not ready:
            continue
        try:
            chunk = os.read(fd, 1024)
        except OSError:  # the program ended and closed the terminal
            break
        if not chunk:
            break
        seen += chunk
    return seen.decode(errors="replace")


def _wait_for_echo_off(fd: int, timeout: float = 20) -> None:
    deadline = time.monotonic() + timeout
    while termios.tcgetattr(fd)[3] & termios.ECHO:
        assert time.monotonic() < deadline, "the secret prompt never turned echo off"
        time.sleep(0.01)


def test_add_prompts_and_hides_the_secret(profiles: Profiles):
    pid, fd = pty.fork()
    if pid == 0:
        os.execv(vbs_binary(), ["vbs", "profile", "add", "typed", "-o", "json"])
    screen = _read_until(fd, "Auth type")
    os.write(fd, b"token\n")
    screen += _read_until(fd, "IAM token")
    _wait_for_echo_off(fd)  # as a person would: type once the prompt waits, with echo off
    os.write(fd, SECRET.encode() + b"\n")
    screen += _read_until(fd, "Endpoint")
    os.write(fd, b"https://evs.example\n")
    screen += _read_until(fd, "Project id")
    os.write(fd, b"p1\n")
    screen += _read_until(fd, None)
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0, screen
    assert SECRET not in screen  # hidden input: never echoed, and masked in the result
    doc = yaml.safe_load(profiles.path.read_text())
    assert doc["profiles"]["typed"] == {
        "endpoint": "https://evs.example",
        "project_id": "p1",
        "auth": {"type": "token", "token": SECRET},
    }
    assert file_mode(profiles.path) == 0o600

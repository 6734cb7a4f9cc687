"""`vbs profile add` on a terminal: it asks for what is missing, where before how, asks again after an
invalid answer, and a secret is typed without echo."""

from __future__ import annotations

import json
import os
import pty
import re
import select
import termios
import time
from pathlib import Path

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


def _wait_until_reading(pid: int, timeout: float = 20) -> None:
    """Until the program waits for the answer in a read of the terminal, as a person sees the cursor wait.
    (A Ctrl-C that lands in the instant between the prompt and the read is handled only at the next key:
    the interpreter's, not vbs's, and no person is that fast.)"""
    deadline = time.monotonic() + timeout
    wchan = Path(f"/proc/{pid}/wchan")
    while wchan.exists() and wchan.read_text() != "wait_woken":
        assert time.monotonic() < deadline, "the program never waited for the answer"
        time.sleep(0.01)


def _type_secret_and_finish(pid: int, fd: int, screen: str, prompt: str) -> tuple[str, int]:
    """At `prompt`, type the secret once echo is off (as a person would), then read to the end: the whole
    screen, and the exit code."""
    screen += _read_until(fd, prompt)
    _wait_for_echo_off(fd)
    os.write(fd, SECRET.encode() + b"\n")
    screen += _read_until(fd, None)
    _, status = os.waitpid(pid, 0)
    return screen, os.waitstatus_to_exitcode(status)


def _answer(fd: int, screen: str, prompt: str, answer: str) -> str:
    """Wait for the prompt, then type the answer (what it printed since the last answer is returned)."""
    shown = _read_until(fd, prompt)
    os.write(fd, answer.encode() + b"\n")
    return screen + shown


def test_add_prompts_where_before_how_and_hides_the_secret(profiles: Profiles):
    pid, fd = pty.fork()
    if pid == 0:
        os.execv(vbs_binary(), ["vbs", "profile", "add", "typed"])
    screen = _answer(fd, "", "Endpoint", "evs.example")  # not a URL: said why, and asked again
    screen = _answer(fd, screen, "Endpoint", "https://evs.example")
    screen = _answer(fd, screen, "Project ID", "p1")
    screen = _answer(fd, screen, "Auth type", "kerberos")
    screen = _answer(fd, screen, "Auth type", "token")
    screen, code = _type_secret_and_finish(pid, fd, screen, "IAM token")  # typed once echo is off
    assert code == 0, screen
    assert "Error: it must be an http:// or https:// URL" in screen
    assert "Error: it must be one of: token, password, application_credential, aksk" in screen
    order = [screen.index(p) for p in ("Endpoint", "Project ID", "Auth type", "IAM token")]
    assert order == sorted(order), screen
    assert SECRET not in screen  # hidden input: never echoed, and masked in the result
    doc = yaml.safe_load(profiles.path.read_text())
    assert doc["profiles"]["typed"] == {
        "endpoint": "https://evs.example",
        "project_id": "p1",
        "auth": {"type": "token", "token": SECRET},
    }
    assert file_mode(profiles.path) == 0o600


def test_add_a_login_profile_that_takes_the_endpoint_from_the_catalog(profiles: Profiles):
    pid, fd = pty.fork()
    if pid == 0:
        os.execv(vbs_binary(), ["vbs", "profile", "add", "keystone"])
    screen = _answer(fd, "", "Endpoint", "")  # empty: the service catalog will tell
    screen = _answer(fd, screen, "Project ID", "")
    screen = _answer(fd, screen, "Auth type", "")  # the offered default: a password login
    screen = _answer(fd, screen, "Region", "eu-de")  # which of the catalog's endpoints
    screen = _answer(fd, screen, "Project name", "eu-de_demo")
    screen = _answer(fd, screen, "IAM URL", "iam.example")  # refused, asked again
    screen = _answer(fd, screen, "IAM URL", "https://iam.example/v3")
    screen = _answer(fd, screen, "User name", "demo")
    screen = _answer(fd, screen, "Domain", "demo-domain")
    screen, code = _type_secret_and_finish(pid, fd, screen, "Password")
    assert code == 0, screen
    assert "Auth type (token, password, application_credential, aksk) [password]" in screen
    assert "must be an https:// URL" in screen and SECRET not in screen
    order = [screen.index(p) for p in ("Endpoint", "Project ID", "Auth type", "Region", "IAM URL", "Password")]
    assert order == sorted(order), screen
    assert yaml.safe_load(profiles.path.read_text())["profiles"]["keystone"] == {
        "region_name": "eu-de",
        "auth": {
            "type": "password",
            "auth_url": "https://iam.example/v3",
            "username": "demo",
            "domain": "demo-domain",
            "password": SECRET,
            "project_name": "eu-de_demo",
        },
    }


def test_options_that_make_a_whole_profile_ask_nothing_even_on_a_terminal(profiles: Profiles):
    """A login whose endpoint the catalog will tell, given whole on the command line (the README's
    example): pasted into a terminal, the lines after it must not be taken as answers."""
    pid, fd = pty.fork()
    if pid == 0:
        os.execv(
            vbs_binary(),
            [
                "vbs", "profile", "add", "lab", "--auth-url", "https://iam.example/v3", "--username", "demo",
                "--domain", "demo-domain", "--password-env", "LAB_PASSWORD", "--project-name", "eu-de_demo",
            ],
        )  # fmt: skip
    screen = _read_until(fd, None)
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0, screen
    assert "Endpoint" not in screen and "Region" not in screen
    assert yaml.safe_load(profiles.path.read_text())["profiles"]["lab"]["auth"]["password_env"] == "LAB_PASSWORD"


PROJECT = "0123456789abcdef0123456789abcdef"


def test_an_endpoint_that_names_the_project_is_not_asked_for_it_and_must_agree(profiles: Profiles):
    pid, fd = pty.fork()
    if pid == 0:
        os.execv(vbs_binary(), ["vbs", "profile", "add", "typed", "--project-id", "f" * 32, "--auth-type", "token"])
    # the form `openstack catalog list` shows, for another project than --project-id: said why, asked again
    screen = _answer(fd, "", "Endpoint", f"https://evs.example/v3/{PROJECT}")
    screen = _answer(fd, screen, "Endpoint", f"https://evs.example/v3/{'f' * 32}")
    screen, code = _type_secret_and_finish(pid, fd, screen, "IAM token")
    assert code == 0, screen
    assert f"Error: it is for project {PROJECT}, but the project ID is {'f' * 32}" in screen
    assert yaml.safe_load(profiles.path.read_text())["profiles"]["typed"]["endpoint"].endswith("f" * 32)

    pid, fd = pty.fork()
    if pid == 0:
        os.execv(vbs_binary(), ["vbs", "profile", "add", "catalog-form", "--auth-type", "token"])
    screen = _answer(fd, "", "Endpoint", f"https://evs.example/v3/{PROJECT}")
    screen, code = _type_secret_and_finish(pid, fd, screen, "IAM token")  # the endpoint told the project: not asked for
    assert code == 0, screen
    assert "Project ID" not in screen


def test_ctrl_c_at_a_prompt_stops_on_a_line_of_its_own_and_writes_nothing(profiles: Profiles):
    pid, fd = pty.fork()
    if pid == 0:
        os.execv(vbs_binary(), ["vbs", "profile", "add", "typed", "--endpoint", "https://evs.example"])
    screen = _read_until(fd, "Project ID")
    _wait_until_reading(pid)
    os.write(fd, b"\x03")  # Ctrl-C, as the terminal sends it
    screen += _read_until(fd, None)
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 130, screen
    last = re.sub(r"\x1b\[[0-9;]*m", "", screen.replace("\r", "")).splitlines()[-1]
    assert last == "vbs: error: interrupted", screen  # not glued to the prompt
    assert "Traceback" not in screen and not profiles.path.exists()


def test_the_questions_stay_on_the_terminal_and_stdout_holds_only_the_profile(profiles: Profiles, tmp_path: Path):
    stdout = tmp_path / "stdout.json"
    pid, fd = pty.fork()
    if pid == 0:  # as in `vbs profile add typed > typed.json`, a person answering on the terminal
        os.dup2(os.open(stdout, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), 1)
        os.execv(vbs_binary(), ["vbs", "profile", "add", "typed"])
    screen = _answer(fd, "", "Endpoint", "evs.example")  # refused, asked again: the error stays on the terminal
    screen = _answer(fd, screen, "Endpoint", "https://evs.example")
    screen = _answer(fd, screen, "Project ID", "p1")
    screen = _answer(fd, screen, "Auth type", "")
    screen, code = _type_secret_and_finish(pid, fd, screen, "IAM token")
    assert code == 0, screen
    text = stdout.read_text()
    assert text.startswith("{"), repr(text)  # not even a space of the questions
    assert json.loads(text)["profile"]["auth"] == {"type": "token", "token": "<redacted>"}
    assert "Auth type (token, password, application_credential, aksk) [token]: " in screen
    assert "Error: it must be an http:// or https:// URL" in screen

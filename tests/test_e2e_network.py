"""The installed `vbs` in a subprocess against real sockets on 127.0.0.1: network failures and Ctrl-C."""

from __future__ import annotations

import re
import signal
import socket
import subprocess
import time
from collections.abc import Iterator

import pytest

from tests.conftest import SNAPSHOT, VOLUME
from tests.helpers import run_vbs, vbs_binary

CREATE = ("backup", "create", "--volume-id", VOLUME, "--snapshot-id", SNAPSHOT)


@pytest.fixture
def silent_server() -> Iterator[socket.socket]:
    """A listening socket that never answers: connections succeed, answers never come."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(8)
    yield sock
    sock.close()


def env_for(port: int) -> dict[str, str]:
    return {"VBS_ENDPOINT": f"http://127.0.0.1:{port}", "VBS_PROJECT_ID": "p1", "VBS_TOKEN": "tok-e2e-secret"}


@pytest.fixture(autouse=True)
def _register_secret():
    from tests.helpers import SECRETS

    SECRETS.add("tok-e2e-secret")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_connection_refused_is_one_line_exit_5():
    port = free_port()
    run = run_vbs(*CREATE, "-o", "table", env=env_for(port))
    assert run.exit_code == 5
    assert run.stdout == ""
    assert run.stderr == (
        f"vbs: error: connection to 127.0.0.1:{port} refused (http://127.0.0.1:{port}); "
        "check the endpoint URL and port, and that the service is up\n"
    )


def test_read_timeout_is_one_line_exit_5(silent_server):
    port = silent_server.getsockname()[1]
    started = time.monotonic()
    run = run_vbs(*CREATE, "--read-timeout", "0.5", "-o", "json", env=env_for(port))
    assert time.monotonic() - started < 10
    assert run.exit_code == 5 and run.stdout == ""
    err = run.error()
    assert err["code"] == "NetworkError"
    # The request may have been processed: vbs looks for the backup before anything else, and says
    # how to check when even that cannot be answered.
    assert err["message"].startswith(
        f"the answer to the create request was lost (http://127.0.0.1:{port} did not answer within 0.5 s)"
        " and looking for backup 'vbs-"
    )
    assert f"check: vbs backup list --volume-id {VOLUME} --name vbs-" in err["message"]


def test_invalid_input_never_connects(silent_server):
    port = silent_server.getsockname()[1]
    run = run_vbs(*CREATE, "--name", "auto-x", env=env_for(port))
    assert run.exit_code == 2
    silent_server.setblocking(False)
    with pytest.raises(BlockingIOError):
        silent_server.accept()


def test_ctrl_c_during_a_create_says_the_backup_may_exist_and_how_to_check(silent_server):
    port = silent_server.getsockname()[1]
    import os

    proc = subprocess.Popen(
        [vbs_binary(), *CREATE, "-o", "table"],
        env={**os.environ, **env_for(port)},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    conn, _ = silent_server.accept()  # the request is in flight: now interrupt it
    try:
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=20)
    finally:
        conn.close()
    assert proc.returncode == 130
    assert out == ""
    assert re.fullmatch(
        r"vbs: error: interrupted; the create request may have reached the service, so backup '(vbs-[0-9a-f-]+)' "
        rf"may exist; check: vbs backup list --volume-id {VOLUME} --name \1\n",
        err,
    ), err

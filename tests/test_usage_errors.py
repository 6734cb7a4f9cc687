"""Errors keep their format and their place: usage errors as input errors, output errors, "did you mean"."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import Service
from tests.helpers import run_vbs, vbs_binary

VOLUME, SNAPSHOT = "5c1a9f0e-2b3d-4e5f-8a9b-0c1d2e3f4a01", "9e3c7d21-6f4a-4b8c-9d0e-1f2a3b4c5d01"


def one_json_error(stderr: str) -> dict:
    assert stderr.endswith("\n") and stderr.count("\n") == 1, stderr
    doc = json.loads(stderr)
    assert list(doc) == ["error"] and list(doc["error"]) == ["status", "code", "message", "request_id"]
    return doc["error"]


@pytest.mark.parametrize(
    ("args", "message", "where"),
    [
        (
            ("backup", "list", "--status", "bogus"),
            "Invalid value for '--status': 'bogus' is not one of",
            "vbs backup list",
        ),
        (("backup", "list", "--limit"), "Option '--limit' requires an argument.", "vbs backup list"),
        (
            ("backup", "list", "--limit", "x"),
            "Invalid value for '--limit': 'x' is not a valid whole number.",
            "vbs backup list",
        ),
        (
            ("--read-timeout", "1s", "backup", "list"),
            "Invalid value for '--read-timeout': '1s' is not a valid number.",
            "vbs",
        ),
        (
            ("emulator", "start", "--latency", "x"),
            "Invalid value for '--latency': 'x' is not a valid number.",
            "vbs emulator start",
        ),
        (("backup", "list", "--bogus"), "No such option: --bogus", "vbs backup list"),
        (("backup", "show"), "Missing argument 'ID'.", "vbs backup show"),
        (("profile", "add"), "Missing argument 'NAME'.", "vbs profile add"),
        (("completion",), "Missing argument 'SHELL'. Choose from: bash, zsh, fish", "vbs completion"),
        (("backup", "craete"), "No such command 'craete'. Did you mean 'create'", "vbs backup"),
    ],
)
def test_usage_errors_are_input_errors_in_the_format_asked_for(emulator: Service, args, message, where):
    hint = f"(see '{where} --help')"
    run = run_vbs("-o", "json", *args, env=emulator.env)
    assert (run.exit_code, run.stdout) == (2, "")
    error = one_json_error(run.stderr)
    assert error["code"] == "InvalidInput" and error["status"] is None and error["request_id"] is None
    assert error["message"].startswith(message) and error["message"].endswith(hint), error
    run = run_vbs("-o", "table", *args, env=emulator.env)
    assert run.exit_code == 2 and run.stderr.startswith(f"vbs: error: {message}") and run.stderr.endswith(f"{hint}\n")
    assert run.stderr.count("\n") == 1
    assert emulator.emu.stats()["requests"] == {}


def test_the_same_object_as_vbs_own_input_errors(emulator: Service):
    own = one_json_error(run_vbs("backup", "list", "--volume-id", "nope", "-o", "json", env=emulator.env).stderr)
    usage = one_json_error(run_vbs("backup", "list", "--limit", "0", "-o", "json", env=emulator.env).stderr)
    assert own["code"] == usage["code"] == "InvalidInput"
    assert {k: v for k, v in own.items() if k != "message"} == {k: v for k, v in usage.items() if k != "message"}


def test_the_format_may_be_asked_for_after_the_error_or_in_the_environment(emulator: Service):
    run = run_vbs("backup", "list", "--status", "bogus", "--output=json", env=emulator.env)
    assert one_json_error(run.stderr)["code"] == "InvalidInput"
    run = run_vbs("backup", "list", "--bogus", env={**emulator.env, "VBS_OUTPUT": "table"})
    assert run.stderr.startswith("vbs: error: No such option: --bogus")
    run = run_vbs("backup", "list", "--bogus", "-f", "id", env=emulator.env)  # --field: values, and text errors
    assert run.stderr.startswith("vbs: error: No such option: --bogus")


def test_a_mistyped_command_gets_a_did_you_mean(emulator: Service):
    run = run_vbs("bakup", "list", "-o", "table")
    assert (run.exit_code, run.stdout) == (2, "")
    assert run.stderr == "vbs: error: No such command 'bakup'. Did you mean 'backup'? (see 'vbs --help')\n"
    run = run_vbs("backup", "craete", "--volume-id", VOLUME, "-o", "table")
    assert run.stderr.startswith("vbs: error: No such command 'craete'. Did you mean 'create'")
    assert run.stderr.endswith("? (see 'vbs backup --help')\n")
    run = run_vbs("emulator", "stpo", "-o", "table")
    assert "Did you mean 'stop'?" in run.stderr


# -- output errors ------------------------------------------------------------------------------


def shell(script: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    path = f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"
    return subprocess.run(
        ["sh", "-c", script], env={**os.environ, **env, "PATH": path}, capture_output=True, text=True, timeout=60
    )


@pytest.mark.skipif(not Path("/dev/full").exists(), reason="needs /dev/full")
def test_a_full_disk_is_an_output_error(emulator: Service):
    proc = shell("vbs backup list -o table >/dev/full", emulator.env)
    assert proc.returncode == 74
    assert proc.stderr == (
        "vbs: error: cannot write to stdout: No space left on device; "
        "the command itself ran; only its output was lost\n"
    )
    proc = shell("vbs backup list >/dev/full", emulator.env)  # no terminal: JSON, errors too
    assert proc.returncode == 74 and one_json_error(proc.stderr)["code"] == "OutputError"
    proc = shell("vbs --help >/dev/full", emulator.env)
    assert proc.returncode == 74 and "No space left on device" in proc.stderr


def test_a_closed_stdout_is_an_output_error(emulator: Service):
    proc = shell("vbs backup list -o table >&-", emulator.env)
    assert proc.returncode == 74
    assert proc.stderr == (
        "vbs: error: cannot write to stdout: stdout is closed; the command itself ran; only its output was lost\n"
    )
    create = f"vbs backup create --volume-id {VOLUME} --snapshot-id {SNAPSHOT} --name closed -o value -f id >&-"
    proc = shell(create, emulator.env)
    assert proc.returncode == 74 and "only its output was lost" in proc.stderr
    assert [b["name"] for b in run_vbs("backup", "list", env=emulator.env).json()["backups"]] == ["closed"]


def test_a_reader_that_goes_away_ends_vbs_quietly(emulator: Service):
    read_end, write_end = os.pipe()
    os.close(read_end)  # nobody will ever read: the first write fails with EPIPE
    try:
        proc = subprocess.run(
            [vbs_binary(), "backup", "list", "-o", "json"],
            stdout=write_end,
            stderr=subprocess.PIPE,
            env={**os.environ, **emulator.env},
            text=True,
            timeout=60,
        )
    finally:
        os.close(write_end)
    assert (proc.returncode, proc.stderr) == (141, "")


def test_options_of_no_use_to_completion_or_the_emulator_are_refused(tmp_path):
    """Given after the command they are unknown options; before it (where every command's global
    options are accepted) they are refused by name. Either way: exit 2, nothing done."""
    for extra in (("-f", "id"), ("--wide",), ("-o", "json"), ("--output=value",), ("--endpoint", "https://x.example")):
        run = run_vbs(*extra, "completion", "bash")
        assert (run.exit_code, run.stdout) == (2, ""), extra
        assert "does not apply to vbs completion, which prints a shell script" in run.stderr
        run = run_vbs("completion", "zsh", *extra)
        assert (run.exit_code, run.stdout) == (2, ""), extra
    assert run_vbs("-o", "table", "completion", "bash").exit_code == 0
    assert run_vbs("completion", "bash", env={"VBS_OUTPUT": "json"}).exit_code == 0  # a default, not a request
    pid_file = str(tmp_path / "e.pid")
    for extra in (("-p", "prod"), ("--insecure",), ("--read-timeout", "5"), ("--os-cloud", "c")):
        for command in ("start", "stop", "status"):
            run = run_vbs(*extra, "emulator", command, "--pid-file", pid_file, "-o", "table")
            assert (run.exit_code, run.stdout) == (2, ""), (command, extra)
            assert run.stderr.startswith(f"vbs: error: {extra[0] if extra[0] != '-p' else '--profile'} does not apply")
            run = run_vbs("emulator", command, "--pid-file", pid_file, *extra, "-o", "table")
            assert run.exit_code == 2 and run.stderr.startswith(f"vbs: error: No such option: {extra[0]}")
    assert run_vbs("emulator", "status", "--pid-file", pid_file, "-f", "status", "--debug").stdout == "stopped\n"
    assert run_vbs("--debug", "completion", "fish").exit_code == 0

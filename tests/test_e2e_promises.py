"""The core promise, one defect at a time, through the installed `vbs` against the emulator: the right
exit code and message, no secret, no second backup, nothing sent or written when nothing should be."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from tests.conftest import Profiles, Service, file_mode
from tests.helpers import SECRETS, run_vbs
from tests.test_e2e_auth import write_profiles

VOLUME = "5c1a9f0e-2b3d-4e5f-8a9b-0c1d2e3f4a01"
SNAPSHOT = "9e3c7d21-6f4a-4b8c-9d0e-1f2a3b4c5d01"
FAILING, FAILING_SNAP = "5c1a9f0e-2b3d-4e5f-8a9b-0c1d2e3f4a03", "9e3c7d21-6f4a-4b8c-9d0e-1f2a3b4c5d03"
CREATE = ("backup", "create", "--volume-id", VOLUME, "--snapshot-id", SNAPSHOT)
CINDER_QUOTA = {
    "overLimit": {
        "code": 413,
        "message": "BackupLimitExceeded: Maximum number of backups allowed (10) exceeded",
        "retryAfter": "0",
    }
}
BROKEN_TOKENS = ["demo-tok\ren", "demo-tok\nen", "demo-tok\x1ben", "demo-tok\u200ben"]
SECRETS.update(BROKEN_TOKENS)
SECRETS.update(repr(t)[1:-1] for t in BROKEN_TOKENS)


def test_a_full_quota_is_refused_after_one_request(emulator: Service):
    emulator.faults(
        script=[{"match": "POST backups", "fault": "status", "status": 413, "retry_after": 0, "body": CINDER_QUOTA}]
    )
    run = run_vbs(*CREATE, "--name", "quota", "-o", "table", env={**emulator.env, "VBS_MAX_ATTEMPTS": "4"})
    assert run.exit_code == 1
    assert run.stderr.count("\n") == 1 and "retrying create" not in run.stderr
    assert "HTTP 413 overLimit: BackupLimitExceeded: Maximum number of backups allowed (10) exceeded" in run.stderr
    assert "delete backups you no longer need" in run.stderr and "retrying will not help" in run.stderr
    assert emulator.requests("POST backups") == 1


def test_a_rate_limit_413_with_retry_after_is_retried(emulator: Service):
    emulator.faults(script=[{"match": "POST backups", "fault": "overlimit", "retry_after": 1}])
    run = run_vbs(*CREATE, "--name", "rate", env={**emulator.env, "VBS_MAX_ATTEMPTS": "2"})
    assert run.exit_code == 0, run.stderr
    assert "retrying create in 1.0 s (attempt 2 of 2): HTTP 413 overLimit" in run.stderr
    assert emulator.created() == 1


@pytest.mark.parametrize("token", BROKEN_TOKENS, ids=["cr", "lf", "escape", "zero-width-space"])
def test_a_token_that_cannot_be_sent_is_refused_before_sending_without_showing_it(emulator: Service, token):
    run = run_vbs(*CREATE, "-o", "json", env={**emulator.env, "VBS_MAX_ATTEMPTS": "4", "VBS_TOKEN": token})
    assert run.exit_code == 3
    assert run.stderr.count("\n") == 1  # no retry lines, no "lost answer"
    error = run.error()
    assert error["code"] == "ConfigError"
    assert error["message"].startswith("the X-Auth-Token header cannot be sent: its value has ")
    assert "it comes from the token" in error["message"] and "nothing was sent" in error["message"]
    assert "lost" not in error["message"]
    assert emulator.emu.stats()["requests"] == {}


@pytest.mark.parametrize("profile", ["pw", "ak", "tok"])
def test_dry_run_sends_and_writes_nothing_for_every_auth_type(
    emulator: Service, profiles: Profiles, isolated_env: Path, profile
):
    write_profiles(profiles, emulator.emu)
    run = run_vbs("-p", profile, *CREATE, "--dry-run")
    assert run.exit_code == 0, run.stderr
    doc = run.json()
    assert doc["method"] == "POST" and doc["url"].endswith(f"/v3/{emulator.emu.project_id}/backups")
    credentials = doc["headers"].get("X-Auth-Token") or doc["headers"]["Authorization"]
    assert "<redacted>" in credentials
    assert emulator.emu.stats()["requests"] == {}
    assert not (isolated_env / ".cache").exists()


@pytest.mark.parametrize("offset", [-5, 5], ids=["back-end-5-min-behind", "back-end-5-min-ahead"])
def test_a_lost_answer_finds_the_backup_whatever_the_back_ends_clock(offset):
    """The gateway's Date header and the back end's created_at disagree by 5 minutes: still one backup."""
    from vbscli.emulator import Emulator, EmulatorConfig

    def wall() -> datetime:
        return datetime.now(timezone.utc) + timedelta(minutes=offset)

    script = [{"match": "POST backups", "fault": "drop_after"}]
    with Emulator(EmulatorConfig(port=0, create_delay=0, wall=wall, script=script)) as emu:
        env = {**Service(emu).env, "VBS_MAX_ATTEMPTS": "4"}
        run = run_vbs(*CREATE, "--name", "skewed", env=env)
        assert run.exit_code == 0, run.stderr
        assert "was created: reporting it" in run.stderr
        assert emu.stats()["backups_created"] == 1 and emu.stats()["requests"]["POST backups"] == 1


def test_https_to_a_plain_http_port_says_the_endpoint_may_not_speak_tls(emulator: Service):
    endpoint = emulator.emu.url.replace("http://", "https://")
    run = run_vbs(*CREATE, "-o", "table", env={**emulator.env, "VBS_ENDPOINT": endpoint, "VBS_MAX_ATTEMPTS": "4"})
    assert run.exit_code == 5
    assert run.stderr == (
        f"vbs: error: TLS connection to {endpoint} failed: the endpoint may not speak TLS (it answered in plain "
        f"HTTP?); check the endpoint's scheme and port: if the service is plain HTTP, use {emulator.emu.url}\n"
    )
    assert emulator.created() == 0


def test_a_401_while_waiting_names_the_backup(emulator: Service):
    emulator.faults(script=[{"match": "GET backup", "fault": "status", "status": 401}])
    run = run_vbs(*CREATE, "--name", "polled", "--wait", "-o", "json", env=emulator.env)
    assert run.exit_code == 4
    error = run.error()
    backup_id = error["backup_id"]
    assert emulator.emu.store.backups[backup_id].name == "polled"
    table = run_vbs(*CREATE, "--name", "polled2", "--wait", "-o", "table", env=emulator.env)
    assert table.exit_code == 0  # the fault fired once
    emulator.faults(script=[{"match": "GET backup", "fault": "status", "status": 401}])
    table = run_vbs(*CREATE, "--name", "polled3", "--wait", "-o", "table", env=emulator.env)
    assert table.exit_code == 4
    assert table.stderr.startswith("vbs: error: backup ") and ", but waiting for it failed: HTTP 401" in table.stderr


def test_json_errors_of_a_failed_and_a_timed_out_wait_carry_the_backup_id(emulator: Service):
    failed = run_vbs(
        "backup", "create", "--volume-id", FAILING, "--snapshot-id", FAILING_SNAP, "--wait", env=emulator.env
    )
    assert failed.exit_code == 6
    error = failed.error()
    assert error["code"] == "BackupFailed" and error["backup_id"] in error["message"]
    from vbscli.emulator import Emulator, EmulatorConfig

    with Emulator(EmulatorConfig(port=0, create_delay=120)) as slow:
        late = run_vbs(*CREATE, "--wait", "--wait-timeout", "1", env=Service(slow).env)
    assert late.exit_code == 7
    error = late.error()
    assert error["code"] == "WaitTimeout" and error["backup_id"] in error["message"]


def test_retry_lines_name_the_request_and_the_final_error_says_the_services_text_once(emulator: Service):
    text = "The server has either erred or is incapable of performing the requested operation."
    emulator.faults(
        script=[
            {"match": "POST backups", "fault": "status", "status": 500},
            {"match": "GET backups_detail", "fault": "status", "status": 500, "times": 10},
        ]
    )
    run = run_vbs(*CREATE, "--name", "twice", "-o", "table", env={**emulator.env, "VBS_MAX_ATTEMPTS": "2"})
    assert run.exit_code == 5
    warnings, error = run.stderr.splitlines()[:-1], run.stderr.splitlines()[-1]
    assert [w.split(" in ")[0] for w in warnings] == ["vbs: warning: retrying lookup"]
    assert error.startswith("vbs: error: the answer to the create request was lost (HTTP 500 computeFault: ")
    assert error.count(text) == 1
    assert "check: vbs backup list --volume-id" in error
    assert emulator.created() == 0


def test_retry_lines_of_a_poll_say_poll(emulator: Service):
    emulator.faults(script=[{"match": "GET backup", "fault": "status", "status": 503, "retry_after": 0}])
    run = run_vbs(*CREATE, "--wait", env={**emulator.env, "VBS_MAX_ATTEMPTS": "2"})
    assert run.exit_code == 0, run.stderr
    assert run.stderr.startswith("vbs: warning: retrying poll in 0.0 s (attempt 2 of 2): HTTP 503")


def test_profile_test_logs_in_afresh_and_keeps_the_cache_unless_it_works(
    emulator: Service, profiles: Profiles, isolated_env: Path
):
    write_profiles(profiles, emulator.emu)
    assert run_vbs("profile", "test", "pw").exit_code == 0  # fills the cache
    cache = next((isolated_env / ".cache" / "vbs" / "tokens").glob("*.json"))
    cached = cache.read_text()
    write_profiles(profiles, emulator.emu, password="wrong-password-x")
    wrong = run_vbs("profile", "test", "pw", "-o", "json")
    assert wrong.exit_code == 4 and wrong.stdout == ""
    assert "The username or password is wrong." in wrong.error()["message"]
    assert cache.read_text() == cached  # a failed login leaves the cached token alone
    write_profiles(profiles, emulator.emu)
    emulator.emu.reset_stats()
    right = run_vbs("profile", "test", "pw")
    assert right.exit_code == 0 and right.json()["ok"] is True
    assert emulator.requests("POST auth_tokens") == 1  # proved by logging in, not by the cache
    assert cache.read_text() != cached and file_mode(cache) == 0o600
    assert json.loads(cache.read_text())["token"] != json.loads(cached)["token"]


TOKEN_ECHO = {
    "error_code": "APIGW.0301",
    "error_msg": "Incorrect IAM authentication information: token demo-token is not valid",
}


def test_a_service_message_that_quotes_the_token_is_masked_in_fleet_lines(emulator: Service, tmp_path):
    fleet = tmp_path / "fleet.jsonl"
    fleet.write_text(json.dumps({"volume_id": VOLUME, "snapshot_id": SNAPSHOT, "name": "echoed"}) + "\n")
    emulator.faults(script=[{"match": "POST backups", "fault": "status", "status": 401, "body": TOKEN_ECHO}])
    run = run_vbs("backup", "create", "--from", str(fleet), env=emulator.env)  # run_vbs fails on any secret
    assert run.exit_code == 4
    assert "token <redacted> is not valid" in json.loads(run.stdout)["error"]["message"]


@pytest.mark.parametrize("fmt", ["json", "table"])
def test_a_service_message_that_quotes_the_token_is_masked_in_the_results_of_deletions(emulator: Service, fmt):
    ids = ["3f7f9b85-4352-4534-a2a7-17bc7b74ffd5", "3f7f9b85-4352-4534-a2a7-17bc7b74ffd6"]
    refused = {"match": "DELETE backup", "fault": "status", "status": 401, "body": TOKEN_ECHO, "times": 2}
    emulator.faults(script=[refused])
    run = run_vbs("backup", "delete", *ids, "--yes", "-o", fmt, env=emulator.env)  # run_vbs fails on any secret
    assert run.exit_code == 4
    assert "token <redacted> is not valid" in run.stdout and "token <redacted> is not valid" in run.stderr

"""Password, AK/SK and token profiles end to end: the installed `vbs` against the emulator's IAM and signatures."""

from __future__ import annotations

import json
from pathlib import Path

from tests.conftest import Profiles, Service, file_mode
from tests.helpers import SECRETS, run_vbs

VOLUME = "5c1a9f0e-2b3d-4e5f-8a9b-0c1d2e3f4a01"
SNAPSHOT = "9e3c7d21-6f4a-4b8c-9d0e-1f2a3b4c5d01"
CREATE = ("backup", "create", "--volume-id", VOLUME, "--snapshot-id", SNAPSHOT)
SECRETS.update({"wrong-password-x", "wrong-secret-key"})


def write_profiles(profiles: Profiles, emu, password="demo-password", secret="demo-secret-key") -> None:
    profiles.write(f"""\
default: pw
profiles:
  pw:
    endpoint: {emu.url}
    project_id: {emu.project_id}
    auth: {{type: password, auth_url: {emu.url}/v3, username: demo, password: {password}, domain: demo-domain}}
  byname:
    endpoint: {emu.url}
    auth: {{type: password, auth_url: {emu.url}, username: demo, password_env: DEMO_PW, domain: demo-domain,
            project_name: eu-de_demo}}
  ak:
    endpoint: {emu.url}
    project_id: {emu.project_id}
    auth: {{type: aksk, access_key: DEMOACCESSKEY0000000, secret_key: {secret}}}
  tok:
    endpoint: {emu.url}
    project_id: {emu.project_id}
    auth: {{type: token, token: demo-token}}
""")


def test_password_login_is_cached_between_runs(emulator: Service, profiles: Profiles, isolated_env: Path):
    write_profiles(profiles, emulator.emu)
    for name in ("one", "two", "three"):
        run = run_vbs(*CREATE, "--name", name)
        assert run.exit_code == 0, run.stderr
    assert emulator.requests("POST auth_tokens") == 1
    cached = list((isolated_env / ".cache" / "vbs" / "tokens").glob("*.json"))
    assert len(cached) == 1 and file_mode(cached[0]) == 0o600
    assert "demo-password" not in cached[0].read_text()


def test_revoked_cached_token_means_one_new_login_and_one_repeat(emulator: Service, profiles: Profiles):
    write_profiles(profiles, emulator.emu)
    assert run_vbs(*CREATE, "--name", "before").exit_code == 0
    emulator.emu.tokens.revoke_all()
    run = run_vbs(*CREATE, "--name", "after")
    assert run.exit_code == 0, run.stderr
    assert emulator.requests("POST auth_tokens") == 2
    assert emulator.requests("POST backups") == 3  # before, after (refused), after (repeated)
    assert emulator.created() == 2


def test_wrong_password_exits_4_naming_profile_and_auth_type(emulator: Service, profiles: Profiles):
    write_profiles(profiles, emulator.emu, password="wrong-password-x")
    run = run_vbs(*CREATE, "-o", "table")
    assert run.exit_code == 4
    assert "IAM login at" in run.stderr and "The username or password is wrong." in run.stderr
    assert "profile 'pw' (auth type password)" in run.stderr
    assert emulator.requests("POST backups") == 0


def test_project_name_login_takes_the_project_id_from_the_token(emulator: Service, profiles: Profiles):
    write_profiles(profiles, emulator.emu)
    run = run_vbs("-p", "byname", *CREATE, env={"DEMO_PW": "demo-password"})
    assert run.exit_code == 0, run.stderr
    assert f"/v3/{emulator.emu.project_id}/backups/" in json.dumps(run.json())


def test_aksk_signed_requests_are_accepted(emulator: Service, profiles: Profiles):
    write_profiles(profiles, emulator.emu)
    run = run_vbs("-p", "ak", *CREATE, "--wait")
    assert run.exit_code == 0, run.stderr
    assert run.json()["backup"]["status"] == "available"


def test_bad_secret_key_exits_4_once_never_retried(emulator: Service, profiles: Profiles):
    write_profiles(profiles, emulator.emu, secret="wrong-secret-key")
    run = run_vbs("-p", "ak", *CREATE, "-o", "table", env={"VBS_MAX_ATTEMPTS": "4"})
    assert run.exit_code == 4
    assert "verify aksk signature fail" in run.stderr
    assert "clock" in run.stderr and "lock the key" in run.stderr
    assert emulator.requests("POST backups") == 1


def test_profile_test_for_each_auth_type(emulator: Service, profiles: Profiles):
    write_profiles(profiles, emulator.emu)
    for name in ("pw", "ak", "tok"):
        run = run_vbs("profile", "test", name)
        assert run.exit_code == 0, run.stderr
        doc = run.json()
        assert doc["ok"] is True and doc["profile"] == name and doc["project_id"] == emulator.emu.project_id
    write_profiles(profiles, emulator.emu, secret="wrong-secret-key")
    run = run_vbs("profile", "test", "ak", "-o", "table")
    assert run.exit_code == 4 and "profile 'ak' (auth type aksk)" in run.stderr


def test_profile_test_table_reads_as_words(emulator: Service, profiles: Profiles):
    write_profiles(profiles, emulator.emu)
    run = run_vbs("profile", "test", "tok", "-o", "table")
    assert run.exit_code == 0, run.stderr
    rows = {line.split("│")[1].strip(): line.split("│")[2].strip() for line in run.stdout.splitlines()[3:-1]}
    assert rows["profile"] == "tok" and rows["ok"] == "true" and "cloud" not in rows  # not "None", "True"


def test_debug_trace_of_a_login_and_a_signature_shows_no_secret(emulator: Service, profiles: Profiles):
    write_profiles(profiles, emulator.emu)
    run = run_vbs("--debug", *CREATE, "--name", "traced")  # the guard fails this test if a secret is printed
    assert run.exit_code == 0, run.stderr
    assert '"password": "<redacted>"' in run.stderr and "X-Subject-Token: <redacted>" in run.stderr
    signed = run_vbs("--debug", "-p", "ak", *CREATE, "--name", "signed")
    assert signed.exit_code == 0
    assert "Authorization: SDK-HMAC-SHA256 Access=DEMOACCESSKEY0000000, SignedHeaders=" in signed.stderr
    assert "Signature=<redacted>" in signed.stderr


def test_aksk_queries_with_spaces_plus_tilde_slash_and_non_ascii_are_accepted(emulator: Service, profiles: Profiles):
    """The emulator verifies by its own reading of the algorithm, taking `+` literally (RFC 3986)."""
    write_profiles(profiles, emulator.emu)
    for name in ("night ly", "a+b", "x~y", "a/b", "nüt", "100% & more=yes"):
        run = run_vbs("-p", "ak", "backup", "list", "--name", name, "-o", "json")
        assert run.exit_code == 0, (name, run.stderr)
        assert run.json() == {"backups": []}

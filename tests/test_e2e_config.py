"""Settings as a user meets them, through the installed `vbs`: an explicit profile beats ambient variables
and its credentials go nowhere else; bad values exit with the documented code; secrets are cleaned."""

from __future__ import annotations

import re
import socket
import threading
from collections.abc import Iterator

import pytest
import yaml

from tests.conftest import Profiles, Service
from tests.helpers import SECRETS, run_vbs

VOLUME = "5c1a9f0e-2b3d-4e5f-8a9b-0c1d2e3f4a01"
SNAPSHOT = "9e3c7d21-6f4a-4b8c-9d0e-1f2a3b4c5d01"
CREATE = ("backup", "create", "--volume-id", VOLUME, "--snapshot-id", SNAPSHOT)
SECRETS.update({"zzz-ambient-token", "typed-token-x"})


class Listener:
    """A port that records every connection made to it (nothing should ever arrive)."""

    def __init__(self) -> None:
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.sock.settimeout(0.1)
        self.port = self.sock.getsockname()[1]
        self.connections = 0
        self.running = True
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self) -> None:
        while self.running:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                continue
            self.connections += 1
            conn.close()

    def close(self) -> None:
        self.running = False
        self.thread.join()
        self.sock.close()


@pytest.fixture
def listener() -> Iterator[Listener]:
    found = Listener()
    yield found
    found.close()


def write_profiles(profiles: Profiles, emu) -> None:
    profiles.write(f"""\
default: prod
profiles:
  prod:
    endpoint: {emu.url}
    project_id: {emu.project_id}
    auth: {{type: token, token: demo-token}}
  ak:
    endpoint: {emu.url}
    project_id: {emu.project_id}
    auth: {{type: aksk, access_key: DEMOACCESSKEY0000000, secret_key: demo-secret-key}}
""")


def test_an_explicit_profile_never_sends_its_token_to_an_ambient_endpoint(
    emulator: Service, profiles: Profiles, listener: Listener
):
    write_profiles(profiles, emulator.emu)
    ambient = {
        "VBS_ENDPOINT": f"http://127.0.0.1:{listener.port}",
        "VBS_TOKEN": "zzz-ambient-token",
        "VBS_PROJECT_ID": "ffffffffffffffffffffffffffffffff",
    }
    run = run_vbs("-p", "prod", "backup", "list", "-o", "table", env=ambient)
    assert run.exit_code == 0, run.stderr
    assert listener.connections == 0
    assert emulator.requests("GET backups_detail") == 1
    assert run.stderr.splitlines() == [
        "vbs: warning: VBS_ENDPOINT, VBS_PROJECT_ID, VBS_TOKEN ignored: --profile prod was chosen explicitly, "
        "and its settings win over environment variables"
    ]


def test_vbs_token_does_not_turn_an_aksk_profile_into_token_auth(emulator: Service, profiles: Profiles):
    write_profiles(profiles, emulator.emu)
    run = run_vbs("-p", "ak", *CREATE, "-o", "table", env={"VBS_TOKEN": "zzz-ambient-token"})
    assert run.exit_code == 0, run.stderr  # signed with AK/SK, which the emulator checks
    assert "VBS_TOKEN ignored: --profile ak was chosen explicitly" in run.stderr


def test_after_the_emulators_exports_p_prod_still_goes_to_prod(emulator: Service, profiles: Profiles):
    from vbscli.emulator import Emulator, EmulatorConfig
    from vbscli.emulator.server import banner

    write_profiles(profiles, emulator.emu)
    with Emulator(EmulatorConfig(port=0, create_delay=0.0)) as other:
        line = next(x for x in banner(other).splitlines() if x.startswith("try: export "))
        exported = dict(re.findall(r"(VBS_\w+)=(\S+)", line))
        assert set(exported) == {"VBS_ENDPOINT", "VBS_PROJECT_ID", "VBS_TOKEN"}
        to_prod = run_vbs("-p", "prod", *CREATE, env=exported)
        assert to_prod.exit_code == 0, to_prod.stderr
        assert emulator.created() == 1 and other.stats()["backups_created"] == 0
        to_other = run_vbs(*CREATE, env=exported)  # no explicit choice: the exports beat the default profile
        assert to_other.exit_code == 0
        assert emulator.created() == 1 and other.stats()["backups_created"] == 1


def test_an_ambient_endpoint_without_a_token_is_refused(emulator: Service, profiles: Profiles, listener: Listener):
    write_profiles(profiles, emulator.emu)
    run = run_vbs("backup", "list", "-o", "table", env={"VBS_ENDPOINT": f"http://127.0.0.1:{listener.port}"})
    assert run.exit_code == 3
    assert "VBS_ENDPOINT is set without VBS_TOKEN" in run.stderr
    assert listener.connections == 0 and emulator.emu.stats()["requests"] == {}


def test_whitespace_around_secrets_is_removed(emulator: Service, profiles: Profiles):
    env = {**emulator.env, "VBS_TOKEN": " demo-token\r\n"}
    run = run_vbs(*CREATE, env=env)
    assert run.exit_code == 0, run.stderr
    profiles.write(
        f"profiles:\n  p:\n    endpoint: {emulator.emu.url}\n    project_id: {emulator.emu.project_id}\n"
        "    auth: {token_env: MY_TOKEN}\n"
    )
    assert run_vbs(*CREATE, env={"MY_TOKEN": "demo-token\n"}).exit_code == 0
    broken = run_vbs(*CREATE, "-o", "table", env={"MY_TOKEN": "demo\n-token"})
    assert broken.exit_code == 3  # refused before sending, never shown
    assert broken.stderr.strip().startswith("vbs: error: the X-Auth-Token header cannot be sent")
    assert emulator.created() == 2


def test_a_malformed_os_project_id_exits_3_naming_it(emulator: Service):
    env = {
        "OS_BLOCK_STORAGE_ENDPOINT_OVERRIDE": emulator.emu.url,
        "OS_AUTH_TOKEN": "demo-token",
        "OS_PROJECT_ID": "not a project!",
    }
    run = run_vbs("backup", "list", "-o", "table", env=env)
    assert run.exit_code == 3
    assert run.stderr.startswith("vbs: error: OS_PROJECT_ID must be a project ID") and len(run.stderr.splitlines()) == 1
    assert emulator.emu.stats()["requests"] == {}


@pytest.mark.parametrize(
    "args",
    [
        ("--read-timeout", "-1"),
        ("--max-attempts", "0"),
        ("--connect-timeout", "0"),
        ("--endpoint", "foo"),
    ],
)
def test_invalid_option_values_exit_2_everywhere(emulator: Service, profiles: Profiles, args):
    run = run_vbs("backup", "list", *args, "-o", "table", env=emulator.env)
    assert run.exit_code == 2, run.stderr
    assert run.stderr.startswith(f"vbs: error: {args[0]} must")
    added = run_vbs("profile", "add", "x", "--project-id", "p", "--token-env", "T", *args, "-o", "table")
    assert added.exit_code == 2 and added.stderr.startswith(f"vbs: error: {args[0]} must")
    assert emulator.emu.stats()["requests"] == {} and not profiles.path.exists()


def test_the_same_value_from_the_environment_exits_3(emulator: Service):
    run = run_vbs("backup", "list", "-o", "table", env={**emulator.env, "VBS_READ_TIMEOUT": "-1"})
    assert run.exit_code == 3 and run.stderr.startswith("vbs: error: VBS_READ_TIMEOUT must be more than 0")


def test_vbs_ca_bundle_false_does_not_turn_verification_off(emulator: Service):
    run = run_vbs("backup", "list", "-o", "table", env={**emulator.env, "VBS_CA_BUNDLE": "false"})
    assert run.exit_code == 3
    assert "VBS_CA_BUNDLE must be the path of a CA bundle file" in run.stderr and "--insecure" in run.stderr
    assert emulator.emu.stats()["requests"] == {}


def test_insecure_with_a_plain_http_endpoint_has_no_certificate_warning(emulator: Service):
    run = run_vbs("backup", "list", "--insecure", "-o", "table", env=emulator.env)
    assert run.exit_code == 0
    assert "verification" not in run.stderr and "certificate" not in run.stderr


def test_profile_add_refuses_conflicting_options(profiles: Profiles):
    cases = [
        (("--token", "typed-token-x", "--token-env", "T"), "--token and --token-env cannot be combined"),
        (("--token", "typed-token-x", "--access-key", "AK"), "--token and --access-key are for different auth types"),
        (("--access-key", "AK", "--password-env", "PW"), "--password-env and --access-key are for different auth"),
        (("--auth-type", "aksk", "--token-env", "T"), "--token-env does not apply to --auth-type aksk"),
        (("--secret-key", "s", "--secret-key-env", "S"), "--secret-key and --secret-key-env cannot be combined"),
        (("--username", "u", "--user-id", "i"), "--username and --user-id cannot be combined"),
        (("--token-env", "T", "--insecure", "--ca-bundle", "/etc/hostname"), "--insecure and --ca-bundle cannot"),
    ]
    for args, message in cases:
        run = run_vbs(
            "profile", "add", "x", "--endpoint", "https://e.example", "--project-id", "p", *args, "-o", "table"
        )
        assert run.exit_code == 2, (args, run.stderr)
        assert run.stderr.startswith(f"vbs: error: {message}"), run.stderr
    assert not profiles.path.exists()


def test_profile_add_keeps_every_setting_a_profile_can_hold(profiles: Profiles, tmp_path):
    bundle = tmp_path / "ca.pem"
    bundle.write_text("-----BEGIN CERTIFICATE-----\n")
    args = (
        "--endpoint", "https://evs.example/v3", "--project-id", "p1", "--token-env", "T", "--max-attempts", "2",
        "--deadline", "60", "--connect-timeout", "3", "--read-timeout", "30", "--os-region-name", "eu-de",
        "--os-interface", "internal", "--ca-bundle", str(bundle), "--output", "json",
    )  # fmt: skip
    run = run_vbs("profile", "add", "all", *args)
    assert run.exit_code == 0, run.stderr
    assert yaml.safe_load(profiles.path.read_text())["profiles"]["all"] == {
        "endpoint": "https://evs.example/v3",
        "project_id": "p1",
        "region_name": "eu-de",
        "interface": "internal",
        "verify": str(bundle),
        "connect_timeout": 3.0,
        "read_timeout": 30.0,
        "max_attempts": 2,
        "deadline": 60.0,
        "output": "json",
        "auth": {"type": "token", "token_env": "T"},
    }
    app = run_vbs(
        "profile", "add", "app", "--auth-url", "https://iam.example", "--application-credential-id", "ac",
        "--application-credential-secret-env", "APP_SECRET",
    )  # fmt: skip
    assert app.exit_code == 0, app.stderr
    assert yaml.safe_load(profiles.path.read_text())["profiles"]["app"] == {
        "auth": {
            "type": "application_credential",
            "auth_url": "https://iam.example",
            "application_credential_id": "ac",
            "application_credential_secret_env": "APP_SECRET",
        }
    }


def test_profile_add_says_what_a_login_profile_still_needs(profiles: Profiles):
    run = run_vbs("profile", "add", "x", "--auth-url", "https://iam.example", "--username", "u", "-o", "table")
    assert run.exit_code == 2
    assert run.stderr.strip() == (
        "vbs: error: profile 'x' needs --project-id or --project-name, --domain or --user-domain-id, "
        "--password or --password-env; give them as options (no terminal to prompt on)"
    )
    aksk = run_vbs("profile", "add", "x", "--access-key", "AK", "--secret-key-env", "S", "-o", "table")
    assert aksk.exit_code == 2 and "needs --endpoint, --project-id" in aksk.stderr


def test_a_mistyped_setting_is_pointed_out(emulator: Service, profiles: Profiles):
    profiles.write(
        f"profiles:\n  p:\n    endpoint: {emulator.emu.url}\n    project_id: {emulator.emu.project_id}\n"
        "    read_timout: 5\n    auth: {token: demo-token}\n"
    )
    run = run_vbs("backup", "list", "-o", "table")
    assert run.exit_code == 0
    assert "unknown setting 'read_timout' ignored; did you mean 'read_timeout'?" in run.stderr


def test_a_dry_run_sends_and_writes_nothing_for_every_auth_type(emulator: Service, profiles: Profiles, isolated_env):
    emu = emulator.emu
    profiles.write(f"""\
profiles:
  tok: {{endpoint: '{emu.url}', project_id: {emu.project_id}, auth: {{token: demo-token}}}}
  ak:
    endpoint: {emu.url}
    project_id: {emu.project_id}
    auth: {{type: aksk, access_key: DEMOACCESSKEY0000000, secret_key: demo-secret-key}}
  pw:
    endpoint: {emu.url}
    project_id: {emu.project_id}
    auth: {{type: password, auth_url: '{emu.url}', username: demo, password: demo-password, domain: demo-domain}}
  app:
    endpoint: {emu.url}
    project_id: {emu.project_id}
    auth: {{type: application_credential, auth_url: '{emu.url}', application_credential_id: x,
           application_credential_secret: demo-app-secret}}
""")
    for name in ("tok", "ak", "pw", "app"):
        run = run_vbs("-p", name, *CREATE, "--dry-run")
        assert run.exit_code == 0, (name, run.stderr)
        assert run.json()["url"] == f"{emu.url}/v3/{emu.project_id}/backups"
    assert emu.stats()["requests"] == {}
    assert not (isolated_env / ".cache").exists()


def test_profile_add_takes_the_endpoint_a_catalog_lists(emulator: Service, profiles: Profiles):
    # `openstack catalog list` shows https://host/v3/<project_id>: it says the project too
    endpoint = f"{emulator.emu.url}/v3/{emulator.emu.project_id}"
    run = run_vbs("profile", "add", "cat", "--endpoint", endpoint, "--token-env", "T", "-o", "table")
    assert run.exit_code == 0, run.stderr
    listed = run_vbs("-p", "cat", "backup", "list", env={"T": "demo-token"})
    assert listed.exit_code == 0, listed.stderr
    assert emulator.requests("GET backups_detail") == 1


def test_profile_add_refuses_a_profile_option_it_would_ignore(profiles: Profiles):
    run = run_vbs("-p", "prod", "profile", "add", "x", "--endpoint", "https://e.example", "--project-id", "p",
                  "--token-env", "T", "-o", "table")  # fmt: skip
    assert run.exit_code == 2
    assert run.stderr.startswith("vbs: error: --profile has no effect on 'profile add': the profile added is NAME (x)")
    assert not profiles.path.exists()

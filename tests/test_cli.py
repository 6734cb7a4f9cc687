"""Each option and each exit code through typer's CliRunner (stdout is not a terminal here)."""

import json
import re

import pytest
import responses
from responses import matchers

from tests.conftest import PROJECT, SNAPSHOT, TOKEN, VOLUME
from tests.helpers import invoke
from tests.test_client import BACKUP_ID, CREATED

ENDPOINT = "https://evs.test.example"
URL = f"{ENDPOINT}/v3/{PROJECT}/backups"
CREATE = ("backup", "create", "--volume-id", VOLUME, "--snapshot-id", SNAPSHOT)
ANSI = re.compile(r"\x1b\[")


@pytest.fixture
def service(prod_profile):
    with responses.RequestsMock() as mock:
        yield mock


def test_version_and_help():
    from vbscli import __version__

    assert invoke("--version").stdout == f"vbs {__version__}\n"
    run = invoke("--help")
    assert run.exit_code == 0 and "backup" in run.stdout
    run = invoke("backup", "create", "-h")
    assert run.exit_code == 0
    for option in ("--volume-id", "--snapshot-id", "--name", "--description", "--force", "--dry-run", "--output"):
        assert option in run.stdout


def test_json_is_the_default_off_a_terminal_and_is_the_document_unchanged(service):
    service.post(URL, json=CREATED, status=202)
    run = invoke(*CREATE, "--name", "backup1")
    assert run.exit_code == 0, run.stderr
    assert run.json() == CREATED
    assert run.stderr == ""


@pytest.mark.parametrize(
    "args",
    [
        ("-o", "json", *CREATE),
        (*CREATE, "-o", "json"),
        ("backup", "-o", "json", "create", "--volume-id", VOLUME, "--snapshot-id", SNAPSHOT),
        (*CREATE, "--output", "JSON"),
    ],
)
def test_output_option_is_accepted_where_users_put_it(service, args):
    service.post(URL, json=CREATED, status=202)
    assert invoke(*args).json() == CREATED


def test_option_closest_to_the_command_wins(service):
    service.post(URL, json=CREATED, status=202)
    run = invoke("-o", "json", *CREATE, "-o", "table")
    assert run.stdout.lstrip().startswith(("┏", "+", "╭", "┌")) or "Field" in run.stdout


def test_table_shows_id_name_and_both_links_in_full_without_colour(service):
    service.post(URL, json=CREATED, status=202)
    run = invoke(*CREATE, "-o", "table")
    assert run.exit_code == 0
    for value in (BACKUP_ID, "backup1", CREATED["backup"]["links"][0]["href"], CREATED["backup"]["links"][1]["href"]):
        assert value in run.stdout
    assert not ANSI.search(run.stdout)
    assert "…" not in run.stdout


def test_output_from_environment_and_profile(service, prod_profile):
    service.post(URL, json=CREATED, status=202)
    assert BACKUP_ID in invoke(*CREATE, env={"VBS_OUTPUT": "table"}).stdout
    assert "Field" in invoke(*CREATE, env={"VBS_OUTPUT": "table"}).stdout
    prod_profile.write(prod_profile.path.read_text().replace("    verify: true\n", "    output: table\n", 1))
    assert "Bookmark link" in invoke(*CREATE).stdout
    assert invoke(*CREATE, "-o", "json").json() == CREATED


def test_request_carries_token_from_profile_and_only_given_fields(service):
    service.post(URL, json=CREATED, status=202, match=[matchers.header_matcher({"X-Auth-Token": TOKEN})])
    assert invoke(*CREATE, "--description", "nightly", "--force").exit_code == 0
    body = json.loads(service.calls[0].request.body)
    name = body["backup"].pop("name")
    assert body == {"backup": {"volume_id": VOLUME, "snapshot_id": SNAPSHOT, "description": "nightly", "force": True}}
    assert re.fullmatch(r"vbs-\d{8}-\d{6}-[0-9a-f]{6}", name), name


def test_profile_selection_by_flag(service):
    service.post(f"{ENDPOINT}/v3/0123456789abcdef0123456789abcdef/backups", json=CREATED, status=202)
    assert invoke(*CREATE, "-p", "lab").exit_code == 0
    assert invoke("--profile", "lab", *CREATE).exit_code == 0


def test_flags_override_profile(service):
    service.post(
        "https://other.example/v3/p2/backups",
        json=CREATED,
        status=202,
        match=[matchers.request_kwargs_matcher({"timeout": (5.0, 2.5)})],
    )
    run = invoke(*CREATE, "--endpoint", "https://other.example", "--project-id", "p2", "--read-timeout", "2.5")
    assert run.exit_code == 0, run.stderr


@pytest.mark.parametrize(
    ("extra", "field"),
    [
        (("--name", "auto_daily"), "--name"),
        (("--name", "x" * 65), "--name"),
        (("--name", "has space"), "--name"),
        (("--description", "<script>"), "--description"),
    ],
)
def test_invalid_input_exits_2_and_sends_nothing(service, extra, field):
    run = invoke(*CREATE, *extra, "-o", "table")
    assert run.exit_code == 2
    assert run.stdout == ""
    assert run.stderr.startswith(f"vbs: error: invalid {field} ")
    assert len(run.stderr.strip().splitlines()) == 1
    assert len(service.calls) == 0


def test_bad_uuid_exits_2(service):
    run = invoke("backup", "create", "--volume-id", "vol-1", "--snapshot-id", SNAPSHOT)
    assert run.exit_code == 2
    assert run.error()["code"] == "InvalidInput"
    assert run.error()["message"].startswith("invalid --volume-id 'vol-1': not a UUID")
    assert len(service.calls) == 0


def test_invalid_input_is_reported_before_configuration_problems():
    run = invoke("backup", "create", "--volume-id", VOLUME, "--snapshot-id", "nope")
    assert run.exit_code == 2


def test_missing_option_and_bad_choice_are_usage_errors():
    run = invoke("backup", "create", "--snapshot-id", SNAPSHOT, "-o", "table")
    assert run.exit_code == 2
    assert run.stderr == "vbs: error: missing --volume-id; give the disk to back up, or --from FILE\n"
    run = invoke("backup", "create", "--volume-idd", VOLUME)
    assert run.exit_code == 2 and "No such option: --volume-idd" in run.stderr
    assert "see 'vbs backup create --help'" in run.stderr
    run = invoke(*CREATE, "-o", "xml")
    assert run.exit_code == 2 and "'xml' is not one of" in run.stderr


def test_configuration_problem_exits_3():
    run = invoke(*CREATE, "-o", "table")
    assert run.exit_code == 3
    assert run.stdout == ""
    assert run.stderr.startswith("vbs: error: no profile file at")
    assert "add a profile with 'vbs profile add NAME'" in run.stderr  # the command that makes one, first


def test_unknown_profile_exits_3_listing_known(prod_profile):
    run = invoke(*CREATE, "-p", "nope")
    assert run.exit_code == 3
    assert "known profiles: lab, prod" in run.stderr


def test_loose_file_permissions_warn_on_stderr(service, prod_profile):
    prod_profile.write(prod_profile.path.read_text(), mode=0o644)
    service.post(URL, json=CREATED, status=202)
    run = invoke(*CREATE)
    assert run.exit_code == 0
    assert "vbs: warning:" in run.stderr and "chmod 600" in run.stderr
    assert run.json() == CREATED


@pytest.mark.parametrize(
    ("status", "body", "exit_code", "hint"),
    [
        (400, {"badRequest": {"code": "VolumeBackup.0012", "message": "Volume is not available"}}, 1, None),
        (401, {"unauthorized": {"code": 401, "message": "Authentication required"}}, 4, "profile 'prod'"),
        (403, {"forbidden": {"code": 403, "message": "Denied"}}, 4, "may not do this in this project"),
        (429, {"error_code": "APIGW.0308", "error_msg": "Throttled"}, 5, "throttling"),
        (500, {"computeFault": {"code": 500, "message": "Internal"}}, 5, "try again later"),
        (404, {"itemNotFound": {"code": 404, "message": "Volume not found"}}, 1, "check the IDs, the endpoint URL"),
        (404, {"itemNotFound": {"code": "VolumeBackup.0021", "message": "No such disk"}}, 1, "check the IDs"),
        (400, {"badRequest": {"code": "VolumeBackup.0021", "message": "No such disk"}}, 1, "check the IDs"),
    ],
)
def test_service_errors_human(service, status, body, exit_code, hint):
    service.post(URL, json=body, status=status, headers={"X-Openstack-Request-Id": "req-abc"})
    if status == 500:
        service.get(f"{URL}/detail", json={"backups": []})  # a 500 may have created it: vbs looks first
    run = invoke(*CREATE, "-o", "table")
    assert run.exit_code == exit_code
    assert run.stdout == ""
    lines = run.stderr.strip().splitlines()
    assert len(lines) == 1
    assert lines[0].startswith(f"vbs: error: HTTP {status} ")
    assert "(request id req-abc)" in lines[0]
    if hint:
        assert hint in lines[0]


def test_service_error_as_json_on_stderr(service):
    service.post(
        URL,
        json={"badRequest": {"code": "VolumeBackup.0005", "message": "Name starts with auto"}},
        status=400,
        headers={"X-Request-Id": "req-1"},
    )
    run = invoke(*CREATE, "-o", "json")
    assert run.exit_code == 1
    assert run.stdout == ""
    assert run.error() == {
        "status": 400,
        "code": "VolumeBackup.0005",
        "message": "Name starts with auto",
        "request_id": "req-1",
    }


def test_errors_follow_the_output_format_json_by_default_off_a_terminal():
    run = invoke(*CREATE)
    assert run.exit_code == 3
    err = run.error()
    assert err["code"] == "ConfigError" and err["status"] is None and "no profile file" in err["message"]


def test_dry_run_prints_the_request_with_the_token_masked_and_sends_nothing(service):
    run = invoke(*CREATE, "--name", "b1", "--dry-run", "-o", "json")
    assert run.exit_code == 0
    doc = run.json()
    assert doc["method"] == "POST" and doc["url"] == URL
    assert doc["headers"]["X-Auth-Token"] == "<redacted>"
    assert doc["headers"]["Content-Type"] == "application/json"
    assert doc["body"] == {"backup": {"volume_id": VOLUME, "snapshot_id": SNAPSHOT, "name": "b1"}}
    text = invoke(*CREATE, "--dry-run", "-o", "table").stdout
    assert text.startswith(f"POST {URL}\n") and "X-Auth-Token: <redacted>" in text
    assert len(service.calls) == 0


def test_dry_run_still_validates(service):
    assert invoke(*CREATE, "--name", "auto1", "--dry-run").exit_code == 2


def test_debug_traces_http_on_stderr_without_secrets(service):
    service.post(URL, json=CREATED, status=202, headers={"X-Openstack-Request-Id": "req-77"})
    run = invoke("--debug", *CREATE)
    assert run.exit_code == 0
    assert run.json() == CREATED  # stdout unchanged
    assert f"vbs: debug: > POST {URL}" in run.stderr
    assert "X-Auth-Token: <redacted>" in run.stderr
    assert "vbs: debug: < HTTP 202" in run.stderr and "req-77" in run.stderr


def test_insecure_warns(service):
    service.post(URL, json=CREATED, status=202, match=[matchers.request_kwargs_matcher({"verify": False})])
    run = invoke(*CREATE, "--insecure")
    assert run.exit_code == 0
    assert "TLS certificate verification is off" in run.stderr


def test_ca_bundle_is_used_for_verification(service, tmp_path):
    bundle = tmp_path / "ca.pem"
    bundle.write_text("-----BEGIN CERTIFICATE-----\n")
    service.post(URL, json=CREATED, status=202, match=[matchers.request_kwargs_matcher({"verify": str(bundle)})])
    assert invoke(*CREATE, "--ca-bundle", str(bundle)).exit_code == 0
    run = invoke(*CREATE, "--ca-bundle", str(tmp_path / "missing.pem"))
    assert run.exit_code == 2 and "--ca-bundle names a CA bundle that does not exist" in run.stderr


def test_env_only_configuration(service):
    service.post(
        "https://env.example/v3/pe/backups",
        json=CREATED,
        status=202,
        match=[matchers.header_matcher({"X-Auth-Token": "env-token-secret"})],
    )
    from tests.helpers import SECRETS

    SECRETS.add("env-token-secret")
    env = {
        "VBS_ENDPOINT": "https://env.example",
        "VBS_PROJECT_ID": "pe",
        "VBS_TOKEN": "env-token-secret",
        "VBS_CONFIG": "",
    }
    run = invoke(*CREATE, env=env)
    assert run.exit_code == 0, run.stderr


def test_unexpected_errors_have_no_traceback_unless_debug(service, monkeypatch):
    from vbscli import backups

    def broken(*a, **k):
        raise RuntimeError("kaboom")

    monkeypatch.setattr(backups, "create", broken)
    run = invoke(*CREATE, "-o", "table")
    assert run.exit_code == 70
    assert (
        run.stderr.strip()
        == "vbs: error: unexpected RuntimeError: kaboom (a bug in vbs; run with --debug for the traceback)"
    )
    debug = invoke("--debug", *CREATE, check=False)
    assert debug.exit_code == 70 and "Traceback" in debug.stderr and "kaboom" in debug.stderr


def test_stdout_is_empty_on_every_failure(service):
    service.post(URL, body=b"<html>oops</html>", status=500)
    service.get(f"{URL}/detail", json={"backups": []})
    run = invoke(*CREATE)
    assert run.exit_code == 5 and run.stdout == ""
    assert json.loads(run.stderr)["error"]["status"] == 500


def test_insecure_warns_about_a_catalog_endpoint_only_if_it_speaks_tls(profiles):
    # The catalog tells the endpoint after the settings are read: the warning follows what it tells.
    for root, warned in (("https://cinder.example", True), ("http://127.0.0.1:8776", False)):
        profiles.write(  # another credential each time, so that no login is taken from the cache
            "profiles:\n  cat:\n    auth: {type: application_credential, auth_url: 'http://127.0.0.1:5000',"
            f" application_credential_id: ac-{warned}, application_credential_secret: s3cret-app}}\n"
        )
        with responses.RequestsMock() as mock:
            catalog = [{"type": "volumev3", "endpoints": [{"interface": "public", "region": "r", "url": root}]}]
            token = {"expires_at": "2999-01-01T00:00:00Z", "project": {"id": PROJECT}, "catalog": catalog}
            mock.post("http://127.0.0.1:5000/v3/auth/tokens", json={"token": token}, headers={"X-Subject-Token": "t"})
            mock.get(f"{root}/v3/{PROJECT}/backups/detail", json={"backups": []})
            run = invoke("--insecure", "--profile", "cat", "backup", "list")
        assert run.exit_code == 0, run.stderr
        said = "vbs: warning: TLS certificate verification is off for https://cinder.example\n"
        assert run.stderr == (said if warned else ""), run.stderr

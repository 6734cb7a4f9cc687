"""clouds.yaml end to end: the installed `vbs`, a clouds.yaml in a temporary XDG_CONFIG_HOME, and the
emulator as both Keystone (logins, service catalog in two regions) and the service."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from tests.conftest import Profiles, Service, file_mode
from tests.helpers import SECRETS, run_vbs

VOLUME = "5c1a9f0e-2b3d-4e5f-8a9b-0c1d2e3f4a01"
SNAPSHOT = "9e3c7d21-6f4a-4b8c-9d0e-1f2a3b4c5d01"
CREATE = ("backup", "create", "--volume-id", VOLUME, "--snapshot-id", SNAPSHOT)
APP_ID = "0c6e8a2f4b1d4e3a9f7c5b2d1e0a9b8c"
SECRETS.update({"demo-app-secret", "wrong-app-secret"})
ROOT = Path(__file__).resolve().parent.parent


def clouds_yaml(home: Path, url: str, password_region: str | None = "RegionOne") -> Path:
    """Clouds as an OpenStack dashboard writes them; the password lives apart in secure.yaml."""
    region = f"    region_name: {password_region}\n" if password_region else ""
    directory = home / ".config" / "openstack"
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "clouds.yaml").write_text(
        "clouds:\n"
        "  demo:\n"
        "    auth:\n"
        f"      auth_url: {url}/v3\n"
        "      username: demo\n"
        "      user_domain_name: demo-domain\n"
        "      project_name: eu-de_demo\n"
        "      project_domain_name: demo-domain\n"
        f"{region}"
        "    identity_api_version: 3\n"
        "  appcred:\n"
        "    auth_type: v3applicationcredential\n"
        "    auth:\n"
        f"      auth_url: {url}\n"
        f"      application_credential_id: {APP_ID}\n"
        "      application_credential_secret: demo-app-secret\n"
        "    region_name: RegionOne\n"
        "  appcred-by-name:\n"
        "    auth_type: v3applicationcredential\n"
        "    auth:\n"
        f"      auth_url: {url}\n"
        "      application_credential_name: vbs-nightly\n"
        "      application_credential_secret: demo-app-secret\n"
        "      username: demo\n"
        "      user_domain_name: demo-domain\n"
        "    region_name: RegionTwo\n"
        "  tokencloud:\n"
        "    auth_type: v3token\n"
        "    auth: {auth_url: '" + url + "', token: demo-token, project_id: 0123456789abcdef0123456789abcdef}\n"
        "    region_name: RegionOne\n"
        "  pinned:\n"
        "    auth_type: token\n"
        "    auth: {auth_url: '" + url + "', token: demo-token, project_id: 0123456789abcdef0123456789abcdef}\n"
        f"    block_storage_endpoint_override: {url}/v3/0123456789abcdef0123456789abcdef\n"
    )
    (directory / "secure.yaml").write_text("clouds:\n  demo:\n    auth:\n      password: demo-password\n")
    return directory


def self_link(run) -> str:
    return next(link["href"] for link in run.json()["backup"]["links"] if link["rel"] == "self")


def test_a_password_cloud_finds_the_endpoint_in_the_catalog(emulator: Service, isolated_env: Path):
    clouds_yaml(isolated_env, emulator.emu.url)
    run = run_vbs("--os-cloud", "demo", *CREATE, "--name", "from-clouds", "--wait")
    assert run.exit_code == 0, run.stderr
    assert run.json()["backup"]["status"] == "available"
    assert self_link(run).startswith(f"{emulator.emu.url}/v3/{emulator.emu.project_id}/backups/")
    assert emulator.requests("POST auth_tokens") == 1 and emulator.created() == 1


def test_the_region_chooses_the_catalog_endpoint(emulator: Service, isolated_env: Path):
    clouds_yaml(isolated_env, emulator.emu.url, password_region="RegionTwo")
    run = run_vbs("--os-cloud", "demo", *CREATE)
    assert run.exit_code == 0, run.stderr
    assert self_link(run).startswith(f"http://localhost:{emulator.emu.port}/v3/")  # RegionTwo's URL
    one = run_vbs("--os-cloud", "demo", "--os-region-name", "RegionOne", *CREATE)
    assert self_link(one).startswith(f"http://127.0.0.1:{emulator.emu.port}/v3/")
    env = run_vbs("--os-cloud", "appcred", *CREATE, env={"OS_REGION_NAME": "RegionTwo"})
    assert self_link(env).startswith("http://127.0.0.1:")  # the cloud's own region_name beats the variable


def test_several_regions_and_none_chosen_is_exit_3_listing_them(emulator: Service, isolated_env: Path):
    clouds_yaml(isolated_env, emulator.emu.url, password_region=None)
    run = run_vbs("--os-cloud", "demo", *CREATE, "-o", "table")
    assert run.exit_code == 3
    assert "block-storage endpoints in several regions: RegionOne, RegionTwo" in run.stderr
    assert "region_name" in run.stderr
    assert emulator.requests("POST backups") == 0


def test_a_cached_run_makes_no_extra_call(emulator: Service, isolated_env: Path):
    clouds_yaml(isolated_env, emulator.emu.url)
    for name in ("first", "second", "third"):
        assert run_vbs("--os-cloud", "demo", *CREATE, "--name", name).exit_code == 0
    assert emulator.requests("POST auth_tokens") == 1
    assert emulator.requests("POST backups") == 3
    cached = list((isolated_env / ".cache" / "vbs" / "tokens").glob("*.json"))
    assert len(cached) == 1 and file_mode(cached[0]) == 0o600 and file_mode(cached[0].parent) == 0o700
    doc = json.loads(cached[0].read_text())
    assert {e["region_id"] for e in doc["extra"]["catalog"]} == {"RegionOne", "RegionTwo"}
    assert "demo-password" not in cached[0].read_text()


def test_application_credentials_by_id_and_by_name(emulator: Service, isolated_env: Path):
    clouds_yaml(isolated_env, emulator.emu.url)
    by_id = run_vbs("--os-cloud", "appcred", *CREATE, "--name", "by-id")
    assert by_id.exit_code == 0, by_id.stderr
    by_name = run_vbs("--os-cloud", "appcred-by-name", *CREATE, "--name", "by-name")
    assert by_name.exit_code == 0, by_name.stderr
    assert self_link(by_name).startswith("http://localhost:")
    assert emulator.requests("POST auth_tokens") == 2 and emulator.created() == 2
    cached = list((isolated_env / ".cache" / "vbs" / "tokens").glob("*.json"))
    assert len(cached) == 2 and all(file_mode(f) == 0o600 for f in cached)
    for file in cached:  # the token and the catalog, never the secret the token was obtained with
        assert set(json.loads(file.read_text())) == {"token", "expires_at", "project_id", "extra"}
        assert "demo-app-secret" not in file.read_text()


def test_a_refused_application_credential_exits_4(emulator: Service, isolated_env: Path):
    directory = clouds_yaml(isolated_env, emulator.emu.url)
    (directory / "secure.yaml").write_text(
        "clouds:\n  appcred:\n    auth:\n      application_credential_secret: wrong-app-secret\n"
    )
    run = run_vbs("--os-cloud", "appcred", *CREATE, "-o", "table")
    assert run.exit_code == 4
    assert "IAM login at" in run.stderr and "cloud 'appcred' (auth type application_credential)" in run.stderr
    assert emulator.requests("POST backups") == 0


def test_application_credentials_from_openrc_variables(emulator: Service):
    openrc = {
        "OS_AUTH_TYPE": "v3applicationcredential",
        "OS_AUTH_URL": f"{emulator.emu.url}/v3",
        "OS_IDENTITY_API_VERSION": "3",
        "OS_REGION_NAME": "RegionOne",
        "OS_INTERFACE": "public",
        "OS_APPLICATION_CREDENTIAL_ID": APP_ID,
        "OS_APPLICATION_CREDENTIAL_SECRET": "demo-app-secret",
    }
    run = run_vbs(*CREATE, "--wait", env=openrc)
    assert run.exit_code == 0, run.stderr
    assert run.json()["backup"]["status"] == "available"


def test_a_token_is_traded_for_one_with_a_catalog_unless_the_endpoint_is_set(emulator: Service, isolated_env: Path):
    clouds_yaml(isolated_env, emulator.emu.url)
    run = run_vbs("--os-cloud", "tokencloud", *CREATE, "--name", "traded")
    assert run.exit_code == 0, run.stderr
    assert emulator.requests("POST auth_tokens") == 1
    pinned = run_vbs("--os-cloud", "pinned", *CREATE, "--name", "pinned")  # endpoint override: no login at all
    assert pinned.exit_code == 0, pinned.stderr
    assert emulator.requests("POST auth_tokens") == 1 and emulator.created() == 2


def test_profile_test_proves_a_cloud_like_a_profile(emulator: Service, isolated_env: Path):
    clouds_yaml(isolated_env, emulator.emu.url)
    run = run_vbs("--os-cloud", "demo", "profile", "test")
    assert run.exit_code == 0, run.stderr
    doc = run.json()
    assert (doc["ok"], doc["cloud"], doc["auth_type"]) == (True, "demo", "password")
    assert (doc["endpoint"], doc["project_id"]) == (emulator.emu.url, emulator.emu.project_id)
    run = run_vbs("profile", "test", env={"OS_CLOUD": "appcred"})
    assert run.exit_code == 0 and run.json()["cloud"] == "appcred"


def test_profile_show_and_list_say_where_each_setting_came_from(
    emulator: Service, isolated_env: Path, profiles: Profiles
):
    directory = clouds_yaml(isolated_env, emulator.emu.url)
    profiles.write("default: nightly\nprofiles:\n  nightly:\n    cloud: demo\n    read_timeout: 120\n")
    shown = run_vbs("profile", "show", "nightly", env={"VBS_DEADLINE": "600"})
    assert shown.exit_code == 0, shown.stderr
    doc = shown.json()["profile"]
    assert (doc["name"], doc["cloud"], doc["default"], doc["read_timeout"]) == ("nightly", "demo", True, 120.0)
    assert doc["auth"]["password"] == "<redacted>" and doc["endpoint"] is None
    origins = doc["origins"]
    assert origins["read_timeout"] == f"profile file {profiles.path} (profile 'nightly')"
    assert origins["auth.username"] == f"clouds.yaml {directory / 'clouds.yaml'} (cloud 'demo')"
    assert origins["auth.password"] == f"secure.yaml {directory / 'secure.yaml'} (cloud 'demo')"
    assert origins["region_name"] == f"clouds.yaml {directory / 'clouds.yaml'} (cloud 'demo')"
    assert origins["deadline"] == "environment VBS_DEADLINE"
    assert origins["endpoint"] == "service catalog (at login)"
    assert emulator.requests("POST auth_tokens") == 0  # showing settings never logs in

    assert run_vbs("backup", "list").exit_code == 0  # a login: now the catalog is cached
    doc = run_vbs("profile", "show", "-o", "json").json()["profile"]
    assert (doc["endpoint"], doc["origins"]["endpoint"]) == (emulator.emu.url, "service catalog (cached login)")
    assert (doc["project_id"], doc["origins"]["project_id"]) == (emulator.emu.project_id, "the login (cached)")

    listed = {(e["source"], e["name"]): e for e in run_vbs("profile", "list").json()["profiles"]}
    assert listed[("profile", "nightly")]["default"] is True
    assert listed[("profile", "nightly")]["endpoint_from"] == "service catalog"
    assert listed[("cloud", "pinned")]["endpoint_from"] == "clouds.yaml"
    assert listed[("cloud", "appcred")]["auth_type"] == "application_credential"
    table = run_vbs("profile", "list", "-o", "table").stdout
    assert "nightly" in table and "appcred-by-name" in table and "demo-app-secret" not in table


def test_a_dry_run_with_a_catalog_sends_nothing_and_writes_nothing(emulator: Service, isolated_env: Path):
    clouds_yaml(isolated_env, emulator.emu.url)
    run = run_vbs("--os-cloud", "demo", *CREATE, "--dry-run", "-o", "table")
    assert run.exit_code == 2
    assert "--dry-run sends nothing, not even a login" in run.stderr and "--endpoint" in run.stderr
    assert emulator.emu.stats()["requests"] == {}
    delete = ("--os-cloud", "demo", "backup", "delete", "00000000-0000-4000-8000-000000000000", "--dry-run")
    assert run_vbs(*delete, "-o", "table").exit_code == 2
    assert emulator.emu.stats()["requests"] == {}
    assert not (isolated_env / ".cache").exists()
    assert run_vbs("--os-cloud", "demo", *CREATE, "--name", "real").exit_code == 0  # the login is cached now
    emulator.emu.reset_stats()
    dry = run_vbs("--os-cloud", "demo", *CREATE, "--dry-run")
    assert dry.exit_code == 0, dry.stderr
    assert dry.json()["url"] == f"{emulator.emu.url}/v3/{emulator.emu.project_id}/backups"
    assert dry.json()["headers"]["X-Auth-Token"] == "<redacted>"
    deleted = run_vbs(*delete)
    assert deleted.exit_code == 0, deleted.stderr
    assert deleted.json()["url"].startswith(f"{emulator.emu.url}/v3/{emulator.emu.project_id}/backups/")
    assert emulator.emu.stats()["requests"] == {}
    pinned = run_vbs("--os-cloud", "pinned", *CREATE, "--dry-run")
    assert pinned.exit_code == 0 and emulator.emu.stats()["requests"] == {}


def readme_example() -> tuple[str, str]:
    """The README's clouds.yaml and secure.yaml, as written there."""
    section = (ROOT / "README.md").read_text().split("### clouds.yaml", 1)[1].split("\n### ", 1)[0]
    clouds, secure = re.findall(r"```yaml\n(.*?)```", section, re.S)
    return clouds, secure


def test_the_readme_clouds_yaml_example_works_against_the_emulator(emulator: Service, isolated_env: Path):
    clouds, secure = readme_example()
    assert "https://keystone.example.com:5000/v3" in clouds
    directory = isolated_env / ".config" / "openstack"
    directory.mkdir(parents=True)
    here = clouds.replace("https://keystone.example.com:5000/v3", f"{emulator.emu.url}/v3")
    (directory / "clouds.yaml").write_text(here.replace("<application credential secret>", "demo-app-secret"))
    (directory / "secure.yaml").write_text(secure)
    names = re.findall(r"^  ([\w-]+):", clouds, re.M)
    assert names == ["mycloud", "mycloud-cron"]
    for cloud in names:
        run = run_vbs("--os-cloud", cloud, "profile", "test")
        assert run.exit_code == 0, f"{cloud}: {run.stderr}"
    assert emulator.requests("POST auth_tokens") == 2


@pytest.mark.parametrize("region", ["RegionOne", "RegionTwo"])
def test_a_profile_can_hold_the_login_and_let_the_catalog_give_the_endpoint(
    emulator: Service, profiles: Profiles, region: str
):
    profiles.write(f"""\
profiles:
  keystone:
    region_name: {region}
    auth:
      type: application_credential
      auth_url: {emulator.emu.url}
      application_credential_id: {APP_ID}
      application_credential_secret_env: APP_SECRET
""")
    run = run_vbs(*CREATE, env={"APP_SECRET": "demo-app-secret\n"})
    assert run.exit_code == 0, run.stderr
    host = "127.0.0.1" if region == "RegionOne" else "localhost"
    assert self_link(run).startswith(f"http://{host}:{emulator.emu.port}/")


def test_a_broken_clouds_yaml_does_not_hide_the_profiles(isolated_env: Path, prod_profile: Profiles):
    directory = isolated_env / ".config" / "openstack"
    directory.mkdir(parents=True)
    (directory / "clouds.yaml").write_text("clouds:\n  c: [unclosed\n")
    run = run_vbs("profile", "list")
    assert run.exit_code == 0
    entries = run.json()["profiles"]
    assert [e["name"] for e in entries if e["source"] == "profile"] == ["lab", "prod"]
    assert "invalid YAML" in next(e["problem"] for e in entries if e["source"] == "cloud")
    shown = run_vbs("--os-cloud", "c", "profile", "show", "-o", "table")
    assert shown.exit_code == 3 and f"{directory / 'clouds.yaml'}:3:1: invalid YAML" in shown.stderr


def test_profile_add_points_a_profile_at_a_cloud(emulator: Service, isolated_env: Path, profiles: Profiles):
    clouds_yaml(isolated_env, emulator.emu.url)
    run = run_vbs("profile", "add", "nightly", "--os-cloud", "appcred", "--read-timeout", "120", "--max-attempts", "6")
    assert run.exit_code == 0, run.stderr
    assert run.json()["profile"]["cloud"] == "appcred"
    listed = run_vbs("-p", "nightly", "backup", "list")
    assert listed.exit_code == 0, listed.stderr
    missing = run_vbs("profile", "add", "broken", "--os-cloud", "nope", "-o", "table")
    assert missing.exit_code == 3 and "cloud 'nope'" in missing.stderr and "known clouds: appcred" in missing.stderr


def test_a_debug_trace_of_an_application_credential_login_shows_no_secret(emulator: Service, isolated_env: Path):
    clouds_yaml(isolated_env, emulator.emu.url)
    run = run_vbs("--debug", "--os-cloud", "appcred", *CREATE)  # the guard fails the test if a secret is printed
    assert run.exit_code == 0, run.stderr
    assert '"secret": "<redacted>"' in run.stderr and "X-Subject-Token: <redacted>" in run.stderr
    assert f'"id": "{APP_ID}"' in run.stderr  # the credential's ID is no secret: it says which one was used


def test_a_catalog_endpoint_for_another_project_is_refused_showing_both(emulator: Service, isolated_env: Path):
    # An application credential carries its own project: a project ID configured beside it that is not
    # that project would send every request to another project's URL.
    directory = clouds_yaml(isolated_env, emulator.emu.url)
    other = "ffffffffffffffffffffffffffffffff"
    text = (directory / "clouds.yaml").read_text()
    (directory / "clouds.yaml").write_text(text.replace("  appcred:\n", f"  appcred:\n    project_id: '{other}'\n", 1))
    run = run_vbs("--os-cloud", "appcred", "backup", "list", "-o", "table")
    assert run.exit_code == 3, run.stderr
    assert f"gives block storage for project {emulator.emu.project_id}, but the project ID is {other}" in run.stderr
    assert "clouds.yaml" in run.stderr and len(run.stderr.splitlines()) == 1
    assert emulator.requests("GET backups_detail") == 0


def test_a_vendor_profile_gives_the_keystone_and_the_region(emulator: Service, isolated_env: Path):
    # As an OTC user's clouds.yaml names `profile: otc`, this one names a vendor profile published in a
    # clouds-public.yaml: the Keystone to log in at, and the region whose catalog endpoint is used.
    directory = isolated_env / ".config" / "openstack"
    directory.mkdir(parents=True)
    (directory / "clouds-public.yaml").write_text(
        f"public-clouds:\n  emu:\n    auth: {{auth_url: '{emulator.emu.url}/v3'}}\n"
        "    regions: [RegionTwo, RegionOne]\n"
    )
    (directory / "clouds.yaml").write_text(
        "clouds:\n  mine:\n    profile: emu\n    auth_type: v3applicationcredential\n"
        f"    auth: {{application_credential_id: {APP_ID}, application_credential_secret: demo-app-secret}}\n"
    )
    run = run_vbs("--os-cloud", "mine", *CREATE)
    assert run.exit_code == 0, run.stderr
    assert emulator.requests("POST auth_tokens") == 1 and emulator.created() == 1
    assert self_link(run).startswith(f"http://localhost:{emulator.emu.port}/v3/")  # RegionTwo's URL
    shown = run_vbs("--os-cloud", "mine", "profile", "show").json()["profile"]
    assert shown["auth"]["auth_url"] == f"{emulator.emu.url}/v3"
    assert shown["origins"]["auth.auth_url"] == f"clouds-public.yaml {directory / 'clouds-public.yaml'} (profile 'emu')"


def test_show_and_test_take_the_names_that_list_shows(emulator: Service, isolated_env: Path, profiles: Profiles):
    clouds_yaml(isolated_env, emulator.emu.url)
    listed = run_vbs("profile", "list").json()["profiles"]
    assert ("cloud", "appcred") in {(e["source"], e["name"]) for e in listed}
    shown = run_vbs("profile", "show", "appcred")
    assert shown.exit_code == 0, shown.stderr
    assert (shown.json()["profile"]["cloud"], shown.json()["profile"]["name"]) == ("appcred", None)
    tested = run_vbs("profile", "test", "appcred", "-o", "table")
    assert tested.exit_code == 0, tested.stderr
    assert "appcred" in tested.stdout and "None" not in tested.stdout and "True" not in tested.stdout
    profiles.write(
        f"profiles:\n  appcred:\n    endpoint: {emulator.emu.url}\n    project_id: {emulator.emu.project_id}\n"
        "    auth: {type: token, token: demo-token}\n"
    )
    assert run_vbs("profile", "show", "appcred").json()["profile"]["name"] == "appcred"  # a profile first
    unknown = run_vbs("profile", "show", "nope", "-o", "table")
    assert unknown.exit_code == 3
    assert "'nope' is neither a profile" in unknown.stderr and "appcred-by-name, demo" in unknown.stderr
    both = run_vbs("-p", "appcred", "profile", "test", "demo", "-o", "table")
    assert both.exit_code == 2 and "NAME and --profile" in both.stderr


def test_list_and_show_mark_what_a_command_uses_without_a_name(emulator: Service, isolated_env: Path):
    directory = isolated_env / ".config" / "openstack"
    directory.mkdir(parents=True)
    (directory / "clouds.yaml").write_text(
        f"clouds:\n  only:\n    auth: {{auth_url: '{emulator.emu.url}', token: demo-token, project_id: p1}}\n"
    )
    listed = run_vbs("profile", "list").json()["profiles"]
    assert [(e["name"], e["default"]) for e in listed] == [("only", True)]  # the only cloud is the default
    assert run_vbs("profile", "show").json()["profile"]["default"] is True
    openrc = {
        "OS_AUTH_TYPE": "v3applicationcredential",
        "OS_AUTH_URL": emulator.emu.url,
        "OS_APPLICATION_CREDENTIAL_ID": APP_ID,
        "OS_APPLICATION_CREDENTIAL_SECRET": "demo-app-secret",
    }
    listed = run_vbs("profile", "list", env=openrc).json()["profiles"]
    assert [(e["name"], e["source"], e["default"]) for e in listed] == [
        (None, "environment", True),
        ("only", "cloud", False),
    ]
    assert listed[0]["auth_type"] == "application_credential"
    table = run_vbs("profile", "list", "-o", "table", env=openrc).stdout
    assert "environment" in table and "*" in table
    shown = run_vbs("profile", "show", "-o", "table", env=openrc).stdout
    assert "environment (openrc)" in shown and "OS_APPLICATION_CREDENTIAL_ID" in shown


def test_a_cached_catalog_without_the_region_asked_for_is_renewed_once(emulator: Service, isolated_env: Path):
    clouds_yaml(isolated_env, emulator.emu.url)
    assert run_vbs("--os-cloud", "demo", "backup", "list").exit_code == 0
    cached = next((isolated_env / ".cache" / "vbs" / "tokens").glob("*.json"))
    doc = json.loads(cached.read_text())  # as if cached before the cloud offered block storage in RegionTwo
    doc["extra"]["catalog"] = [e for e in doc["extra"]["catalog"] if e["region_id"] == "RegionOne"]
    cached.write_text(json.dumps(doc))
    run = run_vbs("--os-cloud", "demo", "--os-region-name", "RegionTwo", *CREATE)
    assert run.exit_code == 0, run.stderr
    assert self_link(run).startswith(f"http://localhost:{emulator.emu.port}/v3/")  # RegionTwo's endpoint
    assert emulator.requests("POST auth_tokens") == 2  # the first run's login, and one to renew the catalog
    assert {e["region_id"] for e in json.loads(cached.read_text())["extra"]["catalog"]} == {"RegionOne", "RegionTwo"}
    assert file_mode(cached) == 0o600
    again = run_vbs("--os-cloud", "demo", "--os-region-name", "RegionTwo", "backup", "list")
    assert again.exit_code == 0 and emulator.requests("POST auth_tokens") == 2  # cached from then on
    nowhere = run_vbs("--os-cloud", "demo", "--os-region-name", "RegionNine", "backup", "list", "-o", "table")
    assert nowhere.exit_code == 3 and "no public block-storage endpoint in region 'RegionNine'" in nowhere.stderr
    assert emulator.requests("POST auth_tokens") == 3  # renewed once to be sure, then refused


def test_insecure_with_a_plain_http_catalog_has_no_certificate_warning(emulator: Service, isolated_env: Path):
    clouds_yaml(isolated_env, emulator.emu.url)
    run = run_vbs("--os-cloud", "demo", "--insecure", "backup", "list", "-o", "table")
    assert run.exit_code == 0 and run.stderr == "", run.stderr

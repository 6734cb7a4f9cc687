"""The precedence table, and the rule that credentials only go to the endpoint configured beside them:
flags > an explicit --profile / --os-cloud > environment variables > the default profile > defaults."""

from __future__ import annotations

import os

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.conftest import PROJECT, TOKEN, Profiles
from tests.helpers import SECRETS
from vbscli import config
from vbscli.errors import ConfigError, InputError

ENV_TOKEN = "env-TOKEN-secret"
SECRETS.update({ENV_TOKEN, "sk-AKSK-secret", "app-cred-SECRET"})
OTHER = "http://127.0.0.1:8777"


def resolve(env=None, flags=None, profile=None, cloud=None, **kw):
    return config.resolve(flags or {}, {**os.environ, **(env or {})}, profile, cloud, **kw)


@pytest.fixture
def two_profiles(profiles: Profiles) -> Profiles:
    profiles.write(f"""\
default: prod
profiles:
  prod:
    endpoint: https://prod.example
    project_id: {PROJECT}
    auth: {{type: token, token: "{TOKEN}"}}
    read_timeout: 10
  lab:
    endpoint: https://lab.example
    project_id: 0123456789abcdef0123456789abcdef
    auth: {{type: token, token: "{TOKEN}"}}
    read_timeout: 20
  ak:
    endpoint: https://prod.example
    project_id: {PROJECT}
    auth: {{type: aksk, access_key: AKPUBLIC, secret_key: sk-AKSK-secret}}
""")
    return profiles


def test_the_precedence_table(two_profiles):
    env = {"VBS_READ_TIMEOUT": "30"}
    assert resolve().read_timeout == 10  # the default profile
    assert resolve(env).read_timeout == 30  # a variable beats the default profile
    assert resolve(env, profile="lab").read_timeout == 20  # an explicit profile beats the variable
    assert resolve(env, profile="lab", flags={"read_timeout": 40}).read_timeout == 40  # a flag beats everything
    assert resolve(env, profile="ak").read_timeout == 30  # what the explicit profile leaves out, a variable fills
    assert resolve(profile="ak").read_timeout == 60  # and then the built-in default
    assert resolve(profile="ak").origins["read_timeout"] == "default"
    assert resolve(env, profile="ak").origins["read_timeout"] == "environment VBS_READ_TIMEOUT"


def test_an_explicit_profile_ignores_connection_variables_in_one_warning(two_profiles):
    env = {"VBS_ENDPOINT": OTHER, "VBS_TOKEN": ENV_TOKEN, "VBS_PROJECT_ID": "p9", "VBS_READ_TIMEOUT": "30"}
    s = resolve(env, profile="lab")
    assert (s.endpoint, s.project_id, s.auth["token"]) == (
        "https://lab.example",
        "0123456789abcdef0123456789abcdef",
        TOKEN,
    )
    assert s.read_timeout == 20
    ignored = [w for w in s.warnings if "ignored" in w]
    assert ignored == [
        "VBS_ENDPOINT, VBS_PROJECT_ID, VBS_TOKEN, VBS_READ_TIMEOUT ignored: --profile lab was chosen explicitly, "
        "and its settings win over environment variables"
    ]  # fmt: skip


def test_vbs_token_does_not_turn_an_aksk_profile_into_token_auth(two_profiles):
    s = resolve({"VBS_TOKEN": ENV_TOKEN}, profile="ak")
    assert s.auth == {"type": "aksk", "access_key": "AKPUBLIC", "secret_key": "sk-AKSK-secret"}
    assert any(w.startswith("VBS_TOKEN ignored: --profile ak") for w in s.warnings)


def test_the_emulators_exports_apply_until_a_profile_is_named(two_profiles):
    exported = {"VBS_ENDPOINT": OTHER, "VBS_PROJECT_ID": "p9", "VBS_TOKEN": ENV_TOKEN}
    s = resolve(exported)
    assert (s.endpoint, s.project_id, s.auth["token"]) == (OTHER, "p9", ENV_TOKEN)
    s = resolve(exported, profile="prod")
    assert (s.endpoint, s.project_id, s.auth["token"]) == ("https://prod.example", PROJECT, TOKEN)


def test_an_ambient_endpoint_never_carries_a_profiles_credentials(two_profiles):
    with pytest.raises(ConfigError) as info:
        resolve({"VBS_ENDPOINT": OTHER})
    assert info.value.exit_code == 3
    assert "VBS_ENDPOINT is set without VBS_TOKEN" in info.value.message and "profile 'prod'" in info.value.message
    assert "--endpoint" in info.value.hint
    # a flag is typed for this run: it may point the profile's credentials elsewhere
    assert resolve(flags={"endpoint": OTHER}).endpoint == OTHER
    assert resolve(flags={"endpoint": OTHER}, profile="lab").endpoint == OTHER
    # a token from the environment without an endpoint goes to the profile's endpoint (the user chose it)
    s = resolve({"VBS_TOKEN": ENV_TOKEN})
    assert (s.endpoint, s.auth["token"]) == ("https://prod.example", ENV_TOKEN)


def test_profile_and_cloud_together_is_a_usage_error(two_profiles):
    with pytest.raises(InputError) as info:
        resolve(profile="prod", cloud="c")
    assert info.value.exit_code == 2 and "--profile and --os-cloud" in info.value.message


@pytest.fixture
def clouds_yaml(isolated_env):
    """A clouds.yaml where openstacksdk looks for it: $XDG_CONFIG_HOME/openstack."""
    path = isolated_env / ".config" / "openstack" / "clouds.yaml"
    path.parent.mkdir(parents=True)
    path.write_text(
        "clouds:\n"
        "  c:\n"
        "    auth: {auth_url: 'https://keystone.example/v3', username: u, user_domain_name: d, password: from-clouds,"
        " project_name: demo}\n"
        "    region_name: eu-de\n"
        "  signed:\n"
        "    auth: {auth_url: 'https://keystone.example', application_credential_id: ac,"
        " application_credential_secret: app-cred-SECRET}\n"
    )
    return path


def test_a_profile_points_at_a_cloud_and_adds_settings(profiles, clouds_yaml):
    SECRETS.add("pw-from-ENV")
    profiles.write(
        "profiles:\n  c:\n    cloud: c\n    read_timeout: 5\n    region_name: eu-nl\n    auth: {password_env: PW}\n"
    )
    s = resolve({"PW": "pw-from-ENV\n"})
    assert (s.cloud, s.profile, s.read_timeout, s.region) == ("c", "c", 5.0, "eu-nl")
    assert s.auth["password"] == "pw-from-ENV" and s.auth["username"] == "u"
    assert s.origins["auth.password"] == "environment PW"
    assert s.origins["auth.username"] == f"clouds.yaml {clouds_yaml} (cloud 'c')"
    assert s.origins["region"].startswith("profile file") and s.endpoint is None


def test_os_cloud_is_a_default_and_os_cloud_flag_an_explicit_choice(clouds_yaml):
    assert resolve({"OS_CLOUD": "c"}).cloud == "c"
    exported = {"OS_CLOUD": "c", "VBS_ENDPOINT": OTHER, "VBS_PROJECT_ID": "p9", "VBS_TOKEN": ENV_TOKEN}
    assert resolve(exported).endpoint == OTHER  # variables beat the default, as they beat the default profile
    s = resolve(exported, cloud="c")
    assert (s.cloud, s.endpoint, s.auth["type"]) == ("c", None, "password")
    assert any(w.startswith("VBS_ENDPOINT, VBS_PROJECT_ID, VBS_TOKEN ignored: --os-cloud c") for w in s.warnings)


def test_the_only_cloud_is_used_when_nothing_else_is_configured(isolated_env):
    path = isolated_env / ".config" / "openstack" / "clouds.yaml"
    path.parent.mkdir(parents=True)
    path.write_text("clouds:\n  only: {auth: {auth_url: 'https://k', token: tok, project_id: p1}}\n")
    assert resolve().cloud == "only"
    path.write_text(path.read_text() + "  second: {auth: {auth_url: 'https://k', token: tok, project_id: p1}}\n")
    with pytest.raises(ConfigError, match="has several clouds: only, second"):
        resolve()


def test_application_credentials_from_openrc_variables():
    SECRETS.add("openrc-APP-secret")
    env = {
        "OS_AUTH_TYPE": "v3applicationcredential",
        "OS_AUTH_URL": "https://keystone.example:5000",
        "OS_APPLICATION_CREDENTIAL_ID": "ac1",
        "OS_APPLICATION_CREDENTIAL_SECRET": "openrc-APP-secret",
        "OS_REGION_NAME": "eu-de",
        "OS_INTERFACE": "internal",
    }
    s = resolve(env)
    assert s.auth == {
        "type": "application_credential",
        "auth_url": "https://keystone.example:5000/v3",
        "application_credential_id": "ac1",
        "application_credential_secret": "openrc-APP-secret",
    }
    assert (s.endpoint, s.project_id, s.region, s.interface) == (None, None, "eu-de", "internal")
    by_name = {**env, "OS_APPLICATION_CREDENTIAL_ID": "", "OS_APPLICATION_CREDENTIAL_NAME": "nightly"}
    with pytest.raises(ConfigError, match="OS_USER_ID or OS_USERNAME is not set"):
        resolve(by_name)
    assert resolve({**by_name, "OS_USER_ID": "uid"}).auth["user_id"] == "uid"


@pytest.mark.parametrize(
    ("endpoint", "project", "expected"),
    [
        ("https://evs.example", "p1", ("https://evs.example", "p1")),
        ("https://evs.example/v3", "p1", ("https://evs.example", "p1")),
        ("https://evs.example/v3/p1", "p1", ("https://evs.example", "p1")),
        ("https://evs.example/v3/p1/", None, ("https://evs.example", "p1")),
    ],
)
def test_every_endpoint_form_works(endpoint, project, expected):
    env = {"VBS_ENDPOINT": endpoint, "VBS_TOKEN": ENV_TOKEN}
    if project:
        env["VBS_PROJECT_ID"] = project
    s = resolve(env)
    assert (s.endpoint, s.project_id) == expected


def test_an_endpoint_for_another_project_is_refused_showing_both(two_profiles):
    two_profiles.write(
        two_profiles.path.read_text().replace("https://lab.example", f"https://lab.example/v3/{PROJECT}")
    )
    with pytest.raises(ConfigError) as info:
        resolve(profile="lab")
    assert info.value.exit_code == 3
    assert PROJECT in info.value.message and "0123456789abcdef0123456789abcdef" in info.value.message
    assert "is for project" in info.value.message


def test_aksk_without_an_endpoint_says_it_has_no_catalog(profiles):
    profiles.write("profiles:\n  ak:\n    project_id: p1\n    auth: {type: aksk, access_key: A, secret_key: S}\n")
    with pytest.raises(ConfigError) as info:
        resolve()
    assert "missing 'endpoint': AK/SK signing has no login, so no service catalog" in info.value.message


# -- values from the environment and the command line (issue items: exit codes, secrets, TLS) -------


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("OS_PROJECT_ID", "not a project!"),
        ("OS_PROJECT_ID", "x" * 65),
        ("OS_INTERFACE", "private"),
        ("VBS_MAX_ATTEMPTS", "many"),
        ("OS_AUTH_TYPE", "kerberos"),
    ],
)
def test_a_malformed_variable_is_a_config_error_naming_it(name, value):
    env = {
        "OS_BLOCK_STORAGE_ENDPOINT_OVERRIDE": "https://e.example",
        "OS_AUTH_TOKEN": "t",
        "OS_PROJECT_ID": "p1",
        name: value,
    }
    with pytest.raises(ConfigError) as info:
        resolve(env)
    assert info.value.exit_code == 3 and info.value.message.startswith(name)


VARIABLES = (
    "VBS_ENDPOINT", "VBS_PROJECT_ID", "VBS_TOKEN", "VBS_READ_TIMEOUT", "VBS_CA_BUNDLE", "VBS_OUTPUT", "OS_PROJECT_ID",
    "OS_AUTH_URL", "OS_USERNAME", "OS_PASSWORD", "OS_USER_DOMAIN_NAME", "OS_REGION_NAME", "OS_INTERFACE",
    "OS_AUTH_TYPE", "OS_APPLICATION_CREDENTIAL_SECRET", "OS_CLOUD", "VBS_PROFILE",
)  # fmt: skip


@settings(max_examples=150, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.dictionaries(st.sampled_from(VARIABLES), st.text(max_size=40).filter(lambda t: "\0" not in t), max_size=6))
def test_any_environment_gives_settings_or_a_config_error(isolated_env, env):
    try:
        resolve(env)
    except ConfigError as exc:
        assert exc.exit_code == 3 and "\n" not in exc.message


def test_secrets_lose_surrounding_whitespace(profiles):
    s = resolve({"VBS_ENDPOINT": "https://e.example", "VBS_PROJECT_ID": "p", "VBS_TOKEN": f" {ENV_TOKEN}\r\n"})
    assert s.auth["token"] == ENV_TOKEN
    profiles.write(
        f'profiles:\n  p:\n    endpoint: https://e.example\n    project_id: p\n    auth: {{token: "{TOKEN}\\n"}}\n'
    )
    assert resolve().auth["token"] == TOKEN
    profiles.write("profiles:\n  p:\n    endpoint: https://e.example\n    project_id: p\n    auth: {token_env: T}\n")
    assert resolve({"T": f"\t{TOKEN} "}).auth["token"] == TOKEN
    # what is left inside is the value: one a header cannot carry is refused before sending (transport)
    assert resolve({"T": "a\x1bb"}).auth["token"] == "a\x1bb"


@pytest.mark.parametrize(
    ("flag", "value", "message"),
    [
        ("read_timeout", -1.0, "--read-timeout must be more than 0"),
        ("connect_timeout", 0.0, "--connect-timeout must be more than 0"),
        ("max_attempts", 0, "--max-attempts must be a whole number from 1 to 10"),
        ("deadline", 1e9, "--deadline must be more than 0 and at most 86400"),
        ("endpoint", "foo", "--endpoint must be an http:// or https:// URL"),
        ("project_id", "a b", "--project-id must be a project ID"),
        ("verify", "/no/such/ca.pem", "--ca-bundle names a CA bundle that does not exist"),
    ],
)
def test_an_invalid_option_value_is_a_usage_error(prod_profile, flag, value, message):
    with pytest.raises(InputError) as info:
        resolve(flags={flag: value})
    assert info.value.exit_code == 2 and info.value.message.startswith(message)


def test_vbs_ca_bundle_cannot_turn_verification_off(prod_profile, tmp_path):
    for value in ("false", "0", "no"):
        with pytest.raises(ConfigError) as info:
            resolve({"VBS_CA_BUNDLE": value})
        assert info.value.message.startswith("VBS_CA_BUNDLE must be the path of a CA bundle file")
        assert "--insecure" in info.value.message
    with pytest.raises(ConfigError, match="VBS_CA_BUNDLE names a CA bundle that does not exist"):
        resolve({"VBS_CA_BUNDLE": str(tmp_path / "missing.pem")})
    with pytest.raises(ConfigError, match="VBS_CA_BUNDLE names a CA bundle that does not exist"):
        resolve({"VBS_CA_BUNDLE": str(tmp_path)})  # a directory is not a file
    bundle = tmp_path / "ca.pem"
    bundle.write_text("-----BEGIN CERTIFICATE-----\n")
    assert resolve({"VBS_CA_BUNDLE": str(bundle)}).verify == str(bundle)
    assert resolve({"OS_INSECURE": "true"}).verify is True  # and says so
    assert any("OS_INSECURE is ignored" in w for w in resolve({"OS_INSECURE": "true"}).warnings)


def test_unknown_settings_get_a_did_you_mean(prod_profile):
    text = prod_profile.path.read_text().replace("    read_timeout: 10\n", "    read_timout: 10\n")
    prod_profile.write(text)
    warning = next(w for w in resolve().warnings if "read_timout" in w)
    assert warning.endswith("unknown setting 'read_timout' ignored; did you mean 'read_timeout'?")
    prod_profile.write(text.replace("auth: {type: token,", "auth: {type: token, tokn_env: X,", 1))
    with pytest.raises(ConfigError) as info:
        resolve()
    assert "unknown auth setting 'tokn_env' for auth type token; did you mean 'token_env'?" in info.value.message


def test_origins_say_where_each_value_came_from(two_profiles, tmp_path):
    s = resolve({"VBS_DEADLINE": "99"}, flags={"connect_timeout": 3.0})
    where = f"profile file {two_profiles.path} (profile 'prod')"
    assert s.origins["endpoint"] == where and s.origins["auth.token"] == where
    assert s.origins["deadline"] == "environment VBS_DEADLINE"
    assert s.origins["connect_timeout"] == "command line --connect-timeout"
    assert s.origins["max_attempts"] == "environment VBS_MAX_ATTEMPTS"  # the test suite sets it
    assert s.origins["interface"] == "default"


def test_a_value_with_a_line_break_keeps_the_error_on_one_line(isolated_env):
    from tests.helpers import run_vbs

    run = run_vbs("-o", "table", "backup", "list", env={"OS_CLOUD": "0\n0\x1b[31m"})
    assert run.exit_code == 3
    assert run.stdout == ""
    assert run.stderr.count("\n") == 1 and "\x1b" not in run.stderr
    assert "cloud '0\\n0\\x1b[31m' (from OS_CLOUD) not found" in run.stderr


def test_unknown_keys_at_the_top_of_the_profile_file_get_a_did_you_mean(prod_profile):
    text = prod_profile.path.read_text()
    prod_profile.write(text.replace("default: prod", "defualt: prod"))
    resolve(profile="prod")  # fine: chosen by name
    with pytest.raises(ConfigError) as info:
        resolve()
    assert "several profiles and no default" in info.value.message
    assert "unknown key 'defualt' ignored; did you mean 'default'?" in " ".join(resolve(profile="prod").warnings)
    prod_profile.write(text.replace("profiles:", "profile:"))
    with pytest.raises(ConfigError) as info:
        resolve()
    assert info.value.message.endswith("known profiles: none (unknown key 'profile' ignored; did you mean 'profiles'?)")


def test_a_profile_without_credentials_chosen_explicitly_is_not_told_to_set_vbs_token(profiles):
    profiles.write("profiles:\n  slow: {read_timeout: 120}\n")
    env = {"VBS_ENDPOINT": OTHER, "VBS_TOKEN": ENV_TOKEN, "VBS_PROJECT_ID": "p9"}
    with pytest.raises(ConfigError) as info:
        resolve(env, profile="slow")
    assert "no credentials" in info.value.message and "--profile slow takes no credentials from VBS_TOKEN" in (
        info.value.hint or ""
    )
    s = resolve({**env, "VBS_PROFILE": "slow"})  # as the default source, the variables supply them
    assert (s.endpoint, s.read_timeout) == (OTHER, 120.0)

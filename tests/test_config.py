import os
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.conftest import PROJECT, TOKEN
from vbscli import config, profile_file
from vbscli.errors import ConfigError

NO_FLAGS: dict = {}


def resolve(env=None, flags=None, profile=None):
    return config.resolve(flags or NO_FLAGS, {**os.environ, **(env or {})}, profile)


def test_default_path_follows_vbs_config_then_xdg(isolated_env):
    assert profile_file.default_path({"VBS_CONFIG": "/x/y.yaml"}) == Path("/x/y.yaml")
    assert profile_file.default_path({"XDG_CONFIG_HOME": "/cfg"}) == Path("/cfg/vbs/config.yaml")
    assert profile_file.default_path({"HOME": "/home/u"}) == Path("/home/u/.config/vbs/config.yaml")


def test_profile_values_and_defaults(prod_profile):
    s = resolve()
    assert (s.endpoint, s.project_id, s.profile) == (prod_profile.endpoint, PROJECT, "prod")
    assert s.auth == {"type": "token", "token": TOKEN}
    assert (s.connect_timeout, s.read_timeout, s.verify, s.output) == (5.0, 10.0, True, None)
    assert s.warnings == []


def test_precedence_flag_over_env_over_profile_over_default(prod_profile):
    env = {"VBS_READ_TIMEOUT": "20", "VBS_CONNECT_TIMEOUT": "3", "VBS_OUTPUT": "json"}
    s = resolve(env, flags={"read_timeout": 30.0})
    assert s.read_timeout == 30.0  # flag
    assert s.connect_timeout == 3.0  # environment over the profile's 5
    assert s.output == "json"  # environment over nothing
    prod_profile.write(prod_profile.path.read_text().replace("    read_timeout: 10\n", ""))
    assert resolve().read_timeout == 60.0  # built-in default


def test_env_token_overrides_profile_auth(prod_profile):
    assert resolve({"VBS_TOKEN": "from-env"}).auth == {"type": "token", "token": "from-env"}


def test_environment_alone_is_enough_without_any_file():
    s = resolve({"VBS_ENDPOINT": "https://e.example/", "VBS_PROJECT_ID": "p1", "VBS_TOKEN": "t"})
    assert (s.endpoint, s.project_id, s.profile, s.source) == ("https://e.example", "p1", None, "environment")


def test_profile_chosen_by_flag_or_env(prod_profile):
    assert resolve(profile="lab").profile == "lab"
    assert resolve({"VBS_PROFILE": "lab"}).profile == "lab"
    assert resolve({"VBS_PROFILE": "lab"}, profile="prod").profile == "prod"


def test_unknown_profile_lists_known_ones(prod_profile):
    with pytest.raises(ConfigError) as info:
        resolve(profile="staging")
    assert "profile 'staging' (from --profile) not found" in info.value.message
    assert "known profiles: lab, prod" in info.value.message
    assert info.value.exit_code == 3


def test_missing_file_named_by_vbs_config(tmp_path):
    with pytest.raises(ConfigError, match=r"profile file .*nope.yaml \(VBS_CONFIG\) does not exist"):
        resolve({"VBS_CONFIG": str(tmp_path / "nope.yaml")})


def test_no_file_and_no_environment_says_both_ways_out():
    with pytest.raises(ConfigError) as info:
        resolve()
    assert "no profile file at" in info.value.message
    assert "no VBS_ENDPOINT or credentials in the environment" in info.value.message
    assert "VBS_PROJECT_ID" in info.value.hint


def test_malformed_yaml_names_file_and_line(profiles):
    profiles.write("default: prod\nprofiles:\n  prod:\n    endpoint: [unclosed\n    project_id: x\n")
    with pytest.raises(ConfigError) as info:
        resolve()
    assert f"{profiles.path}:5:" in info.value.message or f"{profiles.path}:4:" in info.value.message
    assert "invalid YAML" in info.value.message


def test_yaml_tags_are_not_executed(profiles):
    profiles.write("!!python/object/apply:os.system ['echo hacked']\n")
    with pytest.raises(ConfigError, match="invalid YAML"):
        resolve()


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("connect_timeout: soon", "'connect_timeout' in profile 'prod' .* must be a number of seconds, got 'soon'"),
        ("read_timeout: -1", "must be more than 0"),
        ("output: xml", "must be one of: table, json"),
        ("endpoint: evs.example.com", "must be an http:// or https:// URL"),
        ("endpoint: https://evs.example.com/v3/p1/backups", "must be the service root, optionally followed by /v3"),
        ("verify: /no/such/ca.pem", "CA bundle that does not exist"),
        ("project_id: [a, b]", "must be a project ID"),
    ],
)
def test_mistyped_fields(prod_profile, line, message):
    key = line.split(":")[0]
    text = "\n".join(
        row for row in prod_profile.path.read_text().splitlines() if not row.startswith(f"    {key}:") or "lab" in row
    )
    prod_profile.write(text.replace("  prod:\n", f"  prod:\n    {line}\n", 1) + "\n")
    with pytest.raises(ConfigError, match=message):
        resolve()


def test_missing_field_says_where_and_how(profiles):
    profiles.write(f"profiles:\n  prod:\n    endpoint: https://e.example\n    auth: {{token: {TOKEN}}}\n")
    with pytest.raises(ConfigError) as info:
        resolve()
    assert "missing 'project_id'" in info.value.message
    assert "VBS_PROJECT_ID" in info.value.hint


def test_missing_auth(profiles):
    profiles.write("profiles:\n  prod:\n    endpoint: https://e.example\n    project_id: p\n")
    with pytest.raises(ConfigError, match="no credentials"):
        resolve()


def test_unknown_auth_type(profiles):
    profiles.write("profiles:\n  p:\n    endpoint: https://e.example\n    project_id: p\n    auth: {type: kerberos}\n")
    with pytest.raises(ConfigError, match="unknown auth type 'kerberos'"):
        resolve()


def test_token_from_named_environment_variable(profiles):
    profiles.write(
        "profiles:\n  p:\n    endpoint: https://e.example\n    project_id: p\n    auth: {token_env: MY_TOKEN}\n"
    )
    assert resolve({"MY_TOKEN": "abc"}).auth["token"] == "abc"
    with pytest.raises(ConfigError, match="names MY_TOKEN, which is not set"):
        resolve()


def test_several_profiles_without_default(profiles):
    profiles.write(
        "profiles:\n  a: {endpoint: 'https://a.example', project_id: p, auth: {token: t}}\n"
        "  b: {endpoint: 'https://b.example', project_id: p, auth: {token: t}}\n"
    )
    with pytest.raises(ConfigError, match="several profiles and no default; known profiles: a, b"):
        resolve()


def test_a_single_profile_is_used_without_default(profiles):
    profiles.write("profiles:\n  only: {endpoint: 'https://a.example', project_id: p, auth: {token: t}}\n")
    assert resolve().profile == "only"


def test_world_readable_file_with_secrets_warns(prod_profile):
    prod_profile.write(prod_profile.path.read_text(), mode=0o644)
    warnings = resolve().warnings
    assert any("readable by group or others" in w and "chmod 600" in w for w in warnings)


def test_readable_file_without_secrets_does_not_warn(profiles):
    profiles.write(
        "profiles:\n  p:\n    endpoint: https://e.example\n    project_id: p\n    auth: {token_env: T}\n", mode=0o644
    )
    assert resolve({"T": "x"}).warnings == []


def test_unknown_keys_warn(prod_profile):
    prod_profile.write(prod_profile.path.read_text().replace("    verify: true\n", "    verfiy: true\n"))
    assert any("unknown setting 'verfiy'" in w for w in resolve().warnings)


def test_insecure_warns_only_where_tls_is_used_and_plain_http_warns(profiles):
    line = "profiles:\n  p: {{endpoint: '{0}', project_id: p, auth: {{token: {1}}}, verify: false}}\n"
    profiles.write(line.format("https://evs.example", TOKEN))
    assert [w for w in resolve().warnings if "verification is off for https://evs.example" in w]
    profiles.write(line.format("http://evs.example", TOKEN))
    warnings = resolve().warnings
    assert not any("verification" in w for w in warnings)  # no certificates over plain HTTP
    assert any("plain HTTP" in w for w in warnings)


@settings(max_examples=60, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.text(max_size=200))
def test_loader_never_tracebacks_on_arbitrary_yaml(profiles, text):
    profiles.write(text)
    try:
        resolve()
    except ConfigError as exc:
        assert "\n" not in exc.message


@settings(max_examples=40, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    st.recursive(
        st.none() | st.booleans() | st.integers() | st.text(max_size=10),
        lambda c: (
            st.lists(c, max_size=3)
            | st.dictionaries(
                st.sampled_from(
                    [
                        "default",
                        "profiles",
                        "prod",
                        "endpoint",
                        "project_id",
                        "auth",
                        "token",
                        "type",
                        "verify",
                        "output",
                        "read_timeout",
                    ]
                ),
                c,
                max_size=4,
            )
        ),
        max_leaves=15,
    )
)
def test_loader_never_tracebacks_on_arbitrary_structures(profiles, doc):
    import yaml

    profiles.write(yaml.safe_dump(doc))
    try:
        resolve()
    except ConfigError:
        pass


def test_password_and_aksk_profiles(profiles):
    profiles.write(
        "profiles:\n"
        "  pw:\n    endpoint: https://e.example\n    project_id: p1\n"
        "    auth: {type: password, auth_url: 'https://iam.example', username: u, password_env: PW, domain: d}\n"
        "  ak:\n    endpoint: https://e.example\n    project_id: p1\n"
        "    auth: {type: aksk, access_key: AK, secret_key: SK}\n"
    )
    pw = resolve({"PW": "pw-secret"}, profile="pw").auth
    assert pw == {
        "type": "password",
        "auth_url": "https://iam.example/v3",
        "username": "u",
        "password": "pw-secret",
        "user_domain_name": "d",
        "project_id": "p1",
    }
    assert resolve(profile="ak").auth == {"type": "aksk", "access_key": "AK", "secret_key": "SK"}


def test_auth_type_names_missing_fields(profiles):
    profiles.write(
        "profiles:\n  ak:\n    endpoint: https://e.example\n    project_id: p1\n"
        "    auth: {type: aksk, access_key: AK}\n"
    )
    with pytest.raises(ConfigError, match="auth type aksk needs 'auth.secret_key'"):
        resolve()


def test_openrc_variables_are_enough_with_an_endpoint():
    env = {
        "OS_BLOCK_STORAGE_ENDPOINT_OVERRIDE": "https://e.example/v3",
        "OS_AUTH_URL": "https://iam.example/v3/",
        "OS_USERNAME": "u",
        "OS_PASSWORD": "p",
        "OS_USER_DOMAIN_NAME": "d",
        "OS_PROJECT_NAME": "eu-de_x",
    }
    s = resolve(env)
    assert s.auth == {
        "type": "password",
        "auth_url": "https://iam.example/v3",
        "username": "u",
        "password": "p",
        "user_domain_name": "d",
        "project_name": "eu-de_x",
    }
    assert s.project_id is None  # told by the token
    s = resolve({**env, "OS_PROJECT_ID": "p9"})
    assert s.project_id == "p9" and s.auth["project_id"] == "p9"
    assert (
        s.endpoint == "https://e.example" and s.origins["endpoint"] == "environment OS_BLOCK_STORAGE_ENDPOINT_OVERRIDE"
    )
    s = resolve({"OS_VOLUMEV3_ENDPOINT_OVERRIDE": "https://e.example", "OS_AUTH_TOKEN": "t", "OS_PROJECT_ID": "p9"})
    assert s.auth == {"type": "token", "token": "t"} and s.project_id == "p9"


def test_vbs_endpoint_never_carries_openrc_credentials():
    env = {"VBS_ENDPOINT": "https://e.example", "OS_AUTH_TOKEN": "t", "OS_PROJECT_ID": "p9"}
    with pytest.raises(ConfigError) as info:
        resolve(env)
    assert info.value.message.startswith("VBS_ENDPOINT is set without VBS_TOKEN")
    assert "environment (openrc)" in info.value.message and "OS_BLOCK_STORAGE_ENDPOINT_OVERRIDE" in info.value.hint
    assert resolve({**env, "VBS_TOKEN": "v"}).auth == {"type": "token", "token": "v"}  # a whole configuration


def test_openrc_without_domain_says_so():
    env = {
        "OS_BLOCK_STORAGE_ENDPOINT_OVERRIDE": "https://e.example",
        "OS_AUTH_URL": "https://iam.example/v3",
        "OS_USERNAME": "u",
        "OS_PASSWORD": "p",
        "OS_PROJECT_ID": "p",
    }
    with pytest.raises(ConfigError, match="OS_USER_DOMAIN_NAME or OS_USER_DOMAIN_ID is not set"):
        resolve(env)


def test_a_profile_wins_over_openrc(prod_profile):
    env = {"OS_AUTH_TOKEN": "openrc-token"}
    assert resolve(env).auth == {"type": "token", "token": TOKEN}

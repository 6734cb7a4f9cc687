"""clouds.yaml and secure.yaml: where they are looked for, how they are merged, and what a cloud gives vbs."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.helpers import SECRETS
from vbscli import clouds, config
from vbscli.errors import ConfigError

SECRET = "clouds-S3CRET-pw"
SECRETS.add(SECRET)


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


@pytest.fixture
def places(tmp_path: Path) -> dict[str, Path]:
    """A working directory and a home; the environment points at them (never the real ones)."""
    home = tmp_path / "home"
    return {"cwd": tmp_path / "work", "home": home, "xdg": tmp_path / "xdg", "etc_xdg": tmp_path / "etc-xdg"}


def env_of(places: dict[str, Path], **extra: str) -> dict[str, str]:
    env = {"HOME": str(places["home"]), "XDG_CONFIG_DIRS": str(places["etc_xdg"])}
    env.update(extra)
    return env


def test_search_order_is_openstacksdks(places):
    env = env_of(places, XDG_CONFIG_HOME=str(places["xdg"]))
    assert clouds.search_dirs(env, "/w") == [
        "/w",
        f"{places['xdg']}/openstack",
        f"{places['home']}/.config/openstack",
        f"{places['etc_xdg']}/openstack",
        "/etc/openstack",
    ]
    paths = clouds.candidates({**env, "OS_CLIENT_CONFIG_FILE": "/x/mine.yaml"}, "/w", "clouds", "OS_CLIENT_CONFIG_FILE")
    assert paths[:4] == ["/x/mine.yaml", "/w/clouds.yaml", "/w/clouds.yml", "/w/clouds.json"]
    assert paths[-1] == "/etc/openstack/clouds.json"
    without_xdg = clouds.search_dirs({"HOME": "/h"}, "/w")
    assert without_xdg == ["/w", "/h/.config/openstack", "/etc/xdg/openstack", "/etc/openstack"]


def test_the_first_file_found_wins(places):
    env = env_of(places, XDG_CONFIG_HOME=str(places["xdg"]))
    cwd = str(places["cwd"])
    places["cwd"].mkdir()
    write(places["etc_xdg"] / "openstack" / "clouds.yaml", "clouds: {site: {}}\n")
    assert clouds.names(env, cwd) == ["site"]
    write(places["home"] / ".config" / "openstack" / "clouds.yaml", "clouds: {home: {}}\n")
    assert clouds.names(env, cwd) == ["home"]
    write(places["xdg"] / "openstack" / "clouds.yml", "clouds: {xdg: {}}\n")
    assert clouds.names(env, cwd) == ["xdg"]
    write(places["cwd"] / "clouds.json", '{"clouds": {"here-json": {}}}')
    assert clouds.names(env, cwd) == ["here-json"]
    write(places["cwd"] / "clouds.yaml", "clouds: {here: {}}\n")
    assert clouds.names(env, cwd) == ["here"]  # .yaml before .yml before .json
    mine = write(places["home"] / "mine.yaml", "clouds: {mine: {}}\n")
    assert clouds.names({**env, "OS_CLIENT_CONFIG_FILE": str(mine)}, cwd) == ["mine"]


def test_an_unreadable_file_is_passed_over(places):
    if os.geteuid() == 0:
        pytest.skip("root reads every file")
    env = env_of(places)
    write(places["home"] / ".config" / "openstack" / "clouds.yaml", "clouds: {home: {}}\n")
    hidden = write(places["cwd"] / "clouds.yaml", "clouds: {here: {}}\n")
    hidden.chmod(0)
    assert clouds.names(env, str(places["cwd"])) == ["home"]


def test_a_named_file_that_does_not_exist_is_an_error(places):
    env = env_of(places, OS_CLIENT_CONFIG_FILE=str(places["home"] / "nope.yaml"))
    with pytest.raises(ConfigError, match="OS_CLIENT_CONFIG_FILE names .*nope.yaml, which does not exist"):
        clouds.load(env, str(places["cwd"]))


def test_secure_yaml_is_merged_into_the_clouds_key_by_key(places):
    env = env_of(places)
    cwd = str(places["cwd"])
    write(
        places["cwd"] / "clouds.yaml",
        "clouds:\n"
        "  c1:\n    auth: {auth_url: 'https://iam.example/v3', username: u, password: placeholder}\n"
        "    region_name: eu-de\n"
        "  c2:\n    auth: {auth_url: 'https://iam2.example'}\n",
    )
    # secure.yaml is looked for on its own: here in the home directory, apart from clouds.yaml
    write(
        places["home"] / ".config" / "openstack" / "secure.yaml",
        f"clouds:\n  c1:\n    auth: {{password: {SECRET}}}\n    region_name: eu-nl\n"
        "  c3:\n    auth: {token: only-in-secure}\n",
    )
    found = clouds.load(env, cwd)
    assert found is not None
    assert found.clouds["c1"] == {
        "auth": {"auth_url": "https://iam.example/v3", "username": "u", "password": SECRET},
        "region_name": "eu-nl",
    }
    assert found.clouds["c2"] == {"auth": {"auth_url": "https://iam2.example"}}
    assert found.clouds["c3"] == {"auth": {"token": "only-in-secure"}}
    other = write(places["home"] / "other-secure.yaml", "clouds:\n  c2:\n    auth: {username: from-override}\n")
    found = clouds.load({**env, "OS_CLIENT_SECURE_FILE": str(other)}, cwd)
    assert found is not None
    assert found.clouds["c2"]["auth"] == {"auth_url": "https://iam2.example", "username": "from-override"}
    assert found.clouds["c1"]["auth"]["password"] == "placeholder"  # the override replaces the search


def test_merge_replaces_lists_and_scalars_and_merges_mappings():
    base = {"a": {"b": 1, "c": {"d": 2}}, "l": [1, 2], "s": "x"}
    assert clouds.merge(base, {"a": {"c": {"e": 3}}, "l": [3], "s": {"now": "a map"}}) == {
        "a": {"b": 1, "c": {"d": 2, "e": 3}},
        "l": [3],
        "s": {"now": "a map"},
    }
    assert base == {"a": {"b": 1, "c": {"d": 2}}, "l": [1, 2], "s": "x"}  # nothing changed in place


def resolve_cloud(places, text, name="c", secure=None, **env_extra):
    write(places["cwd"] / "clouds.yaml", text)
    if secure:
        write(places["cwd"] / "secure.yaml", secure)
    return config.resolve({}, env_of(places, **env_extra), None, name, cwd=str(places["cwd"]))


def test_a_password_cloud_as_clouds_yaml_writes_it(places):
    s = resolve_cloud(
        places,
        "clouds:\n  c:\n    auth:\n      auth-url: https://keystone.example:5000\n      username: u\n"
        "      user_domain_name: Default\n      project-name: demo\n      project_domain_name: Default\n"
        "    region_name: RegionTwo\n    interface: internal\n    identity_api_version: 3\n    unknown_key: x\n",
        secure=f"clouds:\n  c:\n    auth:\n      password: '  {SECRET}\n'\n",
    )
    assert s.auth == {
        "type": "password",
        "auth_url": "https://keystone.example:5000/v3",
        "username": "u",
        "user_domain_name": "Default",
        "project_name": "demo",
        "project_domain_name": "Default",
        "password": SECRET,  # surrounding whitespace of a secret is a copy-paste artefact
    }
    assert (s.endpoint, s.project_id, s.region, s.interface, s.cloud) == (None, None, "RegionTwo", "internal", "c")
    assert s.origins["auth.password"] == f"secure.yaml {places['cwd'] / 'secure.yaml'} (cloud 'c')"
    assert s.origins["auth.username"] == f"clouds.yaml {places['cwd'] / 'clouds.yaml'} (cloud 'c')"
    assert s.origins["endpoint"] == "service catalog (at login)"


@pytest.mark.parametrize(
    ("auth_type", "auth", "expected"),
    [
        ("v3password", "{auth_url: 'https://k.example/v3', user_id: uid, password: pw, project_id: p1}", "password"),
        ("token", "{auth_url: 'https://k.example/v3', token: tok, project_id: p1}", "token"),
        ("v3token", "{auth_url: 'https://k.example/v3', token: tok, project_id: p1}", "token"),
        (
            "v3applicationcredential",
            "{auth_url: 'https://k.example/v3', application_credential_id: ac, application_credential_secret: s}",
            "application_credential",
        ),
        (None, "{auth_url: 'https://k.example', application_credential_id: ac, application_credential_secret: s}",
         "application_credential"),
        (None, "{auth_url: 'https://k.example', token: tok, project_id: p1}", "token"),
        (None, "{auth_url: 'https://k.example', username: u, user_domain_id: d, password: pw, project_id: p1}",
         "password"),
    ],
)  # fmt: skip
def test_auth_types_as_clouds_yaml_names_them(places, auth_type, auth, expected):
    kind = f"    auth_type: {auth_type}\n" if auth_type else ""
    s = resolve_cloud(places, f"clouds:\n  c:\n{kind}    auth: {auth}\n")
    assert s.auth_type == expected
    assert s.endpoint is None  # every one of them logs in, and the catalog gives the endpoint


def test_an_auth_type_vbs_cannot_use(places):
    with pytest.raises(ConfigError, match="auth_type 'v3oidcpassword' is not one vbs can use"):
        resolve_cloud(places, "clouds:\n  c:\n    auth_type: v3oidcpassword\n    auth: {auth_url: 'https://k'}\n")


def test_values_outside_auth_and_old_names_are_read_as_openstacksdk_does(places):
    s = resolve_cloud(
        places,
        "clouds:\n  c:\n    auth: {auth_url: 'https://k.example/v3', username: u, password: pw, tenant_name: old,"
        " domain_name: acme, project_name: inner}\n    project_name: outer\n",
    )
    assert s.auth["project_name"] == "outer"  # outside 'auth' wins
    assert s.auth["user_domain_name"] == "acme" and s.auth["project_domain_name"] == "acme"  # domain_name: both
    t = resolve_cloud(places, "clouds:\n  c:\n    auth: {auth_url: 'https://k', tenant_id: t1, auth_token: tok}\n")
    assert t.project_id == "t1" and t.auth["token"] == "tok"


def test_verify_cacert_endpoint_override_and_regions(places):
    ca = write(places["home"] / "ca.pem", "-----BEGIN CERTIFICATE-----\n")
    s = resolve_cloud(
        places,
        f"clouds:\n  c:\n    auth: {{auth_url: 'https://k', username: u, user_domain_name: d, password: pw,"
        f" project_id: p1}}\n    cacert: {ca}\n    regions: [eu-nl, eu-de]\n"
        "    block_storage_endpoint_override: https://evs.example/v3/p1\n",
    )
    assert (s.verify, s.region, s.endpoint, s.project_id) == (str(ca), "eu-nl", "https://evs.example", "p1")
    off = resolve_cloud(places, "clouds:\n  c:\n    auth: {auth_url: 'https://k', token: t, project_id: p}\n"
                        f"    verify: false\n    cacert: {ca}\n")  # fmt: skip
    assert off.verify is False and any("verification is off" in w for w in off.warnings)
    with pytest.raises(ConfigError, match="'cacert' in cloud 'c' in .* names a CA bundle that does not exist"):
        resolve_cloud(places, "clouds:\n  c:\n    auth: {auth_url: 'https://k', token: t}\n    cacert: /no/ca.pem\n")


def test_unknown_cloud_lists_the_known_ones(places):
    with pytest.raises(ConfigError) as info:
        resolve_cloud(places, "clouds:\n  prod: {}\n  lab: {}\n", name="staging")
    assert info.value.exit_code == 3
    assert info.value.message == (
        f"cloud 'staging' (from --os-cloud) not found in {places['cwd'] / 'clouds.yaml'}; known clouds: lab, prod"
    )


def test_no_clouds_yaml_says_where_it_was_looked_for(places):
    places["cwd"].mkdir()
    with pytest.raises(ConfigError) as info:
        config.resolve({}, env_of(places), None, "c", cwd=str(places["cwd"]))
    assert "cloud 'c' (from --os-cloud) not found: no clouds.yaml found (looked in " in info.value.message
    assert str(places["cwd"] / "clouds.yaml") in info.value.message


def test_malformed_clouds_yaml_names_file_and_line(places):
    with pytest.raises(ConfigError) as info:
        resolve_cloud(places, "clouds:\n  c:\n    auth: [unclosed\n")
    assert f"{places['cwd'] / 'clouds.yaml'}:" in info.value.message and "invalid YAML" in info.value.message
    with pytest.raises(ConfigError, match="'clouds' must be a mapping"):
        resolve_cloud(places, "clouds: [a, b]\n")


def test_a_cloud_without_credentials_says_what_is_missing(places):
    with pytest.raises(ConfigError) as info:
        resolve_cloud(places, "clouds:\n  c:\n    auth: {auth_url: 'https://k', username: u, user_domain_id: d}\n")
    assert info.value.message.endswith("auth type password needs 'auth.password'")
    assert "clouds.yaml or secure.yaml" in info.value.hint


@pytest.mark.parametrize("value", ["false", "no", "0", "'False'"])
def test_cacert_names_a_file_and_never_turns_verification_off(places, value):
    # only `verify: false` (or `insecure: true`) turns verification off; a CA bundle is always a file
    with pytest.raises(ConfigError) as info:
        resolve_cloud(places, f"clouds:\n  c:\n    auth: {{auth_url: 'https://k', token: t}}\n    cacert: {value}\n")
    assert info.value.exit_code == 3
    message = info.value.message
    assert "'cacert' in cloud 'c'" in message and "must be the path of a CA bundle file" in message


OTC_CLOUDS_YAML = """\
clouds:
  otc:
    profile: otc
    auth:
      username: 'backup-bot'
      password: 'clouds-S3CRET-pw'
      project_name: 'eu-de_nightly'
      user_domain_name: 'OTC00000000001000000xxx'
    interface: 'public'
    identity_api_version: 3
"""
"""A clouds.yaml as Open Telekom Cloud documents it: the Keystone URL comes from the vendor profile."""


def test_a_vendor_profile_gives_what_the_cloud_leaves_out(places):
    s = resolve_cloud(places, OTC_CLOUDS_YAML, name="otc")
    assert (s.auth["auth_url"], s.region) == ("https://iam.eu-de.otc.t-systems.com/v3", "eu-de")  # its regions[0]
    assert s.origins["auth.auth_url"] == s.origins["region"] == "vendor profile 'otc' (built in)"
    assert s.origins["auth.username"] == f"clouds.yaml {places['cwd'] / 'clouds.yaml'} (cloud 'otc')"
    in_nl = resolve_cloud(places, OTC_CLOUDS_YAML + "    region_name: eu-nl\n", name="otc")
    assert in_nl.auth["auth_url"] == "https://iam.eu-nl.otc.t-systems.com/v3"  # the region in use, in the URL
    flag = config.resolve(
        {"region": "eu-nl"}, env_of(places), None, "otc", cwd=str(places["cwd"])
    )  # a region given on the command line picks the Keystone of that region too
    assert flag.auth["auth_url"] == "https://iam.eu-nl.otc.t-systems.com/v3"
    old_name = resolve_cloud(places, OTC_CLOUDS_YAML.replace("profile: otc", "cloud: otc"), name="otc")
    assert old_name.auth["auth_url"] == "https://iam.eu-de.otc.t-systems.com/v3"  # openstacksdk's older key


def test_a_vendor_profile_from_clouds_public_yaml(places):
    public = write(
        places["home"] / ".config" / "openstack" / "clouds-public.yaml",
        "public-clouds:\n  corp:\n    auth: {auth_url: 'https://keystone.corp.example/v3'}\n"
        "    regions: [north, south]\n    block_storage_endpoint_override: https://cinder.corp.example\n",
    )
    s = resolve_cloud(
        places,
        "clouds:\n  c:\n    profile: corp\n"
        "    auth: {application_credential_id: ac, application_credential_secret: s}\n    region_name: south\n",
    )
    assert (s.auth["auth_url"], s.region, s.endpoint) == (
        "https://keystone.corp.example/v3",
        "south",
        "https://cinder.corp.example",
    )
    assert s.origins["auth.auth_url"] == f"clouds-public.yaml {public} (profile 'corp')"
    assert s.origins["region"] == f"clouds.yaml {places['cwd'] / 'clouds.yaml'} (cloud 'c')"


def test_an_unknown_vendor_profile_is_named(places):
    text = "clouds:\n  c:\n    profile: nimbus\n"
    text += "    auth: {application_credential_id: a, application_credential_secret: s}\n"
    with pytest.raises(ConfigError) as info:
        resolve_cloud(places, text)
    assert info.value.exit_code == 3
    assert "names the vendor profile 'nimbus', which vbs does not know (it knows otc, otc-swiss" in info.value.message
    assert "auth.auth_url" in info.value.hint
    own = resolve_cloud(places, text.replace("{application", "{auth_url: 'https://k.example', application", 1))
    assert own.auth["auth_url"] == "https://k.example/v3"
    assert any("vendor profile 'nimbus', which vbs does not know" in w for w in own.warnings)
    needs_region = (
        "clouds:\n  c:\n    auth: {auth_url: 'https://iam.{region_name}.example/v3', token: t, project_id: p}\n"
    )
    with pytest.raises(ConfigError, match="'auth.auth_url' https://iam.{region_name}.example/v3 needs a region"):
        resolve_cloud(places, needs_region)


def test_regions_as_openstacksdk_spells_them(places):
    base = "clouds:\n  c:\n    auth: {auth_url: 'https://k', token: t, project_id: p}\n"
    assert resolve_cloud(places, base + "    region_name: 'eu-nl,eu-de'\n").region == "eu-nl"  # the old list
    listed = resolve_cloud(places, base + "    regions:\n      - {name: eu-de, values: {interface: internal}}\n")
    assert listed.region == "eu-de" and listed.interface == "public"
    assert any("per-region 'values' of 'regions' are not applied" in w for w in listed.warnings)  # not silently

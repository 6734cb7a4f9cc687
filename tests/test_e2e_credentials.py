"""Credentials are only ever sent to the endpoint configured beside them, in every combination of flags,
--profile, --os-cloud, OS_CLOUD, VBS_PROFILE, VBS_* and openrc (OS_*) variables, the service catalog
included: a token from cloud A's Keystone never goes to an endpoint that came from somewhere else.

The installed `vbs` runs against two emulators, A and B, each both Keystone and the service (with the
same seed, so each would accept the other's credentials: only the count of requests they receive tells
where credentials went), and a bare listener L that stands for "anywhere else". Every request vbs makes
carries credentials (a login body, a token or a signature), so a source that receives a request
received credentials.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any, NamedTuple

import pytest

from tests.conftest import Profiles, Service
from tests.helpers import SECRETS, run_vbs
from tests.test_e2e_config import Listener

APP_ID = "0c6e8a2f4b1d4e3a9f7c5b2d1e0a9b8c"
APP_SECRET = "demo-app-secret"
AMBIENT_TOKEN = "zzz-ambient-token"
SECRETS.update({APP_SECRET, AMBIENT_TOKEN})


class Case(NamedTuple):
    args: tuple[str, ...]
    env: dict[str, str]
    receivers: str
    """Who receives requests: "A", "B", "L", "A+L", ... or "" (nobody)."""
    exit_code: int
    default: str | None = None
    """The profile file's `default:`."""
    before: tuple[str, ...] = ()
    """A run made first (a login to cache), whose requests are not counted."""


# Placeholders, filled in by `_expand`: {A}, {B}, {L} are the URLs; OPENRC_A / OPENRC_B the openrc files.
OPENRC = {
    "OS_AUTH_TYPE": "v3applicationcredential",
    "OS_AUTH_URL": "{X}/v3",
    "OS_APPLICATION_CREDENTIAL_ID": APP_ID,
    "OS_APPLICATION_CREDENTIAL_SECRET": APP_SECRET,
    "OS_REGION_NAME": "RegionOne",
}
OPENRC_A = {k: v.replace("{X}", "{A}") for k, v in OPENRC.items()}
OPENRC_B = {k: v.replace("{X}", "{B}") for k, v in OPENRC.items()}
AMBIENT = {"VBS_ENDPOINT": "{L}", "VBS_TOKEN": AMBIENT_TOKEN, "VBS_PROJECT_ID": "ffffffffffffffffffffffffffffffff"}

CASES: dict[str, Case] = {
    # An explicit choice on the command line takes nothing from the environment.
    "-p with VBS_ENDPOINT and VBS_TOKEN": Case(("-p", "pa"), AMBIENT, "A", 0),
    "-p (catalog) with VBS_ENDPOINT": Case(("-p", "pcat"), {"VBS_ENDPOINT": "{L}"}, "A", 0),
    "-p (catalog) with VBS_ENDPOINT and VBS_TOKEN": Case(("-p", "pcat"), AMBIENT, "A", 0),
    "--os-cloud with VBS_ENDPOINT and VBS_TOKEN": Case(("--os-cloud", "ca"), AMBIENT, "A", 0),
    "--os-cloud with VBS_ENDPOINT": Case(("--os-cloud", "ca"), {"VBS_ENDPOINT": "{L}"}, "A", 0),
    "--os-cloud with OS_CLOUD": Case(("--os-cloud", "ca"), {"OS_CLOUD": "cb"}, "A", 0),
    "--os-cloud with openrc": Case(("--os-cloud", "ca"), OPENRC_B, "A", 0),
    "--os-cloud with VBS_PROFILE": Case(("--os-cloud", "ca"), {"VBS_PROFILE": "pb"}, "A", 0),
    "-p with OS_CLOUD": Case(("-p", "pa"), {"OS_CLOUD": "cb"}, "A", 0),
    "-p (catalog) with openrc": Case(("-p", "pcat"), OPENRC_B, "A", 0),
    "-p with VBS_PROFILE": Case(("-p", "pa"), {"VBS_PROFILE": "pb"}, "A", 0),
    "-p pointing at a cloud, with VBS_ENDPOINT": Case(("-p", "pc"), {"VBS_ENDPOINT": "{L}"}, "A", 0),
    "--os-cloud, another region of its catalog": Case(
        ("--os-cloud", "ca", "--os-region-name", "RegionTwo"), {}, "A", 0
    ),
    # Without an explicit choice: each default source goes to its own endpoint.
    "OS_CLOUD": Case((), {"OS_CLOUD": "cb"}, "B", 0),
    "OS_CLOUD with openrc": Case((), {"OS_CLOUD": "ca", **OPENRC_B}, "A", 0),
    "VBS_PROFILE": Case((), {"VBS_PROFILE": "pb"}, "B", 0),
    "VBS_PROFILE with OS_CLOUD": Case((), {"VBS_PROFILE": "pa", "OS_CLOUD": "cb"}, "A", 0),
    "the default profile": Case((), {}, "B", 0, default="pb"),
    "the default profile with openrc": Case((), OPENRC_B, "A", 0, default="pcat"),
    "openrc alone": Case((), OPENRC_B, "B", 0),
    "openrc with its own endpoint override": Case(
        (), {"OS_AUTH_TOKEN": "demo-token", "OS_PROJECT_ID": "{P}", "OS_BLOCK_STORAGE_ENDPOINT_OVERRIDE": "{B}"}, "B", 0
    ),
    # VBS_ENDPOINT with VBS_TOKEN is a whole configuration of its own; with VBS_PROJECT_ID it goes to B.
    "VBS_ENDPOINT and VBS_TOKEN over the default profile": Case(
        (), {"VBS_ENDPOINT": "{B}", "VBS_TOKEN": "demo-token", "VBS_PROJECT_ID": "{P}"}, "B", 0, default="pa"
    ),
    "VBS_ENDPOINT and VBS_TOKEN over OS_CLOUD": Case(
        (), {"OS_CLOUD": "ca", "VBS_ENDPOINT": "{B}", "VBS_TOKEN": "demo-token", "VBS_PROJECT_ID": "{P}"}, "B", 0
    ),
    # VBS_ENDPOINT alone never carries another source's credentials: refused before anything is sent.
    "VBS_ENDPOINT with the default profile": Case((), {"VBS_ENDPOINT": "{L}"}, "", 3, default="pa"),
    "VBS_ENDPOINT with the default profile (catalog)": Case((), {"VBS_ENDPOINT": "{L}"}, "", 3, default="pcat"),
    "VBS_ENDPOINT with VBS_PROFILE": Case((), {"VBS_PROFILE": "pa", "VBS_ENDPOINT": "{L}"}, "", 3),
    "VBS_ENDPOINT with OS_CLOUD": Case((), {"OS_CLOUD": "ca", "VBS_ENDPOINT": "{L}"}, "", 3),
    "VBS_ENDPOINT with openrc": Case((), {**OPENRC_A, "VBS_ENDPOINT": "{L}"}, "", 3),
    "VBS_ENDPOINT with the only cloud": Case((), {"VBS_ENDPOINT": "{L}", "OS_CLIENT_CONFIG_FILE": "{ONLY}"}, "", 3),
    # A login cached for B is never used for A, whose credentials are the same but whose Keystone is not.
    "--os-cloud after a login at the other Keystone": Case(
        ("--os-cloud", "ca"), {}, "A", 0, before=("--os-cloud", "cb")
    ),
    "OS_CLOUD after a login at the other Keystone": Case((), {"OS_CLOUD": "cb"}, "B", 0, before=("--os-cloud", "ca")),
    # Only a flag, typed for this one run, may point a source's credentials at another endpoint.
    "-p with a typed --endpoint": Case(("-p", "pa", "--endpoint", "{L}"), {}, "L", 5),
    "--os-cloud with a typed --endpoint": Case(("--os-cloud", "ca", "--endpoint", "{B}"), {}, "A+B", 4),
    "-p and --os-cloud together": Case(("-p", "pa", "--os-cloud", "cb"), {}, "", 2),
}


@pytest.fixture
def listener() -> Iterator[Listener]:
    found = Listener()
    yield found
    found.close()


def _cloud(url: str) -> str:
    return (
        "    auth_type: v3applicationcredential\n"
        f"    auth: {{auth_url: '{url}', application_credential_id: {APP_ID},"
        f" application_credential_secret: {APP_SECRET}}}\n"
        "    region_name: RegionOne\n"
    )


def _write_sources(home: Path, profiles: Profiles, a: Any, b: Any, default: str | None) -> Path:
    """Profiles pa (token, A), pb (token, B), pcat (a login at A, endpoint from its catalog) and pc (cloud ca);
    clouds ca (A) and cb (B); and a clouds.yaml of one cloud (A) elsewhere, for OS_CLIENT_CONFIG_FILE."""
    profiles.write(
        (f"default: {default}\n" if default else "")
        + "profiles:\n"
        + f"  pa: {{endpoint: '{a.url}', project_id: '{a.project_id}', auth: {{type: token, token: demo-token}}}}\n"
        + f"  pb: {{endpoint: '{b.url}', project_id: '{b.project_id}', auth: {{type: token, token: demo-token}}}}\n"
        + "  pcat:\n    region_name: RegionOne\n"
        + f"    auth: {{type: application_credential, auth_url: '{a.url}', application_credential_id: {APP_ID},"
        + f" application_credential_secret: {APP_SECRET}}}\n"
        + "  pc: {cloud: ca}\n"
    )
    directory = home / ".config" / "openstack"
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "clouds.yaml").write_text(f"clouds:\n  ca:\n{_cloud(a.url)}  cb:\n{_cloud(b.url)}")
    only = home / "only" / "clouds.yaml"
    only.parent.mkdir()
    only.write_text(f"clouds:\n  only:\n{_cloud(a.url)}")
    return only


def _received(a: Any, b: Any, listener: Listener) -> str:
    counts = {"A": sum(a.stats()["requests"].values()), "B": sum(b.stats()["requests"].values())}
    counts["L"] = listener.connections
    return "+".join(name for name, count in counts.items() if count)


@pytest.mark.parametrize("name", list(CASES))
def test_credentials_only_go_to_the_endpoint_configured_beside_them(
    name: str, emulator: Service, other_emulator: Service, listener: Listener, profiles: Profiles, isolated_env: Path
):
    case = CASES[name]
    a, other = emulator.emu, other_emulator.emu
    only = _write_sources(isolated_env, profiles, a, other, case.default)
    places = {"{A}": a.url, "{B}": other.url, "{L}": f"http://127.0.0.1:{listener.port}", "{P}": other.project_id}
    places["{ONLY}"] = str(only)

    def fill(text: str) -> str:
        for placeholder, value in places.items():
            text = text.replace(placeholder, value)
        return text

    if case.before:
        assert run_vbs(*case.before, "backup", "list").exit_code == 0
        a.reset_stats()
        other.reset_stats()
    run = run_vbs(*map(fill, case.args), "backup", "list", "-o", "table", env={k: fill(v) for k, v in case.env.items()})
    assert (run.exit_code, _received(a, other, listener)) == (case.exit_code, case.receivers), run.stderr
    assert run.stderr.count("\n") <= 2, run.stderr  # a warning naming what was ignored, and the error if any

"""`vbs profile ...` through the installed binary: the file it writes, its mode, and what it keeps."""

from __future__ import annotations

import yaml

from tests.conftest import OTHER_TOKEN, TOKEN, file_mode
from tests.helpers import SECRETS, in_terminal, run_vbs

SECRETS.update({"sk-PROFILE-secret", "tok-ADDED-secret"})


def test_list_shows_names_endpoints_auth_types_and_the_default(prod_profile):
    run = run_vbs("profile", "list")
    assert run.exit_code == 0
    doc = run.json()
    assert [p["name"] for p in doc["profiles"]] == ["lab", "prod"]
    assert [p["default"] for p in doc["profiles"]] == [False, True]
    assert {p["auth_type"] for p in doc["profiles"]} == {"token"}
    table = run_vbs("profile", "list", "-o", "table").stdout
    assert "prod" in table and "lab" in table and prod_profile.endpoint in table and "*" in table


def test_show_masks_secrets(prod_profile):
    run = run_vbs("profile", "show", "prod")
    assert run.exit_code == 0
    assert run.json()["profile"]["auth"] == {"type": "token", "token": "<redacted>"}
    assert TOKEN not in run.stdout
    table = run_vbs("profile", "show", "lab", "-o", "table")
    assert "auth.token" in table.stdout and "<redacted>" in table.stdout and OTHER_TOKEN not in table.stdout


def test_show_on_an_80_column_terminal_says_where_every_setting_came_from(prod_profile):
    origins = run_vbs("profile", "show", "prod").json()["profile"]["origins"]
    run = in_terminal("profile", "show", "prod", columns=80, env={"NO_COLOR": "1"})
    assert run.exit_code == 0 and run.stderr == ""  # nothing hidden to fit, so no note about it
    lines = run.stdout.splitlines()
    assert all(len(line) <= 80 for line in lines), run.stdout
    blocks: dict[str, str] = {}  # each setting with its value and the lines under it
    for line in lines[2:]:
        if line[:1].strip():
            setting, _, rest = line.partition(" ")
            blocks[setting] = rest
        else:
            blocks[setting] += line
    assert {"endpoint", "project_id", "read_timeout", "auth.token", "interface"} <= set(blocks)
    for setting, origin in origins.items():
        assert "".join(f"from {origin}".split()) in "".join(blocks[setting].split()), (setting, run.stdout)
    assert "".join(blocks["read_timeout"].split()).startswith("10from")  # as the file has it: 10, not 10.0


def test_show_unknown_profile_exits_3(prod_profile):
    run = run_vbs("profile", "show", "nope", "-o", "table")
    assert run.exit_code == 3 and "'nope' is neither a profile" in run.stderr and "(known: lab, prod)" in run.stderr


def test_add_writes_mode_0600_and_keeps_other_profiles(prod_profile):
    before = yaml.safe_load(prod_profile.path.read_text())
    run = run_vbs(
        "profile",
        "add",
        "ak",
        "--endpoint",
        "https://evs.eu-nl.example",
        "--project-id",
        "p3",
        "--auth-type",
        "aksk",
        "--access-key",
        "AKPUBLIC",
        "--secret-key",
        "sk-PROFILE-secret",
        "--read-timeout",
        "30",
        "--deadline",
        "1.5",
    )
    assert run.exit_code == 0, run.stderr
    assert run.json()["profile"]["auth"]["secret_key"] == "<redacted>"
    after = yaml.safe_load(prod_profile.path.read_text())
    assert file_mode(prod_profile.path) == 0o600
    assert after["profiles"]["prod"] == before["profiles"]["prod"]
    assert after["profiles"]["lab"] == before["profiles"]["lab"]
    assert after["default"] == "prod"
    assert after["profiles"]["ak"] == {
        "endpoint": "https://evs.eu-nl.example",
        "project_id": "p3",
        "read_timeout": 30,
        "deadline": 1.5,
        "auth": {"type": "aksk", "access_key": "AKPUBLIC", "secret_key": "sk-PROFILE-secret"},
    }
    text = prod_profile.path.read_text()  # the numbers as they were typed, not 30.0
    assert "    read_timeout: 30\n" in text and "    deadline: 1.5\n" in text


def test_add_creates_the_file_and_first_profile_becomes_default(profiles):
    run = run_vbs(
        "profile", "add", "first", "--endpoint", "https://e.example", "--project-id", "p1", "--token-env", "MY_TOKEN"
    )
    assert run.exit_code == 0, run.stderr
    doc = yaml.safe_load(profiles.path.read_text())
    assert doc == {
        "default": "first",
        "profiles": {
            "first": {
                "endpoint": "https://e.example",
                "project_id": "p1",
                "auth": {"type": "token", "token_env": "MY_TOKEN"},
            }
        },
    }
    assert file_mode(profiles.path) == 0o600
    assert file_mode(profiles.path.parent) == 0o700


def test_add_without_a_terminal_never_prompts_and_names_what_is_missing(profiles):
    run = run_vbs("profile", "add", "p", "--endpoint", "https://e.example", "-o", "table")
    assert run.exit_code == 2
    assert run.stderr.strip() == (
        "vbs: error: profile 'p' needs --project-id, --token or --token-env; "
        "give them as options (no terminal to prompt on)"
    )
    assert not profiles.path.exists()


def test_add_refuses_invalid_values_and_existing_names(prod_profile):
    text = prod_profile.path.read_text()
    run = run_vbs(
        "profile", "add", "x", "--endpoint", "evs.example", "--project-id", "p", "--token-env", "T", "-o", "table"
    )
    assert run.exit_code == 2 and "must be an http:// or https:// URL" in run.stderr
    same_name = (
        "profile",
        "add",
        "prod",
        "--endpoint",
        "https://e.example",
        "--project-id",
        "p",
        "--token",
        "tok-ADDED-secret",
    )
    run = run_vbs(*same_name, "-o", "table")
    assert run.exit_code == 2 and "already exists" in run.stderr and "--replace" in run.stderr
    assert prod_profile.path.read_text() == text
    run = run_vbs(*same_name, "--replace")
    assert run.exit_code == 0
    assert yaml.safe_load(prod_profile.path.read_text())["profiles"]["prod"]["auth"]["token"] == "tok-ADDED-secret"


def test_set_default_and_remove(prod_profile):
    assert run_vbs("profile", "set-default", "lab").exit_code == 0
    assert yaml.safe_load(prod_profile.path.read_text())["default"] == "lab"
    run = run_vbs("profile", "remove", "lab")
    assert run.exit_code == 0
    assert "was the default profile" in run.stderr
    doc = yaml.safe_load(prod_profile.path.read_text())
    assert list(doc["profiles"]) == ["prod"] and "default" not in doc
    assert file_mode(prod_profile.path) == 0o600
    assert run_vbs("profile", "remove", "lab").exit_code == 3
    assert run_vbs("profile", "set-default", "nope").exit_code == 3

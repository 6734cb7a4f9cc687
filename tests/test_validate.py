import re
import string

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.conftest import SNAPSHOT, VOLUME
from vbscli.backups import BackupSpec
from vbscli.errors import InputError
from vbscli.exit_codes import ExitCode
from vbscli.validate import check_description, check_name, check_uuid

ALLOWED = set(string.ascii_letters + string.digits + "_-")


def name_is_valid(name: str) -> bool:
    """The service's rule, stated independently of the implementation."""
    return 1 <= len(name) <= 64 and all(c in ALLOWED for c in name) and not name.startswith("auto")


@pytest.mark.parametrize("name", ["b", "backup1", "Backup_Demo-2", "a" * 64, "Auto-is-fine", "au", "xauto"])
def test_valid_names_pass_unchanged(name):
    assert check_name(name) == name


@pytest.mark.parametrize(
    ("name", "problem"),
    [
        ("", "empty"),
        ("a" * 65, "65 characters long"),
        ("backup 1", "contains ' '"),
        ("bäckup", "contains 'ä'"),
        ("b/1", "contains '/'"),
        ("auto", "starts with 'auto'"),
        ("autobackup", "starts with 'auto'"),
        ("name\n", "contains '\\n'"),
    ],
)
def test_invalid_names_name_the_field_rule_and_value(name, problem):
    with pytest.raises(InputError) as info:
        check_name(name)
    err = info.value
    assert err.exit_code == ExitCode.USAGE
    assert err.message.startswith("invalid --name ")
    assert problem in err.message
    assert repr(name[:80]) in err.message or "…" in err.message
    assert "1-64 characters" in err.hint and "'auto'" in err.hint


def accepted(name: str) -> bool:
    try:
        check_name(name)
    except InputError:
        return False
    return True


@given(st.text(alphabet=st.sampled_from(sorted(ALLOWED) + [" ", "é", "/", "\t", "."]), max_size=70))
def test_name_check_agrees_with_the_rule(name):
    assert accepted(name) == name_is_valid(name)


@given(st.text(max_size=80))
def test_name_check_agrees_with_the_rule_on_any_text(name):
    assert accepted(name) == name_is_valid(name)


@pytest.mark.parametrize("value", [VOLUME, VOLUME.upper()])
def test_uuids_pass(value):
    assert check_uuid(value, "--volume-id") == value


@pytest.mark.parametrize("value", ["", "c5834fe1", VOLUME + "0", VOLUME.replace("-", ""), "g" * 8 + VOLUME[8:]])
def test_bad_uuids_fail_with_field_name(value):
    with pytest.raises(InputError, match=r"invalid --snapshot-id .*not a UUID"):
        check_uuid(value, "--snapshot-id")


def test_description_rules():
    assert check_description("d" * 255) == "d" * 255
    with pytest.raises(InputError, match="256 characters long"):
        check_description("d" * 256)
    with pytest.raises(InputError, match="contains '<' or '>'"):
        check_description("nightly <b>")


def test_spec_body_sends_only_given_fields():
    assert BackupSpec(VOLUME, SNAPSHOT).checked().body() == {"backup": {"volume_id": VOLUME, "snapshot_id": SNAPSHOT}}
    body = BackupSpec(VOLUME, SNAPSHOT, "b1", "desc", True).checked().body()["backup"]
    assert body == {"volume_id": VOLUME, "snapshot_id": SNAPSHOT, "name": "b1", "description": "desc", "force": True}
    assert "container" not in body and "incremental" not in body


def test_long_values_are_cut_in_messages():
    with pytest.raises(InputError) as info:
        check_name("x" * 500)
    assert len(info.value.one_line()) < 300
    assert re.search(r"x{80}…", info.value.message)

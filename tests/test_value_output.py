"""`-o value` and `--field/-f`: one field without jq, for every command, in a plain shell."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import Service
from tests.helpers import run_vbs
from vbscli.errors import InputError
from vbscli.render import records, values

VOLUME, SNAPSHOT = "5c1a9f0e-2b3d-4e5f-8a9b-0c1d2e3f4a01", "9e3c7d21-6f4a-4b8c-9d0e-1f2a3b4c5d01"
CREATE = ("backup", "create", "--volume-id", VOLUME, "--snapshot-id", SNAPSHOT)


def sh(script: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    """A POSIX shell script, with the installed vbs first on PATH."""
    path = f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"
    return subprocess.run(
        ["sh", "-c", script], env={**os.environ, **env, "PATH": path}, capture_output=True, text=True, timeout=60
    )


def test_an_id_into_a_shell_variable_and_back(emulator: Service):
    proc = sh(
        f"id=$(vbs backup create --volume-id {VOLUME} --snapshot-id {SNAPSHOT} --name first -o value -f id) "
        '&& vbs backup show "$id" -f id -f name -f status',
        emulator.env,
    )
    assert proc.returncode == 0, proc.stderr
    backup_id, name, status = proc.stdout.rstrip("\n").split("\t")
    assert (name, status) == ("first", "available") and proc.stdout.count("\n") == 1
    assert run_vbs("backup", "list", env=emulator.env).json()["backups"][0]["id"] == backup_id


def test_a_list_prints_one_line_per_object_in_the_order_of_the_fields(emulator: Service):
    for n, (volume, snapshot) in enumerate([(VOLUME, SNAPSHOT), (VOLUME[:-1] + "3", SNAPSHOT[:-1] + "3")]):
        assert (
            run_vbs(
                "backup",
                "create",
                "--volume-id",
                volume,
                "--snapshot-id",
                snapshot,
                "--name",
                f"b{n}",
                env=emulator.env,
            ).exit_code
            == 0
        )
    listing = run_vbs("backup", "list", env=emulator.env).json()["backups"]
    run = run_vbs("backup", "list", "-f", "name", "-f", "volume_id", env=emulator.env)
    assert run.exit_code == 0 and run.stderr == ""
    assert run.stdout == "".join(f"{b['name']}\t{b['volume_id']}\n" for b in listing)
    # -f before the command name counts too, and -o value without -f prints every field
    assert run_vbs("-f", "id", "backup", "list", env=emulator.env).stdout == "".join(f"{b['id']}\n" for b in listing)
    every = run_vbs("backup", "list", "-o", "value", env=emulator.env).stdout.splitlines()
    assert [line.split("\t")[0] for line in every] == [b["id"] for b in listing]
    assert all(len(line.split("\t")) == len(listing[0]) for line in every)


def test_nothing_found_prints_nothing(emulator: Service):
    run = run_vbs("backup", "list", "--name", "none-such", "-f", "id", env=emulator.env)
    assert (run.exit_code, run.stdout, run.stderr) == (0, "", "")


def test_an_unknown_field_is_a_usage_error_listing_the_known_ones(emulator: Service):
    assert run_vbs(*CREATE, "--name", "x", env=emulator.env).exit_code == 0
    run = run_vbs("backup", "list", "-f", "idd", "-o", "value", env=emulator.env)
    assert run.exit_code == 2 and run.stdout == ""
    assert run.stderr.startswith("vbs: error: unknown field 'idd' for --field (fields of this result: id, name, status")
    assert run.stderr.count("\n") == 1


def test_field_with_another_format_is_refused_before_anything_is_sent(emulator: Service):
    run = run_vbs(*CREATE, "-o", "json", "-f", "id", env=emulator.env)
    assert run.exit_code == 2 and run.stdout == ""
    assert run.error() == {
        "status": None,
        "code": "InvalidInput",
        "message": "--field prints bare values and cannot be combined with -o json; use -o value",
        "request_id": None,
    }
    run = run_vbs(*CREATE, "-f", "id", "-o", "table", env=emulator.env)
    assert run.exit_code == 2 and "cannot be combined with -o table" in run.stderr
    run = run_vbs(*CREATE, "-f", "id", "--wide", env=emulator.env)
    assert (run.exit_code, run.stderr) == (2, "vbs: error: --wide only changes tables; drop --wide, or use -o table\n")
    assert emulator.emu.stats()["requests"] == {}


def test_value_wherever_an_output_format_is_accepted(emulator: Service, profiles):
    backup_id = run_vbs(*CREATE, "--name", "v", "-f", "id", env=emulator.env).stdout.strip()
    # VBS_OUTPUT
    run = run_vbs("backup", "show", backup_id, env={**emulator.env, "VBS_OUTPUT": "value"})
    assert run.exit_code == 0 and run.stdout.startswith(f"{backup_id}\tv\t")
    # the profile's output:, and an explicit -f beats VBS_OUTPUT=json
    profiles.write(
        f"profiles:\n  emu:\n    endpoint: {emulator.emu.url}\n    project_id: {emulator.emu.project_id}\n"
        f"    auth: {{type: token, token: {emulator.emu.token}}}\n    output: value\n"
    )
    assert run_vbs("-p", "emu", "backup", "show", backup_id).stdout.startswith(f"{backup_id}\tv\t")
    assert (
        run_vbs("-p", "emu", "backup", "show", backup_id, "-f", "status", env={"VBS_OUTPUT": "json"}).stdout
        == "available\n"
    )


def test_dry_run_prints_the_fields_of_the_request(emulator: Service):
    run = run_vbs(*CREATE, "--name", "dry", "--dry-run", "-f", "method", "-f", "url", env=emulator.env)
    assert run.exit_code == 0
    assert run.stdout == f"POST\t{emulator.emu.url}/v3/{emulator.emu.project_id}/backups\n"
    assert emulator.emu.stats()["requests"] == {}


def test_dry_runs_of_many_requests_print_one_line_of_fields_per_request(emulator: Service, tmp_path):
    fleet = tmp_path / "fleet.yaml"
    fleet.write_text(
        f"- {{volume_id: {VOLUME}, name: fresh}}\n- {{volume_id: {VOLUME[:-1]}3, snapshot_id: {SNAPSHOT}}}\n"
    )
    run = run_vbs("backup", "create", "--from", str(fleet), "--dry-run", "-f", "line", "-f", "url", env=emulator.env)
    assert run.exit_code == 0, run.stderr
    root = f"{emulator.emu.url}/v3/{emulator.emu.project_id}"
    assert run.stdout == f"1\t{root}/snapshots\n1\t{root}/backups\n2\t{root}/backups\n"
    run = run_vbs(
        "backup", "prune", "--volume-id", VOLUME, "--keep-last", "1", "--dry-run", "-f", "method", env=emulator.env
    )
    assert (run.exit_code, run.stdout) == (0, "GET\nGET\n"), run.stderr
    run = run_vbs(
        "backup", "prune", "--volume-id", VOLUME, "--keep-last", "1", "--dry-run", "-f", "nope", env=emulator.env
    )
    assert run.exit_code == 2 and "unknown field 'nope'" in run.stderr and "volume_id, method, url" in run.stderr
    assert emulator.emu.stats()["requests"] == {}


def test_a_fleet_run_prints_one_line_per_item(emulator: Service, tmp_path):
    fleet = tmp_path / "fleet.csv"
    fleet.write_text(f"volume_id,snapshot_id,name\n{VOLUME},{SNAPSHOT},one\n")
    run = run_vbs(
        "backup", "create", "--from", str(fleet), "-f", "line", "-f", "result", "-f", "name", env=emulator.env
    )
    assert run.exit_code == 0, run.stderr
    assert run.stdout == "2\tcreated\tone\n"


# -- the rule, on documents of every shape ------------------------------------------------------


@pytest.mark.parametrize(
    ("document", "expected"),
    [
        ({"backup": {"id": "a"}}, [{"id": "a"}]),
        ({"backups": [{"id": "a"}, {"id": "b"}]}, [{"id": "a"}, {"id": "b"}]),
        ({"backups": []}, []),
        ({"file": "f", "default": "p", "profiles": [{"name": "p"}]}, [{"name": "p"}]),
        ({"method": "POST", "url": "u", "headers": {}, "body": {"backup": {}}}, None),
        ({"removed": "p", "file": "f"}, None),
    ],
)
def test_which_objects_a_document_gives(document, expected):
    assert records(document) == (expected if expected is not None else [document])


def test_values_as_a_shell_script_wants_them():
    doc = {
        "backup": {
            "id": "a",
            "fail_reason": None,
            "is_incremental": False,
            "size": 10,
            "links": [{"rel": "self"}],
            "description": "two\tcells\nand lines",
        }
    }
    assert values(doc) == 'a\t\tfalse\t10\t[{"rel":"self"}]\ttwo\\tcells\\nand lines\n'
    assert values(doc, ("size", "id")) == "10\ta\n"
    with pytest.raises(InputError, match=r"unknown field 'nope' for --field \(fields of this result: id, fail_reason"):
        values(doc, ("id", "nope"))
    # an object that lacks a field another one has prints it empty
    assert values({"backups": [{"id": "a", "name": "n"}, {"id": "b"}]}, ("name", "id")) == "n\ta\n\tb\n"


def test_a_command_drawing_several_tables_prints_its_values_once(emulator: Service):
    for volume, snapshot in ((VOLUME, SNAPSHOT), (VOLUME[:-1] + "3", SNAPSHOT[:-1] + "3")):
        assert (
            run_vbs("backup", "create", "--volume-id", volume, "--snapshot-id", snapshot, env=emulator.env).exit_code
            == 0
        )
    listing = run_vbs("backup", "list", env=emulator.env).json()["backups"]
    run = run_vbs(
        "backup", "prune", "--all", "--keep-last", "1", "--plan", "-f", "id", "-f", "action", env=emulator.env
    )
    assert run.exit_code == 0, run.stderr
    assert sorted(run.stdout.splitlines()) == sorted(
        f"{b['id']}\t{'delete' if b['status'] == 'error' else 'keep'}" for b in listing
    )

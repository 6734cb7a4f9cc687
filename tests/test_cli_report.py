"""`vbs backup report` in-process (CliRunner) against the history emulator: which disks, bad input
refused before anything is sent, names that fail, and the metrics of a report that failed."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests.conftest import Reporting
from tests.helpers import invoke
from tests.report_seed import FAILING, FRESH, NAMES, NEVER, UNNAMED, UNPROTECTED, WITH_BACKUPS

SNAPSHOT = "251f910a-a2bd-443e-a77a-90a3dbd26b7b"


def report(reporting: Reporting, *args: str, **env: str):
    return invoke("backup", "report", *args, env={**reporting.env, **env})


def test_all_disks_with_backups_by_default(reporting: Reporting):
    run = report(reporting)
    assert run.exit_code == 0, run.stderr
    assert run.stderr == ""
    volumes = run.json()["volumes"]
    assert sorted(v["volume_id"] for v in volumes) == sorted(WITH_BACKUPS)  # not the disk without backups
    assert {v["volume_id"]: v["volume_name"] for v in volumes}[FRESH] == NAMES[FRESH]
    assert {v["volume_id"]: v["volume_name"] for v in volumes}[UNNAMED] is None
    assert [v["volume_id"] for v in report(reporting, "--all").json()["volumes"]] == [v["volume_id"] for v in volumes]


def test_named_disks_only_and_a_disk_without_backups_is_never_backed_up(reporting: Reporting):
    run = report(reporting, "--volume-id", FRESH, "--volume-id", UNPROTECTED.upper(), "--volume-id", FRESH)
    assert run.exit_code == 0, run.stderr
    volumes = run.json()["volumes"]
    assert [v["volume_id"] for v in volumes] == [UNPROTECTED, FRESH]  # at risk first
    assert volumes[0]["volume_name"] == "new-disk" and volumes[0]["backups"] == 0
    assert volumes[0]["age_seconds"] is None and volumes[0]["newest_available_backup_id"] is None
    assert reporting.requests("GET backups_detail") == 2


@pytest.mark.parametrize(
    ("name", "text"),
    [
        ("fleet.yaml", f"- {{volume_id: {FRESH}, snapshot_id: {SNAPSHOT}, name: a}}\n- {{volume_id: {NEVER}}}\n"),
        ("fleet.csv", f"volume_id,snapshot_id,name\n{FRESH},{SNAPSHOT},a\n{NEVER},,\n"),
        ("fleet.jsonl", json.dumps({"volume_id": FRESH, "snapshot_id": SNAPSHOT}) + f'\n{{"volume_id": "{NEVER}"}}\n'),
    ],
)
def test_from_a_fleet_file_in_any_format_create_reads(reporting: Reporting, tmp_path: Path, name: str, text: str):
    path = tmp_path / name
    path.write_text(text)
    run = report(reporting, "--from", str(path), "--volume-id", FAILING)
    assert run.exit_code == 0, run.stderr
    assert sorted(v["volume_id"] for v in run.json()["volumes"]) == sorted([FRESH, NEVER, FAILING])


def test_from_stdin(reporting: Reporting):
    from typer.testing import CliRunner

    from vbscli.cli import app

    result = CliRunner().invoke(
        app, ["backup", "report", "--from", "-"], env=reporting.env, input=f"- {{volume_id: {NEVER}}}\n"
    )
    assert result.exit_code == 0, result.stderr
    assert [v["volume_id"] for v in json.loads(result.stdout)["volumes"]] == [NEVER]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--all", "--volume-id", FRESH), "--all cannot be combined with --volume-id or --from"),
        (("--volume-id", "disk-1"), "invalid --volume-id 'disk-1': not a UUID"),
        (("--max-age", "a day"), "invalid --max-age 'a day': not a duration"),
        (("--max-age", "0h"), "invalid --max-age '0h': not more than 0"),
        (("--prometheus", "/nonexistent/dir/vbs.prom"), "directory /nonexistent/dir does not exist"),
        (("--from", "/nonexistent/fleet.yaml"), "cannot read --from /nonexistent/fleet.yaml"),
    ],
)
def test_bad_input_exits_2_and_sends_nothing(reporting: Reporting, args, message):
    run = report(reporting, *args, "-o", "table")
    assert run.exit_code == 2 and run.stdout == ""
    assert message in run.stderr
    assert reporting.emu.stats()["requests"] == {}


@pytest.mark.parametrize("args", [("--days", "0"), ("--days", "367"), ("--parallel", "0")])
def test_out_of_range_numbers_are_usage_errors(reporting: Reporting, args):
    run = report(reporting, *args)
    assert run.exit_code == 2 and reporting.emu.stats()["requests"] == {}


def test_invalid_fleet_items_are_each_named_and_nothing_is_sent(reporting: Reporting, tmp_path: Path):
    path = tmp_path / "fleet.yaml"
    path.write_text(f"- {{volume_id: {FRESH}}}\n- {{volume_id: nope}}\n- {{snapshot_id: {SNAPSHOT}}}\n- {{disk: 1}}\n")
    run = report(reporting, "--from", str(path), "-o", "table")
    assert run.exit_code == 2
    lines = run.stderr.splitlines()
    assert lines[0] == f"vbs: warning: invalid item: {path}:2: invalid volume_id 'nope': not a UUID; it must be " + (
        "a UUID such as 5c1a9f0e-2b3d-4e5f-8a9b-0c1d2e3f4a5b"
    )
    assert lines[1] == f"vbs: warning: invalid item: {path}:3: missing 'volume_id'"
    assert lines[2].startswith(f"vbs: warning: invalid item: {path}:4: unknown field 'disk'")
    assert lines[3] == f"vbs: error: 3 items in {path} are invalid; nothing was sent; fix them and run again"
    assert reporting.emu.stats()["requests"] == {}


def test_names_that_cannot_be_read_leave_ids_and_a_warning(reporting: Reporting):
    reporting.faults(script=[{"match": "GET volumes_detail", "fault": "status", "status": 500}])
    run = report(reporting, "--volume-id", FRESH)
    assert run.exit_code == 0
    assert run.json()["volumes"][0]["volume_name"] is None
    assert run.stderr.startswith("vbs: warning: disk names could not be read, showing IDs: HTTP 500 ")
    assert len(run.stderr.splitlines()) == 1


def test_a_report_that_cannot_be_made_writes_success_0(reporting: Reporting, tmp_path: Path):
    target = tmp_path / "vbs.prom"
    target.write_text("vbs_report_success 1\n")
    reporting.faults(script=[{"match": "GET backups_detail", "fault": "status", "status": 503}])
    run = report(reporting, "--prometheus", str(target), "-o", "table")
    assert run.exit_code == 5 and run.stdout == ""
    families = {f.name: f for f in text_string_to_metric_families(target.read_text())}
    assert families["vbs_report_success"].samples[0].value == 0
    assert "vbs_backups" not in families


def test_a_configuration_problem_writes_success_0_too(tmp_path: Path):
    target = tmp_path / "vbs.prom"
    run = invoke("backup", "report", "--prometheus", str(target), env={"VBS_ENDPOINT": "ftp://x"})
    assert run.exit_code == 3
    assert 'vbs_report_success{report="vbs"} 0' in target.read_text()


def test_only_gets_are_sent(reporting: Reporting, tmp_path: Path):
    report(reporting, "--prometheus", str(tmp_path / "vbs.prom"))
    report(reporting, "--volume-id", FRESH, "--volume-id", NEVER, "--max-age", "1h")
    methods = {key.split()[0] for key in reporting.emu.stats()["requests"]}
    assert methods == {"GET"}
    assert reporting.emu.stats()["backups_created"] == 0


def test_a_one_column_csv_of_volume_ids(reporting: Reporting, tmp_path: Path):
    path = tmp_path / "disks.csv"
    path.write_text(f"volume_id\n{FRESH}\n{NEVER}\n")
    run = report(reporting, "--from", str(path))
    assert run.exit_code == 0, run.stderr
    assert sorted(v["volume_id"] for v in run.json()["volumes"]) == sorted([FRESH, NEVER])

"""Fleet files as users write them: duplicate items reported before anything is sent, Excel's CSV."""

from __future__ import annotations

import json

from tests.conftest import Service
from tests.helpers import run_vbs
from vbscli import batch

V1, S1 = "5c1a9f0e-2b3d-4e5f-8a9b-0c1d2e3f4a01", "9e3c7d21-6f4a-4b8c-9d0e-1f2a3b4c5d01"
V3, S3 = "5c1a9f0e-2b3d-4e5f-8a9b-0c1d2e3f4a03", "9e3c7d21-6f4a-4b8c-9d0e-1f2a3b4c5d03"


def test_duplicates_are_reported_with_their_lines_and_nothing_is_sent(emulator: Service, tmp_path):
    fleet = tmp_path / "fleet.yaml"
    fleet.write_text(
        f"- {{volume_id: {V1}, snapshot_id: {S1}, name: db01}}\n"
        f"- {{volume_id: {V3}, snapshot_id: {S3}, name: db03}}\n"
        f"# the same snapshot again, under another name\n"
        f"- {{volume_id: {V1}, snapshot_id: {S1}, name: db01-again}}\n"
        f"- {{volume_id: {V3.upper()}, snapshot_id: {S1}, name: db03}}\n"
    )
    run = run_vbs("backup", "create", "--from", str(fleet), "-o", "table", env=emulator.env)
    assert (run.exit_code, run.stdout) == (2, "")
    assert run.stderr.splitlines() == [
        f"vbs: warning: invalid item: {fleet}:4: same volume and snapshot as line 1",
        f"vbs: warning: invalid item: {fleet}:5: same volume and name 'db03' as line 2",
        f"vbs: error: 2 of 4 items in {fleet} are invalid; nothing was sent; "
        "fix them, or pass --skip-invalid to create the others",
    ]
    assert emulator.emu.stats()["requests"] == {}
    run = run_vbs("backup", "create", "--from", str(fleet), "--skip-invalid", env=emulator.env)
    assert run.exit_code == 1 and run.stderr.endswith("vbs: 2 of 4 failed\n")
    assert sorted(json.loads(line)["result"] for line in run.stdout.splitlines()) == [
        "created",
        "created",
        "invalid",
        "invalid",
    ]
    assert emulator.created() == 2


def test_a_csv_saved_by_excel_with_a_byte_order_mark_is_read(emulator: Service, tmp_path):
    fleet = tmp_path / "fleet.csv"
    fleet.write_bytes(b"\xef\xbb\xbf" + f"volume_id,snapshot_id,name\r\n{V1},{S1},from-excel\r\n".encode())
    run = run_vbs(
        "backup", "create", "--from", str(fleet), "-f", "line", "-f", "result", "-f", "name", env=emulator.env
    )
    assert run.exit_code == 0, run.stderr
    assert run.stdout == "2\tcreated\tfrom-excel\n"


def test_byte_order_mark_and_duplicates_in_every_format():
    for text in (
        f"\ufeffvolume_id,snapshot_id\n{V1},{S1}\n{V1},{S1}\n",
        f'\ufeff{{"volume_id": "{V1}", "snapshot_id": "{S1}"}}\n{{"volume_id": "{V1}", "snapshot_id": "{S1}"}}\n',
        f"\ufeff- {{volume_id: {V1}, snapshot_id: {S1}}}\n- {{volume_id: {V1}, snapshot_id: {S1}}}\n",
    ):
        first, second = batch.parse(text, "f")
        assert first.spec is not None and first.spec.volume_id == V1
        assert second.spec is None
        assert second.problem == f"f:{second.line}: same volume and snapshot as line {first.line}"


def test_two_fresh_snapshots_of_one_disk_are_duplicates():
    first, second, third = batch.parse(
        f"- {{volume_id: {V1}, name: a}}\n- {{volume_id: {V1}, name: b}}\n- {{volume_id: {V3}, name: a}}\n", "f"
    )
    assert first.spec is not None and third.spec is not None
    assert second.spec is None and second.problem == "f:2: same volume and a fresh snapshot as line 1"


def test_generated_names_and_other_volumes_are_not_duplicates():
    text = f"- {{volume_id: {V1}, snapshot_id: {S1}}}\n- {{volume_id: {V3}, snapshot_id: {S3}}}\n"
    text += (
        f"- {{volume_id: {V3}, snapshot_id: {S1}, name: same}}\n- {{volume_id: {V1}, snapshot_id: {S3}, name: same}}\n"
    )
    assert all(item.spec is not None for item in batch.parse(text, "f"))

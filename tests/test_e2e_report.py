"""`vbs backup report` as users run it: the installed `vbs` against an emulator seeded with a backup
history, on a pseudo-terminal of 80 and 200 columns, piped, as a monitoring check and for Prometheus."""

from __future__ import annotations

import os
import re
import shutil
import signal
import stat
import subprocess
import threading
import time
import urllib.request
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from prometheus_client.parser import text_string_to_metric_families
from rich.cells import cell_len

from tests.conftest import Reporting
from tests.helpers import in_terminal, run_vbs, vbs_binary
from tests.report_seed import FAILING, FRESH, GAPPY, NAMES, NEVER, ODD, UNNAMED, WITH_BACKUPS, expected_state
from tests.test_e2e_fleet_faults import wait_until

ANSI = re.compile(r"\x1b\[[0-9;]*m")
ORDER = [NAMES[NEVER], NAMES[GAPPY], NAMES[FAILING], UNNAMED, NAMES[ODD], NAMES[FRESH]]
"""Most at risk first: no available backup (build-cache's all failed), then by the age of the newest."""


def on_terminal(args: tuple[str, ...], env: dict[str, str], columns: int) -> str:
    """The screen of vbs run in a shell window of `columns` columns (its notes on stderr included)."""
    run = in_terminal(*args, columns=columns, env=env, stderr_apart=False)
    assert run.exit_code == 0, run.stdout
    return run.stdout


def rows(screen: str) -> list[str]:
    """The table's body rows, without colour codes."""
    return [line for line in ANSI.sub("", screen).splitlines() if line.startswith("│")]


def test_a_200_column_terminal_shows_every_day_names_ids_and_colours(reporting: Reporting):
    screen = on_terminal(("backup", "report", "--days", "30"), reporting.env, 200)
    assert ANSI.search(screen)
    plain = ANSI.sub("", screen)
    assert max(cell_len(line) for line in plain.splitlines()) <= 200
    assert "to fit" not in plain  # nothing left out at 200 columns
    body = rows(screen)
    assert len(body) == len(WITH_BACKUPS)
    for row, label in zip(body, ORDER, strict=True):
        assert label in row
        assert len(re.search(r"│ ([■✗·]+) │", row).group(1)) == 30
    assert FRESH in plain and "Volume ID" in plain and "Last 30 days" in plain
    assert re.search(r"\x1b\[[0-9;]*m✗", screen) and re.search(r"\x1b\[[0-9;]*m■", screen)
    assert "■ available  ✗ only failed  · none" in plain


def test_an_80_column_terminal_shows_fewer_days_and_fits(reporting: Reporting):
    screen = on_terminal(("backup", "report", "--days", "30"), reporting.env, 80)
    plain = ANSI.sub("", screen)
    drawn = [line for line in plain.splitlines() if not line.startswith("vbs: ")]
    assert max(cell_len(line) for line in drawn) <= 80
    (note,) = [line for line in plain.splitlines() if line.startswith("vbs: ")]  # on stderr
    assert re.fullmatch(r"vbs: \d+ of 30 days shown; Volume ID hidden.* to fit 80 columns; --wide or -o json .*", note)
    body = rows(screen)
    shown = {len(re.search(r"│ ([■✗·]+) │", row).group(1)) for row in body}
    (days,) = shown
    assert 7 <= days < 30
    assert ORDER[0] in body[0] and ORDER[-1] in body[-1]
    assert "Volume ID" not in "\n".join(drawn)
    wide = ANSI.sub("", on_terminal(("backup", "report", "--days", "30", "--wide"), reporting.env, 80))
    assert "Volume ID" in wide and "to fit" not in wide
    assert {len(re.search(r"│ ([■✗·]+) │", row).group(1)) for row in rows(wide)} == {30}


def test_no_color_on_a_terminal_gives_plain_distinct_cells(reporting: Reporting):
    screen = on_terminal(("backup", "report", "--volume-id", FAILING), {**reporting.env, "NO_COLOR": "1"}, 80)
    assert not ANSI.search(screen)
    (row,) = rows(screen)
    strip = re.search(r"│ ([#x.]{14}) │", row).group(1)
    assert strip.endswith("xxx.")  # three failed days, then today without a backup
    assert "#" in strip


def test_piped_it_prints_json_with_the_strip_as_data(reporting: Reporting):
    before = datetime.now(timezone.utc)
    run = run_vbs("backup", "report", env=reporting.env)
    after = datetime.now(timezone.utc)
    assert run.exit_code == 0 and run.stderr == ""
    volumes = {v["volume_id"]: v for v in run.json()["volumes"]}
    assert [v["volume_name"] or v["volume_id"] for v in run.json()["volumes"]] == ORDER
    for volume_id, disk in volumes.items():
        days = [d["date"] for d in disk["days"]]
        assert len(days) == 14 and days[-1] in (before.date().isoformat(), after.date().isoformat())
        first = datetime.fromisoformat(days[0])
        assert days == [(first + timedelta(days=n)).date().isoformat() for n in range(14)]
        assert [d["state"] for d in disk["days"]] == [expected_state(reporting.made, volume_id, d) for d in days]
        own = [m for m in reporting.made if m.volume_id == volume_id]
        assert disk["backups"] == len(own) and disk["size_gb"] == sum(m.size for m in own)
        assert disk["backups_by_status"]["error"] == sum(1 for m in own if m.status == "error")
        good = [m.created_at for m in own if m.status == "available"]
        if good:
            newest = max(good)
            assert disk["newest_available_created_at"] == newest.strftime("%Y-%m-%dT%H:%M:%SZ")
            assert (before - newest).total_seconds() - 2 <= disk["age_seconds"] <= (after - newest).total_seconds() + 2
        else:
            assert disk["newest_available_created_at"] is None and disk["age_seconds"] is None
    assert volumes[NEVER]["backups_by_status"]["available"] == 0


def test_local_days_follow_the_machines_time_zone(reporting: Reporting):
    east = timezone(timedelta(hours=14))
    run = run_vbs("backup", "report", "--local", "--volume-id", FRESH, env={**reporting.env, "TZ": "XYZ-14"})
    assert run.exit_code == 0, run.stderr
    (disk,) = run.json()["volumes"]
    days = [d["date"] for d in disk["days"]]
    assert (
        days[-1] == datetime.now(east).date().isoformat()
        or days[-1] == (datetime.now(east) - timedelta(seconds=30)).date().isoformat()
    )
    # Noon UTC is 02:00 the next day at UTC+14: each backup moves to the following date.
    for day in disk["days"]:
        statuses = {
            m.status
            for m in reporting.made
            if m.volume_id == FRESH and m.created_at.astimezone(east).date().isoformat() == day["date"]
        }
        assert day["state"] == ("available" if "available" in statuses else "none")
    utc = run_vbs("backup", "report", "--volume-id", FRESH, env={**reporting.env, "TZ": "XYZ-14"}).json()
    assert utc["volumes"][0]["days"][-1]["date"] == datetime.now(timezone.utc).date().isoformat()


def test_max_age_as_a_monitoring_check(reporting: Reporting):
    fresh = run_vbs("backup", "report", "--max-age", "3d", "--volume-id", FRESH, "--volume-id", ODD, env=reporting.env)
    assert fresh.exit_code == 0 and fresh.stderr == ""
    assert all(v["stale"] is False for v in fresh.json()["volumes"])
    stale = run_vbs("backup", "report", "--max-age", "3d", env=reporting.env)
    assert stale.exit_code == 1
    summary, *lines = stale.stderr.splitlines()
    assert summary == "vbs: 3 of 6 disks without an available backup younger than 3d"  # what a monitor shows
    assert lines[0] == f"vbs: stale: {NAMES[NEVER]} ({NEVER}): no available backup, 5 error (--max-age 3d)"
    for line in lines[1:]:
        assert re.fullmatch(r"vbs: stale: .+: newest available backup is \d+d \d+h old \(--max-age 3d\)", line)
    assert [line.split(": ")[2] for line in lines] == [f"{NAMES[v]} ({v})" for v in (NEVER, GAPPY, FAILING)]
    assert {v["volume_id"] for v in stale.json()["volumes"] if v["stale"]} == {NEVER, GAPPY, FAILING}
    table = run_vbs("backup", "report", "--max-age", "3d", "-o", "table", env=reporting.env)
    assert table.exit_code == 1 and "3 without an available backup younger than 3d" in table.stdout


def test_as_a_nagios_style_check_the_first_line_says_what_is_wrong(reporting: Reporting, tmp_path: Path):
    """Nagios, Icinga and NRPE show the first line of stdout and read the exit code: the README's
    check line sends the report away and the stale lines to stdout."""
    command = f"{vbs_binary()} backup report --max-age 3d 2>&1 >/dev/null"
    env = {**os.environ, **reporting.env}
    failing = subprocess.run(["sh", "-c", command], env=env, capture_output=True, text=True, timeout=30)
    assert failing.returncode == 1 and failing.stderr == ""
    first, *rest = failing.stdout.splitlines()
    assert first == "vbs: 3 of 6 disks without an available backup younger than 3d"
    assert len(rest) == 3 and all(line.startswith("vbs: stale: ") for line in rest)
    passing = subprocess.run(
        ["sh", "-c", command.replace("3d", f"3d --volume-id {FRESH}")], env=env, capture_output=True, text=True
    )
    assert (passing.returncode, passing.stdout, passing.stderr) == (0, "", "")


def test_a_project_without_any_backup_fails_the_check(emulator):
    """With nothing to report, every backup may be gone: a check must not pass on an empty report."""
    empty = run_vbs("backup", "report", "--max-age", "26h", env=emulator.env)
    assert empty.exit_code == 1 and empty.json() == {"volumes": []}
    assert empty.stderr.splitlines() == [
        "vbs: no disk to check: the project has no backups (--max-age 26h); "
        "name the disks with --from or --volume-id to check disks never backed up"
    ]
    assert run_vbs("backup", "report", env=emulator.env).exit_code == 0  # without a check: an empty report
    disk = "5c1a9f0e-2b3d-4e5f-8a9b-0c1d2e3f4a01"
    named = run_vbs("backup", "report", "--max-age", "26h", "--volume-id", disk, env=emulator.env)
    assert named.exit_code == 1 and named.stderr.splitlines()[1].endswith(": never backed up (--max-age 26h)")


def test_disks_whose_backups_are_all_deleting_restoring_or_failed_restoring(emulator, tmp_path: Path):
    """A disk being restored from is not stale; one whose backups are going away or whose restore
    failed is, and says why; the picture, the JSON, the check and the metrics agree."""
    now = datetime.now(timezone.utc)
    disks = {
        "deleting": "5c1a9f0e-2b3d-4e5f-8a9b-0c1d2e3f4a01",
        "restoring": "5c1a9f0e-2b3d-4e5f-8a9b-0c1d2e3f4a02",
        "error_restoring": "5c1a9f0e-2b3d-4e5f-8a9b-0c1d2e3f4a03",
    }
    for status, disk in disks.items():
        for hours in (3, 27):
            emulator.emu.store.add_backup(disk, now - timedelta(hours=hours), status=status)
    target = tmp_path / "vbs_backup.prom"
    run = run_vbs("backup", "report", "--max-age", "26h", "--prometheus", str(target), env=emulator.env)
    assert run.exit_code == 1
    volumes = {v["volume_id"]: v for v in run.json()["volumes"]}
    assert [v["volume_id"] for v in run.json()["volumes"]] == [
        disks["error_restoring"],
        disks["deleting"],
        disks["restoring"],
    ]
    restoring = volumes[disks["restoring"]]
    assert restoring["stale"] is False and 3 * 3600 - 60 <= restoring["age_seconds"] <= 3 * 3600 + 60
    assert restoring["backups_by_status"]["restoring"] == 2 and restoring["days"][-1]["state"] == "available"
    for status in ("deleting", "error_restoring"):
        disk = volumes[disks[status]]
        assert disk["stale"] is True and disk["age_seconds"] is None and disk["backups_by_status"][status] == 2
    assert volumes[disks["deleting"]]["days"][-1]["state"] == "none"
    assert volumes[disks["error_restoring"]]["days"][-1]["state"] == "failed"
    assert run.stderr.splitlines()[1:] == [
        f"vbs: stale: demo-failing ({disks['error_restoring']}): no available backup, 2 error_restoring "
        "(--max-age 26h)",
        f"vbs: stale: demo-data ({disks['deleting']}): no available backup, 2 deleting (--max-age 26h)",
    ]
    stale = {s.labels["volume_id"]: s.value for s in metrics(target)["vbs_backup_stale"].samples}
    assert stale == {disks["deleting"]: 1, disks["restoring"]: 0, disks["error_restoring"]: 1}
    picture = ANSI.sub("", on_terminal(("backup", "report"), {**emulator.env, "NO_COLOR": "1"}, 120))
    newest = {row.split("│")[2].strip(): row.split("│")[4].strip() for row in rows(picture)}
    assert newest == {disks["deleting"]: "none", disks["restoring"]: "3h", disks["error_restoring"]: "none"}


def test_a_cloud_that_answers_with_smaller_pages_gives_the_same_report(reporting: Reporting):
    """A cloud's osapi_max_limit may be below the page vbs asks for: the report follows next links."""
    whole = run_vbs("backup", "report", env=reporting.env).json()
    reporting.emu.store.max_limit = 4
    try:
        reporting.emu.reset_stats()
        paged = run_vbs("backup", "report", env=reporting.env)
        pages = reporting.requests("GET backups_detail"), reporting.requests("GET volumes_detail")
    finally:
        reporting.emu.store.max_limit = 1000

    def timeless(doc: dict) -> list:  # ages move on between the two runs
        return [{k: v for k, v in volume.items() if k != "age_seconds"} for volume in doc["volumes"]]

    assert paged.exit_code == 0 and timeless(paged.json()) == timeless(whole)
    assert pages[0] == -(-len(reporting.made) // 4) and pages[1] == 2  # every page of 4, both listings


@pytest.mark.parametrize("named", [False, True])
def test_ctrl_c_ends_the_report_at_once_with_reads_in_flight(reporting: Reporting, named: bool):
    """Reads only: nothing is lost by leaving them unanswered, so Ctrl-C does not wait for them."""
    reporting.faults(
        script=[
            {"match": "GET backups_detail", "fault": "delay", "seconds": 30},
            {"match": "GET volumes_detail", "fault": "delay", "seconds": 30},
        ]
    )
    args = [vbs_binary(), "backup", "report"] + (["--volume-id", FRESH, "--volume-id", ODD] if named else [])
    proc = subprocess.Popen(
        args, env={**os.environ, **reporting.env}, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    wait_until(lambda: reporting.requests("GET volumes_detail") == 1 and reporting.requests("GET backups_detail") >= 1)
    started = time.monotonic()
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=20)
    assert time.monotonic() - started < 10  # not the 30 s the service holds the answers back
    assert (proc.returncode, out, err) == (130, "", "vbs: error: interrupted\n")


def test_a_failed_listing_ends_the_report_without_waiting_for_the_disk_names(reporting: Reporting):
    """The names are read beside the backups; once the backups cannot be read, nothing waits for them."""
    reporting.faults(
        script=[
            {"match": "GET volumes_detail", "fault": "delay", "seconds": 30},
            {"match": "GET backups_detail", "fault": "status", "status": 403},
        ]
    )
    started = time.monotonic()
    run = run_vbs("backup", "report", "-o", "table", env=reporting.env, timeout=60)
    assert time.monotonic() - started < 10  # not the 30 s the names' answer is held back
    assert run.exit_code == 4 and run.stdout == "" and "HTTP 403" in run.stderr


def test_a_report_that_cannot_be_made_is_not_a_stale_disk(reporting: Reporting):
    reporting.faults(script=[{"match": "GET backups_detail", "fault": "status", "status": 500}])
    run = run_vbs("backup", "report", "--max-age", "26h", "-o", "table", env=reporting.env)
    assert run.exit_code == 5 and run.stdout == ""
    assert run.stderr.startswith("vbs: error: HTTP 500 ")


def metrics(path: Path) -> dict:
    return {family.name: family for family in text_string_to_metric_families(path.read_text())}


def test_prometheus_file_content(reporting: Reporting, tmp_path: Path):
    target = tmp_path / "textfile" / "vbs_backup.prom"
    target.parent.mkdir()
    started = datetime.now(timezone.utc).timestamp()
    run = run_vbs("backup", "report", "--prometheus", str(target), env=reporting.env)
    assert run.exit_code == 0, run.stderr
    families = metrics(target)
    assert families["vbs_report_success"].samples[0].value == 1
    assert started - 1 <= families["vbs_report_timestamp_seconds"].samples[0].value <= started + 60
    assert families["vbs_report_volumes"].samples[0].value == len(WITH_BACKUPS)
    newest = {s.labels["volume_id"]: s for s in families["vbs_backup_newest_available_timestamp_seconds"].samples}
    for volume_id in WITH_BACKUPS:
        good = [m.created_at for m in reporting.made if m.volume_id == volume_id and m.status == "available"]
        assert newest[volume_id].value == (max(good).timestamp() if good else 0)
        assert newest[volume_id].labels["volume_name"] == NAMES.get(volume_id, "")
    assert newest[ODD].labels["volume_name"] == 'odd "quoted" \\ name'  # escaped in the file, read back whole
    counts = {(s.labels["volume_id"], s.labels["status"]): s.value for s in families["vbs_backups"].samples}
    assert counts[(FAILING, "error")] == 3 and counts[(FAILING, "available")] == 17
    assert os.listdir(target.parent) == ["vbs_backup.prom"]


def test_prometheus_file_is_replaced_atomically(reporting: Reporting, tmp_path: Path):
    directory = tmp_path / "textfile"
    directory.mkdir()
    target = directory / "vbs_backup.prom"
    target.write_text("# the previous report\nvbs_report_success 1\n")
    old_inode = target.stat().st_ino
    seen: list[str] = []
    stop = threading.Event()

    def collector() -> None:  # reads the file over and over, as node_exporter does
        while not stop.is_set():
            try:
                seen.append(target.read_text())
            except FileNotFoundError:
                seen.append("<missing>")

    reader = threading.Thread(target=collector)
    with open(target) as held:
        reader.start()
        try:
            for _ in range(3):
                assert run_vbs("backup", "report", "--prometheus", str(target), env=reporting.env).exit_code == 0
        finally:
            stop.set()
            reader.join()
        assert held.read() == "# the previous report\nvbs_report_success 1\n"  # the old file was never written to
    assert target.stat().st_ino != old_inode
    assert "<missing>" not in seen
    for text in set(seen):  # every read was a whole file: the old one or a complete new one
        families = {f.name: f for f in text_string_to_metric_families(text)}
        assert families["vbs_report_success"].samples[0].value == 1
        assert text == "# the previous report\nvbs_report_success 1\n" or "vbs_backups_size_bytes" in families
    assert os.listdir(directory) == ["vbs_backup.prom"]


@pytest.mark.parametrize("columns", [80, 200])
def test_the_example_seed_file_draws_its_picture(tmp_path: Path, columns: int):
    """The README's report comes from examples/report-seed.yaml through a `vbs emulator` process."""
    seed = Path(__file__).resolve().parent.parent / "examples" / "report-seed.yaml"
    proc = subprocess.Popen(
        [vbs_binary(), "emulator", "--port", "0", "--seed", str(seed), "--quiet"],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        url = re.fullmatch(r"vbs emulator listening on (\S+)\n", proc.stdout.readline()).group(1)
        env = {"VBS_ENDPOINT": url, "VBS_PROJECT_ID": "0123456789abcdef0123456789abcdef", "VBS_TOKEN": "demo-token"}
        screen = ANSI.sub("", on_terminal(("backup", "report"), {**env, "NO_COLOR": "1"}, columns))
    finally:
        proc.terminate()
        proc.wait(10)
    labels = [row.split("│")[1].strip() for row in rows(screen)]
    assert labels[0] == "build-cache"  # backed up, but every backup failed
    if columns == 200:
        assert labels[1] == "-" and "5c1a9f0e-2b3d-4e5f-8a9b-0c1d2e3f4a06" in screen  # no name: its ID beside it
    else:
        assert labels[1] == "5c1a9f0e-2b3d-…-0c1d2e3f4a06"  # no name: its ID, its start and its end
    assert sorted(labels[-2:]) == ["db01-data", "db01-wal"]


def test_the_readme_shows_the_report_the_example_seed_draws():
    """The README's picture (days aside: they depend on the time of day) and its --max-age lines are
    what vbs gives for the example seed today."""
    root = Path(__file__).resolve().parent.parent
    section = (root / "README.md").read_text().split("## Is every disk backed up?", 1)[1]
    shown = section.split("```text\n", 1)[1].split("```", 1)[0]
    proc = subprocess.Popen(
        [vbs_binary(), "emulator", "--port", "0", "--seed", str(root / "examples" / "report-seed.yaml"), "--quiet"],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        url = re.fullmatch(r"vbs emulator listening on (\S+)\n", proc.stdout.readline()).group(1)
        env = {"VBS_ENDPOINT": url, "VBS_PROJECT_ID": "0123456789abcdef0123456789abcdef", "VBS_TOKEN": "demo-token"}
        drawn = run_vbs("backup", "report", "-o", "table", env=env).stdout
        checked = run_vbs("backup", "report", "--max-age", "26h", env=env)
    finally:
        proc.terminate()
        proc.wait(10)

    def without_days(text: str) -> list[str]:
        lines = [re.sub(r"│ [#x.]{14} │", "│ DAYS │", line) for line in text.splitlines()]
        return [re.sub(r"\d{4}-\d\d-\d\d", "DATE", line) for line in lines]

    assert without_days(drawn) == without_days(shown)
    check = section.split("**As a monitoring check**", 1)[1].split("```text\n", 1)[1].split("```", 1)[0]
    assert checked.exit_code == 1 and checked.stderr == check  # the check's lines, as the README shows them


def test_fields_as_for_every_command(reporting: Reporting):
    run = run_vbs("backup", "report", "--max-age", "3d", "-f", "volume_name", "-f", "stale", env=reporting.env)
    assert run.exit_code == 1
    assert run.stdout.splitlines() == [
        f"{NAMES[NEVER]}\ttrue",
        f"{NAMES[GAPPY]}\ttrue",
        f"{NAMES[FAILING]}\ttrue",
        "\tfalse",  # the disk without a name
        f"{NAMES[ODD]}\tfalse",
        f"{NAMES[FRESH]}\tfalse",
    ]
    ids = run_vbs("backup", "report", "--volume-id", NEVER, "-f", "volume_id", "-f", "age_seconds", env=reporting.env)
    assert (ids.exit_code, ids.stdout) == (0, f"{NEVER}\t\n")
    unknown = run_vbs("backup", "report", "-f", "colour", env=reporting.env)
    assert unknown.exit_code == 2 and "volume_id" in unknown.stderr


NODE_EXPORTER = shutil.which("prometheus-node-exporter") or shutil.which("node_exporter")
ODD_NAMES = ['odd "quoted" \\ name', "line\nbreak and\ttab", "trailing \\", "dåtå-диск-数据", ""]


def listening_port(pid: int, deadline: float) -> int:
    """The TCP port process `pid` listens on (it was given port 0), from /proc."""
    while time.monotonic() < deadline:
        inodes = set()
        for fd in os.listdir(f"/proc/{pid}/fd"):
            try:
                target = os.readlink(f"/proc/{pid}/fd/{fd}")
            except OSError:
                continue
            if target.startswith("socket:["):
                inodes.add(target[8:-1])
        for table in ("/proc/net/tcp", "/proc/net/tcp6"):
            with open(table) as lines:
                for line in list(lines)[1:]:
                    fields = line.split()
                    if fields[3] == "0A" and fields[9] in inodes:  # LISTEN
                        return int(fields[1].rsplit(":", 1)[1], 16)
        time.sleep(0.05)
    raise AssertionError("node_exporter did not start listening")


def collected(directory: Path) -> tuple[dict, str]:
    """What node_exporter's textfile collector serves from `directory` (parsed), and what it logged."""
    assert NODE_EXPORTER is not None
    collector = subprocess.Popen(
        [
            NODE_EXPORTER,
            "--web.listen-address=127.0.0.1:0",
            "--collector.disable-defaults",
            "--collector.textfile",
            f"--collector.textfile.directory={directory}",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        port = listening_port(collector.pid, time.monotonic() + 15)
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=10) as answer:
            scraped = {f.name: f for f in text_string_to_metric_families(answer.read().decode())}
    finally:
        collector.terminate()
        _, errors = collector.communicate(timeout=10)
    return scraped, errors


@pytest.mark.skipif(NODE_EXPORTER is None, reason="node_exporter is not installed (CI installs it)")
def test_node_exporters_textfile_collector_reads_the_file_as_written(tmp_path: Path):
    """The real collector, not a parser of ours: it must open the file (written under a strict umask,
    as cron jobs often run) and read every sample, odd names included, without a scrape error."""
    from vbscli.emulator import Emulator, EmulatorConfig
    from vbscli.emulator.seed import seed_from

    disks = [f"5c1a9f0e-2b3d-4e5f-8a9b-00000000aa0{n}" for n in range(len(ODD_NAMES))]
    seed = seed_from(
        {
            "project_id": "0123456789abcdef0123456789abcdef",
            "tokens": ["demo-token"],
            "volumes": [{"id": d, **({"name": n} if n else {})} for d, n in zip(disks, ODD_NAMES, strict=True)],
            "history": [{"volume_id": d, "strip": "#x#"[: n + 1]} for n, d in enumerate(disks)],
        }
    )
    directory = tmp_path / "textfile"
    directory.mkdir()
    target = directory / "vbs_backup.prom"
    with Emulator(EmulatorConfig(port=0, create_delay=0.0, seed=seed)) as emu:
        env = {**os.environ, "VBS_ENDPOINT": emu.url, "VBS_PROJECT_ID": emu.project_id, "VBS_TOKEN": emu.token}
        command = [vbs_binary(), "backup", "report", "--max-age", "26h", "--prometheus", str(target)]
        written = subprocess.run(
            command, env=env, capture_output=True, text=True, timeout=30, preexec_fn=lambda: os.umask(0o077)
        )
    assert written.returncode == 1, written.stderr
    assert stat.S_IMODE(target.stat().st_mode) == 0o644  # the collector runs as another user
    scraped, errors = collected(directory)
    assert scraped["node_textfile_scrape_error"].samples[0].value == 0, errors
    ours = metrics(target)
    for name, family in ours.items():
        assert sorted((sorted(s.labels.items()), s.value) for s in scraped[name].samples) == sorted(
            (sorted(s.labels.items()), s.value) for s in family.samples
        ), name
        assert scraped[name].type == family.type == "gauge"
    names = {s.labels["volume_name"] for s in scraped["vbs_backup_newest_available_timestamp_seconds"].samples}
    assert names == set(ODD_NAMES)


@pytest.mark.skipif(NODE_EXPORTER is None, reason="node_exporter is not installed (CI installs it)")
def test_two_reports_in_one_collector_directory_repeat_no_series(reporting: Reporting, tmp_path: Path):
    """Two projects, or two fleets of one project, each with its own file: the collector drops a
    series that two files hold (and logs an error), so each file's series carry its own label."""
    directory = tmp_path / "textfile"
    directory.mkdir()
    every = ["--prometheus", str(directory / "vbs_all.prom")]
    some = ["--volume-id", FRESH, "--prometheus", str(directory / "vbs_db.prom")]
    assert run_vbs("backup", "report", *every, env=reporting.env).exit_code == 0
    assert run_vbs("backup", "report", *some, env=reporting.env).exit_code == 0
    scraped, errors = collected(directory)
    assert "collected before with the same name and label values" not in errors, errors
    volumes = {s.labels["report"]: s.value for s in scraped["vbs_report_volumes"].samples}
    assert volumes == {"vbs_all": len(WITH_BACKUPS), "vbs_db": 1}
    newest = scraped["vbs_backup_newest_available_timestamp_seconds"].samples
    assert sorted(s.labels["report"] for s in newest if s.labels["volume_id"] == FRESH) == ["vbs_all", "vbs_db"]

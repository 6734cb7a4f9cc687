"""The README's cron example, the nightly job, run as cron would: no terminal, against the emulator,
one night and night after night."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from tests.conftest import Service
from tests.test_retention import oracle
from vbscli.emulator import Emulator, EmulatorConfig, demo_seed

ROOT = Path(__file__).resolve().parent.parent
SCRIPT = ROOT / "examples" / "nightly-backup.sh"
VOLUME = "5c1a9f0e-2b3d-4e5f-8a9b-0c1d2e3f4a01"
FAILING = "5c1a9f0e-2b3d-4e5f-8a9b-0c1d2e3f4a03"
POLICY = {"daily": 7, "weekly": 4, "monthly": 6}  # the script's --keep-daily 7 --keep-weekly 4 --keep-monthly 6


def run_script(emulator: Service, tmp_path: Path, volume: str, path: str | None = None, **env: str):
    log = tmp_path / "backup.log"
    full = {
        **os.environ,
        **emulator.env,
        **env,
        "PATH": f"{path + os.pathsep if path else ''}{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}",
    }
    proc = subprocess.run(
        ["sh", str(SCRIPT), volume, str(log)],
        env=full,
        capture_output=True,
        text=True,
        timeout=120,
        stdin=subprocess.DEVNULL,
    )
    return proc, log.read_text() if log.exists() else ""


def past_nights(emulator: Service, volume: str, nights: int, before: datetime | None = None) -> dict[int, str]:
    """Nightly backups of the `nights` nights before `before` (1 = the night before), as earlier runs left them."""
    last = before or datetime.now(timezone.utc).replace(hour=2, minute=30, second=0, microsecond=0)
    made = {}
    for night in range(nights, 0, -1):
        when = last - timedelta(days=night)
        made[night] = emulator.emu.store.add_backup(volume, when, name=f"nightly-{when:%Y%m%d}")
    return made


def test_the_readme_shows_the_script_as_it_is():
    assert SCRIPT.read_text() in (ROOT / "README.md").read_text()


def test_a_night_backs_up_a_fresh_snapshot_and_prunes_old_nights(emulator: Service, tmp_path):
    nights = past_nights(emulator, VOLUME, 400)
    hand_made = emulator.emu.store.add_backup(VOLUME, datetime(2025, 1, 1, tzinfo=timezone.utc), name="before-upgrade")
    proc, log = run_script(emulator, tmp_path, VOLUME)
    assert (proc.returncode, proc.stdout, proc.stderr) == (0, "", "")
    ok, pruned = (line for line in log.strip().splitlines() if not line.startswith("vbs: "))
    assert f" ok {VOLUME} " in ok and '"status": "available"' in ok
    assert pruned.split()[1:3] == ["pruned", VOLUME]
    report = json.loads(pruned.split(" ", 3)[3])["prune"]
    deleted = {e["id"] for e in report if e["outcome"] == "deleting"}
    # kept: 7 daily (tonight and the 6 nights before), the newest of 4 weeks and of 6 months, at most 17
    assert 400 + 1 - 17 <= len(deleted) <= 400 + 1 - 11 and hand_made not in deleted
    assert {nights[n] for n in range(1, 7)}.isdisjoint(deleted)
    assert nights[400] in deleted
    stats = emulator.emu.stats()
    assert stats["snapshots_created"] == 1 and stats["requests"]["DELETE snapshot"] == 1
    assert stats["requests"]["DELETE backup"] == len(deleted)


def test_a_disk_attached_to_a_running_server_is_backed_up_too(emulator: Service, tmp_path):
    proc, log = run_script(emulator, tmp_path, "5c1a9f0e-2b3d-4e5f-8a9b-0c1d2e3f4a02")  # the demo's in-use disk
    assert (proc.returncode, proc.stderr) == (0, ""), log
    assert '"status": "available"' in log


def test_failed_backup_exits_6_says_so_and_prunes_nothing(emulator: Service, tmp_path):
    past_nights(emulator, FAILING, 20)
    proc, log = run_script(emulator, tmp_path, FAILING)
    assert proc.returncode == 6
    assert "the service reports the snapshot or backup failed" in proc.stderr
    assert "backup FAILED(6)" in log and "fail_reason" not in proc.stderr
    assert "DELETE backup" not in emulator.emu.stats()["requests"]


def test_refused_credentials_exit_4(emulator: Service, tmp_path):
    proc, log = run_script(emulator, tmp_path, VOLUME, VBS_TOKEN="expired-token")
    assert proc.returncode == 4
    assert "credentials refused" in proc.stderr
    assert "HTTP 401" in log and "FAILED(4)" in log


def test_a_full_quota_exits_1_and_says_what_may_be_wrong(tmp_path):
    seed = demo_seed()
    seed.quotas = {"backups": 0}
    with Emulator(EmulatorConfig(port=0, seed=seed, create_delay=0)) as emu:
        proc, log = run_script(Service(emu), tmp_path, VOLUME)
    assert proc.returncode == 1
    assert "refused by the service: a full quota" in proc.stderr
    assert "BackupLimitExceeded" in log and "backup FAILED(1)" in log


# -- night after night ---------------------------------------------------------------------------


class Clock:
    """The night it is, for the emulator (the backups' created_at) and for the script's `date`."""

    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


def fake_date(directory: Path) -> Path:
    """A `date` that tells the time the test sets (FAKE_NOW, seconds since the epoch)."""
    real = shutil.which("date")
    assert real is not None
    directory.mkdir()
    shim = directory / "date"
    shim.write_text(f'#!/bin/sh\nexec {real} -d "@$FAKE_NOW" "$@"\n')
    shim.chmod(0o755)
    return directory


@contextmanager
def emulator_at(clock: Clock) -> Iterator[Service]:
    """The emulator on the test's clock, with a quota of snapshots that one left behind would fill."""
    seed = demo_seed()
    seed.quotas = {"snapshots": len(seed.snapshots) + 1}
    with Emulator(EmulatorConfig(port=0, seed=seed, create_delay=0, wall=clock)) as emu:
        yield Service(emu)


def nightly_backups(service: Service) -> list[dict]:
    """The disk's backups that the job made, as the retention oracle reads them (no chains: VBS)."""
    store = service.emu.store
    store.settle()
    with store.lock:
        now = store.clock()
        return [
            {
                "id": b.id,
                "volume_id": b.volume_id,
                "name": b.name,
                "status": b.status(now),
                "created_at": b.created_at.strftime("%Y-%m-%dT%H:%M:%S.%f"),
                "parent": None,
            }
            for b in store.backups.values()
            if b.volume_id == VOLUME and (b.name or "").startswith("nightly-")
        ]


def snapshots_left(service: Service) -> int:
    store = service.emu.store
    store.settle()
    with store.lock:
        return len(store.snapshots) - len(store.seed.snapshots)


def test_night_after_night_the_backups_stay_bounded_and_no_snapshot_stays_behind(tmp_path):
    """Twelve nights from a long history, across the end of a month and of ISO weeks: every night
    keeps exactly what the policy says (an independent statement of it), never more than 17 backups,
    and leaves no snapshot behind; a night whose backup fails keeps the history and its snapshot goes;
    a second run the same night makes no second backup."""
    first = datetime(2026, 10, 24, 2, 30, tzinfo=timezone.utc)  # a Saturday: 12 nights end on 2026-11-04
    clock = Clock(first)
    path = str(fake_date(tmp_path / "bin"))
    with emulator_at(clock) as service:
        past_nights(service, VOLUME, 200, before=first)
        hand_made = service.emu.store.add_backup(VOLUME, first - timedelta(days=3), name="before-upgrade")
        for night in range(12):
            clock.now = first + timedelta(days=night, seconds=night * 7)
            env = {"FAKE_NOW": str(int(clock.now.timestamp()))}
            failing = night == 4
            service.emu.store.volumes[VOLUME].fail_backups = failing
            before = {b["id"] for b in nightly_backups(service)}
            proc, log = run_script(service, tmp_path, VOLUME, path, **env)
            after = nightly_backups(service)
            assert snapshots_left(service) == 0, log
            if failing:
                assert proc.returncode == 6 and "backup FAILED(6)" in log
                assert {b["id"] for b in after} - before == {b["id"] for b in after if b["status"] == "error"}
                continue
            assert (proc.returncode, proc.stderr) == (0, ""), log
            tonight = [b for b in after if b["name"] == f"nightly-{clock.now:%Y%m%d}" and b["status"] == "available"]
            assert len(tonight) == 1
            assert {b["id"] for b in after} == oracle(after, **POLICY)  # what the policy keeps, and no more
            assert len(after) <= 17 and not any(b["status"] == "error" for b in after)
            assert hand_made in service.emu.store.backups
            if night == 6:  # run again the same night: found, not made again; pruned again
                service.emu.reset_stats()
                proc, log = run_script(service, tmp_path, VOLUME, path, **env)
                assert (proc.returncode, proc.stderr) == (0, ""), log
                assert f"ok {VOLUME}: backed up earlier tonight ({tonight[0]['id']})" in log
                assert service.emu.stats()["requests"].get("POST snapshots") is None
                assert {b["id"] for b in nightly_backups(service)} == {b["id"] for b in after}
        kept = sorted(b["created_at"][:10] for b in nightly_backups(service))
    # the last night, 2026-11-04 (a Wednesday): its 7 days, then the newest of each earlier week and month
    assert kept[-7:] == [f"2026-{d}" for d in ("10-29", "10-30", "10-31", "11-01", "11-02", "11-03", "11-04")]
    assert "2026-10-25" in kept and "2026-10-18" in kept  # the Sundays ending ISO weeks 43 and 42
    assert {"2026-09-30", "2026-08-31", "2026-07-31", "2026-06-30"} <= set(kept)  # the newest of each month


# -- every exit code vbs documents gets its own words --------------------------------------------


def documented_exit_codes() -> list[int]:
    """The non-zero codes of the README's exit-code table (generated from vbs's own list)."""
    table = (ROOT / "README.md").read_text().split("<!-- BEGIN GENERATED: exit-codes -->")[1].split("<!-- END")[0]
    return [int(code) for code in re.findall(r"^\| (\d+) \|", table, re.M) if code != "0"]


def stand_in(directory: Path) -> str:
    """A `vbs` that ends each step with the code the test sets: a documented code that the real vbs
    cannot be made to return inside this script (74 and 141 need a broken stdout, 70 a bug)."""
    directory.mkdir()
    fake = directory / "vbs"
    fake.write_text(
        "#!/bin/sh\n"
        'case "$*" in\n'
        '  *"backup list"*) exit "${LOOKUP_EXIT:-0}" ;;\n'
        '  *"backup create"*) echo "{}"; exit "${BACKUP_EXIT:-0}" ;;\n'
        '  *"backup prune"*) echo "{}"; exit "${PRUNE_EXIT:-0}" ;;\n'
        "esac\n"
        "exit 99\n"
    )
    fake.chmod(0o755)
    return str(directory)


def test_the_readme_lists_the_codes_the_script_knows():
    assert documented_exit_codes() == [1, 2, 3, 4, 5, 6, 7, 70, 74, 130, 141]


@pytest.mark.parametrize("step", ["lookup", "backup", "prune"])
def test_every_documented_exit_code_is_explained_and_passed_on(emulator: Service, tmp_path, step):
    path = stand_in(tmp_path / "bin")
    for code in documented_exit_codes():
        log = tmp_path / "backup.log"
        log.unlink(missing_ok=True)
        proc, text = run_script(emulator, tmp_path, VOLUME, path, **{f"{step.upper()}_EXIT": str(code)})
        assert proc.returncode == code
        (line,) = proc.stderr.splitlines()
        assert line.startswith(f"{step} of {VOLUME} failed (exit {code}): ") and "unexpected" not in line
        assert f" {step} FAILED({code}) {VOLUME}: " in text
        if step != "prune":
            assert "pruned" not in text  # retention only after a good backup
    explained = {}
    for code in (1, 141, 42):
        proc, _ = run_script(emulator, tmp_path, VOLUME, path, **{f"{step.upper()}_EXIT": str(code)})
        explained[code] = proc.stderr.split(": ", 1)[1]
    assert "unexpected exit code" in explained[42] and len(set(explained.values())) == 3


# -- the README's crontab for it -----------------------------------------------------------------


def nightly_crontab() -> tuple[dict[str, str], list[str]]:
    """The settings and the entry of the README's crontab for the nightly job."""
    section = (ROOT / "README.md").read_text().split("### The nightly job from cron", 1)[1]
    lines = [line for line in section.split("```crontab\n", 1)[1].split("```", 1)[0].splitlines() if line.strip()]
    settings = dict(line.split("=", 1) for line in lines if re.fullmatch(r"[A-Z_]+=\S+", line))
    (entry,) = (line for line in lines if not re.fullmatch(r"[A-Z_]+=\S+", line))
    return settings, entry.split(None, 5)


def test_the_readme_crontab_runs_the_job_as_cron_would(emulator: Service, tmp_path):
    """A user crontab (no user field), cron's minimal environment, /bin/sh, no terminal: the job runs
    with the profile that the crontab names, logs to the user's home and mails nothing."""
    settings, fields = nightly_crontab()
    assert fields[:5] == ["30", "2", "*", "*", "*"] and fields[5].startswith("/usr/local/bin/nightly-backup.sh ")
    assert "/usr/bin:/bin" in settings["PATH"] and set(settings) == {"PATH", "VBS_PROFILE"}
    home = tmp_path / "home"
    (home / ".config" / "vbs").mkdir(parents=True)
    (home / ".config" / "vbs" / "config.yaml").write_text(
        "default: elsewhere\n"  # not the one the crontab names
        "profiles:\n"
        f"  {settings['VBS_PROFILE']}:\n"
        f"    endpoint: {emulator.emu.url}\n"
        f"    project_id: {emulator.emu.project_id}\n"
        f"    auth: {{type: token, token: {emulator.emu.token}}}\n"
        "  elsewhere:\n"
        "    endpoint: http://127.0.0.1:9\n"
        f"    project_id: {emulator.emu.project_id}\n"
        "    auth: {type: token, token: nope}\n"
    )
    (home / ".config" / "vbs" / "config.yaml").chmod(0o600)
    command = fields[5].replace("/usr/local/bin/nightly-backup.sh", str(SCRIPT))
    cron_env = {"HOME": str(home), "LOGNAME": "backup", "SHELL": "/bin/sh", **settings}
    # The one edit the README asks for: the PATH line names where vbs is installed.
    cron_env["PATH"] = settings["PATH"].replace("/usr/local/bin", str(Path(sys.executable).parent), 1)
    proc = subprocess.run(["/bin/sh", "-c", command], env=cron_env, capture_output=True, text=True, timeout=120)
    assert (proc.returncode, proc.stdout, proc.stderr) == (0, "", "")  # any output would be mailed
    log = (home / "vbs-backup.log").read_text()
    assert f" ok {VOLUME} " in log and f" pruned {VOLUME} " in log
    assert emulator.emu.stats()["backups_created"] == 1
    # Without that edit, cron's own PATH has no vbs: the job says what to do.
    unset = subprocess.run(
        ["/bin/sh", "-c", command], env={**cron_env, "PATH": "/usr/bin:/bin"}, capture_output=True, text=True
    )
    assert unset.returncode == 127 and "name its directory in the crontab's PATH line" in unset.stderr

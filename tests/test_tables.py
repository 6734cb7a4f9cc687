"""Tables that fit: on a terminal of 80 or 60 columns (a real pseudo-terminal of that size), and off a terminal."""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone

import pytest

from tests.conftest import Service
from tests.helpers import in_terminal, run_vbs
from vbscli.render import Column, Fit

UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
DISKS = [(f"5c1a9f0e-2b3d-4e5f-8a9b-0c1d2e3f4a0{i}", f"9e3c7d21-6f4a-4b8c-9d0e-1f2a3b4c5d0{i}") for i in (1, 2, 3)]


def on_terminal(args: tuple[str, ...], env: dict[str, str], columns: int) -> tuple[str, str]:
    """vbs with stdout on a pseudo-terminal `columns` wide, without colour: (screen, stderr)."""
    run = in_terminal(*args, columns=columns, env={**env, "NO_COLOR": "1"})
    assert run.exit_code == 0, run.stderr
    return run.stdout, run.stderr


@pytest.fixture
def backups(emulator: Service) -> list[dict]:
    names = ["db01", None, "vbs-20260101-000000-abcdef"]
    for (volume, snapshot), name in zip(DISKS, names, strict=True):
        extra = ("--name", name) if name else ()
        run = run_vbs(
            "backup", "create", "--volume-id", volume, "--snapshot-id", snapshot, "--force", *extra, env=emulator.env
        )
        assert run.exit_code == 0, run.stderr
    return run_vbs("backup", "list", env=emulator.env).json()["backups"]


@pytest.mark.parametrize("columns", [80, 60])
def test_list_fits_the_terminal_and_never_breaks_an_id_or_a_status(emulator: Service, backups, columns):
    screen, stderr = on_terminal(("backup", "list"), emulator.env, columns)
    lines = screen.rstrip("\n").split("\n")
    assert len(lines) == 2 + len(backups)  # header, rule, one line per backup
    assert all(len(line.rstrip()) <= columns for line in lines), screen
    assert lines[0].split() == ["ID", "Name", "Status"]
    for backup, line in zip(backups, lines[2:], strict=True):
        assert line.startswith(backup["id"] + " ")
        assert line.rstrip().endswith(" " + backup["status"])
    assert "Volume ID, Size (GB) and Created hidden" in stderr
    assert stderr.rstrip().endswith(f"to fit {columns} columns; --wide or -o json shows everything")
    if columns == 80:  # names are whole at 80 columns
        assert all(backup["name"] in screen for backup in backups)
    else:  # at 60, long names are shortened, with an ellipsis, and the note says so
        assert "db01 " in screen and "vbs-20260101-000000-abcdef" not in screen and "vbs-202601…" in screen
        assert "Name shortened" in stderr


def test_wide_shows_every_column_in_full_on_a_terminal(emulator: Service, backups):
    screen, stderr = on_terminal(("backup", "list", "--wide"), emulator.env, 60)
    assert screen.split("\n")[0].split() == ["ID", "Name", "Status", "Volume", "ID", "Size", "(GB)", "Created"]
    for backup in backups:
        assert all(str(backup[key]) in screen for key in ("id", "name", "status", "volume_id", "created_at"))
    assert stderr == ""


def test_without_a_terminal_the_table_is_complete(emulator: Service, backups):
    run = run_vbs("backup", "list", "-o", "table", env={**emulator.env, "COLUMNS": "60"})
    assert run.exit_code == 0 and run.stderr == ""
    for header in ("ID", "Name", "Status", "Volume ID", "Size (GB)", "Created"):
        assert header in run.stdout
    for backup in backups:
        line = next(line for line in run.stdout.splitlines() if backup["id"] in line)
        assert all(str(backup[key]) in line for key in ("name", "status", "volume_id", "size", "created_at"))


def test_detail_table_keeps_ids_whole_at_60_columns(emulator: Service, backups):
    screen, stderr = on_terminal(("backup", "show", backups[0]["id"]), emulator.env, 60)
    assert all(len(line) <= 60 for line in screen.splitlines())
    for key in ("id", "volume_id", "snapshot_id"):
        assert backups[0][key] in screen
    assert stderr == ""


def test_a_shortened_reason_never_breaks_the_id_it_names(emulator: Service):
    """A prune plan at 80 columns: the reason a backup is kept names the backup that depends on it; cut
    to fit, it ends before that ID instead of in the middle of it."""
    volume, _ = DISKS[0]
    parent = None
    for days in (3, 2, 1):  # a chain, as upstream's incremental backups make it: each builds on the one before
        when = datetime.now(timezone.utc) - timedelta(days=days)
        parent = emulator.emu.store.add_backup(volume, when, name=f"chained-{days}", parent_id=parent)
    screen, stderr = on_terminal(("backup", "prune", "--all", "--keep-last", "1", "--plan"), emulator.env, 80)
    assert all(len(line) <= 80 for line in screen.splitlines()), screen
    assert "Why shortened" in stderr
    ids = [m.group(0) for m in UUID.finditer(screen)]
    assert len(ids) == 3 and not re.search(r"[0-9a-f]{4}-[0-9a-f-]*…", screen), screen
    assert screen.count("backup…") == 2, screen  # "backup <ID>, which depends on it, stays", cut before the ID


def test_shorten_cuts_text_but_not_the_ids_in_it():
    from vbscli.render import shorten

    assert shorten("newest available; daily 2026-11-29", 20) == "newest available; d…"
    assert shorten(f"backup {ID1}, which depends on it, stays", 23) == "backup…"
    assert shorten(f"backup {ID1}, which depends on it, stays", 50) == f"backup {ID1}, whic…"
    assert shorten(f"{ID1} x", 20) == "…"  # nothing but the ID would fit: nothing of it is shown
    assert shorten("short", 10) == "short" and shorten("exactly10!", 10) == "exactly10!"


# -- the fitting rules, one table at a time -------------------------------------------------------

ID1, ID2 = "bfef11e0-2fcb-466a-886b-1d471daa84db", "f88ea070-c8e6-4f00-a4f1-219c59764346"


def shown(fit: Fit) -> list[tuple[str, int]]:
    return [(fit.columns[i].name, fit.widths[i]) for i in fit.visible]


def test_rightmost_columns_are_hidden_first_and_the_first_and_status_columns_never():
    columns = [Column(n) for n in ("ID", "Name", "Status", "Volume ID", "Size (GB)", "Created")]
    rows = [(ID1, "nightly", "available", ID2, "10", "2026-11-29T08:05:58.882149")]
    fit = Fit(columns, rows, 80)
    # Created, Size and Volume ID go, from the right; then Size fits again beside the short name
    assert shown(fit) == [("ID", 36), ("Name", 7), ("Status", 9), ("Size (GB)", 9)]
    assert fit.hidden == ["Volume ID", "Created"] and fit.shortened == []
    assert fit.total <= 80


def test_the_last_text_column_is_shortened_not_hidden_but_never_below_its_floor():
    columns = [Column("ID"), Column("Name"), Column("Status")]
    rows = [(ID1, "a-rather-long-backup-name", "error_restoring")]
    fit = Fit(columns, rows, 70)
    assert shown(fit) == [("ID", 36), ("Name", 15), ("Status", 15)] and fit.shortened == ["Name"]
    narrow = Fit(columns, rows, 50)  # even 10 characters of name do not fit: the name goes
    assert shown(narrow) == [("ID", 36), ("Status", 15)] and narrow.hidden == ["Name"]
    assert narrow.total == 53  # wider than 50: an ID and a status are never cut; the terminal wraps


def test_a_kept_column_of_ids_and_messages_cuts_only_the_messages():
    columns = [Column("Line"), Column("Volume ID"), Column("Name"), Column("Result"), Column("Backup", keep=True)]
    rows = [("1", ID1, "db01", "created", ID2), ("2", ID2, "db02", "failed", "HTTP 400 VolumeBackup.0013: " + "x" * 80)]
    fit = Fit(columns, rows, 80)
    assert shown(fit) == [("Line", 4), ("Result", 7), ("Backup", 65)]
    assert fit.hidden == ["Volume ID", "Name"] and fit.shortened == ["Backup"]


def test_a_table_of_settings_keeps_their_values_and_shortens_them_before_their_origins():
    """`vbs profile show` on an 80-column terminal: the first column names the rows, so the values are
    the text that is shortened, and the origins (long paths) go first."""
    columns = [Column("Setting"), Column("Value"), Column("From")]
    path = "profile file /home/someone/.config/vbs/config.yaml (profile 'lab')"
    rows = [
        ("source", f"profile 'lab' in /home/someone/.config/vbs/config.yaml and more {'x' * 20}", ""),
        ("project_id", "0123456789abcdef0123456789abcdef", "the login (cached)"),
        ("auth.user_domain_name", "demo-domain", path),
    ]
    fit = Fit(columns, rows, 80)
    assert shown(fit) == [("Setting", 21), ("Value", 57)]
    assert fit.hidden == ["From"] and fit.shortened == ["Value"]


def test_profile_show_on_an_80_column_terminal_shows_the_values_and_where_they_came_from(emulator: Service, tmp_path):
    config = tmp_path / "a-directory-with-a-name-as-long-as-some-homes-have" / "config.yaml"
    config.parent.mkdir()
    config.write_text(
        f"profiles:\n  lab:\n    endpoint: {emulator.emu.url}\n    project_id: {emulator.emu.project_id}\n"
        "    auth: {type: token, token_env: LAB_TOKEN}\n"
    )
    screen, stderr = on_terminal(("profile", "show"), {"VBS_CONFIG": str(config), "LAB_TOKEN": "t"}, 80)
    assert re.search(rf"\nendpoint +{re.escape(emulator.emu.url)} *\n", screen), screen
    assert re.search(rf"\nproject_id +{emulator.emu.project_id} *\n", screen)
    assert re.search(r"\n +from profile file .*\n", screen), screen  # each origin on the line under its value
    assert all(len(line) <= 80 for line in screen.splitlines()), screen
    assert stderr == ""  # nothing hidden or shortened to fit


def test_wide_shows_everything():
    columns = [Column("ID"), Column("Name")]
    fit = Fit(columns, [(ID1, "n" * 200)], None)
    assert shown(fit) == [("ID", 36), ("Name", 200)] and not fit.hidden and not fit.shortened


def test_a_first_column_may_be_let_go_and_others_kept():
    columns = [Column("Volume ID", keep=False), Column("ID", keep=True), Column("Name"), Column("Action", keep=True)]
    fit = Fit(columns, [(ID2, ID1, "nightly", "delete")], 60)
    assert shown(fit) == [("ID", 36), ("Name", 7), ("Action", 6)] and fit.hidden == ["Volume ID"]

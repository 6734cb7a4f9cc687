"""The report's picture: what fits at a given width, and the cells with and without colour."""

from __future__ import annotations

import io
import re
from datetime import datetime, timedelta, timezone

import pytest
from rich.cells import cell_len

from vbscli.environment import Environment
from vbscli.render import Result, render
from vbscli.render_report import MIN_DAYS, PREFERRED_NAME, check_lines, draw, layout, result, stale_lines
from vbscli.report import Backup, build

UTC = timezone.utc
NOW = datetime(2026, 3, 10, 12, 0, 0, tzinfo=UTC)
ANSI = re.compile(r"\x1b\[[0-9;]*m")
NAMED = "aaaaaaaa-0000-4000-8000-000000000001"
UNNAMED = "bbbbbbbb-0000-4000-8000-000000000002"
LONG_NAME = "a-disk-name-that-goes-on-and-on-and-on-for-a-while"


def history(days: int = 30) -> list[Backup]:
    made = []
    for n in range(days):
        moment = NOW - timedelta(days=n, hours=9)
        made.append(Backup(f"n{n}", NAMED, "error" if n % 5 == 4 else "available", 10, moment))
        if n % 3 == 0:
            made.append(Backup(f"u{n}", UNNAMED, "available", 20, moment))
    return made


def report(days: int = 14, names=None):
    return build(history(), NOW, days=days, names={NAMED: "db01"} if names is None else names)


def test_without_a_width_everything_is_shown():
    fit = layout(report(days=30, names={NAMED: LONG_NAME}), None)
    assert (fit.days, fit.name_width, fit.show_ids) == (30, len(LONG_NAME), True)


def test_a_wide_terminal_shows_every_day_and_the_ids():
    fit = layout(report(days=30), 200)
    assert fit.days == 30 and fit.show_ids


def test_without_any_name_the_ids_are_not_shown_twice():
    fit = layout(report(names={}), 200)
    assert fit.days == 14 and not fit.show_ids and fit.name_width == 36


def test_at_80_columns_long_names_give_way_before_days():
    fit = layout(report(names={}), 80)
    assert fit.days == 14 and not fit.show_ids
    assert PREFERRED_NAME <= fit.name_width < 36


def test_a_narrow_terminal_shows_fewer_days_then_shorter_names_then_fewer_columns():
    many = report(days=60, names={})
    widths = {width: layout(many, width) for width in (200, 100, 80, 60, 45, 30)}
    assert widths[200].days == 60 and widths[100].days < 60
    days = [widths[w].days for w in (200, 100, 80, 60)]
    assert days == sorted(days, reverse=True) and days[-1] >= MIN_DAYS
    assert widths[45].show_counts and not widths[45].show_sizes
    assert not widths[30].show_counts


@pytest.mark.parametrize("width", [30, 45, 60, 80, 100, 200])
def test_the_picture_fits_the_terminal(monkeypatch, width):
    monkeypatch.setenv("COLUMNS", str(width))
    out = io.StringIO()
    draw(report(days=30, names={NAMED: LONG_NAME}), Environment(vars={}, stdout=out, stdout_isatty=True))
    lines = ANSI.sub("", out.getvalue()).splitlines()
    assert lines and max(cell_len(line) for line in lines) <= width


def test_an_id_standing_in_for_a_name_keeps_its_start_and_end_when_cut(monkeypatch):
    """Disks made by a compute service often have no name: a cut ID must still tell disks apart."""
    monkeypatch.setenv("COLUMNS", "80")
    similar = [f"5c1a9f0e-2b3d-4e5f-8a9b-0c1d2e3f4a0{n}" for n in (1, 2)]
    made = build([Backup(f"b{n}", v, "available", 10, NOW - timedelta(hours=n)) for n, v in enumerate(similar)], NOW)
    out = io.StringIO()
    draw(made, Environment(vars={"NO_COLOR": "1"}, stdout=out, stdout_isatty=True, stderr=io.StringIO()))
    labels = [line.split("│")[1].strip() for line in out.getvalue().splitlines() if line.startswith("│")]
    assert all("…" in label and cell_len(label) < 36 for label in labels)
    assert [label.split("…")[1] for label in labels] == ["-0c1d2e3f4a02", "-0c1d2e3f4a01"]  # oldest first
    assert all(label.startswith("5c1a9f0e-") for label in labels)


def test_empty_days_are_dimmed_not_grey(monkeypatch):
    """Grey ("bright black") is the background itself in themes such as Solarized Dark."""
    monkeypatch.setenv("COLUMNS", "120")
    out = io.StringIO()
    draw(report(), Environment(vars={"TERM": "xterm"}, stdout=out, stdout_isatty=True))
    assert "\x1b[2m·" in out.getvalue() and "\x1b[90m" not in out.getvalue()


def test_colours_and_cells_on_a_terminal(monkeypatch):
    monkeypatch.setenv("COLUMNS", "120")
    out = io.StringIO()
    draw(report(), Environment(vars={"TERM": "xterm"}, stdout=out, stdout_isatty=True))
    text = out.getvalue()
    assert ANSI.search(text)
    plain = ANSI.sub("", text)
    row = next(line for line in plain.splitlines() if "db01" in line)
    assert re.search(r"[■✗·]{14}", row)  # one cell per day: available, only failed, none
    assert "✗" in row and "■" in row
    assert "■ available  ✗ only failed  · none" in plain


def test_no_color_gives_distinct_plain_characters(monkeypatch):
    monkeypatch.setenv("COLUMNS", "120")
    out = io.StringIO()
    draw(report(), Environment(vars={"NO_COLOR": "1"}, stdout=out, stdout_isatty=True))
    text = out.getvalue()
    assert not ANSI.search(text)
    row = next(line for line in text.splitlines() if "db01" in line)
    strip = re.search(r"[#x.]{14}", row).group(0)
    assert set(strip) == {"#", "x"}
    unnamed = next(line for line in text.splitlines() if UNNAMED in line)
    assert set(re.search(r"[#x.]{14}", unnamed).group(0)) == {"#", "."}
    assert "# available  x only failed  . none" in text


def test_off_a_terminal_nothing_is_cut_or_coloured():
    out = io.StringIO()
    made = build(history(), NOW, days=60, names={NAMED: LONG_NAME})
    render(result(made), "table", Environment(stdout=out))
    text = out.getvalue()
    assert not ANSI.search(text) and "…" not in text
    assert LONG_NAME in text and NAMED in text and UNNAMED in text
    assert re.search(r"[#x.]{60}", text)
    assert "Days 2026-01-10 to 2026-03-10 (UTC), today on the right." in text


def test_json_is_the_document_even_with_a_picture():
    out = io.StringIO()
    made = report()
    render(Result(made.document(), [], picture=lambda env, wide: pytest.fail("drawn")), "json", Environment(stdout=out))
    assert '"volumes": [' in out.getvalue()


def test_an_empty_report_says_so():
    out = io.StringIO()
    draw(build([], NOW), Environment(stdout=out))
    assert out.getvalue() == "No backups to report.\n"


def test_the_title_counts_stale_disks():
    out = io.StringIO()
    draw(build(history(), NOW, max_age=3600, names={NAMED: "db01"}), Environment(stdout=out))
    title = out.getvalue().splitlines()[0]
    assert title == "2 disks, most at risk first; 2 without an available backup younger than 1h"
    out = io.StringIO()
    draw(build(history(), NOW, max_age=26 * 3600), Environment(stdout=out))
    assert out.getvalue().splitlines()[0].endswith("younger than 26h")


def test_control_characters_in_names_never_reach_the_terminal(monkeypatch):
    monkeypatch.setenv("COLUMNS", "120")
    hostile = "evil\x1b[2J\nname\x9b\ud800"  # escapes, a line break, a C1 control, a lone surrogate
    made = build(history(), NOW, names={NAMED: hostile}, max_age=3600)
    out = io.StringIO()
    draw(made, Environment(vars={"NO_COLOR": "1"}, stdout=out, stdout_isatty=True))
    assert "\x1b" not in out.getvalue() and "\x9b" not in out.getvalue()
    assert "evil?[2J?name??" in out.getvalue()
    assert stale_lines(made, "1h")[0].startswith("stale: evil?[2J?name?? (")
    names = {v["volume_id"]: v["volume_name"] for v in made.document()["volumes"]}
    assert names[NAMED] == hostile  # JSON keeps the service's value: its encoder escapes it


def test_stale_lines_say_which_disk_and_why():
    made = build(history(), NOW, names={NAMED: "db01"}, max_age=3600)
    assert stale_lines(made, "1h") == [
        f"stale: db01 ({NAMED}): newest available backup is 9h old (--max-age 1h)",
        f"stale: {UNNAMED}: newest available backup is 9h old (--max-age 1h)",
    ]
    fresh = build(history(), NOW, max_age=86400)
    assert stale_lines(fresh, "1d") == []


def test_never_backed_up_and_backups_none_of_which_is_usable_read_differently():
    gone = "cccccccc-0000-4000-8000-000000000003"
    made = build(
        [
            Backup("f1", NAMED, "error", 10, NOW - timedelta(hours=3)),
            Backup("f2", NAMED, "error_restoring", 10, NOW - timedelta(hours=30)),
            Backup("d1", gone, "deleting", 10, NOW - timedelta(hours=3)),
        ],
        NOW,
        volume_ids=[NAMED, gone, UNNAMED],
        names={NAMED: "db01"},
        max_age=3600,
    )
    assert [row[0] for row in result(made).rows] == [UNNAMED, "db01", gone]
    assert [row[3] for row in result(made).rows] == ["never", "none", "none"]
    assert stale_lines(made, "1h") == [
        f"stale: {UNNAMED}: never backed up (--max-age 1h)",
        f"stale: db01 ({NAMED}): no available backup, 1 error, 1 error_restoring (--max-age 1h)",
        f"stale: {gone}: no available backup, 1 deleting (--max-age 1h)",
    ]


def test_the_check_summarises_first_in_the_units_it_means():
    made = build(history(), NOW, names={NAMED: "db01"}, max_age=26)  # '--max-age 26' is 26 seconds
    summary, *lines = check_lines(made, "26", named=False)
    assert summary == "2 of 2 disks without an available backup younger than 26s"
    assert lines == stale_lines(made, "26") and lines[0].endswith("(--max-age 26)")  # as typed
    assert check_lines(build(history(), NOW, max_age=86400), "1d", named=False) == []
    assert check_lines(build([], NOW, max_age=60), "1m", named=True) == []  # named disks: each is reported
    assert check_lines(build([], NOW, max_age=60), "1m", named=False)[0].startswith("no disk to check: ")


def test_value_output_prints_fields_of_each_disk():
    from vbscli.render import Format

    out = io.StringIO()
    made = build(history(), NOW, names={NAMED: "db01"})
    render(result(made), Format("value", ("volume_name", "age_seconds", "backups")), Environment(stdout=out))
    # Both newest backups are 9 h old: the disk with failed days comes first; a missing name is empty.
    assert out.getvalue() == f"db01\t{9 * 3600}\t30\n\t{9 * 3600}\t10\n"


def test_a_fitted_picture_says_on_stderr_what_it_left_out(monkeypatch):
    monkeypatch.setenv("COLUMNS", "60")
    out, err = io.StringIO(), io.StringIO()
    made = build(history(), NOW, days=30, names={NAMED: LONG_NAME})
    draw(made, Environment(vars={}, stdout=out, stderr=err, stdout_isatty=True))
    assert re.fullmatch(
        r"vbs: \d+ of 30 days shown; Volume ID hidden; names shortened to fit 60 columns; "
        r"--wide or -o json shows everything\n",
        err.getvalue(),
    )
    err = io.StringIO()
    draw(made, Environment(vars={}, stdout=io.StringIO(), stderr=err, stdout_isatty=True), wide=True)
    assert err.getvalue() == ""

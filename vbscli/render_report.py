"""The backup report as a picture: one row per disk with a strip of days, for people at a terminal.

Part of the rendering layer: `result` hands the report to `vbscli.render`, which prints the JSON
document or calls `draw` for table output. It only draws the facts of `vbscli.report`. On a terminal
the picture fits the width (fewer days and shorter names when it is narrow); anywhere else nothing is
cut. The cells differ by character as well as by colour, so the strip reads the same without colour.
Names come from the service: control characters in them are shown as '?', never sent to the terminal.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from vbscli.environment import Environment
from vbscli.render import Result, console_for
from vbscli.report import AVAILABLE, FAILED, NONE, Disk, Report, format_age, format_limit

COLOUR_CELLS = {AVAILABLE: ("■", "green"), FAILED: ("✗", "bold red"), NONE: ("·", "dim")}
"""Dim, not grey, for empty days: themes such as Solarized Dark draw grey ("bright black") in the
background's own colour, and a terminal that cannot dim shows the dot plainly."""
PLAIN_CELLS = {AVAILABLE: "#", FAILED: "x", NONE: "."}
LEGEND = {AVAILABLE: "available", FAILED: "only failed", NONE: "none"}
MIN_DAYS = 7
"""A narrow terminal shows at least this many days before names are shortened."""
MIN_NAME = 12
PREFERRED_NAME = 24
"""Longer names (an ID is 36 characters) are shortened to this before days are given up."""
ID_WIDTH = 36


@dataclass(frozen=True)
class Layout:
    """What fits: how many of the newest days, how wide the disk names, which columns.

    With an ID column, the disk column shows names only ('-' for a disk without one).
    """

    days: int
    name_width: int
    show_ids: bool
    show_counts: bool = True
    show_sizes: bool = True


def printable(text: str) -> str:
    """Control characters (line breaks, escape sequences) as '?': a name cannot move the cursor;
    lone surrogates (not Unicode, so not printable) too."""
    return "".join("?" if ord(c) < 32 or 127 <= ord(c) < 160 or 0xD800 <= ord(c) < 0xE000 else c for c in text)


def disk_cell(disk: Disk, show_ids: bool) -> str:
    return printable((disk.name or "-") if show_ids else disk.label)


def shortened(disk: Disk, show_ids: bool, width: int) -> str:
    """The disk cell cut to `width`: a name keeps its start (the table adds '…'); an ID shown for a
    disk without a name keeps its start and its end, the parts people compare, e.g.
    '5c1a9f0e-2b…2e3f4a06'."""
    text = disk_cell(disk, show_ids)
    if disk.name or show_ids or len(text) <= width or width < 9:
        return text
    tail = (width - 1) // 2
    return text[: width - 1 - tail] + "…" + text[-tail:]


def who(disk: Disk) -> str:
    return f"{printable(disk.name)} ({disk.volume_id})" if disk.name else disk.volume_id


def newest(disk: Disk) -> str:
    """The Newest column: the age of the newest usable backup; 'never' for a disk never backed up,
    'none' for one with backups of which none is usable."""
    if disk.age_seconds is None:
        return "never" if disk.total == 0 else "none"
    return format_age(disk.age_seconds)


def result(report: Report) -> Result:
    """The report for `vbscli.render`: its JSON document, plain rows, and the picture for tables."""
    rows = [
        (
            disk_cell(disk, False),
            disk.volume_id,
            "".join(PLAIN_CELLS[day.state] for day in disk.days),
            newest(disk),
            str(disk.total),
            str(disk.total_size),
        )
        for disk in report.disks
    ]
    return Result(
        report.document(),
        rows,
        columns=("Disk", "Volume ID", "Days", "Newest", "Backups", "Size (GB)"),
        picture=lambda env, wide: draw(report, env, wide),
    )


def check_lines(report: Report, limit: str, named: bool) -> list[str]:
    """What `--max-age` says on stderr when the check fails (nothing when it passes): first a summary
    (the line a monitoring system shows), then one line per stale disk. A project without any backup
    fails the check too: with nothing to report, every backup may be gone."""
    if not report.disks:
        if named:
            return []
        return [
            f"no disk to check: the project has no backups (--max-age {limit}); "
            "name the disks with --from or --volume-id to check disks never backed up"
        ]
    stale = stale_lines(report, limit)
    if not stale:
        return []
    total = len(report.disks)
    younger = format_limit(report.max_age) if report.max_age is not None else limit  # '26' reads as 26s
    summary = (
        f"{len(stale)} of {total} disk{'s' if total != 1 else ''} without an available backup younger than {younger}"
    )
    return [summary, *stale]


def stale_lines(report: Report, limit: str) -> list[str]:
    """One line per stale disk, for stderr: which disk, and how old its newest available backup is."""
    lines = []
    for disk in report.stale:
        if disk.total == 0:
            why = "never backed up"
        elif disk.age_seconds is None:
            held = ", ".join(f"{count} {status}" for status, count in disk.counts.items() if count)
            why = f"no available backup, {held}"
        else:
            why = f"newest available backup is {format_age(disk.age_seconds)} old"
        lines.append(f"stale: {who(disk)}: {why} (--max-age {limit})")
    return lines


def layout(report: Report, width: int | None) -> Layout:
    """Fit the picture into `width` columns (None: no limit, show everything).

    In order, while the picture is too wide: drop the ID column, shorten long names to
    PREFERRED_NAME, show fewer days (down to MIN_DAYS), shorten names to MIN_NAME, drop the size and
    count columns, and last show fewer days still.
    """
    disks = report.disks
    named = any(d.name for d in disks)
    age = max([len("Newest")] + [len(newest(d)) for d in disks])
    count = max([len("Backups")] + [len(str(d.total)) for d in disks])
    size = max([len("Size (GB)")] + [len(str(d.total_size)) for d in disks])
    names_only = max([len("Disk")] + [len(disk_cell(d, True)) for d in disks])
    labels = max([len("Disk")] + [len(disk_cell(d, False)) for d in disks])
    if width is None:
        return Layout(report.days, names_only if named else labels, named)
    want = report.days

    def room(*columns: int) -> int:
        # A boxed table spends 3 characters per column (two spaces and a rule) and one rule more;
        # `columns` are all but the strip.
        return width - (sum(columns) + 3 * (len(columns) + 1) + 1)

    if named and room(names_only, ID_WIDTH, age, count, size) >= want:
        return Layout(want, names_only, True)
    if room(labels, age, count, size) >= want:
        return Layout(want, labels, False)
    name = max(min(labels, PREFERRED_NAME), labels - (want - room(labels, age, count, size)))
    if room(name, age, count, size) >= min(want, MIN_DAYS):
        return Layout(min(want, room(name, age, count, size)), name, False)
    days = min(want, MIN_DAYS)
    name = max(min(labels, MIN_NAME), labels - (days - room(labels, age, count, size)))
    if room(name, age, count, size) >= days:
        return Layout(days, name, False)
    if room(name, age, count) >= days:
        return Layout(days, name, False, show_sizes=False)
    return Layout(max(1, min(days, room(name, age))), name, False, show_counts=False, show_sizes=False)


def strip_header(days: int) -> str:
    for text in (f"Last {days} days", f"{days} days", f"{days}d"):
        if len(text) <= days:
            return text
    return ""


def draw(report: Report, env: Environment, wide: bool = False) -> None:
    """Print the picture; on a terminal fitted to its width (unless `wide`), saying on stderr what
    was left out, as other tables do."""
    from rich.table import Table
    from rich.text import Text

    terminal = env.stdout_isatty
    colour = terminal and not env.no_color
    console = console_for(env, wide)
    if not report.disks:
        console.print("No backups to report.")
        return
    fit = layout(report, console.width if terminal and not wide else None)
    bold = "bold" if colour else None
    table = Table(header_style=bold)
    table.add_column("Disk", no_wrap=True, overflow="ellipsis", width=fit.name_width, style=bold)
    if fit.show_ids:
        table.add_column("Volume ID", no_wrap=True, width=ID_WIDTH)
    table.add_column(strip_header(fit.days), no_wrap=True, width=fit.days)
    table.add_column("Newest", no_wrap=True, justify="right")
    if fit.show_counts:
        table.add_column("Backups", no_wrap=True, justify="right")
    if fit.show_sizes:
        table.add_column("Size (GB)", no_wrap=True, justify="right")
    for disk in report.disks:
        cells: list[Any] = [shortened(disk, fit.show_ids, fit.name_width)]
        if fit.show_ids:
            cells.append(disk.volume_id)
        cells.append(_strip(disk, fit.days, colour))
        at_risk = disk.stale or disk.age_seconds is None
        cells.append(Text(newest(disk), style="bold red" if colour and at_risk else ""))
        if fit.show_counts:
            cells.append(str(disk.total))
        if fit.show_sizes:
            cells.append(str(disk.total_size))
        table.add_row(*cells)
    console.print(Text(_title(report)))
    console.print(table)
    console.print(_caption(report, fit, colour))
    left_out = fitted(report, fit)
    if left_out:
        env.stderr.write(f"vbs: {left_out} to fit {console.width} columns; --wide or -o json shows everything\n")
        env.stderr.flush()


def fitted(report: Report, fit: Layout) -> str:
    """What fitting the terminal left out, in words ('' when nothing was)."""
    full = layout(report, None)
    done = []
    if fit.days < report.days:
        done.append(f"{fit.days} of {report.days} days shown")
    hidden = [
        name
        for name, shown in (
            ("Volume ID", fit.show_ids or not full.show_ids),
            ("Backups", fit.show_counts),
            ("Size (GB)", fit.show_sizes),
        )
        if not shown
    ]
    if hidden:
        done.append(f"{', '.join(hidden)} hidden")
    if fit.name_width < max([len("Disk")] + [len(disk_cell(d, fit.show_ids)) for d in report.disks]):
        done.append("names shortened")
    return "; ".join(done)


def _strip(disk: Disk, days: int, colour: bool) -> Any:
    from rich.text import Text

    text = Text()
    for day in disk.days[-days:]:
        if colour:
            glyph, style = COLOUR_CELLS[day.state]
            text.append(glyph, style=style)
        else:
            text.append(PLAIN_CELLS[day.state])
    return text


def _title(report: Report) -> str:
    count = len(report.disks)
    title = f"{count} disk{'s' if count != 1 else ''}, most at risk first"
    if report.max_age is not None:
        stale = len(report.stale)
        title += f"; {stale} without an available backup younger than {format_limit(report.max_age)}"
    return title


def _caption(report: Report, fit: Layout, colour: bool) -> Any:
    from rich.text import Text

    text = Text()
    for n, state in enumerate((AVAILABLE, FAILED, NONE)):
        if n:
            text.append("  ")
        if colour:
            glyph, style = COLOUR_CELLS[state]
            text.append(glyph, style=style)
        else:
            text.append(PLAIN_CELLS[state])
        text.append(f" {LEGEND[state]}")
    first = report.last_day - timedelta(days=fit.days - 1)
    zone = report.now.astimezone(report.tz).tzname() or "local time"
    text.append(f"\nDays {first} to {report.last_day} ({zone}), today on the right. ")
    text.append("Newest: age of the newest available backup.")
    return text

"""The backup report as a picture: one row per disk with a strip of days, for people at a terminal.

Part of the rendering layer: `vbscli.render` calls `draw` for table output. It only draws the facts
of `vbscli.report`. On a terminal the picture fits the width (fewer days when it is narrow, names
shortened only as a last resort); anywhere else nothing is cut. The cells differ by character as
well as by colour, so the strip reads the same without colour.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from vbscli.environment import Environment
from vbscli.report import AVAILABLE, FAILED, NONE, Disk, Report, format_age

COLOUR_CELLS = {AVAILABLE: ("■", "green"), FAILED: ("✗", "bold red"), NONE: ("·", "bright_black")}
PLAIN_CELLS = {AVAILABLE: "#", FAILED: "x", NONE: "."}
LEGEND = {AVAILABLE: "available", FAILED: "only failed", NONE: "none"}
MIN_DAYS = 7
"""A narrow terminal shows at least this many days before names are shortened."""
MIN_NAME = 12
ID_WIDTH = 36


@dataclass(frozen=True)
class Layout:
    """What fits: how many of the newest days, how wide the disk names, whether the IDs get a column."""

    days: int
    name_width: int
    show_ids: bool


def cell_widths(report: Report) -> dict[str, int]:
    """The natural width of each column except the strip (header or longest value)."""
    disks = report.disks
    return {
        "name": max([len("Disk")] + [len(d.label) for d in disks]),
        "age": max([len("Newest")] + [len(format_age(d.age_seconds)) for d in disks]),
        "count": max([len("Backups")] + [len(str(d.total)) for d in disks]),
        "size": max([len("Size (GB)")] + [len(str(d.total_size)) for d in disks]),
    }


def layout(report: Report, width: int | None) -> Layout:
    """Fit the picture into `width` columns (None: no limit, show everything)."""
    widths = cell_widths(report)
    named = any(d.name for d in report.disks)
    if width is None:
        return Layout(report.days, widths["name"], named)

    def spare(columns: list[int]) -> int:
        # A boxed table spends 3 characters per column (two spaces, one rule) and one more rule.
        return width - (sum(columns) + 3 * (len(columns) + 1) + 1)

    others = [widths["age"], widths["count"], widths["size"]]
    room = spare([widths["name"], *others])
    if room >= report.days:
        show_ids = named and room - report.days >= ID_WIDTH + 3
        return Layout(report.days, widths["name"], show_ids)
    if room >= MIN_DAYS:
        return Layout(room, widths["name"], False)
    days = min(MIN_DAYS, report.days)
    name_width = max(MIN_NAME, widths["name"] - (days - room))
    room = spare([name_width, *others])
    return Layout(max(1, min(days, room)), min(name_width, widths["name"]), False)


def strip_header(days: int) -> str:
    for text in (f"Last {days} days", f"{days} days", f"{days}d"):
        if len(text) <= days:
            return text
    return ""


def draw(report: Report, env: Environment) -> None:
    from rich.console import Console
    from rich.table import Table
    from rich.text import Text

    terminal = env.stdout_isatty
    colour = terminal and not env.no_color
    console = Console(
        file=env.stdout,
        force_terminal=terminal,
        no_color=not colour,
        color_system="auto" if colour else None,
        width=None if terminal else 100_000,
        highlight=False,
        emoji=False,
        markup=False,
    )
    if not report.disks:
        console.print("No backups to report.")
        return
    fit = layout(report, console.width if terminal else None)
    bold = "bold" if colour else None
    table = Table(
        title=_title(report),
        title_justify="left",
        caption=_caption(report, fit, colour),
        caption_justify="left",
        header_style=bold,
        title_style=None,
        caption_style=None,
    )
    table.add_column("Disk", no_wrap=True, overflow="ellipsis", width=fit.name_width, style=bold)
    if fit.show_ids:
        table.add_column("Volume ID", no_wrap=True, width=ID_WIDTH)
    table.add_column(strip_header(fit.days), no_wrap=True, width=fit.days)
    table.add_column("Newest", no_wrap=True, justify="right")
    table.add_column("Backups", no_wrap=True, justify="right")
    table.add_column("Size (GB)", no_wrap=True, justify="right")
    for disk in report.disks:
        cells: list[Any] = [disk.label]
        if fit.show_ids:
            cells.append(disk.volume_id)
        cells.append(_strip(disk, fit.days, colour))
        at_risk = disk.stale or disk.age_seconds is None
        cells.append(Text(format_age(disk.age_seconds), style="bold red" if colour and at_risk else ""))
        cells += [str(disk.total), str(disk.total_size)]
        table.add_row(*cells)
    console.print(table)


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
        title += f"; {stale} without an available backup younger than {format_age(report.max_age)}"
    return title


def _caption(report: Report, fit: Layout, colour: bool) -> Any:
    from rich.text import Text

    text = Text()
    for state in (AVAILABLE, FAILED, NONE):
        if colour:
            glyph, style = COLOUR_CELLS[state]
            text.append(glyph, style=style)
        else:
            text.append(PLAIN_CELLS[state])
        text.append(f" {LEGEND[state]}  ")
    first = report.last_day - timedelta(days=fit.days - 1)
    zone = report.now.astimezone(report.tz).tzname() or "local time"
    text.append(f"one cell per day, {first} to {report.last_day} ({zone}), newest on the right")
    return text

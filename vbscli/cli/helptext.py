"""Help that nothing cuts: rich panels on a terminal wide enough for them, plain text wrapped at spaces
anywhere else (a narrow terminal, a pipe, a file), with a command's own options before the global ones.

Imported only when help is printed.
"""

from __future__ import annotations

from typing import Any

import typer


def _terminal() -> bool:
    import sys

    try:
        return sys.stdout.isatty()
    except (AttributeError, ValueError, OSError):
        return False


PANELS_MIN_WIDTH = 100
"""Help is drawn in panels on a terminal at least this wide; narrower, the panels' columns would cut
long option names and paths, so the plain layout (which wraps at spaces only) is used instead."""


def width() -> int | None:
    """None: draw panels; else the width to wrap plain help at (78, or less on a narrow terminal)."""
    import shutil

    if not _terminal():
        return 78
    columns = shutil.get_terminal_size().columns
    return None if columns >= PANELS_MIN_WIDTH else max(min(columns - 2, 78), 40)


class PlainHelp(typer._click.HelpFormatter):  # type: ignore[name-defined]
    """Help for pipes and files: wrapped at spaces only, so no sentence, URL or option is ever cut."""

    def write_text(self, text: str) -> None:
        indent = " " * self.current_indent
        for number, paragraph in enumerate(p for p in text.split("\n\n") if p.strip()):
            if number:
                self.write("\n")
            self.write("".join(f"{indent}{line}\n" for line in wrap(paragraph, self.width - len(indent))))

    def write_dl(self, rows: Any, col_max: int = 30, col_spacing: int = 2) -> None:
        rows = list(rows)
        first_col = min(max(len(first) for first, _ in rows), col_max) + col_spacing
        pad = " " * (first_col + self.current_indent)
        if self.width - len(pad) < 36:  # a narrow terminal: each description under its option instead
            pad = " " * (self.current_indent + 4)
            first_col = 0
        for first, second in rows:
            self.write(f"{'':>{self.current_indent}}{first}")
            if not second:
                self.write("\n")
                continue
            if len(first) <= first_col - col_spacing:
                self.write(" " * (first_col - len(first)))
            else:
                self.write("\n" + pad)
            lines = wrap(second, self.width - len(pad))
            self.write(lines[0] + "\n" + "".join(f"{pad}{line}\n" for line in lines[1:]))


def wrap(text: str, width: int) -> list[str]:
    import textwrap

    return textwrap.wrap(" ".join(text.split()), width, break_long_words=False, break_on_hyphens=False) or [""]


def plain(command: Any, ctx: Any, text_width: int) -> str:
    """`command`'s help in the plain layout, `text_width` wide."""
    import typer._click.core as click_core

    formatter = PlainHelp(width=text_width)
    click_core.Command.format_help(command, ctx, formatter)
    return formatter.getvalue().rstrip("\n")


def format_options(command: Any, ctx: Any, formatter: Any, panel: str) -> None:
    """Plain help: the command's own arguments and options, then the global ones (`panel`), then subcommands."""
    sections: dict[str, list[tuple[str, str]]] = {"Arguments": [], "Options": [], panel: []}
    for param in command.get_params(ctx):
        record = param.get_help_record(ctx)
        if record is None:
            continue
        if param.param_type_name == "argument":
            sections["Arguments"].append(record)
        else:
            sections[panel if getattr(param, "rich_help_panel", None) == panel else "Options"].append(record)
    for title, rows in sections.items():
        if rows:
            with formatter.section(title):
                formatter.write_dl(rows)
    if hasattr(command, "commands"):
        command.format_commands(ctx, formatter)


def format_commands(command: Any, ctx: Any, formatter: Any) -> None:
    """Plain help lists each command with its whole first sentence (rich help does already)."""
    rows = []
    for name in command.list_commands(ctx):
        sub = command.get_command(ctx, name)
        if sub is not None and not sub.hidden:
            rows.append((name, sub.get_short_help_str(limit=1_000)))
    if rows:
        with formatter.section("Commands"):
            formatter.write_dl(rows)

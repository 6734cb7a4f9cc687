"""The one renderer: a command's result becomes a table for people or JSON for programs.

Commands return a `Result` (the service's document plus the rows a person wants to see) and never
format anything themselves. rich is imported only when a table is actually drawn.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, TextIO

from vbscli import redact
from vbscli.client import Call
from vbscli.environment import Environment
from vbscli.errors import VbsError


@dataclass
class Result:
    """`document` is printed as-is for JSON; `rows` under `columns` make the table.

    The default columns show one object as (field, value) pairs; a listing passes its own.
    """

    document: Any
    rows: list[tuple[str, ...]]
    columns: tuple[str, ...] = ("Field", "Value")
    title: str | None = None


def output_format(requested: str | None, env: Environment) -> str:
    """An explicit choice wins; otherwise a table for a terminal and JSON for pipes and cron."""
    if requested:
        return requested
    return "table" if env.stdout_isatty else "json"


def dumps(document: Any) -> str:
    return json.dumps(document, indent=2, ensure_ascii=False)


def render(result: Result, fmt: str, env: Environment) -> None:
    if fmt == "json":
        _write(env.stdout, dumps(result.document) + "\n")
        return
    _table(result, env)


def render_request(call: Call, fmt: str, env: Environment) -> None:
    """What --dry-run shows: the request exactly as it would be sent, credentials masked."""
    headers = redact.headers(call.headers)
    body = call.document()
    if fmt == "json":
        doc = {"method": call.method, "url": call.url, "headers": headers, "body": body}
        _write(env.stdout, dumps(doc) + "\n")
        return
    lines = [f"{call.method} {call.url}"]
    lines += [f"{name}: {value}" for name, value in headers.items()]
    if body is not None:
        lines += ["", dumps(body)]
    _write(env.stdout, "\n".join(lines) + "\n")


def render_request_lines(calls: list[tuple[dict[str, Any], Call]], fmt: str, env: Environment) -> None:
    """A dry run of many requests: one JSON line each (with the `extra` fields, e.g. the item's line), or
    text blocks under a comment line naming them."""
    for extra, call in calls:
        headers = redact.headers(call.headers)
        if fmt == "json":
            doc = {**extra, "method": call.method, "url": call.url, "headers": headers, "body": call.document()}
            _write(env.stdout, json.dumps(doc, ensure_ascii=False) + "\n")
            continue
        lines = [f"# {', '.join(f'{k} {v}' for k, v in extra.items())}"] if extra else []
        lines += [f"{call.method} {call.url}"] + [f"{name}: {value}" for name, value in headers.items()]
        if call.body:
            lines += ["", dumps(call.document())]
        _write(env.stdout, "\n".join(lines) + "\n\n")


def render_error(error: VbsError, fmt: str | None, env: Environment) -> None:
    """Errors go to stderr only: one line for people, one JSON object for programs."""
    if fmt == "json":
        _write(env.stderr, json.dumps({"error": error.as_dict()}, ensure_ascii=False) + "\n")
    else:
        env.error_line(error.one_line())


def _write(stream: TextIO, text: str) -> None:
    stream.write(text)
    stream.flush()


def _table(result: Result, env: Environment) -> None:
    from rich.console import Console
    from rich.table import Table

    terminal = env.stdout_isatty
    console = Console(
        file=env.stdout,
        force_terminal=terminal,
        no_color=env.no_color or not terminal,
        color_system="auto" if terminal and not env.no_color else None,
        # Off a terminal there is no width to respect: never wrap or cut an ID or a URL.
        width=None if terminal else 100_000,
        highlight=False,
        emoji=False,
        markup=False,
    )
    bold = "bold" if terminal and not env.no_color else None
    table = Table(title=result.title, show_header=True, header_style=bold)
    for index, name in enumerate(result.columns):
        # The first column holds short labels or names; every other column may hold long IDs and
        # URLs, which fold onto the next line on a narrow terminal rather than being cut.
        table.add_column(name, no_wrap=index == 0, overflow="fold", style=bold if index == 0 else None)
    for row in result.rows:
        table.add_row(*("" if cell is None else str(cell) for cell in row))
    console.print(table)

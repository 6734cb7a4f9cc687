"""The one renderer: a command's result becomes a table for people, JSON or bare values for programs.

Commands return a `Result` (the service's document plus the rows a person wants to see) and never
format anything themselves. rich is imported only when a table is actually drawn.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from json.encoder import encode_basestring  # type: ignore[attr-defined]
from typing import TYPE_CHECKING, Any, TextIO

from vbscli import redact
from vbscli.environment import Environment
from vbscli.errors import InputError, VbsError

if TYPE_CHECKING:  # the HTTP client is not imported to print help or an error
    from vbscli.transport import Call


@dataclass(frozen=True)
class Column:
    """A table column. On a narrow terminal a column may be hidden unless it is kept: `keep=True`, or by
    default the first column and a status column (`keep=False` lets even those go)."""

    name: str
    keep: bool | None = None

    def __str__(self) -> str:
        return self.name


@dataclass
class Result:
    """`document` is printed as-is for JSON (and read by -o value); `rows` under `columns` make the table.

    The default columns show one object as (field, value) pairs; a listing passes its own.
    """

    document: Any
    rows: list[tuple[str, ...]]
    columns: tuple[str | Column, ...] = ("Field", "Value")
    title: str | None = None
    picture: Callable[[Environment, bool], None] | None = None
    """Draws the table output itself, given --wide (the backup report's day strips); JSON and values
    still come from `document`."""


class Format(str):
    """An output format (`table`, `json` or `value`) that also carries --field and --wide.

    It is a str, so `fmt == "json"` keeps working wherever a format is passed around.
    """

    fields: tuple[str, ...]
    wide: bool

    def __new__(cls, name: str, fields: tuple[str, ...] = (), wide: bool = False) -> Format:
        fmt = super().__new__(cls, name)
        fmt.fields = tuple(fields)
        fmt.wide = wide
        return fmt


def output_format(requested: str | None, env: Environment, fields: tuple[str, ...] = (), wide: bool = False) -> Format:
    """--field means bare values; else an explicit choice wins; else a table for a terminal and JSON
    for pipes and cron."""
    if fields:
        return Format("value", fields, wide)
    if requested:
        return Format(requested, fields, wide)
    return Format("table" if env.stdout_isatty else "json", fields, wide)


def dumps(document: Any) -> str:
    """`json.dumps(document, indent=2, ensure_ascii=False)`, character for character, in about half
    the time: the standard library indents with chained generators in pure Python (its C encoder
    only writes compact JSON), which made printing a 1,000-disk report cost a tenth of a second."""
    out: list[str] = []
    _indented(document, 0, out)
    return "".join(out)


def _indented(value: Any, level: int, out: list[str]) -> None:
    if isinstance(value, str):
        out.append(encode_basestring(value))
    elif value is None or value is True or value is False:
        out.append("null" if value is None else "true" if value else "false")
    elif isinstance(value, int):
        out.append(int.__repr__(value))
    elif isinstance(value, float):
        out.append(_float(value))
    elif isinstance(value, dict):
        if not value:
            out.append("{}")
            return
        inner = "\n" + "  " * (level + 1)
        out.append("{")
        for n, (key, item) in enumerate(value.items()):
            out.append(inner if n == 0 else "," + inner)
            out.append(encode_basestring(_key(key)))
            out.append(": ")
            _indented(item, level + 1, out)
        out.append("\n" + "  " * level + "}")
    elif isinstance(value, (list, tuple)):
        if not value:
            out.append("[]")
            return
        inner = "\n" + "  " * (level + 1)
        out.append("[")
        for n, item in enumerate(value):
            out.append(inner if n == 0 else "," + inner)
            _indented(item, level + 1, out)
        out.append("\n" + "  " * level + "]")
    else:
        raise TypeError(f"Object of type {value.__class__.__name__} is not JSON serializable")


def _float(value: float) -> str:
    if value != value:
        return "NaN"
    if value in (float("inf"), float("-inf")):
        return "Infinity" if value > 0 else "-Infinity"
    return float.__repr__(value)


def _key(key: Any) -> str:
    """Object keys as json.dumps writes them."""
    if isinstance(key, str):
        return key
    if isinstance(key, float):
        return _float(key)
    if key is None or key is True or key is False:
        return "null" if key is None else "true" if key else "false"
    if isinstance(key, int):
        return int.__repr__(key)
    raise TypeError(f"keys must be str, int, float, bool or None, not {key.__class__.__name__}")


def render(result: Result, fmt: str, env: Environment) -> None:
    if fmt == "json":
        _write(env.stdout, dumps(result.document) + "\n")
    elif fmt == "value":
        _write(env.stdout, values(result.document, getattr(fmt, "fields", ())))
    elif result.picture is not None:
        result.picture(env, getattr(fmt, "wide", False))
    else:
        _table(result, env, wide=getattr(fmt, "wide", False))


def render_request(call: Call, fmt: str, env: Environment) -> None:
    """What --dry-run shows: the request exactly as it would be sent, credentials masked."""
    headers = redact.headers(call.headers)
    body = call.document()
    doc = {"method": call.method, "url": call.url, "headers": headers, "body": body}
    if fmt == "json":
        _write(env.stdout, dumps(doc) + "\n")
        return
    if fmt == "value":
        _write(env.stdout, values(doc, getattr(fmt, "fields", ())))
        return
    lines = [f"{call.method} {call.url}"]
    lines += [f"{name}: {value}" for name, value in headers.items()]
    if body is not None:
        lines += ["", dumps(body)]
    _write(env.stdout, "\n".join(lines) + "\n")


def render_request_lines(calls: list[tuple[dict[str, Any], Call]], fmt: str, env: Environment) -> None:
    """A dry run of many requests: one JSON line each (with the `extra` fields, e.g. the item's line), one
    line of values each (-o value), or text blocks under a comment line naming them."""
    for extra, call in calls:
        headers = redact.headers(call.headers)
        if fmt in ("json", "value"):
            doc = {**extra, "method": call.method, "url": call.url, "headers": headers, "body": call.document()}
            line = json.dumps(doc, ensure_ascii=False) + "\n" if fmt == "json" else values(doc, fmt.fields)
            _write(env.stdout, line)
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
        env.error_line(one_line(error.one_line()))


def one_line(text: str) -> str:
    """Line breaks (and the indentation after them) become single spaces: an error is one line."""
    return re.sub(r"\s*[\r\n]+\s*", " ", text).strip()


# -- -o value -----------------------------------------------------------------------------------


def records(document: Any) -> list[Any]:
    """The objects whose fields -o value prints.

    A document with one key holding an object (`{"backup": {...}}`) or a list of objects
    (`{"backups": [...]}`) gives that object or each element; otherwise, a document with exactly one
    list of objects among its keys gives its elements; otherwise the document itself is the object.
    """
    if isinstance(document, list):
        return document
    if not isinstance(document, dict):
        return [document]
    if len(document) == 1:
        (inner,) = document.values()
        if isinstance(inner, dict):
            return [inner]
        if _objects(inner):
            return inner
    lists = [value for value in document.values() if _objects(value)]
    return lists[0] if len(lists) == 1 else [document]


def _objects(value: Any) -> bool:
    return isinstance(value, list) and all(isinstance(item, dict) for item in value)


def values(document: Any, fields: tuple[str, ...] = ()) -> str:
    """One line per object: the values of `fields` (all fields if none), tab-separated.

    A field no object has is refused, listing the fields there are; with no objects there is nothing
    to print and nothing to check.
    """
    objects = records(document)
    known: dict[str, None] = {}
    for obj in objects:
        if isinstance(obj, dict):
            known.update(dict.fromkeys(obj))
    if objects and known:
        unknown = [name for name in fields if name not in known]
        if unknown:
            raise InputError(
                f"unknown field '{unknown[0]}' for --field (fields of this result: {', '.join(known)})",
                "the command itself ran; only its output was not printed",
            )
    names = list(fields) or list(known)
    lines = []
    for obj in objects:
        if isinstance(obj, dict):
            lines.append("\t".join(_value(obj.get(name)) for name in names))
        else:
            lines.append(_value(obj))
    return "".join(line + "\n" for line in lines)


_ESCAPES = str.maketrans({"\t": "\\t", "\n": "\\n", "\r": "\\r"})


def _value(value: Any) -> str:
    """As a shell script wants it: null is empty, booleans are true/false, objects and lists are
    compact JSON, and tabs or line breaks inside a text are written as \\t, \\n, \\r."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (dict, list)):
        return json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    return str(value).translate(_ESCAPES)


def _write(stream: TextIO, text: str) -> None:
    stream.write(text)
    stream.flush()


# -- tables -------------------------------------------------------------------------------------

WHOLE = re.compile(r"[0-9a-fA-F]{8}(-[0-9a-fA-F]{4}){3}-[0-9a-fA-F]{12}|[0-9a-fA-F]{32}|-?\d+(\.\d+)?")
"""Values never cut on a terminal: IDs (UUIDs, 32-hex project IDs) and numbers."""
STATUS_COLUMNS = ("Status", "Result", "State")
"""Columns whose values are never cut and that are never hidden."""
MIN_TEXT = 10
"""A text column is not shortened below this many characters."""
GAP = 2
"""Characters between two columns of a listing on a terminal."""


def console_for(env: Environment, wide: bool = False) -> Any:
    """The rich console every table is drawn on: stdout, in colour on a terminal (unless NO_COLOR), as
    wide as the terminal (unless --wide); off a terminal there is no width to respect, so nothing (an
    ID, a URL) is ever wrapped or cut."""
    from rich.console import Console

    terminal = env.stdout_isatty
    colour = terminal and not env.no_color
    return Console(
        file=env.stdout,
        force_terminal=terminal,
        no_color=not colour,
        color_system="auto" if colour else None,
        width=None if terminal and not wide else 100_000,
        highlight=False,
        emoji=False,
        markup=False,
    )


def _table(result: Result, env: Environment, wide: bool = False) -> None:
    terminal = env.stdout_isatty
    console = console_for(env, wide)
    bold = "bold" if terminal and not env.no_color else None
    rows = [tuple("" if cell is None else str(cell) for cell in row) for row in result.rows]
    columns = [c if isinstance(c, Column) else Column(str(c)) for c in result.columns]
    if not terminal or tuple(c.name for c in columns) == ("Field", "Value"):
        console.print(_boxed(result.title, columns, rows, bold))
        return
    # A listing on a terminal is drawn as gh draws one: no frame, and fitted to the terminal's width.
    fit = Fit(columns, rows, None if wide else console.width)
    console.width = max(console.width, fit.total)
    console.print(_listing(result.title, fit, bold))
    done = ", ".join(
        f"{_names(names)} {what}" for names, what in ((fit.hidden, "hidden"), (fit.shortened, "shortened")) if names
    )
    if done:
        env.stderr.write(f"vbs: {done} to fit {fit.width} columns; --wide or -o json shows everything\n")
        env.stderr.flush()


def _names(names: list[str]) -> str:
    return names[0] if len(names) == 1 else f"{', '.join(names[:-1])} and {names[-1]}"


def _boxed(title: str | None, columns: list[Column], rows: list[tuple[str, ...]], bold: str | None) -> Any:
    from rich.table import Table

    table = Table(title=title, show_header=True, header_style=bold)
    for index, column in enumerate(columns):
        # The first column holds short labels or names; every other column may hold long IDs and
        # URLs, which fold onto the next line on a narrow terminal rather than being cut.
        table.add_column(column.name, no_wrap=index == 0, overflow="fold", style=bold if index == 0 else None)
    for row in rows:
        table.add_row(*row)
    return table


def _listing(title: str | None, fit: Fit, bold: str | None) -> Any:
    from rich import box
    from rich.table import Table

    table = Table(
        title=title, box=box.SIMPLE_HEAD, show_edge=False, pad_edge=False, padding=(0, 1, 0, 0), header_style=bold
    )
    for index in fit.visible:
        table.add_column(fit.columns[index].name, no_wrap=True, overflow="ellipsis", width=fit.widths[index])
    for row in fit.rows:
        table.add_row(*(shorten(row[index] if index < len(row) else "", fit.widths[index]) for index in fit.visible))
    return table


ID_IN_TEXT = re.compile(r"[0-9a-fA-F]{8}(-[0-9a-fA-F]{4}){3}-[0-9a-fA-F]{12}|\b[0-9a-fA-F]{32}\b")


def shorten(text: str, width: int) -> str:
    """`text` cut to `width` characters with an ellipsis, but never inside an ID it quotes (`backup
    4cea6661-…` would name no backup): the cut then falls before the ID."""
    if len(text) <= width or len(text.encode()) != len(text):  # rich cuts what is not plain ASCII
        return text
    cut = width - 1
    for match in ID_IN_TEXT.finditer(text):
        if match.start() < cut < match.end():
            cut = match.start()
            break
    return text[:cut].rstrip() + "…"


class Fit:
    """Which columns of a listing a terminal of `width` characters shows, and how wide.

    IDs, numbers and statuses are never cut. While the table is too wide, the rightmost column that
    is not kept is hidden, except the last column of text still shown, which is shortened instead
    (with an ellipsis, never below MIN_TEXT characters); a column hidden on the way that fits again
    once others are gone comes back. If the shortened table is still too wide, the remaining columns
    not kept go too; past that nothing is cut and the terminal wraps the lines. `width=None` (--wide)
    shows everything in full.
    """

    def __init__(self, columns: list[Column], rows: list[tuple[str, ...]], width: int | None) -> None:
        from rich.cells import cell_len

        self.columns, self.rows = columns, rows
        count = len(columns)
        cells = [[row[i] if i < len(row) else "" for row in rows] for i in range(count)]
        status = [c.name in STATUS_COLUMNS for c in columns]
        keep = [(i == 0 or status[i]) if c.keep is None else c.keep for i, c in enumerate(columns)]
        natural = [max([cell_len(columns[i].name)] + [cell_len(v) for v in cells[i]]) for i in range(count)]
        cuttable = [False] * count
        floor = list(natural)
        for i in range(count):
            whole = [cell_len(v) for v in cells[i] if status[i] or WHOLE.fullmatch(v)]
            cuttable[i] = len(whole) < len(cells[i])
            if cuttable[i]:
                floor[i] = max([*whole, min(natural[i], MIN_TEXT)])
        self.width = width or 0
        self.visible = list(range(count))
        self.widths = dict(enumerate(natural))
        self.hidden: list[str] = []
        self.shortened: list[str] = []
        if width is None:
            return
        # Hide the rightmost column not kept, but shorten the last column of text rather than hide it (the
        # first column names the rows: it is not that text)...
        while self.total > width and self._hide([i for i in self.visible if cuttable[i] and i > 0], keep, True):
            pass
        for index in [i for i in range(count) if i not in self.visible]:  # hidden too many? take back
            self.visible = sorted([*self.visible, index])
            if self.total > width:
                self.visible.remove(index)
        self.hidden = [columns[i].name for i in range(count) if i not in self.visible]
        while self.total > width:
            room = [i for i in self.visible if self.widths[i] > floor[i]]
            if not room:
                break
            widest = max(room, key=lambda i: (self.widths[i] - floor[i], -i))
            self.widths[widest] -= 1
        # ... unless even shortened it does not fit.
        while self.total > width and self._hide([], keep, False):
            pass
        self.shortened = [columns[i].name for i in self.visible if self.widths[i] < natural[i]]

    def _hide(self, texts: list[int], keep: list[bool], spare_last_text: bool) -> bool:
        candidates = [i for i in self.visible if not keep[i] and not (spare_last_text and texts == [i])]
        if not candidates:
            return False
        self.visible.remove(candidates[-1])
        self.hidden = [c.name for i, c in enumerate(self.columns) if i not in self.visible]
        return True

    @property
    def total(self) -> int:
        return sum(self.widths[i] for i in self.visible) + GAP * max(len(self.visible) - 1, 0)

"""Profiles as `vbs profile` shows them: the listing, a profile's settings with where each came from,
and what `add` and `test` did.

Part of the rendering layer: each function hands a `Result` to `vbscli.render`; JSON and values come
from the document unchanged. `profile show` draws its own table, one setting per line with its origin
under the value, so that on an 80-column terminal no column has to go: where a value came from is
what the command is for.
"""

from __future__ import annotations

from typing import Any

from vbscli.environment import Environment
from vbscli.render import Result, console_for


def text(value: Any) -> str:
    """A value as a person reads it: empty for none, true/false, and 120 rather than 120.0."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def flatten(node: dict[str, Any], prefix: str = "") -> list[tuple[str, str]]:
    """(dotted key, value) rows of a nested document: `auth.type`, `auth.token`, ..."""
    rows: list[tuple[str, str]] = []
    for key, value in node.items():
        if isinstance(value, dict):
            rows += flatten(value, f"{prefix}{key}.")
        else:
            rows.append((f"{prefix}{key}", text(value)))
    return rows


def listing(entries: list[dict[str, Any]]) -> Result:
    """`profile list`: `{"profiles": [...]}`, one row per profile, cloud (or the environment)."""
    rows = [
        (
            "*" if e["default"] else "",
            e["name"] or "",
            e["source"],
            e.get("endpoint") or ("" if e.get("problem") else "(at login)"),
            e.get("endpoint_from") or "",
            e.get("auth_type") or (e.get("problem") or ""),
        )
        for e in entries
    ]
    return Result({"profiles": entries}, rows, columns=("Default", "Name", "Source", "Endpoint", "From", "Auth type"))


def settings(doc: dict[str, Any], values: dict[str, Any], origins: dict[str, str]) -> Result:
    """`profile show`: `{"profile": doc}`; as a table, each setting with its value and, under the value,
    where it came from."""
    rows = [("name", doc["name"] or "", ""), ("cloud", doc["cloud"] or "", "")]
    rows += [("source", doc["source"], ""), ("default", "yes" if doc["default"] else "no", "")]
    rows += [(key, text(value), origins.get(key, "")) for key, value in values.items() if key != "auth"]
    rows += [(f"auth.{key}", text(value), origins.get(f"auth.{key}", "")) for key, value in values["auth"].items()]
    rows = [row for row in rows if row[1] or row[2]]
    return Result(
        {"profile": doc},
        rows,
        columns=("Setting", "Value", "From"),
        picture=lambda env, wide: _draw_settings(rows, env, wide),
    )


def _draw_settings(rows: list[tuple[str, str, str]], env: Environment, wide: bool) -> None:
    """Two columns: the setting, and its value with `from ORIGIN` on the line under it. On a terminal
    the value column wraps (at spaces, or inside a long path) rather than cutting anything."""
    from rich import box
    from rich.table import Table
    from rich.text import Text

    colour = env.stdout_isatty and not env.no_color
    console = console_for(env, wide)
    bold = "bold" if colour else None
    table = Table(box=box.SIMPLE_HEAD, show_edge=False, pad_edge=False, padding=(0, 2, 0, 0), header_style=bold)
    table.add_column("Setting", no_wrap=True, style=bold)
    table.add_column("Value (and where it came from)", overflow="fold")
    for name, value, origin in rows:
        cell = Text(value)
        if origin:
            cell.append(("\n" if value else "") + f"from {origin}", style="dim" if colour else "")
        table.add_row(name, cell)
    console.print(table)


def added(name: str, path: str, default: bool, profile: dict[str, Any]) -> Result:
    """`profile add`: the profile as written (secrets masked: `profile` is masked already)."""
    doc = {"name": name, "file": path, "default": default, **profile}
    rows = [("name", name), ("file", path), ("default", "yes" if default else "no")]
    return Result({"profile": doc}, rows + flatten(profile))


def tested(doc: dict[str, Any]) -> Result:
    """`profile test`: which credentials worked where, and how long the call took."""
    return Result(doc, [(key, text(value)) for key, value in doc.items() if value is not None])

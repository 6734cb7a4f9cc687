"""Profiles as `vbs profile` shows them: the listing, a profile's settings with where each came from,
and what `add` and `test` did.

Part of the rendering layer: each function hands a `Result` to `vbscli.render`; JSON and values come
from the document unchanged.
"""

from __future__ import annotations

from typing import Any

from vbscli.render import Result


def text(value: Any) -> str:
    """A value as a person reads it: empty for none, true/false."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return str(value).lower()
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
    """`profile show`: `{"profile": doc}`; as a table, each setting with its value and where it came from."""
    rows = [("name", doc["name"] or "", ""), ("cloud", doc["cloud"] or "", "")]
    rows += [("source", doc["source"], ""), ("default", "yes" if doc["default"] else "no", "")]
    rows += [(key, text(value), origins.get(key, "")) for key, value in values.items() if key != "auth"]
    rows += [(f"auth.{key}", text(value), origins.get(f"auth.{key}", "")) for key, value in values["auth"].items()]
    rows = [row for row in rows if row[1] or row[2]]
    return Result({"profile": doc}, rows, columns=("Setting", "Value", "From"))


def added(name: str, path: str, default: bool, profile: dict[str, Any]) -> Result:
    """`profile add`: the profile as written (secrets masked: `profile` is masked already)."""
    doc = {"name": name, "file": path, "default": default, **profile}
    rows = [("name", name), ("file", path), ("default", "yes" if default else "no")]
    return Result({"profile": doc}, rows + flatten(profile))


def tested(doc: dict[str, Any]) -> Result:
    """`profile test`: which credentials worked where, and how long the call took."""
    return Result(doc, [(key, text(value)) for key, value in doc.items() if value is not None])

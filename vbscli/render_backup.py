"""Backups, disks and per-item errors as the tables of `vbs backup ...` show them.

Part of the rendering layer: rows for `vbscli.render`'s tables (JSON and values show the service's
documents unchanged).
"""

from __future__ import annotations

from typing import Any

DETAIL = (
    ("ID", "id"),
    ("Name", "name"),
    ("Status", "status"),
    ("Fail reason", "fail_reason"),
    ("Volume ID", "volume_id"),
    ("Snapshot ID", "snapshot_id"),
    ("Size (GB)", "size"),
    ("Incremental", "is_incremental"),
    ("Description", "description"),
    ("Availability zone", "availability_zone"),
    ("Created", "created_at"),
    ("Updated", "updated_at"),
)
"""The fields of a backup's detail worth a line in a table, in a reading order."""
VOLUME = (
    ("ID", "id"),
    ("Name", "name"),
    ("Status", "status"),
    ("Size (GB)", "size"),
    ("Availability zone", "availability_zone"),
)


def link(backup: dict[str, Any], rel: str) -> str | None:
    """The href of the link with relation `rel`, if the answer has one."""
    for item in backup.get("links") or []:
        if isinstance(item, dict) and item.get("rel") == rel:
            href = item.get("href")
            return href if isinstance(href, str) else None
    return None


def detail_rows(backup: dict[str, Any]) -> list[tuple[str, str]]:
    """A backup's detail (`backup show`, and what `--wait` waited for)."""
    rows = []
    for label, key in DETAIL:
        value = backup.get(key)
        if value is None and key in ("fail_reason", "description"):
            continue
        rows.append((label, "" if value is None else str(value).lower() if isinstance(value, bool) else str(value)))
    for rel, label in (("self", "Self link"), ("bookmark", "Bookmark link")):
        href = link(backup, rel)
        if href:
            rows.append((label, href))
    return rows


def created_rows(backup: dict[str, Any]) -> list[tuple[str, str]]:
    """The create answer (id, name and links: the service says no more until the backup is read)."""
    return [
        ("ID", backup["id"]),
        ("Name", "" if backup.get("name") is None else str(backup.get("name"))),
        ("Self link", link(backup, "self") or ""),
        ("Bookmark link", link(backup, "bookmark") or ""),
    ]


def volume_rows(volume: dict[str, Any]) -> list[tuple[str, str]]:
    """A disk's detail (a restore waited for)."""
    return [(label, "" if volume.get(key) is None else str(volume.get(key))) for label, key in VOLUME]


def error_text(error: dict[str, Any]) -> str:
    """One line from a JSON error object of a bulk command's item, as vbs words a service error."""
    text = str(error.get("message") or "")
    if error.get("status"):
        text = f"HTTP {error['status']}" + (f" {error['code']}" if error.get("code") else "") + f": {text}"
    if error.get("request_id"):
        text += f" (request id {error['request_id']})"
    return text

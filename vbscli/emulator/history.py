"""A backup history for the emulator's seed: backups made before it started, so a report has days to show.

Two seed sections, both optional:

    backups:                       # explicit backups
      - {volume_id: ..., created_at: "2026-11-20T02:30:00Z", status: available, size: 40, name: before-upgrade}
      - {volume_id: ..., ago: 30h, status: error}         # 30 hours before the emulator started
    history:                       # one backup a day per disk, drawn as the report draws it
      - {volume_id: ..., strip: "######x####.##", ago: 3h}

In a `strip`, each character is a day, oldest first, the last one the newest: `#` an available
backup, `x` a failed one (`error`), `.` none. The newest day's backup was made `ago` (default 2h)
before the emulator started, each earlier one a day before the next. Times are relative, so a seed
file keeps showing the same picture whenever it is used.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any

STATUSES = ("available", "error", "creating")
"""The states a seeded backup can be in (restoring and deleting need a running service)."""
STRIP = {"#": "available", "x": "error", ".": None}
BACKUP_KEYS = ("volume_id", "created_at", "ago", "status", "size", "name")
HISTORY_KEYS = ("volume_id", "strip", "ago", "size", "name")
UUID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")
NAMESPACE = uuid.UUID("1b9a3c52-77d4-4a8e-9e4b-5f0c2d6e8a10")


@dataclass(frozen=True)
class SeededBackup:
    """One backup of the seed: at a fixed time (`created_at`) or `ago` seconds before the start."""

    volume_id: str
    status: str = "available"
    created_at: datetime | None = None
    ago: float | None = None
    size: int | None = None
    name: str | None = None
    dated: bool = False
    """The name is a prefix: the backup's date and time are added, as a nightly job would."""

    def named(self, moment: datetime) -> str | None:
        if self.name is None or not self.dated:
            return self.name
        return f"{self.name}-{moment.astimezone(timezone.utc):%Y%m%d-%H%M}"

    def when(self, start: datetime) -> datetime:
        if self.created_at is not None:
            return self.created_at
        return start - timedelta(seconds=self.ago or 0.0)


def parse(doc: dict[str, Any], volumes: set[str], fail: Callable[..., Exception]) -> list[SeededBackup]:
    """The `backups` and `history` sections of a seed document; `fail(problem, near)` makes the error."""
    seeded: list[SeededBackup] = []

    def entries(key: str) -> list[dict[str, Any]]:
        value = doc.get(key) or []
        if not isinstance(value, list) or not all(isinstance(e, dict) for e in value):
            raise fail(f"'{key}' must be a list of mappings", doc)
        return value

    def volume_of(entry: dict[str, Any], what: str) -> str:
        value = entry.get("volume_id")
        if not isinstance(value, str) or not UUID.fullmatch(value):
            raise fail(f"{what}: 'volume_id' must be a UUID, not {value!r}", entry)
        if value.lower() not in volumes:
            raise fail(f"{what}: volume_id {value} is not one of the seed's volumes", entry)
        return value.lower()

    def ago_of(entry: dict[str, Any], what: str, default: str | None) -> float | None:
        value = entry.get("ago", default)
        if value is None:
            return None
        try:
            return _seconds(value)
        except ValueError:
            raise fail(f"{what}: 'ago' must be a duration such as 3h, 90m or 2d, not {value!r}", entry) from None

    def size_of(entry: dict[str, Any], what: str) -> int | None:
        size = entry.get("size")
        if size is not None and (isinstance(size, bool) or not isinstance(size, int) or size < 1):
            raise fail(f"{what}: 'size' must be a whole number of GB, at least 1, not {size!r}", entry)
        return size

    def name_of(entry: dict[str, Any], what: str) -> str | None:
        name = entry.get("name")
        if name is not None and (not isinstance(name, str) or not name):
            raise fail(f"{what}: 'name' must be a non-empty string", entry)
        return name

    for n, entry in enumerate(entries("backups"), start=1):
        what = f"backup {n}"
        _known(entry, BACKUP_KEYS, what, fail)
        volume_id = volume_of(entry, what)
        status = entry.get("status", "available")
        if status not in STATUSES:
            raise fail(f"{what}: 'status' must be one of {', '.join(STATUSES)}, not {status!r}", entry)
        created_at = entry.get("created_at")
        if created_at is not None:
            created_at = _moment(created_at)
            if created_at is None:
                raise fail(f"{what}: 'created_at' must be an ISO 8601 time such as 2026-11-20T02:30:00Z", entry)
        ago = ago_of(entry, what, None)
        if (created_at is None) == (ago is None):
            raise fail(f"{what}: give either 'created_at' or 'ago'", entry)
        seeded.append(SeededBackup(volume_id, status, created_at, ago, size_of(entry, what), name_of(entry, what)))

    for n, entry in enumerate(entries("history"), start=1):
        what = f"history {n}"
        _known(entry, HISTORY_KEYS, what, fail)
        volume_id = volume_of(entry, what)
        strip = entry.get("strip")
        if not isinstance(strip, str) or not strip or any(c not in STRIP for c in strip):
            raise fail(f"{what}: 'strip' must be a string of '#' (available), 'x' (error) and '.' (none)", entry)
        newest = ago_of(entry, what, "2h") or 0.0
        size, prefix = size_of(entry, what), name_of(entry, what) or "nightly"
        for days_before, cell in enumerate(reversed(strip)):
            status = STRIP[cell]
            if status is not None:
                ago = newest + days_before * 86400
                seeded.append(SeededBackup(volume_id, status, None, ago, size, prefix, dated=True))
    return seeded


def _known(entry: dict[str, Any], keys: tuple[str, ...], what: str, fail: Callable[..., Exception]) -> None:
    unknown = [str(k) for k in entry if k not in keys]
    if unknown:
        raise fail(f"{what}: unknown key {unknown[0]!r} (known: {', '.join(keys)})", entry)


def _seconds(value: Any) -> float:
    from vbscli.errors import InputError
    from vbscli.validate import parse_duration

    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return float(value)
    try:
        return parse_duration(str(value), "ago")
    except InputError:
        raise ValueError(value) from None


def _moment(value: Any) -> datetime | None:
    if isinstance(value, datetime):  # YAML reads an unquoted timestamp itself
        return value if value.tzinfo else value.replace(tzinfo=timezone.utc)
    from vbscli.clock import parse_time

    return parse_time(value)


def backup_id(volume_id: str, index: int) -> str:
    """Stable IDs: the same seed gives the same backups on every start."""
    return str(uuid.uuid5(NAMESPACE, f"{volume_id}/{index}"))

"""The backup report's facts: per disk, a strip of days, the age of the newest available backup,
counts and sizes by status, and an order with the disks most at risk first.

Pure: no HTTP and no terminal, so every edge (midnight, time zones, the --max-age boundary) is a
plain function call in a test. Times are aware datetimes; a day of the strip is a calendar day in
`tz` (UTC unless the user asks for local time, `tz=None`).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone, tzinfo
from typing import Any

from vbscli.clock import parse_time
from vbscli.validate import STATUSES

AVAILABLE = "available"
"""A day with at least one usable backup (see USABLE)."""
FAILED = "failed"
"""A day with failed backups (`error`, `error_restoring`, ...) and none usable."""
NONE = "none"
"""A day without backups, or only with backups still being made or being deleted."""
USABLE = ("available", "restoring")
"""Statuses of a whole backup one can restore from: a backup being restored from is `restoring`
and goes back to `available` when the restore ends, so a restore does not make a disk look stale."""


def is_failed(status: str) -> bool:
    """`error`, and `error_restoring` or `error_deleting` where a service uses them."""
    return status.startswith("error")


@dataclass(frozen=True, slots=True)
class Backup:
    """What the report keeps of one backup: a few fields instead of the service's whole object."""

    id: str
    volume_id: str
    status: str
    size: int
    created_at: datetime | None

    @classmethod
    def from_service(cls, obj: Mapping[str, Any]) -> Backup:
        size = obj.get("size")
        return cls(
            id=str(obj.get("id") or ""),
            volume_id=str(obj.get("volume_id") or "").lower(),
            status=str(obj.get("status") or "unknown"),
            size=size if isinstance(size, int) and not isinstance(size, bool) and size > 0 else 0,
            created_at=parse_time(obj.get("created_at")),
        )


def iso(moment: datetime) -> str:
    """UTC, to the second, with a Z: unambiguous for any program reading the JSON."""
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass(frozen=True)
class Day:
    date: date
    state: str
    backups: int

    def as_dict(self) -> dict[str, Any]:
        return {"date": self.date.isoformat(), "state": self.state, "backups": self.backups}


@dataclass
class Disk:
    """One row of the report."""

    volume_id: str
    name: str | None
    newest: Backup | None
    """The newest usable backup (`available` or `restoring`), if any."""
    age_seconds: float | None
    counts: dict[str, int]
    sizes: dict[str, int]
    days: list[Day]
    stale: bool | None = None
    """With a maximum age: whether the newest available backup is that old or older (or missing)."""

    @property
    def total(self) -> int:
        return sum(self.counts.values())

    @property
    def total_size(self) -> int:
        return sum(self.sizes.values())

    @property
    def label(self) -> str:
        return self.name or self.volume_id

    def as_dict(self) -> dict[str, Any]:
        """The disk's object in the JSON document (flat fields first, for `-o value -f FIELD`)."""
        return {
            "volume_id": self.volume_id,
            "volume_name": self.name,
            "newest_available_backup_id": self.newest.id if self.newest else None,
            "newest_available_created_at": iso(self.newest.created_at)
            if self.newest and self.newest.created_at
            else None,
            "age_seconds": None if self.age_seconds is None else int(self.age_seconds),
            "stale": self.stale,
            "backups": self.total,
            "size_gb": self.total_size,
            "backups_by_status": dict(self.counts),
            "size_gb_by_status": dict(self.sizes),
            "days": [day.as_dict() for day in self.days],
        }


@dataclass
class Report:
    """The disks, most at risk first, and what they were measured against."""

    disks: list[Disk]
    now: datetime
    days: int
    tz: tzinfo | None = timezone.utc
    max_age: float | None = None
    last_day: date = field(init=False)

    def __post_init__(self) -> None:
        self.last_day = local_date(self.now, self.tz)

    @property
    def stale(self) -> list[Disk]:
        return [disk for disk in self.disks if disk.stale]

    def document(self) -> dict[str, Any]:
        """`{"volumes": [...]}`: one top-level key holding one object per disk."""
        return {"volumes": [disk.as_dict() for disk in self.disks]}


def local_date(moment: datetime, tz: tzinfo | None) -> date:
    """The calendar day of `moment` in `tz` (None: this machine's zone, daylight saving included)."""
    return moment.astimezone(tz).date()


def day_strip(backups: Iterable[Backup], last_day: date, days: int, tz: tzinfo | None) -> list[Day]:
    """One cell per calendar day, oldest first, ending with `last_day` (today)."""
    first = last_day - timedelta(days=days - 1)
    by_day: dict[date, list[str]] = {}
    for backup in backups:
        if backup.created_at is None:
            continue
        # A backup stamped after today (the service's clock is ahead) counts for today.
        day = min(local_date(backup.created_at, tz), last_day)
        if day >= first:
            by_day.setdefault(day, []).append(backup.status)
    strip = []
    for n in range(days):
        day = first + timedelta(days=n)
        statuses = by_day.get(day, [])
        strip.append(Day(day, day_state(statuses), len(statuses)))
    return strip


def day_state(statuses: list[str]) -> str:
    if any(status in USABLE for status in statuses):
        return AVAILABLE
    if any(is_failed(status) for status in statuses):
        return FAILED
    return NONE


def newest_available(backups: Iterable[Backup]) -> Backup | None:
    """The newest usable backup (`available`, or `restoring`: see USABLE)."""
    usable = [b for b in backups if b.status in USABLE and b.created_at is not None]
    return max(usable, key=lambda b: (b.created_at, b.id), default=None)


def is_stale(age_seconds: float | None, max_age: float) -> bool:
    """Stale unless the newest available backup is strictly younger than `max_age`."""
    return age_seconds is None or age_seconds >= max_age


def build(
    backups: Iterable[Backup],
    now: datetime,
    days: int = 14,
    tz: tzinfo | None = timezone.utc,
    volume_ids: Iterable[str] | None = None,
    names: Mapping[str, str] | None = None,
    max_age: float | None = None,
) -> Report:
    """The report over the disks that have backups, or exactly over `volume_ids` when given
    (a named disk without any backup is reported as never backed up)."""
    if days < 1:
        raise ValueError("days must be at least 1")
    names = names or {}
    by_volume: dict[str, list[Backup]] = {}
    for backup in backups:
        by_volume.setdefault(backup.volume_id, []).append(backup)
    wanted = list(dict.fromkeys(v.lower() for v in volume_ids)) if volume_ids is not None else list(by_volume)
    last_day = local_date(now, tz)
    disks = []
    for volume_id in wanted:
        own = by_volume.get(volume_id, [])
        newest = newest_available(own)
        age = None
        if newest is not None and newest.created_at is not None:
            age = max(0.0, (now - newest.created_at).total_seconds())
        counts = dict.fromkeys(STATUSES, 0)
        sizes = dict.fromkeys(STATUSES, 0)
        for backup in own:
            counts[backup.status] = counts.get(backup.status, 0) + 1
            sizes[backup.status] = sizes.get(backup.status, 0) + backup.size
        disks.append(
            Disk(
                volume_id=volume_id,
                name=names.get(volume_id) or None,
                newest=newest,
                age_seconds=age,
                counts=counts,
                sizes=sizes,
                days=day_strip(own, last_day, days, tz),
                stale=None if max_age is None else is_stale(age, max_age),
            )
        )
    disks.sort(key=risk)
    return Report(disks, now, days, tz, max_age)


def risk(disk: Disk) -> tuple[Any, ...]:
    """Sort key, most at risk first: never backed up (no backup at all), then backups but none
    usable (only failed ones, or ones being made or deleted), then the oldest newest usable backup;
    within each, more failed days in the strip first, then by name, then ID, so the order is stable."""
    failed_days = sum(1 for day in disk.days if day.state == FAILED)
    if disk.total == 0:
        tier, age = 0, 0.0
    elif disk.age_seconds is None:
        tier, age = 1, 0.0
    else:
        tier, age = 2, -disk.age_seconds
    return (tier, age, -failed_days, disk.label.lower(), disk.volume_id)


def format_age(seconds: float | None) -> str:
    """A person's reading of an age: '45s', '12m', '3h 12m', '2d 4h', or 'never'."""
    if seconds is None:
        return "never"
    whole = int(seconds)
    if whole < 60:
        return f"{whole}s"
    minutes = whole // 60
    if minutes < 60:
        return f"{minutes}m"
    hours, minutes = divmod(minutes, 60)
    if hours < 24:
        return f"{hours}h {minutes}m" if minutes else f"{hours}h"
    days, hours = divmod(hours, 24)
    return f"{days}d {hours}h" if hours else f"{days}d"


def format_limit(seconds: float) -> str:
    """A limit as it was likely typed: '26h', '90m', '2d', '45s'."""
    whole = int(seconds)
    if whole != seconds:
        return f"{seconds:g}s"
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if whole and whole % size == 0:
            return f"{whole // size}{unit}"
    return f"{whole}s"

"""A project with a backup history for the report's tests, with every backup's time known to the test."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any

FRESH = "5c1a9f0e-2b3d-4e5f-8a9b-0c1d2e3fa001"
FAILING = "5c1a9f0e-2b3d-4e5f-8a9b-0c1d2e3fa002"
GAPPY = "5c1a9f0e-2b3d-4e5f-8a9b-0c1d2e3fa003"
NEVER = "5c1a9f0e-2b3d-4e5f-8a9b-0c1d2e3fa004"
ODD = "5c1a9f0e-2b3d-4e5f-8a9b-0c1d2e3fa005"
UNNAMED = "5c1a9f0e-2b3d-4e5f-8a9b-0c1d2e3fa006"
UNPROTECTED = "5c1a9f0e-2b3d-4e5f-8a9b-0c1d2e3fa007"
NAMES = {
    FRESH: "db01-data",
    FAILING: "web01-root",
    GAPPY: "files-archive",
    NEVER: "build-cache",
    ODD: 'odd "quoted" \\ name',
    UNPROTECTED: "new-disk",
}
WITH_BACKUPS = [FRESH, FAILING, GAPPY, NEVER, ODD, UNNAMED]


@dataclass(frozen=True)
class Made:
    volume_id: str
    status: str
    created_at: datetime
    size: int


def history(now: datetime) -> list[Made]:
    """Backups at noon UTC of past days (so the day each belongs to is certain), and one 2 h ago."""
    now = now.replace(microsecond=0)

    def noon(days_ago: int) -> datetime:
        day = (now - timedelta(days=days_ago)).date()
        return datetime(day.year, day.month, day.day, 12, tzinfo=timezone.utc)

    made = [Made(FRESH, "available", noon(k), 100) for k in range(1, 21)]
    made.append(Made(FRESH, "available", now - timedelta(hours=2), 100))
    made += [Made(FAILING, "error" if k <= 3 else "available", noon(k), 40) for k in range(1, 21)]
    made += [Made(GAPPY, "available", noon(k), 500) for k in (7, 14)]
    made += [Made(NEVER, "error", noon(k), 50) for k in range(1, 6)]
    made += [Made(ODD, "available", noon(k), 10) for k in (1, 2)]
    made.append(Made(UNNAMED, "available", noon(2), 10))
    return made


def seed_document(now: datetime) -> tuple[dict[str, Any], list[Made]]:
    made = history(now)
    doc = {
        "project_id": "0123456789abcdef0123456789abcdef",
        "tokens": ["demo-token"],
        "volumes": [{"id": v, **({"name": NAMES[v]} if v in NAMES else {})} for v in [*WITH_BACKUPS, UNPROTECTED]],
        "backups": [
            {
                "volume_id": m.volume_id,
                "status": m.status,
                "created_at": m.created_at.strftime("%Y-%m-%dT%H:%M:%SZ"),
                "size": m.size,
            }
            for m in made
        ],
    }
    return doc, made


def expected_state(made: list[Made], volume_id: str, day: str) -> str:
    """The rule, stated plainly: a day is available if any backup of it is, failed if any failed."""
    statuses = {m.status for m in made if m.volume_id == volume_id and m.created_at.date().isoformat() == day}
    return "available" if "available" in statuses else "failed" if "error" in statuses else "none"

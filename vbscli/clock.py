"""Wall-clock time in UTC (one function, so that tests of expiry and signatures can replace it), and
the service's timestamps read as such."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timezone
from typing import Any

Clock = Callable[[], datetime]


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


def parse_time(value: Any) -> datetime | None:
    """A service timestamp (ISO 8601, usually without a zone: UTC is meant) as an aware datetime, or
    None when there is none or it cannot be read."""
    if not isinstance(value, str):
        return None
    try:
        parsed = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=timezone.utc)

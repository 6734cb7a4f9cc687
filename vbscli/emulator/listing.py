"""Listings as the service pages them: `limit` (cut to the largest page the service gives) and
`marker` (the last item of the page before), a `next` link while more follow, and the index that
keeps paging through a large history cheap.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any, TypeVar
from urllib.parse import urlencode

T = TypeVar("T")


def limit_of(query: Mapping[str, str], largest: int) -> int | None:
    """The page size asked for (default and at most `largest`, as Cinder's osapi_max_limit cuts bigger
    pages); None when `limit` is not a non-negative integer."""
    try:
        limit = int(query["limit"]) if "limit" in query else largest
    except ValueError:
        return None
    return min(limit, largest) if limit >= 0 else None


def after_marker(
    items: list[T], marker: str, id_of: Callable[[T], str], position: Mapping[str, int] | None = None
) -> list[T] | None:
    """The items after the one whose id is `marker` (all with no marker); None when no item has it.
    `position` (id -> index in `items`) spares a scan of a long listing."""
    if not marker:
        return items
    if position is None:
        position = {id_of(item): n for n, item in enumerate(items)}
    if marker not in position:
        return None
    return items[position[marker] + 1 :]


def next_links(query: Mapping[str, str], base: str, path: str, limit: int, last_id: str) -> list[dict[str, str]]:
    """The `next` link of a page that has more after it: the same query, from `last_id` on."""
    params = {k: v for k, v in query.items() if k != "marker"}
    params.update({"limit": str(limit), "marker": last_id})
    return [{"href": f"{base}{path}?{urlencode(params)}", "rel": "next"}]


class Held(dict):  # type: ignore[type-arg]
    """The backups by ID, counting every change, so a listing knows when its index is out of date
    without comparing 10,000 entries for every page."""

    changes = 0

    def __setitem__(self, key: Any, value: Any) -> None:
        super().__setitem__(key, value)
        self.changes += 1

    def __delitem__(self, key: Any) -> None:
        super().__delitem__(key)
        self.changes += 1

    def clear(self) -> None:
        super().clear()
        self.changes += 1

    def pop(self, *args: Any) -> Any:
        self.changes += 1
        return super().pop(*args)

    def popitem(self) -> Any:
        self.changes += 1
        return super().popitem()

    def setdefault(self, key: Any, default: Any = None) -> Any:
        self.changes += 1
        return super().setdefault(key, default)

    def update(self, *args: Any, **kwargs: Any) -> None:
        super().update(*args, **kwargs)
        self.changes += 1

    def __ior__(self, other: Any) -> Held:
        self.update(other)
        return self


@dataclass(frozen=True)
class ListingIndex:
    """The backups (vbscli.emulator.state.Backup) as listings read them: newest first, each one's place,
    each disk's own."""

    newest_first: list[Any]
    position: dict[str, int]
    by_volume: dict[str, list[Any]]

    @classmethod
    def of(cls, backups: Iterable[Any]) -> ListingIndex:
        newest_first = sorted(backups, key=lambda b: (b.created_at, b.id), reverse=True)
        by_volume: dict[str, list[Any]] = {}
        for backup in newest_first:
            by_volume.setdefault(backup.volume_id, []).append(backup)
        return cls(newest_first, {b.id: n for n, b in enumerate(newest_first)}, by_volume)

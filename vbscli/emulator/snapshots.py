"""Snapshots in the emulator, by upstream Cinder's rules: `creating`, then `available` (or `error`),
`backing-up` while a backup reads from one, `deleting` on the way out; none can be deleted while the
service works on it. A full quota answers 413 `overLimit`. Creating and deleting take `create_delay`
seconds of the injected clock.

A part of the cycle's store (vbscli.emulator.cycle.CycleStore): it uses the store's lock, clocks,
backups and disks, and its `settled()`.
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from vbscli.emulator.answers import Answer, invalid, not_found, over_quota, service_time
from vbscli.emulator.listing import after_marker, limit_of, next_links
from vbscli.emulator.seed import UUID, Seed, Snapshot, Volume

NAME_MAX = 255


@dataclass
class MadeSnapshot(Snapshot):
    """A snapshot created through the API (the seed's snapshots are plain `Snapshot`s)."""

    name: str | None = None
    description: str | None = None
    metadata: dict[str, str] = field(default_factory=dict)
    size: int = 10
    created_at: datetime | None = None
    ready_at: float = 0.0
    fail: bool = False


class SnapshotRules:
    """The snapshots' states and answers, for the store they are part of."""

    # The store's (vbscli.emulator.state.Store, vbscli.emulator.volumes.VolumeRules):
    seed: Seed
    lock: threading.Lock
    clock: Callable[[], float]
    wall: Callable[[], datetime]
    create_delay: float
    max_limit: int
    started: datetime
    volumes: dict[str, Volume]
    snapshots: dict[str, Snapshot]
    backups: dict[str, Any]
    settled: Callable[[], AbstractContextManager[float]]
    volume_state: Callable[[Volume], str]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.gone_at: dict[str, float] = {}
        """Snapshot id -> when its deletion completes."""
        self.snapshots_created = 0

    def _settle(self, now: float) -> None:
        super()._settle(now)
        for snapshot_id, when in list(self.gone_at.items()):
            if now >= when:
                del self.gone_at[snapshot_id]
                self.snapshots.pop(snapshot_id, None)

    def clear(self) -> None:
        super().clear()
        with self.lock:
            self.snapshots = {s.id: s for s in self.seed.snapshots}
            self.gone_at.clear()
            self.snapshots_created = 0

    def snapshot_status(self, snapshot: Snapshot, now: float) -> str:
        if snapshot.id in self.gone_at:
            return "deleting"
        if isinstance(snapshot, MadeSnapshot):
            if now < snapshot.ready_at:
                return "creating"
            if snapshot.fail:
                return "error"
        if any(b.snapshot_id == snapshot.id and b.status(now) == "creating" for b in self.backups.values()):
            return "backing-up"
        return snapshot.status

    def snapshot_view(self, snapshot: Snapshot, now: float) -> dict[str, Any]:
        made = snapshot if isinstance(snapshot, MadeSnapshot) else None
        created = (made.created_at if made and made.created_at else None) or self.started
        volume = self.volumes.get(snapshot.volume_id)
        status = self.snapshot_status(snapshot, now)
        return {
            "id": snapshot.id,
            "name": made.name if made else None,
            "description": made.description if made else None,
            "status": status,
            "volume_id": snapshot.volume_id,
            "size": made.size if made else (volume.size if volume else 10),
            "created_at": service_time(created),
            "updated_at": service_time(created),
            "metadata": dict(made.metadata) if made else {},
            "progress": "0%" if status == "creating" else "100%",
        }

    def create_snapshot(self, doc: Any, version: tuple[int, int]) -> Answer:
        spec = doc.get("snapshot") if isinstance(doc, dict) else None
        if not isinstance(spec, dict):
            return invalid("Missing required element 'snapshot' in request body.")
        volume_id = spec.get("volume_id")
        if not isinstance(volume_id, str) or not UUID.fullmatch(volume_id):
            return invalid(f"Invalid input: volume_id {volume_id!r} is not a UUID.")
        for key in ("name", "description"):
            value = spec.get(key)
            if value is not None and (not isinstance(value, str) or len(value.encode()) > NAME_MAX):
                return invalid(f"Invalid input: '{key}' must be a string of at most {NAME_MAX} bytes.")
        force = spec.get("force")
        if force is not None and not isinstance(force, bool):
            return invalid(f"Invalid input: force {force!r} is not a boolean.")
        if force is False and version >= (3, 66):
            return invalid("Invalid input: 'force' may not be false from microversion 3.66 on; leave it out.")
        metadata = spec.get("metadata") or {}
        if not isinstance(metadata, dict) or not all(
            isinstance(k, str) and isinstance(v, str) and 0 < len(k) <= NAME_MAX and len(v) <= NAME_MAX
            for k, v in metadata.items()
        ):
            return invalid("Invalid input: metadata must map strings to strings of at most 255 characters.")
        with self.settled() as now:
            volume = self.volumes.get(volume_id.lower())
            if volume is None:
                return not_found(404, f"Volume {volume_id} could not be found.")
            status = self.volume_state(volume)
            if not (status == "available" or (status == "in-use" and force is True)):
                return invalid(f"Invalid volume: Volume {volume.id} status must be available, but is {status}.")
            limit = self.seed.quotas.get("snapshots")
            if limit is not None and len(self.snapshots) >= limit:
                return over_quota("snapshots", limit)
            snapshot = MadeSnapshot(
                id=str(uuid.uuid4()),
                volume_id=volume.id,
                name=spec.get("name"),
                description=spec.get("description"),
                metadata=dict(metadata),
                size=volume.size,
                created_at=self.wall(),
                ready_at=now + self.create_delay,
                fail=volume.fail_snapshots,
            )
            self.snapshots[snapshot.id] = snapshot
            self.snapshots_created += 1
            return 202, {"snapshot": self.snapshot_view(snapshot, now)}

    def show_snapshot(self, snapshot_id: str) -> Answer:
        with self.settled() as now:
            snapshot = self.snapshots.get(snapshot_id.lower())
            if snapshot is None:
                return not_found(404, f"Snapshot {snapshot_id} could not be found.")
            return 200, {"snapshot": self.snapshot_view(snapshot, now)}

    def snapshot_listing(self, query: dict[str, str], base: str, path: str, detail: bool) -> Answer:
        """Filters volume_id, status and name; `metadata` is ignored, as upstream does at the base version."""
        limit = limit_of(query, self.max_limit)
        if limit is None:
            return invalid(f"Invalid input: limit {query.get('limit')!r} must be a non-negative integer.")
        with self.settled() as now:
            views = [self.snapshot_view(s, now) for s in self.snapshots.values()]
        views.sort(key=lambda v: (v["created_at"], v["id"]), reverse=True)
        for key in ("volume_id", "status", "name"):
            if key in query:
                views = [v for v in views if str(v[key]).lower() == query[key].lower()]
        marker = (query.get("marker") or "").lower()
        after = after_marker(views, marker, lambda v: v["id"])
        if after is None:
            return invalid(f"Invalid input: marker {marker} could not be found.")
        page, more = after[:limit], len(after) > limit
        shown = page if detail else [{"id": v["id"], "name": v["name"]} for v in page]
        doc: dict[str, Any] = {"snapshots": shown}
        if more and page:
            doc["snapshots_links"] = next_links(query, base, path, limit, page[-1]["id"])
        return 200, doc

    def delete_snapshot(self, snapshot_id: str) -> Answer:
        with self.settled() as now:
            snapshot = self.snapshots.get(snapshot_id.lower())
            if snapshot is None:
                return not_found(404, f"Snapshot {snapshot_id} could not be found.")
            status = self.snapshot_status(snapshot, now)
            if status not in ("available", "error"):
                return invalid(f"Invalid snapshot: Snapshot status must be available or error, but is {status}.")
            self.gone_at[snapshot.id] = now + self.create_delay
        return 202, None

    def more_stats(self) -> dict[str, int]:
        with self.lock:
            return {"snapshots_created": self.snapshots_created, "snapshots": len(self.snapshots)}

    def reset_created(self) -> None:
        super().reset_created()
        with self.lock:
            self.snapshots_created = 0

"""The rest of the backup cycle in the emulator: snapshots, deleting and restoring backups, chains, quotas.

Upstream Cinder's rules, as the service facts record them: a snapshot is `creating`, then
`available` (or `error`), `backing-up` while a backup reads from it, and cannot be deleted in
those states; a backup is deleted only when `available` or `error` (a second DELETE of one already
`deleting` gets 400) and not while incremental backups depend on it; a restore needs an `available`
backup and an `available` target at least as large, which goes `restoring-backup`, then
`available` or `error_restoring`. Full quotas answer 413 `overLimit` with `Retry-After: 0`.
Operations last `create_delay` seconds of the injected clock, like a backup's creation.

Which backups depend on which follows the seed's `chains`: as VBS (the default) no backup made
through the API has dependents, as upstream Cinder each builds on its disk's latest one; a test
can always add a chain of its own (`add_backup(parent_id=...)`).
"""

from __future__ import annotations

import math
import re
import uuid
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from urllib.parse import urlencode

from vbscli.emulator.seed import UUID, Seed, Snapshot, Volume
from vbscli.emulator.state import BACKABLE, Answer, Backup, Store, bad, not_found, service_time

SNAPSHOTS = re.compile(r"^/v3/(?P<project>[^/]+)/snapshots(?:/(?P<rest>[^/]+))?/?$")
RESTORE = re.compile(r"^/v3/(?P<project>[^/]+)/backups/(?P<rest>[^/]+)/restore/?$")
VOLUME = re.compile(r"^/v3/(?P<project>[^/]+)/volumes/(?P<rest>(?!detail/?$)[^/]+)/?$")
ALLOWED = {
    "snapshots": ("GET", "POST"),
    "snapshots_detail": ("GET",),
    "snapshot": ("GET", "DELETE"),
    "backup_restore": ("POST",),
    "volume": ("GET",),
}
ROUTES = tuple(ALLOWED)
HANDLED = {("DELETE", "backup")}
"""Calls on the original routes that this module answers."""
NAME_MAX = 255
FOREVER = math.inf


def route_match(path: str) -> tuple[str, re.Match[str]] | None:
    """(route name, match) for the cycle's paths; None for any other path."""
    found = SNAPSHOTS.match(path)
    if found:
        rest = found.group("rest")
        return ("snapshots" if rest is None else "snapshots_detail" if rest == "detail" else "snapshot"), found
    for name, pattern in (("backup_restore", RESTORE), ("volume", VOLUME)):
        found = pattern.match(path)
        if found:
            return name, found
    return None


def overlimit_headers(doc: Any) -> dict[str, str]:
    """Cinder's OverLimit fault sends its `retryAfter` as a Retry-After header too."""
    inner = doc.get("overLimit") if isinstance(doc, dict) else None
    if isinstance(inner, dict) and inner.get("retryAfter") is not None:
        return {"Retry-After": str(inner["retryAfter"])}
    return {}


def over_quota(kind: str, limit: int) -> Answer:
    what = {"backups": "BackupLimitExceeded", "snapshots": "SnapshotLimitExceeded"}[kind]
    message = f"{what}: Maximum number of {kind} allowed ({limit}) exceeded"
    return 413, {"overLimit": {"code": 413, "message": message, "retryAfter": "0"}}


def invalid(message: str) -> Answer:
    """Upstream's plain bad request: the code is the HTTP status."""
    return 400, {"badRequest": {"code": 400, "message": message}}


def microversion(header: str | None) -> tuple[int, int]:
    """(3, 66) from 'volume 3.66'; the base version 3.0 when absent or unreadable."""
    found = re.fullmatch(r"\s*volume\s+(\d+)\.(\d+)\s*", (header or "").lower())
    return (int(found.group(1)), int(found.group(2))) if found else (3, 0)


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


def stamp(moment: datetime) -> str:
    return service_time(moment)


class CycleStore(Store):
    """The backup store plus snapshots, deletes, restores, incremental chains and quotas."""

    def __init__(self, seed: Seed, create_delay: float = 2.0, clock: Any = None, wall: Any = None) -> None:
        super().__init__(seed, create_delay, clock, wall)
        self.started = self.wall()
        self.children: Counter[str] = Counter()
        """Backup id -> how many backups build on it (has_dependent_backups)."""
        self.data_times: dict[str, datetime] = {}
        self.gone_at: dict[str, float] = {}
        """Snapshot id -> when its deletion completes."""
        self.volume_status: dict[str, str] = {}
        self.volume_busy: dict[str, tuple[float, str]] = {}
        self.volume_names: dict[str, str] = {}
        self.pending: set[str] = set()
        """Ids of backups being deleted or restored, settled when their time comes."""
        self.snapshots_created = 0

    # -- time passing ------------------------------------------------------------------------

    def settle(self) -> None:
        """Apply what has finished by now: deletions gone, restores done (call without the lock)."""
        with self.lock:
            self._settle(self.clock())

    def _settle(self, now: float) -> None:
        for backup_id in list(self.pending):
            backup = self.backups.get(backup_id)
            if backup is None or backup.busy is None:
                self.pending.discard(backup_id)
            elif now >= backup.busy_until:
                self.pending.discard(backup_id)
                if backup.busy == "deleting":
                    self._forget(backup)
                else:
                    backup.busy = None
        for snapshot_id, when in list(self.gone_at.items()):
            if now >= when:
                del self.gone_at[snapshot_id]
                self.snapshots.pop(snapshot_id, None)
        for volume_id, (until, final) in list(self.volume_busy.items()):
            if now >= until:
                del self.volume_busy[volume_id]
                self.volume_status[volume_id] = final

    def _forget(self, backup: Backup) -> None:
        del self.backups[backup.id]
        self.data_times.pop(backup.id, None)
        if backup.parent_id is not None:
            self.children[backup.parent_id] -= 1
            if self.children[backup.parent_id] <= 0:
                del self.children[backup.parent_id]

    # -- backups: chains, quota, snapshot state ----------------------------------------------

    def has_dependents(self, backup: Backup) -> bool:
        return self.children.get(backup.id, 0) > 0

    def create(self, doc: Any, base: str) -> Answer:
        """The service's create, after the checks the rest of the cycle adds: quota, the disk busy
        restoring, a snapshot that is not `available`. A new backup builds on the disk's latest one."""
        spec = doc.get("backup") if isinstance(doc, dict) else None
        with self.lock:
            now = self.clock()
            self._settle(now)
            if isinstance(spec, dict):
                limit = self.seed.quotas.get("backups")
                if limit is not None and len(self.backups) >= limit:
                    return over_quota("backups", limit)
                volume = self.volumes.get(str(spec.get("volume_id") or "").lower())
                if volume is not None and volume.id in self.volume_status:
                    status = self.volume_state(volume)
                    if status not in BACKABLE:
                        return bad("VolumeBackup.0012", f"The disk status is {status}; it must be available or in-use.")
                snapshot = self.snapshots.get(str(spec.get("snapshot_id") or "").lower())
                if snapshot is not None and snapshot.volume_id == getattr(volume, "id", None):
                    status = self.snapshot_status(snapshot, now)
                    if status not in ("available", "backing-up"):
                        return bad("VolumeBackup.0017", f"Snapshot {snapshot.id} is {status}; it must be available.")
        status, answer = super().create(doc, base)
        if status == 202:
            with self.lock:
                backup = self.backups[answer["backup"]["id"]]
                self._chain(backup)
                snapshot = self.snapshots.get(backup.snapshot_id)
                if isinstance(snapshot, MadeSnapshot) and snapshot.created_at is not None:
                    self.data_times[backup.id] = snapshot.created_at
        return status, answer

    def _chain(self, backup: Backup) -> None:
        """A backup after a good one of its disk (neither failed nor going) is incremental. As VBS
        does it (the seed's `chains: vbs`, the default), the service keeps the increments to itself
        and any backup can be deleted; as upstream Cinder does it (`chains: cinder`), the backup
        builds on the disk's latest one, which then has a dependent and cannot be deleted first."""
        earlier = [
            (b.created_at, order, b)
            for order, b in enumerate(self.backups.values())
            if b.volume_id == backup.volume_id and b.id != backup.id and not b.fail and b.busy != "deleting"
        ]
        parent = max(earlier, key=lambda e: e[:2], default=(None, 0, None))[2]  # same time: the later made
        backup.is_incremental = parent is not None
        if parent is not None and self.seed.chains == "cinder":
            backup.parent_id = parent.id
            self.children[parent.id] += 1

    def detail(self, backup: Backup, base: str) -> dict[str, Any]:
        doc = super().detail(backup, base)
        if backup.id in self.data_times:
            doc["data_timestamp"] = stamp(self.data_times[backup.id])  # the snapshot's time, as upstream
        return doc

    def show(self, backup_id: str, base: str) -> Answer:
        self.settle()
        return super().show(backup_id, base)

    def listing(self, query: dict[str, str], base: str, path: str, detail: bool) -> Answer:
        self.settle()
        return super().listing(query, base, path, detail)

    def add_backup(
        self,
        volume_id: str,
        created_at: datetime,
        *,
        name: str | None = None,
        status: str = "available",
        size: int = 10,
        parent_id: str | None = None,
        snapshot_id: str | None = None,
        backup_id: str | None = None,
    ) -> str:
        """Put a backup from the past into the store (history for tests and benchmarks); returns its id.

        `status` is held as given ('creating', 'restoring', 'deleting' and 'error_restoring', a
        status VBS lists, never end); `parent_id` makes it an incremental backup of that one.
        """
        backup = Backup(
            id=backup_id or str(uuid.uuid4()),
            name=name,
            description=None,
            volume_id=volume_id.lower(),
            snapshot_id=snapshot_id or str(uuid.uuid4()),
            size=size,
            availability_zone="eu-de-01",
            created_at=created_at,
            ready_at=FOREVER if status == "creating" else -FOREVER,
            fail=status == "error",
            is_incremental=parent_id is not None,
            parent_id=parent_id,
        )
        if status in ("restoring", "deleting", "error_restoring"):
            backup.busy, backup.busy_until = status, FOREVER
        elif status not in ("available", "error", "creating"):
            raise ValueError(f"cannot hold a backup in status {status!r}")
        with self.lock:
            if parent_id is not None:
                self.children[parent_id] += 1
            self.backups[backup.id] = backup
        return backup.id

    def delete_backup(self, backup_id: str) -> Answer:
        with self.lock:
            now = self.clock()
            self._settle(now)
            backup = self.backups.get(backup_id.lower())
            if backup is None:
                return not_found(404, f"Backup {backup_id} could not be found.")
            status = backup.status(now)
            if status not in ("available", "error"):
                return invalid(f"Invalid backup: Backup status must be available or error, but is {status}.")
            if self.has_dependents(backup):
                return invalid("Invalid backup: Incremental backups exist for this backup.")
            backup.busy, backup.busy_until = "deleting", now + self.create_delay
            self.pending.add(backup.id)
        return 202, None

    # -- restores and volumes -----------------------------------------------------------------

    def volume_state(self, volume: Volume) -> str:
        return self.volume_status.get(volume.id, volume.status)

    def volume_name(self, volume: Volume) -> str | None:
        return self.volume_names.get(volume.id, volume.name)

    def restore(self, backup_id: str, doc: Any) -> Answer:
        spec = doc.get("restore") if isinstance(doc, dict) else None
        if not isinstance(spec, dict):
            return invalid("Missing required element 'restore' in request body.")
        target_id, name = spec.get("volume_id"), spec.get("name")
        if target_id is not None and (not isinstance(target_id, str) or not UUID.fullmatch(target_id)):
            return invalid(f"Invalid input: volume_id {target_id!r} is not a UUID.")
        if name is not None and (not isinstance(name, str) or len(name) > NAME_MAX):
            return invalid(f"Invalid input: the volume name must be a string of at most {NAME_MAX} characters.")
        with self.lock:
            now = self.clock()
            self._settle(now)
            backup = self.backups.get(backup_id.lower())
            if backup is None:
                return not_found(404, f"Backup {backup_id} could not be found.")
            status = backup.status(now)
            if status != "available":
                return invalid(f"Invalid backup: Backup status must be available, but is {status}.")
            if target_id is not None:
                volume = self.volumes.get(target_id.lower())
                if volume is None:
                    return not_found(404, f"Volume {target_id} could not be found.")
                if self.volume_state(volume) != "available":
                    return invalid(
                        f"Invalid volume: Volume to be restored to must be available, "
                        f"but is {self.volume_state(volume)}."
                    )
                if volume.size < backup.size:
                    return invalid(
                        f"Invalid volume: volume size {volume.size} GB is smaller than the backup's {backup.size} GB."
                    )
            else:  # upstream Cinder makes a new volume; VBS requires volume_id
                volume = Volume(str(uuid.uuid4()), "creating", backup.size)
                self.volumes[volume.id] = volume
                if name:
                    self.volume_names[volume.id] = name
            until = now + self.create_delay
            backup.busy, backup.busy_until = "restoring", until
            self.pending.add(backup.id)
            self.volume_status[volume.id] = "restoring-backup"
            self.volume_busy[volume.id] = (until, "error_restoring" if volume.fail_restores else "available")
            answer = {"backup_id": backup.id, "volume_id": volume.id, "volume_name": self.volume_names.get(volume.id)}
        return 202, {"restore": answer}

    def show_volume(self, volume_id: str, base: str) -> Answer:
        with self.lock:
            self._settle(self.clock())
            volume = self.volumes.get(volume_id.lower())
            if volume is None:
                return not_found(404, f"Volume {volume_id} could not be found.")
            project = self.seed.project_id
            return 200, {
                "volume": {
                    "id": volume.id,
                    "name": self.volume_name(volume),
                    "status": self.volume_state(volume),
                    "size": volume.size,
                    "availability_zone": volume.availability_zone,
                    "attachments": [],
                    "links": [{"href": f"{base}/v3/{project}/volumes/{volume.id}", "rel": "self"}],
                }
            }

    # -- snapshots ----------------------------------------------------------------------------

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
            "created_at": stamp(created),
            "updated_at": stamp(created),
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
        with self.lock:
            now = self.clock()
            self._settle(now)
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
        with self.lock:
            now = self.clock()
            self._settle(now)
            snapshot = self.snapshots.get(snapshot_id.lower())
            if snapshot is None:
                return not_found(404, f"Snapshot {snapshot_id} could not be found.")
            return 200, {"snapshot": self.snapshot_view(snapshot, now)}

    def snapshot_listing(self, query: dict[str, str], base: str, path: str, detail: bool) -> Answer:
        """Filters volume_id, status and name; `metadata` is ignored, as upstream does at the base version."""
        try:
            limit = min(int(query.get("limit", self.max_limit)), self.max_limit)
            if limit < 0:
                raise ValueError
        except ValueError:
            return invalid(f"Invalid input: limit {query.get('limit')!r} must be a non-negative integer.")
        with self.lock:
            now = self.clock()
            self._settle(now)
            views = [self.snapshot_view(s, now) for s in self.snapshots.values()]
        views.sort(key=lambda v: (v["created_at"], v["id"]), reverse=True)
        for key in ("volume_id", "status", "name"):
            if key in query:
                views = [v for v in views if str(v[key]).lower() == query[key].lower()]
        marker = (query.get("marker") or "").lower()
        if marker:
            ids = [v["id"] for v in views]
            if marker not in ids:
                return invalid(f"Invalid input: marker {marker} could not be found.")
            views = views[ids.index(marker) + 1 :]
        page, more = views[:limit], len(views) > limit
        shown = page if detail else [{"id": v["id"], "name": v["name"]} for v in page]
        doc: dict[str, Any] = {"snapshots": shown}
        if more and page:
            params = {k: v for k, v in query.items() if k != "marker"}
            params.update({"limit": str(limit), "marker": page[-1]["id"]})
            doc["snapshots_links"] = [{"href": f"{base}{path}?{urlencode(params)}", "rel": "next"}]
        return 200, doc

    def delete_snapshot(self, snapshot_id: str) -> Answer:
        with self.lock:
            now = self.clock()
            self._settle(now)
            snapshot = self.snapshots.get(snapshot_id.lower())
            if snapshot is None:
                return not_found(404, f"Snapshot {snapshot_id} could not be found.")
            status = self.snapshot_status(snapshot, now)
            if status not in ("available", "error"):
                return invalid(f"Invalid snapshot: Snapshot status must be available or error, but is {status}.")
            self.gone_at[snapshot.id] = now + self.create_delay
        return 202, None

    # -- bookkeeping -----------------------------------------------------------------------------

    def counts(self) -> tuple[int, int]:
        self.settle()
        return super().counts()

    def more_stats(self) -> dict[str, int]:
        with self.lock:
            return {"snapshots_created": self.snapshots_created, "snapshots": len(self.snapshots)}

    def reset_created(self) -> None:
        super().reset_created()
        with self.lock:
            self.snapshots_created = 0

    def clear(self) -> None:
        """Back to the seed: no backups, only the seed's snapshots and volumes, in their seed states."""
        super().clear()
        with self.lock:
            self.volumes = {v.id: v for v in self.seed.volumes}
            self.snapshots = {s.id: s for s in self.seed.snapshots}
            for table in (self.children, self.data_times, self.gone_at, self.volume_status, self.volume_busy):
                table.clear()
            self.volume_names.clear()
            self.pending.clear()
            self.snapshots_created = 0


def dispatch(
    store: CycleStore,
    method: str,
    route: str,
    rest: str | None,
    query: dict[str, str],
    body: bytes,
    content_type: str,
    version: tuple[int, int],
    base: str,
    path: str,
) -> Answer:
    """Answer one call of the cycle's routes (authentication and the project are already checked)."""
    import json

    if method == "POST":
        if content_type != "application/json":
            return 415, {"badMediaType": {"code": 415, "message": f"Unsupported Content-Type {content_type!r}."}}
        try:
            doc = json.loads(body.decode("utf-8"))
        except (ValueError, UnicodeDecodeError):
            return invalid("Malformed request body: the body is not valid JSON.")
        if route == "snapshots":
            return store.create_snapshot(doc, version)
        return store.restore(str(rest), doc)
    if route in ("snapshots", "snapshots_detail"):
        return store.snapshot_listing(query, base, path, detail=route == "snapshots_detail")
    if route == "snapshot":
        return store.delete_snapshot(str(rest)) if method == "DELETE" else store.show_snapshot(str(rest))
    if route == "backup":
        return store.delete_backup(str(rest))
    return store.show_volume(str(rest), base)

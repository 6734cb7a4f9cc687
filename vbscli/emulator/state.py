"""The emulated service's data and rules: what VBS answers to a create, a look-up or a listing.

Every method returns (status, document); the HTTP layer only moves bytes. Time comes from injected
clocks, so tests decide when a backup has finished.
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any

from vbscli.emulator.seed import UUID, Seed

Answer = tuple[int, dict[str, Any]]
BACKABLE = ("available", "in-use")


def bad(code: str, message: str) -> Answer:
    return 400, {"badRequest": {"code": code, "message": message}}


def not_found(code: str | int, message: str) -> Answer:
    return 404, {"itemNotFound": {"code": code, "message": message}}


@dataclass
class Backup:
    id: str
    name: str | None
    description: str | None
    volume_id: str
    snapshot_id: str
    size: int
    availability_zone: str
    created_at: datetime
    ready_at: float
    fail: bool
    is_incremental: bool
    delay: float = 0.0
    parent_id: str | None = None
    """The backup an incremental one builds on (vbscli.emulator.cycle keeps the chains)."""
    busy: str | None = None
    """'deleting' or 'restoring' while such an operation runs, until `busy_until`."""
    busy_until: float = 0.0

    def status(self, now: float) -> str:
        if self.busy == "deleting" or (self.busy and now < self.busy_until):
            return self.busy
        if now < self.ready_at:
            return "creating"
        return "error" if self.fail else "available"


class Store:
    """In-memory backups of one project, guarded by a lock (the server is threaded)."""

    def __init__(
        self,
        seed: Seed,
        create_delay: float = 2.0,
        clock: Callable[[], float] | None = None,
        wall: Callable[[], datetime] | None = None,
    ) -> None:
        import time

        self.seed = seed
        self.create_delay = create_delay
        self.max_limit = 1000
        """The largest page a listing returns, whatever limit is asked (Cinder's osapi_max_limit)."""
        self.clock = clock or time.monotonic
        self.wall = wall or (lambda: datetime.now(timezone.utc))
        self.volumes = {v.id: v for v in seed.volumes}
        self.snapshots = {s.id: s for s in seed.snapshots}
        self.backups: dict[str, Backup] = {}
        self.created = 0
        self.lock = threading.Lock()

    # -- create ------------------------------------------------------------------------------

    def create(self, doc: Any, base: str) -> Answer:
        """POST /v3/{project}/backups, with the service's checks in the service's order.

        Codes, as VBS documents them: 0010/0011 volume_id empty or not a UUID, 0003/0004/0005/0007
        bad name, 0021 unknown disk (404), 0012 disk not available or in-use, 0013 a backup of the
        disk still running. VBS documents no code for the rest, so the emulator picks neighbours:
        0001 no 'backup' object, 0006 description over 255 characters or with < or >, 0014
        snapshot_id missing or not a UUID, 0015 snapshot of another disk, 0016 in-use disk
        without the force flag. An unknown snapshot is a 404 whose code is the HTTP status, as upstream.
        """
        spec = doc.get("backup") if isinstance(doc, dict) else None
        if not isinstance(spec, dict):
            return bad("VolumeBackup.0001", "Invalid request body: a 'backup' object is required.")
        volume_id = spec.get("volume_id")
        if volume_id in (None, ""):
            return bad("VolumeBackup.0010", "The volume_id is empty.")
        if not isinstance(volume_id, str) or not UUID.fullmatch(volume_id):
            return bad("VolumeBackup.0011", f"The volume_id {volume_id} is not a valid UUID.")
        snapshot_id = spec.get("snapshot_id")
        if snapshot_id in (None, ""):
            return bad("VolumeBackup.0014", "The snapshot_id is empty.")
        if not isinstance(snapshot_id, str) or not UUID.fullmatch(snapshot_id):
            return bad("VolumeBackup.0014", f"The snapshot_id {snapshot_id} is not a valid UUID.")
        name = spec.get("name")
        if name is not None:
            problem = name_problem(name)
            if problem:
                return bad(*problem)
        description = spec.get("description")
        if description is not None and (
            not isinstance(description, str) or len(description) > 255 or "<" in description or ">" in description
        ):
            return bad("VolumeBackup.0006", "The description is longer than 255 characters or contains < or >.")
        force = spec.get("force", False)
        with self.lock:
            volume = self.volumes.get(volume_id.lower())
            if volume is None:
                return not_found("VolumeBackup.0021", f"The disk {volume_id} does not exist.")
            snapshot = self.snapshots.get(snapshot_id.lower())
            if snapshot is None:
                return not_found(404, f"Snapshot {snapshot_id} could not be found.")
            if snapshot.volume_id != volume.id:
                return bad("VolumeBackup.0015", f"Snapshot {snapshot_id} does not belong to disk {volume_id}.")
            if volume.status not in BACKABLE:
                return bad("VolumeBackup.0012", f"The disk status is {volume.status}; it must be available or in-use.")
            if volume.status == "in-use" and force is not True:
                return bad("VolumeBackup.0016", "Backup operation of an in-use volume must use the force flag.")
            now = self.clock()
            earlier = [b for b in self.backups.values() if b.volume_id == volume.id]
            if any(b.status(now) == "creating" for b in earlier):
                return bad("VolumeBackup.0013", f"A backup of disk {volume_id} is already in progress.")
            backup = Backup(
                id=str(uuid.uuid4()),
                name=name,
                description=description,
                volume_id=volume.id,
                snapshot_id=snapshot.id,
                size=volume.size,
                availability_zone=volume.availability_zone,
                created_at=self.wall(),
                ready_at=now + self.create_delay,
                fail=volume.fail_backups,
                is_incremental=any(not b.fail for b in earlier),
                delay=self.create_delay,
            )
            self.backups[backup.id] = backup
            self.created += 1
        return 202, {"backup": {"id": backup.id, "links": self.links(base, backup.id), "name": backup.name}}

    # -- look-ups ----------------------------------------------------------------------------

    def links(self, base: str, backup_id: str) -> list[dict[str, str]]:
        project = self.seed.project_id
        return [
            {"href": f"{base}/v3/{project}/backups/{backup_id}", "rel": "self"},
            {"href": f"{base}/{project}/backups/{backup_id}", "rel": "bookmark"},
        ]

    def detail(self, backup: Backup, base: str) -> dict[str, Any]:
        status = backup.status(self.clock())
        stamp = backup.created_at.strftime("%Y-%m-%dT%H:%M:%S.%f")
        updated = stamp
        if status != "creating":
            done = backup.created_at + timedelta(seconds=backup.delay)
            updated = done.strftime("%Y-%m-%dT%H:%M:%S.%f")
        return {
            "id": backup.id,
            "name": backup.name,
            "status": status,
            "description": backup.description,
            "volume_id": backup.volume_id,
            "snapshot_id": backup.snapshot_id,
            "size": backup.size,
            "object_count": 0 if status == "creating" else backup.size * 4,
            "availability_zone": backup.availability_zone,
            "container": backup.volume_id,
            "created_at": stamp,
            "updated_at": updated,
            "data_timestamp": stamp,
            "fail_reason": "Backup of the disk snapshot failed: the storage back end reported an I/O error."
            if status == "error"
            else None,
            "is_incremental": backup.is_incremental,
            "has_dependent_backups": self.has_dependents(backup),
            "links": self.links(base, backup.id),
        }

    def has_dependents(self, backup: Backup) -> bool:
        """True once a later incremental backup of the same disk builds on this one (call with the lock held)."""
        if backup.fail:
            return False
        later = list(self.backups)[list(self.backups).index(backup.id) + 1 :]
        return any(self.backups[i].volume_id == backup.volume_id and self.backups[i].is_incremental for i in later)

    def reset_created(self) -> None:
        """Start counting creates afresh (the backups themselves stay)."""
        with self.lock:
            self.created = 0

    def clear(self) -> None:
        """Forget every backup, as on a fresh start (the seed's volumes and snapshots stay)."""
        with self.lock:
            self.backups.clear()
            self.created = 0

    def counts(self) -> tuple[int, int]:
        """(backups created since the last reset, backups held)."""
        with self.lock:
            return self.created, len(self.backups)

    def show(self, backup_id: str, base: str) -> Answer:
        with self.lock:
            backup = self.backups.get(backup_id.lower())
            if backup is None:
                return not_found(404, f"Backup {backup_id} could not be found.")
            return 200, {"backup": self.detail(backup, base)}

    def listing(self, query: dict[str, str], base: str, path: str, detail: bool) -> Answer:
        """GET .../backups[/detail]: filters, newest first, limit and marker paging with a next link.

        A limit that is not a non-negative integer (0031) and an unknown marker (0032) are 400s with
        codes the emulator picks; upstream answers both with a plain bad request.
        """
        limit_text = query.get("limit")
        try:
            limit = int(limit_text) if limit_text is not None else self.max_limit
            if limit < 0:
                raise ValueError
        except ValueError:
            return bad("VolumeBackup.0031", f"Invalid limit {limit_text!r}: it must be a non-negative integer.")
        with self.lock:
            now = self.clock()
            items = sorted(self.backups.values(), key=lambda b: (b.created_at, b.id), reverse=True)
            if "volume_id" in query:
                items = [b for b in items if b.volume_id == query["volume_id"].lower()]
            if "name" in query:
                items = [b for b in items if b.name == query["name"]]
            if "status" in query:
                items = [b for b in items if b.status(now) == query["status"]]
            marker = (query.get("marker") or "").lower()
            if marker:
                ids = [b.id for b in items]
                if marker not in ids:
                    return bad("VolumeBackup.0032", f"Marker {marker} could not be found.")
                items = items[ids.index(marker) + 1 :]
            limit = min(limit, self.max_limit)  # like Cinder's osapi_max_limit: bigger pages are cut
            page, more = items[:limit], len(items) > limit
            if detail:
                shown = [self.detail(b, base) for b in page]
            else:
                shown = [{"id": b.id, "name": b.name, "links": self.links(base, b.id)} for b in page]
        doc: dict[str, Any] = {"backups": shown}
        if more and page:
            from urllib.parse import urlencode

            params = {k: v for k, v in query.items() if k != "marker"}
            params.update({"limit": str(limit), "marker": page[-1].id})
            doc["backups_links"] = [{"href": f"{base}{path}?{urlencode(params)}", "rel": "next"}]
        return 200, doc


def name_problem(name: Any) -> tuple[str, str] | None:
    """The service's backup-name rule with its codes; None if the name is acceptable."""
    if not isinstance(name, str):
        return "VolumeBackup.0004", "The backup name must be a string."
    if name == "":
        return "VolumeBackup.0007", "The backup name is empty."
    if len(name) > 64:
        return "VolumeBackup.0003", "The backup name is longer than 64 characters."
    if not all(c.isascii() and (c.isalnum() or c in "_-") for c in name):
        return "VolumeBackup.0004", "The backup name may contain only letters, digits, '_' and '-'."
    if name.startswith("auto"):
        return "VolumeBackup.0005", "The backup name cannot start with 'auto'."
    return None

"""The emulated service's data and rules: what VBS answers to a create, a look-up or a listing.

Every method returns (status, document); the HTTP layer only moves bytes. Time comes from injected
clocks, so tests decide when a backup has finished.
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any

from vbscli.emulator.answers import Answer, bad, not_found, service_time
from vbscli.emulator.listing import Held, ListingIndex, after_marker, limit_of, next_links
from vbscli.emulator.seed import UUID, Seed

BACKABLE = ("available", "in-use")
"""The disk statuses a backup may be made in."""


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


FAIL_REASON = "Backup of the disk snapshot failed: the storage back end reported an I/O error."


class Store:
    """In-memory backups of one project, guarded by a lock (the server is threaded): creates,
    look-ups, listings and the seed's history.

    The base of vbscli.emulator.cycle.CycleStore, the store the emulator serves, which adds what
    takes time (deletes, restores, snapshots), the disks' states and the chains of incremental
    backups (`_chain`, `has_dependents`)."""

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
        self.backups: dict[str, Backup] = Held()
        self.created = 0
        self.lock = threading.Lock()
        self.started = self.wall()

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
        doc = dict(self.fixed_detail(backup, base))
        doc["status"] = status
        if status == "creating":
            doc["object_count"], doc["updated_at"] = 0, doc["created_at"]
        doc["fail_reason"] = FAIL_REASON if status == "error" else None
        doc["is_incremental"] = backup.is_incremental  # set once the chain is known
        doc["has_dependent_backups"] = self.has_dependents(backup)
        return doc

    def fixed_detail(self, backup: Backup, base: str) -> dict[str, Any]:
        """The parts of a backup's detail that never change, in the answer's order, made once per
        backup and kept on it: a listing of a large history would otherwise rebuild them every page."""
        kept = backup.__dict__.get("_detail")
        if kept is not None and kept[0] == base:
            return kept[1]
        stamp = service_time(backup.created_at)
        fixed = {
            "id": backup.id,
            "name": backup.name,
            "status": None,
            "description": backup.description,
            "volume_id": backup.volume_id,
            "snapshot_id": backup.snapshot_id,
            "size": backup.size,
            "object_count": backup.size * 4,
            "availability_zone": backup.availability_zone,
            "container": backup.volume_id,
            "created_at": stamp,
            "updated_at": service_time(backup.created_at + timedelta(seconds=backup.delay)),
            "data_timestamp": stamp,
            "fail_reason": None,
            "is_incremental": backup.is_incremental,
            "has_dependent_backups": False,
            "links": self.links(base, backup.id),
        }
        backup.__dict__["_detail"] = (base, fixed)
        return fixed

    def listing_index(self) -> ListingIndex:
        """The backups newest first, by disk and by position, built again only when the backups held
        change, so paging through a large history neither sorts it nor scans it for every page (lock held)."""
        held = self.backups
        if isinstance(held, Held):  # it counts its changes: nothing to compare but the count
            key: Any = (held, held.changes)
        else:  # a plain dict put in place of it: compare what it holds (the cache keeps the objects alive)
            key = (held, tuple(map(id, held.values())))
        cached = getattr(self, "_index", None)
        if cached is None or cached[0][0] is not held or cached[0][1] != key[1]:
            cached = self._index = (key, ListingIndex.of(held.values()))
        return cached[1]

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
        limit = limit_of(query, self.max_limit)
        if limit is None:
            return bad("VolumeBackup.0031", f"Invalid limit {query.get('limit')!r}: it must be a non-negative integer.")
        with self.lock:
            now = self.clock()
            index = self.listing_index()
            items, position = index.newest_first, index.position
            if "volume_id" in query:
                items = index.by_volume.get(query["volume_id"].lower(), [])
                position = None
            if "name" in query:
                items, position = [b for b in items if b.name == query["name"]], None
            if "status" in query:
                items, position = [b for b in items if b.status(now) == query["status"]], None
            marker = (query.get("marker") or "").lower()
            after = after_marker(items, marker, lambda b: b.id, position)
            if after is None:
                return bad("VolumeBackup.0032", f"Marker {marker} could not be found.")
            page, more = after[:limit], len(after) > limit
            if detail:
                shown = [self.detail(b, base) for b in page]
            else:
                shown = [{"id": b.id, "name": b.name, "links": self.links(base, b.id)} for b in page]
        doc: dict[str, Any] = {"backups": shown}
        if more and page:
            doc["backups_links"] = next_links(query, base, path, limit, page[-1].id)
        return 200, doc

    # -- the seed's history ------------------------------------------------------------------

    def seed_history(self) -> None:
        """Add the seed's backups made before the start, oldest first, each chained as a backup
        made then would have been (the emulator calls this at the start and on a reset)."""
        start = self.wall()
        snapshot_of: dict[str, str] = {}
        for snapshot in self.snapshots.values():
            snapshot_of.setdefault(snapshot.volume_id, snapshot.id)
        by_volume: dict[str, list[tuple[int, Any]]] = {}
        for index, entry in sorted(enumerate(self.seed.backups), key=lambda pair: (pair[1].when(start), pair[0])):
            by_volume.setdefault(entry.volume_id, []).append((index, entry))
        with self.lock:
            held = self.backups
            own: dict[str, dict[str, Backup]] = {}
            for backup in held.values():
                own.setdefault(backup.volume_id, {})[backup.id] = backup
            try:
                for volume_id, entries in by_volume.items():
                    # _chain looks at every backup held: chain each disk's history among that
                    # disk's backups only, or seeding a large history would take quadratic time.
                    self.backups = own.get(volume_id, {})
                    for index, entry in entries:
                        backup = self._seeded(index, entry, start, snapshot_of)
                        self.backups[backup.id] = backup
                        self._chain(backup)
                    held.update(self.backups)
            finally:
                self.backups = held if isinstance(held, Held) else Held(held)

    def _seeded(self, index: int, entry: Any, start: datetime, snapshot_of: dict[str, str]) -> Backup:
        from vbscli.emulator.history import backup_id

        volume = self.volumes[entry.volume_id]
        moment = entry.when(start)
        return Backup(
            id=backup_id(volume.id, index),
            name=entry.named(moment),
            description=None,
            volume_id=volume.id,
            snapshot_id=snapshot_of.get(volume.id) or backup_id(volume.id, -1),
            size=entry.size or volume.size,
            availability_zone=volume.availability_zone,
            created_at=moment,
            ready_at=float("inf") if entry.status == "creating" else float("-inf"),
            fail=entry.status == "error",
            is_incremental=False,
            delay=600.0,
        )

    def settle(self) -> None:
        """Apply what has finished by now (the cycle's store has operations that take time)."""
        with self.settled():
            pass

    @contextmanager
    def settled(self) -> Iterator[float]:
        """Hold the lock, with what has finished by now applied; yields now (the store's clock)."""
        with self.lock:
            now = self.clock()
            self._settle(now)
            yield now

    def _settle(self, now: float) -> None:
        """Apply what has finished by `now` (lock held): nothing takes time in a store of backups alone."""


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

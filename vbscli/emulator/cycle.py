"""The rest of the backup cycle in the emulator: deleting and restoring backups, chains, quotas; with
the snapshots (vbscli.emulator.snapshots) and the disks (vbscli.emulator.volumes), the store the
emulator serves.

Upstream Cinder's rules, as the service facts record them: a backup is deleted only when `available`
or `error` (a second DELETE of one already `deleting` gets 400) and not while incremental backups
depend on it; a restore needs an `available` backup and an `available` target at least as large,
which goes `restoring-backup`, then `available` or `error_restoring`. Full quotas answer 413
`overLimit` with `Retry-After: 0`. Operations last `create_delay` seconds of the injected clock, like a
backup's creation.

Which backups depend on which follows the seed's `chains`: as VBS (the default) no backup made
through the API has dependents, as upstream Cinder each builds on its disk's latest one; a test
can always add a chain of its own (`add_backup(parent_id=...)`).
"""

from __future__ import annotations

import math
import uuid
from collections import Counter
from datetime import datetime
from typing import Any

from vbscli.emulator.answers import Answer, bad, invalid, not_found, over_quota, service_time
from vbscli.emulator.seed import UUID, Seed, Volume
from vbscli.emulator.snapshots import MadeSnapshot, SnapshotRules
from vbscli.emulator.state import BACKABLE, Backup, Store
from vbscli.emulator.volumes import VolumeRules

NAME_MAX = 255
FOREVER = math.inf


class CycleStore(VolumeRules, SnapshotRules, Store):
    """The backup store plus snapshots, disks, deletes, restores, incremental chains and quotas."""

    def __init__(self, seed: Seed, create_delay: float = 2.0, clock: Any = None, wall: Any = None) -> None:
        super().__init__(seed, create_delay, clock, wall)
        self.children: Counter[str] = Counter()
        """Backup id -> how many backups build on it (has_dependent_backups)."""
        self.data_times: dict[str, datetime] = {}
        self.pending: set[str] = set()
        """Ids of backups being deleted or restored, settled when their time comes."""

    # -- time passing ------------------------------------------------------------------------

    def _settle(self, now: float) -> None:
        """Apply what has finished by now: deletions gone, restores done (lock held)."""
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
        super()._settle(now)

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
        with self.settled() as now:
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
            doc["data_timestamp"] = service_time(self.data_times[backup.id])  # the snapshot's time, as upstream
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
        with self.settled() as now:
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

    # -- restores ------------------------------------------------------------------------------

    def restore(self, backup_id: str, doc: Any) -> Answer:
        spec = doc.get("restore") if isinstance(doc, dict) else None
        if not isinstance(spec, dict):
            return invalid("Missing required element 'restore' in request body.")
        target_id, name = spec.get("volume_id"), spec.get("name")
        if target_id is not None and (not isinstance(target_id, str) or not UUID.fullmatch(target_id)):
            return invalid(f"Invalid input: volume_id {target_id!r} is not a UUID.")
        if name is not None and (not isinstance(name, str) or len(name) > NAME_MAX):
            return invalid(f"Invalid input: the volume name must be a string of at most {NAME_MAX} characters.")
        with self.settled() as now:
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

    # -- bookkeeping -----------------------------------------------------------------------------

    def counts(self) -> tuple[int, int]:
        self.settle()
        return super().counts()

    def clear(self) -> None:
        """Back to the seed: no backups, only the seed's snapshots and volumes, in their seed states."""
        super().clear()
        with self.lock:
            for table in (self.children, self.data_times):
                table.clear()
            self.pending.clear()

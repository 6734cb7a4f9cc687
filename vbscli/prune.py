"""`vbs backup prune`'s work: read the chosen disks' backups, plan with a policy, delete what the plan says.

The snapshots vbs made (vbscli.snapshots) go too, once no backup is reading from them. Reading
sends only GETs; the plan is vbscli.retention's; deleting is vbscli.deletion's, concurrent and
dependents first. Nothing here prints.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from vbscli import backups, deletion, retention, snapshots
from vbscli.client import Client

SNAPSHOT_GRACE = timedelta(hours=24)
"""A vbs snapshot that no backup was made from is removed only after this long: the run that made it
may still be waiting for it."""


@dataclass
class SnapshotDecision:
    snapshot: dict[str, Any]
    action: str
    reasons: list[str] = field(default_factory=list)

    @property
    def id(self) -> str:
        return str(self.snapshot.get("id"))


def snapshot_plan(
    made: Iterable[dict[str, Any]],
    backups_seen: Iterable[dict[str, Any]],
    now: datetime,
    name_prefix: str | None = None,
) -> list[SnapshotDecision]:
    """Which snapshots vbs made can go: those whose backups are no longer `creating`, those in
    `error`, and those no backup was made from after SNAPSHOT_GRACE. One the service is still
    working on (`creating`, `backing-up`, `deleting`) stays."""
    users: dict[str, list[dict[str, Any]]] = {}
    for backup in backups_seen:
        users.setdefault(str(backup.get("snapshot_id")), []).append(backup)
    plan: list[SnapshotDecision] = []
    for snap in made:
        if not snapshots.made_by_vbs(snap):
            continue
        if name_prefix is not None and not (snapshots.backup_name_of(snap) or "").startswith(name_prefix):
            continue
        status = str(snap.get("status"))
        used = users.get(str(snap.get("id")), [])
        created = retention.created_of(snap)
        if status in ("creating", "backing-up", "deleting"):
            plan.append(SnapshotDecision(snap, "keep", [f"{status}: never touched"]))
        elif any(b.get("status") == "creating" for b in used):
            plan.append(SnapshotDecision(snap, "keep", ["its backup is still creating"]))
        elif used:
            plan.append(SnapshotDecision(snap, "delete", [f"made by vbs for backup {used[0].get('id')}, now done"]))
        elif status == "error":
            plan.append(SnapshotDecision(snap, "delete", ["made by vbs, in error"]))
        elif created is not None and now - created > SNAPSHOT_GRACE:
            plan.append(SnapshotDecision(snap, "delete", ["made by vbs, no backup was made from it"]))
        else:
            plan.append(SnapshotDecision(snap, "keep", ["no backup made from it yet: its run may still be going"]))
    return sorted(plan, key=lambda d: (str(d.snapshot.get("volume_id")), d.id))


@dataclass
class Entry:
    """One line of prune's report: a backup or snapshot, the decision, and what happened to it."""

    type: str
    item: dict[str, Any]
    action: str
    reasons: list[str]
    after: list[str] = field(default_factory=list)
    chained: bool = False
    """A backup kept only because a backup that stays depends on it."""
    outcome: str | None = None
    error: dict[str, Any] | None = None
    exit_code: int = 0

    @property
    def id(self) -> str:
        return str(self.item.get("id"))

    def as_dict(self) -> dict[str, Any]:
        return {
            "type": self.type,
            "id": self.id,
            "volume_id": self.item.get("volume_id"),
            "name": self.item.get("name"),
            "status": self.item.get("status"),
            "created_at": self.item.get("created_at"),
            "action": self.action,
            "reasons": list(self.reasons),
            "outcome": self.outcome,
            "error": self.error,
        }


def entries(decisions: list[retention.Decision], snaps: list[SnapshotDecision]) -> list[Entry]:
    found = [Entry("backup", d.backup, d.action, d.reasons, d.after, d.chained) for d in decisions]
    return found + [Entry("snapshot", d.snapshot, d.action, d.reasons) for d in snaps]


def _each(volume_ids: list[str], parallel: int, read: Callable[[str], list[dict[str, Any]]]) -> list[dict[str, Any]]:
    pool = ThreadPoolExecutor(max_workers=max(1, min(parallel, len(volume_ids))), thread_name_prefix="vbs-read")
    with _cancelled_on_failure(pool):
        return [item for items in pool.map(read, volume_ids) for item in items]


@contextmanager
def _cancelled_on_failure(pool: ThreadPoolExecutor) -> Iterator[None]:
    """A failed read (or Ctrl-C) ends the reading: what has not started never will, and nothing waits
    for the reads in flight (a `with pool:` would wait for every disk's listing first)."""
    try:
        yield
    except BaseException:
        pool.shutdown(wait=False, cancel_futures=True)
        raise
    pool.shutdown()


def read_backups(client: Client, volume_ids: list[str] | None, parallel: int = 8) -> list[dict[str, Any]]:
    """Every backup of the disks (of the project, with None), read page by page, disks concurrently.

    The disk is checked here too: a service may ignore a filter it does not know."""
    if volume_ids is None:
        return backups.list_backups(client)["backups"]

    def one(volume_id: str) -> list[dict[str, Any]]:
        found = backups.list_backups(client, volume_id=volume_id)["backups"]
        return [b for b in found if str(b.get("volume_id", "")).lower() == volume_id.lower()]

    return _each(volume_ids, parallel, one)


def read_snapshots(client: Client, volume_ids: list[str] | None, parallel: int = 8) -> list[dict[str, Any]]:
    """The snapshots vbs made on those disks (filtered here: the service ignores a metadata filter)."""
    if volume_ids is None:
        found = snapshots.list_snapshots(client)
    else:
        found = _each(volume_ids, parallel, lambda v: snapshots.list_snapshots(client, volume_id=v))
    return [s for s in found if snapshots.made_by_vbs(s)]


def read(
    client: Client, volume_ids: list[str] | None, parallel: int = 8
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """(backups, snapshots vbs made) of the disks, both listings read at the same time."""
    pool = ThreadPoolExecutor(max_workers=2, thread_name_prefix="vbs-read")
    with _cancelled_on_failure(pool):
        made = pool.submit(read_snapshots, client, volume_ids, parallel)
        found = read_backups(client, volume_ids, parallel)
        return found, made.result()


def execute(
    client: Client,
    report: list[Entry],
    parallel: int,
    notify: Callable[[str], None] | None = None,
    on_done: Callable[[Entry], None] | None = None,
) -> list[Entry]:
    """Delete every entry planned for deletion (dependents first); record each outcome in the entry."""
    doomed = {e.id: e for e in report if e.action == "delete"}
    for entry in report:
        if entry.action == "keep":
            entry.outcome = "kept"
    after = {e.id: e.after for e in doomed.values() if e.type == "backup"}

    def work(item_id: str) -> str:
        if doomed[item_id].type == "backup":
            deletion.delete(client, item_id, notify)
        else:
            snapshots.delete(client, item_id, notify)
        return "deleting"

    def settle(item_id: str) -> None:
        deletion.wait_gone(client, item_id, deletion.GONE_POLICY)

    def done(outcome: deletion.Outcome) -> None:
        entry = doomed[outcome.id]
        entry.outcome, entry.error, entry.exit_code = outcome.result, outcome.error, outcome.exit_code
        if on_done:
            on_done(entry)

    made = {e.id for e in doomed.values() if e.type == "snapshot"}
    deletion.run_all(client, list(doomed), work, parallel, after=after, settle=settle, on_done=done, snapshots=made)
    return report

"""One backup as the nightly job makes it: a fresh snapshot, the backup from it, then the snapshot removed.

Shared by `vbs backup create` and each item of `--from`. With a snapshot ID given, this is just the
create (and the wait). Without one, vbs snapshots the disk now, waits for the snapshot, backs it up,
and (when waiting for the backup) deletes the snapshot once the backup is `available`; a snapshot
left behind is found again by its metadata and removed by `vbs backup prune`. Every step that may
have reached the service is looked up before it is repeated, so a run never makes two snapshots or
two backups.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

from vbscli import backups, snapshots
from vbscli.backups import BackupSpec
from vbscli.client import Client
from vbscli.errors import BackupFailed, InputError, Interrupted, ServiceError, VbsError, WaitTimeout
from vbscli.polling import WaitPolicy

SNAPSHOT_TIMEOUT = 600.0
"""How long a snapshot may take without --wait (with --wait, --wait-timeout bounds the whole job)."""
CLEANUP = WaitPolicy(timeout=120.0, interval=10.0, first=1.0)
"""How long to wait for a snapshot to be free (no longer `backing-up`) before deleting it."""

Status = Callable[[str, str, float], None]
"""on_status(subject, status, elapsed seconds), e.g. ("snapshot 1c2...", "creating", 3.0)."""


@dataclass
class Done:
    """The backup's document (the create answer, or its detail when waited for) and the snapshot made."""

    document: dict[str, Any]
    result: str
    """created | available"""
    snapshot_id: str | None = None
    snapshot_kept: bool = False


def backup(
    client: Client,
    spec: BackupSpec,
    wait: WaitPolicy | None = None,
    *,
    keep_snapshot: bool = False,
    notify: Callable[[str], None] | None = None,
    on_status: Status | None = None,
    on_created: Callable[[str], None] | None = None,
    sleep: Callable[[float], None] = time.sleep,
) -> Done:
    """Make the backup `spec` describes; a spec without snapshot_id gets a fresh snapshot first.

    `on_created(backup_id)` is called as soon as the service has accepted the backup; every wait
    pauses with `sleep` (a fleet run passes one that ends when the run is stopped).
    """
    spec.checked()
    notify = notify or (lambda line: None)
    on_created = on_created or (lambda backup_id: None)
    if spec.snapshot_id is not None:
        doc = backups.create(client, spec, notify=notify)
        on_created(doc["backup"]["id"])
        if wait is None:
            return Done(doc, "created")
        backup_id = doc["backup"]["id"]
        try:
            detail = backups.wait_available(
                client, backup_id, wait, on_status=_shown(on_status, f"backup {backup_id}"), sleep=sleep
            )
        except Interrupted:
            raise Interrupted(
                f"backup {backup_id} goes on in the service; check it with: vbs backup show {backup_id}"
            ) from None
        return Done(detail, "available")
    return _fresh(client, spec, wait, keep_snapshot, notify, on_status, on_created, sleep)


def _fresh(
    client: Client,
    spec: BackupSpec,
    wait: WaitPolicy | None,
    keep_snapshot: bool,
    notify: Callable[[str], None],
    on_status: Status | None,
    on_created: Callable[[str], None],
    sleep: Callable[[float], None],
) -> Done:
    clock = time.monotonic
    if spec.name is None:
        spec = replace(spec, name=backups.default_name())
    assert spec.name is not None
    started = clock()
    budget = wait.timeout if wait is not None else SNAPSHOT_TIMEOUT
    policy = wait or WaitPolicy(timeout=SNAPSHOT_TIMEOUT)

    def left() -> WaitPolicy:
        return replace(policy, timeout=max(0.0, budget - (clock() - started)))

    snapshot_id = snapshots.create(client, snapshots.SnapshotSpec(spec.volume_id, spec.name, spec.force), notify)[
        "snapshot"
    ]["id"]
    stays = f"snapshot {snapshot_id} stays until 'vbs backup prune' removes it"
    try:
        snapshots.wait_available(
            client, snapshot_id, left(), on_status=_shown(on_status, f"snapshot {snapshot_id}"), sleep=sleep
        )
    except BackupFailed:
        _discard(client, snapshot_id, notify)
        raise
    except WaitTimeout as exc:
        exc.hint = f"the backup was not made; {stays}"
        raise
    except Interrupted:
        raise Interrupted(f"the backup was not made; {stays}") from None

    try:
        made = backups.create(client, replace(spec, snapshot_id=snapshot_id), notify=notify)
    except VbsError as exc:
        if _surely_refused(exc):
            _discard(client, snapshot_id, notify)
        else:
            exc.hint = f"{exc.hint}; {stays}" if exc.hint else stays
        raise
    except Interrupted:
        raise Interrupted(
            f"backup '{spec.name}' may or may not have been made: check with: vbs backup list "
            f"--volume-id {spec.volume_id} --name {spec.name}; {stays}"
        ) from None
    backup_id = made["backup"]["id"]
    on_created(backup_id)
    if wait is None:
        notify(f"snapshot {snapshot_id} stays until 'vbs backup prune' removes it, once backup {backup_id} is done")
        return Done(made, "created", snapshot_id, True)

    try:
        detail = backups.wait_available(
            client, backup_id, left(), on_status=_shown(on_status, f"backup {backup_id}"), sleep=sleep
        )
    except BackupFailed:
        if not keep_snapshot:
            _discard(client, snapshot_id, notify)
        raise
    except WaitTimeout as exc:
        exc.hint = f"{exc.hint}; {stays}"
        raise
    except Interrupted:
        raise Interrupted(
            f"backup {backup_id} goes on in the service; check it with: vbs backup show {backup_id}; {stays}"
        ) from None
    if keep_snapshot:
        return Done(detail, "available", snapshot_id, True)
    try:
        snapshots.remove(client, snapshot_id, CLEANUP, notify, sleep=sleep)
    except VbsError as exc:
        notify(f"backup {backup_id} is available, but deleting snapshot {snapshot_id} failed ({exc.summary()})")
        notify(stays)
        return Done(detail, "available", snapshot_id, True)
    return Done(detail, "available", snapshot_id, False)


def _shown(on_status: Status | None, subject: str) -> Callable[[str, float], None] | None:
    if on_status is None:
        return None
    return lambda status, elapsed: on_status(subject, status, elapsed)


def _surely_refused(exc: VbsError) -> bool:
    """The backup was certainly not made: bad input, or the service said no (a 4xx, not a timeout)."""
    if isinstance(exc, InputError):
        return True
    return isinstance(exc, ServiceError) and 400 <= exc.status < 500 and exc.status not in (408, 429)


def _discard(client: Client, snapshot_id: str, notify: Callable[[str], None]) -> None:
    """Delete a snapshot no backup will be made from; failing that, say that prune will."""
    try:
        snapshots.remove(client, snapshot_id, CLEANUP, notify)
    except VbsError as exc:
        notify(f"deleting snapshot {snapshot_id} failed ({exc.summary()}); 'vbs backup prune' removes it")

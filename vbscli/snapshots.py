"""Snapshots that vbs makes for a backup: create (never two), wait, find again, and remove.

A snapshot made by vbs carries metadata that says so (`created_by: vbs`), the name of the backup it
is for, and a random request token, so that a lost answer can be checked and `vbs backup prune` can
find what vbs left behind. Listings are filtered here, not by the service: upstream Cinder ignores a
`metadata` filter at the default microversion. `force` is sent only when true (3.66 refuses false).
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from vbscli import lost_answer, paging, polling, validate
from vbscli.client import Call, Client, Response
from vbscli.errors import BackupFailed, BadResponseError, ServiceError, VbsError
from vbscli.polling import WaitPolicy

MARK, MADE_BY = "created_by", "vbs"
FOR_BACKUP = "vbs_backup"
REQUEST = "vbs_request"
NAME_PREFIX = "vbs-for-"
RESERVED_PREFIX = "autobk_snapshot_"
"""VBS names its own automatic snapshots so, and the console restricts them: never used by vbs."""
NAME_MAX = 64
"""Some regions allow 64 characters for a snapshot name (OTC allows 255 bytes): stay within the smaller."""
PAGE = 200


class SnapshotFailed(BackupFailed):
    """The snapshot a backup was to be made from ended in `error` (exit 6, like a failed backup)."""

    kind = "SnapshotFailed"


@dataclass(frozen=True)
class SnapshotSpec:
    """A snapshot of `volume_id` for the backup named `backup_name`."""

    volume_id: str
    backup_name: str
    force: bool = False
    token: str = field(default_factory=lambda: secrets.token_hex(4))

    @property
    def name(self) -> str:
        return (NAME_PREFIX + self.backup_name)[:NAME_MAX]

    def body(self) -> dict[str, Any]:
        snapshot: dict[str, Any] = {
            "volume_id": self.volume_id,
            "name": self.name,
            "description": f"made by vbs for backup {self.backup_name}",
            "metadata": {MARK: MADE_BY, FOR_BACKUP: self.backup_name, REQUEST: self.token},
        }
        if self.force:
            snapshot["force"] = True
        return {"snapshot": snapshot}


def made_by_vbs(snapshot: dict[str, Any]) -> bool:
    metadata = snapshot.get("metadata")
    return isinstance(metadata, dict) and metadata.get(MARK) == MADE_BY


def backup_name_of(snapshot: dict[str, Any]) -> str | None:
    metadata = snapshot.get("metadata")
    name = metadata.get(FOR_BACKUP) if isinstance(metadata, dict) else None
    return name if isinstance(name, str) else None


def create_call(client: Client, spec: SnapshotSpec) -> Call:
    validate.check_uuid(spec.volume_id, "--volume-id")
    assert not spec.name.startswith(RESERVED_PREFIX)
    return client.prepare("POST", "/snapshots", spec.body())


def create(client: Client, spec: SnapshotSpec, notify: Callable[[str], None] | None = None) -> dict[str, Any]:
    """POST the snapshot; returns `{"snapshot": {...}}`. Never makes two: a lost answer is looked up."""

    def look() -> tuple[str, Any]:
        found = find(client, spec)
        return (lost_answer.DONE, found) if found is not None else (lost_answer.AGAIN, None)

    request = lost_answer.Request(
        create_call(client, spec),
        name="snapshot",
        what=f"the request for snapshot '{spec.name}'",
        look=look,
        check=f"check the snapshots of disk {spec.volume_id} for one named '{spec.name}' ('vbs backup prune' "
        "removes it)",
        effect=f"snapshot '{spec.name}' may exist",
        found=lambda doc: f"snapshot {doc['snapshot']['id']} was made",
        read=_document,
    )
    try:
        return lost_answer.send(client, request, notify)
    except ServiceError as exc:
        # Cinder refuses a snapshot of an attached disk without force in its own words ("Invalid volume:
        # ... must be available, but current status is: in-use"), not with VBS's code for it.
        if exc.status == 400 and not spec.force and exc.hint is None and "in-use" in exc.message.lower():
            exc.hint = ATTACHED
        raise


ATTACHED = "the disk is attached to a server: add --force to back it up anyway (data cached in memory is not included)"


def find(client: Client, spec: SnapshotSpec) -> dict[str, Any] | None:
    """The snapshot this spec made, if the service has it (matched by name and request token)."""
    for snapshot in list_snapshots(client, volume_id=spec.volume_id, what="lookup"):
        metadata = snapshot.get("metadata") if isinstance(snapshot.get("metadata"), dict) else {}
        if snapshot.get("name") == spec.name and metadata.get(REQUEST) == spec.token and made_by_vbs(snapshot):
            return {"snapshot": snapshot}
    return None


def _document(response: Response) -> dict[str, Any]:
    doc = response.json()
    snapshot = doc.get("snapshot") if isinstance(doc, dict) else None
    if not isinstance(snapshot, dict) or not isinstance(snapshot.get("id"), str) or not snapshot["id"]:
        raise BadResponseError(
            f"the service answered HTTP {response.status} but not with a snapshot document",
            "the snapshot may exist: 'vbs backup prune' removes the snapshots vbs made",
        )
    return doc


def show(client: Client, snapshot_id: str, *, what: str = "show") -> dict[str, Any]:
    validate.check_uuid(snapshot_id, "snapshot ID")
    response = client.request("GET", f"/snapshots/{snapshot_id}", what=what)
    return _document(response)


def list_snapshots(client: Client, volume_id: str | None = None, *, what: str = "list") -> list[dict[str, Any]]:
    """Every snapshot in detail (of one disk, checked here too), following `next` links."""
    params = {"volume_id": volume_id}
    pages = paging.pages(client, "/snapshots/detail", "snapshots", params, page_size=PAGE, what=what)
    found = [item for page in pages for item in page]
    if volume_id is not None:
        found = [s for s in found if str(s.get("volume_id", "")).lower() == volume_id.lower()]
    return found


def wait_available(
    client: Client,
    snapshot_id: str,
    policy: WaitPolicy,
    on_status: Callable[[str, float], None] | None = None,
    **timing: Any,
) -> dict[str, Any]:
    """Poll until the snapshot is `available` (SnapshotFailed on `error`, WaitTimeout when time is up)."""

    def look() -> tuple[bool, Any, str]:
        doc = show(client, snapshot_id, what="poll")
        status = str(doc["snapshot"].get("status") or "unknown")
        if status == "error":
            raise SnapshotFailed(
                f"snapshot {snapshot_id} of disk {doc['snapshot'].get('volume_id')} failed (status error)",
                "check the disk; the backup was not made",
            )
        return status == "available", doc, status

    return polling.until(
        look,
        policy,
        what=f"snapshot {snapshot_id}",
        check="vbs backup prune removes it once it is done",
        on_status=on_status,
        **timing,
    )


def delete(client: Client, snapshot_id: str, notify: Callable[[str], None] | None = None) -> None:
    """DELETE the snapshot; a lost answer is looked up (gone or `deleting`: done) before sending again."""
    validate.check_uuid(snapshot_id, "snapshot ID")
    look = lost_answer.deleted(lambda: show(client, snapshot_id, what="lookup")["snapshot"].get("status"))
    request = lost_answer.Request(
        client.prepare("DELETE", f"/snapshots/{snapshot_id}"),
        name="snapshot delete",
        what=f"the delete of snapshot {snapshot_id}",
        look=look,
        check=f"check whether snapshot {snapshot_id} still exists",
    )
    lost_answer.send(client, request, notify)


def remove(
    client: Client,
    snapshot_id: str,
    policy: WaitPolicy,
    notify: Callable[[str], None] | None = None,
    **timing: Any,
) -> None:
    """Delete a snapshot that a backup has just finished reading: while it is still `creating` or
    `backing-up` the service refuses (400), so wait for it to settle, then delete."""
    try:
        delete(client, snapshot_id, notify)
        return
    except ServiceError as exc:
        if exc.status != 400:
            raise
        busy: VbsError = exc

    def look() -> tuple[bool, Any, str]:
        status = str(show(client, snapshot_id, what="poll")["snapshot"].get("status") or "unknown")
        return status in ("available", "error"), None, status

    try:
        polling.until(look, policy, what=f"snapshot {snapshot_id}", check="vbs backup prune", **timing)
    except VbsError:
        raise busy from None
    delete(client, snapshot_id, notify)

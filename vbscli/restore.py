"""Restoring a backup onto a disk, and waiting until the disk is usable again.

VBS requires the target disk (`volume_id`); upstream Cinder also accepts a name instead and makes a
new volume. While a restore runs the backup is `restoring` and the disk `restoring-backup`; it ends
with both `available`, or the disk in `error_restoring`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from vbscli import backups, lost_answer, polling, validate, volumes
from vbscli.client import Call, Client, Response
from vbscli.errors import BackupFailed, BadResponseError, InputError, NetworkError, ServiceError
from vbscli.polling import WaitPolicy

VOLUME_NAME_MAX = 255


class RestoreFailed(BackupFailed):
    """A waited-for restore left the disk in `error_restoring` (exit 6)."""

    kind = "RestoreFailed"


@dataclass(frozen=True)
class RestoreSpec:
    backup_id: str
    volume_id: str | None = None
    new_volume_name: str | None = None

    def checked(self) -> RestoreSpec:
        validate.check_uuid(self.backup_id, "backup ID")
        if self.volume_id is not None and self.new_volume_name is not None:
            raise InputError(
                "--volume-id and --new-volume-name cannot be combined",
                "--new-volume-name names a new disk, made when no target is given",
            )
        if self.volume_id is None and self.new_volume_name is None:
            raise InputError(
                "missing --volume-id",
                "give the disk to restore onto (VBS requires one), or --new-volume-name on a cloud that makes one",
            )
        if self.volume_id is not None:
            validate.check_uuid(self.volume_id, "--volume-id")
        if self.new_volume_name is not None and not 0 < len(self.new_volume_name) <= VOLUME_NAME_MAX:
            raise InputError(
                f"invalid --new-volume-name {self.new_volume_name[:80]!r}",
                f"it must be 1-{VOLUME_NAME_MAX} characters",
            )
        return self

    def body(self) -> dict[str, Any]:
        if self.volume_id is not None:
            return {"restore": {"volume_id": self.volume_id}}
        return {"restore": {"name": self.new_volume_name}}


def restore_call(client: Client, spec: RestoreSpec) -> Call:
    return client.prepare("POST", f"/backups/{spec.checked().backup_id}/restore", spec.body())


def restore(client: Client, spec: RestoreSpec, notify: Callable[[str], None] | None = None) -> dict[str, Any]:
    """POST the restore; returns `{"restore": {"backup_id", "volume_id", "volume_name"}}`.

    After a lost answer the backup and the target are looked at: either one busy restoring (or the
    target in `error_restoring`) means the request was processed. Otherwise it is sent again onto
    the same target (the same data written again). A restore into a new volume is never repeated:
    it could make a second volume.
    """
    spec.checked()

    def look() -> tuple[str, Any]:
        status = backups.show(client, spec.backup_id, what="lookup")["backup"].get("status")
        target = None
        if spec.volume_id is not None:
            target = volumes.show(client, spec.volume_id, what="lookup")["volume"].get("status")
        if status == "restoring" or target in ("restoring-backup", "error_restoring"):
            found = {"backup_id": spec.backup_id, "volume_id": spec.volume_id, "volume_name": None}
            return lost_answer.DONE, {"restore": found}
        if spec.volume_id is None:
            raise NetworkError(f"backup {spec.backup_id} is {status}: a restore into a new volume may be done already")
        return lost_answer.AGAIN, None

    request = lost_answer.Request(
        restore_call(client, spec),
        name="restore",
        what=f"the restore of backup {spec.backup_id}",
        look=look,
        check=f"check the backup (vbs backup show {spec.backup_id}) and the target disk"
        if spec.volume_id is not None
        else f"check for a new volume named '{spec.new_volume_name}': the restore may have made it",
        effect="the restore may have started",
        found=lambda doc: f"the restore of backup {spec.backup_id} is under way",
        read=_document,
    )
    return lost_answer.send(client, request, notify)


def _document(response: Response) -> dict[str, Any]:
    doc = response.json()
    answer = doc.get("restore") if isinstance(doc, dict) else None
    if not isinstance(answer, dict):
        raise BadResponseError(
            f"the service answered HTTP {response.status} but not with a restore document",
            "the restore was probably accepted",
        )
    return doc


def wait_restored(
    client: Client,
    backup_id: str,
    volume_id: str | None,
    policy: WaitPolicy,
    on_status: Callable[[str, float], None] | None = None,
    **timing: Any,
) -> dict[str, Any]:
    """Poll until the backup is `available` again and the disk `available` (its detail is returned).

    A disk in `error_restoring` ends the wait with RestoreFailed (exit 6).
    """

    def look() -> tuple[bool, Any, str]:
        backup = backups.show(client, backup_id, what="poll")
        status = str(backup["backup"].get("status") or "unknown")
        if volume_id is None:
            return status == "available", backup, f"backup {status}"
        try:
            volume = volumes.show(client, volume_id, what="poll")
        except ServiceError as exc:
            if exc.status == 404:
                raise RestoreFailed(f"the target disk {volume_id} of the restore is gone") from None
            raise
        disk = str(volume["volume"].get("status") or "unknown")
        if "error_restoring" in (disk, status):
            raise RestoreFailed(
                f"restoring backup {backup_id} onto disk {volume_id} failed: the disk is {disk}",
                "the disk's data cannot be trusted: restore again, or check the disk",
            )
        return status == "available" and disk == "available", volume, f"backup {status}, disk {disk}"

    return polling.until(
        look,
        policy,
        what=f"the restore of backup {backup_id}",
        check=f"vbs backup show {backup_id}",
        on_status=on_status,
        **timing,
    )

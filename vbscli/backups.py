"""Backup operations of the VBS v3 API: what to send, and what a good answer looks like."""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any

from vbscli import lost_answer, paging, polling, validate
from vbscli.client import Call, Client, Response
from vbscli.clock import parse_time
from vbscli.errors import BackupFailed, BadResponseError, VbsError, WaitTimeout
from vbscli.polling import WaitPolicy


@dataclass(frozen=True, eq=False)
class BackupSpec:
    """What the user asked to back up; `checked()` applies the service's rules client-side."""

    volume_id: str
    snapshot_id: str | None
    """None: vbs takes a fresh snapshot first (vbscli.cycle)."""
    name: str | None = None
    description: str | None = None
    force: bool = False

    def checked(self) -> BackupSpec:
        """Raise InputError on the first broken rule, in the order the options are usually typed."""
        validate.check_uuid(self.volume_id, "--volume-id")
        if self.snapshot_id is not None:
            validate.check_uuid(self.snapshot_id, "--snapshot-id")
        if self.name is not None:
            validate.check_name(self.name)
        if self.description is not None:
            validate.check_description(self.description)
        return self

    def body(self) -> dict[str, Any]:
        """The request document: only the fields given (VBS ignores `container` and `incremental`)."""
        backup: dict[str, Any] = {"volume_id": self.volume_id, "snapshot_id": self.snapshot_id}
        if self.name is not None:
            backup["name"] = self.name
        if self.description is not None:
            backup["description"] = self.description
        if self.force:
            backup["force"] = True
        return {"backup": backup}


def create_call(client: Client, spec: BackupSpec) -> Call:
    """The POST /v3/{project_id}/backups request for `spec` (validated first)."""
    return client.prepare("POST", "/backups", spec.checked().body())


ALLOWANCE = timedelta(minutes=10)
"""How much earlier than the first attempt a backup of the same volume, snapshot and name may have
been made and still be taken for the one a lost answer was about. It covers the clocks of vbs, the
gateway (the Date header) and the back end (`created_at`) disagreeing: a backup of the same volume,
snapshot and name made a little earlier holds the same data, while a duplicate costs quota."""


def default_name(now: datetime | None = None, token: str | None = None) -> str:
    """The name given to a backup created without --name, so it can be found again after a lost answer."""
    moment = (now or datetime.now(timezone.utc)).astimezone(timezone.utc)
    return f"vbs-{moment:%Y%m%d-%H%M%S}-{token or os.urandom(3).hex()}"


def create(
    client: Client,
    spec: BackupSpec,
    notify: Callable[[str], None] | None = None,
    now: Callable[[], datetime] = lambda: datetime.now(timezone.utc),
) -> dict[str, Any]:
    """Create a backup; returns the service's document `{"backup": {"id", "name", "links"}}` unchanged.

    Never creates two (vbscli.lost_answer): when the answer is lost after the request may have
    reached the service, the backup is looked up (same volume, snapshot and name, made since the
    first attempt, within ALLOWANCE) and reported if found; the request is sent again only when it
    is certainly not there.
    """
    call = create_call(client, spec)
    since = (now(), time.monotonic())

    def look() -> tuple[str, Any]:
        found = find_created(client, spec, since)
        return (lost_answer.DONE, found) if found is not None else (lost_answer.AGAIN, None)

    if spec.name:
        check = f"check: vbs backup list --volume-id {spec.volume_id} --name {spec.name}"
    else:
        check = f"check the volume's backups: vbs backup list --volume-id {spec.volume_id}"
    request = lost_answer.Request(
        call,
        name="create",
        what="the create request",
        look=look if spec.name else None,
        check=check,
        effect=f"backup '{spec.name}' may exist" if spec.name else "the backup may exist",
        looking=f"looking for backup '{spec.name}'",
        absent=f"backup '{spec.name}' does not exist",
        undone=f"backup '{spec.name}' was not created",
        found=lambda doc: f"backup {doc['backup']['id']} was created",
        read=created_document,
    )
    return lost_answer.send(client, request, notify)


def find_created(client: Client, spec: BackupSpec, since: tuple[datetime, float]) -> dict[str, Any] | None:
    """The backup this spec created since the first attempt, in the create answer's shape, or None.

    `since` is (our wall time, our monotonic time) at the first attempt. The first attempt is placed
    on the service's clock through the Date header of the look-up's answer when there is one (so that
    our own clock does not matter), else on ours; either way a backup made up to ALLOWANCE before it
    counts, so that a back end whose clock differs from the gateway's is not taken for "not there".
    """
    doc = list_backups(client, volume_id=spec.volume_id, name=spec.name, what="lookup")
    server_now = client.server_now()
    if server_now is not None:
        first_attempt = server_now - timedelta(seconds=time.monotonic() - since[1])
    else:
        first_attempt = since[0]
    earliest = first_attempt - ALLOWANCE
    for backup in doc["backups"]:
        if backup.get("name") != spec.name or backup.get("volume_id", spec.volume_id) != spec.volume_id:
            continue
        if backup.get("snapshot_id", spec.snapshot_id) != spec.snapshot_id:
            continue
        created = parse_time(backup.get("created_at"))
        if created is None:
            raise BadResponseError(f"backup {backup.get('id')} has no readable created_at")
        if created >= earliest:
            return {"backup": {"id": backup["id"], "links": backup.get("links", []), "name": backup.get("name")}}
    return None


def created_document(response: Response) -> dict[str, Any]:
    """Check that a create answer has the documented shape, so a broken answer never passes as success."""
    doc = response.json()
    backup = doc.get("backup") if isinstance(doc, dict) else None
    backup_id = backup.get("id") if isinstance(backup, dict) else None
    if not isinstance(backup_id, str) or not backup_id.strip():
        raise BadResponseError(
            f"the service answered HTTP {response.status} but without a backup id",
            "the backup may or may not exist: check the volume's backups before retrying",
        )
    links = backup.get("links", [])
    if not isinstance(links, list) or not all(isinstance(link, dict) for link in links):
        raise BadResponseError(
            f"the service answered HTTP {response.status} with malformed links for backup {backup_id}",
            "the backup was probably accepted: check it before retrying",
        )
    return doc


def probe(client: Client) -> float:
    """One cheap authenticated call (list at most one backup); returns its duration in seconds."""
    response = client.request("GET", "/backups", params={"limit": 1}, what="test")
    doc = response.json()
    if not isinstance(doc, dict) or not isinstance(doc.get("backups"), list):
        raise BadResponseError(
            f"the service answered HTTP {response.status} but not with a list of backups",
            "check that the endpoint is the VBS (block storage) service root",
        )
    return response.elapsed


LIST_PAGE = 200


def show(client: Client, backup_id: str, *, what: str = "show") -> dict[str, Any]:
    """GET one backup's full detail; the service's document `{"backup": {...}}` unchanged."""
    validate.check_uuid(backup_id, "backup ID")
    response = client.request("GET", f"/backups/{backup_id}", what=what)
    doc = response.json()
    backup = doc.get("backup") if isinstance(doc, dict) else None
    if not isinstance(backup, dict) or not isinstance(backup.get("id"), str):
        raise BadResponseError(
            f"the service answered HTTP {response.status} but not with a backup document",
            "check that the endpoint is the VBS (block storage) service root",
        )
    return doc


def list_backups(
    client: Client,
    volume_id: str | None = None,
    status: str | None = None,
    name: str | None = None,
    limit: int | None = None,
    *,
    what: str = "list",
) -> dict[str, Any]:
    """All matching backups in detail, following `next` links page by page (at most `limit`).

    The filters are sent, and checked again here: a service may ignore a filter it does not know.
    `what` names the request in retry lines (a create's look-up says "lookup")."""
    if volume_id is not None:
        validate.check_uuid(volume_id, "--volume-id")
    params = {"volume_id": volume_id, "status": status, "name": name}

    def keep(backup: dict[str, Any]) -> bool:  # a field the answer leaves out cannot be checked
        return (
            (volume_id is None or str(backup.get("volume_id", volume_id)).lower() == volume_id.lower())
            and (status is None or backup.get("status", status) == status)
            and (name is None or backup.get("name", name) == name)
        )

    pages = paging.pages(client, "/backups/detail", "backups", params, limit, LIST_PAGE, what=what, keep=keep)
    return {"backups": [item for page in pages for item in page]}


def wait_available(
    client: Client,
    backup_id: str,
    policy: WaitPolicy,
    on_status: Callable[[str, float], None] | None = None,
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.monotonic,
) -> dict[str, Any]:
    """Poll until the backup is `available` (its detail is returned), `error` or out of time.

    A failed poll (network, 5xx) is not the backup failing: polling goes on until the timeout. Every
    failure names the backup (`backup_id`): it exists, whatever happens to the waiting.
    """

    def look() -> tuple[bool, Any, str]:
        doc = show(client, backup_id, what="poll")
        status = str(doc["backup"].get("status") or "unknown")
        if status == "error":
            reason = doc["backup"].get("fail_reason") or "no reason given"
            raise BackupFailed(f"backup {backup_id} failed: {reason}", f"see: vbs backup show {backup_id}")
        return status == "available", doc, status

    check = f"vbs backup show {backup_id}"
    try:
        return polling.until(
            look, policy, what=f"backup {backup_id}", check=check, on_status=on_status, sleep=sleep, clock=clock
        )
    except BackupFailed as exc:
        raise exc.about_backup(backup_id) from None
    except WaitTimeout as exc:
        exc.hint = f"the backup goes on in the service; check it with: {check}"
        raise exc.about_backup(backup_id) from None
    except VbsError as exc:
        raise exc.about_backup(backup_id, f"backup {backup_id} was created, but waiting for it failed") from None

"""Backup operations of the VBS v3 API: what to send, and what a good answer looks like."""

from __future__ import annotations

import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from vbscli import validate
from vbscli.client import Call, Client, Response
from vbscli.errors import BackupFailed, BadResponseError, NetworkError, VbsError, WaitTimeout


@dataclass(frozen=True)
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


CLOCK_SKEW = timedelta(minutes=10)
"""How far the service's clock may be behind ours, when it sends no Date header to measure it by."""
DATE_RESOLUTION = timedelta(seconds=2)
"""Date headers count whole seconds."""


def default_name(now: datetime | None = None, token: str | None = None) -> str:
    """The name given to a backup created without --name, so it can be found again after a lost answer."""
    moment = (now or datetime.now(timezone.utc)).astimezone(timezone.utc)
    return f"vbs-{moment:%Y%m%d-%H%M%S}-{token or secrets.token_hex(3)}"


def create(
    client: Client,
    spec: BackupSpec,
    notify: Callable[[str], None] | None = None,
    now: Callable[[], datetime] = lambda: datetime.now(timezone.utc),
) -> dict[str, Any]:
    """Create a backup; returns the service's document `{"backup": {"id", "name", "links"}}` unchanged.

    Never creates two: when the answer is lost after the request may have reached the service, the
    backup is looked up (same volume, snapshot and name, created since the first attempt) and
    reported if found; the request is sent again only when it is certainly not there.
    """
    call = create_call(client, spec)
    since = (now(), time.monotonic())
    resends = (client.retry.max_attempts if client.retry else 1) - 1
    while True:
        try:
            response = client.send(call)
        except VbsError as exc:
            if not exc.ambiguous or not spec.name:
                raise
            try:
                found = find_created(client, spec, since)
            except VbsError as lookup:
                raise NetworkError(
                    f"the answer to the create request was lost ({exc.summary()}) and looking for "
                    f"backup '{spec.name}' failed too ({lookup.summary()})",
                    f"before creating it again, check: vbs backup list --volume-id {spec.volume_id} --name {spec.name}",
                    sent=True,
                ) from None
            if found is not None:
                if notify:
                    notify(
                        f"the answer was lost ({exc.summary()}), but backup {found['backup']['id']} "
                        "was created: reporting it"
                    )
                return found
            if resends <= 0:
                exc.message += "; the backup was not created"
                raise
            resends -= 1
            if notify:
                notify(
                    f"the answer was lost ({exc.summary()}) and backup '{spec.name}' does not exist: "
                    "sending the request again"
                )
            continue
        try:
            return created_document(response)
        except BadResponseError as exc:
            # Accepted, but the answer is unreadable: report the backup if it exists, never re-send.
            found = None
            if spec.name:
                try:
                    found = find_created(client, spec, since)
                except VbsError:
                    pass
            if found is None:
                raise
            if notify:
                notify(f"{exc.message}, but backup {found['backup']['id']} was created: reporting it")
            return found


def find_created(client: Client, spec: BackupSpec, since: tuple[datetime, float]) -> dict[str, Any] | None:
    """The backup this spec created since the first attempt, in the create answer's shape, or None.

    `since` is (our wall time, our monotonic time) at the first attempt. The first attempt is placed
    on the service's clock through the Date header of the look-up's answer, so that a backup of the
    same name made minutes earlier is not mistaken for this one; without a Date header, our clock
    is used with CLOCK_SKEW of tolerance.
    """
    doc = list_backups(client, volume_id=spec.volume_id, name=spec.name)
    server_now = client.server_now()
    if server_now is not None:
        earliest = server_now - timedelta(seconds=time.monotonic() - since[1]) - DATE_RESOLUTION
    else:
        earliest = since[0] - CLOCK_SKEW
    for backup in doc["backups"]:
        if backup.get("name") != spec.name or backup.get("volume_id", spec.volume_id) != spec.volume_id:
            continue
        if backup.get("snapshot_id", spec.snapshot_id) != spec.snapshot_id:
            continue
        created = _timestamp(backup.get("created_at"))
        if created is None:
            raise BadResponseError(f"backup {backup.get('id')} has no readable created_at")
        if created >= earliest:
            return {"backup": {"id": backup["id"], "links": backup.get("links", []), "name": backup.get("name")}}
    return None


def _timestamp(value: Any) -> datetime | None:
    """Service times are ISO 8601, usually without a zone (UTC is meant)."""
    if not isinstance(value, str):
        return None
    try:
        parsed = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=timezone.utc)


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


def link(backup: dict[str, Any], rel: str) -> str | None:
    """The href of the link with relation `rel`, if the answer has one."""
    for item in backup.get("links") or []:
        if isinstance(item, dict) and item.get("rel") == rel:
            href = item.get("href")
            return href if isinstance(href, str) else None
    return None


def probe(client: Client) -> float:
    """One cheap authenticated call (list at most one backup); returns its duration in seconds."""
    response = client.request("GET", "/backups", params={"limit": 1})
    doc = response.json()
    if not isinstance(doc, dict) or not isinstance(doc.get("backups"), list):
        raise BadResponseError(
            f"the service answered HTTP {response.status} but not with a list of backups",
            "check that the endpoint is the VBS (block storage) service root",
        )
    return response.elapsed


STATUSES = ("creating", "available", "error", "restoring", "deleting", "error_restoring")
LIST_PAGE = 200


def show(client: Client, backup_id: str) -> dict[str, Any]:
    """GET one backup's full detail; the service's document `{"backup": {...}}` unchanged."""
    validate.check_uuid(backup_id, "backup ID")
    response = client.request("GET", f"/backups/{backup_id}")
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
) -> dict[str, Any]:
    """All matching backups in detail, following `next` links page by page (at most `limit`)."""
    if volume_id is not None:
        validate.check_uuid(volume_id, "--volume-id")
    params: dict[str, Any] = {"volume_id": volume_id, "status": status, "name": name}
    found: list[dict[str, Any]] = []
    marker: str | None = None
    seen: set[str] = set()
    while True:
        page = LIST_PAGE if limit is None else min(LIST_PAGE, limit - len(found))
        response = client.request("GET", "/backups/detail", params={**params, "limit": page, "marker": marker})
        doc = response.json()
        items = doc.get("backups") if isinstance(doc, dict) else None
        if not isinstance(items, list) or not all(isinstance(i, dict) for i in items):
            raise BadResponseError(
                f"the service answered HTTP {response.status} but not with a list of backups",
                "check that the endpoint is the VBS (block storage) service root",
            )
        found.extend(items)
        marker = _next_marker(doc)
        if not items or marker is None or marker in seen or (limit is not None and len(found) >= limit):
            break
        seen.add(marker)  # a service that hands out the same page twice must not loop forever
    return {"backups": found[:limit] if limit is not None else found}


def _next_marker(doc: dict[str, Any]) -> str | None:
    """The marker of the `next` link. Its host is not used: links may carry placeholder hosts."""
    for item in doc.get("backups_links") or []:
        if isinstance(item, dict) and item.get("rel") == "next" and isinstance(item.get("href"), str):
            query = dict(parse_qsl(urlsplit(item["href"]).query))
            return query.get("marker") or None
    return None


@dataclass
class WaitPolicy:
    """How to poll: start at `first` seconds, grow by `factor` up to `interval`, give up after `timeout`."""

    timeout: float = 3600.0
    interval: float = 30.0
    first: float = 2.0
    factor: float = 1.5


def wait_available(
    client: Client,
    backup_id: str,
    policy: WaitPolicy,
    on_status: Callable[[str, float], None] | None = None,
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.monotonic,
) -> dict[str, Any]:
    """Poll until the backup is `available` (its detail is returned), `error` or out of time.

    A failed poll (network, 5xx) is not the backup failing: polling goes on until the timeout.
    """
    started = clock()
    delay = policy.first
    status = "unknown"
    last_problem: str | None = None
    while True:
        try:
            doc = show(client, backup_id)
            status = str(doc["backup"].get("status") or "unknown")
            last_problem = None
        except VbsError as exc:
            if getattr(exc, "exit_code", None) in (1, 4):  # gone, or no longer allowed to look
                raise
            last_problem = exc.one_line()
        elapsed = clock() - started
        if on_status:
            on_status(status, elapsed)
        if status == "available":
            return doc
        if status == "error":
            reason = doc["backup"].get("fail_reason") or "no reason given"
            raise BackupFailed(f"backup {backup_id} failed: {reason}", f"see: vbs backup show {backup_id}")
        remaining = policy.timeout - elapsed
        if remaining <= 0:
            state = f"still {status}" if last_problem is None else f"in an unknown state ({last_problem})"
            raise WaitTimeout(
                f"backup {backup_id} is {state} after {elapsed:.0f} s of waiting",
                f"the backup goes on in the service; check it with: vbs backup show {backup_id}",
            )
        sleep(min(delay, remaining))
        delay = min(delay * policy.factor, policy.interval)

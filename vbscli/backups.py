"""Backup operations of the VBS v3 API: what to send, and what a good answer looks like."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from vbscli import validate
from vbscli.client import Call, Client, Response
from vbscli.errors import BadResponseError


@dataclass(frozen=True)
class BackupSpec:
    """What the user asked to back up; `checked()` applies the service's rules client-side."""

    volume_id: str
    snapshot_id: str
    name: str | None = None
    description: str | None = None
    force: bool = False

    def checked(self) -> BackupSpec:
        """Raise InputError on the first broken rule, in the order the options are usually typed."""
        validate.check_uuid(self.volume_id, "--volume-id")
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


def create(client: Client, spec: BackupSpec) -> dict[str, Any]:
    """Create a backup; returns the service's document `{"backup": {"id", "name", "links"}}` unchanged."""
    response = client.send(create_call(client, spec))
    return created_document(response)


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

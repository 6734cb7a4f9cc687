"""The project's disks: one disk's detail (a restore's target), and the names of all of them
(`GET /v3/{project_id}/volumes/detail`), which reports show."""

from __future__ import annotations

from typing import Any

from vbscli import paging, validate
from vbscli.client import Client
from vbscli.errors import BadResponseError

LIST_PAGE = 200


def show(client: Client, volume_id: str, *, what: str = "show") -> dict[str, Any]:
    validate.check_uuid(volume_id, "volume ID")
    response = client.request("GET", f"/volumes/{volume_id}", what=what)
    doc = response.json()
    volume = doc.get("volume") if isinstance(doc, dict) else None
    if not isinstance(volume, dict) or not isinstance(volume.get("id"), str):
        raise BadResponseError(
            f"the service answered HTTP {response.status} but not with a volume document",
            "check that the endpoint is the block storage service root",
        )
    return doc


def names(client: Client) -> dict[str, str]:
    """Volume ID (lower case) -> name, for every disk that has a name; all pages, GETs only."""
    found: dict[str, str] = {}
    for page in paging.pages(client, "/volumes/detail", "volumes", page_size=LIST_PAGE, what="list"):
        for volume in page:
            volume_id, name = volume.get("id"), volume.get("name")
            if isinstance(volume_id, str) and isinstance(name, str) and name.strip():
                found[volume_id.lower()] = name
    return found

"""The project's disks (`GET /v3/{project_id}/volumes/detail`): reports show their names."""

from __future__ import annotations

from vbscli import paging
from vbscli.client import Client

LIST_PAGE = 200


def names(client: Client) -> dict[str, str]:
    """Volume ID (lower case) -> name, for every disk that has a name; all pages, GETs only."""
    found: dict[str, str] = {}
    for page in paging.pages(client, "/volumes/detail", "volumes", page_size=LIST_PAGE, what="list"):
        for volume in page:
            volume_id, name = volume.get("id"), volume.get("name")
            if isinstance(volume_id, str) and isinstance(name, str) and name.strip():
                found[volume_id.lower()] = name
    return found

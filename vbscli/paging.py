"""Marker paging of the service's listings (backups, disks): follow `next` links page by page.

Only the `marker` of a next link is used: links may carry placeholder hosts, so requests always go
to the configured endpoint. Reads are GETs, which the client repeats on failures that allow it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from vbscli.client import Client
from vbscli.errors import BadResponseError


def pages(
    client: Client,
    path: str,
    key: str,
    params: Mapping[str, Any] | None = None,
    limit: int | None = None,
    page_size: int = 200,
    *,
    what: str | None = None,
    keep: Callable[[dict[str, Any]], bool] | None = None,
) -> Iterator[list[dict[str, Any]]]:
    """The items of each page of `GET {path}` (the list under `key`), at most `limit` in all.

    A caller that digests each page as it comes never holds more than one page of raw objects.
    `what` names the request in retry lines. `keep` checks each item on our side (a service may
    ignore a filter it does not know); `limit` counts the items kept.
    """
    base = dict(params or {})
    marker: str | None = None
    seen: set[str] = set()
    count = 0
    while True:
        size = page_size if limit is None else min(page_size, limit - count)
        response = client.request("GET", path, params={**base, "limit": size, "marker": marker}, what=what)
        doc = response.json()
        items = doc.get(key) if isinstance(doc, dict) else None
        if not isinstance(items, list) or not all(isinstance(i, dict) for i in items):
            raise BadResponseError(
                f"the service answered HTTP {response.status} but not with a list of {key}",
                "check that the endpoint is the VBS (block storage) service root",
            )
        read = len(items)
        if keep is not None:
            items = [item for item in items if keep(item)]
        if limit is not None:
            items = items[: limit - count]
        count += len(items)
        yield items
        marker = next_marker(doc, key)
        if not read or marker is None or marker in seen or (limit is not None and count >= limit):
            return
        seen.add(marker)  # a service that hands out the same page twice must not loop forever


def next_marker(doc: dict[str, Any], key: str) -> str | None:
    """The marker of the `next` link under `{key}_links`, if there is one."""
    for item in doc.get(f"{key}_links") or []:
        if isinstance(item, dict) and item.get("rel") == "next" and isinstance(item.get("href"), str):
            query = dict(parse_qsl(urlsplit(item["href"]).query))
            return query.get("marker") or None
    return None

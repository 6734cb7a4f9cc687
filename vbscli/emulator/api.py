"""The emulated API's routes: which call a request is (the route faults match on and the methods it
allows), and the store's answer to it. Authentication, the project in the URL and the HTTP itself are
the handler's (vbscli.emulator.handler)."""

from __future__ import annotations

import json
import re
from typing import TYPE_CHECKING, Any

from vbscli.emulator.answers import error_body, invalid, overlimit_headers

if TYPE_CHECKING:
    from vbscli.emulator.cycle import CycleStore

PATTERNS = (
    # (route, pattern): `project` is the project in the URL, `rest` the part after a collection
    ("backup_restore", re.compile(r"^/v3/(?P<project>[^/]+)/backups/(?P<rest>[^/]+)/restore/?$")),
    ("backups", re.compile(r"^/v3/(?P<project>[^/]+)/backups(?:/(?P<rest>[^/]+))?/?$")),
    ("snapshots", re.compile(r"^/v3/(?P<project>[^/]+)/snapshots(?:/(?P<rest>[^/]+))?/?$")),
    ("volumes", re.compile(r"^/v3/(?P<project>[^/]+)/volumes(?:/(?P<rest>[^/]+))?/?$")),
)
ALLOWED = {
    "backups": ("GET", "POST"),
    "backups_detail": ("GET",),
    "backup": ("GET", "DELETE"),
    "auth_tokens": ("POST",),
    "snapshots": ("GET", "POST"),
    "snapshots_detail": ("GET",),
    "snapshot": ("GET", "DELETE"),
    "backup_restore": ("POST",),
    "volume": ("GET",),
    "volumes": ("GET",),
    "volumes_detail": ("GET",),
}
"""Every route, and the methods it answers (others get 405)."""
ONE = {"backups": "backup", "snapshots": "snapshot", "volumes": "volume"}
"""A collection's route, and the route of one of its items (`/backups/ID`); `/.../detail` is `<route>_detail`."""


def match(path: str) -> tuple[str, re.Match[str] | None] | None:
    """(route, match) for a path of the API (no match for the IAM login); None for any other path."""
    if path.rstrip("/") == "/v3/auth/tokens":
        return "auth_tokens", None
    for name, pattern in PATTERNS:
        found = pattern.match(path)
        if found:
            rest = found.groupdict().get("rest")
            if name in ONE and rest is not None:
                name = f"{name}_detail" if rest == "detail" else ONE[name]
            return name, found
    return None


def route_of(path: str) -> str:
    """The route name faults match on (a key of ALLOWED), or `unknown`."""
    found = match(path)
    return found[0] if found else "unknown"


def microversion(header: str | None) -> tuple[int, int]:
    """(3, 66) from 'volume 3.66'; the base version 3.0 when absent or unreadable."""
    found = re.fullmatch(r"\s*volume\s+(\d+)\.(\d+)\s*", (header or "").lower())
    return (int(found.group(1)), int(found.group(2))) if found else (3, 0)


def version_headers(header: str | None) -> dict[str, str]:
    """Echo the microversion asked for (or the base one), as the service does."""
    asked = (header or "").strip().lower()
    version = asked if re.match(r"^volume 3\.\d{1,3}$", asked) else "volume 3.0"
    return {"OpenStack-API-Version": version, "Vary": "OpenStack-API-Version"}


def answer(
    store: CycleStore,
    method: str,
    route: str,
    rest: str | None,
    query: dict[str, str],
    body: bytes,
    content_type: str,
    version_header: str | None,
    base: str,
    path: str,
) -> tuple[int, Any, dict[str, str]]:
    """The store's answer to an allowed call of a service route (authenticated, in the caller's
    project): (status, document, headers)."""
    headers = version_headers(version_header)
    if method == "POST":
        if content_type != "application/json":
            if route == "backups":
                shown = content_type or "(none)"
                return 415, error_body(415, f"Unsupported Content-Type {shown!r}; send application/json."), headers
            return (
                415,
                {"badMediaType": {"code": 415, "message": f"Unsupported Content-Type {content_type!r}."}},
                headers,
            )
        try:
            doc = json.loads(body.decode("utf-8"))
        except (ValueError, UnicodeDecodeError):
            if route == "backups":
                message = "Malformed request body: the body is not valid JSON."
                return 400, {"badRequest": {"code": "VolumeBackup.0001", "message": message}}, headers
            status, found = invalid("Malformed request body: the body is not valid JSON.")
            return status, found, headers
        if route == "backups":
            status, found = store.create(doc, base)
        elif route == "snapshots":
            status, found = store.create_snapshot(doc, microversion(version_header))
        else:
            status, found = store.restore(str(rest), doc)
        return status, found, {**headers, **overlimit_headers(found)}
    detail = route.endswith("_detail")
    if route in ("backups", "backups_detail"):
        status, found = store.listing(query, base, path, detail=detail)
    elif route in ("snapshots", "snapshots_detail"):
        status, found = store.snapshot_listing(query, base, path, detail=detail)
    elif route in ("volumes", "volumes_detail"):
        status, found = store.volume_listing(query, base, path, detail=detail)
    elif route == "backup":
        status, found = store.delete_backup(str(rest)) if method == "DELETE" else store.show(str(rest), base)
    elif route == "snapshot":
        status, found = store.delete_snapshot(str(rest)) if method == "DELETE" else store.show_snapshot(str(rest))
    else:
        status, found = store.show_volume(str(rest), base)
    return status, found, headers

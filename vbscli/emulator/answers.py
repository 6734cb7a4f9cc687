"""The service's answers as the emulator writes them: (status, document) pairs, the error documents of
VBS and upstream Cinder, and times as the service prints them."""

from __future__ import annotations

from datetime import datetime
from typing import Any

Answer = tuple[int, Any]
"""(HTTP status, JSON document, or None for an answer without a body)."""

# The outer key OpenStack services put around an error of each status (Cinder's Fault names).
FAULT_NAMES = {
    400: "badRequest",
    401: "unauthorized",
    403: "forbidden",
    404: "itemNotFound",
    405: "badMethod",
    409: "conflictingRequest",
    413: "overLimit",
    415: "badMediaType",
    429: "overLimit",
    501: "notImplemented",
    503: "serviceUnavailable",
}
MESSAGES = {
    500: "The server has either erred or is incapable of performing the requested operation.",
    503: "The service is temporarily unavailable; try again later.",
}


def error_body(status: int, message: str | None = None) -> dict[str, Any]:
    """A service-shaped error document for a status: {"<faultName>": {"code": status, "message": ...}}."""
    name = FAULT_NAMES.get(status, "computeFault" if status >= 500 else "badRequest")
    text = message or MESSAGES.get(status) or f"Injected fault (HTTP {status})."
    return {name: {"code": status, "message": text}}


def bad(code: str, message: str) -> Answer:
    """VBS's bad request, with one of its codes (VolumeBackup.00xx)."""
    return 400, {"badRequest": {"code": code, "message": message}}


def invalid(message: str) -> Answer:
    """Upstream's plain bad request: the code is the HTTP status."""
    return 400, {"badRequest": {"code": 400, "message": message}}


def not_found(code: str | int, message: str) -> Answer:
    return 404, {"itemNotFound": {"code": code, "message": message}}


def over_quota(kind: str, limit: int) -> Answer:
    """Cinder's OverLimit for a full quota of backups or snapshots: 413, and come back never (0)."""
    what = {"backups": "BackupLimitExceeded", "snapshots": "SnapshotLimitExceeded"}[kind]
    message = f"{what}: Maximum number of {kind} allowed ({limit}) exceeded"
    return 413, {"overLimit": {"code": 413, "message": message, "retryAfter": "0"}}


def overlimit_headers(doc: Any) -> dict[str, str]:
    """Cinder's OverLimit fault sends its `retryAfter` as a Retry-After header too."""
    inner = doc.get("overLimit") if isinstance(doc, dict) else None
    if isinstance(inner, dict) and inner.get("retryAfter") is not None:
        return {"Retry-After": str(inner["retryAfter"])}
    return {}


def service_time(moment: datetime) -> str:
    """A time as the service writes it: ISO 8601 to the microsecond, no zone (UTC is meant)."""
    return moment.replace(tzinfo=None).isoformat(timespec="microseconds")

"""Read the service's error answers, whatever shape (or non-shape) they come in.

VBS answers errors in at least three JSON shapes, and gateways in front of it answer with HTML,
empty or cut-off bodies. `parse_error` never raises: any bytes give a `ServiceError`.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from http import HTTPStatus

from vbscli.errors import ServiceError

REQUEST_ID_HEADERS = ("X-Request-Id", "X-Openstack-Request-Id", "X-Compute-Request-Id")
MAX_MESSAGE = 400

_CONTROL = re.compile(r"[\x00-\x1f\x7f]+")
_TITLE = re.compile(rb"<title[^>]*>(.*?)</title>", re.IGNORECASE | re.DOTALL)
_TAGS = re.compile(r"<[^>]*>")


def clean(text: object, limit: int = MAX_MESSAGE) -> str:
    """One printable line: control characters and runs of whitespace become one space."""
    line = " ".join(_CONTROL.sub(" ", str(text)).split())
    return line if len(line) <= limit else line[: limit - 1] + "…"


def header(headers: Mapping[str, str], name: str) -> str | None:
    """Case-insensitive header lookup that works on plain dicts too."""
    lower = name.lower()
    for key, value in headers.items():
        if key.lower() == lower:
            return value
    return None


def parse_retry_after(value: object) -> float | None:
    """Seconds from a `Retry-After` header or `retryAfter` field; None if absent or unreadable.

    HTTP-date values are not used by this service, so only delta-seconds are read.
    """
    if value is None or isinstance(value, bool):
        return None
    try:
        seconds = float(str(value).strip())
    except ValueError:
        return None
    if seconds != seconds or seconds < 0 or seconds == float("inf"):
        return None
    return seconds


def _reason(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "error"


def _from_document(doc: object) -> tuple[str | None, str | None, str | None, str | None, object]:
    """(code, message, error class, request id, retryAfter) from a decoded JSON document."""
    if not isinstance(doc, dict):
        return None, None, None, None, None
    # API gateway: {"error_code": "APIGW.0308", "error_msg": "...", "request_id": "..."}
    if "error_code" in doc or "error_msg" in doc:
        return (
            _text(doc.get("error_code")),
            _text(doc.get("error_msg")),
            None,
            _text(doc.get("request_id")),
            doc.get("retryAfter"),
        )
    # OpenStack: {"badRequest": {"code": ..., "message": ...}} or {"error": {...}}
    inner_items = [(k, v) for k, v in doc.items() if isinstance(v, dict)]
    if len(inner_items) == 1:
        key, inner = inner_items[0]
        code = inner.get("code")
        error_class = None if key == "error" else str(key)
        if isinstance(code, str) and code.strip():
            code_text: str | None = code
        else:
            code_text = error_class or _text(inner.get("type"))
        message = _text(inner.get("message")) or _text(inner.get("msg"))
        if message is None and isinstance(inner.get("error_msg"), str):
            message = inner["error_msg"]
            code_text = _text(inner.get("error_code")) or code_text
        return (
            code_text,
            message,
            error_class,
            _text(inner.get("request_id")),
            inner.get("retryAfter", inner.get("retry_after")),
        )
    # Flat: {"code": ..., "message": ...}
    if "message" in doc or "code" in doc:
        code = doc.get("code")
        return (
            code if isinstance(code, str) and code.strip() else None,
            _text(doc.get("message")),
            None,
            _text(doc.get("request_id")),
            doc.get("retryAfter"),
        )
    return None, None, None, None, None


def _text(value: object) -> str | None:
    if value is None or isinstance(value, (dict, list)):
        return None
    text = clean(value)
    return text or None


def _describe_unreadable(body: bytes, content_type: str | None) -> str:
    if not body.strip():
        return "empty body"
    title = _TITLE.search(body[:65536])
    if title:
        text = clean(_TAGS.sub(" ", title.group(1).decode("utf-8", "replace")), 120)
        if text:
            return f"HTML page '{text}'"
    kind = "HTML page" if b"<" in body[:512] else "unreadable body"
    if content_type and "json" in content_type.lower():
        kind = "truncated or malformed JSON"
    return kind


def parse_error(status: int, headers: Mapping[str, str], body: bytes) -> ServiceError:
    """Build a ServiceError from an error answer; never raises."""
    content_type = header(headers, "Content-Type")
    doc: object = None
    if body:
        try:
            doc = json.loads(body.decode("utf-8", "replace"))
        except (ValueError, RecursionError):
            doc = None
    code, message, error_class, body_request_id, body_retry = _from_document(doc)
    if message is None:
        if doc is not None and not isinstance(doc, dict) or (isinstance(doc, dict) and code is None):
            detail = "an unrecognised JSON body"
        elif doc is None:
            detail = _describe_unreadable(body, content_type)
        else:
            detail = "no message"
        message = f"{_reason(status)} ({detail})"
    request_id = None
    for name in REQUEST_ID_HEADERS:
        value = header(headers, name)
        if value:
            request_id = clean(value, 200)
            break
    request_id = request_id or body_request_id
    retry_after = parse_retry_after(header(headers, "Retry-After"))
    if retry_after is None:
        retry_after = parse_retry_after(body_retry)
    return ServiceError(
        status=status,
        code=code,
        message=message,
        request_id=request_id,
        error_class=error_class,
        retry_after=retry_after,
    )

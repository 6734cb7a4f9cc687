"""SDK-HMAC-SHA256 request signing for AK/SK credentials (Open Telekom Cloud / Huawei Cloud APIs).

Pure functions over the request's parts, so the published test vectors can check them exactly.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping
from datetime import datetime, timezone
from urllib.parse import quote, unquote, urlsplit

ALGORITHM = "SDK-HMAC-SHA256"
DATE_FORMAT = "%Y%m%dT%H%M%SZ"
_SAFE = "-_.~"  # quote() keeps A-Za-z0-9 and these


def _encode(text: str) -> str:
    return quote(text, safe=_SAFE)


def canonical_uri(path: str) -> str:
    """Each decoded path segment re-encoded, joined with '/', always ending with '/'."""
    segments = [_encode(unquote(segment)) for segment in path.split("/")]
    uri = "/".join(segments)
    return uri if uri.endswith("/") else uri + "/"


def canonical_query(query: str) -> str:
    """The query's pairs, percent-decoded (RFC 3986: `+` is a plus sign, not a space) and encoded
    again, sorted. vbs sends its queries encoded the same way (vbscli.client.encode_query), so what
    is signed is what is sent."""
    pairs = []
    for part in query.split("&"):
        if part:
            key, _, value = part.partition("=")
            pairs.append((_encode(unquote(key)), _encode(unquote(value))))
    return "&".join(f"{k}={v}" for k, v in sorted(pairs))


def canonical_request(method: str, url: str, headers: Mapping[str, str], signed: list[str], body: bytes) -> str:
    parts = urlsplit(url)
    lowered = {k.lower(): v for k, v in headers.items()}
    canonical_headers = "".join(f"{name}:{lowered[name].strip()}\n" for name in signed)
    return "\n".join(
        [
            method.upper(),
            canonical_uri(parts.path or "/"),
            canonical_query(parts.query),
            canonical_headers,
            ";".join(signed),
            hashlib.sha256(body).hexdigest(),
        ]
    )


def string_to_sign(sdk_date: str, request: str) -> str:
    return f"{ALGORITHM}\n{sdk_date}\n{hashlib.sha256(request.encode('utf-8')).hexdigest()}"


def signature(secret_key: str, to_sign: str) -> str:
    return hmac.new(secret_key.encode("utf-8"), to_sign.encode("utf-8"), hashlib.sha256).hexdigest()


def signed_header_names(headers: Mapping[str, str]) -> list[str]:
    """Every header present is signed (host and x-sdk-date always are), sorted by lower-case name."""
    return sorted({k.lower() for k in headers} | {"host", "x-sdk-date"})


def sdk_date(now: datetime | None = None) -> str:
    return (now or datetime.now(timezone.utc)).astimezone(timezone.utc).strftime(DATE_FORMAT)


def sign_request(
    method: str,
    url: str,
    headers: dict[str, str],
    body: bytes,
    access_key: str,
    secret_key: str,
    now: datetime | None = None,
) -> None:
    """Add X-Sdk-Date, Host (if missing) and Authorization to `headers`, in place."""
    if not any(k.lower() == "x-sdk-date" for k in headers):
        headers["X-Sdk-Date"] = sdk_date(now)
    if not any(k.lower() == "host" for k in headers):
        headers["Host"] = urlsplit(url).netloc
    signable = {k: v for k, v in headers.items() if k.lower() not in ("authorization", "user-agent")}
    names = signed_header_names(signable)
    date = next(v for k, v in headers.items() if k.lower() == "x-sdk-date")
    request = canonical_request(method, url, signable, names, body)
    sig = signature(secret_key, string_to_sign(date, request))
    headers["Authorization"] = f"{ALGORITHM} Access={access_key}, SignedHeaders={';'.join(names)}, Signature={sig}"

"""The one secret masker: headers, bodies, settings and free text (exception messages) pass through here
before anything is shown.

Two ways to recognise a secret: by where it sits (a header such as X-Auth-Token, a key such as
`password`), and by its value, for text that quotes it anywhere (an exception's message): every
credential is `remember`ed when vbs reads it, and `text()` masks each remembered value wherever it
appears. Standard library only, so every layer may use it.
"""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Mapping
from typing import Any

MASK = "<redacted>"
SECRET_HEADERS = frozenset({"x-auth-token", "authorization", "x-security-token", "x-subject-token"})
"""Header names whose values are secrets (compared in lower case)."""
SECRET_FIELDS = frozenset(
    {
        "token",
        "password",
        "secret",
        "secret_key",
        "access_secret",
        "security_token",
        "securitytoken",
        "application_credential_secret",
    }
)
"""Keys of settings and JSON documents whose values are secrets (compared in lower case). A key
`<name>_env` only names a variable and is not secret."""

_MIN_LENGTH = 4  # shorter values are not secrets worth hiding, and masking them would garble text
_remembered: set[str] = set()
_lock = threading.Lock()
_PATTERNS = (
    # "X-Auth-Token: abc", "'X-Auth-Token': 'abc'", "x-subject-token=abc"
    r"(?i)((?:x-auth-token|x-subject-token|x-security-token)['\"]?\s*[:=]\s*['\"]?)([^\s'\",;}]+)",
    r"(?i)(signature=)([0-9a-f]{16,})",
    r"(?i)(\"(?:password|secret|secret_key|security_token)\"\s*:\s*\")((?:[^\"\\]|\\.)*)",
)
"""Credential-shaped text, masked even when the value was never remembered (compiled on first use)."""


def is_secret_key(key: object) -> bool:
    return isinstance(key, str) and key.lower() in SECRET_FIELDS


def remember(*values: object) -> None:
    """Register secret values, so that `text()` masks them wherever they turn up."""
    with _lock:
        for value in values:
            if isinstance(value, str) and len(value.strip()) >= _MIN_LENGTH:
                _remembered.add(value)
                _remembered.add(value.strip())
                _remembered.add(repr(value)[1:-1])  # as an exception message quotes it: '\r' shown as \\r


def text(value: object) -> str:
    """`value` as text with every remembered secret and every credential-shaped part masked."""
    shown = str(value)
    with _lock:
        secrets = sorted(_remembered, key=len, reverse=True)
    for secret in secrets:
        if secret and secret in shown:
            shown = shown.replace(secret, MASK)
    for pattern in _PATTERNS:
        shown = re.sub(pattern, lambda m: m.group(1) + MASK, shown)
    return shown


def headers(items: Mapping[str, str]) -> dict[str, str]:
    """A copy with every credential header masked; AK/SK keeps the visible access-key part."""
    shown: dict[str, str] = {}
    for name, value in items.items():
        if name.lower() == "authorization" and value.startswith("SDK-HMAC-SHA256 "):
            fields = [f.strip() for f in value[len("SDK-HMAC-SHA256 ") :].split(",")]
            kept = [f if not f.startswith("Signature=") else f"Signature={MASK}" for f in fields]
            shown[name] = "SDK-HMAC-SHA256 " + ", ".join(kept)
        elif name.lower() in SECRET_HEADERS:
            shown[name] = MASK
        else:
            shown[name] = text(value)
    return shown


def mapping(node: Any) -> Any:
    """A copy of a document or settings tree with the value of every secret key masked.

    Containers under a secret key are walked, not masked (Keystone's answer has a `token` object
    that holds no secret); empty values stay empty, so "not set" still shows."""
    if isinstance(node, dict):
        return {
            k: (MASK if is_secret_key(k) and v not in (None, "") and not isinstance(v, (dict, list)) else mapping(v))
            for k, v in node.items()
        }
    if isinstance(node, list):
        return [mapping(v) for v in node]
    return node


def holds_secret(node: Any) -> bool:
    """True if any secret key in the tree has a value (for the profile file's permission warning)."""
    if isinstance(node, dict):
        return any(
            (is_secret_key(k) and v not in (None, "") and not isinstance(v, (dict, list))) or holds_secret(v)
            for k, v in node.items()
        )
    if isinstance(node, list):
        return any(holds_secret(v) for v in node)
    return False


def body(data: bytes, limit: int = 4096) -> str:
    """A body as text for a trace: JSON with secret fields masked, other bytes cut to `limit`."""
    if not data:
        return ""
    try:
        doc = json.loads(data)
    except (ValueError, RecursionError):
        shown = data[:limit].decode("utf-8", "replace")
        return text(shown) + (f"… ({len(data)} bytes)" if len(data) > limit else "")
    shown = text(json.dumps(mapping(doc), ensure_ascii=False))
    return shown if len(shown) <= limit else shown[:limit] + f"… ({len(data)} bytes)"

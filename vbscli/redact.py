"""Masking of secrets in anything that may be shown: headers, bodies, URLs."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from vbscli.auth import SECRET_HEADERS

MASK = "<redacted>"
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
"""Keys whose values are secrets, wherever they appear: request bodies, profiles, clouds.yaml."""


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
            shown[name] = value
    return shown


def _mask(node: Any) -> Any:
    if isinstance(node, dict):
        return {
            k: (MASK if isinstance(k, str) and k.lower() in SECRET_FIELDS and v else _mask(v)) for k, v in node.items()
        }
    if isinstance(node, list):
        return [_mask(v) for v in node]
    return node


def document(node: Any) -> Any:
    """A copy of a document (settings, a profile) fit to print: every secret value masked."""
    return _mask(node)


def body(data: bytes, limit: int = 4096) -> str:
    """A body as text for a trace: JSON with secret fields masked, other bytes cut to `limit`."""
    if not data:
        return ""
    text = data[:limit].decode("utf-8", "replace")
    try:
        doc = json.loads(data)
    except (ValueError, RecursionError):
        return text + (f"… ({len(data)} bytes)" if len(data) > limit else "")
    shown = json.dumps(_mask(doc), ensure_ascii=False)
    return shown if len(shown) <= limit else shown[:limit] + f"… ({len(data)} bytes)"

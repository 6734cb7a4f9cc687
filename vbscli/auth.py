"""How a request proves who sends it. The HTTP client calls `sign()` on every request.

Only IAM tokens exist today; password (token from IAM) and AK/SK signing plug in here with the same
`Auth` interface, without changes to the client or the commands.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Protocol

from vbscli.errors import ConfigError

# Header names whose values are secrets: never printed, not even under --debug.
SECRET_HEADERS = frozenset({"x-auth-token", "authorization", "x-security-token", "x-subject-token"})


class Auth(Protocol):
    """Adds credentials to a request about to be sent."""

    kind: str

    def sign(self, method: str, url: str, headers: dict[str, str], body: bytes) -> None:
        """Add or change headers in place; called once per attempt, after all other headers are set."""


class TokenAuth:
    """An IAM (Keystone) token sent as X-Auth-Token."""

    kind = "token"

    def __init__(self, token: str) -> None:
        self._token = token

    def sign(self, method: str, url: str, headers: dict[str, str], body: bytes) -> None:
        headers["X-Auth-Token"] = self._token

    def __repr__(self) -> str:  # keep the token out of any accidental repr
        return "TokenAuth(<redacted>)"


def build_auth(auth: Mapping[str, Any]) -> Auth:
    """The Auth for a resolved `auth:` block (see vbscli.config)."""
    kind = auth.get("type", "token")
    if kind == "token":
        return TokenAuth(str(auth["token"]))
    raise ConfigError(f"unknown auth type {kind!r}")

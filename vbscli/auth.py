"""How a request proves who sends it: an IAM token, a password login, or an AK/SK signature.

The HTTP client calls `sign()` on every attempt and, on a 401, asks `refresh()` whether one more
attempt can succeed. Nothing here prints; secrets never leave these objects except in headers.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Protocol

from vbscli import redact, signing
from vbscli.clock import Clock, utcnow
from vbscli.errors import ConfigError


class Auth(Protocol):
    """Adds credentials to a request about to be sent."""

    kind: str

    def sign(self, method: str, url: str, headers: dict[str, str], body: bytes) -> None:
        """Add or change headers in place, after all other headers are set."""

    def refresh(self, rejected: Mapping[str, str] | None = None) -> bool:
        """After a 401 for a request sent with the headers `rejected`: True if one more attempt, signed
        afresh, makes sense (new credentials were obtained, possibly by another thread)."""

    def project_id(self) -> str | None:
        """The project the credentials are scoped to, when they tell it (a password login does)."""


class TokenAuth:
    """An IAM (Keystone) token sent as X-Auth-Token; a 401 means it expired or was revoked."""

    kind = "token"

    def __init__(self, token: str) -> None:
        self._token = token
        redact.remember(token)

    def sign(self, method: str, url: str, headers: dict[str, str], body: bytes) -> None:
        headers["X-Auth-Token"] = self._token

    def refresh(self, rejected: Mapping[str, str] | None = None) -> bool:
        return False

    def project_id(self) -> str | None:
        return None

    def __repr__(self) -> str:
        return "TokenAuth(<redacted>)"


class AkSkAuth:
    """SDK-HMAC-SHA256 signatures. A 401 is never retried: five failures lock the key for 5 minutes."""

    kind = "aksk"

    def __init__(
        self,
        access_key: str,
        secret_key: str,
        security_token: str | None = None,
        project: str | None = None,
        clock: Clock = utcnow,
    ) -> None:
        self.access_key = access_key
        self._secret_key = secret_key
        redact.remember(secret_key, security_token)
        self._security_token = security_token
        self._project = project
        self._clock = clock

    def sign(self, method: str, url: str, headers: dict[str, str], body: bytes) -> None:
        for name in [k for k in headers if k.lower() in ("x-sdk-date", "authorization")]:
            del headers[name]  # a retry is signed afresh, with a new date
        if self._project:
            headers["X-Project-Id"] = self._project
        if self._security_token:
            headers["X-Security-Token"] = self._security_token
        signing.sign_request(method, url, headers, body, self.access_key, self._secret_key, self._clock())

    def refresh(self, rejected: Mapping[str, str] | None = None) -> bool:
        return False

    def project_id(self) -> str | None:
        return None

    def __repr__(self) -> str:
        return f"AkSkAuth(access_key={self.access_key!r}, secret_key=<redacted>)"


def build_auth(
    auth: Mapping[str, Any],
    project_id: str | None = None,
    *,
    login: Any = None,
    cache: Any = None,
    clock: Clock = utcnow,
    catalog: bool = False,
    fresh_login: bool = False,
) -> Auth:
    """The Auth for a resolved `auth:` block (see vbscli.config).

    `login` performs the IAM call (over the client's transport) and `cache` keeps tokens between
    runs; both are needed for the types that log in. With `catalog` (no endpoint configured), a
    token that has an auth_url is traded at IAM for a scoped one whose service catalog gives the
    endpoint. `fresh_login` ignores a cached token (to prove that the credentials work), replacing
    it only when the login succeeds.
    """
    kind = auth.get("type", "token")
    if kind == "token" and not (catalog and auth.get("auth_url")):
        return TokenAuth(str(auth["token"]))
    if kind == "aksk":
        return AkSkAuth(auth["access_key"], auth["secret_key"], auth.get("security_token"), project_id, clock)
    if kind in ("password", "application_credential", "token"):
        from vbscli.iam import PasswordAuth

        return PasswordAuth(auth, login=login, cache=cache, clock=clock, fresh=fresh_login)
    raise ConfigError(f"unknown auth type {kind!r}")

"""Password login against IAM (Keystone v3), with tokens cached between runs.

A cron job that runs every minute must not log in every minute: the project-scoped token is kept in
the user's cache directory (mode 0600) and reused until shortly before it expires.
"""

from __future__ import annotations

import hashlib
import json
import os
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from vbscli.auth import Clock, utcnow
from vbscli.errors import BadResponseError

RENEW_BEFORE = timedelta(minutes=10)
"""A cached token is replaced this long before it expires, so it never dies in the middle of a run."""


@dataclass
class Grant:
    token: str
    expires_at: datetime
    project_id: str | None = None


def login_body(auth: Mapping[str, Any]) -> dict[str, Any]:
    """The documented `POST /v3/auth/tokens` body for a project-scoped password login."""
    project: dict[str, Any] = {"id": auth["project_id"]} if auth.get("project_id") else {"name": auth["project_name"]}
    return {
        "auth": {
            "identity": {
                "methods": ["password"],
                "password": {
                    "user": {
                        "name": auth["username"],
                        "password": auth["password"],
                        "domain": {"name": auth["domain"]},
                    }
                },
            },
            "scope": {"project": project},
        }
    }


def parse_expiry(value: Any) -> datetime:
    """ISO 8601 with `Z` or an offset, with or without fractions of a second."""
    if not isinstance(value, str):
        raise ValueError("expires_at is missing")
    text = value.strip().replace("Z", "+00:00")
    parsed = datetime.fromisoformat(text)
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=timezone.utc)


def grant_from(headers: Mapping[str, str], document: Any, url: str) -> Grant:
    """Read a token answer: the token in X-Subject-Token, expiry and project in the body."""
    from vbscli.error_body import header

    token = header(headers, "X-Subject-Token")
    body = document.get("token") if isinstance(document, dict) else None
    try:
        if not token or not isinstance(body, dict):
            raise ValueError("no token in the answer")
        expires = parse_expiry(body.get("expires_at"))
    except ValueError as exc:
        raise BadResponseError(
            f"IAM at {url} answered without a usable token ({exc})",
            "check that 'auth_url' is the IAM v3 endpoint, e.g. https://iam.eu-de.otc.t-systems.com/v3",
        ) from None
    project = body.get("project") if isinstance(body.get("project"), dict) else {}
    project_id = project.get("id") if isinstance(project.get("id"), str) else None
    return Grant(token, expires, project_id)


class TokenCache:
    """One small JSON file per (auth URL, user, domain, project), readable by the owner only."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory

    @staticmethod
    def default_directory(env: Mapping[str, str]) -> Path:
        from vbscli.paths import cache_dir

        return Path(cache_dir(env)) / "tokens"

    @staticmethod
    def key(auth: Mapping[str, Any]) -> str:
        scope = auth.get("project_id") or f"name:{auth.get('project_name')}"
        parts = [auth["auth_url"], auth["username"], auth["domain"], scope]
        return hashlib.sha256("\0".join(parts).encode("utf-8")).hexdigest()[:32]

    def load(self, key: str) -> Grant | None:
        path = self.directory / f"{key}.json"
        try:
            if path.stat().st_mode & 0o077:
                return None  # someone else could have read or planted it
            doc = json.loads(path.read_text())
            return Grant(doc["token"], parse_expiry(doc["expires_at"]), doc.get("project_id"))
        except (OSError, ValueError, KeyError, TypeError):
            return None

    def save(self, key: str, grant: Grant) -> None:
        """Write atomically with mode 0600; a cache that cannot be written is not an error."""
        try:
            self.directory.mkdir(parents=True, exist_ok=True, mode=0o700)
            tmp = self.directory / f".{key}.{os.getpid()}.tmp"
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            with os.fdopen(fd, "w") as handle:
                json.dump(
                    {"token": grant.token, "expires_at": grant.expires_at.isoformat(), "project_id": grant.project_id},
                    handle,
                )
            os.replace(tmp, self.directory / f"{key}.json")
        except OSError:
            pass

    def drop(self, key: str) -> None:
        try:
            (self.directory / f"{key}.json").unlink()
        except OSError:
            pass


class PasswordAuth:
    """Logs in with user name and password, then sends the project-scoped token like TokenAuth."""

    kind = "password"

    def __init__(
        self,
        auth: Mapping[str, Any],
        *,
        login: Callable[[str, dict], Grant] | None,
        cache: TokenCache | None,
        clock: Clock = utcnow,
    ) -> None:
        self._auth = dict(auth)
        self._login = login
        self._cache = cache
        self._clock = clock
        self._key = TokenCache.key(self._auth)
        self._grant: Grant | None = None
        self._lock = threading.RLock()
        self._from_cache = False
        self._refreshed = False
        self.logins = 0

    @property
    def auth_url(self) -> str:
        return str(self._auth["auth_url"])

    def _current(self) -> Grant:
        with self._lock:  # a batch signs from many threads: log in once, not once per thread
            return self._current_locked()

    def _current_locked(self) -> Grant:
        now = self._clock()
        if self._grant is None and self._cache is not None and not self._refreshed:
            self._grant = self._cache.load(self._key)
            self._from_cache = self._grant is not None
        if self._grant is None or self._grant.expires_at - RENEW_BEFORE <= now:
            self._from_cache = False
            if self._login is None:
                raise RuntimeError("PasswordAuth needs a login transport")
            self._grant = self._login(f"{self.auth_url}/auth/tokens", login_body(self._auth))
            self.logins += 1
            if self._cache is not None:
                self._cache.save(self._key, self._grant)
        return self._grant

    def sign(self, method: str, url: str, headers: dict[str, str], body: bytes) -> None:
        headers["X-Auth-Token"] = self._current().token

    def refresh(self) -> bool:
        """A cached token can die early (password or role change): drop it and log in again, once.

        A token obtained in this run that is refused at once will not do better the second time."""
        with self._lock:
            return self._refresh_locked()

    def _refresh_locked(self) -> bool:
        if self._refreshed or not self._from_cache:
            return False
        self._refreshed = True
        self._grant = None
        if self._cache is not None:
            self._cache.drop(self._key)
        return True

    def project_id(self) -> str | None:
        return self._current().project_id

    def __repr__(self) -> str:
        return f"PasswordAuth(user={self._auth.get('username')!r}, password=<redacted>)"

"""Logins against IAM (Keystone v3): password, application credential or a token traded for a
scoped one, with the token and the block-storage part of its service catalog cached between runs.

A cron job that runs every minute must not log in every minute: the project-scoped token is kept in
the user's cache directory (mode 0600) and reused until shortly before it expires. The login bodies
and the catalog lookup are in vbscli.keystone.
"""

from __future__ import annotations

import hashlib
import json
import os
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from vbscli import redact
from vbscli.clock import Clock, utcnow
from vbscli.errors import BadResponseError, NetworkError, ServiceError

RENEW_BEFORE = timedelta(minutes=10)
"""A cached token is replaced this long before it expires, so it never dies in the middle of a run."""


@dataclass(eq=False, repr=False)
class Grant:
    token: str
    expires_at: datetime
    project_id: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)
    """More of the login's answer worth keeping with the token (kept in the cache file too): the
    block-storage entries of the service catalog, under `catalog`."""

    @property
    def catalog(self) -> list[dict[str, str]] | None:
        """The block-storage endpoints of the token's service catalog (None: the answer had none)."""
        found = self.extra.get("catalog")
        return found if isinstance(found, list) and all(isinstance(e, dict) for e in found) else None


def login(transport: Any, url: str, body: dict[str, Any]) -> Grant:
    """The IAM call over `transport` (a vbscli.transport.Transport: same session, timeouts and TLS)."""
    from vbscli.transport import Call, default_headers

    call = Call(
        "POST",
        url,
        {**default_headers(), "Content-Type": "application/json"},
        json.dumps(body, separators=(",", ":")).encode("utf-8"),
    )
    try:
        response = transport.exchange(call).checked()
    except (ServiceError, NetworkError) as exc:
        exc.message = f"IAM login at {url} failed: {exc.message}"
        raise
    return grant_from(response.headers, response.json(), url)


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
    redact.remember(token)
    project = body.get("project") if isinstance(body.get("project"), dict) else {}
    project_id = project.get("id") if isinstance(project.get("id"), str) else None
    from vbscli.keystone import block_storage_entries

    catalog = block_storage_entries(body)
    return Grant(token, expires, project_id, {} if catalog is None else {"catalog": catalog})


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
        """Who logs in where, for which project; never a secret (a token only by its hash)."""
        scope = auth.get("project_id") or f"name:{auth.get('project_name')}"
        domain = auth.get("user_domain_name") or auth.get("domain") or auth.get("user_domain_id") or ""
        if auth.get("type", "password") == "password" and auth.get("username"):
            parts = [auth["auth_url"], auth["username"], domain, scope]
        else:
            identity = {k: str(v) for k, v in auth.items() if not redact.is_secret_key(k)}
            if auth.get("token"):
                identity["token"] = hashlib.sha256(str(auth["token"]).encode("utf-8")).hexdigest()
            parts = [json.dumps(identity, sort_keys=True)]
        return hashlib.sha256("\0".join(parts).encode("utf-8")).hexdigest()[:32]

    def load(self, key: str) -> Grant | None:
        path = self.directory / f"{key}.json"
        try:
            if path.stat().st_mode & 0o077:
                return None  # someone else could have read or planted it
            doc = json.loads(path.read_text())
            extra = doc.get("extra") if isinstance(doc.get("extra"), dict) else {}
            grant = Grant(doc["token"], parse_expiry(doc["expires_at"]), doc.get("project_id"), extra)
        except (OSError, ValueError, KeyError, TypeError):
            return None
        redact.remember(grant.token)
        return grant

    def save(self, key: str, grant: Grant) -> None:
        """Write atomically with mode 0600; a cache that cannot be written is not an error, and leaves
        no temporary file behind."""
        tmp = self.directory / f".{key}.{os.getpid()}.{threading.get_ident()}.tmp"
        doc = {
            "token": grant.token,
            "expires_at": grant.expires_at.isoformat(),
            "project_id": grant.project_id,
            "extra": grant.extra,
        }
        try:
            self.directory.mkdir(parents=True, exist_ok=True, mode=0o700)
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            with os.fdopen(fd, "w") as handle:
                json.dump(doc, handle)
            os.replace(tmp, self.directory / f"{key}.json")
        except (OSError, TypeError, ValueError):
            try:
                tmp.unlink(missing_ok=True)
            except OSError:
                pass

    def drop(self, key: str) -> None:
        try:
            (self.directory / f"{key}.json").unlink()
        except OSError:
            pass


class PasswordAuth:
    """Logs in (password, application credential, or a token traded for a scoped one with its
    catalog), then sends the project-scoped token like TokenAuth.

    Tokens come in generations: the cached one, then at most one new login when the service refuses
    it. Threads that were refused a token that has since been replaced repeat with the new one; a
    token logged in for in this run and refused at once is not logged in for again.
    """

    kind = "password"

    def __init__(
        self,
        auth: Mapping[str, Any],
        *,
        login: Callable[[str, dict], Grant] | None,
        cache: TokenCache | None,
        clock: Clock = utcnow,
        fresh: bool = False,
    ) -> None:
        self._auth = dict(auth)
        self.kind = str(self._auth.get("type", "password"))
        self._login = login
        self._cache = cache
        self._clock = clock
        self._fresh = fresh
        self._key = TokenCache.key(self._auth)
        self._grant: Grant | None = None
        self._cache_read = False
        self._obtained: set[str] = set()
        self._lock = threading.RLock()
        redact.remember(*(v for k, v in self._auth.items() if redact.is_secret_key(k)))

    @property
    def auth_url(self) -> str:
        return str(self._auth["auth_url"])

    def _current(self) -> Grant:
        with self._lock:  # a batch signs from many threads: log in once, not once per thread
            now = self._clock()
            if self._grant is None and not self._cache_read:
                self._cache_read = True
                if self._cache is not None and not self._fresh:
                    self._grant = self._cache.load(self._key)
            if self._grant is None or self._grant.expires_at - RENEW_BEFORE <= now:
                self._log_in()
            assert self._grant is not None
            return self._grant

    def _log_in(self) -> None:
        """One login (the lock is held): the new token replaces the old one for every thread."""
        if self._login is None:
            raise RuntimeError("PasswordAuth needs a login transport")
        from vbscli.keystone import login_body

        grant = self._login(f"{self.auth_url}/auth/tokens", login_body(self._auth))
        self._grant = grant
        self._obtained.add(grant.token)
        if self._cache is not None:
            self._cache.save(self._key, grant)

    def sign(self, method: str, url: str, headers: dict[str, str], body: bytes) -> None:
        headers["X-Auth-Token"] = self._current().token

    def refresh(self, rejected: Mapping[str, str] | None = None) -> bool:
        """After a 401 for the token in `rejected`: repeat with a newer token if another thread got one;
        otherwise, for a cached token (which can die early: a password or role change), drop it and
        log in again, once. A token obtained in this run that is refused will not do better."""
        used = next((v for k, v in (rejected or {}).items() if k.lower() == "x-auth-token"), None)
        with self._lock:
            current = self._grant
            if current is not None and used is not None and current.token != used:
                return True
            if current is None:
                return False
            if current.token in self._obtained:
                return False
            self._grant = None
            if self._cache is not None:
                self._cache.drop(self._key)
            self._log_in()
            return True

    def project_id(self) -> str | None:
        return self._current().project_id

    def catalog(self) -> list[dict[str, str]] | None:
        """The block-storage part of the login's service catalog; a cached token saved without one
        (by an older vbs) is replaced by a fresh login."""
        with self._lock:
            grant = self._current()
            if grant.catalog is None and grant.token not in self._obtained:
                self._log_in()
                grant = self._current()
            return grant.catalog

    def renew_catalog(self) -> list[dict[str, str]] | None:
        """The catalog of a fresh login, when the one in use came from the cache and may be out of date
        (it lacks the region or interface asked for); None when this run logged in already."""
        with self._lock:
            if self._current().token in self._obtained:
                return None
            self._log_in()
            assert self._grant is not None
            return self._grant.catalog

    def cached(self) -> Grant | None:
        """The cached grant if it is still good, without logging in or writing (for --dry-run)."""
        with self._lock:
            if self._grant is None and self._cache is not None and not self._fresh:
                grant = self._cache.load(self._key)
                if grant is not None and grant.expires_at - RENEW_BEFORE > self._clock():
                    return grant
            return self._grant

    def __repr__(self) -> str:
        who = self._auth.get("username") or self._auth.get("user_id") or self._auth.get("application_credential_id")
        return f"PasswordAuth(type={self.kind!r}, user={who!r}, secret=<redacted>)"

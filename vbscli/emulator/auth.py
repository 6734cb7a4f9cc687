"""How the emulator checks who is calling: static tokens, IAM tokens it issued, and AK/SK signatures.

Each verifier looks at a request and answers "yes", "no (why)" or "not mine"; adding a way to
authenticate is adding a verifier, without touching the HTTP handler.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
import threading
from collections.abc import Callable, Iterator, Mapping
from datetime import datetime, timedelta, timezone
from typing import Any
from urllib.parse import urlsplit

from vbscli.emulator.seed import Seed

MAX_SKEW = timedelta(minutes=15)
TOKEN_LIFETIME = timedelta(hours=24)

UNAUTHORIZED = "The request you have made requires authentication."

Verdict = tuple[bool, str] | None  # (accepted, reason) or None: this verifier does not apply


def header(headers: Mapping[str, str], name: str) -> str | None:
    lower = name.lower()
    return next((v for k, v in headers.items() if k.lower() == lower), None)


class Tokens:
    """X-Auth-Token: the seed's tokens, and those issued at /v3/auth/tokens until they expire."""

    def __init__(self, seed: Seed, wall: Callable[[], datetime]) -> None:
        self.listed = list(seed.tokens)
        self.static = set(seed.tokens)
        self.issued: dict[str, datetime] = {}
        self.wall = wall
        self.lock = threading.Lock()

    def __iter__(self) -> Iterator[str]:
        """The seed's tokens (those a user can type); issued tokens are not listed."""
        return iter(self.listed)

    def __len__(self) -> int:
        return len(self.listed)

    def issue(self) -> tuple[str, datetime]:
        token = "emu-" + secrets.token_urlsafe(24)
        expires = self.wall() + TOKEN_LIFETIME
        with self.lock:
            self.issued[token] = expires
        return token, expires

    def revoke_all(self) -> int:
        """Drop every issued token (a password change does this), for tests of re-login."""
        with self.lock:
            count = len(self.issued)
            self.issued.clear()
            return count

    def verify(self, method: str, target: str, headers: Mapping[str, str], body: bytes) -> Verdict:
        token = header(headers, "X-Auth-Token")
        if token is None:
            return None
        if token in self.static:
            return True, "token"
        with self.lock:
            expires = self.issued.get(token)
        if expires is not None and expires > self.wall():
            return True, "issued token"
        return False, UNAUTHORIZED


ALGORITHM = "SDK-HMAC-SHA256"
SDK_DATE = "%Y%m%dT%H%M%SZ"
_UNRESERVED = frozenset(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.~")
_PERCENT = re.compile(rb"%([0-9A-Fa-f]{2})")


# The service's side of SDK-HMAC-SHA256, written from the published description of the algorithm (not
# from vbs's signer, so that the end-to-end tests check vbs against an independent reading of it). The
# request is taken exactly as received: percent-escapes are decoded, and a `+` is a plus sign, as a
# gateway that follows RFC 3986 reads it.


def _decode(text: str) -> bytes:
    """Percent-decoding only (RFC 3986): `+` stays `+`."""
    return _PERCENT.sub(lambda m: bytes([int(m.group(1), 16)]), text.encode("utf-8"))


def _encode(raw: bytes) -> str:
    """Every byte but A-Z a-z 0-9 - _ . ~ as %XX, upper-case hex."""
    return "".join(chr(b) if b in _UNRESERVED else f"%{b:02X}" for b in raw)


def canonical_uri(path: str) -> str:
    """Each segment decoded and encoded again, joined with '/', and ending with '/'."""
    uri = "/".join(_encode(_decode(segment)) for segment in path.split("/"))
    return uri if uri.endswith("/") else uri + "/"


def canonical_query(query: str) -> str:
    """key=value pairs, each side decoded and encoded again, sorted, joined with '&'."""
    pairs = []
    for part in query.split("&"):
        if not part:
            continue
        key, _, value = part.partition("=")
        pairs.append(f"{_encode(_decode(key))}={_encode(_decode(value))}")
    return "&".join(sorted(pairs))


def canonical_request(method: str, target: str, headers: Mapping[str, str], signed: list[str], body: bytes) -> str:
    path, _, query = target.partition("?")
    lowered = {k.lower(): v for k, v in headers.items()}
    block = "".join(f"{name}:{lowered[name].strip()}\n" for name in signed)
    return "\n".join(
        [method.upper(), canonical_uri(path or "/"), canonical_query(query), block, ";".join(signed), _sha256(body)]
    )


def expected_signature(secret_key: str, sdk_date: str, request: str) -> str:
    to_sign = f"{ALGORITHM}\n{sdk_date}\n{_sha256(request.encode('utf-8'))}"
    return hmac.new(secret_key.encode("utf-8"), to_sign.encode("utf-8"), hashlib.sha256).hexdigest()


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


class AkSk:
    """SDK-HMAC-SHA256 signatures over the request exactly as received."""

    def __init__(self, seed: Seed, wall: Callable[[], datetime]) -> None:
        self.keys = {k.access_key: k.secret_key for k in seed.access_keys}
        self.wall = wall

    def verify(self, method: str, target: str, headers: Mapping[str, str], body: bytes) -> Verdict:
        auth = header(headers, "Authorization")
        if not auth or not auth.startswith(ALGORITHM + " "):
            return None
        fields = dict(part.strip().split("=", 1) for part in auth[len(ALGORITHM) + 1 :].split(",") if "=" in part)
        secret = self.keys.get(fields.get("Access", ""))
        if secret is None:
            return False, "Incorrect IAM authentication information: unknown access key."
        date = header(headers, "X-Sdk-Date") or ""
        try:
            sent = datetime.strptime(date, SDK_DATE).replace(tzinfo=timezone.utc)
        except ValueError:
            return False, "Incorrect IAM authentication information: missing or bad X-Sdk-Date."
        if abs(self.wall() - sent) > MAX_SKEW:
            return False, "Incorrect IAM authentication information: the request time differs by more than 15 minutes."
        names = [n for n in fields.get("SignedHeaders", "").split(";") if n]
        if "host" not in names or "x-sdk-date" not in names:
            return False, "Incorrect IAM authentication information: host and x-sdk-date must be signed."
        lowered = {k.lower(): v for k, v in headers.items()}
        if any(n not in lowered for n in names):
            return False, "Incorrect IAM authentication information: a signed header is missing."
        expected = expected_signature(secret, date, canonical_request(method, target, lowered, names, body))
        if not secrets.compare_digest(expected, fields.get("Signature", "")):
            return False, "Incorrect IAM authentication information: verify aksk signature fail."
        return True, "aksk"


class Authenticator:
    """Runs the verifiers in turn; the first that applies decides."""

    def __init__(self, verifiers: list[Any]) -> None:
        self.verifiers = verifiers

    def check(self, method: str, target: str, headers: Mapping[str, str], body: bytes) -> tuple[bool, str]:
        for verifier in self.verifiers:
            verdict = verifier.verify(method, target, headers, body)
            if verdict is not None:
                return verdict
        return False, UNAUTHORIZED


def target_of(path_and_query: str) -> str:
    parts = urlsplit(path_and_query)
    return parts.path + (f"?{parts.query}" if parts.query else "")

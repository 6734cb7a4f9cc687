"""The emulator's Keystone: logins by password, application credential or token, each answered with a
service catalog whose block-storage endpoints point at the emulator itself.

Block storage is offered in every region of the seed (two by default), so that a client's choice of
region can be tried: the first region's URLs use the host name the client called, the others
`localhost` for `127.0.0.1` (still this emulator), so the links in the answers show which was used.
"""

from __future__ import annotations

import secrets
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from vbscli.emulator.auth import Tokens
from vbscli.emulator.seed import Seed, User

Answer = tuple[int, dict[str, Any], dict[str, str]]


def _refused(message: str, status: int = 401) -> Answer:
    title = "Unauthorized" if status == 401 else "Bad Request"
    return status, {"error": {"code": status, "message": message, "title": title}}, {}


def login(seed: Seed, tokens: Tokens, doc: Any, base: str) -> Answer:
    """POST /v3/auth/tokens: check the identity, issue a token, and answer with the catalog."""
    try:
        methods = doc["auth"]["identity"]["methods"]
    except (KeyError, TypeError):
        methods = None
    if not isinstance(methods, list):
        return _refused("Invalid auth request body.", 400)
    if "application_credential" in methods:
        status, body, headers = application_credential_login(seed, tokens, doc)
    elif "token" in methods:
        status, body, headers = token_login(seed, tokens, doc)
    else:
        status, body, headers = password_login(seed, tokens, doc)
    if status == 201:
        body["token"]["catalog"] = catalog(seed, base)
    return status, body, headers


def _issue(seed: Seed, tokens: Tokens, user: User, method: str) -> Answer:
    token, expires = tokens.issue()
    body = {
        "token": {
            "expires_at": expires.strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
            "issued_at": tokens.wall().strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
            "methods": [method],
            "project": {"id": seed.project_id, "name": seed.project_name, "domain": {"name": user.domain}},
            "user": {"id": user.id, "name": user.name, "domain": {"name": user.domain}},
        }
    }
    return 201, body, {"X-Subject-Token": token}


def _user(seed: Seed, given: Any) -> User | None:
    """A user given by ID, or by name and domain (name or ID)."""
    if not isinstance(given, dict):
        return None
    if given.get("id"):
        return next((u for u in seed.users if u.id == given["id"]), None)
    domain = given.get("domain") if isinstance(given.get("domain"), dict) else {}
    return next(
        (u for u in seed.users if u.name == given.get("name") and domain.get("name", domain.get("id")) == u.domain),
        None,
    )


def _scope_allowed(seed: Seed, doc: Any) -> bool:
    """No scope, or the seed's project by ID or by name (the domain of a project named is not checked)."""
    scope = doc["auth"].get("scope")
    if scope is None:
        return True
    project = scope.get("project") if isinstance(scope, dict) else None
    if not isinstance(project, dict):
        return False
    return project.get("id") in (None, seed.project_id) and project.get("name") in (None, seed.project_name)


def password_login(seed: Seed, tokens: Tokens, doc: Any) -> Answer:
    """A user by ID, or by name with its domain's name or ID, scoped to the seed's project."""
    given = doc["auth"]["identity"].get("password")
    user_given = given.get("user") if isinstance(given, dict) else None
    if not isinstance(user_given, dict) or not isinstance(user_given.get("password"), str):
        return _refused("Invalid auth request body.", 400)
    if not isinstance(doc["auth"].get("scope"), dict):
        return _refused("Invalid auth request body: the emulator issues project-scoped tokens only.", 400)
    user = _user(seed, user_given)
    if user is None or not secrets.compare_digest(user.password, user_given["password"]):
        return _refused("The username or password is wrong.")
    if not _scope_allowed(seed, doc):
        return _refused("The user has no access to the requested project.")
    return _issue(seed, tokens, user, "password")


def application_credential_login(seed: Seed, tokens: Tokens, doc: Any) -> Answer:
    """By ID and secret, or by name, user and secret; the credential carries its project (no scope)."""
    given = doc["auth"]["identity"].get("application_credential")
    if not isinstance(given, dict) or not isinstance(given.get("secret"), str):
        return _refused("Invalid application credential request body.", 400)
    if "scope" in doc["auth"]:
        return _refused("An application credential cannot request a scope.")
    if given.get("id"):
        found = next((c for c in seed.application_credentials if c.id == given["id"]), None)
    else:
        user = _user(seed, given.get("user"))
        found = next(
            (c for c in seed.application_credentials if user and c.name == given.get("name") and c.user == user.name),
            None,
        )
    if found is None or not secrets.compare_digest(found.secret, given["secret"]):
        return _refused("The request you have made requires authentication.")
    owner = next(u for u in seed.users if u.name == found.user)
    return _issue(seed, tokens, owner, "application_credential")


def token_login(seed: Seed, tokens: Tokens, doc: Any) -> Answer:
    """A valid token traded for a new project-scoped one (as keystoneauth's token plugin does)."""
    given = doc["auth"]["identity"].get("token")
    token = given.get("id") if isinstance(given, dict) else None
    verdict = tokens.verify("POST", "/", {"X-Auth-Token": token}, b"") if isinstance(token, str) else None
    if not verdict or not verdict[0]:
        return _refused("The request you have made requires authentication.")
    if not _scope_allowed(seed, doc):
        return _refused("The user has no access to the requested project.")
    owner = seed.users[0] if seed.users else User("token-user", "", "Default")
    return _issue(seed, tokens, owner, "token")


def catalog(seed: Seed, base: str) -> list[dict[str, Any]]:
    """identity, and block storage (type block-storage and its alias volumev3) in every region."""
    parts = urlsplit(base)
    other = parts._replace(netloc=parts.netloc.replace("127.0.0.1", "localhost", 1))
    storage = []
    for n, region in enumerate(seed.regions):
        root = base if n == 0 else urlunsplit(other)
        for interface in ("public", "internal"):
            storage.append(
                {
                    "id": secrets.token_hex(8),
                    "interface": interface,
                    "region": region,
                    "region_id": region,
                    "url": f"{root}/v3/{seed.project_id}",
                }
            )
    identity = [
        {"id": secrets.token_hex(8), "interface": "public", "region": r, "region_id": r, "url": f"{base}/v3"}
        for r in seed.regions
    ]
    return [
        {"type": "identity", "name": "keystone", "id": secrets.token_hex(8), "endpoints": identity},
        {"type": "block-storage", "name": "cinder", "id": secrets.token_hex(8), "endpoints": storage},
        {"type": "volumev3", "name": "cinderv3", "id": secrets.token_hex(8), "endpoints": storage},
    ]

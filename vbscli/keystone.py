"""Keystone (IAM v3), as clouds.yaml users know it: the login body of each auth type, and the
block-storage endpoint picked from the service catalog that comes with the token.

The catalog lookup lives with the login because the catalog is part of the login's answer: it is
cached with the token (vbscli.iam) so that a cached run makes no extra call.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from vbscli.errors import ConfigError

BLOCK_STORAGE_TYPES = ("block-storage", "volumev3", "volumev2", "volume")
"""The service type of block storage and its aliases, in the order they are looked for."""


def login_body(auth: Mapping[str, Any]) -> dict[str, Any]:
    """The `POST {auth_url}/auth/tokens` body for a resolved auth block (password, token or
    application_credential). Application credentials carry their project, so they send no scope."""
    kind = auth.get("type")
    if kind == "password":
        user = _user(auth)
        user["password"] = auth["password"]
        identity: dict[str, Any] = {"methods": ["password"], "password": {"user": user}}
    elif kind == "token":
        identity = {"methods": ["token"], "token": {"id": auth["token"]}}
    elif kind == "application_credential":
        credential: dict[str, Any] = {}
        if auth.get("application_credential_id"):
            credential["id"] = auth["application_credential_id"]
        else:
            credential["name"] = auth["application_credential_name"]
            credential["user"] = _user(auth)
        credential["secret"] = auth["application_credential_secret"]
        return {"auth": {"identity": {"methods": ["application_credential"], "application_credential": credential}}}
    else:
        raise ValueError(f"auth type {kind!r} has no Keystone login")
    body: dict[str, Any] = {"auth": {"identity": identity}}
    scope = _scope(auth)
    if scope:
        body["auth"]["scope"] = scope
    return body


def _domain(auth: Mapping[str, Any], prefix: str) -> dict[str, str] | None:
    if auth.get(f"{prefix}_domain_id"):
        return {"id": str(auth[f"{prefix}_domain_id"])}
    name = auth.get(f"{prefix}_domain_name") or (auth.get("domain") if prefix == "user" else None)
    return {"name": str(name)} if name else None  # `domain` is a vbs profile's short spelling


def _user(auth: Mapping[str, Any]) -> dict[str, Any]:
    """A user by ID, or by name within its domain."""
    if auth.get("user_id"):
        return {"id": auth["user_id"]}
    user: dict[str, Any] = {"name": auth["username"]}
    domain = _domain(auth, "user")
    if domain:
        user["domain"] = domain
    return user


def _scope(auth: Mapping[str, Any]) -> dict[str, Any] | None:
    """A project scope by ID, or by name within its domain (the user's domain unless one is given)."""
    if auth.get("project_id"):
        return {"project": {"id": auth["project_id"]}}
    if auth.get("project_name"):
        project: dict[str, Any] = {"name": auth["project_name"]}
        domain = _domain(auth, "project") or _domain(auth, "user")
        if domain:
            project["domain"] = domain
        return {"project": project}
    return None


def block_storage_entries(token: Any) -> list[dict[str, str]] | None:
    """The block-storage endpoints of a token body's catalog, flattened to what selection needs.

    None when the answer carries no catalog at all (then only a configured endpoint will do)."""
    catalog = token.get("catalog") if isinstance(token, dict) else None
    if not isinstance(catalog, list):
        return None
    entries: list[dict[str, str]] = []
    for service in catalog:
        if not isinstance(service, dict) or service.get("type") not in BLOCK_STORAGE_TYPES:
            continue
        for endpoint in service.get("endpoints") or []:
            if not isinstance(endpoint, dict) or not isinstance(endpoint.get("url"), str):
                continue
            entry = {"type": service["type"], "url": endpoint["url"]}
            for key in ("interface", "region", "region_id"):
                if isinstance(endpoint.get(key), str):
                    entry[key] = endpoint[key]
            entries.append(entry)
    return entries


def _region_of(entry: Mapping[str, str]) -> str:
    return entry.get("region_id") or entry.get("region") or ""


def select_endpoint(entries: list[dict[str, str]] | None, region: str | None, interface: str, where: str) -> str:
    """The block-storage URL for this region and interface; ConfigError (exit 3) naming what the
    catalog offers when there is none, or when several regions fit and none was configured."""
    how = (
        "set the endpoint instead ('endpoint:' in the profile, block_storage_endpoint_override "
        "in clouds.yaml, or --endpoint)"
    )
    if entries is None:
        raise ConfigError(f"the login at {where} returned no service catalog", how)
    if not entries:
        raise ConfigError(
            f"the service catalog from {where} has no block-storage endpoint "
            f"(looked for the types {', '.join(BLOCK_STORAGE_TYPES)})",
            how,
        )
    regions_seen: set[str] = set()
    for kind in BLOCK_STORAGE_TYPES:
        fitting = [e for e in entries if e["type"] == kind and e.get("interface", "public") == interface]
        regions = sorted({_region_of(e) for e in fitting})
        regions_seen.update(regions)
        if region:
            fitting = [e for e in fitting if region in (e.get("region_id"), e.get("region"))]
        elif len(regions) > 1:
            raise ConfigError(
                f"the service catalog from {where} has {kind} endpoints in several regions: {', '.join(regions)}",
                "choose one with region_name (clouds.yaml or the profile), OS_REGION_NAME or --os-region-name",
            )
        if fitting:
            return fitting[0]["url"]
    if region and regions_seen:
        raise ConfigError(
            f"the service catalog from {where} has no {interface} block-storage endpoint in region {region!r}; "
            f"regions: {', '.join(sorted(regions_seen))}",
            "set region_name to one of them",
        )
    offered = sorted({e.get("interface", "public") for e in entries})
    raise ConfigError(
        f"the service catalog from {where} has no {interface} block-storage endpoint "
        f"(interfaces offered: {', '.join(offered)})",
        "choose one with interface (clouds.yaml or the profile), OS_INTERFACE or --os-interface",
    )


def catalog_root(
    entries: list[dict[str, str]] | None, region: str | None, interface: str, where: str
) -> tuple[str, str | None]:
    """The service root (and the project ID in the URL) of the catalog's block-storage endpoint."""
    from vbscli.values import service_root

    url = select_endpoint(entries, region, interface, where)
    try:
        return service_root(url)
    except ValueError as exc:
        raise ConfigError(
            f"the service catalog from {where} lists a block-storage URL that {exc}: {url!r}",
            "set the endpoint instead ('endpoint:' in the profile or --endpoint)",
        ) from None


def catalog_endpoint(
    entries: list[dict[str, str]] | None,
    region: str | None,
    interface: str,
    where: str,
    project: str | None = None,
    project_from: str = "",
) -> str:
    """The service root the catalog names for this region and interface. A project in its URL that is not
    the configured one is refused (an application credential carries its own project): the request
    would go to another project's URL."""
    root, in_url = catalog_root(entries, region, interface, where)
    if project and in_url and in_url != project:
        raise ConfigError(
            f"the service catalog from {where} gives block storage for project {in_url}, "
            f"but the project ID is {project} ({project_from or 'configured'})",
            "remove the project ID (an application credential carries its own project) or make them agree",
        )
    return root


class DryRun:
    """A login as a dry run may use it (see vbscli.preview): it never logs in or writes.

    The token is a placeholder; the project and the endpoint that only a login tells come from a
    login still cached, or the dry run says that it cannot know them.
    """

    def __init__(self, auth: Any) -> None:
        self._auth = auth
        self.kind = auth.kind

    def sign(self, method: str, url: str, headers: dict[str, str], body: bytes) -> None:
        headers["X-Auth-Token"] = "<the token of the login>"

    def refresh(self) -> bool:
        return False

    def project_id(self) -> str | None:
        grant = self._auth.cached()
        if grant is None or not grant.project_id:
            raise self._unknown("the project ID", "--project-id")
        return str(grant.project_id)

    def catalog(self) -> list[dict[str, str]] | None:
        grant = self._auth.cached()
        if grant is None or grant.catalog is None:
            raise self._unknown("the endpoint (it comes from the service catalog)", "--endpoint (and --project-id)")
        return grant.catalog

    @property
    def auth_url(self) -> str:
        return str(getattr(self._auth, "auth_url", "IAM"))

    def _unknown(self, what: str, flag: str) -> Exception:
        from vbscli.errors import InputError

        return InputError(
            f"--dry-run sends nothing, not even a login, and without a login vbs cannot know {what}",
            f"give {flag} to see the request, or run once without --dry-run so that the login is cached",
        )

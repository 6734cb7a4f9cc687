"""Profiles as `vbs profile` shows and edits them: what each setting is and where it came from;
add, remove, choose the default. Other profiles are kept as they are.

The file is rewritten whole (comments are not kept), atomically, with mode 0600.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from vbscli import profile_file, redact
from vbscli.config import Settings
from vbscli.errors import ConfigError, InputError
from vbscli.profile_file import ProfileFile

NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,63}")


def check_name(name: str) -> str:
    if not NAME.fullmatch(name):
        raise InputError(
            f"invalid profile name {name!r}",
            "use 1-64 letters, digits, '_', '.' or '-', starting with a letter or digit",
        )
    return name


def read(path: Path) -> ProfileFile:
    """The file, or an empty one if it does not exist yet."""
    if not path.exists():
        return ProfileFile(path, None, {})
    return profile_file.load(path)


def write(pfile: ProfileFile) -> None:
    import yaml

    doc: dict[str, Any] = {}
    if pfile.default:
        doc["default"] = pfile.default
    doc["profiles"] = pfile.profiles
    text = yaml.safe_dump(doc, sort_keys=False, default_flow_style=False, allow_unicode=True)
    path = pfile.path
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        with os.fdopen(fd, "w") as handle:
            handle.write(text)
        os.chmod(tmp, 0o600)
        os.replace(tmp, path)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise ConfigError(f"cannot write profile file {path}: {exc.strerror or exc}") from None


def require(pfile: ProfileFile, name: str) -> dict[str, Any]:
    if name not in pfile.profiles:
        known = ", ".join(sorted(pfile.profiles)) or "none"
        raise ConfigError(f"profile '{name}' not found in {pfile.path}; known profiles: {known}")
    return pfile.profiles[name]


def add(pfile: ProfileFile, name: str, profile: dict[str, Any], *, replace: bool, make_default: bool) -> None:
    check_name(name)
    if name in pfile.profiles and not replace:
        raise InputError(f"profile '{name}' already exists in {pfile.path}", "pass --replace to overwrite it")
    pfile.profiles[name] = profile
    if make_default or not pfile.default:
        pfile.default = name
    write(pfile)


def remove(pfile: ProfileFile, name: str) -> bool:
    """Remove a profile; True if it was the default (which is then unset)."""
    require(pfile, name)
    del pfile.profiles[name]
    was_default = pfile.default == name
    if was_default:
        pfile.default = None
    write(pfile)
    return was_default


def set_default(pfile: ProfileFile, name: str) -> None:
    require(pfile, name)
    pfile.default = name
    write(pfile)


SHOWN = (
    ("endpoint", "endpoint"),
    ("project_id", "project_id"),
    ("region", "region_name"),
    ("interface", "interface"),
    ("verify", "verify"),
    ("connect_timeout", "connect_timeout"),
    ("read_timeout", "read_timeout"),
    ("max_attempts", "max_attempts"),
    ("deadline", "deadline"),
    ("output", "output"),
)
"""Settings as `profile show` lists them: (name in Settings, key as a profile writes it)."""


def login_facts(settings: Settings, env: Mapping[str, str]) -> dict[str, tuple[Any, str]]:
    """The endpoint and project, and where each comes from; what only a login tells is taken from a
    cached login, if any (showing settings never logs in)."""
    facts: dict[str, tuple[Any, str]] = {
        "endpoint": (settings.endpoint, settings.origins.get("endpoint", "")),
        "project_id": (settings.project_id, settings.origins.get("project_id", "")),
    }
    if settings.endpoint and settings.project_id:
        return facts
    from vbscli.auth import build_auth
    from vbscli.iam import TokenCache
    from vbscli.keystone import catalog_endpoint
    from vbscli.values import missing_auth

    kind = settings.auth.get("type")
    if kind not in ("password", "application_credential", "token") or missing_auth(settings.auth):
        return facts
    cache = TokenCache(TokenCache.default_directory(env))
    auth = build_auth(settings.auth, settings.project_id, cache=cache, catalog=settings.endpoint is None)
    grant = auth.cached() if hasattr(auth, "cached") else None
    if not settings.project_id:
        facts["project_id"] = (grant.project_id, "the login (cached)") if grant else (None, "the login")
    if not settings.endpoint and grant is not None and grant.catalog is not None:
        try:
            where, project_from = auth.auth_url, settings.origins.get("project_id", "")  # type: ignore[attr-defined]
            root = catalog_endpoint(
                grant.catalog, settings.region, settings.interface, where, settings.project_id, project_from
            )
            facts["endpoint"] = (root, "service catalog (cached login)")
        except ConfigError as exc:
            facts["endpoint"] = (None, f"service catalog: {exc.message}")
    return facts


def describe(settings: Settings, env: Mapping[str, str]) -> tuple[dict[str, Any], dict[str, str]]:
    """The settings (secrets masked) and the origin of each, keyed as a profile writes them."""
    values: dict[str, Any] = {}
    origins: dict[str, str] = {}
    for name, key in SHOWN:
        values[key] = getattr(settings, name)
        if name in settings.origins:
            origins[key] = settings.origins[name]
    for key, (value, came_from) in login_facts(settings, env).items():
        values[key] = value
        if came_from:
            origins[key] = came_from
    values["auth"] = redact.mapping(settings.auth)  # names of variables holding secrets stay
    origins.update({k: v for k, v in settings.origins.items() if k.startswith("auth.")})
    return values, origins


def origin_kind(origin: str) -> str:
    """A short name of a source, for a column: profile file, clouds.yaml, environment, ..."""
    for kind in ("profile file", "clouds.yaml", "secure.yaml", "environment", "command line", "service catalog"):
        if origin.startswith(kind):
            return kind
    return origin


def in_use(env: Mapping[str, str]) -> Settings | None:
    """The settings a command uses when no profile or cloud is named on the command line (the resolver
    decides: VBS_PROFILE, OS_CLOUD, the default profile, the environment, the only cloud), or None."""
    from vbscli import config

    try:
        return config.resolve({}, env, None, None, strict=False)
    except ConfigError:
        return None


def source_of(settings: Settings) -> tuple[str, str | None]:
    """("profile", name), ("cloud", name) or ("environment", None): what supplies these settings."""
    if settings.profile:
        return "profile", settings.profile
    if settings.cloud:
        return "cloud", settings.cloud
    return "environment", None


def is_default(settings: Settings, env: Mapping[str, str]) -> bool:
    """Whether these settings come from what a command uses when nothing is named on its command line."""
    ambient = in_use(env)
    return ambient is not None and source_of(ambient) == source_of(settings)


def named(pfile: ProfileFile, name: str, env: Mapping[str, str]) -> tuple[str | None, str | None]:
    """(profile, cloud) that a NAME given to `show` or `test` names: a profile, else a cloud of
    clouds.yaml (as `profile list` shows both)."""
    from vbscli import clouds

    if name in pfile.profiles:
        return name, None
    try:
        known_clouds = clouds.names(env)
    except ConfigError:
        known_clouds = []
    if name in known_clouds:
        return None, name
    raise ConfigError(
        f"'{name}' is neither a profile in {pfile.path} (known: {', '.join(sorted(pfile.profiles)) or 'none'}) "
        f"nor a cloud of clouds.yaml (known: {', '.join(known_clouds) or 'none'})",
        "choose one of them (vbs profile list shows both)",
    )


def listing(env: Mapping[str, str], pfile: ProfileFile) -> list[dict[str, Any]]:
    """Every profile of the file and every cloud of clouds.yaml, with what tells them apart (no secrets);
    and the environment first when it is what a command uses without --profile or --os-cloud."""
    from vbscli import clouds, config

    ambient = in_use(env)
    chosen = source_of(ambient) if ambient is not None else None
    entries: list[dict[str, Any]] = []
    if chosen is not None and chosen[0] == "environment" and ambient is not None:
        entries.append({"name": None, "source": "environment", "default": True, **_summary(ambient, env)})
    sources = [("profile", name) for name in sorted(pfile.profiles)]
    try:
        sources += [("cloud", name) for name in clouds.names(env)]
    except ConfigError as exc:  # a broken clouds.yaml must not hide the profiles
        entries.append({"name": "clouds.yaml", "source": "cloud", "default": False, "problem": exc.one_line()})
    for kind, name in sources:
        entry: dict[str, Any] = {"name": name, "source": kind, "default": chosen == (kind, name)}
        try:
            if kind == "profile":
                settings = config.resolve({}, env, name, pfile=pfile, strict=False)
            else:
                settings = config.resolve({}, env, None, name, strict=False)
        except ConfigError as exc:
            entry.update({"endpoint": None, "endpoint_from": None, "auth_type": None, "problem": exc.one_line()})
        else:
            entry.update(_summary(settings, env))
        if kind == "profile":
            entry["file"] = str(pfile.path)
        entries.append(entry)
    return entries


def _summary(settings: Settings, env: Mapping[str, str]) -> dict[str, Any]:
    """What `profile list` shows of one source."""
    facts = login_facts(settings, env)
    return {
        "cloud": settings.cloud,
        "endpoint": facts["endpoint"][0],
        "endpoint_from": origin_kind(facts["endpoint"][1]),
        "project_id": facts["project_id"][0],
        "auth_type": settings.auth.get("type"),
    }

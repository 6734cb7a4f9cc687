"""The vbs profile file: named profiles of settings, one of them the default.

A profile may point at a cloud of clouds.yaml (`cloud: NAME`) and add vbs settings on top: the
profile's own values win over the cloud's, key by key (its `auth` fields over the cloud's too).
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from vbscli import redact
from vbscli.errors import ConfigError
from vbscli.values import (
    AUTH_ALIASES,
    AUTH_FIELDS,
    AUTH_TYPES,
    KEYSTONE_TYPES,
    SETTINGS,
    Layer,
    did_you_mean,
    parse_into,
    read_document,
    secret,
    type_name,
)

PROFILE_KEYS = tuple(s.key for s in SETTINGS) + ("auth", "cloud")
FILE_KEYS = ("default", "profiles")


def default_path(env: Mapping[str, str]) -> Path:
    """$VBS_CONFIG, else $XDG_CONFIG_HOME/vbs/config.yaml, else ~/.config/vbs/config.yaml."""
    from vbscli.paths import config_file

    return Path(config_file(env))


class ProfileFile:
    """A loaded profile file: its path, the default profile's name and the raw profiles."""

    def __init__(
        self, path: Path, default: str | None, profiles: dict[str, dict[str, Any]], mode: int | None = None
    ) -> None:
        self.path = path
        self.default = default
        self.profiles = profiles
        self.mode = mode
        self.warnings: list[str] = []
        """Keys at the top of the file that vbs does not know (ignored, with a suggestion)."""

    def holds_secrets(self) -> bool:
        return redact.holds_secret(self.profiles)


def load(path: Path) -> ProfileFile:
    """Read and check the file's outer shape; raises ConfigError with file (and line) on any problem."""
    doc = read_document(path, "profile file")
    try:
        mode: int | None = path.stat().st_mode
    except OSError:
        mode = None
    if doc is None:
        doc = {}
    if not isinstance(doc, dict):
        raise ConfigError(
            f"{path}: expected a mapping with 'profiles:' at the top, found {type_name(doc)}",
            "see the README for an example file",
        )
    profiles = doc.get("profiles", {})
    if profiles is None:
        profiles = {}
    if not isinstance(profiles, dict):
        raise ConfigError(f"{path}: 'profiles' must be a mapping of name to settings, found {type_name(profiles)}")
    checked: dict[str, dict[str, Any]] = {}
    for name, body in profiles.items():
        if not isinstance(body, dict):
            raise ConfigError(f"{path}: profile '{name}' must be a mapping of settings, found {type_name(body)}")
        checked[str(name)] = body
    default = doc.get("default")
    if default is not None and (isinstance(default, bool) or not isinstance(default, (str, int))):
        raise ConfigError(f"{path}: 'default' must be a profile name, found {type_name(default)}")
    pfile = ProfileFile(path, None if default is None else str(default), checked, mode)
    for key in sorted(str(k) for k in doc if k not in FILE_KEYS):
        pfile.warnings.append(f"{path}: unknown key '{key}' ignored{did_you_mean(key, FILE_KEYS)}")
    return pfile


def choose(pfile: ProfileFile, requested: str | None, requested_by: str) -> str:
    """The profile to use: the one asked for, else the file's default, else the only one."""
    names = sorted(pfile.profiles)
    unknown = "".join(f" ({w.split(': ', 1)[1]})" for w in pfile.warnings)  # why, as an error ends the run
    known = ", ".join(names) if names else "none" + unknown
    if requested:
        if requested not in pfile.profiles:
            raise ConfigError(
                f"profile '{requested}' (from {requested_by}) not found in {pfile.path}; known profiles: {known}",
                "choose one of them or add the profile",
            )
        return requested
    if pfile.default:
        if pfile.default not in pfile.profiles:
            raise ConfigError(
                f"{pfile.path}: default profile '{pfile.default}' is not defined; known profiles: {known}",
            )
        return pfile.default
    if len(names) == 1:
        return names[0]
    if not names:
        raise ConfigError(f"{pfile.path} defines no profiles{unknown}", "see the README for an example file")
    raise ConfigError(
        f"{pfile.path} has several profiles and no default; known profiles: {known}",
        "choose one with --profile or VBS_PROFILE, or set 'default:' in the file",
    )


def layer(pfile: ProfileFile, name: str, env: Mapping[str, str], cwd: str | None = None) -> Layer:
    """One profile's settings (over its cloud's, if it names one), typed, with their origins."""
    body = pfile.profiles[name]
    where = f"profile '{name}' in {pfile.path}"
    shown = f"profile file {pfile.path} (profile '{name}')"
    result = Layer(where, "profile file", name=name)
    for key in sorted(str(k) for k in set(body) - set(PROFILE_KEYS)):
        result.warnings.append(f"{where}: unknown setting '{key}' ignored{did_you_mean(key, PROFILE_KEYS)}")

    base: Layer | None = None
    if body.get("cloud") not in (None, ""):
        from vbscli import clouds

        base = clouds.cloud_layer(str(body["cloud"]), env, f"'cloud' in {where}", cwd)
        result.values.update(base.values)
        result.origins.update(base.origins)
        result.warnings += base.warnings
        result.cloud = base.cloud
        result.where = f"{where} (cloud '{base.name}')"

    for setting in SETTINGS:
        if body.get(setting.key) is not None:
            parse_into(result, setting.name, body[setting.key], f"'{setting.key}' in {where}", shown, ConfigError)

    auth = body.get("auth")
    if auth is None and base is None:
        return result  # no credentials here: the resolver says so if they are needed
    if auth is not None and not isinstance(auth, dict):
        raise ConfigError(f"{where}: 'auth' must be a mapping such as {{type: token, token: ...}}")
    own = {AUTH_ALIASES.get(str(k), str(k)): v for k, v in (auth or {}).items()}
    for alias, canonical in AUTH_ALIASES.items():
        if f"{alias}_env" in (auth or {}):
            own[f"{canonical}_env"] = own.pop(f"{alias}_env")
    kind_raw = own.pop("type", None)
    kind = str(kind_raw) if kind_raw is not None else (base.auth_type if base and base.auth_type else "token")
    kind = KEYSTONE_TYPES.get(kind, kind)
    if kind not in AUTH_TYPES:
        raise ConfigError(
            f"{where}: unknown auth type {kind_raw!r}{did_you_mean(str(kind_raw), AUTH_TYPES)}",
            f"use one of: {', '.join(AUTH_TYPES)}",
        )
    allowed = AUTH_FIELDS[kind]
    known = set(allowed) | {f"{k}_env" for k in allowed}
    unknown = sorted(k for k in own if k not in known)
    if unknown:
        raise ConfigError(
            f"{where}: unknown auth setting '{unknown[0]}' for auth type {kind}{did_you_mean(unknown[0], known)}",
            f"auth type {kind} takes: {', '.join(allowed)}",
        )
    result.auth_type = kind

    def read_auth(strict: bool) -> tuple[dict[str, Any], dict[str, str]]:
        resolved: dict[str, Any] = {"type": kind}
        origins: dict[str, str] = {}
        if base is not None and base.read_auth is not None and (base.auth_type == kind or kind_raw is None):
            inherited, inherited_origins = base.read_auth(strict)
            resolved.update({k: v for k, v in inherited.items() if k != "type" and k in allowed})
            origins.update({k: v for k, v in inherited_origins.items() if k.removeprefix("auth.") in allowed})
        for key in allowed:
            value, came_from = _field(own, key, env, where, shown, strict)
            if came_from is not None:
                resolved[key] = value
                origins[f"auth.{key}"] = came_from
        return resolved, origins

    result.read_auth = read_auth
    return result


def _field(
    auth: Mapping[str, Any], key: str, env: Mapping[str, str], where: str, shown: str, strict: bool
) -> tuple[Any, str | None]:
    """A value given inline (`password: ...`) or by naming an environment variable (`password_env: NAME`).

    Returns (value, origin); origin None when the field is not given at all."""
    value = auth.get(key)
    env_name = auth.get(f"{key}_env")
    if value not in (None, ""):
        try:
            return secret(value, f"'auth.{key}'"), shown
        except ValueError as exc:
            raise ConfigError(f"{where}: {exc}") from None
    if env_name in (None, ""):
        return None, None
    if not isinstance(env_name, str):
        raise ConfigError(f"{where}: 'auth.{key}_env' must name an environment variable")
    found = env.get(env_name)
    if not found or not found.strip():
        if not strict:
            return None, f"environment {env_name} (not set)"
        raise ConfigError(
            f"{where}: 'auth.{key}_env' names {env_name}, which is not set",
            f"export {env_name} or put the value in the profile",
        )
    try:
        return secret(found, env_name), f"environment {env_name}"
    except ValueError as exc:
        raise ConfigError(f"{exc}", f"set {env_name} again without it") from None

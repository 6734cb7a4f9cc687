"""Settings from environment variables: vbs's own `VBS_*`, and the `OS_*` variables of an openrc file.

A malformed value is a configuration error (exit 3) that names the variable, never a crash.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from vbscli.errors import ConfigError
from vbscli.values import (
    KEYSTONE_TYPES,
    KEYSTONE_TYPES_HINT,
    SETTINGS,
    Layer,
    ca_bundle,
    missing_auth,
    parse_into,
    secret,
)

CONNECTION_VARIABLES = ("VBS_ENDPOINT", "VBS_PROJECT_ID", "VBS_TOKEN")
"""Where the service is and who calls it: never lent to a profile or cloud chosen explicitly."""


def _set(env: Mapping[str, str], name: str) -> str | None:
    value = env.get(name)
    return value if value is not None and value.strip() else None


def vbs_layer(env: Mapping[str, str]) -> Layer:
    """VBS_* variables (and OS_REGION_NAME, OS_INTERFACE, OS_CACERT, which say which endpoint and how
    to trust it rather than who calls)."""
    layer = Layer("environment", "environment")
    for setting in SETTINGS:
        if setting.env is None or _set(env, setting.env) is None:
            continue
        raw = env[setting.env]
        if setting.name == "verify":  # a variable can name a CA bundle; only --insecure or a profile turn TLS off
            _ca_bundle(layer, setting.env, raw)
        else:
            parse_into(layer, setting.name, raw, setting.env, f"environment {setting.env}", ConfigError)
    if "interface" not in layer.values and _set(env, "OS_ENDPOINT_TYPE"):
        name = "OS_ENDPOINT_TYPE"
        parse_into(layer, "interface", env[name], name, f"environment {name}", ConfigError)
    if "verify" not in layer.values and _set(env, "OS_CACERT"):
        _ca_bundle(layer, "OS_CACERT", env["OS_CACERT"])
    if _set(env, "OS_INSECURE"):
        layer.warnings.append(
            "OS_INSECURE is ignored: only --insecure or a profile's 'verify: false' turn TLS verification off"
        )
    if _set(env, "VBS_TOKEN"):
        token = env["VBS_TOKEN"]

        def read_auth(strict: bool) -> tuple[dict[str, Any], dict[str, str]]:
            try:
                value = secret(token, "VBS_TOKEN")
            except ValueError as exc:
                raise ConfigError(str(exc), "set VBS_TOKEN again without it") from None
            return {"type": "token", "token": value}, {"auth.token": "environment VBS_TOKEN"}

        layer.read_auth = read_auth
        layer.auth_type = "token"
    return layer


def _ca_bundle(layer: Layer, name: str, raw: str) -> None:
    try:
        layer.values["verify"] = ca_bundle(raw)
    except ValueError as exc:
        raise ConfigError(f"{name} {exc}, got {raw.strip()!r}") from None
    layer.origins["verify"] = f"environment {name}"


OPENRC_AUTH = {
    "auth_url": ("OS_AUTH_URL",),
    "username": ("OS_USERNAME",),
    "user_id": ("OS_USER_ID",),
    "password": ("OS_PASSWORD",),
    "user_domain_name": ("OS_USER_DOMAIN_NAME", "OS_DOMAIN_NAME"),
    "user_domain_id": ("OS_USER_DOMAIN_ID", "OS_DOMAIN_ID"),
    "project_name": ("OS_PROJECT_NAME", "OS_TENANT_NAME"),
    "project_domain_name": ("OS_PROJECT_DOMAIN_NAME", "OS_DOMAIN_NAME"),
    "project_domain_id": ("OS_PROJECT_DOMAIN_ID", "OS_DOMAIN_ID"),
    "token": ("OS_AUTH_TOKEN", "OS_TOKEN"),
    "application_credential_id": ("OS_APPLICATION_CREDENTIAL_ID",),
    "application_credential_name": ("OS_APPLICATION_CREDENTIAL_NAME",),
    "application_credential_secret": ("OS_APPLICATION_CREDENTIAL_SECRET",),
}
"""Auth field -> the openrc variables that give it, the first set one winning."""


def has_openrc(env: Mapping[str, str]) -> bool:
    """True when an openrc file's credentials are in the environment."""
    return any(_set(env, n) for n in ("OS_PASSWORD", "OS_AUTH_TOKEN", "OS_TOKEN", "OS_APPLICATION_CREDENTIAL_SECRET"))


OPENRC_ENDPOINTS = tuple(f"OS_{kind}_ENDPOINT_OVERRIDE" for kind in ("BLOCK_STORAGE", "VOLUMEV3", "VOLUMEV2", "VOLUME"))
"""The block-storage endpoint beside an openrc file's credentials, as openstacksdk reads it."""


def openrc_layer(env: Mapping[str, str]) -> Layer:
    """The credentials (and project, and endpoint override) of an openrc file: a password, a token or an
    application credential."""
    layer = Layer("environment (openrc)", "openrc")
    name = next((n for n in OPENRC_ENDPOINTS if _set(env, n)), None)
    if name is not None:
        parse_into(layer, "endpoint", env[name], name, f"environment {name}", ConfigError)
    if _set(env, "OS_PROJECT_ID") or _set(env, "OS_TENANT_ID"):
        name = "OS_PROJECT_ID" if _set(env, "OS_PROJECT_ID") else "OS_TENANT_ID"
        parse_into(layer, "project_id", env[name], name, f"environment {name}", ConfigError)
    kind_raw = _set(env, "OS_AUTH_TYPE")
    if kind_raw is not None:
        kind = KEYSTONE_TYPES.get(kind_raw.strip().lower())
        if kind is None:
            raise ConfigError(f"OS_AUTH_TYPE {kind_raw.strip()!r} is not one vbs can use", KEYSTONE_TYPES_HINT)
    elif _set(env, "OS_APPLICATION_CREDENTIAL_SECRET"):
        kind = "application_credential"
    elif (_set(env, "OS_AUTH_TOKEN") or _set(env, "OS_TOKEN")) and not _set(env, "OS_PASSWORD"):
        kind = "token"
    else:
        kind = "password"
    layer.auth_type = kind

    def read_auth(strict: bool) -> tuple[dict[str, Any], dict[str, str]]:
        resolved: dict[str, Any] = {"type": kind}
        origins: dict[str, str] = {}
        for key, names in OPENRC_AUTH.items():
            name = next((n for n in names if _set(env, n)), None)
            if name is None:
                continue
            try:
                resolved[key] = secret(env[name], name)
            except ValueError as exc:
                raise ConfigError(str(exc), f"set {name} again without it") from None
            origins[f"auth.{key}"] = f"environment {name}"
        if kind == "password" and resolved.get("user_id"):
            resolved.pop("user_domain_name", None)  # OS_DOMAIN_NAME is a default, not a second user
        missing = missing_auth(resolved)
        if missing and strict:
            variables = [" or ".join(OPENRC_AUTH.get(part, (part,))[0] for part in m.split(" or ")) for m in missing]
            raise ConfigError(
                f"the openrc variables in the environment are incomplete for a {kind} login: "
                f"{', '.join(variables)} {'is' if len(variables) == 1 else 'are'} not set",
                f"export {variables[0].split(' or ')[0]} (see your cloud's openrc file)",
            )
        return resolved, origins

    layer.read_auth = read_auth
    return layer

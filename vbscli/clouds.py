"""clouds.yaml and secure.yaml, found and merged where and as openstacksdk does.

Search order (the first file found wins): $OS_CLIENT_CONFIG_FILE, then `clouds.yaml` (or `.yml`,
`.json`) in the current directory, `$XDG_CONFIG_HOME/openstack`, `~/.config/openstack`,
`$XDG_CONFIG_DIRS/openstack` (`/etc/xdg/openstack`) and `/etc/openstack`. `secure.yaml` is looked
for the same way ($OS_CLIENT_SECURE_FILE first) and merged into it key by key, nested mappings
included, its values winning: so passwords can live in a file of their own.

A cloud may name a vendor profile (`profile: otc`): the settings a provider publishes for all its
users (the Keystone URL, its regions), under the cloud's own. They come from `clouds-public.yaml`
(`public-clouds:`, looked for the same way) or from the few vendors whose clouds serve VBS, built in.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from vbscli.errors import ConfigError
from vbscli.paths import clouds_candidates as candidates  # where the files are looked for lives in paths
from vbscli.paths import clouds_search_dirs as search_dirs  # noqa: F401 - part of this module's interface
from vbscli.paths import first_readable
from vbscli.values import (
    KEYSTONE_FIELDS,
    KEYSTONE_TYPES,
    KEYSTONE_TYPES_HINT,
    Layer,
    ca_bundle,
    cloud_name,
    parse_into,
    read_document,
    secret,
    type_name,
)

RENAMED = {"tenant_id": "project_id", "tenant_name": "project_name", "auth_token": "token"}
VENDORS: dict[str, dict[str, Any]] = {
    "otc": {
        "auth": {"auth_url": "https://iam.{region_name}.otc.t-systems.com/v3"},
        "regions": ["eu-de"],
        "interface": "public",
    },
    "otc-swiss": {
        "auth": {"auth_url": "https://iam-pub.eu-ch2.sc.otc.t-systems.com/v3"},
        "regions": ["eu-ch2"],
        "interface": "public",
    },
}
"""Vendor profiles of the clouds that serve VBS, as openstacksdk publishes them (`{region_name}` in the
auth_url is the region in use)."""
ENDPOINT_KEYS = tuple(f"{kind}_endpoint_override" for kind in ("block_storage", "volumev3", "volumev2", "volume"))


def _first(env: Mapping[str, str], cwd: str, stem: str, override: str) -> Path | None:
    if env.get(override) and not os.path.isfile(os.path.expanduser(env[override])):
        raise ConfigError(
            f"{override} names {env[override]}, which does not exist or is not a file",
            f"point {override} at your {stem}.yaml, or unset it",
        )
    found = first_readable(candidates(env, cwd, stem, override))
    return Path(found) if found else None


def merge(base: Mapping[str, Any], extra: Mapping[str, Any]) -> dict[str, Any]:
    """`base` updated with `extra`, nested mappings merged rather than replaced (secure.yaml's rule)."""
    merged = dict(base)
    for key, value in extra.items():
        if isinstance(value, Mapping) and isinstance(merged.get(key), Mapping):
            merged[key] = merge(merged[key], value)
        else:
            merged[key] = value
    return merged


@dataclass
class CloudsFile:
    """The clouds found: merged with secure.yaml, and which values secure.yaml gave (for origins)."""

    path: Path | None
    secure_path: Path | None
    clouds: dict[str, Any]
    secure: dict[str, Any] = field(default_factory=dict)

    def where(self) -> str:
        return str(self.path or self.secure_path)


def _clouds_of(path: Path, what: str) -> dict[str, Any]:
    doc = read_document(path, what)
    if doc is None:
        return {}
    if not isinstance(doc, dict):
        raise ConfigError(f"{path}: expected a mapping with 'clouds:' at the top, found {type_name(doc)}")
    clouds = doc.get("clouds") or {}
    if not isinstance(clouds, dict):
        raise ConfigError(f"{path}: 'clouds' must be a mapping of name to settings, found {type_name(clouds)}")
    return {str(k): v for k, v in clouds.items()}


def load(env: Mapping[str, str], cwd: str | None = None) -> CloudsFile | None:
    """The clouds of the first clouds.yaml found, with the first secure.yaml merged in; None if neither exists."""
    cwd = cwd if cwd is not None else os.getcwd()
    path = _first(env, cwd, "clouds", "OS_CLIENT_CONFIG_FILE")
    secure_path = _first(env, cwd, "secure", "OS_CLIENT_SECURE_FILE")
    if path is None and secure_path is None:
        return None
    clouds = _clouds_of(path, "clouds file") if path else {}
    secure = _clouds_of(secure_path, "secure file") if secure_path else {}
    return CloudsFile(path, secure_path, merge(clouds, secure), secure)


def vendor(name: str, env: Mapping[str, str], cwd: str) -> tuple[dict[str, Any], str] | None:
    """A vendor profile and where it came from: clouds-public.yaml first, then the built-in ones."""
    path = _first(env, cwd, "clouds-public", "")
    if path is not None:
        doc = read_document(path, "vendor file")
        public = doc.get("public-clouds") if isinstance(doc, dict) else None
        if isinstance(public, dict) and isinstance(public.get(name), dict):
            return public[name], f"clouds-public.yaml {path} (profile '{name}')"
    if name in VENDORS:
        return VENDORS[name], f"vendor profile '{name}' (built in)"
    return None


def not_found(env: Mapping[str, str], cwd: str | None = None) -> str:
    where = candidates(env, cwd if cwd is not None else os.getcwd(), "clouds", "OS_CLIENT_CONFIG_FILE")
    shown = [p for p in where if p.endswith(".yaml")]
    return "no clouds.yaml found (looked in " + ", ".join(shown) + ")"


def cloud_layer(name: str, env: Mapping[str, str], chosen_by: str, cwd: str | None = None) -> Layer:
    """The settings of one cloud; ConfigError (exit 3) naming the known clouds when it is not there."""
    name = cloud_name(name)
    found = load(env, cwd)
    if found is None:
        raise ConfigError(
            f"cloud '{name}' (from {chosen_by}) not found: {not_found(env, cwd)}",
            "create clouds.yaml (your cloud's dashboard offers one to download) or set OS_CLIENT_CONFIG_FILE",
        )
    if name not in found.clouds:
        known = ", ".join(sorted(found.clouds)) or "none"
        raise ConfigError(
            f"cloud '{name}' (from {chosen_by}) not found in {found.where()}; known clouds: {known}",
            "choose one of them",
        )
    return layer_of(name, found, env, cwd)


def _normalised(node: Any) -> Any:
    """Keys with '-' read as '_' (openstacksdk accepts both spellings)."""
    if isinstance(node, dict):
        return {str(k).replace("-", "_"): _normalised(v) for k, v in node.items()}
    return node


def layer_of(name: str, found: CloudsFile, env: Mapping[str, str] | None = None, cwd: str | None = None) -> Layer:
    """A cloud's settings as vbs uses them (over its vendor profile's); keys vbs has no use for are ignored."""
    raw = found.clouds[name]
    where = f"cloud '{name}' in {found.where()}"
    if not isinstance(raw, dict):
        raise ConfigError(f"{where}: the cloud must be a mapping of settings, found {type_name(raw)}")
    cloud = _normalised(raw)
    secure = _normalised(found.secure.get(name) or {})
    secure = secure if isinstance(secure, dict) else {}
    shown = f"clouds.yaml {found.path} (cloud '{name}')"
    secure_shown = f"secure.yaml {found.secure_path} (cloud '{name}')"
    own = cloud
    vendor_name = cloud.get("profile") or cloud.get("cloud")  # `cloud:` is openstacksdk's old name for it
    vendor_shown = ""
    if vendor_name not in (None, ""):
        given = vendor(str(vendor_name), env if env is not None else os.environ, cwd or os.getcwd())
        auth_block = cloud.get("auth") if isinstance(cloud.get("auth"), dict) else {}
        if given is None and not auth_block.get("auth_url"):
            raise ConfigError(
                f"{where} names the vendor profile '{vendor_name}', which vbs does not know "
                f"(it knows {', '.join(VENDORS)} and those of a clouds-public.yaml)",
                "give auth.auth_url (and region_name) in the cloud itself",
            )
        if given is not None:
            cloud = merge(_normalised(given[0]), cloud)
            vendor_shown = given[1]

    def origin(key: str, in_auth: bool) -> str:
        block = secure.get("auth") if in_auth else secure
        if isinstance(block, dict) and key in block:
            return secure_shown
        mine = own.get("auth") if in_auth else own
        return shown if not vendor_shown or isinstance(mine, dict) and key in mine else vendor_shown

    layer = Layer(where, "clouds.yaml", name=name, cloud=name)
    endpoint_key = next((k for k in ENDPOINT_KEYS if cloud.get(k)), None)
    if endpoint_key:
        label = f"'{endpoint_key}' in {where}"
        parse_into(layer, "endpoint", cloud[endpoint_key], label, origin(endpoint_key, False), ConfigError)
    region, region_key = cloud.get("region_name"), "region_name"
    if isinstance(region, str) and "," in region:  # an old spelling of a list of regions: the first is the default
        region = region.split(",")[0].strip()
    regions = cloud.get("regions") if isinstance(cloud.get("regions"), list) else []
    if region is None and regions:
        first = regions[0]  # openstacksdk's choice when region_name is not given
        region, region_key = first.get("name") if isinstance(first, dict) else first, "regions"
    if any(isinstance(r, dict) and r.get("values") for r in regions):
        layer.warnings.append(f"{where}: the per-region 'values' of 'regions' are not applied by vbs")
    if region not in (None, ""):
        parse_into(layer, "region", region, f"'{region_key}' in {where}", origin(region_key, False), ConfigError)
    for key in ("block_storage_interface", "interface", "endpoint_type"):
        if cloud.get(key) not in (None, ""):
            parse_into(layer, "interface", cloud[key], f"'{key}' in {where}", origin(key, False), ConfigError)
            break
    _verify(layer, cloud, where, origin)

    auth = cloud.get("auth") or {}
    if not isinstance(auth, dict):
        raise ConfigError(f"{where}: 'auth' must be a mapping, found {type_name(auth)}")
    fields: dict[str, tuple[Any, str]] = {}
    for block, in_auth in ((auth, True), (cloud, False)):  # values outside 'auth' win, as in openstacksdk
        for key, value in block.items():
            canonical = RENAMED.get(key, key)
            if canonical in KEYSTONE_FIELDS and value not in (None, ""):
                fields[canonical] = (value, origin(key, in_auth))
    for scope in ("domain_id", "domain_name"):  # a default for the user's and the project's domain
        if scope in auth and auth[scope] not in (None, ""):
            for prefix in ("user", "project"):
                fields.setdefault(f"{prefix}_{scope}", (auth[scope], origin(scope, True)))
    if "project_id" in fields:
        value, came_from = fields["project_id"]
        parse_into(layer, "project_id", value, f"'project_id' in {where}", came_from, ConfigError)

    kind_raw = cloud.get("auth_type") or cloud.get("auth_plugin")
    if kind_raw in (None, ""):
        kind = (
            "application_credential"
            if "application_credential_secret" in fields or "application_credential_id" in fields
            else "token"
            if "token" in fields and "password" not in fields
            else "password"
        )
    elif str(kind_raw).lower() in KEYSTONE_TYPES:
        kind = KEYSTONE_TYPES[str(kind_raw).lower()]
    else:
        raise ConfigError(f"{where}: auth_type {kind_raw!r} is not one vbs can use", KEYSTONE_TYPES_HINT)
    layer.auth_type = kind

    def read_auth(strict: bool) -> tuple[dict[str, Any], dict[str, str]]:
        resolved: dict[str, Any] = {"type": kind}
        origins: dict[str, str] = {}
        for key, (value, came_from) in fields.items():
            if key == "project_id":
                continue  # a setting of its own (the scope is the resolved project)
            try:
                resolved[key] = _text(value, key)
            except ValueError as exc:
                raise ConfigError(f"{where}: {exc}") from None
            origins[f"auth.{key}"] = came_from
        return resolved, origins

    layer.read_auth = read_auth
    if vendor_name not in (None, "") and not vendor_shown:
        layer.warnings.append(
            f"{where} names the vendor profile '{vendor_name}', which vbs does not know: only the cloud's "
            "own settings are used"
        )
    return layer


def _text(value: Any, key: str) -> str:
    if isinstance(value, bool) or not isinstance(value, (str, int, float)):
        raise ValueError(f"'auth.{key}' must be a string")
    return secret(value, f"'auth.{key}'")


def _verify(layer: Layer, cloud: dict[str, Any], where: str, origin: Any) -> None:
    """verify: false or insecure: true turn verification off; cacert names the CA bundle."""
    off = cloud.get("verify") is False or str(cloud.get("verify")).lower() == "false"
    off = off or cloud.get("insecure") is True or str(cloud.get("insecure")).lower() == "true"
    if off:
        layer.values["verify"] = False
        layer.origins["verify"] = origin("verify" if "verify" in cloud else "insecure", False)
    elif cloud.get("cacert") not in (None, ""):  # a file, never a way to turn verification off
        label = f"'cacert' in {where}"
        parse_into(layer, "verify", cloud["cacert"], label, origin("cacert", False), ConfigError, ca_bundle)
    elif isinstance(cloud.get("verify"), str) and cloud["verify"].lower() not in ("true", ""):
        parse_into(layer, "verify", cloud["verify"], f"'verify' in {where}", origin("verify", False), ConfigError)


def names(env: Mapping[str, str], cwd: str | None = None) -> list[str]:
    """The clouds defined (for `vbs profile list`); [] when there is no clouds.yaml."""
    found = load(env, cwd)
    return sorted(found.clouds) if found else []

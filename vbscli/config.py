"""The settings of a run: every source read by its own module, layered here once, origins kept.

Precedence, highest first (the README repeats this table):

    command-line flag  >  an explicit --profile / --os-cloud  >  environment variables
                       >  the default profile (VBS_PROFILE, OS_CLOUD, the file's default, openrc)  >  built-in default

The endpoint, the project and the credentials travel together: credentials are only ever sent to
the endpoint configured beside them. So a profile or cloud chosen explicitly takes none of them from
VBS_* variables (those are named in one warning), and an ambient VBS_ENDPOINT never carries a
profile's credentials. Only a command-line flag, typed for this run, may change the endpoint or
the project of a chosen source. This module imports neither typer nor rich, and yaml only when a
file is actually read.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from vbscli import environ, profile_file
from vbscli.errors import ConfigError, InputError
from vbscli.profile_file import ProfileFile, choose
from vbscli.values import (
    CONNECTION,
    LOGIN_TYPES,
    SETTINGS,
    Layer,
    ca_bundle,
    missing_auth,
    parse_into,
    project_id,
    service_root,
)

LOCAL_HOSTS = ("127.0.0.1", "localhost", "::1")


@dataclass
class Settings:
    """Everything a command needs to talk to the service, resolved and typed.

    `endpoint` is None when it is to come from the service catalog of the login; `origins` says
    where each setting (and each `auth.<field>`) came from.
    """

    endpoint: str | None
    project_id: str | None
    auth: dict[str, Any]
    connect_timeout: float = 10.0
    read_timeout: float = 60.0
    verify: bool | str = True
    output: str | None = None
    max_attempts: int = 4
    deadline: float = 300.0
    region: str | None = None
    interface: str = "public"
    profile: str | None = None
    cloud: str | None = None
    source: str = "environment"
    warnings: list[str] = field(default_factory=list)
    origins: dict[str, str] = field(default_factory=dict)

    @property
    def auth_type(self) -> str:
        return str(self.auth.get("type", "token"))


def _set(env: Mapping[str, str], name: str) -> str | None:
    value = env.get(name)
    return value.strip() if value is not None and value.strip() else None


def flag_layer(flags: Mapping[str, Any]) -> Layer:
    """The command line: a bad value there is a usage error (exit 2), like any other bad option."""
    layer = Layer("command line", "command line")
    for setting in SETTINGS:
        raw = flags.get(setting.name)
        if raw is None:
            continue
        if setting.name == "verify" and raw is False:
            layer.values["verify"], layer.origins["verify"] = False, "command line --insecure"
        elif setting.name == "verify":
            try:
                layer.values["verify"] = ca_bundle(raw)
            except ValueError as exc:
                raise InputError(f"--ca-bundle {exc}, got {str(raw)!r}") from None
            layer.origins["verify"] = "command line --ca-bundle"
        else:
            parse_into(layer, setting.name, raw, str(setting.flag), f"command line {setting.flag}", InputError)
    return layer


def resolve(
    flags: Mapping[str, Any],
    env: Mapping[str, str],
    profile_flag: str | None = None,
    cloud_flag: str | None = None,
    *,
    strict: bool = True,
    pfile: ProfileFile | None = None,
    cwd: str | None = None,
) -> Settings:
    """Apply the precedence table (see the module's docstring).

    `flags` holds the command-line values by setting name (None when not given). With
    `strict=False` (for `vbs profile show`) missing credentials and settings are left empty
    instead of failing.
    """
    if profile_flag and cloud_flag:
        raise InputError(
            "--profile and --os-cloud both say where the settings come from",
            "give one of them (a profile can point at a cloud with 'cloud: NAME')",
        )
    top = flag_layer(flags)
    envl = environ.vbs_layer(env)
    warnings: list[str] = list(envl.warnings)
    if pfile is None:
        pfile = _profile_file(env, bool(profile_flag), warnings)
    explicit, chosen_by = _explicit(pfile, env, profile_flag, cloud_flag, cwd)
    openrc = environ.openrc_layer(env) if environ.has_openrc(env) else None
    base = None if explicit is not None else _base(pfile, env, envl, openrc, warnings, cwd)
    conn, chains = _connection(top, envl, explicit, base, env, chosen_by, warnings)
    for layer in (explicit, base):
        if layer is not None:
            warnings += layer.warnings
    behaviour = [top, explicit, envl] if explicit is not None else [top, envl, base]
    values, origins = _layered(chains, behaviour)
    if conn is None:
        path = pfile.path if pfile is not None else profile_file.default_path(env)
        raise ConfigError(
            f"no profile file at {path}, no cloud chosen, and no VBS_ENDPOINT or credentials in the environment",
            "add a profile with 'vbs profile add NAME' (it asks for what it needs), choose a cloud of clouds.yaml "
            "with --os-cloud or OS_CLOUD, or export VBS_ENDPOINT, VBS_PROJECT_ID and VBS_TOKEN (or source an "
            "openrc file)",
        )
    auth = _credentials(conn, strict, origins, values["region"], chosen_by)
    endpoint, project = _endpoint_and_project(values, auth, origins, conn.where)
    kind = auth.get("type")
    logs_in = kind in LOGIN_TYPES or (kind == "token" and bool(auth.get("auth_url")))
    if kind != "application_credential" and logs_in and project is not None:
        auth["project_id"] = project  # the login's scope
    if strict:
        _check_complete(conn.where, kind, auth, endpoint, project, catalog=endpoint is None and logs_in)
    if endpoint is None and logs_in:
        origins["endpoint"] = "service catalog (at login)"
    warnings += transport_warnings((endpoint, auth.get("auth_url")), values["verify"])
    return Settings(
        endpoint=endpoint,
        project_id=project,
        auth=auth,
        connect_timeout=values["connect_timeout"],
        read_timeout=values["read_timeout"],
        verify=values["verify"],
        output=values["output"],
        max_attempts=values["max_attempts"],
        deadline=values["deadline"],
        region=values["region"],
        interface=values["interface"],
        profile=conn.name if conn.kind == "profile file" else None,
        cloud=conn.cloud,
        source=conn.where,
        warnings=warnings,
        origins=origins,
    )


def _profile_file(env: Mapping[str, str], asked: bool, warnings: list[str]) -> ProfileFile | None:
    """The profile file, if it exists or is asked for (by VBS_CONFIG, --profile or VBS_PROFILE)."""
    path = profile_file.default_path(env)
    if not (path.exists() or _set(env, "VBS_CONFIG") or asked or _set(env, "VBS_PROFILE")):
        return None
    if not path.exists():
        origin = "VBS_CONFIG" if _set(env, "VBS_CONFIG") else "the default location"
        raise ConfigError(
            f"profile file {path} ({origin}) does not exist",
            "create it (see the README) or point VBS_CONFIG at your profile file",
        )
    pfile = profile_file.load(path)
    warnings += pfile.warnings
    if pfile.mode is not None and pfile.mode & 0o077 and pfile.holds_secrets():
        warnings.append(f"{path} holds secrets and is readable by group or others; run: chmod 600 {path}")
    return pfile


def _explicit(
    pfile: ProfileFile | None, env: Mapping[str, str], profile_flag: str | None, cloud_flag: str | None, cwd: str | None
) -> tuple[Layer | None, str]:
    """The source chosen on the command line, and how it was chosen (for the warning)."""
    if profile_flag:
        assert pfile is not None
        return profile_file.layer(
            pfile, choose(pfile, profile_flag, "--profile"), env, cwd
        ), f"--profile {profile_flag}"
    if cloud_flag:
        from vbscli import clouds

        return clouds.cloud_layer(cloud_flag, env, "--os-cloud", cwd), f"--os-cloud {cloud_flag}"
    return None, ""


def _connection(
    top: Layer,
    envl: Layer,
    explicit: Layer | None,
    base: Layer | None,
    env: Mapping[str, str],
    chosen_by: str,
    warnings: list[str],
) -> tuple[Layer | None, dict[str, list[Layer | None]]]:
    """Who supplies the credentials, and where the endpoint and project may come from with them."""
    if explicit is not None:
        ignored = [name for name in environ.CONNECTION_VARIABLES if _set(env, name)]
        ignored += [
            envl.origins[s.name].removeprefix("environment ")
            for s in SETTINGS
            if s.name not in CONNECTION and s.name in envl.values and s.name in explicit.values
        ]
        if ignored:
            warnings.append(
                f"{', '.join(ignored)} ignored: {chosen_by} was chosen explicitly, and its settings "
                "win over environment variables"
            )
        return explicit, {"endpoint": [top, explicit], "project_id": [top, explicit]}
    ambient: dict[str, list[Layer | None]] = {"endpoint": [top, envl, base], "project_id": [top, envl, base]}
    if envl.has_credentials():
        return envl, ambient
    if "endpoint" in envl.values and base is not None and base.has_credentials():
        beside = (
            "unset VBS_ENDPOINT (the service catalog gives the endpoint) or export "
            "OS_BLOCK_STORAGE_ENDPOINT_OVERRIDE with the openrc variables"
            if base.kind == "openrc"
            else "export VBS_TOKEN too, or unset VBS_ENDPOINT"
        )
        raise ConfigError(
            f"VBS_ENDPOINT is set without VBS_TOKEN, and vbs does not send the credentials of {base.where} "
            "to an endpoint they were not configured for",
            f"{beside}, or give --endpoint to change the endpoint for one run",
        )
    return base, ambient


def _layered(
    chains: dict[str, list[Layer | None]], behaviour: list[Layer | None]
) -> tuple[dict[str, Any], dict[str, str]]:
    """Each setting from the first layer of its chain that has it, else its default."""
    values: dict[str, Any] = {}
    origins: dict[str, str] = {}
    for setting in SETTINGS:
        for layer in chains.get(setting.name, behaviour):
            if layer is not None and setting.name in layer.values:
                values[setting.name] = layer.values[setting.name]
                origins[setting.name] = layer.origins[setting.name]
                break
        else:
            values[setting.name] = setting.default
            if setting.default is not None:
                origins[setting.name] = "default"
    return values, origins


def _credentials(
    conn: Layer, strict: bool, origins: dict[str, str], region: str | None, chosen_by: str = ""
) -> dict[str, Any]:
    """The connection's auth block, read and checked (its fields' origins go into `origins`); a
    `{region_name}` in the auth_url (as vendor profiles write it) is the region in use."""
    where = conn.where
    if conn.read_auth is None:
        if strict:
            raise ConfigError(
                f"{where}: no credentials: missing 'auth'",
                "add 'auth: {type: token, token: ...}' (or type password, application_credential or aksk) "
                + (
                    f"to the profile ({chosen_by} takes no credentials from VBS_TOKEN)"
                    if chosen_by
                    else "to the profile, or set VBS_TOKEN"
                ),
            )
        return {}
    auth, auth_origins = conn.read_auth(strict)
    origins.update(auth_origins)
    missing = missing_auth(auth)
    if missing and strict:
        first = missing[0].split(" or ")
        raise ConfigError(
            f"{where}: auth type {auth.get('type')} needs " + " or ".join(f"'auth.{f}'" for f in first),
            f"set 'auth.{first[0]}' or 'auth.{first[0]}_env' in the profile"
            if conn.kind == "profile file"
            else f"add auth.{first[0]} to the cloud in clouds.yaml or secure.yaml",
        )
    if auth.get("auth_url") and "{region_name}" in auth["auth_url"]:
        if not region:
            raise ConfigError(
                f"{where}: 'auth.auth_url' {auth['auth_url']} needs a region",
                "set region_name in the cloud or the profile, OS_REGION_NAME or --os-region-name",
            )
        auth["auth_url"] = auth["auth_url"].replace("{region_name}", region)
    if auth.get("auth_url"):
        auth["auth_url"] = iam_url(auth["auth_url"], f"{where}: 'auth.auth_url'")
    return auth


def _endpoint_and_project(
    values: dict[str, Any], auth: dict[str, Any], origins: dict[str, str], where: str
) -> tuple[str | None, str | None]:
    """The service root and the project: an auth block's project_id is the project when none is set,
    and a project in the endpoint's URL must agree with the configured one (or becomes it)."""
    project = values["project_id"]
    scoped = auth.pop("project_id", None)
    if scoped and project is None:
        try:
            project = project_id(scoped)
        except ValueError as exc:
            raise ConfigError(f"{where}: 'auth.project_id' {exc}") from None
        origins["project_id"] = origins.pop("auth.project_id", where)
    origins.pop("auth.project_id", None)
    endpoint = values["endpoint"]
    if endpoint is None:
        return None, project
    root, in_url = service_root(endpoint)
    if in_url is not None and project is not None and in_url != project:
        raise ConfigError(
            f"the endpoint {endpoint} ({origins['endpoint']}) is for project {in_url}, "
            f"but the project ID is {project} ({origins.get('project_id', where)})",
            "make them agree, or give the endpoint without /v3/<project_id>",
        )
    if in_url is not None and project is None:
        project = in_url
        origins["project_id"] = f"{origins['endpoint']} (the project in its URL)"
    return root, project


def _base(
    pfile: ProfileFile | None,
    env: Mapping[str, str],
    envl: Layer,
    openrc: Layer | None,
    warnings: list[str],
    cwd: str | None,
) -> Layer | None:
    """The default source when nothing is chosen on the command line: VBS_PROFILE, OS_CLOUD, the
    file's default (or only) profile, an openrc file's variables, or the only cloud of clouds.yaml."""
    if _set(env, "VBS_PROFILE"):
        assert pfile is not None
        if _set(env, "OS_CLOUD"):
            warnings.append(f"OS_CLOUD ignored: VBS_PROFILE chooses profile '{_set(env, 'VBS_PROFILE')}'")
        return profile_file.layer(pfile, choose(pfile, _set(env, "VBS_PROFILE"), "VBS_PROFILE"), env, cwd)
    if _set(env, "OS_CLOUD"):
        from vbscli import clouds  # only when clouds.yaml is read

        return clouds.cloud_layer(str(_set(env, "OS_CLOUD")), env, "OS_CLOUD", cwd)
    environment_is_enough = envl.has_credentials() or openrc is not None
    if pfile is not None:
        try:
            name = choose(pfile, None, "")
        except ConfigError:
            if environment_is_enough:
                return openrc
            raise
        return profile_file.layer(pfile, name, env, cwd)
    if environment_is_enough:
        return openrc
    from vbscli import clouds

    found = clouds.load(env, cwd)
    if found is not None and len(found.clouds) == 1:
        return clouds.layer_of(next(iter(found.clouds)), found, env, cwd)  # as the openstack client does
    if found is not None and found.clouds:
        raise ConfigError(
            f"no profile file and no cloud chosen, and {found.where()} has several clouds: "
            f"{', '.join(sorted(found.clouds))}",
            "choose one with --os-cloud NAME or OS_CLOUD",
        )
    return None


def _check_complete(
    where: str, kind: Any, auth: Mapping[str, Any], endpoint: str | None, project: str | None, *, catalog: bool
) -> None:
    if endpoint is None and not catalog:
        if kind == "aksk":
            raise ConfigError(
                f"{where}: missing 'endpoint': AK/SK signing has no login, so no service catalog to find it in",
                "add 'endpoint:' to the profile (block_storage_endpoint_override to a cloud), or give --endpoint",
            )
        raise ConfigError(
            f"{where}: missing 'endpoint'",
            "add it to the profile or set VBS_ENDPOINT (with auth.auth_url, a token login finds it in the catalog)",
        )
    told_by_login = kind == "application_credential" or (kind in ("password", "token") and auth.get("project_name"))
    if project is None and not told_by_login:
        raise ConfigError(f"{where}: missing 'project_id'", "add it to the profile or set VBS_PROJECT_ID")


def transport_warnings(urls: Iterable[str | None], verify: bool | str) -> list[str]:
    """Verification off where TLS is used at all; credentials over plain HTTP beyond this machine.
    (An endpoint from the service catalog is checked once the catalog tells it: vbscli.cli.runtime.)"""
    urls = [u for u in urls if u]
    warnings = []
    if verify is False:
        https = [u for u in urls if urlsplit(u).scheme == "https"]
        if https:
            warnings.append(f"TLS certificate verification is off for {https[0]}")
    for url in urls:
        parts = urlsplit(url)
        if parts.scheme == "http" and parts.hostname not in LOCAL_HOSTS:
            warnings.append(f"{url} is plain HTTP: credentials travel unencrypted")
    return warnings


def iam_url(url: str, origin: str) -> str:
    """IAM's v3 root: `https://iam.example.com` and `.../v3/` both become `https://iam.example.com/v3`."""
    parts = urlsplit(url.strip())
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ConfigError(f"{origin} must be an https:// URL such as https://iam.eu-de.otc.t-systems.com/v3")
    root = url.strip().rstrip("/")
    return root if root.endswith("/v3") else root + "/v3"


def check_profile(profile: Mapping[str, Any], env: Mapping[str, str], name: str, path: Path) -> Settings:
    """The settings this profile would give, as `-p NAME` would resolve them (for `vbs profile add`):
    ConfigError if it could not be used as written. Variables it names are taken as set."""
    quiet = {k: v for k, v in env.items() if not k.startswith(("VBS_", "OS_")) or k.startswith("OS_CLIENT_")}
    quiet.update({var: "set" for var in _env_names(profile)})
    pfile = ProfileFile(path, None, {name: dict(profile)})
    return resolve({}, quiet, name, pfile=pfile)


def _env_names(node: Any) -> list[str]:
    if isinstance(node, dict):
        found = [v for k, v in node.items() if str(k).endswith("_env") and isinstance(v, str)]
        for v in node.values():
            found += _env_names(v)
        return found
    return []

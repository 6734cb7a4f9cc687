"""Profiles and settings: where each value comes from, decided in one place.

Precedence, highest first (the README repeats this table):

    command-line flag  >  environment variable  >  profile in the file  >  built-in default

`SETTINGS` below is that table in code. This module imports neither typer nor rich, and yaml only
when a profile file is actually read.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from vbscli import redact
from vbscli.errors import ConfigError

OUTPUT_FORMATS = ("table", "json", "value")
PROFILE_KEYS = frozenset(
    {
        "endpoint",
        "project_id",
        "auth",
        "verify",
        "connect_timeout",
        "read_timeout",
        "output",
        "max_attempts",
        "deadline",
    }
)


def default_config_path(env: Mapping[str, str]) -> Path:
    """$VBS_CONFIG, else $XDG_CONFIG_HOME/vbs/config.yaml, else ~/.config/vbs/config.yaml."""
    from vbscli.paths import config_file

    return Path(config_file(env))


# -- value parsers: each takes the raw value and returns the typed one or raises ValueError ----------


def _endpoint(value: Any) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ValueError("must be a URL such as https://evs.eu-de.otc.t-systems.com")
    url = value.strip().rstrip("/")
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError("must be an http:// or https:// URL such as https://evs.eu-de.otc.t-systems.com")
    try:
        _ = parts.port  # reading it validates it
    except ValueError:
        raise ValueError("has an invalid port") from None
    if parts.query or parts.fragment:
        raise ValueError("must not carry a query or fragment")
    if parts.path.rstrip("/").endswith("/v3"):
        raise ValueError("must be the service root without /v3 (vbs adds /v3/{project_id})")
    return url


def _project_id(value: Any) -> str:
    text = str(value).strip() if isinstance(value, (str, int)) and not isinstance(value, bool) else ""
    if not text or not all(c.isalnum() or c in "-_" for c in text):
        raise ValueError("must be a project ID such as 648bba9ba87e4b3f8484d0fc60e2e6cc")
    return text


def _seconds(maximum: float) -> Callable[[Any], float]:
    """A parser of a number of seconds, more than 0 and at most `maximum`."""

    def parse(value: Any) -> float:
        if isinstance(value, bool):
            raise ValueError("must be a number of seconds")
        try:
            seconds = float(value)
        except (TypeError, ValueError):
            raise ValueError("must be a number of seconds") from None
        if not (0 < seconds <= maximum):
            raise ValueError(f"must be more than 0 and at most {maximum:g} seconds")
        return seconds

    return parse


def _attempts(value: Any) -> int:
    if isinstance(value, bool):
        raise ValueError("must be a whole number from 1 to 10")
    try:
        number = int(str(value).strip())
    except ValueError:
        raise ValueError("must be a whole number from 1 to 10") from None
    if not 1 <= number <= 10:
        raise ValueError("must be a whole number from 1 to 10")
    return number


def _output(value: Any) -> str:
    if not isinstance(value, str) or value.strip().lower() not in OUTPUT_FORMATS:
        raise ValueError(f"must be one of: {', '.join(OUTPUT_FORMATS)}")
    return value.strip().lower()


def _verify(value: Any) -> bool | str:
    """`true`, `false`, or the path of a CA bundle file."""
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in ("true", "yes", "1"):
        return True
    if isinstance(value, str) and value.strip().lower() in ("false", "no", "0"):
        return False
    if isinstance(value, str) and value.strip():
        path = Path(value.strip()).expanduser()
        if not path.is_file():
            raise ValueError(f"names a CA bundle that does not exist: {path}")
        return str(path)
    raise ValueError("must be true, false or the path of a CA bundle file")


@dataclass(frozen=True)
class Setting:
    """One row of the precedence table."""

    name: str
    env: str | None
    key: str | None
    default: Any
    parse: Callable[[Any], Any]
    flag: str | None = None


SETTINGS: tuple[Setting, ...] = (
    Setting("endpoint", "VBS_ENDPOINT", "endpoint", None, _endpoint, "--endpoint"),
    Setting("project_id", "VBS_PROJECT_ID", "project_id", None, _project_id, "--project-id"),
    Setting("connect_timeout", "VBS_CONNECT_TIMEOUT", "connect_timeout", 10.0, _seconds(3600), "--connect-timeout"),
    Setting("read_timeout", "VBS_READ_TIMEOUT", "read_timeout", 60.0, _seconds(3600), "--read-timeout"),
    Setting("output", "VBS_OUTPUT", "output", None, _output, "--output"),
    Setting("max_attempts", "VBS_MAX_ATTEMPTS", "max_attempts", 4, _attempts, "--max-attempts"),
    Setting("deadline", "VBS_DEADLINE", "deadline", 300.0, _seconds(86400), "--deadline"),
    Setting("verify", "VBS_CA_BUNDLE", "verify", True, _verify, "--ca-bundle / --insecure"),
)
SETTING = {s.name: s for s in SETTINGS}


@dataclass
class Settings:
    """Everything a command needs to talk to the service, resolved and typed."""

    endpoint: str
    project_id: str | None
    auth: dict[str, Any]
    connect_timeout: float = 10.0
    read_timeout: float = 60.0
    verify: bool | str = True
    output: str | None = None
    max_attempts: int = 4
    deadline: float = 300.0
    profile: str | None = None
    source: str = "environment"
    warnings: list[str] = field(default_factory=list)

    @property
    def auth_type(self) -> str:
        return str(self.auth.get("type", "token"))


@dataclass
class ProfileFile:
    """A loaded profile file: its path, the default profile's name and the raw profiles."""

    path: Path
    default: str | None
    profiles: dict[str, dict[str, Any]]
    mode: int | None = None

    def holds_secrets(self) -> bool:
        return redact.holds_secret(self.profiles)


def load_profile_file(path: Path) -> ProfileFile:
    """Read and check the file's outer shape; raises ConfigError with file (and line) on any problem."""
    try:
        raw = path.read_bytes()
        mode = path.stat().st_mode
    except FileNotFoundError:
        raise ConfigError(f"profile file {path} does not exist") from None
    except IsADirectoryError:
        raise ConfigError(f"profile file {path} is a directory") from None
    except OSError as exc:
        raise ConfigError(f"cannot read profile file {path}: {exc.strerror or exc}") from None

    import yaml  # only here: most of the import cost of reading a profile

    try:
        doc = yaml.safe_load(raw)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = f"{path}:{mark.line + 1}:{mark.column + 1}" if mark else str(path)
        problem = exc.problem or exc.context or "syntax error"
        raise ConfigError(f"{where}: invalid YAML: {problem}", "fix the file's syntax") from None
    except (yaml.YAMLError, UnicodeDecodeError, RecursionError) as exc:
        raise ConfigError(f"{path}: invalid YAML: {_first_line(exc)}", "fix the file's syntax") from None

    if doc is None:
        doc = {}
    if not isinstance(doc, dict):
        raise ConfigError(
            f"{path}: expected a mapping with 'profiles:' at the top, found {_type_name(doc)}",
            "see the README for an example file",
        )
    profiles = doc.get("profiles", {})
    if profiles is None:
        profiles = {}
    if not isinstance(profiles, dict):
        raise ConfigError(f"{path}: 'profiles' must be a mapping of name to settings, found {_type_name(profiles)}")
    checked: dict[str, dict[str, Any]] = {}
    for name, body in profiles.items():
        if not isinstance(body, dict):
            raise ConfigError(f"{path}: profile '{name}' must be a mapping of settings, found {_type_name(body)}")
        checked[str(name)] = body
    default = doc.get("default")
    if default is not None and not isinstance(default, (str, int)):
        raise ConfigError(f"{path}: 'default' must be a profile name, found {_type_name(default)}")
    return ProfileFile(path, None if default is None else str(default), checked, mode)


def _type_name(value: Any) -> str:
    return {dict: "a mapping", list: "a list", str: "a string", bool: "a boolean"}.get(
        type(value), f"a {type(value).__name__}"
    )


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0] if text else type(exc).__name__


AUTH_FIELDS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    # type: (required fields, optional fields); any field may instead be given as `<field>_env: VAR`
    "token": (("token",), ()),
    "password": (("auth_url", "username", "password", "domain"), ("project_id", "project_name")),
    "aksk": (("access_key", "secret_key"), ("security_token",)),
}
AUTH_TYPES = tuple(AUTH_FIELDS)


def _field(auth: Mapping[str, Any], key: str, env: Mapping[str, str], where: str) -> str | None:
    """A value given inline (`password: ...`) or by naming an environment variable (`password_env: NAME`)."""
    value = auth.get(key)
    env_name = auth.get(f"{key}_env")
    if value not in (None, ""):
        if isinstance(value, bool) or not isinstance(value, (str, int)):
            raise ConfigError(f"{where}: 'auth.{key}' must be a string")
        return str(value)
    if env_name:
        if not isinstance(env_name, str):
            raise ConfigError(f"{where}: 'auth.{key}_env' must name an environment variable")
        found = env.get(env_name)
        if not found:
            raise ConfigError(
                f"{where}: 'auth.{key}_env' names {env_name}, which is not set",
                f"export {env_name} or put the value in the profile",
            )
        return found
    return None


def _iam_url(url: str, origin: str) -> str:
    """IAM's v3 root: `https://iam.example.com` and `.../v3/` both become `https://iam.example.com/v3`."""
    parts = urlsplit(url.strip())
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ConfigError(f"{origin} must be an https:// URL such as https://iam.eu-de.otc.t-systems.com/v3")
    root = url.strip().rstrip("/")
    return root if root.endswith("/v3") else root + "/v3"


def _resolve_auth(auth: Any, env: Mapping[str, str], where: str) -> dict[str, Any]:
    """The auth block with every field read (inline or from its variable); secrets stay in this dict."""
    if auth is None:
        raise ConfigError(
            f"{where}: no credentials: missing 'auth'",
            "add 'auth: {type: token, token: ...}' (or type password or aksk) to the profile, or set VBS_TOKEN",
        )
    if not isinstance(auth, dict):
        raise ConfigError(f"{where}: 'auth' must be a mapping such as {{type: token, token: ...}}")
    kind = auth.get("type", "token")
    if kind not in AUTH_FIELDS:
        raise ConfigError(f"{where}: unknown auth type {kind!r}", f"use one of: {', '.join(AUTH_TYPES)}")
    required, optional = AUTH_FIELDS[kind]
    resolved: dict[str, Any] = {"type": kind}
    for key in required + optional:
        value = _field(auth, key, env, where)
        if value is None and key in required:
            raise ConfigError(
                f"{where}: auth type {kind} needs 'auth.{key}'",
                f"set 'auth.{key}' or 'auth.{key}_env' in the profile",
            )
        if value is not None:
            resolved[key] = value
    known = set(required + optional) | {f"{k}_env" for k in required + optional} | {"type"}
    unknown = sorted(str(k) for k in auth if k not in known)
    if unknown:
        raise ConfigError(
            f"{where}: unknown auth setting '{unknown[0]}' for auth type {kind}",
            f"auth type {kind} takes: {', '.join(required + optional)}",
        )
    if kind == "password":
        resolved["auth_url"] = _iam_url(resolved["auth_url"], f"{where}: 'auth.auth_url'")
    return resolved


def _openrc_auth(env: Mapping[str, str]) -> dict[str, Any] | None:
    """Credentials from an OpenStack openrc file's variables, used when no profile is in use."""
    if env.get("OS_AUTH_TOKEN"):
        return {"type": "token", "token": env["OS_AUTH_TOKEN"]}
    if not (env.get("OS_AUTH_URL") and env.get("OS_USERNAME") and env.get("OS_PASSWORD")):
        return None
    domain = env.get("OS_USER_DOMAIN_NAME") or env.get("OS_DOMAIN_NAME")
    if not domain:
        raise ConfigError(
            "OS_AUTH_URL, OS_USERNAME and OS_PASSWORD are set but OS_USER_DOMAIN_NAME is not",
            "export OS_USER_DOMAIN_NAME (your account's domain name)",
        )
    auth: dict[str, Any] = {
        "type": "password",
        "auth_url": _iam_url(env["OS_AUTH_URL"], "OS_AUTH_URL"),
        "username": env["OS_USERNAME"],
        "password": env["OS_PASSWORD"],
        "domain": domain,
    }
    if env.get("OS_PROJECT_ID"):
        auth["project_id"] = env["OS_PROJECT_ID"]
    elif env.get("OS_PROJECT_NAME"):
        auth["project_name"] = env["OS_PROJECT_NAME"]
    return auth


def check_profile(profile: Mapping[str, Any], env: Mapping[str, str], where: str) -> None:
    """Raise ConfigError if this profile could not be used as written (for `vbs profile add`)."""
    for setting in SETTINGS:
        if setting.key and profile.get(setting.key) is not None:
            try:
                setting.parse(profile[setting.key])
            except ValueError as exc:
                raise ConfigError(f"'{setting.key}' {exc}, got {str(profile[setting.key])!r}") from None
    if not profile.get("endpoint"):
        raise ConfigError(f"{where}: missing 'endpoint'")
    auth = _resolve_auth(profile.get("auth"), env, where)
    if not profile.get("project_id") and not auth.get("project_name"):
        raise ConfigError(f"{where}: missing 'project_id'")


def choose_profile(pfile: ProfileFile, requested: str | None, requested_by: str) -> str:
    """The profile to use: the one asked for, else the file's default, else the only one."""
    names = sorted(pfile.profiles)
    known = ", ".join(names) if names else "none"
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
        raise ConfigError(f"{pfile.path} defines no profiles", "see the README for an example file")
    raise ConfigError(
        f"{pfile.path} has several profiles and no default; known profiles: {known}",
        "choose one with --profile or VBS_PROFILE, or set 'default:' in the file",
    )


def resolve(
    flags: Mapping[str, Any],
    env: Mapping[str, str],
    profile_flag: str | None = None,
) -> Settings:
    """Apply the precedence table: flags > environment > profile > default.

    `flags` holds the command-line values by setting name (None when not given). The profile file is
    read only if it exists or was asked for; with VBS_ENDPOINT, VBS_PROJECT_ID and VBS_TOKEN set, no
    file is needed.
    """
    requested = profile_flag or env.get("VBS_PROFILE") or None
    requested_by = "--profile" if profile_flag else "VBS_PROFILE"
    path = default_config_path(env)
    explicit_file = bool(env.get("VBS_CONFIG"))
    warnings: list[str] = []
    profile: dict[str, Any] = {}
    profile_name: str | None = None
    where = "environment"

    if path.exists() or explicit_file or requested:
        if not path.exists():
            origin = "VBS_CONFIG" if explicit_file else "the default location"
            raise ConfigError(
                f"profile file {path} ({origin}) does not exist",
                "create it (see the README) or point VBS_CONFIG at your profile file",
            )
        pfile = load_profile_file(path)
        # With VBS_ENDPOINT, VBS_PROJECT_ID and VBS_TOKEN all set, a file that names no profile to
        # use is not an error: the environment is the whole configuration.
        if requested or pfile.default or len(pfile.profiles) == 1 or not _env_complete(env):
            profile_name = choose_profile(pfile, requested, requested_by)
        if profile_name is not None:
            profile = pfile.profiles[profile_name]
            where = f"profile '{profile_name}' in {path}"
            for key in sorted(set(profile) - PROFILE_KEYS):
                warnings.append(f"{where}: unknown setting '{key}' ignored")
        if pfile.mode is not None and pfile.mode & 0o077 and pfile.holds_secrets():
            warnings.append(f"{path} holds secrets and is readable by group or others; run: chmod 600 {path}")

    values: dict[str, Any] = {}
    for setting in SETTINGS:
        raw, origin = flags.get(setting.name), setting.flag
        if raw is None and setting.env and env.get(setting.env):
            raw, origin = env[setting.env], setting.env
        if raw is None and setting.key and profile.get(setting.key) is not None:
            raw, origin = profile[setting.key], f"'{setting.key}' in {where}"
        if raw is None:
            values[setting.name] = setting.default
            continue
        try:
            values[setting.name] = setting.parse(raw)
        except ValueError as exc:
            raise ConfigError(f"{origin} {exc}, got {str(raw)!r}") from None

    # Credentials: VBS_TOKEN > the profile's auth > openrc variables (these only without a profile).
    if env.get("VBS_TOKEN"):
        auth: dict[str, Any] = {"type": "token", "token": env["VBS_TOKEN"]}
    elif profile_name is not None:
        auth = _resolve_auth(profile.get("auth"), env, where)
    else:
        openrc = _openrc_auth(env)
        if values["project_id"] is None and env.get("OS_PROJECT_ID"):
            values["project_id"] = _project_id(env["OS_PROJECT_ID"])
        if values["endpoint"] is None or openrc is None:
            missing = [n for n, ok in (("VBS_ENDPOINT", values["endpoint"]), ("credentials", openrc)) if not ok]
            raise ConfigError(
                f"no profile file at {path} and no {' or '.join(missing)} in the environment",
                "create a profile file (see the README), or export VBS_ENDPOINT, VBS_PROJECT_ID and "
                "VBS_TOKEN (or source an openrc file and export VBS_ENDPOINT)",
            )
        auth = openrc
        where = "environment (openrc)"

    if values["endpoint"] is None:
        raise ConfigError(f"{where}: missing 'endpoint'", "add it to the profile or set VBS_ENDPOINT")
    if auth["type"] == "password" and not (auth.get("project_id") or auth.get("project_name")):
        if values["project_id"] is None:
            raise ConfigError(f"{where}: missing 'project_id'", "add it to the profile or set VBS_PROJECT_ID")
        auth["project_id"] = values["project_id"]
    if values["project_id"] is None:
        if auth["type"] == "password" and auth.get("project_id"):
            values["project_id"] = auth["project_id"]
        elif not (auth["type"] == "password" and auth.get("project_name")):
            # A password login scoped by project name tells the project ID; anything else needs it.
            raise ConfigError(f"{where}: missing 'project_id'", "add it to the profile or set VBS_PROJECT_ID")

    if values["verify"] is False:
        warnings.append(f"TLS certificate verification is off for {values['endpoint']}")
    parts = urlsplit(values["endpoint"])
    if parts.scheme == "http" and parts.hostname not in ("127.0.0.1", "localhost", "::1"):
        warnings.append(f"{values['endpoint']} is plain HTTP: credentials travel unencrypted")

    return Settings(
        endpoint=values["endpoint"],
        project_id=values["project_id"],
        auth=auth,
        connect_timeout=values["connect_timeout"],
        read_timeout=values["read_timeout"],
        verify=values["verify"],
        output=values["output"],
        max_attempts=values["max_attempts"],
        deadline=values["deadline"],
        profile=profile_name,
        source=where,
        warnings=warnings,
    )


def _env_complete(env: Mapping[str, str]) -> bool:
    """True when the environment alone configures vbs (VBS_* variables, or openrc plus VBS_ENDPOINT)."""
    credentials = (
        env.get("VBS_TOKEN")
        or env.get("OS_AUTH_TOKEN")
        or (env.get("OS_AUTH_URL") and env.get("OS_USERNAME") and env.get("OS_PASSWORD"))
    )
    project = env.get("VBS_PROJECT_ID") or env.get("OS_PROJECT_ID") or env.get("OS_PROJECT_NAME")
    return bool(env.get("VBS_ENDPOINT") and credentials and project)

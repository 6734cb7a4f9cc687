"""What a setting may hold: one parser per kind of value, the table of settings, and the auth fields.

Every source of settings (flags, the profile file, clouds.yaml, the environment) reads raw values;
the parsers here turn them into typed ones or raise ValueError saying what is allowed. Standard
library only, so that reading settings costs nothing a command does not need.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

OUTPUT_FORMATS = ("table", "json", "value")
INTERFACES = ("public", "internal", "admin")

PLACEHOLDERS = frozenset(
    f"{form[0]}{name}{form[1]}"
    for name in ("project_id", "tenant_id")
    for form in (("%(", ")s"), ("$(", ")s"), ("{", "}"))
)
"""A catalog template's project (`%(project_id)s`, `$(tenant_id)s`, `{project_id}`): no project given."""


_PROJECT_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_")


def _is_project(text: str) -> bool:
    """1-64 letters, digits, '-' or '_' (checked without a regular expression: this runs at every start)."""
    return 0 < len(text) <= 64 and set(text) <= _PROJECT_CHARS


def _is_version(segment: str) -> bool:
    """v1, v2, v3 (or v3.0): the API version segment of a block-storage URL."""
    return segment[:2] in ("v1", "v2", "v3") and (len(segment) == 2 or segment[2] == "." and segment[3:].isdigit())


def service_root(value: Any) -> tuple[str, str | None]:
    """The service root of a block-storage endpoint, and the project ID the URL carries (if any).

    `https://host`, `https://host/v3` and `https://host/v3/<project_id>` all name the same service
    root (a service catalog lists the last form); vbs adds `/v3/{project_id}` itself.
    """
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
    origin = f"{parts.scheme}://{parts.netloc}"
    segments = parts.path.rstrip("/").split("/")
    version = next((i for i, segment in enumerate(segments) if _is_version(segment)), None)
    if version is None:
        return origin + parts.path.rstrip("/"), None
    rest = segments[version + 1 :]
    project = rest[0] if rest else None
    if len(rest) > 1 or (project is not None and project not in PLACEHOLDERS and not _is_project(project)):
        raise ValueError("must be the service root, optionally followed by /v3 or /v3/<project_id>")
    return origin + "/".join(segments[:version]), None if project in PLACEHOLDERS else project


def endpoint(value: Any) -> str:
    """An endpoint in any accepted form (checked), without a trailing slash; see `service_root`."""
    service_root(value)
    return str(value).strip().rstrip("/")


def project_id(value: Any) -> str:
    text = str(value).strip() if isinstance(value, (str, int)) and not isinstance(value, bool) else ""
    if not _is_project(text):
        raise ValueError("must be a project ID such as 648bba9ba87e4b3f8484d0fc60e2e6cc")
    return text


def seconds(maximum: float) -> Callable[[Any], float]:
    """A parser of a number of seconds, more than 0 and at most `maximum`."""

    def parse(value: Any) -> float:
        if isinstance(value, bool):
            raise ValueError("must be a number of seconds")
        try:
            number = float(str(value).strip()) if isinstance(value, str) else float(value)
        except (TypeError, ValueError):
            raise ValueError("must be a number of seconds") from None
        if not (0 < number <= maximum):
            raise ValueError(f"must be more than 0 and at most {maximum:g} seconds")
        return number

    return parse


def attempts(value: Any) -> int:
    if isinstance(value, bool) or isinstance(value, float) and not value.is_integer():
        raise ValueError("must be a whole number from 1 to 10")
    try:
        number = int(str(value).strip()) if not isinstance(value, float) else int(value)
    except ValueError:
        raise ValueError("must be a whole number from 1 to 10") from None
    if not 1 <= number <= 10:
        raise ValueError("must be a whole number from 1 to 10")
    return number


def output(value: Any) -> str:
    if not isinstance(value, str) or value.strip().lower() not in OUTPUT_FORMATS:
        raise ValueError(f"must be one of: {', '.join(OUTPUT_FORMATS)}")
    return value.strip().lower()


def ca_bundle(value: Any) -> str:
    """The path of a readable CA bundle file (an environment variable or --ca-bundle can only name one)."""
    if not isinstance(value, str) or not value.strip():
        raise ValueError("must be the path of a CA bundle file")
    path = os.path.expanduser(value.strip())
    shown = path if path.isprintable() else repr(path)  # an error stays one line
    if not os.path.isfile(path):
        raise ValueError(
            "must be the path of a CA bundle file (only --insecure or a profile's 'verify: false' turn "
            "verification off)"
            if value.strip().lower() in ("false", "no", "0", "off", "true", "yes", "1", "on")
            else f"names a CA bundle that does not exist: {shown}"
        )
    if not os.access(path, os.R_OK):
        raise ValueError(f"names a CA bundle that cannot be read: {shown}")
    return path


def verify(value: Any) -> bool | str:
    """A profile's `verify:`: `true`, `false`, or the path of a CA bundle file."""
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in ("true", "yes", "1"):
        return True
    if isinstance(value, str) and value.strip().lower() in ("false", "no", "0"):
        return False
    if isinstance(value, str) and value.strip():
        return ca_bundle(value)
    raise ValueError("must be true, false or the path of a CA bundle file")


def region(value: Any) -> str:
    if isinstance(value, bool) or not isinstance(value, (str, int)) or not str(value).strip():
        raise ValueError("must be a region name such as eu-de")
    text = str(value).strip()
    if any(ord(c) < 32 or c == "\x7f" for c in text):
        raise ValueError("must be a region name such as eu-de")
    return text


def interface(value: Any) -> str:
    """public, internal or admin (the old `publicURL` spelling too)."""
    text = value.strip().lower() if isinstance(value, str) else ""
    text = text.removesuffix("url")
    if text not in INTERFACES:
        raise ValueError(f"must be one of: {', '.join(INTERFACES)}")
    return text


def cloud_name(value: Any) -> str:
    if isinstance(value, bool) or not isinstance(value, (str, int)) or not str(value).strip():
        raise ValueError("must be the name of a cloud in clouds.yaml")
    return str(value).strip()


class Setting:
    """One row of the precedence table: a name, where each source spells it, and its parser.

    (A plain class: a dataclass would be built anew at every start, for ten rows.)"""

    __slots__ = ("name", "env", "key", "default", "parse", "flag")

    def __init__(
        self, name: str, env: str | None, key: str, default: Any, parse: Callable[[Any], Any], flag: str | None = None
    ) -> None:
        self.name, self.env, self.key, self.default, self.parse, self.flag = name, env, key, default, parse, flag


SETTINGS: tuple[Setting, ...] = (
    Setting("endpoint", "VBS_ENDPOINT", "endpoint", None, endpoint, "--endpoint"),
    Setting("project_id", "VBS_PROJECT_ID", "project_id", None, project_id, "--project-id"),
    Setting("region", "OS_REGION_NAME", "region_name", None, region, "--os-region-name"),
    Setting("interface", "OS_INTERFACE", "interface", "public", interface, "--os-interface"),
    Setting("connect_timeout", "VBS_CONNECT_TIMEOUT", "connect_timeout", 10.0, seconds(3600), "--connect-timeout"),
    Setting("read_timeout", "VBS_READ_TIMEOUT", "read_timeout", 60.0, seconds(3600), "--read-timeout"),
    Setting("output", "VBS_OUTPUT", "output", None, output, "--output"),
    Setting("max_attempts", "VBS_MAX_ATTEMPTS", "max_attempts", 4, attempts, "--max-attempts"),
    Setting("deadline", "VBS_DEADLINE", "deadline", 300.0, seconds(86400), "--deadline"),
    Setting("verify", "VBS_CA_BUNDLE", "verify", True, verify, "--ca-bundle"),
)
SETTING = {s.name: s for s in SETTINGS}
CONNECTION = ("endpoint", "project_id")
"""Settings that travel with the credentials: an ambient source never lends them to an explicit one."""

# -- credentials ------------------------------------------------------------------------------------

AUTH_TYPES = ("token", "password", "application_credential", "aksk")
LOGIN_TYPES = ("password", "application_credential")
"""Auth types that log in to Keystone, so the login's service catalog can give the endpoint."""
AUTH_FIELDS: dict[str, tuple[str, ...]] = {
    "token": ("token", "auth_url", "project_id", "project_name", "project_domain_name", "project_domain_id"),
    "password": (
        "auth_url",
        "username",
        "user_id",
        "password",
        "user_domain_name",
        "user_domain_id",
        "project_id",
        "project_name",
        "project_domain_name",
        "project_domain_id",
    ),
    "application_credential": (
        "auth_url",
        "application_credential_id",
        "application_credential_name",
        "application_credential_secret",
        "username",
        "user_id",
        "user_domain_name",
        "user_domain_id",
    ),
    "aksk": ("access_key", "secret_key", "security_token"),
}
"""The fields each auth type takes in a resolved `auth` block (plus `type`); see `missing_auth`."""
AUTH_ALIASES = {"domain": "user_domain_name", "project_domain": "project_domain_name"}
"""Shorter spellings a vbs profile may use."""
KEYSTONE_TYPES = {
    "password": "password",
    "v3password": "password",
    "token": "token",
    "v3token": "token",
    "v3applicationcredential": "application_credential",
    "applicationcredential": "application_credential",
    "application_credential": "application_credential",
}
"""keystoneauth's plugin names (clouds.yaml's auth_type, OS_AUTH_TYPE, a profile's type) -> vbs's auth type."""
KEYSTONE_TYPES_HINT = "use password, v3password, token, v3token or v3applicationcredential"
KEYSTONE_FIELDS = frozenset(f for kind in ("password", "token", "application_credential") for f in AUTH_FIELDS[kind])
"""The auth fields of a Keystone login (what clouds.yaml and openrc files may give)."""


def missing_auth(auth: dict[str, Any]) -> list[str]:
    """The fields an auth block still needs, as alternatives (`username or user_id`)."""
    kind = auth.get("type")

    def has(*keys: str) -> bool:
        return any(auth.get(k) not in (None, "") for k in keys)

    needs: list[tuple[str, ...]] = []
    if kind == "token":
        needs = [("token",)]
    elif kind == "password":
        needs = [("auth_url",), ("username", "user_id"), ("password",)]
        if has("username") and not has("user_id"):
            needs.append(("user_domain_name", "user_domain_id"))
    elif kind == "application_credential":
        needs = [("auth_url",), ("application_credential_id", "application_credential_name")]
        needs.append(("application_credential_secret",))
        if has("application_credential_name") and not has("application_credential_id"):
            needs.append(("user_id", "username"))
            if has("username") and not has("user_id"):
                needs.append(("user_domain_name", "user_domain_id"))
    elif kind == "aksk":
        needs = [("access_key",), ("secret_key",)]
    return [" or ".join(group) for group in needs if not has(*group)]


def secret(value: Any, what: str) -> str:
    """A credential as it will be sent: surrounding whitespace (a copy-paste artefact) removed.

    (What is left inside that a header cannot carry is refused before sending, by vbscli.transport.)
    """
    if isinstance(value, bool) or not isinstance(value, (str, int)):
        raise ValueError(f"{what} must be a string")
    return str(value).strip()


def did_you_mean(word: str, known: Iterable[str]) -> str:
    """`; did you mean 'read_timeout'?` for a near miss, else an empty string."""
    import difflib  # only when something is misspelt

    close = difflib.get_close_matches(word, list(known), n=1, cutoff=0.75)
    return f"; did you mean '{close[0]}'?" if close else ""


# -- what a source hands to the resolver --------------------------------------------------------------

AuthReader = Callable[[bool], "tuple[dict[str, Any], dict[str, str]]"]


class Layer:
    """What one source of settings says: typed values by setting name and where each came from.

    The credentials are read only when this source is the one that supplies them (`read_auth`),
    so a variable that another source's secret points at need not be set. `strict=False` (for
    `vbs profile show`) leaves a secret whose variable is unset as None instead of failing.
    (A plain class, not a dataclass: it is built on every run, and so is its class.)
    """

    def __init__(self, where: str, kind: str, *, name: str | None = None, cloud: str | None = None) -> None:
        self.where = where
        """Names the source in messages, e.g. "profile 'prod' in /home/u/.config/vbs/config.yaml"."""
        self.kind = kind
        """profile file, clouds.yaml, environment, openrc or command line."""
        self.values: dict[str, Any] = {}
        self.origins: dict[str, str] = {}
        """Setting name (or `auth.<field>`) -> where its value came from, for `vbs profile show`."""
        self.read_auth: AuthReader | None = None
        self.auth_type: str | None = None
        self.name = name
        """The profile's or cloud's name."""
        self.cloud = cloud
        """The clouds.yaml cloud this source is (or points at)."""
        self.warnings: list[str] = []

    def has_credentials(self) -> bool:
        return self.read_auth is not None


def parse_into(
    layer: Layer,
    name: str,
    raw: Any,
    label: str,
    origin: str,
    error: type[Exception],
    parse: Callable[[Any], Any] | None = None,
) -> None:
    """Parse one raw value with its setting's parser (or `parse`); a bad value names where it came from."""
    try:
        layer.values[name] = (parse or SETTING[name].parse)(raw)
    except ValueError as exc:
        raise error(f"{label} {exc}, got {_shown(raw)}") from None
    layer.origins[name] = origin


def _shown(raw: Any) -> str:
    text = str(raw)
    return repr(text if len(text) <= 80 else text[:80] + "…")


def read_document(path: Path, what: str) -> Any:
    """A YAML (or JSON) file, parsed safely; ConfigError naming the file and line on any problem."""
    from vbscli.errors import ConfigError

    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise ConfigError(f"{what} {path} does not exist") from None
    except IsADirectoryError:
        raise ConfigError(f"{what} {path} is a directory") from None
    except OSError as exc:
        raise ConfigError(f"cannot read {what} {path}: {exc.strerror or exc}") from None

    import yaml  # only here: most of the import cost of reading a file of settings

    try:
        return yaml.safe_load(raw)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = f"{path}:{mark.line + 1}:{mark.column + 1}" if mark else str(path)
        problem = exc.problem or exc.context or "syntax error"
        raise ConfigError(f"{where}: invalid YAML: {problem}", "fix the file's syntax") from None
    except (yaml.YAMLError, UnicodeDecodeError, RecursionError) as exc:
        lines = str(exc).strip().splitlines()
        raise ConfigError(
            f"{path}: invalid YAML: {lines[0] if lines else type(exc).__name__}", "fix the file's syntax"
        ) from None


def type_name(value: Any) -> str:
    return {dict: "a mapping", list: "a list", str: "a string", bool: "a boolean"}.get(
        type(value), f"a {type(value).__name__}"
    )

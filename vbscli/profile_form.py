"""A profile being put together by `vbs profile add`: from its options and, on a terminal, from answers.

Which auth type the options ask for (options that contradict each other are refused), what is still
missing and in which order it is asked (where before how: endpoint and project, then the auth type,
then the credentials), and the profile as it is written to the file. The questions themselves are
asked by the caller's `ask` (vbscli.prompt on a terminal): this module knows nothing of terminals.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from vbscli.errors import ConfigError, InputError
from vbscli.values import AUTH_TYPES, CONNECTION

CREDENTIAL_OPTIONS: dict[str, tuple[str, frozenset[str]]] = {
    # auth field: (option, the auth types it belongs to)
    "token": ("--token", frozenset({"token"})),
    "auth_url": ("--auth-url", frozenset({"token", "password", "application_credential"})),
    "username": ("--username", frozenset({"password", "application_credential"})),
    "user_id": ("--user-id", frozenset({"password", "application_credential"})),
    "user_domain_name": ("--domain", frozenset({"password", "application_credential"})),
    "user_domain_id": ("--user-domain-id", frozenset({"password", "application_credential"})),
    "password": ("--password", frozenset({"password"})),
    "project_name": ("--project-name", frozenset({"password", "token"})),
    "project_domain_name": ("--project-domain", frozenset({"password", "token"})),
    "project_domain_id": ("--project-domain-id", frozenset({"password", "token"})),
    "application_credential_id": ("--application-credential-id", frozenset({"application_credential"})),
    "application_credential_name": ("--application-credential-name", frozenset({"application_credential"})),
    "application_credential_secret": ("--application-credential-secret", frozenset({"application_credential"})),
    "access_key": ("--access-key", frozenset({"aksk"})),
    "secret_key": ("--secret-key", frozenset({"aksk"})),
    "security_token": ("--security-token", frozenset({"aksk"})),
}
SECRETS = ("token", "password", "application_credential_secret", "secret_key", "security_token")
"""Fields that also have a `--<field>-env VAR` option (and are typed without echo)."""
STORED = {"user_domain_name": "domain", "project_domain_name": "project_domain"}
"""Fields written in a profile under their shorter vbs spelling."""
EXCLUSIVE = (
    ("--username", "--user-id"),
    ("--domain", "--user-domain-id"),
    ("--project-domain", "--project-domain-id"),
    ("--application-credential-id", "--application-credential-name"),
    ("--project-name", "--project-id"),
    ("--insecure", "--ca-bundle"),
)
"""Options that say the same thing two ways: one of each pair at most."""
GLOBAL_OPTIONS = ("project_id", "insecure", "ca_bundle")
"""Global options that take part in EXCLUSIVE."""

Ask = Callable[..., str]
"""ask(label, *, secret=False, default=None, check=None, optional=False) -> the answer (vbscli.prompt.ask)."""


def auth_type(creds: Mapping[str, str], given: Mapping[str, Any], chosen: str | None) -> str | None:
    """The auth type the options ask for (`creds` by auth field, `<field>_env` for a variable; `given`
    the global options); options that contradict each other are refused (exit 2)."""
    for field in SECRETS:
        if creds.get(field) and creds.get(f"{field}_env"):
            option = CREDENTIAL_OPTIONS[field][0]
            raise InputError(
                f"{option} and {option}-env cannot be combined",
                f"give the value with {option}, or the variable that holds it with {option}-env",
            )
    present = {CREDENTIAL_OPTIONS[f.removesuffix("_env")][0] + ("-env" if f.endswith("_env") else ""): f for f in creds}
    present.update({f"--{k.replace('_', '-')}": k for k in GLOBAL_OPTIONS if given.get(k)})
    for first, second in EXCLUSIVE:
        if first in present and second in present:
            raise InputError(f"{first} and {second} cannot be combined", f"give {first} or {second}, not both")
    kinds: set[str] = set(AUTH_TYPES)
    earlier: list[tuple[str, frozenset[str]]] = []
    for option, field in present.items():
        if field in GLOBAL_OPTIONS:
            continue
        belongs = CREDENTIAL_OPTIONS[field.removesuffix("_env")][1]
        if chosen is not None and chosen not in belongs:
            raise InputError(
                f"{option} does not apply to --auth-type {chosen}",
                f"{option} is for auth type {' or '.join(sorted(belongs))}",
            )
        if not kinds & belongs:
            other = next((o for o, b in earlier if not b & belongs), earlier[0][0])
            raise InputError(
                f"{other} and {option} are for different auth types",
                "give the options of one kind of credentials (--auth-type says which)",
            )
        kinds &= belongs
        earlier.append((option, belongs))
    if chosen is not None:
        return chosen
    if not earlier:
        return None
    return next(k for k in ("password", "token", "application_credential", "aksk") if k in kinds)


def check_auth_url(value: str, label: str) -> str:
    """An IAM URL typed for a profile: a bad one is a usage error (exit 2), as any option is."""
    from vbscli.config import iam_url

    try:
        return iam_url(value, label)
    except ConfigError as exc:
        raise InputError(exc.message) from None


def auth_choice(value: str) -> str:
    if value not in AUTH_TYPES:
        raise ValueError(f"must be one of: {', '.join(AUTH_TYPES)}")
    return value


class Draft:
    """A profile being put together from options and, on a terminal, answers.

    Asks in the order a person thinks of it: where (endpoint, project), then how (auth type), then
    the credentials; an invalid answer is asked again."""

    LABELS = {
        "token": "IAM token",
        "auth_url": "IAM URL (e.g. https://iam.eu-de.otc.t-systems.com/v3)",
        "username": "User name",
        "user_domain_name": "Domain (account) name",
        "password": "Password",
        "application_credential_id": "Application credential ID (empty: give its name instead)",
        "application_credential_name": "Application credential name",
        "application_credential_secret": "Application credential secret",
        "access_key": "Access key (AK)",
        "secret_key": "Secret key (SK)",
    }

    def __init__(
        self,
        endpoint: str | None,
        project_id: str | None,
        cloud: str | None,
        creds: Mapping[str, str],
        region: str | None = None,
    ) -> None:
        self.endpoint = endpoint
        self.project_id = project_id
        self.cloud = cloud
        self.creds = dict(creds)
        self.region = region

    def has(self, *fields: str) -> bool:
        return any(self.creds.get(f) or self.creds.get(f"{f}_env") for f in fields)

    def project_known(self) -> bool:
        """A project ID given, or carried by the endpoint (`https://host/v3/<project_id>`)."""
        from vbscli.values import service_root

        if self.project_id:
            return True
        try:
            return bool(self.endpoint) and service_root(self.endpoint)[1] is not None
        except ValueError:
            return False

    def check_endpoint(self, value: str) -> str:
        """An endpoint answer: well formed, and for the project given (if it names one)."""
        from vbscli.values import endpoint, service_root

        endpoint(value)
        in_url = service_root(value)[1]
        if in_url and self.project_id and in_url != self.project_id:
            raise ValueError(f"is for project {in_url}, but the project ID is {self.project_id}")
        return value

    def check_project(self, value: str) -> str:
        """A project ID answer: well formed, and the one the endpoint names (if it names one)."""
        from vbscli.values import project_id, service_root

        project_id(value)
        in_url = service_root(self.endpoint)[1] if self.endpoint else None
        if in_url and in_url != value.strip():
            raise ValueError(f"is not the project of the endpoint ({in_url})")
        return value

    def logs_in(self, kind: str | None) -> bool:
        return kind in ("password", "application_credential") or (kind == "token" and self.has("auth_url"))

    def needs(self, kind: str | None) -> list[tuple[str, ...]]:
        """What is still missing, as groups of alternatives, in the order they are asked."""
        groups: list[tuple[str, ...]] = []
        if not self.endpoint and not self.cloud and not self.logs_in(kind):
            groups.append(("endpoint",))
        if not self.project_known() and not self.cloud and kind in ("token", "aksk"):
            groups.append(("project_id",))
        if not self.project_known() and not self.cloud and kind == "password" and not self.has("project_name"):
            groups.append(("project_id", "project_name"))
        if self.cloud:
            return groups  # the cloud supplies what the options leave out
        required = {
            "token": [("token",)],
            "password": [("auth_url",), ("username", "user_id"), ("user_domain_name", "user_domain_id"), ("password",)],
            "application_credential": [
                ("auth_url",),
                ("application_credential_id", "application_credential_name"),
                ("application_credential_secret",),
            ],
            "aksk": [("access_key",), ("secret_key",)],
        }.get(kind or "", [])
        if kind == "password" and self.has("user_id"):
            required.remove(("user_domain_name", "user_domain_id"))
        if kind == "application_credential" and self.has("application_credential_name"):
            required.insert(2, ("username", "user_id"))
            if not self.has("user_id"):
                required.insert(3, ("user_domain_name", "user_domain_id"))
        return groups + [g for g in required if not self.has(*g)]

    def missing(self, kind: str | None) -> list[str]:
        """What is still missing, as the options that would give it (for a run without a terminal)."""
        shown = []
        for group in self.needs(kind):
            options = []
            for field in group:
                option = CREDENTIAL_OPTIONS[field][0] if field in CREDENTIAL_OPTIONS else f"--{field.replace('_', '-')}"
                options.append(option)
                if field in SECRETS:
                    options.append(option + "-env")
            shown.append(" or ".join(options))
        return shown

    def ask_all(self, ask: Ask, kind: str | None) -> str | None:
        """Ask for everything missing; returns the auth type (asked for too when no option told it)."""
        from vbscli import values

        if not self.endpoint and not self.cloud:
            self.endpoint = (
                ask(
                    "Endpoint (service root URL; empty: from the service catalog of a login)",
                    check=self.check_endpoint,
                    optional=True,
                )
                or None
            )
        if not self.project_known() and not self.cloud:
            self.project_id = (
                ask("Project ID (empty: the project of the login)", check=values.project_id, optional=True) or None
            )
        if kind is None and not self.cloud:
            kind = ask(
                f"Auth type ({', '.join(AUTH_TYPES)})",
                default="token" if self.endpoint else "password",
                check=auth_choice,
            )
        if not self.endpoint and not self.cloud and not self.region and self.logs_in(kind):
            self.region = (
                ask("Region (empty: the only one the service catalog offers)", check=values.region, optional=True)
                or None
            )
        while self.needs(kind):
            group = self.needs(kind)[0]
            field = group[0]
            if field == "endpoint":
                self.endpoint = ask(
                    f"Endpoint (auth type {kind} needs it: it has no service catalog)", check=self.check_endpoint
                )
            elif field == "project_id" and len(group) == 1:
                self.project_id = ask("Project ID", check=self.check_project)
            elif field == "project_id":
                self.creds["project_name"] = ask("Project name (the scope of the login)")
            elif field == "auth_url":
                self.creds["auth_url"] = ask(self.LABELS[field], check=lambda v: check_auth_url(v, "the IAM URL"))
            elif field == "application_credential_id":
                found = ask(self.LABELS[field], optional=True)
                if found:
                    self.creds[field] = found
                else:  # by name: then its user is asked for too
                    self.creds["application_credential_name"] = ask(self.LABELS["application_credential_name"])
            else:
                self.creds[field] = ask(
                    self.LABELS.get(field, field.replace("_", " ").capitalize()), secret=field in SECRETS
                )
        return kind

    def profile(self, kind: str | None, settings: Mapping[str, Any]) -> dict[str, Any]:
        """The profile as it is written: where, the settings given with the command (`settings` by
        setting name), and how to authenticate."""
        from vbscli.profiles import SHOWN

        profile: dict[str, Any] = {}
        for key in ("endpoint", "project_id", "cloud"):
            if getattr(self, key):
                profile[key] = getattr(self, key)
        for name, key in SHOWN:
            value = self.region if name == "region" else settings.get(name)
            if name not in CONNECTION and value is not None:
                profile[key] = as_typed(value)
        if kind is not None:
            auth: dict[str, Any] = {"type": kind}
            for field in CREDENTIAL_OPTIONS:
                if self.creds.get(field):
                    auth[STORED.get(field, field)] = self.creds[field]
                elif self.creds.get(f"{field}_env"):
                    auth[f"{STORED.get(field, field)}_env"] = self.creds[f"{field}_env"]
            profile["auth"] = auth
        return profile


def as_typed(value: Any) -> Any:
    """A number as a person types it in a file: `--read-timeout 120` is written 120, not 120.0."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value

"""`vbs profile ...`: list, show, add, remove, set-default and test profiles (and clouds of clouds.yaml)."""

from enum import Enum
from typing import Annotated, Any, Optional

import typer

from vbscli.cli import runtime
from vbscli.cli.globals import VbsCommand, VbsGroup

app = typer.Typer(
    cls=VbsGroup, name="profile", help="Manage connection profiles", no_args_is_help=True, add_completion=False
)


class AuthType(str, Enum):
    token = "token"
    password = "password"
    application_credential = "application_credential"
    aksk = "aksk"


NameArg = Annotated[str, typer.Argument(metavar="NAME", help="Profile name.", show_default=False)]

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
SETTING_KEYS = (
    ("region", "region_name"),
    ("interface", "interface"),
    ("verify", "verify"),
    ("connect_timeout", "connect_timeout"),
    ("read_timeout", "read_timeout"),
    ("max_attempts", "max_attempts"),
    ("deadline", "deadline"),
    ("output", "output"),
)
"""Global options stored in the profile: (setting name, profile key)."""


def _file(ctx: typer.Context) -> Any:
    from vbscli import config, profiles

    return profiles.read(config.default_config_path(runtime.state(ctx).env.vars))


def _in_use(ctx: typer.Context) -> Any:
    """The settings a command uses when no profile or cloud is named on the command line (the resolver
    decides: VBS_PROFILE, OS_CLOUD, the default profile, the environment, the only cloud), or None."""
    from vbscli import config
    from vbscli.errors import ConfigError

    try:
        return config.resolve({}, runtime.state(ctx).env.vars, None, None, strict=False)
    except ConfigError:
        return None


def _named(ctx: typer.Context, name: str | None) -> tuple[str | None, str | None]:
    """(profile, cloud) that NAME of `show`/`test` names: a profile, else a cloud of clouds.yaml (as
    `profile list` shows both); (None, None) for the global options' choice."""
    from vbscli import clouds
    from vbscli.errors import ConfigError, InputError

    opts = runtime.global_options.given(ctx)
    if name is None:
        return None, None
    if opts.get("profile") or opts.get("os_cloud"):
        raise InputError(
            f"NAME and {'--profile' if opts.get('profile') else '--os-cloud'} both say what to use",
            "give one of them",
        )
    pfile = _file(ctx)
    if name in pfile.profiles:
        return name, None
    env = runtime.state(ctx).env.vars
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


def _source_of(settings: Any) -> tuple[str, str | None]:
    """("profile", name), ("cloud", name) or ("environment", None): what supplies these settings."""
    if settings.profile:
        return "profile", settings.profile
    if settings.cloud:
        return "cloud", settings.cloud
    return "environment", None


@app.command("list", cls=VbsCommand)
def profile_list(ctx: typer.Context) -> None:
    """List the profiles and the clouds of clouds.yaml: endpoint, where it comes from, auth type"""
    from vbscli import profiles
    from vbscli.render import Result, render

    st = runtime.begin(ctx)
    pfile = _file(ctx)
    ambient = _in_use(ctx)
    entries = profiles.listing(st.env.vars, pfile, _source_of(ambient) if ambient else None, ambient)
    for entry in entries:
        if entry["source"] == "profile":
            entry["file"] = str(pfile.path)
    rows = [
        (
            "*" if e["default"] else "",
            e["name"] or "",
            e["source"],
            e.get("endpoint") or ("" if e.get("problem") else "(at login)"),
            e.get("endpoint_from") or "",
            e.get("auth_type") or (e.get("problem") or ""),
        )
        for e in entries
    ]
    render(
        Result({"profiles": entries}, rows, columns=("Default", "Name", "Source", "Endpoint", "From", "Auth type")),
        runtime.output_format(ctx),
        st.env,
    )


@app.command("show", cls=VbsCommand)
def profile_show(
    ctx: typer.Context,
    name: Annotated[
        Optional[str],
        typer.Argument(
            metavar="[NAME]",
            help="Profile, or cloud of clouds.yaml, to show (default: what vbs would use).",
            show_default=False,
        ),
    ] = None,
) -> None:
    """Show the settings of a profile (or cloud) and where each came from, secrets masked"""
    from vbscli import profiles
    from vbscli.render import Result, render

    st = runtime.begin(ctx)
    profile, cloud = _named(ctx, name)
    settings = runtime.resolve(ctx, profile, strict=False, cloud=cloud)
    for warning in settings.warnings:
        st.env.warn(warning)
    values, origins = profiles.describe(settings, st.env.vars)
    ambient = _in_use(ctx)
    doc = {
        "name": settings.profile,
        "cloud": settings.cloud,
        "default": ambient is not None and _source_of(ambient) == _source_of(settings),
        "source": settings.source,
        **values,
        "origins": origins,
    }
    rows = [("name", settings.profile or "", ""), ("cloud", settings.cloud or "", "")]
    rows += [("source", settings.source, ""), ("default", "yes" if doc["default"] else "no", "")]
    rows += [(key, _text(value), origins.get(key, "")) for key, value in values.items() if key != "auth"]
    rows += [(f"auth.{key}", _text(value), origins.get(f"auth.{key}", "")) for key, value in values["auth"].items()]
    render(
        Result({"profile": doc}, [r for r in rows if r[1] or r[2]], columns=("Setting", "Value", "From")),
        runtime.output_format(ctx),
        st.env,
    )


def _text(value: Any) -> str:
    return "" if value is None else str(value).lower() if isinstance(value, bool) else str(value)


def _flatten(node: dict[str, Any], prefix: str = "") -> list[tuple[str, str]]:
    rows: list[tuple[str, str]] = []
    for key, value in node.items():
        if isinstance(value, dict):
            rows += _flatten(value, f"{prefix}{key}.")
        else:
            rows.append((f"{prefix}{key}", _text(value)))
    return rows


def _env_option(field: str) -> str:
    return CREDENTIAL_OPTIONS[field][0] + "-env"


@app.command("add", cls=VbsCommand)
def profile_add(
    ctx: typer.Context,
    name: NameArg,
    auth_type: Annotated[
        Optional[AuthType],
        typer.Option(
            "--auth-type",
            metavar="TYPE",
            case_sensitive=False,
            help="How to authenticate: token, password, application_credential or aksk (default: from the options).",
        ),
    ] = None,
    token: Annotated[Optional[str], typer.Option("--token", help="IAM token (prefer --token-env).")] = None,
    token_env: Annotated[
        Optional[str], typer.Option("--token-env", metavar="VAR", help="Read the token from this environment variable.")
    ] = None,
    auth_url: Annotated[
        Optional[str], typer.Option("--auth-url", metavar="URL", help="IAM (Keystone) v3 URL, for a login.")
    ] = None,
    username: Annotated[Optional[str], typer.Option("--username", metavar="NAME", help="User name.")] = None,
    user_id: Annotated[
        Optional[str], typer.Option("--user-id", metavar="ID", help="User ID (instead of a name).")
    ] = None,
    domain: Annotated[
        Optional[str], typer.Option("--domain", metavar="NAME", help="The user's domain (account) name.")
    ] = None,
    user_domain_id: Annotated[
        Optional[str], typer.Option("--user-domain-id", metavar="ID", help="The user's domain ID.")
    ] = None,
    password: Annotated[Optional[str], typer.Option("--password", help="Password (prefer --password-env).")] = None,
    password_env: Annotated[
        Optional[str],
        typer.Option("--password-env", metavar="VAR", help="Read the password from this environment variable."),
    ] = None,
    project_name: Annotated[
        Optional[str],
        typer.Option("--project-name", metavar="NAME", help="Scope the login by project name (password, token)."),
    ] = None,
    project_domain: Annotated[
        Optional[str], typer.Option("--project-domain", metavar="NAME", help="The project's domain name.")
    ] = None,
    project_domain_id: Annotated[
        Optional[str], typer.Option("--project-domain-id", metavar="ID", help="The project's domain ID.")
    ] = None,
    application_credential_id: Annotated[
        Optional[str], typer.Option("--application-credential-id", metavar="ID", help="Application credential ID.")
    ] = None,
    application_credential_name: Annotated[
        Optional[str],
        typer.Option(
            "--application-credential-name", metavar="NAME", help="Application credential name (with the user)."
        ),
    ] = None,
    application_credential_secret: Annotated[
        Optional[str],
        typer.Option(
            "--application-credential-secret",
            metavar="SECRET",
            help="Application credential secret (prefer --application-credential-secret-env).",
        ),
    ] = None,
    application_credential_secret_env: Annotated[
        Optional[str],
        typer.Option(
            "--application-credential-secret-env",
            metavar="VAR",
            help="Read the application credential secret from this environment variable.",
        ),
    ] = None,
    access_key: Annotated[Optional[str], typer.Option("--access-key", metavar="AK", help="Access key (aksk).")] = None,
    secret_key: Annotated[
        Optional[str], typer.Option("--secret-key", metavar="SK", help="Secret key (prefer --secret-key-env).")
    ] = None,
    secret_key_env: Annotated[
        Optional[str],
        typer.Option("--secret-key-env", metavar="VAR", help="Read the secret key from this environment variable."),
    ] = None,
    security_token: Annotated[
        Optional[str],
        typer.Option("--security-token", metavar="TOKEN", help="Security token of temporary AK/SK credentials."),
    ] = None,
    security_token_env: Annotated[
        Optional[str],
        typer.Option(
            "--security-token-env", metavar="VAR", help="Read the security token from this environment variable."
        ),
    ] = None,
    make_default: Annotated[bool, typer.Option("--default", help="Make it the default profile.")] = False,
    replace: Annotated[bool, typer.Option("--replace", help="Overwrite a profile of the same name.")] = False,
) -> None:
    """Add a profile, prompting on a terminal for what is missing

    Every global setting given with this command is stored in the profile: --endpoint, --project-id,
    --os-cloud (as 'cloud'), --os-region-name, --os-interface, --connect-timeout, --read-timeout,
    --max-attempts, --deadline, --output, --ca-bundle and --insecure.
    """
    from vbscli import config, profiles
    from vbscli.cli.globals import given
    from vbscli.render import Result, render

    st = runtime.begin(ctx)
    profiles.check_name(name)
    opts = given(ctx)
    if opts.get("profile"):
        from vbscli.errors import InputError

        raise InputError(
            f"--profile has no effect on 'profile add': the profile added is NAME ({name})",
            f"drop --profile {opts['profile']}",
        )
    given_values = {
        "token": token,
        "token_env": token_env,
        "auth_url": auth_url,
        "username": username,
        "user_id": user_id,
        "user_domain_name": domain,
        "user_domain_id": user_domain_id,
        "password": password,
        "password_env": password_env,
        "project_name": project_name,
        "project_domain_name": project_domain,
        "project_domain_id": project_domain_id,
        "application_credential_id": application_credential_id,
        "application_credential_name": application_credential_name,
        "application_credential_secret": application_credential_secret,
        "application_credential_secret_env": application_credential_secret_env,
        "access_key": access_key,
        "secret_key": secret_key,
        "secret_key_env": secret_key_env,
        "security_token": security_token,
        "security_token_env": security_token_env,
    }
    creds = {k: v for k, v in given_values.items() if v not in (None, "")}
    kind = _auth_type(creds, opts, auth_type.value if auth_type else None)
    settings = config.flag_layer(runtime.setting_flags(ctx)).values  # a malformed value is a usage error
    if creds.get("auth_url"):
        _check_auth_url(creds["auth_url"], "--auth-url")

    ask = _prompter(st)
    draft = _Draft(
        endpoint=opts.get("endpoint"), project_id=opts.get("project_id"), cloud=opts.get("os_cloud"), creds=creds
    )
    draft.region = settings.get("region")
    if ask is not None and (kind is None or draft.missing(kind)):  # options that make a profile: no questions
        kind = draft.ask_all(ask, kind)
    else:
        kind = kind or (None if draft.cloud else "token")
        missing = draft.missing(kind)
        if missing:
            from vbscli.errors import InputError

            raise InputError(
                f"profile '{name}' needs {', '.join(missing)}", "give them as options (no terminal to prompt on)"
            )

    profile: dict[str, Any] = {}
    for key in ("endpoint", "project_id", "cloud"):
        if getattr(draft, key):
            profile[key] = getattr(draft, key)
    for setting, key in SETTING_KEYS:
        if setting in settings:
            profile[key] = settings[setting]
    if draft.region:
        profile["region_name"] = draft.region
    if kind is not None:
        auth: dict[str, Any] = {"type": kind}
        for field in CREDENTIAL_OPTIONS:
            if draft.creds.get(field):
                auth[STORED.get(field, field)] = draft.creds[field]
            elif draft.creds.get(f"{field}_env"):
                auth[f"{STORED.get(field, field)}_env"] = draft.creds[f"{field}_env"]
        profile["auth"] = auth
    pfile = _file(ctx)
    config.check_profile(profile, st.env.vars, name, pfile.path)  # settings that do not fit together: exit 3
    profiles.add(pfile, name, profile, replace=replace, make_default=make_default)
    shown = profiles.masked(profile)
    doc = {"name": name, "file": str(pfile.path), "default": pfile.default == name, **shown}
    rows = [("name", name), ("file", str(pfile.path)), ("default", "yes" if doc["default"] else "no")]
    render(Result({"profile": doc}, rows + _flatten(shown)), runtime.output_format(ctx), st.env)


def _auth_type(creds: dict[str, str], opts: dict[str, Any], chosen: str | None) -> str | None:
    """The auth type the options ask for; options that contradict each other are refused (exit 2)."""
    from vbscli.errors import InputError

    for field in SECRETS:
        if creds.get(field) and creds.get(f"{field}_env"):
            option = CREDENTIAL_OPTIONS[field][0]
            raise InputError(
                f"{option} and {option}-env cannot be combined",
                f"give the value with {option}, or the variable that holds it with {option}-env",
            )
    present = {CREDENTIAL_OPTIONS[f.removesuffix("_env")][0] + ("-env" if f.endswith("_env") else ""): f for f in creds}
    present.update({f"--{k.replace('_', '-')}": k for k in ("project_id", "insecure", "ca_bundle") if opts.get(k)})
    for first, second in EXCLUSIVE:
        if first in present and second in present:
            raise InputError(f"{first} and {second} cannot be combined", f"give {first} or {second}, not both")
    kinds: set[str] = set(AuthType.__members__)
    earlier: list[tuple[str, frozenset[str]]] = []
    for option, field in present.items():
        if field in ("project_id", "insecure", "ca_bundle"):
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


def _check_auth_url(value: str, label: str) -> str:
    from vbscli.config import _iam_url
    from vbscli.errors import ConfigError, InputError

    try:
        return _iam_url(value, label)
    except ConfigError as exc:
        raise InputError(exc.message) from None


class _Draft:
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

    def __init__(self, endpoint: str | None, project_id: str | None, cloud: str | None, creds: dict[str, str]):
        self.endpoint = endpoint
        self.project_id = project_id
        self.cloud = cloud
        self.creds = dict(creds)
        self.region: str | None = None

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

    def needs(self, kind: str | None) -> list[tuple[str, ...]]:
        """What is still missing, as groups of alternatives, in the order they are asked."""
        groups: list[tuple[str, ...]] = []
        logs_in = kind in ("password", "application_credential") or (kind == "token" and self.has("auth_url"))
        if not self.endpoint and not self.cloud and not logs_in:
            groups.append(("endpoint",))
        if not self.project_known() and not self.cloud and kind in ("token", "aksk"):
            groups.append(("project_id",))
        if not self.project_known() and not self.cloud and kind == "password" and not self.has("project_name"):
            groups.append(("project_id", "project_name"))
        if self.cloud and kind is None:
            return groups
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
        if self.cloud:
            return groups  # the cloud supplies what the options leave out
        return groups + [g for g in required if not self.has(*g)]

    def missing(self, kind: str | None) -> list[str]:
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

    def ask_all(self, ask: Any, kind: str | None) -> str | None:
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
                "Auth type (token, password, application_credential, aksk)",
                default="token" if self.endpoint else "password",
                check=_auth_choice,
            )
        logs_in = kind in ("password", "application_credential") or kind == "token" and self.has("auth_url")
        if not self.endpoint and not self.cloud and not self.region and logs_in:
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
                self.creds["auth_url"] = ask(self.LABELS[field], check=lambda v: _check_auth_url(v, "the IAM URL"))
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


def _auth_choice(value: str) -> str:
    if value not in AuthType.__members__:
        raise ValueError(f"must be one of: {', '.join(AuthType.__members__)}")
    return value


def _prompter(st: runtime.State) -> Any:
    """Prompts go to stderr, and only when a person is at a terminal; None otherwise.

    An answer that breaks a rule is refused with the reason and asked again."""
    if not st.env.interactive:
        return None
    from vbscli.errors import Interrupted

    def ask(
        label: str, *, secret: bool = False, default: str | None = None, check: Any = None, optional: bool = False
    ) -> str:
        def accept(text: str) -> str:
            text = text.strip()
            if not text:
                if optional:
                    return ""
                raise typer.BadParameter("an answer is needed")
            if check is not None:
                try:
                    check(text)
                except ValueError as exc:
                    raise typer.BadParameter(f"it {exc}") from None
                except Exception as exc:  # noqa: BLE001 - a VbsError from a check says what is wrong
                    raise typer.BadParameter(getattr(exc, "message", str(exc))) from None
            return text

        try:
            return typer.prompt(
                label,
                default=default if default is not None else ("" if optional else None),
                show_default=bool(default),
                hide_input=secret,
                err=True,
                value_proc=accept,
            )
        except (Interrupted, KeyboardInterrupt, typer.Abort):  # Ctrl-C, Ctrl-D: the message starts a line
            st.env.stderr.write("\n")
            raise

    return ask


@app.command("remove", cls=VbsCommand)
def profile_remove(ctx: typer.Context, name: NameArg) -> None:
    """Remove a profile from the profile file"""
    from vbscli import profiles
    from vbscli.render import Result, render

    st = runtime.begin(ctx)
    pfile = _file(ctx)
    was_default = profiles.remove(pfile, name)
    if was_default:
        st.env.warn(f"'{name}' was the default profile; choose another with: vbs profile set-default NAME")
    render(
        Result({"removed": name, "file": str(pfile.path)}, [("removed", name), ("file", str(pfile.path))]),
        runtime.output_format(ctx),
        st.env,
    )


@app.command("set-default", cls=VbsCommand)
def profile_set_default(ctx: typer.Context, name: NameArg) -> None:
    """Make a profile the default"""
    from vbscli import profiles
    from vbscli.render import Result, render

    st = runtime.begin(ctx)
    pfile = _file(ctx)
    profiles.set_default(pfile, name)
    render(
        Result({"default": name, "file": str(pfile.path)}, [("default", name), ("file", str(pfile.path))]),
        runtime.output_format(ctx),
        st.env,
    )


@app.command("test", cls=VbsCommand)
def profile_test(
    ctx: typer.Context,
    name: Annotated[
        Optional[str],
        typer.Argument(
            metavar="[NAME]",
            help="Profile, or cloud of clouds.yaml, to test (default: the one vbs would use).",
            show_default=False,
        ),
    ] = None,
) -> None:
    """Prove a profile's (or a cloud's) credentials work with one cheap authenticated call"""
    from vbscli import backups
    from vbscli.render import Result, render

    st = runtime.begin(ctx)
    profile, cloud = _named(ctx, name)
    # Proving a password means using it: log in afresh (the cached token is replaced only on success).
    settings, client = runtime.connect(ctx, profile=profile, fresh_login=True, cloud=cloud)
    elapsed = backups.probe(client)
    doc = {
        "profile": settings.profile,
        "cloud": settings.cloud,
        "ok": True,
        "endpoint": client.root(),
        "project_id": client.project_id or client.auth.project_id(),
        "auth_type": settings.auth_type,
        "elapsed_ms": round(elapsed * 1000, 1),
    }
    rows = [(k, _text(v)) for k, v in doc.items() if v is not None]
    render(Result(doc, rows), runtime.output_format(ctx), st.env)

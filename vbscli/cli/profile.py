"""`vbs profile ...`: list, show, add, remove, set-default and test the profiles in the profile file."""

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
    aksk = "aksk"


NameArg = Annotated[str, typer.Argument(metavar="NAME", help="Profile name.", show_default=False)]

AUTH_PROMPTS: dict[str, tuple[tuple[str, str, bool], ...]] = {
    # type: (field, prompt, secret)
    "token": (("token", "IAM token", True),),
    "password": (
        ("auth_url", "IAM URL (e.g. https://iam.eu-de.otc.t-systems.com/v3)", False),
        ("username", "User name", False),
        ("domain", "Domain (account) name", False),
        ("password", "Password", True),
    ),
    "aksk": (("access_key", "Access key (AK)", False), ("secret_key", "Secret key (SK)", True)),
}


def _file(ctx: typer.Context) -> Any:
    from vbscli import config, profiles

    return profiles.read(config.default_config_path(runtime.state(ctx).env.vars))


@app.command("list", cls=VbsCommand)
def profile_list(ctx: typer.Context) -> None:
    """List the profiles: name, endpoint, auth type and which is the default"""
    from vbscli import profiles
    from vbscli.render import Result, render

    runtime.begin(ctx)
    pfile = _file(ctx)
    entries = profiles.summary(pfile)
    rows = [("*" if e["default"] else "", e["name"], e["endpoint"], e["auth_type"]) for e in entries]
    doc = {"file": str(pfile.path), "default": pfile.default, "profiles": entries}
    render(
        Result(doc, rows, columns=("Default", "Name", "Endpoint", "Auth type")),
        runtime.output_format(ctx),
        runtime.state(ctx).env,
    )


@app.command("show", cls=VbsCommand)
def profile_show(ctx: typer.Context, name: NameArg) -> None:
    """Show one profile, secrets masked"""
    from vbscli import profiles
    from vbscli.render import Result, render

    runtime.begin(ctx)
    pfile = _file(ctx)
    body = profiles.masked(profiles.require(pfile, name))
    doc = {"name": name, "default": pfile.default == name, **body}
    rows = [("name", name), ("default", "yes" if doc["default"] else "no")]
    rows += _flatten(body)
    render(Result(doc, rows), runtime.output_format(ctx), runtime.state(ctx).env)


def _flatten(node: dict[str, Any], prefix: str = "") -> list[tuple[str, str]]:
    rows: list[tuple[str, str]] = []
    for key, value in node.items():
        if isinstance(value, dict):
            rows += _flatten(value, f"{prefix}{key}.")
        else:
            rows.append(
                (
                    f"{prefix}{key}",
                    "" if value is None else str(value).lower() if isinstance(value, bool) else str(value),
                )
            )
    return rows


@app.command("add", cls=VbsCommand)
def profile_add(
    ctx: typer.Context,
    name: NameArg,
    auth_type: Annotated[
        Optional[AuthType],
        typer.Option("--auth-type", case_sensitive=False, help="How to authenticate (default token)."),
    ] = None,
    token: Annotated[Optional[str], typer.Option("--token", help="IAM token (prefer --token-env).")] = None,
    token_env: Annotated[
        Optional[str], typer.Option("--token-env", metavar="VAR", help="Read the token from this environment variable.")
    ] = None,
    auth_url: Annotated[Optional[str], typer.Option("--auth-url", metavar="URL", help="IAM v3 URL (password).")] = None,
    username: Annotated[Optional[str], typer.Option("--username", help="User name (password).")] = None,
    password: Annotated[Optional[str], typer.Option("--password", help="Password (prefer --password-env).")] = None,
    password_env: Annotated[
        Optional[str],
        typer.Option("--password-env", metavar="VAR", help="Read the password from this environment variable."),
    ] = None,
    domain: Annotated[Optional[str], typer.Option("--domain", help="Domain (account) name (password).")] = None,
    project_name: Annotated[
        Optional[str],
        typer.Option("--project-name", metavar="NAME", help="Scope the login by project name (password)."),
    ] = None,
    access_key: Annotated[Optional[str], typer.Option("--access-key", metavar="AK", help="Access key (aksk).")] = None,
    secret_key: Annotated[
        Optional[str], typer.Option("--secret-key", metavar="SK", help="Secret key (prefer --secret-key-env).")
    ] = None,
    secret_key_env: Annotated[
        Optional[str],
        typer.Option("--secret-key-env", metavar="VAR", help="Read the secret key from this environment variable."),
    ] = None,
    make_default: Annotated[bool, typer.Option("--default", help="Make it the default profile.")] = False,
    replace: Annotated[bool, typer.Option("--replace", help="Overwrite a profile of the same name.")] = False,
) -> None:
    """Add a profile, prompting on a terminal for what is missing

    The global options --endpoint, --project-id, --connect-timeout, --read-timeout, --ca-bundle and
    --insecure given with this command are stored in the profile.
    """
    from vbscli import profiles
    from vbscli.cli.globals import given
    from vbscli.errors import InputError
    from vbscli.render import Result, render

    st = runtime.begin(ctx)
    profiles.check_name(name)
    opts = given(ctx)
    prompt = _prompter(st)
    kind = (
        auth_type.value
        if auth_type
        else ("token" if not prompt else prompt("Auth type (token, password, aksk)", False, "token"))
    )
    if kind not in AUTH_PROMPTS:
        raise InputError(f"invalid --auth-type {kind!r}", "use token, password or aksk")
    given_values = {
        "token": token,
        "token_env": token_env,
        "auth_url": auth_url,
        "username": username,
        "password": password,
        "password_env": password_env,
        "domain": domain,
        "project_name": project_name,
        "access_key": access_key,
        "secret_key": secret_key,
        "secret_key_env": secret_key_env,
    }
    auth: dict[str, Any] = {"type": kind}
    missing: list[str] = []
    for field, label, secret in AUTH_PROMPTS[kind]:
        value = given_values.get(field)
        from_env = given_values.get(f"{field}_env")
        if value:
            auth[field] = value
        elif from_env:
            auth[f"{field}_env"] = from_env
        elif prompt:
            auth[field] = prompt(label, secret, None)
        else:
            missing.append(f"--{field.replace('_', '-')}" + (f" or --{field.replace('_', '-')}-env" if secret else ""))
    if kind == "password" and project_name:
        auth["project_name"] = project_name
    profile: dict[str, Any] = {}
    for key, flag in (("endpoint", "--endpoint"), ("project_id", "--project-id")):
        value = opts.get(key) or (prompt(key.replace("_", " ").capitalize(), False, None) if prompt else None)
        if value:
            profile[key] = value
        elif not (key == "project_id" and kind == "password" and project_name):
            missing.insert(0, flag)
    if missing:
        raise InputError(
            f"profile '{name}' needs {', '.join(missing)}", "give them as options (no terminal to prompt on)"
        )
    profile["auth"] = auth
    if opts.get("insecure"):
        profile["verify"] = False
    elif opts.get("ca_bundle"):
        profile["verify"] = opts["ca_bundle"]
    for key in ("connect_timeout", "read_timeout"):
        if opts.get(key) is not None:
            profile[key] = opts[key]
    _check(name, profile, st)
    pfile = _file(ctx)
    profiles.add(pfile, name, profile, replace=replace, make_default=make_default)
    doc = {"file": str(pfile.path), "name": name, "default": pfile.default == name, **profiles.masked(profile)}
    render(
        Result(
            doc,
            [("name", name), ("file", str(pfile.path)), ("default", "yes" if doc["default"] else "no")]
            + _flatten(profiles.masked(profile)),
        ),
        runtime.output_format(ctx),
        st.env,
    )


def _check(name: str, profile: dict[str, Any], st: runtime.State) -> None:
    """Refuse to write a profile that would not load (bad URL, timeout or auth fields)."""
    from vbscli import config
    from vbscli.errors import ConfigError, InputError

    env = {k: "set" for k in _env_names(profile)}  # variables may be set only where the profile is used
    try:
        config.check_profile(profile, env, f"profile '{name}'")
    except ConfigError as exc:
        raise InputError(
            f"profile '{name}': {exc.message}" if not exc.message.startswith("profile") else exc.message, exc.hint
        ) from None


def _env_names(node: Any) -> list[str]:
    if isinstance(node, dict):
        found = [v for k, v in node.items() if str(k).endswith("_env") and isinstance(v, str)]
        for v in node.values():
            found += _env_names(v)
        return found
    return []


def _prompter(st: runtime.State) -> Any:
    """Prompts go to stderr, and only when a person is at a terminal; None otherwise."""
    if not st.env.interactive:
        return None

    def ask(label: str, secret: bool, default: str | None) -> str:
        return typer.prompt(label, default=default, hide_input=secret, err=True).strip()

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
        typer.Argument(metavar="[NAME]", help="Profile to test (default: the one vbs would use).", show_default=False),
    ] = None,
) -> None:
    """Prove a profile's credentials work with one cheap authenticated call"""
    from vbscli import backups
    from vbscli.render import Result, render

    st = runtime.begin(ctx)
    # Proving a password means using it: log in afresh (the cached token is replaced only on success).
    settings, client = runtime.connect(ctx, profile=name, fresh_login=True)
    elapsed = backups.probe(client)
    doc = {
        "profile": settings.profile,
        "ok": True,
        "endpoint": settings.endpoint,
        "project_id": client.project_id or client.auth.project_id(),
        "auth_type": settings.auth_type,
        "elapsed_ms": round(elapsed * 1000, 1),
    }
    rows = [(k, str(v)) for k, v in doc.items()]
    render(Result(doc, rows), runtime.output_format(ctx), st.env)

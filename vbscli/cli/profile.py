"""`vbs profile ...`: list, show, add, remove, set-default and test profiles (and clouds of clouds.yaml)."""

from enum import Enum
from typing import Annotated, Any, Optional

import typer

from vbscli.cli import runtime
from vbscli.cli.globals import VbsCommand, VbsGroup
from vbscli.values import AUTH_TYPES

app = typer.Typer(
    cls=VbsGroup, name="profile", help="Manage connection profiles", no_args_is_help=True, add_completion=False
)


AuthType = Enum("AuthType", {kind: kind for kind in AUTH_TYPES}, type=str)  # type: ignore[misc]
"""The choices of --auth-type (vbscli.values.AUTH_TYPES)."""

NameArg = Annotated[str, typer.Argument(metavar="NAME", help="Profile name.", show_default=False)]


def _target(what: str) -> Any:
    return typer.Argument(
        metavar="[NAME]",
        help=f"Profile, or cloud of clouds.yaml, to {what} (default: the one vbs would use).",
        show_default=False,
    )


def _file(ctx: typer.Context) -> Any:
    from vbscli import profile_file, profiles

    return profiles.read(profile_file.default_path(runtime.state(ctx).env.vars))


def _named(ctx: typer.Context, name: str | None) -> tuple[str | None, str | None]:
    """(profile, cloud) that NAME of `show`/`test` names; (None, None) for the global options' choice."""
    from vbscli import profiles
    from vbscli.errors import InputError

    if name is None:
        return None, None
    opts = runtime.global_options.given(ctx)
    if opts.get("profile") or opts.get("os_cloud"):
        raise InputError(
            f"NAME and {'--profile' if opts.get('profile') else '--os-cloud'} both say what to use",
            "give one of them",
        )
    return profiles.named(_file(ctx), name, runtime.state(ctx).env.vars)


@app.command("list", cls=VbsCommand)
def profile_list(ctx: typer.Context) -> None:
    """List the profiles and the clouds of clouds.yaml: endpoint, where it comes from, auth type"""
    from vbscli import profiles, render_profile
    from vbscli.render import render

    st = runtime.begin(ctx)
    entries = profiles.listing(st.env.vars, _file(ctx))
    render(render_profile.listing(entries), runtime.output_format(ctx), st.env)


@app.command("show", cls=VbsCommand)
def profile_show(ctx: typer.Context, name: Annotated[Optional[str], _target("show")] = None) -> None:
    """Show the settings of a profile (or cloud) and where each came from, secrets masked"""
    from vbscli import profiles, render_profile
    from vbscli.render import render

    st = runtime.begin(ctx)
    profile, cloud = _named(ctx, name)
    settings = runtime.resolve(ctx, profile, strict=False, cloud=cloud)
    for warning in settings.warnings:
        st.env.warn(warning)
    values, origins = profiles.describe(settings, st.env.vars)
    doc = {
        "name": settings.profile,
        "cloud": settings.cloud,
        "default": profiles.is_default(settings, st.env.vars),
        "source": settings.source,
        **values,
        "origins": origins,
    }
    render(render_profile.settings(doc, values, origins), runtime.output_format(ctx), st.env)


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
    from functools import partial

    from vbscli import config, profile_form, profiles, prompt, redact, render_profile
    from vbscli.errors import InputError
    from vbscli.render import render

    st = runtime.begin(ctx)
    profiles.check_name(name)
    opts = runtime.global_options.given(ctx)
    if opts.get("profile"):
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
    kind = profile_form.auth_type(creds, opts, auth_type.value if auth_type else None)
    settings = config.flag_layer(runtime.setting_flags(ctx)).values  # a malformed value is a usage error
    if creds.get("auth_url"):
        profile_form.check_auth_url(creds["auth_url"], "--auth-url")
    draft = profile_form.Draft(
        opts.get("endpoint"), opts.get("project_id"), opts.get("os_cloud"), creds, region=settings.get("region")
    )
    if st.env.interactive and (kind is None or draft.missing(kind)):  # options that make a profile: no questions
        kind = draft.ask_all(partial(prompt.ask, st.env), kind)  # on stderr: stdout carries only the profile
    else:
        kind = kind or (None if draft.cloud else "token")
        missing = draft.missing(kind)
        if missing:
            raise InputError(
                f"profile '{name}' needs {', '.join(missing)}", "give them as options (no terminal to prompt on)"
            )
    profile = draft.profile(kind, settings)
    pfile = _file(ctx)
    config.check_profile(profile, st.env.vars, name, pfile.path)  # settings that do not fit together: exit 3
    profiles.add(pfile, name, profile, replace=replace, make_default=make_default)
    shown = render_profile.added(name, str(pfile.path), pfile.default == name, redact.mapping(profile))
    render(shown, runtime.output_format(ctx), st.env)


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
def profile_test(ctx: typer.Context, name: Annotated[Optional[str], _target("test")] = None) -> None:
    """Prove a profile's (or a cloud's) credentials work with one cheap authenticated call"""
    from vbscli import backups, render_profile
    from vbscli.render import render

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
    render(render_profile.tested(doc), runtime.output_format(ctx), st.env)

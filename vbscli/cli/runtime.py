"""What every command does around its own work: settings, client, output format, rendering."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import typer

from vbscli import collector
from vbscli.cli import globals as global_options
from vbscli.environment import Environment


@dataclass(eq=False, repr=False)
class State:
    """Shared by the command being run and the error handler in `vbscli.__main__`."""

    env: Environment = field(default_factory=Environment.from_process)
    output: str | None = None
    debug: bool = False
    profile: str | None = None
    cloud: str | None = None
    auth_type: str | None = None
    clients: list[Any] = field(default_factory=list)
    fields: tuple[str, ...] = ()
    wide: bool = False

    def close(self) -> None:
        for client in self.clients:
            client.close()
        self.clients.clear()


def state(ctx: typer.Context) -> State:
    obj = ctx.find_root().obj
    if not isinstance(obj, State):  # invoked without vbscli.__main__ (e.g. a bare CliRunner)
        obj = State()
        ctx.find_root().obj = obj
    return obj


def begin(ctx: typer.Context) -> State:
    """Read the global options into the state, so errors are rendered as the user asked."""
    st = state(ctx)
    opts = global_options.given(ctx)
    st.debug = bool(opts.get("debug"))
    requested = opts.get("output") or st.env.vars.get("VBS_OUTPUT", "").strip().lower() or None
    if requested in global_options.OutputFormat.__members__:
        st.output = requested
    st.fields, st.wide = global_options.output_options(ctx)
    return st


def setting_flags(ctx: typer.Context) -> dict[str, Any]:
    """The global options that are settings, by setting name (None when not given)."""
    opts = global_options.given(ctx)
    verify: bool | str | None = None
    if opts.get("insecure"):
        verify = False
    elif opts.get("ca_bundle"):
        verify = opts["ca_bundle"]
    return {
        "endpoint": opts.get("endpoint"),
        "project_id": opts.get("project_id"),
        "region": opts.get("os_region_name"),
        "interface": opts.get("os_interface"),
        "connect_timeout": opts.get("connect_timeout"),
        "read_timeout": opts.get("read_timeout"),
        "output": opts.get("output"),
        "max_attempts": opts.get("max_attempts"),
        "deadline": opts.get("deadline"),
        "verify": verify,
    }


def resolve(ctx: typer.Context, profile: str | None = None, *, strict: bool = True, cloud: str | None = None) -> Any:
    """The settings for this run (`profile` or `cloud` overrides -p and --os-cloud)."""
    from vbscli import config

    opts = global_options.given(ctx)
    if not (profile or cloud):
        profile, cloud = opts.get("profile"), opts.get("os_cloud")
    return config.resolve(setting_flags(ctx), state(ctx).env.vars, profile, cloud, strict=strict)


def connect(
    ctx: typer.Context, profile: str | None = None, *, fresh_login: bool = False, cloud: str | None = None
) -> tuple[Any, Any]:
    """(settings, client) for this run, from flags, environment and profile (`profile` or `cloud`
    overrides -p and --os-cloud).

    `fresh_login` makes a login ignore the cached token (profile test). (A dry run builds its
    requests with vbscli.preview: no login, nothing sent.)
    """
    from vbscli.auth import build_auth
    from vbscli.client import Client
    from vbscli.transport import Transport

    st = begin(ctx)
    with collector.loading():
        settings = resolve(ctx, profile, cloud=cloud)
        import requests  # noqa: F401 - every command that connects sends a request next
    st.output = settings.output or st.output
    st.profile = settings.profile
    st.cloud = settings.cloud
    st.auth_type = settings.auth_type
    for warning in settings.warnings:
        st.env.warn(warning)
    trace = None
    if st.debug:
        trace = _tracer(st.env)
        trace(f"settings from {settings.source}; auth type {settings.auth_type}")
    from vbscli.retry import RetryPolicy

    transport = Transport(
        connect_timeout=settings.connect_timeout,
        read_timeout=settings.read_timeout,
        verify=settings.verify,
        trace=trace,
    )
    login = cache = None
    if settings.auth_type not in ("token", "aksk") or settings.endpoint is None:  # only a login needs these
        from vbscli import iam

        cache = iam.TokenCache(iam.TokenCache.default_directory(st.env.vars))

        def login(url: str, body: dict) -> Any:
            return iam.login(transport, url, body)

    auth = build_auth(
        settings.auth,
        settings.project_id,
        login=login,
        cache=cache,
        catalog=settings.endpoint is None,
        fresh_login=fresh_login,
    )

    told: list[str] = []

    def from_catalog(credentials: Any) -> str:
        from vbscli.config import transport_warnings
        from vbscli.errors import ConfigError
        from vbscli.keystone import catalog_endpoint

        found = credentials.catalog()  # a dry run's stand-in answers from a cached login only
        wanted = (settings.region, settings.interface, credentials.auth_url, settings.project_id)
        project_from = settings.origins.get("project_id", "")
        try:
            root = catalog_endpoint(found, *wanted, project_from)
        except ConfigError:
            renew = getattr(credentials, "renew_catalog", None)  # a cached catalog may predate a change
            fresh = renew() if renew is not None else None
            if fresh is None:
                raise
            root = catalog_endpoint(fresh, *wanted, project_from)
        tls_said = any(w.startswith("TLS") for w in settings.warnings)
        for warning in transport_warnings((root,), settings.verify):  # what the resolver could not see yet
            if warning not in told and not (tls_said and warning.startswith("TLS")):
                told.append(warning)
                st.env.warn(warning)
        return root

    client = Client(
        endpoint=settings.endpoint,
        project_id=settings.project_id,
        auth=auth,
        connect_timeout=settings.connect_timeout,
        read_timeout=settings.read_timeout,
        verify=settings.verify,
        trace=trace,
        retry=RetryPolicy(max_attempts=settings.max_attempts, deadline=settings.deadline),
        notify=st.env.warn,
        transport=transport,
        endpoint_from=None if settings.endpoint else from_catalog,
    )
    st.clients.append(client)
    return settings, client


def output_format(ctx: typer.Context) -> str:
    from vbscli.render import output_format as choose

    st = state(ctx)
    return choose(st.output, st.env, st.fields, st.wide)


def _tracer(env: Environment) -> Any:
    def trace(line: str) -> None:
        env.stderr.write(f"vbs: debug: {line}\n")
        env.stderr.flush()

    return trace

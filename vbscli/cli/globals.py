"""Options every command accepts, before or after the command name.

`vbs -o json backup create ...` and `vbs backup create ... -o json` must both work, so the same
options are attached to every group and command by the classes below. Values given closer to the
command win. They are stored for `vbscli.cli.runtime`, which applies the precedence rules.
"""

import functools
from enum import Enum
from typing import Annotated, Any, Optional

import typer
from typer.core import TyperCommand, TyperGroup

PANEL = "Global options"
STORE = "vbs.globals"


class OutputFormat(str, Enum):
    table = "table"
    json = "json"


class Interface(str, Enum):
    public = "public"
    internal = "internal"
    admin = "admin"


def _declaration(
    profile: Annotated[
        Optional[str],
        typer.Option(
            "--profile",
            "-p",
            metavar="NAME",
            show_default=False,
            rich_help_panel=PANEL,
            help="Profile from the profile file. (env: VBS_PROFILE)",
        ),
    ] = None,
    os_cloud: Annotated[
        Optional[str],
        typer.Option(
            "--os-cloud",
            metavar="NAME",
            show_default=False,
            rich_help_panel=PANEL,
            help="Cloud from clouds.yaml (instead of a profile). (env: OS_CLOUD)",
        ),
    ] = None,
    output: Annotated[
        Optional[OutputFormat],
        typer.Option(
            "--output",
            "-o",
            metavar="[table|json]",
            case_sensitive=False,
            show_default=False,
            rich_help_panel=PANEL,
            help="Output format; default: table on a terminal, json otherwise. (env: VBS_OUTPUT)",
        ),
    ] = None,
    endpoint: Annotated[
        Optional[str],
        typer.Option(
            "--endpoint",
            metavar="URL",
            show_default=False,
            rich_help_panel=PANEL,
            help="Service root URL, e.g. https://evs.eu-de.otc.t-systems.com (default: from the service "
            "catalog of a login). (env: VBS_ENDPOINT)",
        ),
    ] = None,
    project_id: Annotated[
        Optional[str],
        typer.Option(
            "--project-id",
            metavar="ID",
            show_default=False,
            rich_help_panel=PANEL,
            help="Project ID. (env: VBS_PROJECT_ID)",
        ),
    ] = None,
    os_region_name: Annotated[
        Optional[str],
        typer.Option(
            "--os-region-name",
            metavar="REGION",
            show_default=False,
            rich_help_panel=PANEL,
            help="Region whose endpoint to take from the service catalog. (env: OS_REGION_NAME)",
        ),
    ] = None,
    os_interface: Annotated[
        Optional[Interface],
        typer.Option(
            "--os-interface",
            metavar="[public|internal|admin]",
            case_sensitive=False,
            show_default=False,
            rich_help_panel=PANEL,
            help="Catalog interface: public (default), internal or admin. (env: OS_INTERFACE)",
        ),
    ] = None,
    connect_timeout: Annotated[
        Optional[float],
        typer.Option(
            "--connect-timeout",
            metavar="SECONDS",
            show_default=False,
            rich_help_panel=PANEL,
            help="Seconds to wait for a connection (default 10). (env: VBS_CONNECT_TIMEOUT)",
        ),
    ] = None,
    read_timeout: Annotated[
        Optional[float],
        typer.Option(
            "--read-timeout",
            metavar="SECONDS",
            show_default=False,
            rich_help_panel=PANEL,
            help="Seconds to wait for an answer (default 60). (env: VBS_READ_TIMEOUT)",
        ),
    ] = None,
    max_attempts: Annotated[
        Optional[int],
        typer.Option(
            "--max-attempts",
            metavar="N",
            show_default=False,
            rich_help_panel=PANEL,
            help="Tries per request when a retry is safe (default 4). (env: VBS_MAX_ATTEMPTS)",
        ),
    ] = None,
    deadline: Annotated[
        Optional[float],
        typer.Option(
            "--deadline",
            metavar="SECONDS",
            show_default=False,
            rich_help_panel=PANEL,
            help="No retry starts after this long (default 300). (env: VBS_DEADLINE)",
        ),
    ] = None,
    ca_bundle: Annotated[
        Optional[str],
        typer.Option(
            "--ca-bundle",
            metavar="FILE",
            show_default=False,
            rich_help_panel=PANEL,
            help="CA certificates to verify TLS with. (env: VBS_CA_BUNDLE)",
        ),
    ] = None,
    insecure: Annotated[
        bool,
        typer.Option(
            "--insecure",
            rich_help_panel=PANEL,
            help="Do not verify the service's TLS certificate (prints a warning).",
        ),
    ] = False,
    debug: Annotated[
        bool,
        typer.Option(
            "--debug",
            rich_help_panel=PANEL,
            help="Trace HTTP on stderr (secrets masked) and show tracebacks.",
        ),
    ] = False,
) -> None:
    """Never called: its signature declares the global options for typer to convert."""


@functools.lru_cache(maxsize=1)
def _params() -> tuple[list[Any], dict[str, Any]]:
    """The global options as Click parameters, built once: every command shares them (a parameter
    holds no per-run state; values live in each command's context)."""
    from typer.main import get_params_convertors_ctx_param_name_from_function

    params, convertors, _ = get_params_convertors_ctx_param_name_from_function(_declaration)
    return list(params), convertors


_NAMES = tuple(p.name for p in _params()[0])


def _stash(ctx: typer.Context) -> None:
    """Move global values out of ctx.params (the callback does not take them) into the root's store."""
    _, convertors = _params()
    store: dict[str, Any] = ctx.find_root().meta.setdefault(STORE, {})
    for name in _NAMES:
        if name not in ctx.params:
            continue
        value = ctx.params.pop(name)
        if value is None or value is False:
            continue
        if name in convertors:
            value = convertors[name](value)
        store[name] = value.value if isinstance(value, Enum) else value


def given(ctx: typer.Context) -> dict[str, Any]:
    """The global options given anywhere on the command line (closest to the command wins)."""
    return dict(ctx.find_root().meta.get(STORE, {}))


class _GlobalOptions:
    """Adds the global options to a command or group, and stashes their values before it runs."""

    def __init__(self, *args: Any, params: list[Any] | None = None, **kwargs: Any) -> None:
        super().__init__(*args, params=list(params or []) + _params()[0], **kwargs)  # type: ignore[call-arg]

    def invoke(self, ctx: typer.Context) -> Any:
        _stash(ctx)
        return super().invoke(ctx)  # type: ignore[misc]


class VbsCommand(_GlobalOptions, TyperCommand):
    pass


class VbsGroup(_GlobalOptions, TyperGroup):
    pass


class VbsRootGroup(VbsGroup):
    """The top command. It is run by vbscli.__main__.run, the one place that turns failures into
    messages and exit codes (this package never imports that module: no import cycle)."""

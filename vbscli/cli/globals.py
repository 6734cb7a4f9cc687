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

from vbscli import collector
from vbscli.cli.words import readable
from vbscli.values import INTERFACES, OUTPUT_FORMATS

PANEL = "Global options"
STORE = "vbs.globals"


OutputFormat = Enum("OutputFormat", {name: name for name in OUTPUT_FORMATS}, type=str)  # type: ignore[misc]
Interface = Enum("Interface", {name: name for name in INTERFACES}, type=str)  # type: ignore[misc]


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
            metavar="FORMAT",
            case_sensitive=False,
            show_default=False,
            rich_help_panel=PANEL,
            help="Output format: table, json or value (bare values, one line per object; see --field); default: "
            "table on a terminal, json otherwise. (env: VBS_OUTPUT)",
        ),
    ] = None,
    field: Annotated[
        Optional[list[str]],
        typer.Option(
            "--field",
            "-f",
            metavar="NAME",
            show_default=False,
            rich_help_panel=PANEL,
            help="Print only this field of the result, as -o value does; repeat for several (tab-separated).",
        ),
    ] = None,
    wide: Annotated[
        bool,
        typer.Option(
            "--wide",
            rich_help_panel=PANEL,
            help="Tables on a terminal: show every column in full, even if wider than the terminal.",
        ),
    ] = False,
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
            metavar="INTERFACE",
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
ACCUMULATED = ("field",)
"""Repeatable options: values given before and after the command name add up."""


def _stash(ctx: typer.Context) -> None:
    """Move global values out of ctx.params (the callback does not take them) into the root's store."""
    _, convertors = _params()
    store: dict[str, Any] = ctx.find_root().meta.setdefault(STORE, {})
    for name in _NAMES:
        if name not in ctx.params:
            continue
        value = ctx.params.pop(name)
        if value is None or value is False or (isinstance(value, (list, tuple)) and not value):
            continue
        if name in convertors:
            value = convertors[name](value)
        if name in ACCUMULATED:
            value = (*store.get(name, ()), *value)
        store[name] = value.value if isinstance(value, Enum) else value


def given(ctx: typer.Context) -> dict[str, Any]:
    """The global options given anywhere on the command line (closest to the command wins)."""
    return dict(ctx.find_root().meta.get(STORE, {}))


def refuse_unused(ctx: typer.Context, command: str, used: tuple[str, ...]) -> None:
    """For a command that never talks to the service (the emulator, completion): a global option it
    has no use for, given on the command line, is refused rather than silently ignored."""
    from vbscli.errors import InputError

    for name, value in given(ctx).items():
        if name not in used:  # given before the command's name, where every global option is accepted
            param = next(p for p in _params()[0] if p.name == name)
            shown = f"{param.opts[0]} {value}" if name == "output" else max(param.opts, key=len)
            raise InputError(f"{shown} does not apply to {command}", "drop it")


def output_options(ctx: typer.Context) -> tuple[tuple[str, ...], bool]:
    """(--field names, --wide), refused where they cannot apply, before anything is sent.

    --field implies -o value, so it only conflicts with a table or JSON asked for on the same command
    line; --wide only changes tables.
    """
    from vbscli.errors import InputError

    opts = given(ctx)
    fields = tuple(str(name).strip() for name in opts.get("field", ()))
    wide = bool(opts.get("wide"))
    output = opts.get("output")
    if any(not name for name in fields):
        raise InputError("--field needs a field name, e.g. --field id")
    if fields and output in ("table", "json"):
        raise InputError(f"--field prints bare values and cannot be combined with -o {output}", "use -o value")
    if wide and (fields or output in ("json", "value")):
        raise InputError("--wide only changes tables", "drop --wide, or use -o table")
    return fields, wide


class _GlobalOptions:
    """Adds the global options to a command or group, stashes their values before it runs, and makes
    its help and usage errors say what a user needs."""

    uses: tuple[str, ...] | None = None
    """The global options this command takes (None: all of them)."""

    def __init__(self, *args: Any, params: list[Any] | None = None, **kwargs: Any) -> None:
        shared = [p for p in _params()[0] if self.uses is None or p.name in self.uses]
        super().__init__(*args, params=list(params or []) + shared, **kwargs)  # type: ignore[call-arg]
        for param in self.params:  # type: ignore[attr-defined]
            readable(param)

    def invoke(self, ctx: typer.Context) -> Any:
        _stash(ctx)
        return super().invoke(ctx)  # type: ignore[misc]

    def parse_args(self, ctx: typer.Context, args: list[str]) -> list[str]:
        # The option parser raises some usage errors (a missing option value) without a context;
        # give them this command's, so the message points at the right `--help`.
        from typer._click.exceptions import UsageError

        try:
            return super().parse_args(ctx, args)  # type: ignore[misc]
        except UsageError as exc:
            if exc.ctx is None:
                exc.ctx, exc.cmd = ctx, ctx.command
            raise

    def collect_usage_pieces(self, ctx: typer.Context) -> list[str]:
        """`vbs backup show [OPTIONS] ID`, not `{ID}`."""
        pieces = super().collect_usage_pieces(ctx)  # type: ignore[misc]
        return [p[1:-1] if p.startswith("{") and p.endswith("}") else p for p in pieces]

    def get_help(self, ctx: typer.Context) -> str:
        """Rich panels on a wide terminal; plain text, wrapped at spaces but never cut, anywhere else."""
        from vbscli.cli import helptext

        width = helptext.width()
        if width is None:
            return super().get_help(ctx)  # type: ignore[misc]
        return helptext.plain(self, ctx, width)

    def format_options(self, ctx: typer.Context, formatter: Any) -> None:
        from vbscli.cli import helptext

        helptext.format_options(self, ctx, formatter, PANEL)

    def format_commands(self, ctx: typer.Context, formatter: Any) -> None:
        from vbscli.cli import helptext

        helptext.format_commands(self, ctx, formatter)


class VbsCommand(_GlobalOptions, TyperCommand):
    """Every command of vbs: the one place its body is entered from."""

    def invoke(self, ctx: typer.Context) -> Any:
        collector.resume()
        return super().invoke(ctx)


class VbsGroup(_GlobalOptions, TyperGroup):
    pass


LOCAL = ("output", "field", "wide", "debug")
"""The global options of a command that talks to no service (the emulator, completion)."""


class LocalCommand(VbsCommand):
    """A command that talks to no service: it takes (and its help shows) only the output options and
    --debug; the others, given before its name, are refused by refuse_unused."""

    uses = LOCAL


class LocalGroup(VbsGroup):
    uses = LOCAL


class VbsRootGroup(VbsGroup):
    """The top command. It is run by vbscli.__main__.run, the one place that turns failures into
    messages and exit codes (this package never imports that module: no import cycle)."""

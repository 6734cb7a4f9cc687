"""`vbs emulator start|stop|status`: the local VBS emulator, in the foreground or in the background."""

from enum import Enum
from pathlib import Path
from typing import Annotated, Any, Optional

import typer

from vbscli.cli import runtime
from vbscli.cli.globals import LOCAL, LocalCommand, LocalGroup, refuse_unused


class EmulatorGroup(LocalGroup):
    """`vbs emulator --port 0 ...` (options, no command) stays short for `vbs emulator start --port 0 ...`."""

    def parse_args(self, ctx: typer.Context, args: list[str]) -> list[str]:
        if args and args[0].startswith("-") and args[0] not in ("-h", "--help") and not set(args) & set(self.commands):
            args = ["start", *args]
        return super().parse_args(ctx, args)


class Chains(str, Enum):
    """How backups depend on each other (vbscli.emulator.seed.CHAINS)."""

    vbs = "vbs"
    cinder = "cinder"


app = typer.Typer(
    cls=EmulatorGroup,
    name="emulator",
    help="Run a local VBS emulator (for trying vbs and testing scripts without a cloud)",
    no_args_is_help=True,
    add_completion=False,
)

PID_FILE_HELP = (
    "The emulator's PID file (default: $XDG_STATE_HOME/vbs/emulator.pid, i.e. ~/.local/state/vbs/emulator.pid"
)
PidFile = Annotated[
    Optional[Path],
    typer.Option("--pid-file", metavar="FILE", show_default=False, help=PID_FILE_HELP + ")."),
]
StartPidFile = Annotated[
    Optional[Path],
    typer.Option(
        "--pid-file",
        metavar="FILE",
        show_default=False,
        help=PID_FILE_HELP + "; a start in the foreground writes one only when given).",
    ),
]


@app.command("start", cls=LocalCommand)
def emulator_start(
    ctx: typer.Context,
    host: Annotated[str, typer.Option("--host", metavar="ADDRESS", help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[
        int, typer.Option("--port", metavar="PORT", min=0, max=65535, help="Port; 0 picks a free one.")
    ] = 8776,
    seed: Annotated[
        Optional[Path],
        typer.Option("--seed", metavar="FILE", show_default=False, help="YAML seed file (default: the demo data set)."),
    ] = None,
    create_delay: Annotated[
        float, typer.Option("--create-delay", metavar="SECONDS", min=0, help="How long a backup stays 'creating'.")
    ] = 2.0,
    latency: Annotated[float, typer.Option("--latency", metavar="SECONDS", min=0, help="Added to every answer.")] = 0.0,
    error_rate: Annotated[
        float, typer.Option("--error-rate", metavar="SHARE", min=0, max=1, help="Share of requests answered 500/503.")
    ] = 0.0,
    throttle_rate: Annotated[
        float,
        typer.Option(
            "--throttle-rate", metavar="SHARE", min=0, max=1, help="Share of requests answered 429 APIGW.0308."
        ),
    ] = 0.0,
    retry_after: Annotated[
        Optional[float],
        typer.Option(
            "--retry-after",
            metavar="SECONDS",
            min=0,
            show_default=False,
            help="Retry-After sent with injected 5xx and 429 (default: none).",
        ),
    ] = None,
    faults: Annotated[
        Optional[Path],
        typer.Option(
            "--faults", metavar="FILE", show_default=False, help="Fault script: a YAML or JSON list of steps."
        ),
    ] = None,
    chains: Annotated[
        Optional[Chains],
        typer.Option(
            "--chains",
            show_default=False,
            help="How new backups depend on earlier ones: vbs (as VBS: no backup has dependents, any can be "
            "deleted) or cinder (as upstream's incremental backups: each builds on the disk's latest, which "
            "cannot be deleted before it). Default: the seed's 'chains', else vbs.",
        ),
    ] = None,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No request log.")] = False,
    detach: Annotated[
        bool,
        typer.Option(
            "--detach",
            "-d",
            help="Run in the background: return once it listens, printing its URL and PID (stop it with "
            "'vbs emulator stop').",
        ),
    ] = False,
    pid_file: StartPidFile = None,
    log_file: Annotated[
        Optional[Path],
        typer.Option(
            "--log-file",
            metavar="FILE",
            show_default=False,
            help="Write the start-up banner and the request log to FILE (default with --detach: beside the PID "
            "file, emulator.log).",
        ),
    ] = None,
) -> None:
    """Start the emulator: in the foreground until Ctrl-C, or in the background with --detach"""
    import sys

    from vbscli.emulator import Emulator, FaultError, background, banner
    from vbscli.errors import InputError

    refuse_unused(ctx, "vbs emulator start", LOCAL)
    st = runtime.begin(ctx)
    config = _config(ctx, host, port, seed, create_delay, latency, error_rate, throttle_rate, retry_after, faults)
    if chains is not None:
        config.seed.chains = chains.value
    try:
        Emulator(config)  # checks the fault settings before anything listens
    except FaultError as exc:
        raise InputError(f"invalid fault settings: {exc}") from None
    if detach and pid_file is None:
        pid_file = _default_pid_file(st.env.vars)
    if pid_file is not None:
        pid_file = pid_file.expanduser().absolute()
        _refuse_if_running(pid_file)
    if detach:
        assert pid_file is not None
        log_file = (log_file or pid_file.with_suffix(".log")).expanduser().absolute()
        found = _background(ctx, pid_file, log_file, st.env.vars)
        doc = found.document()
        doc["emulator"]["project_id"] = config.seed.project_id
        _show(ctx, doc, found)
        return

    log = open(log_file, "a", encoding="utf-8") if log_file else None  # open while serving
    out = log or st.env.stdout
    config.log = None if quiet else log or st.env.stderr
    try:
        emu = Emulator(config).start()
    except OSError as exc:
        raise _cannot_listen(host, port, exc) from None

    def ready() -> None:
        # Once SIGINT/SIGTERM are handled: a script that signals on reading the banner gets a clean stop,
        # and finds the PID file written.
        background.record(str(pid_file) if pid_file else None, emu.url, str(log_file) if log_file else None)
        out.write(banner(emu))
        out.flush()
        background.report_ready(emu.url)

    try:
        code = emu.serve_forever_until_signal(on_ready=ready)
    finally:
        background.withdraw(str(pid_file) if pid_file else None)
        if log:
            log.close()
    sys.exit(code)


@app.command("stop", cls=LocalCommand)
def emulator_stop(ctx: typer.Context, pid_file: PidFile = None) -> None:
    """Stop the emulator started with --detach (only the one its PID file names)"""
    from vbscli.emulator import background

    refuse_unused(ctx, "vbs emulator stop", LOCAL)
    st = runtime.begin(ctx)
    path = (pid_file or _default_pid_file(st.env.vars)).expanduser().absolute()
    found = _running(path)
    if found is None:
        st.env.stderr.write(f"vbs: no emulator is running (no PID file at {path})\n")
        st.env.stderr.flush()
        _show(ctx, {"emulator": {"status": "stopped", "pid_file": str(path)}})
        return
    try:
        background.stop(found)
    except background.BackgroundError as exc:
        raise _error(exc) from None
    _show(ctx, found.document("stopped"), found)


@app.command("status", cls=LocalCommand)
def emulator_status(ctx: typer.Context, pid_file: PidFile = None) -> None:
    """Say whether the emulator started with --detach runs, and where (URL, PID, log)"""
    refuse_unused(ctx, "vbs emulator status", LOCAL)
    st = runtime.begin(ctx)
    path = (pid_file or _default_pid_file(st.env.vars)).expanduser().absolute()
    found = _running(path)
    if found is None:
        _show(ctx, {"emulator": {"status": "stopped", "pid_file": str(path)}})
        return
    _show(ctx, found.document(), found)


def _config(ctx: typer.Context, host: str, port: int, seed: Any, *settings: Any) -> Any:
    from vbscli.emulator import EmulatorConfig, SeedError, demo_seed, load_seed
    from vbscli.errors import ConfigError

    create_delay, latency, error_rate, throttle_rate, retry_after, faults = settings
    try:
        data = load_seed(seed) if seed else demo_seed()
    except SeedError as exc:
        raise ConfigError(str(exc), "see the README for the seed file's shape") from None
    script = []
    if faults:
        import yaml

        try:
            script = yaml.safe_load(faults.read_text()) or []
        except (OSError, yaml.YAMLError) as exc:
            raise ConfigError(f"cannot read fault script {faults}: {exc}") from None
    return EmulatorConfig(
        host=host,
        port=port,
        seed=data,
        create_delay=create_delay,
        latency=latency,
        error_rate=error_rate,
        throttle_rate=throttle_rate,
        retry_after=retry_after,
        script=script if isinstance(script, list) else [script],
    )


def _background(ctx: typer.Context, pid_file: Path, log_file: Path, env: Any) -> Any:
    """Start this same command without --detach in the background, with every other option as given."""
    from vbscli.emulator import background

    arguments = ["-o", "json", "emulator", "start"]
    for param in ctx.command.params:
        value = ctx.params.get(param.name)
        if param.name in ("detach", "pid_file", "log_file") or value is None or value is False:
            continue
        if param.is_flag:
            arguments.append(param.opts[0])
        elif isinstance(value, Enum):
            arguments += [param.opts[0], str(value.value)]
        else:
            arguments += [param.opts[0], str(value.absolute() if isinstance(value, Path) else value)]
    arguments += ["--pid-file", str(pid_file), "--log-file", str(log_file)]
    try:
        return background.start(background.command(arguments), str(pid_file), str(log_file), env)
    except background.BackgroundError as exc:
        raise _error(exc) from None


def _show(ctx: typer.Context, doc: dict, found: Any = None) -> None:
    from vbscli.render import Result, render

    info = doc["emulator"]
    rows = [("Status", info["status"])]
    if found is not None:
        rows += [("PID", str(found.pid)), ("URL", found.url)]
    if info.get("project_id"):
        rows.append(("Project ID", info["project_id"]))
    rows.append(("PID file", info["pid_file"]))
    if found is not None and found.log_file:
        rows.append(("Log file", found.log_file))
    render(Result(doc, rows), runtime.output_format(ctx), runtime.state(ctx).env)


def _default_pid_file(env: Any) -> Path:
    from vbscli.paths import state_dir

    return Path(state_dir(env)) / "emulator.pid"


def _running(path: Path) -> Any:
    from vbscli.emulator import background

    try:
        return background.running(path)
    except background.BackgroundError as exc:
        raise _error(exc) from None


def _refuse_if_running(pid_file: Path) -> None:
    from vbscli.errors import ConfigError

    found = _running(pid_file)
    if found is not None:
        raise ConfigError(
            f"an emulator is already running at {found.url} (pid {found.pid}, PID file {pid_file})",
            "stop it with 'vbs emulator stop', or give another --pid-file to run a second one",
        )


def _cannot_listen(host: str, port: int, exc: OSError) -> Exception:
    from vbscli.errors import ConfigError

    return ConfigError(
        f"cannot listen on {host}:{port}: {exc.strerror or exc}", "choose another --port (0 picks a free one)"
    )


def _error(exc: Any) -> Exception:
    """A background failure, with the exit code the emulator process itself ended with."""
    from vbscli.errors import ConfigError, InputError

    return (InputError if exc.exit_code == 2 else ConfigError)(exc.message, exc.hint)

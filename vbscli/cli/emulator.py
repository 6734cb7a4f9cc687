"""`vbs emulator`: run the local VBS emulator in the foreground."""

from pathlib import Path
from typing import Annotated, Optional

import typer

from vbscli.cli import runtime


def emulator(
    ctx: typer.Context,
    host: Annotated[str, typer.Option("--host", help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", min=0, max=65535, help="Port; 0 picks a free one.")] = 8776,
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
            help="Retry-After sent with injected 5xx and 429.",
        ),
    ] = None,
    faults: Annotated[
        Optional[Path],
        typer.Option(
            "--faults", metavar="FILE", show_default=False, help="Fault script: a YAML or JSON list of steps."
        ),
    ] = None,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No request log on stderr.")] = False,
) -> None:
    """Run a local VBS emulator (for trying vbs and testing scripts without a cloud)"""
    import sys

    from vbscli.emulator import Emulator, EmulatorConfig, FaultError, SeedError, banner, demo_seed, load_seed
    from vbscli.errors import ConfigError, InputError

    st = runtime.begin(ctx)
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
    config = EmulatorConfig(
        host=host,
        port=port,
        seed=data,
        create_delay=create_delay,
        latency=latency,
        error_rate=error_rate,
        throttle_rate=throttle_rate,
        retry_after=retry_after,
        script=script if isinstance(script, list) else [script],
        log=None if quiet else st.env.stderr,
    )
    try:
        emu = Emulator(config).start()
    except FaultError as exc:
        raise InputError(f"invalid fault settings: {exc}") from None
    except OSError as exc:
        raise ConfigError(
            f"cannot listen on {host}:{port}: {exc.strerror or exc}", "choose another --port (0 picks a free one)"
        ) from None

    def ready() -> None:
        # Printed once SIGINT/SIGTERM are handled: a script that signals on reading it gets a clean stop.
        st.env.stdout.write(banner(emu))
        st.env.stdout.flush()

    sys.exit(emu.serve_forever_until_signal(on_ready=ready))

"""The command tree. Commands stay thin: they parse, call vbscli's operations, and hand results to the renderer."""

from enum import Enum
from typing import Annotated, Optional

import typer

from vbscli import __version__
from vbscli.cli import backup, emulator, profile
from vbscli.cli.globals import VbsCommand, VbsRootGroup


class Shell(str, Enum):
    bash = "bash"
    zsh = "zsh"
    fish = "fish"


app = typer.Typer(
    cls=VbsRootGroup,
    name="vbs",
    help="Back up cloud disks with the Volume Backup Service (VBS)",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)
app.add_typer(backup.app, name="backup")
app.add_typer(profile.app, name="profile")
app.add_typer(emulator.app, name="emulator")


def _version(value: bool) -> None:
    if value:
        typer.echo(f"vbs {__version__}")
        raise typer.Exit(0)


@app.callback()
def root(
    version: Annotated[
        Optional[bool],
        typer.Option("--version", "-V", is_eager=True, callback=_version, help="Print the version and exit."),
    ] = None,
) -> None:
    """Back up cloud disks with the Volume Backup Service (VBS)"""


def command() -> typer.main.TyperGroup:  # type: ignore[name-defined]
    """The Click command behind the app (what `vbscli.__main__` runs)."""
    return typer.main.get_command(app)


@app.command("completion", cls=VbsCommand)
def completion(
    shell: Annotated[
        Shell, typer.Argument(help="Shell to print the completion script for: bash, zsh or fish.", show_default=False)
    ],
) -> None:
    """Print the shell completion script (see the README for where to install it)"""
    from vbscli.cli.completion import script

    typer.echo(script(shell.value), nl=False)

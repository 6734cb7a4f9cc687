"""The command tree. Commands stay thin: they parse, call vbscli's operations, and hand results to the renderer.

`backup` is built on every run; `profile`, `emulator` and `completion` only when they are run or
listed (help, completion scripts, the README's reference), so a nightly create does not pay for them.
"""

from collections.abc import Callable, Iterator, MutableMapping
from enum import Enum
from typing import Annotated, Any, Optional

import typer

from vbscli import __version__
from vbscli.cli import backup, delete, prune, report, restore
from vbscli.cli.globals import VbsCommand, VbsRootGroup


class Shell(str, Enum):
    bash = "bash"
    zsh = "zsh"
    fish = "fish"


class _LazyCommands(MutableMapping):
    """The root's subcommands by name, in order; those given as loaders are built on first access."""

    def __init__(self, built: dict[str, Any], loaders: dict[str, Callable[[], Any]], order: list[str]) -> None:
        self._built = dict(built)
        self._loaders = dict(loaders)
        self._order = [name for name in order if name in built or name in loaders]
        self._order += [name for name in [*built, *loaders] if name not in self._order]

    def __getitem__(self, name: str) -> Any:
        if name not in self._built:
            if name not in self._loaders:
                raise KeyError(name)
            self._built[name] = self._loaders[name]()
        return self._built[name]

    def __setitem__(self, name: str, command: Any) -> None:
        self._built[name] = command
        if name not in self._order:
            self._order.append(name)

    def __delitem__(self, name: str) -> None:
        self._built.pop(name, None)
        self._loaders.pop(name, None)
        self._order.remove(name)

    def __iter__(self) -> Iterator[str]:
        return iter(list(self._order))

    def __len__(self) -> int:
        return len(self._order)


def _profile_command() -> Any:
    from vbscli.cli import profile

    return typer.main.get_command(profile.app)


def _emulator_command() -> Any:
    from vbscli.cli import emulator

    return typer.main.get_command(emulator.app)


class CompletionCommand(VbsCommand):
    """It prints a script: of the global options, only -o table (what a person reads) and --debug."""

    uses = ("output", "debug")


def _completion_command() -> Any:
    single = typer.Typer(add_completion=False, pretty_exceptions_enable=False)
    single.command("completion", cls=CompletionCommand)(completion_script)
    return typer.main.get_command(single)


ORDER = ["backup", "profile", "completion", "emulator"]
"""The order `vbs --help` lists the commands in: as a newcomer needs them, the emulator last."""


class _Root(VbsRootGroup):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.commands = _LazyCommands(  # type: ignore[assignment]
            self.commands,
            {"profile": _profile_command, "emulator": _emulator_command, "completion": _completion_command},
            ORDER,
        )


app = typer.Typer(
    cls=_Root,
    name="vbs",
    help="Back up cloud disks with the Volume Backup Service (VBS)",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)
app.add_typer(backup.app, name="backup")
# The commands that change or remove data, and the report, have modules of their own; they belong to
# this group (registered here, so that none of them and `backup` import each other).
backup.app.command("restore", cls=VbsCommand)(restore.backup_restore)
backup.app.command("delete", cls=VbsCommand)(delete.backup_delete)
backup.app.command("prune", cls=VbsCommand)(prune.backup_prune)
backup.app.command("report", cls=VbsCommand)(report.backup_report)


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


def completion_script(
    ctx: typer.Context,
    shell: Annotated[
        Shell, typer.Argument(help="Shell to print the completion script for: bash, zsh or fish.", show_default=False)
    ],
) -> None:
    """Print the shell completion script (see the README for where to install it)"""
    from vbscli.cli.completion import script
    from vbscli.cli.globals import given, refuse_unused

    used = ("debug", "output") if given(ctx).get("output") == "table" else ("debug",)  # a script, for a person
    refuse_unused(ctx, "vbs completion, which prints a shell script", used)

    typer.echo(script(shell.value, command()), nl=False)

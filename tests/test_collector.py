"""Start-up runs with the cyclic garbage collector off (vbscli.__main__); every command's body runs with
it on, whatever the command, so that a run lasting hours collects its garbage."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from typing import Any

import pytest
import typer.core
from typer._click import Context

from vbscli.cli import command
from vbscli.cli.globals import VbsCommand


def leaves(group: Any, path: tuple[str, ...] = ()) -> Iterator[tuple[tuple[str, ...], Any]]:
    ctx = Context(group)
    for name in group.list_commands(ctx):
        sub = group.get_command(ctx, name)
        if hasattr(sub, "list_commands"):
            yield from leaves(sub, (*path, name))
        else:
            yield (*path, name), sub


COMMANDS = dict(leaves(command()))


def required_values(leaf: Any) -> list[str]:
    """A command line that parses: a value for every required argument and option."""
    args: list[str] = []
    for param in leaf.params:
        if not param.required:
            continue
        choices = getattr(param.type, "choices", None)
        value = str(getattr(choices[0], "value", choices[0])) if choices else "1"
        args += [value] if param.param_type_name == "argument" else [param.opts[0], value]
    return args


def test_the_tree_has_every_command():
    assert {" ".join(path) for path in COMMANDS} >= {
        "backup create",
        "backup delete",
        "backup prune",
        "backup report",
        "profile list",
        "completion",
        "emulator start",
    }


@pytest.mark.parametrize("path", list(COMMANDS), ids=[" ".join(p) for p in COMMANDS])
def test_every_command_runs_with_the_collector_on(path, monkeypatch):
    from vbscli.__main__ import run

    leaf = COMMANDS[path]
    assert isinstance(leaf, VbsCommand)  # the class whose invoke every command's body is entered from
    seen: list[bool] = []

    def body(self: Any, ctx: Any) -> int:
        seen.append(gc.isenabled())
        return 0

    monkeypatch.setattr(typer.core.TyperCommand, "invoke", body)
    gc.disable()  # as vbscli.__main__.main starts
    try:
        code = run([*path, *required_values(leaf)])
    finally:
        gc.enable()
        gc.unfreeze()
    assert (code, seen) == (0, [True])


def test_loading_inside_a_body_pauses_the_collector_and_resumes_it_even_after_a_failure():
    from vbscli.collector import loading

    assert gc.isenabled()
    frozen = gc.get_freeze_count()
    try:
        with pytest.raises(ValueError), loading():
            assert not gc.isenabled()
            loaded = [[n] for n in range(1000)]  # long-lived objects, as a module makes
            raise ValueError("a setting is wrong")
        assert gc.isenabled() and gc.get_freeze_count() >= frozen + len(loaded)
    finally:
        gc.unfreeze()

"""`vbs backup ...`: the commands; the work is in vbscli.backups, the output in vbscli.render."""

from __future__ import annotations

from typing import Annotated, Optional

import typer

from vbscli.cli import runtime
from vbscli.cli.globals import VbsCommand, VbsGroup

app = typer.Typer(
    cls=VbsGroup,
    name="backup",
    help="Create volume backups",
    no_args_is_help=True,
    add_completion=False,
)


@app.command("create", cls=VbsCommand)
def backup_create(
    ctx: typer.Context,
    volume_id: Annotated[
        str,
        typer.Option("--volume-id", metavar="UUID", show_default=False, help="ID of the disk to back up."),
    ],
    snapshot_id: Annotated[
        str,
        typer.Option(
            "--snapshot-id", metavar="UUID", show_default=False,
            help="ID of the disk's snapshot to back up from.",
        ),
    ],
    name: Annotated[
        Optional[str],
        typer.Option(
            "--name", metavar="NAME", show_default=False,
            help="Backup name: 1-64 letters, digits, '_' or '-', not starting with 'auto'.",
        ),
    ] = None,
    description: Annotated[
        Optional[str],
        typer.Option(
            "--description", metavar="TEXT", show_default=False,
            help="Up to 255 characters, without '<' or '>'.",
        ),
    ] = None,
    force: Annotated[
        bool,
        typer.Option(
            "--force",
            help="Back up a disk attached to a running server (data cached in memory is not included).",
        ),
    ] = False,
    dry_run: Annotated[
        bool,
        typer.Option("--dry-run", help="Validate and print the request without sending it."),
    ] = False,
) -> None:
    """Create a backup of a disk from one of its snapshots"""
    from vbscli import backups
    from vbscli.render import Result, render, render_request

    runtime.begin(ctx)
    spec = backups.BackupSpec(volume_id, snapshot_id, name, description, force).checked()
    _, client = runtime.connect(ctx)
    env = runtime.state(ctx).env
    fmt = runtime.output_format(ctx)
    if dry_run:
        render_request(client.sign(backups.create_call(client, spec)), fmt, env)
        return
    doc = backups.create(client, spec)
    backup = doc["backup"]
    rows = [
        ("ID", backup["id"]),
        ("Name", "" if backup.get("name") is None else str(backup.get("name"))),
        ("Self link", backups.link(backup, "self") or ""),
        ("Bookmark link", backups.link(backup, "bookmark") or ""),
    ]
    render(Result(doc, rows), fmt, env)

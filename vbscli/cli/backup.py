"""`vbs backup ...`: the commands; the work is in vbscli.backups, the output in vbscli.render."""

from enum import Enum
from typing import Annotated, Optional

import typer

from vbscli.cli import options, runtime
from vbscli.cli.globals import VbsCommand, VbsGroup
from vbscli.validate import STATUSES

BackupStatus = Enum("BackupStatus", {status: status for status in STATUSES}, type=str)  # type: ignore[misc]


app = typer.Typer(
    cls=VbsGroup,
    name="backup",
    help="Create, list, show, restore, delete, prune and report on volume backups",
    no_args_is_help=True,
    add_completion=False,
)


@app.command("create", cls=VbsCommand)
def backup_create(
    ctx: typer.Context,
    volume_id: Annotated[
        Optional[str],
        typer.Option(
            "--volume-id",
            metavar="UUID",
            show_default=False,
            help="ID of the disk to back up (required unless --from).",
        ),
    ] = None,
    snapshot_id: Annotated[
        Optional[str],
        typer.Option(
            "--snapshot-id",
            metavar="UUID",
            show_default=False,
            help="Back up this snapshot of the disk (default: take a fresh snapshot now, and delete it "
            "once the backup is available under --wait).",
        ),
    ] = None,
    name: Annotated[
        Optional[str],
        typer.Option(
            "--name",
            metavar="NAME",
            show_default=False,
            help="Backup name: 1-64 letters, digits, '_' or '-', not starting with 'auto' "
            "(default: vbs-YYYYMMDD-HHMMSS-xxxxxx, so a lost answer can be checked).",
        ),
    ] = None,
    description: Annotated[
        Optional[str],
        typer.Option(
            "--description",
            metavar="TEXT",
            show_default=False,
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
    keep_snapshot: Annotated[
        bool,
        typer.Option(
            "--keep-snapshot",
            help="With --wait and no --snapshot-id: keep the fresh snapshot instead of deleting it.",
        ),
    ] = False,
    dry_run: Annotated[
        bool,
        typer.Option("--dry-run", help="Validate and print the requests without sending anything."),
    ] = False,
    wait: Annotated[
        bool,
        typer.Option("--wait", help="Wait until the backup is available (exit 6 if it fails, 7 on timeout)."),
    ] = False,
    wait_timeout: options.WaitTimeout = None,
    poll_interval: options.PollInterval = None,
    from_file: Annotated[
        Optional[str],
        typer.Option(
            "--from",
            metavar="FILE",
            show_default=False,
            help="Back up every item of FILE ('-' for stdin): a YAML list, JSON lines or CSV of "
            "volume_id, snapshot_id (optional), name, description, force.",
        ),
    ] = None,
    parallel: Annotated[Optional[int], options.parallel("With --from: requests in flight at most (default 8).")] = None,
    skip_invalid: Annotated[
        bool,
        typer.Option("--skip-invalid", help="With --from: report invalid items and create the others."),
    ] = False,
    skip_existing: Annotated[
        bool,
        typer.Option("--skip-existing", help="With --from: skip items whose volume already has a backup of that name."),
    ] = False,
) -> None:
    """Back up a disk from a fresh snapshot, or from a snapshot of it (or many disks, with --from)"""
    from vbscli import backups, cycle
    from vbscli.cli import checks
    from vbscli.errors import InputError
    from vbscli.render import Result, render
    from vbscli.render_backup import created_rows, detail_rows

    runtime.begin(ctx)
    checks.needs(
        "--wait",
        wait,
        ("--wait-timeout", wait_timeout),
        ("--poll-interval", poll_interval),
        ("--keep-snapshot", keep_snapshot),
    )
    checks.refused_with("--dry-run", dry_run, ("--wait", wait), why="a dry run sends nothing, so there is no wait")
    policy = options.wait_policy(wait, wait_timeout, poll_interval)
    if from_file is not None:
        checks.refused_with(
            "--from",
            True,
            ("--volume-id", volume_id),
            ("--snapshot-id", snapshot_id),
            ("--name", name),
            ("--description", description),
            ("--force", force),
            why="put those values in the file's items",
        )
        checks.refused_with(
            "--dry-run",
            dry_run,
            ("--parallel", parallel),
            ("--skip-existing", skip_existing),
            why="a dry run sends nothing: it neither runs requests in parallel nor reads existing backups",
        )
        from vbscli.cli.fleet import create_many

        if dry_run:
            from vbscli.cli.dry_run import show_fleet_requests

            raise typer.Exit(show_fleet_requests(ctx, from_file, skip_invalid))
        raise typer.Exit(
            create_many(ctx, from_file, parallel or 8, policy, skip_invalid, skip_existing, keep_snapshot=keep_snapshot)
        )
    checks.needs(
        "--from FILE",
        False,
        ("--parallel", parallel),
        ("--skip-invalid", skip_invalid),
        ("--skip-existing", skip_existing),
    )
    if not volume_id:
        raise InputError("missing --volume-id", "give the disk to back up, or --from FILE")
    checks.refused_with(
        "--snapshot-id",
        snapshot_id,
        ("--keep-snapshot", keep_snapshot),
        why="vbs deletes only the snapshots it makes",
    )
    spec = backups.BackupSpec(volume_id, snapshot_id, name or backups.default_name(), description, force).checked()
    _, client = runtime.connect(ctx)
    st = runtime.state(ctx)
    fmt = runtime.output_format(ctx)
    if dry_run:
        from vbscli.cli.dry_run import render_requests, requests_for

        render_requests(requests_for(client, spec), fmt, st.env)
        return
    with options.spinner(st.env, f"disk {spec.volume_id}") as show:
        done = cycle.backup(client, spec, policy, keep_snapshot=keep_snapshot, notify=client.notify, on_status=show)
    backup = done.document["backup"]
    rows = detail_rows(backup) if done.result == "available" else created_rows(backup)
    render(Result(done.document, rows), fmt, st.env)


@app.command("show", cls=VbsCommand)
def backup_show(
    ctx: typer.Context,
    backup_id: Annotated[str, typer.Argument(metavar="ID", help="Backup ID.", show_default=False)],
) -> None:
    """Show one backup in detail"""
    from vbscli import backups, validate
    from vbscli.render import Result, render
    from vbscli.render_backup import detail_rows

    runtime.begin(ctx)
    validate.check_uuid(backup_id, "backup ID")
    _, client = runtime.connect(ctx)
    doc = backups.show(client, backup_id)
    render(Result(doc, detail_rows(doc["backup"])), runtime.output_format(ctx), runtime.state(ctx).env)


@app.command("list", cls=VbsCommand)
def backup_list(
    ctx: typer.Context,
    volume_id: Annotated[
        Optional[str],
        typer.Option("--volume-id", metavar="UUID", show_default=False, help="Only backups of this disk."),
    ] = None,
    status: Annotated[
        Optional[BackupStatus],
        typer.Option(
            "--status",
            metavar="STATUS",
            show_default=False,
            help=f"Only backups in this status: {', '.join(STATUSES[:-1])} or {STATUSES[-1]}.",
        ),
    ] = None,
    name: Annotated[
        Optional[str], typer.Option("--name", metavar="NAME", show_default=False, help="Only backups with this name.")
    ] = None,
    limit: Annotated[
        Optional[int],
        typer.Option(
            "--limit", metavar="N", min=1, show_default=False, help="At most this many (default: all, page by page)."
        ),
    ] = None,
) -> None:
    """List backups, newest first"""
    from vbscli import backups, validate
    from vbscli.render import Result, render

    runtime.begin(ctx)
    if volume_id is not None:
        validate.check_uuid(volume_id, "--volume-id")
    _, client = runtime.connect(ctx)
    doc = backups.list_backups(client, volume_id, status.value if status else None, name, limit)
    rows = [
        (b.get("id"), b.get("name"), b.get("status"), b.get("volume_id"), b.get("size"), b.get("created_at"))
        for b in doc["backups"]
    ]
    render(
        Result(doc, rows, columns=("ID", "Name", "Status", "Volume ID", "Size (GB)", "Created")),
        runtime.output_format(ctx),
        runtime.state(ctx).env,
    )

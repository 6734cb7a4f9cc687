"""`vbs backup ...`: the commands; the work is in vbscli.backups, the output in vbscli.render."""

from collections.abc import Iterator
from contextlib import contextmanager
from enum import Enum
from typing import Annotated, Any, Optional

import typer

from vbscli.cli import runtime
from vbscli.cli.globals import VbsCommand, VbsGroup


class BackupStatus(str, Enum):
    """The service's backup statuses (vbscli.backups.STATUSES)."""

    creating = "creating"
    available = "available"
    error = "error"
    restoring = "restoring"
    deleting = "deleting"
    error_restoring = "error_restoring"


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
    wait_timeout: Annotated[
        Optional[float],
        typer.Option(
            "--wait-timeout",
            metavar="SECONDS",
            min=1,
            show_default=False,
            help="With --wait: give up waiting after this long (default 3600).",
        ),
    ] = None,
    poll_interval: Annotated[
        Optional[float],
        typer.Option(
            "--poll-interval",
            metavar="SECONDS",
            min=1,
            show_default=False,
            help="With --wait: longest pause between status checks (default 30; they start at 2 s and grow).",
        ),
    ] = None,
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
    parallel: Annotated[
        Optional[int],
        typer.Option(
            "--parallel",
            metavar="N",
            min=1,
            max=64,
            show_default=False,
            help="With --from: requests in flight at most (default 8).",
        ),
    ] = None,
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

    runtime.begin(ctx)
    checks.needs(
        "--wait",
        wait,
        ("--wait-timeout", wait_timeout),
        ("--poll-interval", poll_interval),
        ("--keep-snapshot", keep_snapshot),
    )
    checks.refused_with("--dry-run", dry_run, ("--wait", wait), why="a dry run sends nothing, so there is no wait")
    policy = backups.WaitPolicy(timeout=wait_timeout or 3600.0, interval=poll_interval or 30.0) if wait else None
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
    with spinner(st.env, f"disk {spec.volume_id}") as show:
        done = cycle.backup(client, spec, policy, keep_snapshot=keep_snapshot, notify=client.notify, on_status=show)
    if done.result == "available":
        render(Result(done.document, detail_rows(done.document["backup"])), fmt, st.env)
        return
    backup = done.document["backup"]
    rows = [
        ("ID", backup["id"]),
        ("Name", "" if backup.get("name") is None else str(backup.get("name"))),
        ("Self link", backups.link(backup, "self") or ""),
        ("Bookmark link", backups.link(backup, "bookmark") or ""),
    ]
    render(Result(done.document, rows), fmt, st.env)


@contextmanager
def spinner(env: Any, subject: str) -> Iterator[Any]:
    """A status line on stderr while waiting, when a person is watching; yields on_status(subject, status, s)."""
    if not env.stderr_isatty:
        yield None
        return
    from rich.console import Console

    console = Console(file=env.stderr, no_color=env.no_color)
    with console.status(f"{subject}: starting") as status:

        def show(what: str, state: str, elapsed: float) -> None:
            status.update(f"{what}: {state} ({elapsed:.0f} s)")

        yield show


def detail_rows(backup: dict) -> list[tuple[str, str]]:
    """The fields of a backup's detail worth a line in a table, in a reading order."""
    from vbscli import backups

    fields = [
        ("ID", "id"),
        ("Name", "name"),
        ("Status", "status"),
        ("Fail reason", "fail_reason"),
        ("Volume ID", "volume_id"),
        ("Snapshot ID", "snapshot_id"),
        ("Size (GB)", "size"),
        ("Incremental", "is_incremental"),
        ("Description", "description"),
        ("Availability zone", "availability_zone"),
        ("Created", "created_at"),
        ("Updated", "updated_at"),
    ]
    rows = []
    for label, key in fields:
        value = backup.get(key)
        if value is None and key in ("fail_reason", "description"):
            continue
        rows.append((label, "" if value is None else str(value).lower() if isinstance(value, bool) else str(value)))
    for rel, label in (("self", "Self link"), ("bookmark", "Bookmark link")):
        href = backups.link(backup, rel)
        if href:
            rows.append((label, href))
    return rows


@app.command("show", cls=VbsCommand)
def backup_show(
    ctx: typer.Context,
    backup_id: Annotated[str, typer.Argument(metavar="ID", help="Backup ID.", show_default=False)],
) -> None:
    """Show one backup in detail"""
    from vbscli import backups, validate
    from vbscli.render import Result, render

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
            help="Only backups in this status: creating, available, error, restoring, deleting or error_restoring.",
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

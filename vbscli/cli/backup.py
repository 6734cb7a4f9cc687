"""`vbs backup ...`: the commands; the work is in vbscli.backups, the output in vbscli.render."""

from enum import Enum
from typing import Annotated, Optional

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
    help="Create, show and list volume backups",
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
            help="ID of the disk's snapshot to back up from (required unless --from).",
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
    dry_run: Annotated[
        bool,
        typer.Option("--dry-run", help="Validate and print the request without sending it."),
    ] = False,
    wait: Annotated[
        bool,
        typer.Option("--wait", help="Wait until the backup is available (exit 6 if it fails, 7 on timeout)."),
    ] = False,
    wait_timeout: Annotated[
        float,
        typer.Option("--wait-timeout", metavar="SECONDS", min=1, help="Give up waiting after this long."),
    ] = 3600.0,
    poll_interval: Annotated[
        float,
        typer.Option(
            "--poll-interval",
            metavar="SECONDS",
            min=1,
            help="Longest pause between status checks (they start at 2 s and grow).",
        ),
    ] = 30.0,
    from_file: Annotated[
        Optional[str],
        typer.Option(
            "--from",
            metavar="FILE",
            show_default=False,
            help="Back up every item of FILE ('-' for stdin): a YAML list, JSON lines or CSV of "
            "volume_id, snapshot_id, name, description, force.",
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
    """Create a backup of a disk from one of its snapshots (or of many, with --from)"""
    from vbscli import backups
    from vbscli.errors import InputError
    from vbscli.render import Result, render, render_request

    runtime.begin(ctx)
    if from_file is not None:
        given = [
            flag
            for flag, value in (
                ("--volume-id", volume_id),
                ("--snapshot-id", snapshot_id),
                ("--name", name),
                ("--description", description),
                ("--force", force),
                ("--dry-run", dry_run),
            )
            if value
        ]
        if given:
            raise InputError(
                f"--from cannot be combined with {', '.join(given)}", "put those values in the file's items"
            )
        from vbscli.cli.fleet import create_many

        policy = backups.WaitPolicy(timeout=wait_timeout, interval=poll_interval) if wait else None
        raise typer.Exit(create_many(ctx, from_file, parallel or 8, policy, skip_invalid, skip_existing))
    fleet_only = [
        flag
        for flag, value in (
            ("--parallel", parallel),
            ("--skip-invalid", skip_invalid),
            ("--skip-existing", skip_existing),
        )
        if value
    ]
    if fleet_only:
        raise InputError(f"{', '.join(fleet_only)} only applies with --from FILE")
    missing = [flag for flag, value in (("--volume-id", volume_id), ("--snapshot-id", snapshot_id)) if not value]
    if missing:
        raise InputError(f"missing {' and '.join(missing)}", "give the disk and snapshot IDs, or --from FILE")
    assert volume_id is not None and snapshot_id is not None
    if name is None:
        name = backups.default_name()
    spec = backups.BackupSpec(volume_id, snapshot_id, name, description, force).checked()
    _, client = runtime.connect(ctx, dry_run=dry_run)
    env = runtime.state(ctx).env
    fmt = runtime.output_format(ctx)
    if dry_run:
        render_request(client.sign(backups.create_call(client, spec)), fmt, env)
        return
    doc = backups.create(client, spec, notify=client.notify)
    backup = doc["backup"]
    if wait:
        policy = backups.WaitPolicy(timeout=wait_timeout, interval=poll_interval)
        detail = _wait(ctx, client, backup["id"], policy)
        render(Result(detail, detail_rows(detail["backup"])), fmt, env)
        return
    rows = [
        ("ID", backup["id"]),
        ("Name", "" if backup.get("name") is None else str(backup.get("name"))),
        ("Self link", backups.link(backup, "self") or ""),
        ("Bookmark link", backups.link(backup, "bookmark") or ""),
    ]
    render(Result(doc, rows), fmt, env)


def _wait(ctx: typer.Context, client: object, backup_id: str, policy: object) -> dict:
    """Poll with a spinner on stderr when a person is watching; Ctrl-C leaves the backup running."""
    from vbscli import backups
    from vbscli.errors import Interrupted

    env = runtime.state(ctx).env
    try:
        if not env.stderr_isatty:
            return backups.wait_available(client, backup_id, policy)  # type: ignore[arg-type]
        from rich.console import Console

        console = Console(file=env.stderr, no_color=env.no_color)
        with console.status(f"backup {backup_id}: creating") as spinner:

            def show(status: str, elapsed: float) -> None:
                spinner.update(f"backup {backup_id}: {status} ({elapsed:.0f} s)")

            return backups.wait_available(client, backup_id, policy, on_status=show)  # type: ignore[arg-type]
    except Interrupted:
        raise Interrupted(
            f"backup {backup_id} goes on in the service; check it with: vbs backup show {backup_id}"
        ) from None


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
        Optional[BackupStatus], typer.Option("--status", show_default=False, help="Only backups in this status.")
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

"""`vbs backup restore ID --volume-id TARGET`: the command; the work is in vbscli.restore."""

from __future__ import annotations

from typing import Annotated, Optional

import typer

from vbscli.cli import options, runtime
from vbscli.cli.confirm import Yes


def backup_restore(
    ctx: typer.Context,
    backup_id: Annotated[str, typer.Argument(metavar="ID", help="Backup to restore.", show_default=False)],
    volume_id: Annotated[
        Optional[str],
        typer.Option(
            "--volume-id",
            metavar="UUID",
            show_default=False,
            help="Disk to restore onto: everything on it is overwritten (VBS requires it).",
        ),
    ] = None,
    new_volume_name: Annotated[
        Optional[str],
        typer.Option(
            "--new-volume-name",
            metavar="NAME",
            show_default=False,
            help="Instead of --volume-id, on clouds that allow it (upstream OpenStack): restore into a new disk.",
        ),
    ] = None,
    yes: Yes = False,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Print the request without sending anything (not even a login).")
    ] = False,
    wait: Annotated[
        bool,
        typer.Option(
            "--wait", help="Wait until the disk is available again (exit 6 if the restore fails, 7 on timeout)."
        ),
    ] = False,
    wait_timeout: options.WaitTimeout = None,
    poll_interval: options.PollInterval = None,
) -> None:
    """Restore a backup onto a disk, overwriting it (asks first on a terminal; --yes otherwise)"""
    from vbscli import backups, preview, volumes
    from vbscli import restore as restoring
    from vbscli.cli import checks, confirm
    from vbscli.render import Result, render, render_request
    from vbscli.render_backup import detail_rows, volume_rows

    st = runtime.begin(ctx)
    spec = restoring.RestoreSpec(backup_id, volume_id, new_volume_name).checked()
    checks.needs("--wait", wait, ("--wait-timeout", wait_timeout), ("--poll-interval", poll_interval))
    checks.refused_with(
        "--dry-run",
        dry_run,
        ("--wait", wait),
        ("--yes", yes),
        why="a dry run sends nothing: there is nothing to confirm or wait for",
    )
    asking = not dry_run and confirm.must_ask(st.env, yes, "vbs backup restore")
    _, client = runtime.connect(ctx)
    fmt = runtime.output_format(ctx)
    if dry_run:
        render_request(preview.prepare(client, "POST", f"/backups/{spec.backup_id}/restore", spec.body()), fmt, st.env)
        return
    if asking:
        backup = backups.show(client, spec.backup_id)["backup"]
        lines = [
            f"vbs: backup {spec.backup_id} ({backup.get('name') or 'no name'}, disk {backup.get('volume_id')}, "
            f"made {backup.get('created_at')}, {backup.get('size')} GB, {backup.get('status')})"
        ]
        if spec.volume_id is not None:
            target = volumes.show(client, spec.volume_id)["volume"]
            lines.append(
                f"vbs: will overwrite disk {spec.volume_id} ({target.get('name') or 'no name'}, "
                f"{target.get('size')} GB, {target.get('status')}): everything on it is replaced"
            )
            question = f"Overwrite disk {spec.volume_id}?"
        else:
            lines.append(f"vbs: will restore it into a new disk named '{spec.new_volume_name}'")
            question = "Restore it?"
        confirm.ask(st.env, lines, question, "not confirmed: nothing restored")
    doc = restoring.restore(client, spec, client.notify)
    answer = doc["restore"]
    policy = options.wait_policy(wait, wait_timeout, poll_interval)
    if policy is not None:
        with options.watching(st.env, f"restore of backup {spec.backup_id}") as on_status:
            result = restoring.wait_restored(client, spec.backup_id, answer.get("volume_id"), policy, on_status)
        rows = volume_rows(result["volume"]) if "volume" in result else detail_rows(result["backup"])
        render(Result(result, rows), fmt, st.env)
        return
    rows = [("Backup ID", answer.get("backup_id")), ("Volume ID", answer.get("volume_id"))]
    rows.append(("Volume name", answer.get("volume_name") or ""))
    render(Result(doc, rows), fmt, st.env)

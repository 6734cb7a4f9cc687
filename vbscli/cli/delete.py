"""`vbs backup delete ID [ID ...]`: the command; the work is in vbscli.deletion."""

from __future__ import annotations

from typing import Annotated, Optional

import typer

from vbscli.cli import options, runtime
from vbscli.cli.confirm import Yes


def backup_delete(
    ctx: typer.Context,
    backup_ids: Annotated[list[str], typer.Argument(metavar="ID...", help="Backups to delete.", show_default=False)],
    yes: Yes = False,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Print the requests without sending anything (not even a login).")
    ] = False,
    wait: Annotated[
        bool, typer.Option("--wait", help="Wait until each backup is gone (exit 6 if one stays, 7 on timeout).")
    ] = False,
    wait_timeout: options.WaitTimeout = None,
    poll_interval: options.PollInterval = None,
    parallel: Annotated[Optional[int], options.parallel("Deletions in flight at most (default 8).")] = None,
) -> None:
    """Delete backups (asks first on a terminal; --yes otherwise)"""
    from vbscli import backups, deletion, preview, validate
    from vbscli.cli import checks, confirm
    from vbscli.render import Result, render
    from vbscli.render_backup import error_text

    st = runtime.begin(ctx)
    ids = list(dict.fromkeys(backup_ids))
    for backup_id in ids:
        validate.check_uuid(backup_id, "backup ID")
    checks.needs("--wait", wait, ("--wait-timeout", wait_timeout), ("--poll-interval", poll_interval))
    checks.refused_with(
        "--dry-run",
        dry_run,
        ("--wait", wait),
        ("--yes", yes),
        ("--parallel", parallel),
        why="a dry run sends nothing: there is nothing to confirm, run or wait for",
    )
    asking = not dry_run and confirm.must_ask(st.env, yes, "vbs backup delete")
    _, client = runtime.connect(ctx)
    client.pool_size = max(client.pool_size, parallel or 8)
    fmt = runtime.output_format(ctx)
    if dry_run:
        from vbscli.cli.dry_run import render_requests

        render_requests([preview.prepare(client, "DELETE", f"/backups/{i}") for i in ids], fmt, st.env)
        return
    if asking:
        from vbscli.errors import ServiceError

        lines = [f"vbs: about to delete {len(ids)} backup{'s' if len(ids) > 1 else ''}:"]
        missing = 0
        for backup_id in ids:
            try:
                backup = backups.show(client, backup_id)["backup"]
            except ServiceError as exc:
                if exc.status != 404:
                    raise
                missing += 1  # as with --yes: the others are deleted, this one is reported as failed
                lines.append(f"  {backup_id}  not found")
                continue
            lines.append(
                f"  {backup_id}  {backup.get('name') or '(no name)'}  disk {backup.get('volume_id')}  "
                f"{backup.get('status')}  made {backup.get('created_at')}"
            )
        if missing < len(ids):
            question = "Delete them?" if len(ids) - missing > 1 else "Delete it?"
            confirm.ask(st.env, lines, question, "not confirmed: nothing deleted")
    policy = options.wait_policy(wait, wait_timeout, poll_interval)
    if len(ids) == 1:  # one backup: its failure is the command's, with the usual message and exit code
        deletion.delete(client, ids[0], client.notify)
        outcomes = [deletion.Outcome(ids[0], "deleting")]
        if policy is not None:
            with options.watching(st.env, f"backup {ids[0]}") as on_status:
                deletion.wait_gone(client, ids[0], policy, on_status=on_status)
            outcomes = [deletion.Outcome(ids[0], "deleted")]
    else:

        def failed(outcome: deletion.Outcome) -> None:
            if outcome.result == "failed" and outcome.error:
                st.env.error_line(f"backup {outcome.id}: {error_text(outcome.error)}")

        outcomes = deletion.delete_many(client, ids, parallel or 8, wait=policy, notify=client.notify, on_done=failed)
    doc = {"deletions": [o.as_dict() for o in outcomes]}
    rows = [(o.id, o.result, error_text(o.error) if o.error else "") for o in outcomes]
    render(Result(doc, rows, columns=("Backup ID", "Result", "Error")), fmt, st.env)
    bad = sum(1 for o in outcomes if o.result == "failed")
    if bad:
        st.env.stderr.write(f"vbs: {bad} of {len(outcomes)} failed\n")
        st.env.stderr.flush()
    raise typer.Exit(deletion.exit_code(outcomes))

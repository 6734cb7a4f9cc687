"""`vbs backup prune`: the command; the plan is vbscli.retention's, the reading and deleting vbscli.prune's."""

from __future__ import annotations

import json
import re
from typing import Annotated, Any, Optional

import typer

from vbscli.cli import options, runtime
from vbscli.cli.confirm import Yes

PREFIX = re.compile(r"[A-Za-z0-9_-]{1,64}")


def _keep(flag: str, what: str) -> Any:
    return typer.Option(flag, metavar="N", min=1, show_default=False, help=what)


def backup_prune(
    ctx: typer.Context,
    volume_ids: Annotated[
        Optional[list[str]],
        typer.Option("--volume-id", metavar="UUID", show_default=False, help="A disk to prune (repeatable)."),
    ] = None,
    every_disk: Annotated[bool, typer.Option("--all", help="Prune every disk that has backups.")] = False,
    from_file: Annotated[
        Optional[str],
        typer.Option(
            "--from", metavar="FILE", show_default=False, help="Prune the disks of a fleet file ('-' for stdin)."
        ),
    ] = None,
    keep_last: Annotated[Optional[int], _keep("--keep-last", "Keep the N newest backups.")] = None,
    keep_daily: Annotated[
        Optional[int], _keep("--keep-daily", "Keep the newest backup of each of the last N days.")
    ] = None,
    keep_weekly: Annotated[
        Optional[int], _keep("--keep-weekly", "Keep the newest backup of each of the last N weeks.")
    ] = None,
    keep_monthly: Annotated[
        Optional[int], _keep("--keep-monthly", "Keep the newest backup of each of the last N months.")
    ] = None,
    keep_within: Annotated[
        Optional[str],
        typer.Option(
            "--keep-within",
            metavar="DURATION",
            show_default=False,
            help="Keep every backup made within DURATION of the disk's newest one, e.g. 36h, 14d, 2w.",
        ),
    ] = None,
    name_prefix: Annotated[
        Optional[str],
        typer.Option(
            "--name-prefix",
            metavar="PREFIX",
            show_default=False,
            help="Only backups whose name starts with PREFIX (others are left alone).",
        ),
    ] = None,
    plan_only: Annotated[
        bool, typer.Option("--plan", help="Read the backups and print the plan; delete nothing.")
    ] = False,
    dry_run: Annotated[
        bool,
        typer.Option(
            "--dry-run",
            help="Send nothing at all (not even a login): print the plan for --backups FILE, "
            "or the requests prune would start with.",
        ),
    ] = False,
    backups_file: Annotated[
        Optional[str],
        typer.Option(
            "--backups",
            metavar="FILE",
            show_default=False,
            help="With --dry-run: plan over this listing ('vbs backup list -o json' output; '-' for stdin).",
        ),
    ] = None,
    yes: Yes = False,
    parallel: Annotated[Optional[int], options.parallel("Deletions in flight at most (default 8).")] = None,
) -> None:
    """Delete old backups by a retention policy, per disk (asks first on a terminal; --yes otherwise)"""
    from datetime import datetime, timedelta, timezone

    from vbscli import prune, render_prune, retention, validate
    from vbscli.cli import checks, confirm
    from vbscli.errors import InputError

    st = runtime.begin(ctx)
    chosen = [
        flag for flag, value in (("--volume-id", volume_ids), ("--all", every_disk), ("--from", from_file)) if value
    ]
    if len(chosen) != 1:
        raise InputError(
            "choose the disks with one of --volume-id (repeatable), --all or --from FILE"
            + (f", not {' and '.join(chosen)}" if chosen else ""),
        )
    policy = retention.Policy(
        last=keep_last or 0,
        daily=keep_daily or 0,
        weekly=keep_weekly or 0,
        monthly=keep_monthly or 0,
        within=timedelta(seconds=validate.parse_duration(keep_within, "--keep-within")) if keep_within else None,
        within_text=keep_within.strip() if keep_within else None,
    )
    if not policy:
        raise InputError(
            "a retention policy is required",
            "give at least one of --keep-last, --keep-daily, --keep-weekly, --keep-monthly, --keep-within",
        )
    if name_prefix is not None and not PREFIX.fullmatch(name_prefix):
        raise InputError(
            f"invalid --name-prefix {name_prefix[:80]!r}",
            "backup names are letters, digits, '_' and '-', so a prefix is too (1-64 of them)",
        )
    for volume_id in volume_ids or []:
        validate.check_uuid(volume_id, "--volume-id")
    checks.needs("--dry-run", dry_run, ("--backups", backups_file))
    checks.refused_with(
        "--dry-run",
        dry_run,
        ("--plan", plan_only),
        ("--yes", yes),
        ("--parallel", parallel),
        why="a dry run sends nothing: there is nothing to read, confirm or run",
    )
    checks.refused_with("--plan", plan_only, ("--yes", yes), ("--parallel", parallel), why="--plan deletes nothing")
    disks = _disks(volume_ids, from_file, st.env)
    fmt = runtime.output_format(ctx)
    if dry_run:
        if backups_file is None:
            raise typer.Exit(_show_first_requests(ctx, disks, fmt))
        listing = _listing(backups_file)
        if disks is not None:
            wanted = {d.lower() for d in disks}
            listing = [b for b in listing if str(b.get("volume_id", "")).lower() in wanted]
        report = prune.entries(retention.plan(listing, policy, name_prefix), [])
        render_prune.show(report, fmt, st.env, done=False, note="dry run: nothing was sent")
        return
    asking = not plan_only and confirm.must_ask(st.env, yes, "vbs backup prune")
    _, client = runtime.connect(ctx)
    width = parallel or 8
    client.pool_size = max(client.pool_size, width)
    found, made = prune.read(client, disks, width)
    now = client.server_now() or datetime.now(timezone.utc)
    report = prune.entries(
        retention.plan(found, policy, name_prefix), prune.snapshot_plan(made, found, now, name_prefix)
    )
    doomed = [e for e in report if e.action == "delete"]
    if plan_only:
        render_prune.show(report, fmt, st.env, done=False, note="--plan: nothing was deleted")
        return
    if asking and doomed:
        confirm.ask(st.env, render_prune.before_asking(doomed), "Delete them?", "not confirmed: nothing deleted")

    def failed(entry: prune.Entry) -> None:
        if entry.outcome == "failed" and entry.error:
            st.env.error_line(render_prune.failure(entry))

    prune.execute(client, report, width, notify=client.notify, on_done=failed)
    render_prune.show(report, fmt, st.env, done=True)
    raise typer.Exit(_exit_code(report))


def _disks(volume_ids: list[str] | None, from_file: str | None, env: Any) -> list[str] | None:
    """The disks chosen, or None for every disk (--all). A fleet file is read as `backup report --from`
    reads it: only volume_id counts; two items of one disk prune it once."""
    if volume_ids:
        return list(dict.fromkeys(v.lower() for v in volume_ids))
    if from_file is None:
        return None
    from vbscli.cli import sources

    return sources.fleet_disks(from_file, env)


def _listing(source: str) -> list[dict[str, Any]]:
    """The backups of a `vbs backup list -o json` document (or a plain list of backup objects)."""
    from vbscli.cli import sources
    from vbscli.errors import InputError

    text, name = sources.read(source, "--backups")
    try:
        doc = json.loads(text)
    except ValueError as exc:
        raise InputError(f"--backups {name} is not JSON ({exc})", "save it with: vbs backup list -o json") from None
    items = doc.get("backups") if isinstance(doc, dict) else doc
    if not isinstance(items, list) or not all(isinstance(i, dict) and "id" in i for i in items):
        raise InputError(f"--backups {name} holds no list of backups", "save it with: vbs backup list -o json > FILE")
    return items


def _show_first_requests(ctx: typer.Context, disks: list[str] | None, fmt: str) -> int:
    """--dry-run without a listing: the reads prune starts with (what it deletes depends on their answers)."""
    from vbscli import backups, preview, snapshots
    from vbscli.render import render_request_lines

    st = runtime.state(ctx)
    _, client = runtime.connect(ctx)
    calls = []
    for disk in disks if disks is not None else [None]:
        extra = {"volume_id": disk} if disk else {}
        params = {"volume_id": disk, "limit": backups.LIST_PAGE}
        calls.append((extra, preview.prepare(client, "GET", "/backups/detail", params=params)))
        calls.append(
            (extra, preview.prepare(client, "GET", "/snapshots/detail", params={**params, "limit": snapshots.PAGE}))
        )
    render_request_lines(calls, fmt, st.env)
    st.env.stderr.write(
        "vbs: dry run: nothing was sent, not even a login; prune starts with these reads (following next links), "
        "then deletes what the plan says\n"
        "vbs: to see the plan: --plan instead of --dry-run (reads the backups, deletes nothing), or "
        "--dry-run --backups FILE with the output of 'vbs backup list -o json'\n"
    )
    st.env.stderr.flush()
    return 0


def _exit_code(report: list[Any]) -> int:
    """vbscli.exit_codes.of_items over the deletions the plan made."""
    from vbscli.exit_codes import of_items

    doomed = [e for e in report if e.action == "delete"]
    return of_items([e.exit_code for e in doomed if e.outcome == "failed"], len(doomed))

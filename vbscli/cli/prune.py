"""`vbs backup prune`: the command; the plan is vbscli.retention's, the reading and deleting vbscli.prune's."""

from __future__ import annotations

import json
import re
from typing import Annotated, Any, Optional

import typer

from vbscli.cli import runtime
from vbscli.cli.confirm import Yes

PREFIX = re.compile(r"[A-Za-z0-9_-]{1,64}")
SHOWN_BEFORE_ASKING = 20


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
    parallel: Annotated[
        Optional[int],
        typer.Option(
            "--parallel",
            metavar="N",
            min=1,
            max=64,
            show_default=False,
            help="Deletions in flight at most (default 8).",
        ),
    ] = None,
) -> None:
    """Delete old backups by a retention policy, per disk (asks first on a terminal; --yes otherwise)"""
    from datetime import datetime, timedelta, timezone

    from vbscli import prune, retention, validate
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
        _render(report, fmt, st.env, done=False)
        _summary(st.env, report, done=False, note="dry run: nothing was sent")
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
        _render(report, fmt, st.env, done=False)
        _summary(st.env, report, done=False, note="--plan: nothing was deleted")
        return
    if asking and doomed:
        lines = [f"vbs: prune will delete {_counted(doomed)}:"]
        for entry in doomed[:SHOWN_BEFORE_ASKING]:
            item = entry.item
            lines.append(
                f"  {entry.type} {entry.id}  {item.get('name') or '(no name)'}  disk {item.get('volume_id')}  "
                f"made {item.get('created_at')}: {'; '.join(entry.reasons)}"
            )
        if len(doomed) > SHOWN_BEFORE_ASKING:
            lines.append(f"  ... and {len(doomed) - SHOWN_BEFORE_ASKING} more (see them all with --plan)")
        confirm.ask(st.env, lines, "Delete them?", "not confirmed: nothing deleted")

    def failed(entry: prune.Entry) -> None:
        if entry.outcome == "failed" and entry.error:
            from vbscli.cli.delete import error_text

            st.env.error_line(f"{entry.type} {entry.id}: {error_text(entry.error)}")

    prune.execute(client, report, width, notify=client.notify, on_done=failed)
    _render(report, fmt, st.env, done=True)
    _summary(st.env, report, done=True)
    raise typer.Exit(_exit_code(report))


def _disks(volume_ids: list[str] | None, from_file: str | None, env: Any) -> list[str] | None:
    """The disks chosen, or None for every disk (--all). A fleet file is read as `backup report --from`
    reads it (batch.volume_ids): only volume_id counts; two items of one disk prune it once."""
    if volume_ids:
        return list(dict.fromkeys(v.lower() for v in volume_ids))
    if from_file is None:
        return None
    from vbscli import batch
    from vbscli.cli.dry_run import read_source
    from vbscli.errors import InputError

    text, name = read_source(from_file)
    ids, problems = batch.volume_ids(text, name)
    for problem in problems:
        env.warn(f"invalid item: {problem}")
    if problems:
        raise InputError(f"{len(problems)} items in {name} are invalid; nothing was sent", "fix them and run again")
    return list(dict.fromkeys(ids))


def _listing(source: str) -> list[dict[str, Any]]:
    """The backups of a `vbs backup list -o json` document (or a plain list of backup objects)."""
    from vbscli.cli.dry_run import read_source
    from vbscli.errors import InputError

    text, name = read_source(source, "--backups")
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


def _counted(entries: list[Any]) -> str:
    backups = sum(1 for e in entries if e.type == "backup")
    snaps = len(entries) - backups
    parts = [f"{backups} backup{'s' if backups != 1 else ''}"]
    if snaps:
        parts.append(f"{snaps} snapshot{'s' if snaps != 1 else ''}")
    return " and ".join(parts)


def _render(report: list[Any], fmt: str, env: Any, done: bool) -> None:
    """JSON: {"prune": [...]}, every backup and snapshot with its decision and outcome. A table: the plan,
    then the backups in error apart, then the snapshots vbs made."""
    from vbscli.render import Column, Result, render

    doc = {"prune": [e.as_dict() for e in report]}
    if fmt != "table":  # JSON or values: the whole document, once
        render(Result(doc, []), fmt, env)
        return
    # On a narrow terminal the disk and the dates give way first; what happens to which backup, and why, stays.
    columns = (Column("Volume ID", keep=False), Column("ID", keep=True), "Name", "Created", "Status")
    columns += (Column("Action", keep=True), Column("Why", keep=True))
    columns += (Column("Outcome", keep=True),) if done else ()

    def row(entry: Any) -> tuple[str, ...]:
        item = entry.item
        cells = [item.get("volume_id"), entry.id, item.get("name"), item.get("created_at"), item.get("status")]
        cells += [entry.action, "; ".join(entry.reasons)]
        if done:
            outcome = entry.outcome or ""
            if entry.error:
                from vbscli.cli.delete import error_text

                outcome += f": {error_text(entry.error)}"
            cells.append(outcome)
        return tuple("" if c is None else str(c) for c in cells)

    groups = (
        ("Backups", [e for e in report if e.type == "backup" and e.item.get("status") != "error"]),
        (
            "Backups in error (deleted: they restore nothing and hold quota)",
            [e for e in report if e.type == "backup" and e.item.get("status") == "error"],
        ),
        ("Snapshots made by vbs", [e for e in report if e.type == "snapshot"]),
    )
    for title, entries in groups:
        if entries or title == "Backups":
            render(Result(doc, [row(e) for e in entries], columns=columns, title=title), fmt, env)


def _summary(env: Any, report: list[Any], done: bool, note: str | None = None) -> None:
    """One line for the plan or the outcome; one more when an incremental chain holds backups back."""
    doomed = [e for e in report if e.action == "delete"]
    kept = _counted([e for e in report if e.type == "backup" and e.action == "keep"])
    disks = len({e.item.get("volume_id") for e in report if e.type == "backup"})
    if not done:
        text = f"plan for {disks} disk{'s' if disks != 1 else ''}: " + (
            f"delete {_counted(doomed)}, keep {kept}" if doomed else f"nothing to delete, keep {kept}"
        )
    elif not doomed:
        text = f"nothing to delete; kept {kept}"
    else:
        failed = sum(1 for e in doomed if e.outcome == "failed")
        text = f"{failed} of {len(doomed)} failed" if failed else f"deleted {_counted(doomed)}"
        text += f"; kept {kept}"
    lines = [f"vbs: {text}" + (f" ({note})" if note else "")]
    chained = sum(1 for e in report if e.type == "backup" and e.chained)
    if chained:
        lines.append(
            f"vbs: {chained} backup{'s' if chained != 1 else ''} kept only because newer incremental backups "
            f"depend on {'them' if chained != 1 else 'it'}: {'they go' if chained != 1 else 'it goes'} once those "
            "do; a full backup starts a new chain (vbs never asks for incremental ones)"
        )
    env.stderr.write("".join(line + "\n" for line in lines))
    env.stderr.flush()


def _exit_code(report: list[Any]) -> int:
    from vbscli.exit_codes import ExitCode

    failed = [e for e in report if e.outcome == "failed"]
    if not failed:
        return ExitCode.OK
    doomed = [e for e in report if e.action == "delete"]
    codes = {e.exit_code for e in failed}
    if len(failed) == len(doomed) and len(codes) == 1 and codes <= {3, 4, 5}:
        return codes.pop()
    return ExitCode.REJECTED

"""Prune as people and programs see it: the plan or its outcome (a table of the backups, those in error
apart, and the snapshots vbs made; or the whole document), the summary on stderr, and what is shown
before asking.

Part of the rendering layer: the plan is vbscli.retention's, the entries vbscli.prune's.
"""

from __future__ import annotations

from typing import Any

from vbscli.environment import Environment
from vbscli.render_backup import error_text

SHOWN_BEFORE_ASKING = 20


def show(report: list[Any], fmt: str, env: Environment, done: bool, note: str | None = None) -> None:
    """The plan (`done` False) or what became of it, then its summary on stderr."""
    _table(report, fmt, env, done)
    _summary(env, report, done, note)


def before_asking(doomed: list[Any]) -> list[str]:
    """What a person is shown before being asked to confirm: what will go and why (the first ones)."""
    lines = [f"vbs: prune will delete {counted(doomed)}:"]
    for entry in doomed[:SHOWN_BEFORE_ASKING]:
        item = entry.item
        lines.append(
            f"  {entry.type} {entry.id}  {item.get('name') or '(no name)'}  disk {item.get('volume_id')}  "
            f"made {item.get('created_at')}: {'; '.join(entry.reasons)}"
        )
    if len(doomed) > SHOWN_BEFORE_ASKING:
        lines.append(f"  ... and {len(doomed) - SHOWN_BEFORE_ASKING} more (see them all with --plan)")
    return lines


def failure(entry: Any) -> str:
    """The error line of a deletion that failed, said as it happens."""
    return f"{entry.type} {entry.id}: {error_text(entry.error)}"


def counted(entries: list[Any]) -> str:
    backups = sum(1 for e in entries if e.type == "backup")
    snaps = len(entries) - backups
    parts = [f"{backups} backup{'s' if backups != 1 else ''}"]
    if snaps:
        parts.append(f"{snaps} snapshot{'s' if snaps != 1 else ''}")
    return " and ".join(parts)


def _table(report: list[Any], fmt: str, env: Any, done: bool) -> None:
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
    kept = counted([e for e in report if e.type == "backup" and e.action == "keep"])
    disks = len({e.item.get("volume_id") for e in report if e.type == "backup"})
    if not done:
        text = f"plan for {disks} disk{'s' if disks != 1 else ''}: " + (
            f"delete {counted(doomed)}, keep {kept}" if doomed else f"nothing to delete, keep {kept}"
        )
    elif not doomed:
        text = f"nothing to delete; kept {kept}"
    else:
        failed = sum(1 for e in doomed if e.outcome == "failed")
        text = f"{failed} of {len(doomed)} failed" if failed else f"deleted {counted(doomed)}"
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

"""What --dry-run prints: every request a command would send, built without sending anything (no login)."""

from __future__ import annotations

import sys
from dataclasses import replace
from pathlib import Path
from typing import Any

import typer

from vbscli.cli import runtime

FRESH_SNAPSHOT = "<id of the fresh snapshot>"


def requests_for(client: Any, spec: Any) -> list[Any]:
    """The create requests for one backup: the snapshot first when none is given, then the backup."""
    from vbscli import preview, snapshots

    if spec.snapshot_id is not None:
        return [preview.prepare(client, "POST", "/backups", spec.body())]
    snapshot = snapshots.SnapshotSpec(spec.volume_id, spec.name, spec.force)
    return [
        preview.prepare(client, "POST", "/snapshots", snapshot.body()),
        preview.prepare(client, "POST", "/backups", replace(spec, snapshot_id=FRESH_SNAPSHOT).body()),
    ]


def render_requests(calls: list[Any], fmt: str, env: Any) -> None:
    from vbscli.render import render_request

    for call in calls:
        render_request(call, fmt, env)


def read_source(source: str, option: str = "--from") -> tuple[str, str]:
    """(text, name for messages) of a file, or of stdin for '-'."""
    from vbscli.errors import InputError

    try:
        text = sys.stdin.read() if source == "-" else Path(source).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"cannot read {option} {source}: {getattr(exc, 'strerror', None) or exc}") from None
    return text, "stdin" if source == "-" else source


def show_fleet_requests(ctx: typer.Context, source: str, skip_invalid: bool) -> int:
    """`create --from FILE --dry-run`: check every item, then print each request it would send."""
    from vbscli import batch
    from vbscli.errors import InputError
    from vbscli.render import render_request_lines

    st = runtime.state(ctx)
    text, name = read_source(source)
    items = batch.parse(text, name)
    invalid = [item for item in items if item.spec is None]
    for item in invalid:
        st.env.warn(f"invalid item: {item.problem}")
    if invalid and not skip_invalid:
        raise InputError(
            f"{len(invalid)} of {len(items)} items in {name} are invalid; nothing was sent",
            "fix them, or pass --skip-invalid to see the requests for the others",
        )
    _, client = runtime.connect(ctx)
    calls = [({"line": item.line}, call) for item in items if item.spec for call in requests_for(client, item.spec)]
    render_request_lines(calls, runtime.output_format(ctx), st.env)
    valid = len(items) - len(invalid)
    st.env.stderr.write(
        f"vbs: dry run: {len(calls)} requests for {valid} items"
        + (f" ({len(invalid)} invalid)" if invalid else "")
        + "; nothing was sent\n"
    )
    st.env.stderr.flush()
    return 2 if invalid else 0

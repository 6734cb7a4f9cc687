"""What --dry-run prints: every request a command would send, built without sending anything (no login)."""

from __future__ import annotations

from dataclasses import replace
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


def show_fleet_requests(ctx: typer.Context, source: str, skip_invalid: bool) -> int:
    """`create --from FILE --dry-run`: check every item, then print each request it would send."""
    from vbscli.cli import sources
    from vbscli.render import render_request_lines

    st = runtime.state(ctx)
    items = sources.fleet_items(source, st.env, skip_invalid, "see the requests for the others")
    invalid = [item for item in items if item.spec is None]
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

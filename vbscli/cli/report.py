"""`vbs backup report`: does every disk have a recent backup? A picture, an exit code, metrics.

The reads are in vbscli.history, the facts in vbscli.report, the picture in vbscli.render_report
and the metrics file in vbscli.prometheus; this module parses, calls and hands over.
"""

from __future__ import annotations

from typing import Annotated, Any, Optional

import typer

from vbscli.cli import options, runtime

DEFAULT_DAYS = 14
DEFAULT_PARALLEL = 8


def backup_report(
    ctx: typer.Context,
    all_disks: Annotated[
        bool,
        typer.Option("--all", help="Every disk that has backups in the project (the default)."),
    ] = False,
    volume_ids: Annotated[
        Optional[list[str]],
        typer.Option(
            "--volume-id",
            metavar="UUID",
            show_default=False,
            help="Report this disk (repeatable); a disk without backups is reported as never backed up.",
        ),
    ] = None,
    from_file: Annotated[
        Optional[str],
        typer.Option(
            "--from",
            metavar="FILE",
            show_default=False,
            help="Report the disks of FILE ('-' for stdin), a fleet file as for 'create --from' "
            "(only volume_id is used).",
        ),
    ] = None,
    days: Annotated[
        int,
        typer.Option("--days", metavar="N", min=1, max=366, help="Days in the strip, today included."),
    ] = DEFAULT_DAYS,
    local: Annotated[
        bool,
        typer.Option("--local", help="Cut days at midnight in this machine's time zone (default: UTC)."),
    ] = False,
    max_age: Annotated[
        Optional[str],
        typer.Option(
            "--max-age",
            metavar="DURATION",
            show_default=False,
            help="Exit 1, naming each disk on stderr, if a disk has no available backup younger than "
            "this (e.g. 26h, 90m, 2d).",
        ),
    ] = None,
    prometheus_file: Annotated[
        Optional[str],
        typer.Option(
            "--prometheus",
            metavar="FILE",
            show_default=False,
            help="Also write the report as Prometheus metrics to FILE, atomically (for node_exporter's "
            "textfile collector).",
        ),
    ] = None,
    parallel: Annotated[int, options.parallel("Listings in flight at most (default 8).")] = DEFAULT_PARALLEL,
) -> None:
    """Show whether every disk has a recent backup: day strips, ages, counts and sizes"""
    import time
    from datetime import timezone

    from vbscli import history, prometheus, render_report, report, validate
    from vbscli.errors import InputError, VbsError
    from vbscli.exit_codes import ExitCode
    from vbscli.render import render

    st = runtime.begin(ctx)
    env = st.env
    target = prometheus.check_target(prometheus_file) if prometheus_file is not None else None
    try:
        if all_disks and (volume_ids or from_file is not None):
            raise InputError("--all cannot be combined with --volume-id or --from", "give either, not both")
        wanted = _named_disks(volume_ids or [], from_file, env)
        limit = validate.parse_duration(max_age, "--max-age") if max_age is not None else None
        _, client = runtime.connect(ctx)
        client.pool_size = parallel + 1
        found = history.read(
            client,
            wanted,
            parallel,
            on_names_problem=lambda exc: env.warn(f"disk names could not be read, showing IDs: {exc.one_line()}"),
        )
    except VbsError:
        if target is not None:
            prometheus.write_atomically(
                target, prometheus.exposition(None, time.time(), prometheus.report_label(target))
            )
        raise
    made = report.build(found.backups, found.now(), days, None if local else timezone.utc, wanted, found.names, limit)
    if target is not None:
        prometheus.write_atomically(target, prometheus.exposition(made, time.time(), prometheus.report_label(target)))
    render(render_report.result(made), runtime.output_format(ctx), env)
    if limit is None:
        return
    lines = render_report.check_lines(made, max_age or "", named=wanted is not None)
    for line in lines:
        env.stderr.write(f"vbs: {line}\n")
    env.stderr.flush()
    if lines:
        raise typer.Exit(ExitCode.REJECTED)


def _named_disks(volume_ids: list[str], from_file: str | None, env: Any) -> list[str] | None:
    """The disks the user named (in order, once each), or None for every disk with backups."""
    from vbscli import validate
    from vbscli.cli import sources

    if not volume_ids and from_file is None:
        return None
    wanted = [validate.check_uuid(v, "--volume-id").lower() for v in volume_ids]
    if from_file is not None:
        wanted += sources.fleet_disks(from_file, env)
    return list(dict.fromkeys(wanted))

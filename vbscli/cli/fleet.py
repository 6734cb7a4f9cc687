"""`vbs backup create --from FILE`: many backups in one run, with progress and a per-item report."""

import json
import threading
from typing import Any

import typer

from vbscli.cli import runtime


def create_many(
    ctx: typer.Context,
    source: str,
    parallel: int,
    wait: Any,
    skip_invalid: bool,
    skip_existing: bool,
    keep_snapshot: bool = False,
) -> int:
    """Check every item, then create them; returns the run's exit code."""
    from vbscli import batch
    from vbscli.cli import sources
    from vbscli.exit_codes import ExitCode

    st = runtime.state(ctx)
    env = st.env
    items = sources.fleet_items(source, env, skip_invalid, "create the others")
    _, client = runtime.connect(ctx)
    client.pool_size = parallel
    fmt = runtime.output_format(ctx)
    lock = threading.Lock()
    progress = _Progress(env, len(items)) if env.stderr_isatty else None
    stop = threading.Event()
    closed: list[Any] = []  # the outcomes that could not be printed once stdout was closed

    def on_outcome(outcome: Any) -> None:
        with lock:
            if fmt == "json":
                if closed:
                    closed.append(outcome)
                else:
                    try:
                        env.stdout.write(json.dumps(outcome.as_dict(), ensure_ascii=False) + "\n")
                        env.stdout.flush()
                    except BrokenPipeError:
                        # The reader went away (`| head`): stop sending, and say so on stderr.
                        env.silence_stdout()
                        stop.set()
                        closed.append(outcome)
            if progress:
                progress.advance(outcome.result in ("failed", "invalid"))

    from vbscli.batch import FleetInterrupted
    from vbscli.errors import Interrupted

    try:
        if progress:
            progress.start()
        outcomes = batch.run(
            client,
            items,
            parallel,
            wait,
            skip_existing,
            on_outcome,
            on_start=(lambda item: _locked(lock, progress.begin_one)) if progress else None,
            keep_snapshot=keep_snapshot,
            stop=stop,
        )
    except FleetInterrupted as interrupted:
        lock.acquire(timeout=1)  # a JSON line being written is finished first; none is written after
        raise Interrupted(_interrupted_note(interrupted, len(items))) from None
    finally:
        if progress:
            progress.stop()
    if fmt != "json":
        _table(outcomes, env, fmt)
    failed = sum(1 for o in outcomes if o.result in ("failed", "invalid"))
    skipped = sum(1 for o in outcomes if o.result == "skipped")
    if closed:
        env.stderr.write(f"vbs: {_closed_summary(outcomes, closed)}\n")
        env.stderr.flush()
        return ExitCode.OUTPUT_CLOSED
    summary = f"{failed} of {len(outcomes)} failed" if failed else f"all {len(outcomes)} done"
    if skipped:
        summary += f" ({skipped} skipped: a backup of that name exists)"
    env.stderr.write(f"vbs: {summary}\n")
    env.stderr.flush()
    return batch.exit_code(outcomes)


def _closed_summary(outcomes: list[Any], unprinted: list[Any]) -> str:
    """What a run stopped by a closed output did and did not do, for stderr."""
    not_sent = [o.item.line for o in outcomes if o.result == "not_sent"]
    done = len(outcomes) - len(not_sent)
    failed = sum(1 for o in outcomes if o.result in ("failed", "invalid"))
    text = f"output closed (broken pipe): stopped sending; {done} of {len(outcomes)} items done ({failed} failed)"
    lost = [
        f"line {o.item.line} {o.result}" + (f" backup {o.document['backup']['id']}" if o.document else "")
        for o in unprinted
    ]
    if lost:
        text += f"; not printed: {', '.join(lost)}"
    if not_sent:
        text += f"; not sent: {_lines(not_sent)}"
    return text


def _interrupted_note(interrupted: Any, total: int) -> str:
    """Ctrl-C during a run: which items were created (IDs), which may or may not have been, how many not sent."""
    ledger = interrupted.ledger
    created = sorted(ledger.created.items())
    maybe = sorted((line, item) for line, item in ledger.sending.items() if line not in ledger.created)
    started = set(ledger.finished) | set(ledger.sending) | set(ledger.created)
    not_sent = [item.line for item in interrupted.items if item.line not in started]
    parts = []
    if created:
        parts.append("created: " + ", ".join(f"line {line} backup {backup_id}" for line, (_, backup_id) in created))
    if maybe:
        parts.append(
            "may or may not have been created (no answer yet; check with vbs backup list --volume-id ID --name NAME): "
            + ", ".join(f"line {line} '{item.spec.name}' of volume {item.spec.volume_id}" for line, item in maybe)
        )
    if not_sent:
        parts.append(f"not sent: {_lines(not_sent)}")
    finished = len(ledger.finished)
    parts.append(f"{finished} of {total} items had finished")
    return "; ".join(parts)


def _lines(lines: list[int]) -> str:
    return ("line " if len(lines) == 1 else "lines ") + ", ".join(str(n) for n in lines)


def _locked(lock: Any, action: Any) -> None:
    with lock:
        action()


def _table(outcomes: list[Any], env: Any, fmt: str = "table") -> None:
    from vbscli.render import Column, Result, render

    rows = []
    for o in outcomes:
        doc = o.as_dict()
        detail = (doc.get("backup") or {}).get("id") if o.document else (o.error or {}).get("message", "")
        rows.append((str(o.item.line), doc.get("volume_id") or "", doc.get("name") or "", o.result, detail or ""))
    render(
        Result(
            {"items": [o.as_dict() for o in outcomes]},
            rows,
            columns=("Line", "Volume ID", "Name", "Result", Column("Backup ID / error", keep=True)),
        ),
        fmt,
        env,
    )


class _Progress:
    """A rich progress bar on stderr: done, failed, in flight, rate and ETA."""

    def __init__(self, env: Any, total: int) -> None:
        from rich.console import Console
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

        self.failed = 0
        self.started = 0
        self.done = 0
        self.progress = Progress(
            TextColumn("backups"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("{task.fields[failed]} failed"),
            TextColumn("{task.fields[flight]} in flight"),
            TextColumn("{task.fields[rate]}"),
            TimeRemainingColumn(),
            console=Console(file=env.stderr, no_color=env.no_color),
            transient=False,
        )
        self.task = self.progress.add_task("backups", total=total, failed=0, rate="", flight=0)

    def start(self) -> None:
        self.progress.start()

    def stop(self) -> None:
        self.progress.stop()

    def begin_one(self) -> None:
        self.started += 1
        self.progress.update(self.task, flight=self.started - self.done)

    def advance(self, failed: bool) -> None:
        self.failed += failed
        self.done += 1
        task = self.progress.tasks[0]
        rate = f"{task.speed:.1f}/s" if task.speed else ""
        self.progress.update(
            self.task, advance=1, failed=self.failed, rate=rate, flight=max(0, self.started - self.done)
        )

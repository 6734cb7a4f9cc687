"""Deleting backups (and snapshots): one at a time with the lost-answer rule, or many concurrently.

Many deletions run like a fleet run: at most `parallel` at once over one session, fewer while the
service throttles (batch.Limiter), and a failure does not stop the others. A backup that others
depend on is deleted only after those dependents are gone: the service refuses it before.
"""

from __future__ import annotations

import threading
from collections import defaultdict
from collections.abc import Callable, Collection, Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from vbscli import backups, lost_answer, polling, validate
from vbscli.client import Call, Client
from vbscli.errors import BackupFailed, Interrupted, ServiceError, VbsError
from vbscli.exit_codes import ExitCode, of_items
from vbscli.polling import WaitPolicy

GONE_POLICY = WaitPolicy(timeout=1800.0, interval=15.0, first=1.0)
"""How long a dependent's deletion is awaited before the backup it builds on is deleted."""


class DeleteFailed(BackupFailed):
    """A waited-for deletion ended with the backup still there (exit 6)."""

    kind = "DeleteFailed"


def delete_call(client: Client, backup_id: str) -> Call:
    validate.check_uuid(backup_id, "backup ID")
    return client.prepare("DELETE", f"/backups/{backup_id}")


def delete(client: Client, backup_id: str, notify: Callable[[str], None] | None = None) -> None:
    """DELETE one backup (202: it goes `deleting`, then away); after a lost answer the backup is looked
    up first (lost_answer.deleted)."""
    look = lost_answer.deleted(lambda: backups.show(client, backup_id, what="lookup")["backup"].get("status"))
    request = lost_answer.Request(
        delete_call(client, backup_id),
        name=f"delete of backup {backup_id}",
        what=f"the delete of backup {backup_id}",
        look=look,
        check=f"check its status with: vbs backup show {backup_id}",
        effect=f"backup {backup_id} may be deleting",
    )
    lost_answer.send(client, request, notify)


def wait_gone(
    client: Client,
    backup_id: str,
    policy: WaitPolicy,
    on_status: Callable[[str, float], None] | None = None,
    **timing: Any,
) -> None:
    """Poll until the backup is gone (404); a backup that stops `deleting` and stays was not deleted."""

    def look() -> tuple[bool, Any, str]:
        try:
            backup = backups.show(client, backup_id, what="poll")["backup"]
        except ServiceError as exc:
            if exc.status == 404:
                return True, None, "deleted"
            raise
        status = str(backup.get("status") or "unknown")
        if status != "deleting":
            reason = backup.get("fail_reason")
            raise DeleteFailed(
                f"backup {backup_id} was not deleted: it is {status}" + (f" ({reason})" if reason else ""),
                f"see: vbs backup show {backup_id}",
            )
        return False, None, status

    polling.until(
        look,
        policy,
        what=f"backup {backup_id}",
        check=f"vbs backup show {backup_id}",
        on_status=on_status,
        **timing,
    )


@dataclass
class Outcome:
    """What happened to one thing to delete: `deleting` (accepted), `deleted` (seen gone) or `failed`."""

    id: str
    result: str
    exit_code: int = ExitCode.OK
    error: dict[str, Any] | None = None

    def as_dict(self) -> dict[str, Any]:
        return {"id": self.id, "result": self.result, "exit_code": self.exit_code, "error": self.error}


def run_all(
    client: Client,
    ids: Iterable[str],
    work: Callable[[str], str | None],
    parallel: int,
    *,
    after: Mapping[str, Iterable[str]] | None = None,
    settle: Callable[[str], None] | None = None,
    on_done: Callable[[Outcome], None] | None = None,
    accepted: set[str] | None = None,
    snapshots: Collection[str] = (),
) -> list[Outcome]:
    """Run `work(id)` for every id, at most `parallel` at a time, adapting to throttling; its return
    value (default "deleted") is the outcome's result.

    `after[x]` lists ids that must be done (and, through `settle(id)`, gone) before `x` starts; if one
    of them fails, `x` is not tried. Outcomes come in the order of `ids`. Ctrl-C stops at once: the
    Interrupted raised says which deletions were accepted (`work` adds an id to `accepted` as soon as
    the service has taken it), which may or may not have been, and how many were not sent; the ids
    in `snapshots` are snapshots, which that note tells how to check apart from backups.
    """
    from vbscli.batch import Limiter, RoundTrips

    order = list(dict.fromkeys(ids))
    wanted = set(order)
    waiting = {x: set(after.get(x, ()) if after else ()) & wanted for x in order}
    blockers: dict[str, set[str]] = defaultdict(set)
    for x, before in waiting.items():
        for y in before:
            blockers[y].add(x)
    if not order:
        return []
    _check_acyclic(waiting)
    limiter = Limiter(parallel)
    trips = RoundTrips(limiter)  # throttled together, deletions halve the limit once, as a fleet run's creates do
    client.on_retry = trips.on_retry
    outcomes: dict[str, Outcome] = {}
    failed_before: dict[str, str] = {}
    lock = threading.Lock()
    finished = threading.Event()
    errors: list[BaseException] = []
    pool = ThreadPoolExecutor(max_workers=parallel, thread_name_prefix="vbs-delete")
    stopping = False
    started: set[str] = set()
    accepted = set() if accepted is None else accepted

    def finish(outcome: Outcome) -> None:
        ready: list[str] = []
        with lock:
            outcomes[outcome.id] = outcome
            for x in sorted(blockers.get(outcome.id, ())):
                waiting[x].discard(outcome.id)
                if outcome.result == "failed":
                    failed_before.setdefault(x, outcome.id)
                if not waiting[x]:
                    ready.append(x)
            if len(outcomes) == len(order):
                finished.set()
        if on_done:
            on_done(outcome)
        for x in ready:
            begin(x)

    def begin(x: str) -> None:
        if x in failed_before:
            finish(
                Outcome(
                    x,
                    "failed",
                    ExitCode.REJECTED,
                    {
                        "status": None,
                        "code": "DependentNotDeleted",
                        "message": f"not deleted: backup {failed_before[x]}, which depends on it, was not deleted",
                        "request_id": None,
                    },
                )
            )
        elif not stopping:
            pool.submit(one, x)

    def one(x: str) -> None:
        try:
            attempt(x)
        except BaseException as exc:  # noqa: BLE001 - e.g. a closed stderr in on_done: the main thread raises it
            errors.append(exc)
            finished.set()

    def attempt(x: str) -> None:
        try:
            limiter.acquire()
            ok = False
            try:
                if stopping:
                    return
                started.add(x)
                trips.sending()
                result = work(x) or "deleted"
                ok = True
            finally:
                limiter.release(ok)
            if blockers.get(x) and settle is not None:
                settle(x)
                result = "deleted"
            outcome = Outcome(x, result)
        except VbsError as exc:
            outcome = Outcome(x, "failed", int(exc.exit_code), exc.as_dict())
        except Exception as exc:  # noqa: BLE001 - one broken item must not hang the run
            from vbscli import redact

            message = redact.text(f"unexpected {type(exc).__name__}: {exc} (a bug in vbs)")
            error = {"status": None, "code": "InternalError", "message": message, "request_id": None}
            outcome = Outcome(x, "failed", ExitCode.INTERNAL, error)
        finish(outcome)

    try:
        for x in [x for x in order if not waiting[x]]:
            begin(x)
        while not finished.wait(0.2):
            pass
        if errors:
            raise errors[0]
    except (Interrupted, KeyboardInterrupt):
        stopping = True
        pool.shutdown(wait=False, cancel_futures=True)
        with lock:
            note = _interrupted_note(order, dict(outcomes), set(started), set(accepted), set(snapshots))
        raise Interrupted(note) from None
    except BaseException:
        stopping = True
        pool.shutdown(wait=False, cancel_futures=True)
        raise
    pool.shutdown(wait=True)
    return [outcomes[x] for x in order]


SHOWN = 20
"""IDs listed at most per kind in the note of an interrupted run; more are counted."""


def _interrupted_note(
    order: list[str], outcomes: dict[str, Outcome], started: set[str], accepted: set[str], snapshots: set[str]
) -> str:
    """Ctrl-C: which deletions the service took, which may or may not have reached it, what was not sent."""

    def ids(items: list[str]) -> str:
        shown = ", ".join(items[:SHOWN])
        return shown + (f" and {len(items) - SHOWN} more" if len(items) > SHOWN else "")

    taken = [x for x in order if x in accepted or (x in outcomes and outcomes[x].result != "failed")]
    failed = [x for x in order if x in outcomes and outcomes[x].result == "failed"]
    pending = [x for x in order if x in started and x not in outcomes and x not in accepted]
    maybe = [x for x in pending if x not in snapshots]
    maybe_snapshots = [x for x in pending if x in snapshots]
    not_sent = [x for x in order if x not in started and x not in outcomes]
    parts = []
    if taken:
        parts.append(f"deleting or deleted: {ids(taken)}")
    if maybe:
        parts.append(f"may or may not have been deleted (no answer yet; check with vbs backup show ID): {ids(maybe)}")
    if maybe_snapshots:
        parts.append(
            "snapshots that may or may not have been deleted (no answer yet; 'vbs backup prune --plan' lists "
            f"those still there, and the next prune deletes them): {ids(maybe_snapshots)}"
        )
    if failed:
        parts.append(f"failed: {ids(failed)}")
    parts.append(f"not sent: {len(not_sent)} of {len(order)}")
    return "; ".join(parts)


def _check_acyclic(waiting: Mapping[str, set[str]]) -> None:
    """Every id must become startable; one waiting in a circle never would, and the run would hang."""
    count = {x: len(before) for x, before in waiting.items()}
    unblocks: dict[str, list[str]] = defaultdict(list)
    for x, before in waiting.items():
        for y in before:
            unblocks[y].append(x)
    ready = [x for x, n in count.items() if n == 0]
    while ready:
        for x in unblocks.get(ready.pop(), ()):
            count[x] -= 1
            if count[x] == 0:
                ready.append(x)
    stuck = sorted(x for x, n in count.items() if n > 0)
    if stuck:
        raise ValueError(f"the order of deletions has a cycle through {stuck[0]}")


def delete_many(
    client: Client,
    ids: Iterable[str],
    parallel: int,
    *,
    wait: WaitPolicy | None = None,
    notify: Callable[[str], None] | None = None,
    on_done: Callable[[Outcome], None] | None = None,
) -> list[Outcome]:
    """Delete backups concurrently (`vbs backup delete`: none waits for another); with `wait`, each
    counts as deleted once it is gone (404)."""

    accepted: set[str] = set()

    def work(backup_id: str) -> str:
        delete(client, backup_id, notify)
        accepted.add(backup_id)
        if wait is None:
            return "deleting"
        wait_gone(client, backup_id, wait)
        return "deleted"

    return run_all(client, ids, work, parallel, on_done=on_done, accepted=accepted)


def exit_code(outcomes: list[Outcome]) -> int:
    """vbscli.exit_codes.of_items over the deletions."""
    return of_items([o.exit_code for o in outcomes if o.result == "failed"], len(outcomes))

"""Reading what the backup report needs: the backups (all, or those of named disks) and disk names.

GETs only, page by page with the listing code (marker paging, reads repeated on failures that
allow it). Reads run concurrently where it saves time: the disk names are read beside the backups,
and named disks are read one listing each, several at a time. Each page is digested as it arrives,
so a large project costs a few small records per backup, not the service's whole objects.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any

from vbscli import paging, volumes
from vbscli.backups import LIST_PAGE
from vbscli.client import Client
from vbscli.errors import VbsError
from vbscli.report import Backup


@dataclass
class History:
    backups: list[Backup]
    names: dict[str, str] = field(default_factory=dict)
    names_problem: VbsError | None = None
    """Why the disk names could not be read (the report then shows IDs)."""
    server_now: datetime | None = None

    def now(self, local: datetime | None = None) -> datetime:
        """The time to measure ages against: ours, unless the service's clock (its Date header)
        differs by more than CLOCK_TOLERANCE, so a wrong local clock does not make a disk look stale
        or fresh (the header counts whole seconds, so it is not used for less)."""
        local = local or datetime.now(timezone.utc)
        if self.server_now is not None and abs(self.server_now - local) > CLOCK_TOLERANCE:
            return self.server_now
        return local


CLOCK_TOLERANCE = timedelta(minutes=1)


def read(
    client: Client,
    volume_ids: Iterable[str] | None = None,
    parallel: int = 8,
    on_names_problem: Callable[[VbsError], None] | None = None,
) -> History:
    """Every backup of the project (`volume_ids` None), or of each named disk; plus the disks' names.

    A failure to read the names never fails the read: it is handed to `on_names_problem`.
    """
    from vbscli.batch import Limiter
    from vbscli.retry import is_throttle

    limiter = Limiter(parallel)
    local = threading.local()

    def on_retry(exc: VbsError) -> None:
        if is_throttle(exc):  # halve at most once per round trip, as a fleet run does
            limiter.throttled(getattr(local, "ticket", None))
            local.ticket = limiter.ticket()

    client.on_retry = on_retry
    names: dict[str, str] = {}
    problem: list[VbsError] = []

    def read_names() -> None:
        try:
            names.update(volumes.names(client))
        except VbsError as exc:
            problem.append(exc)
            if on_names_problem:
                on_names_problem(exc)

    pool = ThreadPoolExecutor(max_workers=parallel + 1, thread_name_prefix="vbs-report")
    try:
        naming = pool.submit(read_names)
        if volume_ids is None:
            backups = _listing(client, {}, ahead=pool)
        else:
            lock = threading.Lock()
            backups = []

            def one(volume_id: str) -> None:
                limiter.acquire()
                ok = False
                try:
                    local.ticket = limiter.ticket()
                    found = [b for b in _listing(client, {"volume_id": volume_id}) if b.volume_id == volume_id]
                    ok = True
                finally:
                    limiter.release(ok)
                with lock:
                    backups.extend(found)

            for future in [pool.submit(one, v.lower()) for v in dict.fromkeys(volume_ids)]:
                future.result()
        naming.result()
    except BaseException:
        # A failed listing (or Ctrl-C) ends the report: what has not started never will.
        pool.shutdown(wait=False, cancel_futures=True)
        raise
    pool.shutdown()
    return History(backups, names, problem[0] if problem else None, client.server_now())


def _listing(client: Client, params: dict[str, str], ahead: ThreadPoolExecutor | None = None) -> list[Backup]:
    """The backups of one listing; with `ahead`, its next page is on its way while this one is digested."""
    pages = paging.pages(client, "/backups/detail", "backups", params, page_size=LIST_PAGE)
    if ahead is not None:
        pages = read_ahead(pages, ahead)
    return [Backup.from_service(item) for page in pages for item in page]


def read_ahead(pages: Iterator[list[dict[str, Any]]], pool: ThreadPoolExecutor) -> Iterator[list[dict[str, Any]]]:
    """The pages of a marker-paged listing, read one page ahead in a worker of `pool`.

    Pages must follow one another (each names the next), but digesting one need not delay asking
    for the next. A failure reaches the reader with the page it would have been; a reader that stops
    (an error of its own, Ctrl-C) stops the worker after the page in flight.
    """
    handed: queue.Queue[tuple[str, Any]] = queue.Queue(maxsize=1)
    stop = threading.Event()

    def hand(kind: str, value: Any) -> bool:
        while not stop.is_set():
            try:
                handed.put((kind, value), timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def produce() -> None:
        try:
            for page in pages:
                if not hand("page", page):
                    return
        except BaseException as exc:  # handed over, raised where the pages are read
            hand("error", exc)
        else:
            hand("end", None)

    pool.submit(produce)
    try:
        while True:
            kind, value = handed.get()
            if kind == "end":
                return
            if kind == "error":
                raise value
            yield value
    finally:
        stop.set()

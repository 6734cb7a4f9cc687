"""Reading what the backup report needs: the backups (all, or those of named disks) and disk names.

GETs only, page by page with the listing code (marker paging, reads repeated on failures that
allow it). Reads run concurrently where it saves time: the disk names are read beside the backups,
and named disks are read one listing each, several at a time. Each page is digested as it arrives,
so a large project costs a few small records per backup, not the service's whole objects.
"""

from __future__ import annotations

import queue
import threading
from collections import deque
from collections.abc import Callable, Iterable, Iterator
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

    A failure to read the names never fails the read: it is handed to `on_names_problem` (the report
    then shows IDs).
    """
    from vbscli.batch import Limiter, RoundTrips

    limiter = Limiter(parallel)
    trips = RoundTrips(limiter)  # halve at most once per round trip, as a fleet run does
    client.on_retry = trips.on_retry
    names: dict[str, str] = {}

    def read_names() -> None:
        try:
            names.update(volumes.names(client))
        except VbsError as exc:
            if on_names_problem:
                on_names_problem(exc)

    # Reads only, in daemon threads: a failure or Ctrl-C ends the report at once, without waiting
    # for the requests in flight (nothing is lost by leaving a GET unanswered).
    naming = in_background(read_names)
    if volume_ids is None:
        backups = _listing(client, {}, ahead=True)
    else:
        backups = _each_disk(client, list(dict.fromkeys(v.lower() for v in volume_ids)), limiter, trips)
    naming()
    return History(backups, names, client.server_now())


def _each_disk(client: Client, volume_ids: list[str], limiter: Any, trips: Any) -> list[Backup]:
    """One listing per disk, as many at a time as `limiter` allows; the first failure ends the read
    (listings not started never will be) and is raised."""
    todo = deque(volume_ids)
    backups: list[Backup] = []
    errors: list[BaseException] = []
    stop = threading.Event()

    def worker() -> None:
        while not stop.is_set():
            try:
                volume_id = todo.popleft()
            except IndexError:
                return
            if not limiter.acquire(stop):
                return
            ok = False
            try:
                trips.sending()
                found = [b for b in _listing(client, {"volume_id": volume_id}) if b.volume_id == volume_id]
                ok = True
                backups.extend(found)
            except BaseException as exc:  # handed to the reading thread, which raises it
                errors.append(exc)
                stop.set()
                return
            finally:
                limiter.release(ok)

    workers = [in_background(worker) for _ in range(min(limiter.maximum, len(volume_ids)))]
    try:
        for wait in workers:
            wait()
    except BaseException:
        stop.set()
        raise
    if errors:
        raise errors[0]
    return backups


def in_background(work: Callable[[], Any]) -> Callable[[], Any]:
    """Run `work` in a daemon thread; the function returned waits for it (Ctrl-C still reaches the
    waiting thread) and returns its result or raises its error."""
    done = threading.Event()
    outcome: dict[str, Any] = {}

    def run() -> None:
        try:
            outcome["value"] = work()
        except BaseException as exc:  # raised where the result is waited for
            outcome["error"] = exc
        finally:
            done.set()

    threading.Thread(target=run, name="vbs-report", daemon=True).start()

    def wait() -> Any:
        while not done.wait(0.1):
            pass
        if "error" in outcome:
            raise outcome["error"]
        return outcome.get("value")

    return wait


def _listing(client: Client, params: dict[str, str], ahead: bool = False) -> list[Backup]:
    """The backups of one listing; `ahead`: its next page is on its way while this one is digested."""
    pages = paging.pages(client, "/backups/detail", "backups", params, page_size=LIST_PAGE, what="list")
    if ahead:
        pages = read_ahead(pages)
    return [Backup.from_service(item) for page in pages for item in page]


def read_ahead(pages: Iterator[list[dict[str, Any]]]) -> Iterator[list[dict[str, Any]]]:
    """The pages of a marker-paged listing, read one page ahead in a thread of their own.

    Pages must follow one another (each names the next), but digesting one need not delay asking
    for the next. A failure reaches the reader with the page it would have been; a reader that stops
    (an error of its own, Ctrl-C) stops the reading after the page in flight.
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

    in_background(produce)
    try:
        while True:
            try:
                kind, value = handed.get(timeout=0.1)
            except queue.Empty:
                continue
            if kind == "end":
                return
            if kind == "error":
                raise value
            yield value
    finally:
        stop.set()

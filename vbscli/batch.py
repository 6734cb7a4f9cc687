"""Backing up a fleet in one run: read the items, check them all, then create them concurrently.

Nothing here prints: results are handed to callbacks as they finish. Concurrency adapts to the
service as TCP's congestion window does (AIMD): throttling halves the number in flight, at most once
per round trip, and every `limit` successes let one more in, within 1..parallel.

A run can be stopped (a closed output, Ctrl-C): items not yet started are not sent, waits end at
once, and the `Ledger` tells which items were created (with their IDs) and which were on their way.
"""

from __future__ import annotations

import csv
import io
import json
import threading
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from vbscli import backups, validate
from vbscli.backups import BackupSpec
from vbscli.client import Client
from vbscli.errors import InputError, Interrupted, VbsError
from vbscli.exit_codes import ExitCode, of_items
from vbscli.polling import WaitPolicy
from vbscli.retry import is_throttle

FIELDS = ("volume_id", "snapshot_id", "name", "description", "force")


@dataclass
class Item:
    """One line of the input: a checked spec, or the reason it cannot be used."""

    line: int
    spec: BackupSpec | None = None
    problem: str | None = None
    raw: dict[str, Any] = field(default_factory=dict)


@dataclass
class Outcome:
    item: Item
    result: str  # created | available | skipped | invalid | failed | not_sent
    exit_code: int
    document: dict[str, Any] | None = None
    error: dict[str, Any] | None = None
    snapshot: dict[str, Any] | None = None
    """The fresh snapshot vbs made for an item without snapshot_id: {"id", "kept"}."""

    def as_dict(self) -> dict[str, Any]:
        doc: dict[str, Any] = {"line": self.item.line, "result": self.result, "exit_code": self.exit_code}
        doc.update({k: self.item.raw.get(k) for k in ("volume_id", "snapshot_id")})
        if self.snapshot is not None:
            doc["snapshot"] = self.snapshot
        doc["name"] = self.item.spec.name if self.item.spec else self.item.raw.get("name")
        if self.document is not None:
            doc.update(self.document)
        if self.error is not None:
            doc["error"] = self.error
        return doc


def parse(text: str, source: str) -> list[Item]:
    """YAML list, JSON lines or CSV (with a header), detected from the first non-blank line.

    Items that repeat an earlier one (the same volume and snapshot, or the same volume and name) are
    invalid, naming the line they repeat.
    """
    return _duplicates([_item(line, raw, source) for line, raw in read_rows(text, source)], source)


def read_rows(text: str, source: str) -> list[tuple[int, Any]]:
    """The items of a fleet file as (line, value), in any of the three formats. A leading byte order
    mark (as Excel writes "CSV UTF-8") is not part of the text."""
    text = text.removeprefix("\ufeff")
    first = next((line.strip() for line in text.splitlines() if line.strip() and not line.lstrip().startswith("#")), "")
    if first.startswith("{"):
        rows = _json_lines(text, source)
    elif first.startswith("-") or first.startswith("["):
        rows = _yaml(text, source)
    elif first == "volume_id" or ("volume_id" in first and "," in first):
        rows = _csv(text)
    else:
        raise InputError(
            f"{source}: not a YAML list, JSON lines or CSV with a header line", "see the README for the three formats"
        )
    if not rows:
        raise InputError(f"{source}: no items")
    return rows


def volume_ids(text: str, source: str) -> tuple[list[str], list[str]]:
    """The disks a fleet file names (for `backup report --from`): (volume IDs, problems).

    The same files as `create --from`: the other fields are allowed and ignored.
    """
    ids: list[str] = []
    problems: list[str] = []
    for line, raw in read_rows(text, source):
        if isinstance(raw, str):
            problems.append(f"{source}:{line}: {raw}")
            continue
        if not isinstance(raw, dict):
            problems.append(f"{source}:{line}: an item must be a mapping with volume_id")
            continue
        unknown = sorted(set(raw) - set(FIELDS))
        if unknown:
            problems.append(f"{source}:{line}: unknown field '{unknown[0]}' (fields: {', '.join(FIELDS)})")
        elif not raw.get("volume_id"):
            problems.append(f"{source}:{line}: missing 'volume_id'")
        else:
            try:
                ids.append(validate.check_uuid(str(raw["volume_id"]), "volume_id").lower())
            except InputError as exc:
                problems.append(f"{source}:{line}: {exc.one_line()}")
    return ids, problems


def _duplicates(items: list[Item], source: str) -> list[Item]:
    """Mark an item invalid when an earlier one has its volume and snapshot (or, both without one, its
    volume: two fresh snapshots of one disk), or its volume and name: a second backup of the same
    data is a mistake, and a name is how a run finds its backups again."""
    seen: dict[tuple[str, str, str], int] = {}
    for item in items:
        if item.spec is None:
            continue
        volume = item.spec.volume_id.lower()
        keys = [("snapshot", volume, (item.spec.snapshot_id or "").lower())]
        if item.raw.get("name") is not None:
            keys.append(("name", volume, str(item.spec.name)))
        for key in keys:
            if key in seen:
                what = {"snapshot": "snapshot", "name": f"name '{item.spec.name}'"}[key[0]]
                if not key[2]:
                    what = "a fresh snapshot"
                item.problem = f"{source}:{item.line}: same volume and {what} as line {seen[key]}"
                item.spec = None
                break
        else:
            for key in keys:
                seen[key] = item.line
    return items


def _json_lines(text: str, source: str) -> list[tuple[int, Any]]:
    rows = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        try:
            rows.append((number, json.loads(line)))
        except ValueError as exc:
            rows.append((number, f"invalid JSON ({exc.msg})"))
    return rows


def _yaml(text: str, source: str) -> list[tuple[int, Any]]:
    import yaml

    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
        doc = yaml.safe_load(text)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark
        raise InputError(f"{source}:{mark.line + 1 if mark else '?'}: invalid YAML: {exc.problem}") from None
    if not isinstance(doc, list) or node is None:
        raise InputError(f"{source}: expected a YAML list of items")
    return [(child.start_mark.line + 1, value) for child, value in zip(node.value, doc, strict=True)]


def _csv(text: str) -> list[tuple[int, Any]]:
    reader = csv.DictReader(io.StringIO(text))
    rows = []
    for row in reader:
        cleaned = {k.strip(): (v.strip() if isinstance(v, str) else v) for k, v in row.items() if k}
        rows.append((reader.line_num, {k: v for k, v in cleaned.items() if v not in ("", None)}))
    return rows


def _item(line: int, raw: Any, source: str) -> Item:
    if isinstance(raw, str):
        return Item(line, problem=f"{source}:{line}: {raw}")
    if not isinstance(raw, dict):
        return Item(line, problem=f"{source}:{line}: an item must be a mapping with volume_id and snapshot_id")
    unknown = sorted(set(raw) - set(FIELDS))
    if unknown:
        return Item(
            line, problem=f"{source}:{line}: unknown field '{unknown[0]}' (fields: {', '.join(FIELDS)})", raw=raw
        )
    force = raw.get("force", False)
    if isinstance(force, str):
        force = {"true": True, "yes": True, "1": True, "false": False, "no": False, "0": False}.get(
            force.lower(), force
        )
    if not isinstance(force, bool):
        return Item(line, problem=f"{source}:{line}: 'force' must be true or false", raw=raw)
    if not raw.get("volume_id"):
        return Item(line, problem=f"{source}:{line}: missing 'volume_id'", raw=raw)
    name = raw.get("name")
    spec = BackupSpec(
        str(raw["volume_id"]),
        str(raw["snapshot_id"]) if raw.get("snapshot_id") else None,  # none: a fresh snapshot (vbscli.cycle)
        str(name) if name is not None else backups.default_name(),
        None if raw.get("description") is None else str(raw["description"]),
        force,
    )
    try:
        spec.checked()
    except InputError as exc:
        return Item(line, problem=f"{source}:{line}: {exc.one_line()}", raw=raw)
    return Item(line, spec=spec, raw=raw)


class Limiter:
    """How many requests may be in flight: AIMD, as TCP does it.

    Throttled, the limit halves - at most once per round trip: a throttle reported by a request that
    was sent before the last decrease (its `ticket` is older) is the same congestion, already answered,
    so eight requests throttled together halve the limit once, not eight times. Each success adds
    1/limit, so the limit grows by one after `limit` successes (about one per round trip).
    """

    def __init__(self, maximum: int) -> None:
        self.maximum = maximum
        self.limit = float(maximum)
        self.active = 0
        self.decreases = 0
        self.cond = threading.Condition()

    def acquire(self, stop: threading.Event | None = None) -> bool:
        """Wait for a slot; False if `stop` is set first."""
        with self.cond:
            while self.active >= int(self.limit):
                if stop is not None and stop.is_set():
                    return False
                self.cond.wait(0.2)
            self.active += 1
            return True

    def release(self, success: bool) -> None:
        with self.cond:
            self.active -= 1
            if success:
                self.limit = min(float(self.maximum), self.limit + 1.0 / max(self.limit, 1.0))
            self.cond.notify_all()

    def ticket(self) -> int:
        """Taken when a request is sent: which decrease it has already seen."""
        with self.cond:
            return self.decreases

    def throttled(self, ticket: int | None = None) -> bool:
        """A request sent with `ticket` was throttled: halve, unless a decrease has happened since it
        was sent. Returns True if the limit was halved."""
        with self.cond:
            if ticket is not None and ticket != self.decreases:
                return False
            self.limit = max(1.0, self.limit / 2)
            self.decreases += 1
            return True


class RoundTrips:
    """Throttling met by the requests of one run, answered once per round trip: each thread takes a
    ticket as it sends (`sending`), and a throttled answer (`on_retry`, the client's hook) halves the
    limit only if it has not been halved since that ticket; the repeat is a new round trip."""

    def __init__(self, limiter: Limiter) -> None:
        self.limiter = limiter
        self.local = threading.local()

    def sending(self) -> None:
        self.local.ticket = self.limiter.ticket()

    def on_retry(self, exc: VbsError) -> None:
        if is_throttle(exc):
            self.limiter.throttled(getattr(self.local, "ticket", None))
            self.local.ticket = self.limiter.ticket()


@dataclass
class Ledger:
    """Where each item stands while the run goes on: on its way, created (with its ID), finished."""

    sending: dict[int, Item] = field(default_factory=dict)
    created: dict[int, tuple[Item, str]] = field(default_factory=dict)
    finished: dict[int, Outcome] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def copy(self) -> Ledger:
        with self.lock:
            return Ledger(dict(self.sending), dict(self.created), dict(self.finished))


class FleetInterrupted(Interrupted):
    """Ctrl-C during a run: `ledger` tells what was created and what may or may not have been."""

    def __init__(self, ledger: Ledger, items: list[Item]) -> None:
        super().__init__(None)
        self.ledger = ledger
        self.items = items


class _Stopped(Exception):
    """A wait ended because the run was stopped."""


def existing_names(client: Client) -> set[tuple[str, str]]:
    """(volume_id, name) of every backup not in error, read once for --skip-existing."""
    doc = backups.list_backups(client)
    return {(b.get("volume_id"), b.get("name")) for b in doc["backups"] if b.get("status") != "error"}


def run(
    client: Client,
    items: list[Item],
    parallel: int,
    wait: WaitPolicy | None = None,
    skip_existing: bool = False,
    on_outcome: Callable[[Outcome], None] | None = None,
    on_start: Callable[[Item], None] | None = None,
    keep_snapshot: bool = False,
    stop: threading.Event | None = None,
) -> list[Outcome]:
    """Create every valid item, at most `parallel` at a time; invalid ones are reported, not sent.

    An item without snapshot_id is backed up from a fresh snapshot (vbscli.cycle).
    Setting `stop` ends the run early: items not yet started come back as `not_sent`, and waits end
    (the backup stays `created`). Ctrl-C raises FleetInterrupted at once, without waiting for the
    requests in flight (the workers are daemon threads).
    """
    from vbscli import cycle, redact

    stop = stop or threading.Event()
    limiter = Limiter(parallel)
    trips = RoundTrips(limiter)
    client.on_retry = trips.on_retry
    existing = existing_names(client) if skip_existing else set()
    ledger = Ledger()
    queue = deque(items)
    errors: list[BaseException] = []

    def finish(outcome: Outcome) -> None:
        with ledger.lock:
            ledger.finished[outcome.item.line] = outcome
            ledger.sending.pop(outcome.item.line, None)
        if on_outcome:
            on_outcome(outcome)

    def nap(seconds: float) -> None:
        if stop.wait(seconds):
            raise _Stopped()

    def one(item: Item) -> None:
        if item.spec is None:
            finish(Outcome(item, "invalid", ExitCode.USAGE, error={"code": "InvalidInput", "message": item.problem}))
            return
        if (item.spec.volume_id, item.spec.name) in existing:
            finish(Outcome(item, "skipped", ExitCode.OK))
            return
        if not limiter.acquire(stop):
            return
        ok = False
        try:
            if stop.is_set():
                return
            trips.sending()
            if on_start:
                on_start(item)
            with ledger.lock:
                ledger.sending[item.line] = item
            created: list[str] = []

            def on_created(backup_id: str) -> None:
                created.append(backup_id)
                with ledger.lock:
                    ledger.created[item.line] = (item, backup_id)

            try:
                done = cycle.backup(
                    client,
                    item.spec,
                    wait,
                    keep_snapshot=keep_snapshot,
                    notify=client.notify,
                    on_created=on_created,
                    sleep=nap,
                )
            except _Stopped:
                if created:  # the backup exists; only the wait for it ended
                    ok = True
                    finish(Outcome(item, "created", ExitCode.OK, document={"backup": {"id": created[0]}}))
                return
            ok = True
            snapshot = {"id": done.snapshot_id, "kept": done.snapshot_kept} if done.snapshot_id else None
            finish(Outcome(item, done.result, ExitCode.OK, document=done.document, snapshot=snapshot))
        except VbsError as exc:
            finish(Outcome(item, "failed", int(exc.exit_code), error=exc.as_dict()))
        except _Stopped:
            pass
        except Exception as exc:  # noqa: BLE001 - a bug met by one item must not end the run unreported
            message = redact.text(f"unexpected {type(exc).__name__}: {exc} (a bug in vbs)")
            error = {"status": None, "code": "InternalError", "message": message, "request_id": None}
            finish(Outcome(item, "failed", ExitCode.INTERNAL, error=error))
        finally:
            limiter.release(ok)

    def worker() -> None:
        while not stop.is_set():
            try:
                item = queue.popleft()
            except IndexError:
                return
            try:
                one(item)
            except BaseException as exc:  # noqa: BLE001 - handed to the main thread, which raises it
                errors.append(exc)
                stop.set()
                return

    threads = [
        threading.Thread(target=worker, name=f"vbs-batch-{n}", daemon=True) for n in range(min(parallel, len(items)))
    ]
    for thread in threads:
        thread.start()
    try:
        for thread in threads:
            while thread.is_alive():
                thread.join(0.1)
    except (Interrupted, KeyboardInterrupt):
        stop.set()
        raise FleetInterrupted(ledger.copy(), items) from None
    if errors:
        raise errors[0]
    done = ledger.copy()
    outcomes = list(done.finished.values())
    outcomes += [Outcome(item, "not_sent", ExitCode.OK) for item in items if item.line not in done.finished]
    return sorted(outcomes, key=lambda o: o.item.line)


def exit_code(outcomes: list[Outcome]) -> int:
    """Invalid items count as failed (vbscli.exit_codes.of_items)."""
    return of_items([o.exit_code for o in outcomes if o.result in ("failed", "invalid")], len(outcomes))

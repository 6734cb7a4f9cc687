"""Backing up a fleet in one run: read the items, check them all, then create them concurrently.

Nothing here prints: results are handed to callbacks as they finish. Concurrency adapts to the
service: a throttled request halves the number in flight, and each success lets one more in
(additive increase, multiplicative decrease), within 1..parallel.
"""

from __future__ import annotations

import csv
import io
import json
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from vbscli import backups
from vbscli.backups import BackupSpec, WaitPolicy
from vbscli.client import Client
from vbscli.errors import InputError, VbsError
from vbscli.exit_codes import ExitCode
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
    result: str  # created | available | skipped | invalid | failed
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

    A leading byte order mark (as Excel writes "CSV UTF-8") is not part of the text. Items that
    repeat an earlier one (the same volume and snapshot, or the same volume and name) are invalid,
    naming the line they repeat.
    """
    text = text.removeprefix("\ufeff")
    first = next((line.strip() for line in text.splitlines() if line.strip() and not line.lstrip().startswith("#")), "")
    if first.startswith("{"):
        rows = _json_lines(text, source)
    elif first.startswith("-") or first.startswith("["):
        rows = _yaml(text, source)
    elif "volume_id" in first and "," in first:
        rows = _csv(text)
    else:
        raise InputError(
            f"{source}: not a YAML list, JSON lines or CSV with a header line", "see the README for the three formats"
        )
    if not rows:
        raise InputError(f"{source}: no items")
    return _duplicates([_item(line, raw, source) for line, raw in rows], source)


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
    """How many requests may be in flight: halves when throttled, grows by one per success."""

    def __init__(self, maximum: int) -> None:
        self.maximum = maximum
        self.limit = float(maximum)
        self.active = 0
        self.cond = threading.Condition()

    def acquire(self) -> None:
        with self.cond:
            while self.active >= int(self.limit):
                self.cond.wait()
            self.active += 1

    def release(self, success: bool) -> None:
        with self.cond:
            self.active -= 1
            if success:
                self.limit = min(float(self.maximum), self.limit + 1.0 / max(self.limit, 1.0))
            self.cond.notify_all()

    def throttled(self) -> None:
        with self.cond:
            self.limit = max(1.0, self.limit / 2)

    @property
    def in_flight(self) -> int:
        return self.active


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
) -> list[Outcome]:
    """Create every valid item, at most `parallel` at a time; invalid ones are reported, not sent.

    An item without snapshot_id is backed up from a fresh snapshot (vbscli.cycle)."""
    from vbscli import cycle

    limiter = Limiter(parallel)
    client.on_retry = lambda exc: limiter.throttled() if is_throttle(exc) else None  # AIMD's decrease
    existing = existing_names(client) if skip_existing else set()
    outcomes: list[Outcome] = []
    lock = threading.Lock()

    def finish(outcome: Outcome) -> Outcome:
        with lock:
            outcomes.append(outcome)
        if on_outcome:
            on_outcome(outcome)
        return outcome

    def one(item: Item) -> Outcome:
        if item.spec is None:
            return finish(
                Outcome(item, "invalid", ExitCode.USAGE, error={"code": "InvalidInput", "message": item.problem})
            )
        if (item.spec.volume_id, item.spec.name) in existing:
            return finish(Outcome(item, "skipped", ExitCode.OK))
        limiter.acquire()
        ok = False
        if on_start:
            on_start(item)
        try:
            done = cycle.backup(client, item.spec, wait, keep_snapshot=keep_snapshot, notify=client.notify)
            ok = True
            snapshot = {"id": done.snapshot_id, "kept": done.snapshot_kept} if done.snapshot_id else None
            return finish(Outcome(item, done.result, ExitCode.OK, document=done.document, snapshot=snapshot))
        except VbsError as exc:
            return finish(Outcome(item, "failed", int(exc.exit_code), error=exc.as_dict()))
        finally:
            limiter.release(ok)

    with ThreadPoolExecutor(max_workers=parallel, thread_name_prefix="vbs-batch") as pool:
        list(pool.map(one, items))
    return sorted(outcomes, key=lambda o: o.item.line)


def exit_code(outcomes: list[Outcome]) -> int:
    """0 if nothing failed; the shared code (3, 4 or 5) if every item failed the same way; else 1."""
    failed = [o for o in outcomes if o.result in ("failed", "invalid")]
    if not failed:
        return ExitCode.OK
    codes = {o.exit_code for o in failed}
    if len(failed) == len(outcomes) and len(codes) == 1 and codes <= {3, 4, 5}:
        return codes.pop()
    return ExitCode.REJECTED

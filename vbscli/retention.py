"""The retention planner: which backups of each disk to keep and which to delete, and why.

A pure function from the service's backup objects and a policy to a plan; it sends nothing and
reads no clock. The policy works as restic and borg made familiar, per disk, over the disk's
`available` backups (those whose name starts with the prefix, when one is given), newest first:

- `last N` keeps the N newest;
- `daily N`, `weekly N`, `monthly N` keep the newest backup of each of the N newest days, ISO weeks
  or months that have one (in UTC, by `created_at`);
- `within D` keeps every backup made within D of the newest one (so backups that stop coming do
  not let the history run out);
- a backup kept by several rules lists them all.

Whatever the policy: the disk's newest `available` backup is kept; backups `creating`, `restoring`
or `deleting` (or in any status vbs does not know) are never touched; `error` backups are deleted
(they restore nothing and hold quota); a backup that incremental backups depend on is kept while one
of them is kept, and is otherwise deleted after them (`after`).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from vbscli.clock import parse_time


@dataclass(frozen=True)
class Policy:
    last: int = 0
    daily: int = 0
    weekly: int = 0
    monthly: int = 0
    within: timedelta | None = None
    within_text: str | None = None
    """How the user wrote `within` (e.g. '14d'), for the reasons."""

    def __bool__(self) -> bool:
        return bool(self.last or self.daily or self.weekly or self.monthly or self.within is not None)


@dataclass
class Decision:
    """One backup in the plan: `keep` or `delete`, the rules that decided it, and what must go first."""

    backup: dict[str, Any]
    action: str = "keep"
    reasons: list[str] = field(default_factory=list)
    after: list[str] = field(default_factory=list)
    """Backups (its dependents) to be gone before this one is deleted."""
    chained: bool = False
    """Kept only because a backup that stays depends on it: no rule would keep it."""

    @property
    def id(self) -> str:
        return str(self.backup.get("id"))

    @property
    def volume_id(self) -> str:
        return str(self.backup.get("volume_id"))

    @property
    def status(self) -> str:
        return str(self.backup.get("status"))

    def keep(self, reason: str) -> None:
        if self.action != "keep":
            self.action, self.reasons = "keep", []
        self.reasons.append(reason)

    def delete(self, reason: str) -> None:
        self.action, self.reasons = "delete", [reason]


def created_of(backup: dict[str, Any]) -> datetime | None:
    """`created_at` as an aware time (the service usually writes it without a zone: UTC)."""
    return parse_time(backup.get("created_at"))


def plan(backups: Iterable[dict[str, Any]], policy: Policy, name_prefix: str | None = None) -> list[Decision]:
    """Decisions for every backup given, grouped by disk, newest first within each disk."""
    if not policy:
        raise ValueError("a retention policy needs at least one rule")
    disks: dict[str, list[dict[str, Any]]] = {}
    for backup in backups:
        disks.setdefault(str(backup.get("volume_id")), []).append(backup)
    decisions: list[Decision] = []
    for volume_id in sorted(disks):
        decisions += _plan_disk(disks[volume_id], policy, name_prefix)
    return decisions


def _plan_disk(backups: list[dict[str, Any]], policy: Policy, prefix: str | None) -> list[Decision]:
    times = {id(b): created_of(b) for b in backups}
    unplaced = [b for b in backups if times[id(b)] is None]
    ordered = sorted(
        (b for b in backups if times[id(b)] is not None),
        key=lambda b: (times[id(b)], str(b.get("id"))),
        reverse=True,
    )
    decisions = {id(b): Decision(b) for b in backups}
    for backup in unplaced:
        decisions[id(backup)].keep("no readable created_at: never touched")

    available: list[dict[str, Any]] = []
    for backup in ordered:
        decision = decisions[id(backup)]
        status = decision.status
        if prefix is not None and not str(backup.get("name") or "").startswith(prefix):
            decision.keep(f"name does not start with '{prefix}'")
        elif status == "available":
            available.append(backup)
        elif status == "error":
            decision.delete("error: restores nothing and holds quota")
        else:
            decision.keep(f"{status}: never touched")

    newest = next((b for b in ordered if b.get("status") == "available"), None)
    if newest is not None:
        decisions[id(newest)].keep("newest available")
    for backup, reason in _policy_keeps(available, policy, lambda b: times[id(b)]):
        decisions[id(backup)].keep(reason)
    for backup in available:
        if not decisions[id(backup)].reasons:
            decisions[id(backup)].delete("no rule keeps it")

    _dependents_first(ordered, decisions)
    return [decisions[id(b)] for b in ordered] + [decisions[id(b)] for b in unplaced]


def _policy_keeps(
    available: list[dict[str, Any]], policy: Policy, created: Any = created_of
) -> list[tuple[dict[str, Any], str]]:
    """(backup, reason) for every rule that keeps a backup; `available` is newest first."""
    kept: list[tuple[dict[str, Any], str]] = []
    for backup in available[: policy.last]:
        kept.append((backup, f"last {policy.last}"))
    buckets = (
        ("daily", policy.daily, lambda t: t.strftime("%Y-%m-%d")),
        ("weekly", policy.weekly, lambda t: f"{t.isocalendar()[0]}-W{t.isocalendar()[1]:02d}"),
        ("monthly", policy.monthly, lambda t: t.strftime("%Y-%m")),
    )
    for rule, count, bucket_of in buckets:
        seen: list[str] = []
        for backup in available:
            if len(seen) >= count:
                break
            bucket = bucket_of(created(backup))
            if bucket not in seen:
                seen.append(bucket)
                kept.append((backup, f"{rule} {bucket}"))
    if policy.within is not None and available:
        newest = created(available[0])
        for backup in available:
            if newest - created(backup) <= policy.within:
                kept.append((backup, f"within {policy.within_text or policy.within}"))
    return kept


def _dependents_first(ordered: list[dict[str, Any]], decisions: dict[int, Decision]) -> None:
    """Keep a backup whose dependent is kept; otherwise delete it after that dependent.

    The service says only *that* a backup has dependents (`has_dependent_backups`). An incremental
    backup builds on the disk's latest backup before it that did not fail, so the dependent is the
    next newer one, if that one is incremental. Walking from the newest down settles each dependent
    before the backup it builds on.
    """
    newer: dict[str, Any] | None = None
    for backup in ordered:
        decision = decisions[id(backup)]
        failed = backup.get("status") == "error"
        if decision.action == "delete" and backup.get("has_dependent_backups") is True:
            child = None if failed else newer
            if child is None or child.get("is_incremental") is not True:
                decision.keep("has dependent backups vbs cannot identify")
                decision.chained = True
            elif decisions[id(child)].action == "keep":
                decision.keep(f"backup {child.get('id')}, which depends on it, stays")
                decision.chained = True
            else:
                decision.after = [str(child.get("id"))]
        if not failed:
            newer = backup

"""The retention planner against an independent statement of the policy, and its invariants under hypothesis.

The oracle below is written from the README's words, on its own terms (sets of days, weeks and
months, ancestors from the history's known parents); it calls nothing of vbscli.retention.
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta, timezone

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from vbscli.retention import Policy, plan

DISK_A = "5c1a9f0e-2b3d-4e5f-8a9b-0c1d2e3f4a01"
DISK_B = "5c1a9f0e-2b3d-4e5f-8a9b-0c1d2e3f4a02"
DISK_C = "5c1a9f0e-2b3d-4e5f-8a9b-0c1d2e3f4a03"
LAST_NIGHT = datetime(2026, 11, 28, 2, 30, tzinfo=timezone.utc)


def backup(disk: str, when: datetime, status: str = "available", parent: dict | None = None, name=None) -> dict:
    return {
        "id": str(uuid.uuid4()),
        "volume_id": disk,
        "name": name or f"nightly-{when:%Y%m%d}",
        "status": status,
        "created_at": when.strftime("%Y-%m-%dT%H:%M:%S.%f"),
        "is_incremental": parent is not None,
        "has_dependent_backups": False,
        "parent": parent["id"] if parent else None,  # the truth the service does not show
    }


def link_dependents(history: list[dict]) -> list[dict]:
    parents = {b["parent"] for b in history if b["parent"]}
    for b in history:
        b["has_dependent_backups"] = b["id"] in parents
    return history


def synthetic_history() -> tuple[list[dict], dict]:
    """90 nights on 3 disks; disk B has a chain early (all of it old) and one across the kept days; disk A
    has an error backup and a backup still creating. Returns the history and notable backups."""
    history, notable = [], {}
    for disk in (DISK_A, DISK_B, DISK_C):
        previous = None
        for night in range(89, -1, -1):  # oldest first, like the service made them
            when = LAST_NIGHT - timedelta(days=night)
            chained = disk == DISK_B and (10 <= 89 - night <= 14 or 78 <= 89 - night <= 84)
            starts = 89 - night in (10, 78)
            made = backup(disk, when, parent=previous if chained and not starts else None)
            history.append(made)
            previous = made
            notable[(disk, 89 - night)] = made
    failed = backup(DISK_A, LAST_NIGHT - timedelta(days=4, hours=-1), status="error")
    creating = backup(DISK_A, LAST_NIGHT + timedelta(hours=20), status="creating")
    history += [failed, creating]
    notable.update({"error": failed, "creating": creating})
    return link_dependents(history), notable


def oracle(history: list[dict], last=0, daily=0, weekly=0, monthly=0, within: timedelta | None = None) -> set[str]:
    """The ids a careful reader of the README would keep."""

    def when(b: dict) -> datetime:
        return datetime.fromisoformat(b["created_at"]).replace(tzinfo=timezone.utc)

    kept: set[str] = set()
    for disk in {b["volume_id"] for b in history}:
        mine = [b for b in history if b["volume_id"] == disk]
        kept |= {b["id"] for b in mine if b["status"] in ("creating", "restoring", "deleting")}
        good = sorted((b for b in mine if b["status"] == "available"), key=when, reverse=True)
        if not good:
            continue
        kept.add(good[0]["id"])
        kept |= {b["id"] for b in good[:last]}
        for count, period in (
            (daily, lambda t: t.date()),
            (weekly, lambda t: t.isocalendar()[:2]),
            (monthly, lambda t: (t.year, t.month)),
        ):
            periods = []
            for b in good:
                if period(when(b)) not in periods:
                    periods.append(period(when(b)))
            for p in periods[:count]:
                kept.add(max((b for b in good if period(when(b)) == p), key=when)["id"])
        if within is not None:
            kept |= {b["id"] for b in good if when(good[0]) - when(b) <= within}
    by_id = {b["id"]: b for b in history}
    for b in list(kept):  # whatever a kept backup builds on must stay
        parent = by_id[b]["parent"]
        while parent:
            kept.add(parent)
            parent = by_id[parent]["parent"]
    return kept


POLICIES = [
    {"last": 3},
    {"daily": 7},
    {"daily": 7, "weekly": 4, "monthly": 3},
    {"weekly": 6},
    {"monthly": 2, "last": 10},
    {"within": timedelta(days=14)},
    {"within": timedelta(hours=36), "monthly": 12},
]


@pytest.mark.parametrize("policy", POLICIES, ids=lambda p: ",".join(f"{k}={v}" for k, v in p.items()))
def test_plan_matches_the_independent_statement(policy):
    history, _ = synthetic_history()
    decisions = plan(history, Policy(**policy))
    assert sorted(d.id for d in decisions) == sorted(b["id"] for b in history)
    assert {d.id for d in decisions if d.action == "keep"} == oracle(history, **policy)


def test_reasons_name_the_rules_and_the_chain():
    history, notable = synthetic_history()
    decisions = {d.id: d for d in plan(history, Policy(last=3, daily=7))}
    newest_b = notable[(DISK_B, 89)]
    assert decisions[newest_b["id"]].reasons == ["newest available", "last 3", "daily 2026-11-28"]
    assert decisions[notable[(DISK_B, 86)]["id"]].reasons == ["daily 2026-11-25"]
    root = notable[(DISK_B, 82)]
    assert decisions[root["id"]].reasons == [f"backup {notable[(DISK_B, 83)]['id']}, which depends on it, stays"]
    chained = {d.backup["id"] for d in decisions.values() if d.chained}  # kept only for a dependent
    assert chained == {notable[(DISK_B, n)]["id"] for n in (78, 79, 80, 81, 82)}
    assert decisions[notable["error"]["id"]].action == "delete"
    assert decisions[notable["error"]["id"]].reasons == ["error: restores nothing and holds quota"]
    assert decisions[notable["creating"]["id"]].reasons == ["creating: never touched"]
    assert decisions[notable[(DISK_A, 0)]["id"]].reasons == ["no rule keeps it"]


def test_a_chain_that_goes_is_deleted_newest_first():
    history, notable = synthetic_history()
    decisions = {d.id: d for d in plan(history, Policy(daily=7))}
    chain = [notable[(DISK_B, n)]["id"] for n in range(10, 15)]
    assert all(decisions[i].action == "delete" for i in chain)
    assert [decisions[i].after for i in chain] == [[chain[1]], [chain[2]], [chain[3]], [chain[4]], []]


def test_weekly_and_monthly_buckets_at_their_edges():
    sunday = datetime(2026, 11, 29, 23, 59, tzinfo=timezone.utc)  # ISO week 48 ends on Sunday
    history = [
        backup(DISK_A, sunday),
        backup(DISK_A, sunday - timedelta(minutes=1)),
        backup(DISK_A, sunday + timedelta(minutes=2)),
    ]
    history.append(backup(DISK_A, datetime(2026, 10, 31, 23, 0, tzinfo=timezone.utc)))
    decisions = {d.backup["created_at"][:16]: d for d in plan(history, Policy(weekly=2, monthly=2))}
    assert decisions["2026-11-30T00:01"].reasons == ["newest available", "weekly 2026-W49", "monthly 2026-11"]
    assert decisions["2026-11-29T23:59"].reasons == ["weekly 2026-W48"]
    assert decisions["2026-11-29T23:58"].action == "delete"
    assert decisions["2026-10-31T23:00"].reasons == ["monthly 2026-10"]


def test_a_name_prefix_leaves_other_backups_alone_and_counts_only_matching_ones():
    history = [backup(DISK_A, LAST_NIGHT - timedelta(days=n)) for n in range(5)]
    hand = backup(DISK_A, LAST_NIGHT + timedelta(hours=1), name="before-upgrade")
    decisions = {d.id: d for d in plan([*history, hand], Policy(last=2), name_prefix="nightly-")}
    assert decisions[hand["id"]].reasons == ["name does not start with 'nightly-'", "newest available"]
    assert [decisions[b["id"]].action for b in history] == ["keep", "keep", "delete", "delete", "delete"]


def test_unreadable_times_and_unknown_statuses_are_never_touched():
    odd = backup(DISK_A, LAST_NIGHT, status="error_restoring")
    timeless = {**backup(DISK_A, LAST_NIGHT), "created_at": "yesterday"}
    old = backup(DISK_A, LAST_NIGHT - timedelta(days=9))
    decisions = {d.id: d for d in plan([odd, timeless, old], Policy(last=1))}
    assert decisions[odd["id"]].reasons == ["error_restoring: never touched"]
    assert decisions[timeless["id"]].reasons == ["no readable created_at: never touched"]
    assert decisions[old["id"]].reasons == ["newest available", "last 1"]


def test_dependents_the_planner_cannot_see_keep_the_backup():
    parent = backup(DISK_A, LAST_NIGHT - timedelta(days=3))
    parent["has_dependent_backups"] = True  # but the next backup is a full one
    newer = backup(DISK_A, LAST_NIGHT)
    decisions = {d.id: d for d in plan([parent, newer], Policy(last=1))}
    assert decisions[parent["id"]].reasons == ["has dependent backups vbs cannot identify"]


def test_a_policy_is_required():
    with pytest.raises(ValueError):
        plan([], Policy())


# -- invariants, for any history -----------------------------------------------------------------


@st.composite
def histories(draw: st.DrawFn) -> list[dict]:
    history: list[dict] = []
    for disk in draw(st.lists(st.sampled_from([DISK_A, DISK_B, DISK_C]), min_size=1, max_size=3, unique=True)):
        when = LAST_NIGHT - timedelta(days=60)
        count = draw(st.integers(0, 14))
        for n in range(count):
            when += timedelta(hours=draw(st.integers(1, 200)))
            statuses = ["available", "available", "available", "error", "deleting", "restoring"]
            status = draw(st.sampled_from(statuses + (["creating"] if n == count - 1 else [])))
            alive = [b for b in history if b["volume_id"] == disk and b["status"] != "error"]
            latest = alive[-1] if alive else None
            parent = None
            if status != "error" and latest and latest["status"] in ("available", "restoring") and draw(st.booleans()):
                parent = latest
            name = draw(st.sampled_from(["nightly-x", "nightly-y", "hand-made"]))
            history.append(backup(disk, when, status, parent, name))
    return link_dependents(history)


@st.composite
def policies(draw: st.DrawFn) -> Policy:
    counts = {k: draw(st.integers(0, 5)) for k in ("last", "daily", "weekly", "monthly")}
    hours = draw(st.one_of(st.none(), st.integers(1, 24 * 30)))
    if not any(counts.values()) and hours is None:
        counts["last"] = 1
    return Policy(**counts, within=timedelta(hours=hours) if hours else None)


@settings(max_examples=300, deadline=None)
@given(histories(), policies(), st.sampled_from([None, "nightly-"]))
def test_invariants(history, policy, prefix):
    decisions = plan(history, policy, prefix)
    action = {d.id: d.action for d in decisions}
    by_id = {b["id"]: b for b in history}
    assert sorted(action) == sorted(by_id)
    for disk in {b["volume_id"] for b in history}:
        good = [b for b in history if b["volume_id"] == disk and b["status"] == "available"]
        if good:
            newest = max(good, key=lambda b: b["created_at"])
            assert action[newest["id"]] == "keep", "the newest available backup was deleted"
    for b in history:
        if b["status"] not in ("available", "error"):
            assert action[b["id"]] == "keep", f"a {b['status']} backup was touched"
        if prefix and not b["name"].startswith(prefix):
            assert action[b["id"]] == "keep", "a backup outside the prefix was touched"
        if action[b["id"]] == "keep":
            parent = b["parent"]
            while parent:
                assert action[parent] == "keep", "a kept backup depends on a deleted one"
                parent = by_id[parent]["parent"]
    after = {d.id: d.after for d in decisions}
    for b in history:
        if b["parent"] and action[b["id"]] == action[b["parent"]] == "delete":
            assert b["id"] in after[b["parent"]], "a backup would be deleted before its dependent"

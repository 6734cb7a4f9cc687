"""GET a backup, and the listings with filters, newest-first order and paging through next links."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest

from tests.emulator.conftest import FAILING, FAILING_SNAP, IN_USE, IN_USE_SNAP, PROJECT, SNAPSHOT, UNKNOWN, VOLUME


@pytest.fixture
def three(api, clock):
    """Three backups a minute apart: nightly-1 and nightly-2 of VOLUME, attached-1 of IN_USE."""
    ids = []
    for volume, snapshot, name, force in (
        (VOLUME, SNAPSHOT, "nightly-1", False),
        (IN_USE, IN_USE_SNAP, "attached-1", True),
        (VOLUME, SNAPSHOT, "nightly-2", False),
    ):
        ids.append(api.create(volume, snapshot, name=name, force=force).json()["backup"]["id"])
        clock.advance(60)
    return ids


def test_show_gives_the_full_detail(emu, api):
    backup_id = api.create(name="nightly", description="before the upgrade").json()["backup"]["id"]
    response = api.get(f"/backups/{backup_id}")
    assert response.status_code == 200
    assert response.headers["X-Openstack-Request-Id"].startswith("req-")
    assert response.json() == {
        "backup": {
            "id": backup_id,
            "name": "nightly",
            "status": "available",
            "description": "before the upgrade",
            "volume_id": VOLUME,
            "snapshot_id": SNAPSHOT,
            "size": 10,
            "object_count": 40,
            "availability_zone": "eu-de-01",
            "container": VOLUME,
            "created_at": "2026-11-28T10:00:00.000000",
            "updated_at": "2026-11-28T10:00:00.000000",
            "data_timestamp": "2026-11-28T10:00:00.000000",
            "fail_reason": None,
            "is_incremental": False,
            "has_dependent_backups": False,
            "links": [
                {"href": f"{emu.url}/v3/{PROJECT}/backups/{backup_id}", "rel": "self"},
                {"href": f"{emu.url}/{PROJECT}/backups/{backup_id}", "rel": "bookmark"},
            ],
        }
    }


def test_size_is_the_volumes(api):
    backup_id = api.create(IN_USE, IN_USE_SNAP, force=True).json()["backup"]["id"]
    assert api.get(f"/backups/{backup_id}").json()["backup"]["size"] == 40


def test_unknown_backup_is_404_item_not_found(api):
    for backup_id in (UNKNOWN, "not-a-uuid"):
        response = api.get(f"/backups/{backup_id}")
        assert response.status_code == 404
        assert list(response.json()) == ["itemNotFound"]
        assert "could not be found" in response.json()["itemNotFound"]["message"]


def test_first_backup_is_full_later_ones_incremental(api, clock):
    first = api.create().json()["backup"]["id"]
    second = api.create().json()["backup"]["id"]
    other_disk = api.create(IN_USE, IN_USE_SNAP, force=True).json()["backup"]["id"]
    shown = {i: api.get(f"/backups/{i}").json()["backup"] for i in (first, second, other_disk)}
    assert [shown[i]["is_incremental"] for i in (first, second, other_disk)] == [False, True, False]
    assert [shown[i]["has_dependent_backups"] for i in (first, second, other_disk)] == [False, False, False]


def test_failed_backups_do_not_make_the_next_one_incremental(api):
    api.create(FAILING, FAILING_SNAP)
    second = api.create(FAILING, FAILING_SNAP).json()["backup"]["id"]
    assert api.get(f"/backups/{second}").json()["backup"]["is_incremental"] is False


def test_list_is_newest_first_with_id_name_links(emu, api, three):
    response = api.get("/backups")
    assert response.status_code == 200
    backups = response.json()["backups"]
    assert [b["id"] for b in backups] == list(reversed(three))
    assert all(set(b) == {"id", "name", "links"} for b in backups)
    assert backups[0]["links"][0] == {"href": f"{emu.url}/v3/{PROJECT}/backups/{three[2]}", "rel": "self"}
    assert "backups_links" not in response.json()


def test_detail_lists_full_objects(api, three):
    backups = api.get("/backups/detail").json()["backups"]
    assert [b["name"] for b in backups] == ["nightly-2", "attached-1", "nightly-1"]
    assert [b["created_at"] for b in backups] == [
        "2026-11-28T10:02:00.000000",
        "2026-11-28T10:01:00.000000",
        "2026-11-28T10:00:00.000000",
    ]
    assert all(b["status"] == "available" and "fail_reason" in b for b in backups)


def test_same_created_at_is_ordered_by_id_descending(api):
    ids = [
        api.create(volume, snap, force=True).json()["backup"]["id"]
        for volume, snap in ((VOLUME, SNAPSHOT), (IN_USE, IN_USE_SNAP), (FAILING, FAILING_SNAP))
    ]
    assert [b["id"] for b in api.get("/backups").json()["backups"]] == sorted(ids, reverse=True)


@pytest.mark.parametrize(
    ("query", "names"),
    [
        ({"volume_id": VOLUME}, ["nightly-2", "nightly-1"]),
        ({"volume_id": VOLUME.upper()}, ["nightly-2", "nightly-1"]),
        ({"name": "attached-1"}, ["attached-1"]),
        ({"name": "nightly"}, []),
        ({"status": "available", "volume_id": IN_USE}, ["attached-1"]),
        ({"status": "creating"}, []),
    ],
)
def test_filters(api, three, query, names):
    for path in ("/backups", "/backups/detail"):
        assert [b["name"] for b in api.get(path, **query).json()["backups"]] == names


def test_paging_follows_next_links_with_the_same_filters(api, clock):
    ids = []
    for n in range(5):
        ids.append(api.create(name=f"page-{n}").json()["backup"]["id"])
        clock.advance(60)
    api.create(IN_USE, IN_USE_SNAP, force=True, name="other-disk")
    seen, pages = [], 0
    response = api.get("/backups/detail", volume_id=VOLUME, limit=2)
    while True:
        pages += 1
        body = response.json()
        assert len(body["backups"]) <= 2
        seen += [b["id"] for b in body["backups"]]
        links = body.get("backups_links")
        if not links:
            break
        assert links[0]["rel"] == "next"
        href = urlsplit(links[0]["href"])
        assert href.path == f"/v3/{PROJECT}/backups/detail"
        assert parse_qs(href.query) == {"volume_id": [VOLUME], "limit": ["2"], "marker": [seen[-1]]}
        response = api.get(links[0]["href"])
    assert seen == list(reversed(ids)) and pages == 3


def test_last_full_page_has_no_next_link(api, three):
    body = api.get("/backups", limit=3).json()
    assert len(body["backups"]) == 3 and "backups_links" not in body


def test_marker_starts_after_the_given_backup(api, three):
    body = api.get("/backups", marker=three[2]).json()
    assert [b["id"] for b in body["backups"]] == [three[1], three[0]]


def test_a_marker_counts_from_the_backups_held_now_and_from_those_the_filters_leave(api, three, clock):
    assert [b["id"] for b in api.get("/backups", marker=three[1]).json()["backups"]] == [three[0]]
    newer = api.create(name="nightly-3").json()["backup"]["id"]  # the order changes between two pages
    clock.advance(60)
    assert [b["id"] for b in api.get("/backups", marker=newer).json()["backups"]] == [three[2], three[1], three[0]]
    filtered = api.get("/backups", volume_id=VOLUME, marker=newer).json()["backups"]
    assert [b["id"] for b in filtered] == [three[2], three[0]]
    # a backup the filters leave out is no marker for that listing, as upstream answers
    assert api.get("/backups", volume_id=VOLUME, marker=three[1]).status_code == 400


def test_unknown_marker_is_400(api, three):
    response = api.get("/backups", marker=UNKNOWN)
    assert response.status_code == 400
    assert list(response.json()) == ["badRequest"]


@pytest.mark.parametrize("limit", ["-1", "ten", "1.5"])
def test_bad_limit_is_400(api, limit):
    response = api.get("/backups/detail", limit=limit)
    assert response.status_code == 400
    assert list(response.json()) == ["badRequest"]


def test_listings_follow_every_change_to_the_backups_held(emu):
    """Listings answer from an index of the backups; it must be rebuilt on every kind of change."""
    from datetime import datetime, timezone

    store = emu.store

    def ids() -> list[str]:
        status, doc = store.listing({}, emu.url, f"/v3/{PROJECT}/backups/detail", detail=True)
        assert status == 200
        return [b["id"] for b in doc["backups"]]

    assert ids() == []
    when = datetime(2026, 1, 1, tzinfo=timezone.utc)
    first = store.add_backup(VOLUME, when)
    assert ids() == [first]
    second = store.add_backup(VOLUME, when.replace(day=2))
    assert ids() == [second, first]
    with store.lock:
        store._forget(store.backups[second])
    assert ids() == [first]
    with store.lock:
        store.backups.pop(first)
    assert ids() == []
    third = store.add_backup(VOLUME, when)
    with store.lock:
        store.backups = dict(store.backups)  # a plain dict put in its place still works
    assert ids() == [third]
    with store.lock:
        store.backups.clear()
    assert ids() == []

"""A seeded backup history (`backups:` and `history:`) and the disks listing (`volumes/detail`)."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from tests.emulator.conftest import START, TOKEN, Api
from vbscli.emulator import SeedError, load_seed

V1 = "11111111-1111-4111-8111-111111111111"
V2 = "22222222-2222-4222-8222-222222222222"
V3 = "33333333-3333-4333-8333-333333333333"
S1 = "44444444-4444-4444-8444-444444444444"

SEED = f"""\
project_id: "0123456789abcdef0123456789abcdef"
tokens: [{TOKEN}]
volumes:
  - {{id: {V1}, name: db01-data, status: in-use, size: 100}}
  - {{id: {V2}, name: "web \\"01\\"", size: 20}}
  - {{id: {V3}}}
snapshots:
  - {{id: {S1}, volume_id: {V1}}}
history:
  - {{volume_id: {V1}, strip: "#x.#", ago: 3h}}
  - {{volume_id: {V2}, strip: "x#", size: 5, name: weekly}}
backups:
  - {{volume_id: {V3}, created_at: "2026-01-15T02:30:00Z", name: before-upgrade}}
  - {{volume_id: {V3}, ago: 90m, status: creating}}
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "seed.yaml"
    path.write_text(text)
    return path


def stamp(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%S.%f")


@pytest.fixture
def seeded(tmp_path, start):
    emu = start(seed=load_seed(write(tmp_path, SEED)))
    api = Api(emu)
    yield emu, api
    api.close()


def test_a_strip_becomes_one_backup_a_day_ending_ago_before_the_start(seeded):
    emu, api = seeded
    backups = api.get("/backups/detail", volume_id=V1).json()["backups"]
    newest = START - timedelta(hours=3)
    # '#x.#' oldest first: the last day 3 h before the start, the first three days before that.
    assert [(b["status"], b["created_at"]) for b in backups] == [
        ("available", stamp(newest)),
        ("error", stamp(newest - timedelta(days=2))),
        ("available", stamp(newest - timedelta(days=3))),
    ]
    assert [b["name"] for b in backups] == [
        f"nightly-{newest:%Y%m%d-%H%M}",
        f"nightly-{newest - timedelta(days=2):%Y%m%d-%H%M}",
        f"nightly-{newest - timedelta(days=3):%Y%m%d-%H%M}",
    ]
    assert {b["size"] for b in backups} == {100}  # the volume's size unless given
    assert {b["snapshot_id"] for b in backups} == {S1}
    assert [b["is_incremental"] for b in backups] == [True, True, False]  # the first good one is full
    assert [b["has_dependent_backups"] for b in backups] == [False, False, False]  # as VBS: no chains
    assert "fail_reason" in backups[1] and backups[1]["fail_reason"]


def test_the_default_age_size_and_a_name_prefix(seeded):
    emu, api = seeded
    backups = api.get("/backups/detail", volume_id=V2).json()["backups"]
    assert [b["created_at"] for b in backups] == [
        stamp(START - timedelta(hours=2)),
        stamp(START - timedelta(hours=2, days=1)),
    ]
    assert [b["status"] for b in backups] == ["available", "error"]
    assert {b["size"] for b in backups} == {5}
    assert all(b["name"].startswith("weekly-") for b in backups)


def test_explicit_backups_at_a_time_or_an_age(seeded, clock):
    emu, api = seeded
    backups = api.get("/backups/detail", volume_id=V3).json()["backups"]
    assert [(b["status"], b["created_at"], b["name"]) for b in backups] == [
        ("creating", stamp(START - timedelta(minutes=90)), None),
        ("available", "2026-01-15T02:30:00.000000", "before-upgrade"),
    ]
    clock.advance(10_000)
    assert api.get(f"/backups/{backups[0]['id']}").json()["backup"]["status"] == "creating"  # stays so


def test_seeded_backups_are_stable_survive_a_reset_and_are_not_counted_as_created(seeded, clock):
    emu, api = seeded
    first = {b["id"] for b in api.get("/backups").json()["backups"]}
    assert len(first) == 3 + 2 + 2
    assert emu.stats()["backups_created"] == 0 and emu.stats()["backups"] == 7
    api.control("POST", "reset")
    assert {b["id"] for b in api.get("/backups").json()["backups"]} == first


def test_a_create_after_the_history_is_incremental_and_newest(seeded):
    emu, api = seeded
    created = api.create(V1, S1, name="now", force=True).json()["backup"]["id"]
    backups = api.get("/backups/detail", volume_id=V1).json()["backups"]
    assert backups[0]["id"] == created and backups[0]["is_incremental"] is True
    assert backups[1]["has_dependent_backups"] is False


def test_a_seed_with_cinder_chains_chains_its_history_and_every_create(tmp_path, start):
    api = Api(start(seed=load_seed(write(tmp_path, "chains: cinder\n" + SEED))))
    backups = api.get("/backups/detail", volume_id=V1).json()["backups"]
    assert [b["has_dependent_backups"] for b in backups] == [False, False, True]  # the error one is no parent
    created = api.create(V1, S1, name="now", force=True).json()["backup"]["id"]
    backups = api.get("/backups/detail", volume_id=V1).json()["backups"]
    assert backups[0]["id"] == created and backups[1]["has_dependent_backups"] is True
    api.close()


@pytest.mark.parametrize(
    ("change", "line", "problem"),
    [
        (('strip: "#x.#"', 'strip: "#x?#"'), 10, "history 1: 'strip' must be a string of '#'"),
        (('strip: "x#",', 'strip: "",'), 11, "history 2: 'strip' must be"),
        ((f"{{volume_id: {V1}, strip", "{volume_id: 55555555-5555-4555-8555-555555555555, strip"), 10, "is not one"),
        (("ago: 3h}", "ago: soon}"), 10, "history 1: 'ago' must be a duration"),
        (("size: 5,", "size: 0,"), 11, "history 2: 'size' must be a whole number"),
        (("ago: 3h}", "ago: 3h, every: 1d}"), 10, "history 1: unknown key 'every'"),
        (('created_at: "2026-01-15T02:30:00Z"', 'created_at: "last week"'), 13, "backup 1: 'created_at' must be"),
        (('created_at: "2026-01-15T02:30:00Z"', 'created_at: "2026-01-15T02:30:00Z", ago: 1h'), 13, "either"),
        (("ago: 90m, status: creating", "status: creating"), 14, "backup 2: give either 'created_at' or 'ago'"),
        (("status: creating", "status: deleting"), 14, "backup 2: 'status' must be one of available, error"),
    ],
)
def test_history_mistakes_name_the_line_and_problem(tmp_path, change, line, problem):
    path = write(tmp_path, SEED.replace(*change))
    with pytest.raises(SeedError) as caught:
        load_seed(path)
    assert str(caught.value).startswith(f"{path}:{line}: "), str(caught.value)
    assert problem in str(caught.value)


def test_sections_must_be_lists_of_mappings(tmp_path):
    path = write(tmp_path, SEED.split("history:")[0] + "history: {volume_id: x}\n")
    with pytest.raises(SeedError, match=rf"^{path}:1: 'history' must be a list of mappings"):
        load_seed(path)


def test_an_unquoted_yaml_timestamp_is_accepted(tmp_path):
    seed = load_seed(write(tmp_path, SEED.replace('"2026-01-15T02:30:00Z"', "2026-01-15 02:30:00")))
    when = next(b for b in seed.backups if b.name == "before-upgrade").created_at
    assert when == datetime(2026, 1, 15, 2, 30, tzinfo=timezone.utc)


# -- the disks -----------------------------------------------------------------------------------


def test_volumes_detail_lists_names_sizes_statuses_and_attachments(seeded):
    emu, api = seeded
    response = api.get("/volumes/detail")
    assert response.status_code == 200 and response.headers["X-Openstack-Request-Id"].startswith("req-")
    volumes = response.json()["volumes"]
    assert [(v["id"], v["name"], v["status"], v["size"]) for v in volumes] == [
        (V1, "db01-data", "in-use", 100),
        (V2, 'web "01"', "available", 20),
        (V3, None, "available", 10),
    ]
    assert [len(v["attachments"]) for v in volumes] == [1, 0, 0]
    assert "volumes_links" not in response.json()
    summary = api.get("/volumes").json()["volumes"]
    assert [(v["id"], v["name"]) for v in summary] == [(V1, "db01-data"), (V2, 'web "01"'), (V3, None)]


def test_volumes_are_paged_like_backups(seeded):
    emu, api = seeded
    emu.store.max_limit = 2
    first = api.get("/volumes/detail", limit=5).json()
    assert [v["id"] for v in first["volumes"]] == [V1, V2]
    (link,) = first["volumes_links"]
    assert link["rel"] == "next" and f"marker={V2}" in link["href"] and "limit=2" in link["href"]
    second = api.get(link["href"]).json()
    assert [v["id"] for v in second["volumes"]] == [V3] and "volumes_links" not in second
    assert api.get("/volumes/detail", marker="nope").status_code == 400
    assert api.get("/volumes/detail", limit="x").status_code == 400


def test_volumes_need_credentials_and_the_right_project_and_can_be_faulted(seeded):
    emu, api = seeded
    assert Api(emu, token=None).get("/volumes/detail").status_code == 401
    other = api.session.get(f"{emu.url}/v3/ffffffffffffffffffffffffffffffff/volumes/detail", headers=api.headers())
    assert other.status_code == 403
    assert api.session.post(f"{api.base}/volumes/detail", headers=api.headers()).status_code == 405
    api.control("POST", "faults", {"script": [{"match": "GET volumes_detail", "fault": "status", "status": 503}]})
    assert api.get("/volumes/detail").status_code == 503
    assert api.get("/volumes/detail").status_code == 200
    assert emu.stats()["requests"]["GET volumes_detail"] >= 2


def test_the_readme_seed_examples_are_valid(tmp_path):
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text()
    emulator = readme.split("## The emulator", 1)[1]
    blocks = [block.split("```", 1)[0] for block in emulator.split("```yaml\n")[1:3]]
    seed = load_seed(write(tmp_path, blocks[0] + blocks[1]))
    assert len(seed.backups) == 13 + 2  # the strip's '#' and 'x' days, and the two single backups

"""Seed files: what a valid one gives, and how a broken one is reported (file, line, problem)."""

from __future__ import annotations

from pathlib import Path

import pytest

from vbscli.emulator import Seed, SeedError, demo_seed, load_seed

V1 = "11111111-1111-4111-8111-111111111111"
V2 = "22222222-2222-4222-8222-222222222222"
S1 = "33333333-3333-4333-8333-333333333333"

GOOD = f"""\
project_id: 0123456789abcdef0123456789abcdef
tokens: [lab-token]
volumes:
  - {{id: {V1}, status: available, size: 80}}
  - {{id: {V2.upper()}, status: in-use, fail_backups: true}}
snapshots:
  - {{id: {S1}, volume_id: {V1}, status: available}}
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "seed.yaml"
    path.write_text(text)
    return path


def test_a_valid_seed_file(tmp_path):
    seed = load_seed(write(tmp_path, GOOD))
    assert isinstance(seed, Seed)
    assert seed.project_id == "0123456789abcdef0123456789abcdef"
    assert seed.tokens == ["lab-token"]
    assert [(v.id, v.status, v.size, v.fail_backups) for v in seed.volumes] == [
        (V1, "available", 80, False),
        (V2, "in-use", 10, True),
    ]
    assert [(s.id, s.volume_id, s.status) for s in seed.snapshots] == [(S1, V1, "available")]


def test_a_seed_file_drives_the_emulator(tmp_path, start):
    from tests.emulator.conftest import Api

    emu = start(seed=load_seed(write(tmp_path, GOOD)))
    api = Api(emu, token="lab-token")
    backup_id = api.create(V1, S1, name="lab").json()["backup"]["id"]
    assert api.get(f"/backups/{backup_id}").json()["backup"]["size"] == 80
    assert Api(emu).get("/backups").status_code == 401  # the demo token is not in this seed


def test_bad_yaml_reports_the_line(tmp_path):
    path = write(tmp_path, "project_id: abc\ntokens: [a\nvolumes: []\n")
    with pytest.raises(SeedError) as caught:
        load_seed(path)
    message = str(caught.value)
    assert message.startswith(f"{path}:3: invalid YAML")


def test_tab_indentation_reports_the_line(tmp_path):
    path = write(tmp_path, "project_id: abc\ntokens:\n\t- a\n")
    with pytest.raises(SeedError, match=rf"^{path}:3: invalid YAML"):
        load_seed(path)


@pytest.mark.parametrize(
    ("text", "line", "problem"),
    [
        (
            GOOD.replace(f"{{id: {V1}, status: available, size: 80}}", "{id: disk-1, status: available}"),
            4,
            "volume 1: id 'disk-1' is not a UUID",
        ),
        (
            GOOD.replace(f"volume_id: {V1}", "volume_id: 44444444-4444-4444-8444-444444444444"),
            7,
            "snapshot 1: volume_id 44444444-4444-4444-8444-444444444444 is not one of the seed's volumes",
        ),
        (GOOD.replace("fail_backups: true", "fail_backup: true"), 5, "volume 2: unknown key 'fail_backup'"),
        (GOOD.replace("fail_backups: true", "fail_backups: sometimes"), 5, "'fail_backups' must be true or false"),
        (GOOD.replace("size: 80", "size: big"), 4, "'size' must be a whole number"),
        (
            GOOD.replace(f"  - {{id: {S1}, volume_id: {V1}, status: available}}", f"  - {{id: {S1}}}"),
            7,
            "snapshot 1: 'volume_id' is missing",
        ),
        (GOOD.replace(V2.upper(), V1), 5, f"volume 2: id {V1} appears twice"),
        (GOOD.replace("project_id: 0123456789abcdef0123456789abcdef\n", ""), 1, "'project_id' is missing"),
        (GOOD.replace("0123456789abcdef0123456789abcdef", "12345"), 1, "'project_id' must be a string"),
        (GOOD.replace("tokens: [lab-token]", "tokens: lab-token"), 1, "'tokens' must be a list"),
        (GOOD.replace("tokens: [lab-token]", "tokens: []"), 1, "no credentials"),
        (GOOD + "region: [eu-de]\n", 1, "the seed: unknown key 'region'"),
        (GOOD + "regions: []\n", 1, "'regions' must be a non-empty list"),
        (
            GOOD + "application_credentials: [{id: a1, name: n, secret: s, user: nobody}]\n",
            8,
            "application credential 1: user 'nobody' is not one of the seed's users",
        ),
        (
            GOOD.replace("snapshots:\n", "snapshots:\n  - just-a-string\n"),
            7,
            "each entry of 'snapshots' must be a mapping",
        ),
    ],
)
def test_shape_errors_name_the_file_line_and_problem(tmp_path, text, line, problem):
    path = write(tmp_path, text)
    with pytest.raises(SeedError) as caught:
        load_seed(path)
    message = str(caught.value)
    assert message.startswith(f"{path}:{line}: "), message
    assert problem in message


@pytest.mark.parametrize("text", ["", "- a\n- b\n", "just text\n"])
def test_a_seed_that_is_not_a_mapping(tmp_path, text):
    with pytest.raises(SeedError, match="expected a mapping"):
        load_seed(write(tmp_path, text))


def test_a_missing_file(tmp_path):
    with pytest.raises(SeedError, match=r"nope\.yaml: cannot read"):
        load_seed(tmp_path / "nope.yaml")


def test_yaml_tags_that_build_objects_are_refused(tmp_path):
    path = write(tmp_path, "project_id: !!python/object/apply:os.getcwd []\ntokens: [a]\n")
    with pytest.raises(SeedError, match=rf"^{path}:1: invalid YAML"):
        load_seed(path)


def test_demo_seed_has_one_disk_of_each_kind():
    seed = demo_seed()
    assert seed.project_id == "0123456789abcdef0123456789abcdef" and seed.tokens == ["demo-token"]
    statuses = {v.status for v in seed.volumes}
    assert {"available", "in-use", "error"} <= statuses
    assert any(v.fail_backups for v in seed.volumes)
    volume_ids = {v.id for v in seed.volumes}
    assert {s.volume_id for s in seed.snapshots} == volume_ids
    assert demo_seed() is not seed and demo_seed() == seed

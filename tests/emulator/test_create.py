"""POST /v3/{project_id}/backups: the answer's shape and every check the service makes."""

from __future__ import annotations

import json
import re

import pytest

from tests.emulator.conftest import (
    BROKEN,
    BROKEN_SNAP,
    FAILING_SNAP,
    IN_USE,
    IN_USE_SNAP,
    PROJECT,
    SNAPSHOT,
    UNKNOWN,
    VOLUME,
)

REQUEST_ID = re.compile(r"^req-[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$")
UUID4 = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$")


def bad_request(response, code: str) -> str:
    assert response.status_code == 400, response.text
    body = response.json()
    assert list(body) == ["badRequest"] and body["badRequest"]["code"] == code
    return body["badRequest"]["message"]


def test_created_backup_has_exactly_the_documented_shape(emu, api):
    response = api.create(name="backup1", description="Backup_Demo")
    assert response.status_code == 202
    assert response.headers["Content-Type"] == "application/json"
    assert REQUEST_ID.match(response.headers["X-Openstack-Request-Id"])
    body = response.json()
    backup_id = body["backup"]["id"]
    assert UUID4.match(backup_id)
    assert body == {
        "backup": {
            "id": backup_id,
            "links": [
                {"href": f"{emu.url}/v3/{PROJECT}/backups/{backup_id}", "rel": "self"},
                {"href": f"{emu.url}/{PROJECT}/backups/{backup_id}", "rel": "bookmark"},
            ],
            "name": "backup1",
        }
    }
    assert emu.stats()["backups_created"] == 1


def test_links_follow_the_host_the_client_used(emu, api):
    response = api.session.post(
        f"{api.base}/backups",
        json={"backup": {"volume_id": VOLUME, "snapshot_id": SNAPSHOT}},
        headers={**api.headers(), "Host": f"localhost:{emu.port}"},
        timeout=5,
    )
    self_link = response.json()["backup"]["links"][0]["href"]
    assert self_link.startswith(f"http://localhost:{emu.port}/v3/{PROJECT}/backups/")


def test_a_backup_without_a_name_has_name_null(api):
    response = api.create()
    assert response.status_code == 202
    assert response.json()["backup"]["name"] is None
    shown = api.get(f"/backups/{response.json()['backup']['id']}").json()["backup"]
    assert shown["name"] is None and shown["description"] is None


def test_every_request_gets_its_own_request_id(api):
    ids = {api.create(name=f"b{n}").headers["X-Openstack-Request-Id"] for n in range(3)}
    ids.add(api.get("/backups/" + UNKNOWN).headers["X-Openstack-Request-Id"])
    assert len(ids) == 4 and all(REQUEST_ID.match(i) for i in ids)


@pytest.mark.parametrize(
    ("name", "code"),
    [
        ("x" * 65, "VolumeBackup.0003"),
        ("", "VolumeBackup.0007"),
        ("nightly backup", "VolumeBackup.0004"),
        ("nightly.1", "VolumeBackup.0004"),
        ("nächtlich", "VolumeBackup.0004"),
        (42, "VolumeBackup.0004"),
        ("auto-nightly", "VolumeBackup.0005"),
        ("auto", "VolumeBackup.0005"),
    ],
)
def test_bad_names_get_the_service_codes(emu, api, name, code):
    bad_request(api.create(name=name), code)
    assert emu.stats()["backups_created"] == 0


@pytest.mark.parametrize("name", ["x" * 64, "a", "Nightly_2026-11-28", "AUTOMATIC", "my-auto"])
def test_names_within_the_rules_are_accepted(api, name):
    assert api.create(name=name).status_code == 202


@pytest.mark.parametrize("description", ["d" * 256, "<b>bold</b>", "a > b", 7])
def test_bad_descriptions_are_rejected_with_0006(api, description):
    bad_request(api.create(description=description), "VolumeBackup.0006")


def test_a_description_of_255_characters_is_accepted(api):
    response = api.create(description="d" * 255)
    assert response.status_code == 202
    assert api.get(f"/backups/{response.json()['backup']['id']}").json()["backup"]["description"] == "d" * 255


@pytest.mark.parametrize(
    ("volume", "code"),
    [
        (None, "VolumeBackup.0010"),
        ("", "VolumeBackup.0010"),
        ("disk-1", "VolumeBackup.0011"),
        (12, "VolumeBackup.0011"),
        (VOLUME + "0", "VolumeBackup.0011"),
    ],
)
def test_volume_id_missing_or_not_a_uuid(api, volume, code):
    bad_request(api.create(volume=volume), code)


@pytest.mark.parametrize("snapshot", [None, "", "snap-1", ["x"]])
def test_snapshot_id_missing_or_not_a_uuid(api, snapshot):
    bad_request(api.create(snapshot=snapshot), "VolumeBackup.0014")


def test_unknown_volume_is_404_with_0021(api):
    response = api.create(volume=UNKNOWN)
    assert response.status_code == 404
    assert response.json()["itemNotFound"]["code"] == "VolumeBackup.0021"
    assert UNKNOWN in response.json()["itemNotFound"]["message"]


def test_unknown_snapshot_is_404(api):
    response = api.create(snapshot=UNKNOWN)
    assert response.status_code == 404
    assert list(response.json()) == ["itemNotFound"]


def test_ids_are_matched_regardless_of_case(api):
    assert api.create(volume=VOLUME.upper(), snapshot=SNAPSHOT.upper()).status_code == 202


def test_snapshot_of_another_volume_is_rejected(emu, api):
    message = bad_request(api.create(snapshot=FAILING_SNAP), "VolumeBackup.0015")
    assert FAILING_SNAP in message
    assert emu.stats()["backups_created"] == 0


def test_volume_in_error_status_cannot_be_backed_up(api):
    message = bad_request(api.create(volume=BROKEN, snapshot=BROKEN_SNAP), "VolumeBackup.0012")
    assert "error" in message


def test_in_use_volume_needs_force(emu, api):
    bad_request(api.create(volume=IN_USE, snapshot=IN_USE_SNAP), "VolumeBackup.0016")
    bad_request(api.create(volume=IN_USE, snapshot=IN_USE_SNAP, force=False), "VolumeBackup.0016")
    assert api.create(volume=IN_USE, snapshot=IN_USE_SNAP, force=True).status_code == 202
    assert emu.stats()["backups_created"] == 1


def test_a_second_backup_while_one_is_creating_is_0013(start, clock):
    from tests.emulator.conftest import Api

    emu = start(create_delay=30)
    api = Api(emu)
    assert api.create(name="first").status_code == 202
    clock.advance(29.9)
    message = bad_request(api.create(name="second"), "VolumeBackup.0013")
    assert VOLUME in message
    assert api.create(volume=IN_USE, snapshot=IN_USE_SNAP, force=True).status_code == 202  # other disks are free
    clock.advance(0.1)
    assert api.create(name="second").status_code == 202
    assert emu.stats()["backups_created"] == 3


def test_content_type_must_be_json(emu, api):
    body = json.dumps({"backup": {"volume_id": VOLUME, "snapshot_id": SNAPSHOT}})
    for content_type in ("text/plain", "application/x-www-form-urlencoded", None):
        response = api.post("/backups", body, content_type)
        assert response.status_code == 415
        assert response.headers["Content-Type"] == "application/json"
        assert response.json()["badMediaType"]["code"] == 415
    assert api.post("/backups", body, "application/json; charset=utf-8").status_code == 202
    assert emu.stats()["backups_created"] == 1


@pytest.mark.parametrize(
    "data", ['{"backup": {', "", "null", "[]", '{"volume_id": "x"}', '{"backup": "x"}', b"\xff\xfe"]
)
def test_malformed_body_is_bad_request(emu, api, data):
    response = api.post("/backups", data)
    assert response.status_code == 400
    assert list(response.json()) == ["badRequest"]
    assert emu.stats()["backups_created"] == 0


def test_chunked_request_body_is_read(api):
    body = b'{"backup": {"volume_id": "%s", "snapshot_id": "%s", "name": "chunked"}}' % (
        VOLUME.encode(),
        SNAPSHOT.encode(),
    )
    response = api.session.post(
        f"{api.base}/backups",
        data=iter([body[:20], body[20:]]),
        headers=api.headers({"Content-Type": "application/json"}),
        timeout=5,
    )
    assert response.status_code == 202 and response.json()["backup"]["name"] == "chunked"


def test_oversized_body_is_refused_and_the_connection_closed(api):
    response = api.post("/backups", b"{" + b" " * (1024 * 1024 + 1))
    assert response.status_code == 413
    assert response.headers["Connection"] == "close"
    assert list(response.json()) == ["overLimit"]

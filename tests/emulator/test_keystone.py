"""The emulator as Keystone: password, application-credential and token logins, each answered with a
service catalog whose block-storage endpoints (two regions) lead back to the emulator."""

from __future__ import annotations

import requests

from tests.emulator.conftest import PROJECT, Api
from vbscli.emulator import load_seed

APP_ID = "0c6e8a2f4b1d4e3a9f7c5b2d1e0a9b8c"


def login(emu, identity: dict, scope: dict | None = None) -> requests.Response:
    body: dict = {"auth": {"identity": identity}}
    if scope is not None:
        body["auth"]["scope"] = scope
    return requests.post(f"{emu.url}/v3/auth/tokens", json=body, timeout=5)


def app_cred(**fields) -> dict:
    return {"methods": ["application_credential"], "application_credential": fields}


def block_storage(answer: requests.Response) -> list[dict]:
    catalog = answer.json()["token"]["catalog"]
    return [e for s in catalog if s["type"] == "block-storage" for e in s["endpoints"]]


def test_a_password_login_comes_with_a_catalog_in_two_regions(emu):
    password = {"user": {"name": "demo", "password": "demo-password", "domain": {"name": "demo-domain"}}}
    answer = login(emu, {"methods": ["password"], "password": password}, {"project": {"id": PROJECT}})
    assert answer.status_code == 201
    catalog = answer.json()["token"]["catalog"]
    assert {s["type"] for s in catalog} == {"identity", "block-storage", "volumev3"}
    public = {e["region_id"]: e["url"] for e in block_storage(answer) if e["interface"] == "public"}
    assert public == {
        "RegionOne": f"{emu.url}/v3/{PROJECT}",
        "RegionTwo": f"http://localhost:{emu.port}/v3/{PROJECT}",
    }
    assert {e["interface"] for e in block_storage(answer)} == {"public", "internal"}


def test_every_catalog_url_leads_back_to_the_emulator(emu):
    answer = login(emu, app_cred(id=APP_ID, secret="demo-app-secret"))
    token = answer.headers["X-Subject-Token"]
    for entry in block_storage(answer):
        listed = requests.get(f"{entry['url']}/backups", headers={"X-Auth-Token": token}, timeout=5)
        assert listed.status_code == 200, entry


def test_application_credential_by_id_or_by_name_and_user(emu):
    by_id = login(emu, app_cred(id=APP_ID, secret="demo-app-secret"))
    assert by_id.status_code == 201 and by_id.json()["token"]["project"]["id"] == PROJECT
    assert by_id.json()["token"]["methods"] == ["application_credential"]
    by_user_name = login(
        emu,
        app_cred(
            name="vbs-nightly", secret="demo-app-secret", user={"name": "demo", "domain": {"name": "demo-domain"}}
        ),
    )
    assert by_user_name.status_code == 201
    by_user_id = login(emu, app_cred(name="vbs-nightly", secret="demo-app-secret", user={"id": "u-demo"}))
    assert by_user_id.status_code == 201
    token = by_user_id.headers["X-Subject-Token"]
    assert Api(emu, token=token).get("/backups").status_code == 200


def test_refused_application_credentials(emu):
    assert login(emu, app_cred(id=APP_ID, secret="wrong")).status_code == 401
    assert login(emu, app_cred(id="nope", secret="demo-app-secret")).status_code == 401
    assert login(emu, app_cred(name="vbs-nightly", secret="demo-app-secret", user={"id": "u-other"})).status_code == 401
    assert login(emu, app_cred(id=APP_ID)).status_code == 400
    scoped = login(emu, app_cred(id=APP_ID, secret="demo-app-secret"), {"project": {"id": PROJECT}})
    assert scoped.status_code == 401 and "cannot request a scope" in scoped.json()["error"]["message"]


def test_a_token_is_traded_for_a_scoped_one(emu):
    traded = login(emu, {"methods": ["token"], "token": {"id": "demo-token"}}, {"project": {"id": PROJECT}})
    assert traded.status_code == 201 and traded.headers["X-Subject-Token"] != "demo-token"
    again = login(emu, {"methods": ["token"], "token": {"id": traded.headers["X-Subject-Token"]}})
    assert again.status_code == 201  # an issued token may be traded too
    assert login(emu, {"methods": ["token"], "token": {"id": "bogus"}}).status_code == 401
    other = login(emu, {"methods": ["token"], "token": {"id": "demo-token"}}, {"project": {"id": "f" * 32}})
    assert other.status_code == 401
    assert requests.post(f"{emu.url}/v3/auth/tokens", json={"auth": {}}, timeout=5).status_code == 400


def test_the_seed_names_regions_and_application_credentials(start, tmp_path):
    seed = tmp_path / "seed.yaml"
    seed.write_text(
        'project_id: "0123456789abcdef0123456789abcdef"\n'
        "users: [{name: bot, password: pw, domain: d, id: bot-id}]\n"
        "application_credentials: [{id: ac1, name: cron, secret: s3, user: bot}]\n"
        "regions: [eu-de, eu-nl, eu-ch]\n"
    )
    emu = start(seed=load_seed(seed))
    answer = login(emu, app_cred(name="cron", secret="s3", user={"id": "bot-id"}))
    assert answer.status_code == 201
    assert {e["region_id"] for e in block_storage(answer)} == {"eu-de", "eu-nl", "eu-ch"}


def test_a_password_login_takes_the_user_by_id_or_by_name_in_a_domain_by_id(emu):
    # as clouds.yaml files often write it: user_domain_id: default, or a user_id
    scope = {"project": {"id": PROJECT}}
    by_id = {"methods": ["password"], "password": {"user": {"id": "u-demo", "password": "demo-password"}}}
    assert login(emu, by_id, scope).status_code == 201
    domain_id = {"name": "demo", "domain": {"id": "demo-domain"}, "password": "demo-password"}
    assert login(emu, {"methods": ["password"], "password": {"user": domain_id}}, scope).status_code == 201
    wrong = {"id": "u-demo", "password": "not-it"}
    assert login(emu, {"methods": ["password"], "password": {"user": wrong}}, scope).status_code == 401
    assert login(emu, by_id, {"project": {"id": "f" * 32}}).status_code == 401

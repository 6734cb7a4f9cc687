"""Who may call (tokens, pluggable verifiers), which project, and what unknown routes and methods get."""

from __future__ import annotations

import pytest

from tests.emulator.conftest import PROJECT, UNKNOWN, Api

UNAUTHORIZED = {"unauthorized": {"code": 401, "message": "The request you have made requires authentication."}}


@pytest.mark.parametrize("token", [None, "wrong-token", ""])
def test_missing_or_wrong_token_is_401(emu, token):
    api = Api(emu, token=token)
    for response in (api.create(), api.get("/backups"), api.get(f"/backups/{UNKNOWN}"), api.get("/backups/detail")):
        assert response.status_code == 401
        assert response.json() == UNAUTHORIZED
        assert response.headers["X-Openstack-Request-Id"].startswith("req-")
    assert emu.stats()["backups_created"] == 0
    assert emu.stats()["requests"]["POST backups"] == 1


def test_every_seed_token_is_accepted(start):
    from vbscli.emulator import demo_seed

    seed = demo_seed()
    seed.tokens = ["token-a", "token-b"]
    emu = start(seed=seed)
    assert list(emu.tokens) == ["token-a", "token-b"]
    assert [Api(emu, token=t).get("/backups").status_code for t in ("token-a", "token-b", "demo-token")] == [
        200,
        200,
        401,
    ]


def test_another_project_is_403_for_a_valid_token(emu, api):
    other = "ffffffffffffffffffffffffffffffff"
    response = api.session.get(f"{emu.url}/v3/{other}/backups", headers=api.headers(), timeout=5)
    assert response.status_code == 403
    assert response.json()["forbidden"]["code"] == 403
    unauthenticated = api.session.get(f"{emu.url}/v3/{other}/backups", timeout=5)
    assert unauthenticated.status_code == 401


def test_token_value_never_reaches_the_log(emu, log):
    Api(emu, token="s3cret-value").get("/backups")
    Api(emu).create()
    assert log.wait_for('"GET /v3/') and log.wait_for('"POST /v3/')
    assert "s3cret-value" not in log.text and "demo-token" not in log.text


@pytest.mark.parametrize("path", ["/", "/v3", f"/v3/{PROJECT}/volumes", f"/v3/{PROJECT}/backups/a/b", "/v2/x/backups"])
def test_unknown_routes_are_404_item_not_found(emu, api, path):
    response = api.session.get(f"{emu.url}{path}", headers=api.headers(), timeout=5)
    assert response.status_code == 404
    assert list(response.json()) == ["itemNotFound"]
    assert response.headers["X-Openstack-Request-Id"].startswith("req-")


@pytest.mark.parametrize(
    ("method", "path", "allowed"),
    [
        ("DELETE", "/backups", "GET, POST"),
        ("PUT", "/backups", "GET, POST"),
        ("PATCH", "/backups", "GET, POST"),
        ("POST", "/backups/detail", "GET"),
        ("PUT", f"/backups/{UNKNOWN}", "GET, DELETE"),
    ],
)
def test_wrong_method_on_a_known_route_is_405(api, method, path, allowed):
    response = api.session.request(method, f"{api.base}{path}", headers=api.headers(), timeout=5)
    assert response.status_code == 405
    assert response.headers["Allow"] == allowed
    assert response.json()["badMethod"]["code"] == 405


def test_head_gets_headers_without_a_body(api):
    response = api.session.head(f"{api.base}/backups", headers=api.headers(), timeout=5)
    assert response.status_code == 405 and response.content == b""
    assert int(response.headers["Content-Length"]) > 0


def test_microversion_is_echoed(api):
    asked = api.session.get(
        f"{api.base}/backups", headers=api.headers({"OpenStack-API-Version": "volume 3.44"}), timeout=5
    )
    assert asked.headers["OpenStack-API-Version"] == "volume 3.44"
    assert api.get("/backups").headers["OpenStack-API-Version"] == "volume 3.0"


def test_a_new_verifier_plugs_in_without_touching_the_handler(emu):
    class ApiKey:
        """Accepts X-Api-Key: k1, refuses other keys, ignores requests without the header."""

        def verify(self, method, target, headers, body):
            key = next((v for k, v in headers.items() if k.lower() == "x-api-key"), None)
            if key is None:
                return None
            return (True, "api key") if key == "k1" else (False, "bad api key")

    emu.auth.verifiers.append(ApiKey())
    api = Api(emu, token=None)
    ok = api.session.get(f"{api.base}/backups", headers={"X-Api-Key": "k1"}, timeout=5)
    refused = api.session.get(f"{api.base}/backups", headers={"X-Api-Key": "k2"}, timeout=5)
    assert ok.status_code == 200
    assert refused.status_code == 401 and refused.json()["unauthorized"]["message"] == "bad api key"
    assert Api(emu).get("/backups").status_code == 200


def test_iam_password_login_issues_a_token_that_works(emu):
    api = Api(emu, token=None)
    login = {
        "auth": {
            "identity": {
                "methods": ["password"],
                "password": {"user": {"name": "demo", "password": "demo-password", "domain": {"name": "demo-domain"}}},
            },
            "scope": {"project": {"id": PROJECT}},
        }
    }
    response = api.session.post(f"{emu.url}/v3/auth/tokens", json=login, timeout=5)
    assert response.status_code == 201
    issued = response.headers["X-Subject-Token"]
    assert Api(emu, token=issued).get("/backups").status_code == 200
    assert emu.tokens.revoke_all() == 1
    assert Api(emu, token=issued).get("/backups").status_code == 401


def test_aksk_signed_request_is_accepted_and_a_tampered_one_refused(start, clock):
    from datetime import datetime, timezone

    from vbscli import signing

    now = datetime.now(timezone.utc).replace(microsecond=0)
    emu = start(wall=lambda: now)
    url = f"{emu.url}/v3/{PROJECT}/backups?limit=5"
    headers = {
        "X-Sdk-Date": now.strftime(signing.DATE_FORMAT),
        "Host": f"127.0.0.1:{emu.port}",
        "X-Project-Id": PROJECT,
    }
    names = ["host", "x-project-id", "x-sdk-date"]
    request = signing.canonical_request("GET", url, {k.lower(): v for k, v in headers.items()}, names, b"")
    signature = signing.signature("demo-secret-key", signing.string_to_sign(headers["X-Sdk-Date"], request))
    headers["Authorization"] = (
        f"{signing.ALGORITHM} Access=DEMOACCESSKEY0000000, SignedHeaders={';'.join(names)}, Signature={signature}"
    )
    api = Api(emu, token=None)
    assert api.session.get(url, headers=headers, timeout=5).status_code == 200
    tampered = api.session.get(url.replace("limit=5", "limit=6"), headers=headers, timeout=5)
    assert tampered.status_code == 401

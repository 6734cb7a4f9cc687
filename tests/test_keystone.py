"""Keystone as clouds.yaml users know it: each auth type's login body (written out from the identity API's
documented shapes, not from the code), the block-storage endpoint picked from a catalog, and endpoint forms."""

from __future__ import annotations

import pytest

from vbscli.errors import ConfigError, InputError
from vbscli.keystone import DryRun, block_storage_entries, catalog_root, login_body, select_endpoint
from vbscli.values import service_root

IAM = "https://iam.example/v3"


@pytest.mark.parametrize(
    ("auth", "body"),
    [
        (
            {"type": "password", "username": "u", "password": "pw", "user_domain_name": "d", "project_id": "p1"},
            {
                "auth": {
                    "identity": {
                        "methods": ["password"],
                        "password": {"user": {"name": "u", "domain": {"name": "d"}, "password": "pw"}},
                    },
                    "scope": {"project": {"id": "p1"}},
                }
            },
        ),
        (
            {
                "type": "password",
                "user_id": "uid",
                "password": "pw",
                "project_name": "proj",
                "project_domain_id": "pdid",
            },
            {
                "auth": {
                    "identity": {"methods": ["password"], "password": {"user": {"id": "uid", "password": "pw"}}},
                    "scope": {"project": {"name": "proj", "domain": {"id": "pdid"}}},
                }
            },
        ),
        (
            # a project by name is in the user's domain unless another is given
            {"type": "password", "username": "u", "password": "pw", "user_domain_id": "ud", "project_name": "proj"},
            {
                "auth": {
                    "identity": {
                        "methods": ["password"],
                        "password": {"user": {"name": "u", "domain": {"id": "ud"}, "password": "pw"}},
                    },
                    "scope": {"project": {"name": "proj", "domain": {"id": "ud"}}},
                }
            },
        ),
        (
            {"type": "token", "token": "tok", "project_id": "p1"},
            {"auth": {"identity": {"methods": ["token"], "token": {"id": "tok"}}, "scope": {"project": {"id": "p1"}}}},
        ),
        (
            {"type": "application_credential", "application_credential_id": "ac", "application_credential_secret": "s"},
            {
                "auth": {
                    "identity": {
                        "methods": ["application_credential"],
                        "application_credential": {"id": "ac", "secret": "s"},
                    }
                }
            },
        ),
        (
            {
                "type": "application_credential",
                "application_credential_name": "nightly",
                "application_credential_secret": "s",
                "user_id": "uid",
            },
            {
                "auth": {
                    "identity": {
                        "methods": ["application_credential"],
                        "application_credential": {"name": "nightly", "user": {"id": "uid"}, "secret": "s"},
                    }
                }
            },
        ),
        (
            {
                "type": "application_credential",
                "application_credential_name": "nightly",
                "application_credential_secret": "s",
                "username": "u",
                "user_domain_name": "d",
                "project_id": "ignored: the credential carries its project",
            },
            {
                "auth": {
                    "identity": {
                        "methods": ["application_credential"],
                        "application_credential": {
                            "name": "nightly",
                            "user": {"name": "u", "domain": {"name": "d"}},
                            "secret": "s",
                        },
                    }
                }
            },
        ),
    ],
    ids=["password-by-name", "password-by-ids", "project-in-user-domain", "token", "appcred-id", "appcred-user-id",
         "appcred-user-name"],
)  # fmt: skip
def test_login_body_of_every_auth_type(auth, body):
    assert login_body(auth) == body


def test_aksk_has_no_login():
    with pytest.raises(ValueError):
        login_body({"type": "aksk", "access_key": "a", "secret_key": "s"})


def endpoint(kind, url, region="RegionOne", interface="public"):
    return {"type": kind, "url": url, "interface": interface, "region": region, "region_id": region}


def token_body(*services):
    return {"catalog": [{"type": kind, "name": kind, "endpoints": list(eps)} for kind, eps in services]}


def test_catalog_keeps_only_block_storage_and_its_aliases():
    body = token_body(
        ("identity", [{"interface": "public", "region": "R", "url": IAM}]),
        ("compute", [{"interface": "public", "region": "R", "url": "https://nova.example/v2.1"}]),
        ("volumev2", [{"interface": "public", "region": "R", "region_id": "R", "url": "https://cinder.example/v2/p"}]),
        ("block-storage", [{"interface": "internal", "region_id": "R", "url": "http://10.0.0.1/v3/p"}, "junk"]),
    )
    assert block_storage_entries(body) == [
        {"type": "volumev2", "url": "https://cinder.example/v2/p", "interface": "public", "region": "R",
         "region_id": "R"},
        {"type": "block-storage", "url": "http://10.0.0.1/v3/p", "interface": "internal", "region_id": "R"},
    ]  # fmt: skip
    assert block_storage_entries({"expires_at": "x"}) is None  # no catalog at all
    assert block_storage_entries({"catalog": []}) == []


def test_type_aliases_are_tried_in_order():
    entries = [
        endpoint("volume", "https://v1.example/v1/p"),
        endpoint("volumev3", "https://v3.example/v3/p"),
        endpoint("volumev2", "https://v2.example/v2/p"),
    ]
    assert select_endpoint(entries, None, "public", IAM) == "https://v3.example/v3/p"
    entries.append(endpoint("block-storage", "https://bs.example/v3/p"))
    assert select_endpoint(entries, None, "public", IAM) == "https://bs.example/v3/p"
    assert select_endpoint(entries[:1], None, "public", IAM) == "https://v1.example/v1/p"


def test_interface_is_chosen_and_public_by_default():
    entries = [
        endpoint("block-storage", "http://10.0.0.1/v3/p", interface="internal"),
        endpoint("block-storage", "https://public.example/v3/p"),
        endpoint("block-storage", "https://admin.example/v3/p", interface="admin"),
    ]
    assert select_endpoint(entries, None, "public", IAM) == "https://public.example/v3/p"
    assert select_endpoint(entries, None, "internal", IAM) == "http://10.0.0.1/v3/p"
    with pytest.raises(ConfigError) as info:
        select_endpoint(entries[:1], None, "public", IAM)
    assert "no public block-storage endpoint (interfaces offered: internal)" in info.value.message
    assert "OS_INTERFACE" in info.value.hint


def test_region_is_chosen_by_name_or_id_and_required_when_several():
    entries = [
        endpoint("block-storage", "https://de.example/v3/p", "eu-de"),
        endpoint("block-storage", "https://nl.example/v3/p", "eu-nl"),
    ]
    assert select_endpoint(entries, "eu-nl", "public", IAM) == "https://nl.example/v3/p"
    with pytest.raises(ConfigError) as info:
        select_endpoint(entries, None, "public", IAM)
    assert info.value.exit_code == 3
    assert info.value.message == (
        f"the service catalog from {IAM} has block-storage endpoints in several regions: eu-de, eu-nl"
    )
    assert "region_name" in info.value.hint and "OS_REGION_NAME" in info.value.hint
    with pytest.raises(ConfigError) as info:
        select_endpoint(entries, "eu-fr", "public", IAM)
    assert "no public block-storage endpoint in region 'eu-fr'; regions: eu-de, eu-nl" in info.value.message
    by_old_name = [{"type": "volumev3", "url": "https://x.example/v3/p", "interface": "public", "region": "eu-de"}]
    assert select_endpoint(by_old_name, "eu-de", "public", IAM) == "https://x.example/v3/p"
    # one region is not a choice to make
    assert select_endpoint(entries[:1], None, "public", IAM) == "https://de.example/v3/p"


def test_a_region_missing_from_one_alias_is_found_in_the_next():
    entries = [
        endpoint("block-storage", "https://de.example/v3/p", "eu-de"),
        endpoint("volumev3", "https://nl.example/v3/p", "eu-nl"),
    ]
    assert select_endpoint(entries, "eu-nl", "public", IAM) == "https://nl.example/v3/p"


def test_no_catalog_or_no_block_storage_says_how_to_set_the_endpoint():
    for entries, text in ((None, "returned no service catalog"), ([], "has no block-storage endpoint")):
        with pytest.raises(ConfigError) as info:
            select_endpoint(entries, None, "public", IAM)
        assert text in info.value.message and "--endpoint" in info.value.hint


def test_catalog_url_becomes_the_service_root_and_its_project():
    entries = [endpoint("block-storage", "https://cinder.example:8776/v3/0123abcd")]
    assert catalog_root(entries, None, "public", IAM) == ("https://cinder.example:8776", "0123abcd")
    templated = [endpoint("volumev3", "https://cinder.example/volume/v3/%(project_id)s")]
    assert catalog_root(templated, None, "public", IAM) == ("https://cinder.example/volume", None)
    with pytest.raises(ConfigError, match="lists a block-storage URL that must be an http"):
        catalog_root([endpoint("volumev3", "cinder.example/v3/p")], None, "public", IAM)


@pytest.mark.parametrize(
    ("url", "root", "project"),
    [
        ("https://evs.example", "https://evs.example", None),
        ("https://evs.example/", "https://evs.example", None),
        ("https://evs.example/v3", "https://evs.example", None),
        ("https://evs.example/v3/", "https://evs.example", None),
        ("https://evs.example/v3/648bba9ba87e4b3f8484d0fc60e2e6cc", "https://evs.example",
         "648bba9ba87e4b3f8484d0fc60e2e6cc"),
        ("https://evs.example:8776/v2/p-1", "https://evs.example:8776", "p-1"),
        ("http://127.0.0.1:8776/volume/v3/abc", "http://127.0.0.1:8776/volume", "abc"),
        ("https://evs.example/prefix", "https://evs.example/prefix", None),
        ("https://evs.example/v3/{project_id}", "https://evs.example", None),
        ("https://evs.example/v3/$(tenant_id)s", "https://evs.example", None),
    ],
)  # fmt: skip
def test_endpoint_forms_name_the_same_service_root(url, root, project):
    assert service_root(url) == (root, project)


@pytest.mark.parametrize(
    ("url", "problem"),
    [
        ("evs.example", "must be an http:// or https:// URL"),
        ("ftp://evs.example", "must be an http:// or https:// URL"),
        ("https://evs.example:99999", "invalid port"),
        ("https://evs.example/v3?x=1", "query or fragment"),
        ("https://evs.example/v3/p1/backups", "must be the service root, optionally followed by /v3"),
        ("https://evs.example/v3/not a project", "must be the service root"),
        ("", "must be a URL"),
    ],
)
def test_endpoints_that_are_not_a_service_root(url, problem):
    with pytest.raises(ValueError, match=problem):
        service_root(url)


class Login:
    """A login that may have a cached grant; counts attempts to log in (a dry run makes none)."""

    kind = "password"
    auth_url = IAM

    def __init__(self, grant=None):
        self.grant = grant
        self.logins = 0

    def cached(self):
        return self.grant

    def sign(self, *args):
        self.logins += 1

    def project_id(self):
        self.logins += 1

    def catalog(self):
        self.logins += 1


def test_a_dry_run_never_logs_in_and_says_what_it_cannot_know():
    login = Login()
    dry = DryRun(login)
    headers: dict[str, str] = {}
    dry.sign("POST", "https://evs.example/v3/p/backups", headers, b"{}")
    assert headers == {"X-Auth-Token": "<the token of the login>"} and not dry.refresh()
    for ask in (dry.project_id, dry.catalog):
        with pytest.raises(InputError) as info:
            ask()
        assert info.value.exit_code == 2 and "--dry-run sends nothing, not even a login" in info.value.message
    assert login.logins == 0

    from datetime import datetime, timezone

    from vbscli.iam import Grant

    catalog = [endpoint("volumev3", "https://c.example/v3/p9")]
    cached = Grant("t", datetime(2030, 1, 1, tzinfo=timezone.utc), "p9", {"catalog": catalog})
    dry = DryRun(Login(cached))
    assert dry.project_id() == "p9" and dry.catalog() == cached.catalog

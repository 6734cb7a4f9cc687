"""SDK-HMAC-SHA256: the three published worked examples."""

import hashlib

from vbscli import signing


def test_published_example_vpcs():
    url = (
        "https://service.region.example.com/v1/77b6a44cba5143ab91d13ab9a8ff44fd/vpcs"
        "?limit=2&marker=13551d6b-755d-4757-b956-536f674975c0"
    )
    headers = {
        "Content-Type": "application/json",
        "X-Sdk-Date": "20191115T033655Z",
        "Host": "service.region.example.com",
    }
    names = ["content-type", "host", "x-sdk-date"]
    request = signing.canonical_request("GET", url, headers, names, b"")
    assert hashlib.sha256(request.encode()).hexdigest() == (
        "b25362e603ee30f4f25e7858e8a7160fd36e803bb2dfe206278659d71a9bcd7a"
    )
    to_sign = signing.string_to_sign("20191115T033655Z", request)
    assert signing.signature("MFyfvK41ba2giqM7Uio6PznpdUKGpownRZlmVmHc", to_sign) == (
        "7be6668032f70418fcc22abc52071e57aff61b84a1d2381bb430d6870f4f6ebe"
    )


def _resources(method, body):
    headers = {"X-Sdk-Date": "20200608T023900Z", "Host": "service.endpoint.myhuaweicloud.com"}
    signing.sign_request(
        method, "https://service.endpoint.myhuaweicloud.com/resources?size=1", headers, body, "AccessKey", "SecretKey"
    )
    return headers["Authorization"]


def test_published_example_get():
    assert _resources("GET", b"") == (
        "SDK-HMAC-SHA256 Access=AccessKey, SignedHeaders=host;x-sdk-date, "
        "Signature=cfb4171acec81de07d50e53d57eb77edd537414d66ddb1d7d780f128e12cd842"
    )


def test_published_example_post():
    assert _resources("POST", b'{"name":"test","id":1}').endswith(
        "Signature=436b1ac0a1ae03705934bb70ef2f2e09f7bfed2117d731a38235053199323a1f"
    )


def test_canonical_uri_always_ends_with_slash_and_reencodes():
    assert signing.canonical_uri("/v3/p/backups") == "/v3/p/backups/"
    assert signing.canonical_uri("/a%20b/c") == "/a%20b/c/"
    assert signing.canonical_uri("/") == "/"


def test_canonical_query_is_sorted_and_encoded():
    assert signing.canonical_query("b=2&a=x y&a=1") == "a=1&a=x%20y&b=2"
    assert signing.canonical_query("") == ""

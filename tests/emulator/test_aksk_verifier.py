"""The emulator's AK/SK verifier: written from the published algorithm, apart from vbs's signer.

Checked against the published worked examples first; then vbs's signer and this verifier, two
readings of the same description, must agree on the awkward queries (spaces, `+`, `~`, `/`,
non-ASCII, repeated keys), whose canonical forms are also written out here by hand.
"""

from __future__ import annotations

import ast
import hashlib
from datetime import datetime, timezone
from pathlib import Path

import pytest

from vbscli import signing
from vbscli.client import encode_query
from vbscli.emulator import auth as verifier


def test_the_verifier_does_not_use_the_signer_it_checks():
    source = Path(verifier.__file__).read_text()
    imported = {
        node.module if isinstance(node, ast.ImportFrom) else alias.name
        for node in ast.walk(ast.parse(source))
        if isinstance(node, (ast.Import, ast.ImportFrom))
        for alias in node.names
    }
    assert not any(name and name.startswith("vbscli.signing") for name in imported)
    assert "vbscli" not in imported and not any(name and name.startswith("vbscli.client") for name in imported)


def test_published_example_vpcs():
    target = "/v1/77b6a44cba5143ab91d13ab9a8ff44fd/vpcs?limit=2&marker=13551d6b-755d-4757-b956-536f674975c0"
    headers = {
        "content-type": "application/json",
        "host": "service.region.example.com",
        "x-sdk-date": "20191115T033655Z",
    }
    request = verifier.canonical_request("GET", target, headers, ["content-type", "host", "x-sdk-date"], b"")
    assert hashlib.sha256(request.encode()).hexdigest() == (
        "b25362e603ee30f4f25e7858e8a7160fd36e803bb2dfe206278659d71a9bcd7a"
    )
    assert verifier.expected_signature("MFyfvK41ba2giqM7Uio6PznpdUKGpownRZlmVmHc", "20191115T033655Z", request) == (
        "7be6668032f70418fcc22abc52071e57aff61b84a1d2381bb430d6870f4f6ebe"
    )


@pytest.mark.parametrize(
    ("method", "body", "signature"),
    [
        ("GET", b"", "cfb4171acec81de07d50e53d57eb77edd537414d66ddb1d7d780f128e12cd842"),
        ("POST", b'{"name":"test","id":1}', "436b1ac0a1ae03705934bb70ef2f2e09f7bfed2117d731a38235053199323a1f"),
    ],
)
def test_published_examples_resources(method, body, signature):
    headers = {"host": "service.endpoint.myhuaweicloud.com", "x-sdk-date": "20200608T023900Z"}
    request = verifier.canonical_request(method, "/resources?size=1", headers, ["host", "x-sdk-date"], body)
    assert verifier.expected_signature("SecretKey", "20200608T023900Z", request) == signature


@pytest.mark.parametrize(
    ("query", "canonical"),
    [
        ("name=night%20ly", "name=night%20ly"),
        ("name=a+b", "name=a%2Bb"),  # a plus sign is a plus sign (RFC 3986), not a space
        ("name=a%2Bb", "name=a%2Bb"),
        ("name=x~y", "name=x~y"),
        ("name=x%7Ey", "name=x~y"),
        ("name=a%2Fb", "name=a%2Fb"),
        ("name=n%C3%BCt", "name=n%C3%BCt"),
        ("k=2&k=1&a=", "a=&k=1&k=2"),
        ("", ""),
    ],
)
def test_canonical_queries_written_out_by_hand(query, canonical):
    assert verifier.canonical_query(query) == canonical


@pytest.mark.parametrize(
    "params",
    [
        {"name": "night ly"},
        {"name": "a+b"},
        {"name": "x~y"},
        {"name": "a/b"},
        {"name": "nüt-Ωmega"},
        {"name": "100% sure & more=yes"},
        {"limit": 2, "marker": "13551d6b-755d-4757-b956-536f674975c0", "name": "z a"},
    ],
)
def test_vbs_signs_what_it_sends_as_the_service_reads_it(params):
    """What vbs sends (its query encoding) and signs (its signer) verifies on the service's reading."""
    query = encode_query(params)
    url = f"https://evs.example.com/v3/p1/backups/detail?{query}"
    headers = {"Content-Type": "application/json", "X-Project-Id": "p1"}
    now = datetime(2026, 11, 28, 12, 0, tzinfo=timezone.utc)
    signing.sign_request("GET", url, headers, b"", "AK", "SK-secret", now)
    names = headers["Authorization"].split("SignedHeaders=")[1].split(",")[0].split(";")
    lowered = {k.lower(): v for k, v in headers.items()}
    request = verifier.canonical_request("GET", f"/v3/p1/backups/detail?{query}", lowered, names, b"")
    expected = verifier.expected_signature("SK-secret", headers["X-Sdk-Date"], request)
    assert headers["Authorization"].endswith(f"Signature={expected}")
    assert "+" not in query  # a space is %20 and a plus %2B: no reading of '+' can differ


def test_repeated_keys_sign_and_verify_alike():
    url = "https://evs.example.com/v3/p1/backups?k=2&k=1&k=a%20b"
    headers = {"Host": "evs.example.com"}
    now = datetime(2026, 11, 28, 12, 0, tzinfo=timezone.utc)
    signing.sign_request("GET", url, headers, b"", "AK", "SK-secret", now)
    lowered = {k.lower(): v for k, v in headers.items()}
    request = verifier.canonical_request("GET", "/v3/p1/backups?k=2&k=1&k=a%20b", lowered, ["host", "x-sdk-date"], b"")
    assert request.splitlines()[2] == "k=1&k=2&k=a%20b"
    assert headers["Authorization"].endswith(
        "Signature=" + verifier.expected_signature("SK-secret", headers["X-Sdk-Date"], request)
    )

from __future__ import annotations

import json

import pytest
from hubspot.utils.signature import Signature

from infra.sandbox.hubspot.signing import (
    MAX_TIMESTAMP_AGE_MS,
    canonical_uri,
    sign_v1,
    sign_v2,
    sign_v3,
    verify_v3,
)

pytestmark = pytest.mark.usefixtures("no_sockets")  # pure: no network, as unit tests


@pytest.fixture(scope="module")
def vectors(api_specs):
    data = json.loads((api_specs / "hubspot" / "signature_test_vectors.json").read_text())
    return data["client_secret"], data["vectors"]


def _sign(secret: str, vector: dict[str, str]) -> str:
    version = vector["version"]
    if version == "v1":
        return sign_v1(secret, vector["body"])
    if version == "v2":
        return sign_v2(secret, vector["method"], vector["uri"], vector["body"])
    if version == "v3":
        return sign_v3(secret, vector["method"], vector["uri"], vector["body"], vector["timestamp"])
    raise AssertionError(f"unknown signature version {version}")


def test_every_published_vector_matches(vectors):
    secret, items = vectors
    assert {v["version"] for v in items} == {"v1", "v2", "v3"}
    mismatches = [
        (v["version"], v["body"], _sign(secret, v)) for v in items if _sign(secret, v) != v["expected"]
    ]
    assert mismatches == []


def test_bytes_and_str_bodies_sign_identically(vectors):
    secret, items = vectors
    for v in items:
        as_bytes = dict(v, body=v["body"].encode("utf-8"))
        assert _sign(secret, as_bytes) == v["expected"]


def test_v3_agrees_with_the_official_client_helper():
    body = '[{"eventId":7,"objectId":1,"subscriptionType":"contact.creation"}]'
    uri = "http://127.0.0.1:9999/hooks?x=1"
    ours = sign_v3("s3cret", "POST", uri, body, 1700000000123)
    theirs = Signature.get_signature(
        "s3cret", body, "v3", http_uri=uri, http_method="POST", timestamp="1700000000123"
    )
    assert ours == theirs


def test_verify_v3_accepts_a_fresh_signature_and_rejects_tampering():
    body = b'[{"eventId":1}]'
    uri = "https://example.com/hook"
    sig = sign_v3("k", "POST", uri, body, 1_000_000)
    assert verify_v3("k", "POST", uri, body, 1_000_000, sig, now_ms=1_000_500)
    assert not verify_v3("k", "POST", uri, b'[{"eventId":2}]', 1_000_000, sig, now_ms=1_000_500)
    assert not verify_v3("other", "POST", uri, body, 1_000_000, sig, now_ms=1_000_500)
    assert not verify_v3("k", "POST", uri, body, 1_000_001, sig, now_ms=1_000_500)


def test_verify_v3_rejects_stale_and_malformed_timestamps():
    body = "[]"
    uri = "https://example.com/hook"
    sig = sign_v3("k", "POST", uri, body, 1_000_000)
    assert verify_v3("k", "POST", uri, body, 1_000_000, sig, now_ms=1_000_000 + MAX_TIMESTAMP_AGE_MS)
    assert not verify_v3("k", "POST", uri, body, 1_000_000, sig, now_ms=1_000_001 + MAX_TIMESTAMP_AGE_MS)
    assert not verify_v3("k", "POST", uri, body, "yesterday", sig, now_ms=1_000_000)


def test_canonical_uri_decodes_only_the_documented_escapes():
    uri = "https://example.com/a%3Ab%2fc%40d?q=%2C%20x%3b"
    assert canonical_uri(uri) == "https://example.com/a:b/c@d?q=,%20x;"
    encoded = "https://example.com/hook%3Fx"
    sig = sign_v3("k", "POST", "https://example.com/hook?x", "[]", 5)
    assert verify_v3("k", "POST", encoded, "[]", 5, sig, now_ms=5)

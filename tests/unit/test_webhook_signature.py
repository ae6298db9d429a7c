"""The connector's webhook signature check, pinned to HubSpot's published v3 vector."""

from __future__ import annotations

import json

import pytest

from shared.webhook_signature import SignatureError, SignedRequest, sign_v3, verify_v3


@pytest.fixture(scope="module")
def v3_vector(api_specs):
    data = json.loads((api_specs / "hubspot" / "signature_test_vectors.json").read_text())
    (vector,) = [v for v in data["vectors"] if v["version"] == "v3"]
    return data["client_secret"], vector


def _request(vector, *, signature=None, timestamp=None, body=None, uri=None) -> SignedRequest:
    return SignedRequest(
        method=vector["method"],
        uri=uri or vector["uri"],
        body=vector["body"] if body is None else body,
        headers={
            "X-HubSpot-Signature-v3": signature or vector["expected"],
            "X-HubSpot-Request-Timestamp": timestamp or vector["timestamp"],
        },
    )


def test_sign_v3_matches_hubspots_vector(v3_vector):
    secret, v = v3_vector
    assert sign_v3(secret, v["method"], v["uri"], v["body"], v["timestamp"]) == v["expected"]


def test_a_genuine_fresh_request_verifies(v3_vector):
    secret, v = v3_vector
    verify_v3(_request(v), secret, now_ms=int(v["timestamp"]) + 60_000)


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"body": "{'example_field':'tampered'}"}, "does not match"),
        ({"uri": "https://www.example.com/other"}, "does not match"),
        ({"signature": "K36dawei4A+QBNolUOqo7s91KQDWQ5MXZ/QufNYuk/Z="}, "does not match"),
    ],
)
def test_any_tampering_is_refused(v3_vector, change, reason):
    secret, v = v3_vector
    with pytest.raises(SignatureError, match=reason):
        verify_v3(_request(v, **change), secret, now_ms=int(v["timestamp"]))


def test_wrong_secret_is_refused(v3_vector):
    _secret, v = v3_vector
    with pytest.raises(SignatureError, match="does not match"):
        verify_v3(_request(v), "another-secret", now_ms=int(v["timestamp"]))


def test_stale_and_future_timestamps_are_refused(v3_vector):
    secret, v = v3_vector
    ts = int(v["timestamp"])
    verify_v3(_request(v), secret, now_ms=ts + 5 * 60 * 1000)  # exactly five minutes: still accepted
    with pytest.raises(SignatureError, match="older than 5 minutes"):
        verify_v3(_request(v), secret, now_ms=ts + 5 * 60 * 1000 + 1)
    with pytest.raises(SignatureError, match="future"):
        verify_v3(_request(v), secret, now_ms=ts - 6 * 60 * 1000)


def test_missing_or_malformed_headers_are_refused(v3_vector):
    secret, v = v3_vector
    bare = SignedRequest(method="POST", uri=v["uri"], body=v["body"], headers={})
    with pytest.raises(SignatureError, match="missing"):
        verify_v3(bare, secret, now_ms=0)
    with pytest.raises(SignatureError, match="epoch-millisecond"):
        verify_v3(_request(v, timestamp="yesterday"), secret, now_ms=0)


def test_url_encoded_characters_hubspot_decodes_still_verify(v3_vector):
    secret, v = v3_vector
    uri = "https://hooks.example.com/hubspot?portal=1%3A2"
    signed_over = "https://hooks.example.com/hubspot?portal=1:2"
    signature = sign_v3(secret, "POST", signed_over, "[]", v["timestamp"])
    request = SignedRequest("POST", uri, "[]", {"x-hubspot-signature-v3": signature,
                                                "x-hubspot-request-timestamp": v["timestamp"]})  # fmt: skip
    verify_v3(request, secret, now_ms=int(v["timestamp"]))

"""Verification of HubSpot webhook requests (signature v3).

HubSpot signs each webhook request with base64(HMAC-SHA256(app client secret, method + uri + body +
timestamp)) in ``X-HubSpot-Signature-v3`` and the epoch-millisecond timestamp in
``X-HubSpot-Request-Timestamp``. A request older than five minutes is a replay and is refused. The
comparison is constant-time.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import unquote

from shared.times import from_epoch_ms

MAX_AGE_MS = 5 * 60 * 1000
SIGNATURE_HEADER = "x-hubspot-signature-v3"
TIMESTAMP_HEADER = "x-hubspot-request-timestamp"

# HubSpot decodes these URL-encoded characters in the URI before hashing (request-validation docs)
_DECODED = {"%3A": ":", "%2F": "/", "%3F": "?", "%40": "@", "%21": "!", "%24": "$", "%27": "'",
            "%28": "(", "%29": ")", "%2A": "*", "%2C": ",", "%3B": ";"}  # fmt: skip


class SignatureError(Exception):
    """The request is not a genuine, fresh HubSpot webhook; ``reason`` says why (safe to log)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class SignedRequest:
    method: str
    uri: str  # the full URL HubSpot called, with scheme, host, path and query
    body: str
    headers: Mapping[str, str]  # any case


def _decode_uri(uri: str) -> str:
    out = uri
    for encoded, char in _DECODED.items():
        out = out.replace(encoded, char).replace(encoded.lower(), char)
    return out


def sign_v3(client_secret: str, method: str, uri: str, body: str, timestamp_ms: str) -> str:
    source = f"{method}{uri}{body}{timestamp_ms}".encode()
    digest = hmac.new(client_secret.encode(), source, hashlib.sha256).digest()
    return base64.b64encode(digest).decode()


def verify_v3(request: SignedRequest, client_secret: str, *, now_ms: int) -> None:
    """Raise :class:`SignatureError` unless the request carries a valid, fresh v3 signature."""
    headers = {k.lower(): v for k, v in request.headers.items()}
    signature = headers.get(SIGNATURE_HEADER)
    timestamp = headers.get(TIMESTAMP_HEADER)
    if not signature or not timestamp:
        raise SignatureError("missing X-HubSpot-Signature-v3 or X-HubSpot-Request-Timestamp header")
    try:
        ts = int(timestamp)
    except ValueError as exc:
        raise SignatureError("X-HubSpot-Request-Timestamp is not an epoch-millisecond integer") from exc
    if now_ms - ts > MAX_AGE_MS:
        raise SignatureError("request timestamp is older than 5 minutes")
    if ts - now_ms > MAX_AGE_MS:
        raise SignatureError("request timestamp is in the future")
    candidates = {request.uri, _decode_uri(request.uri), unquote(request.uri)}
    expected = [
        sign_v3(client_secret, request.method.upper(), uri, request.body, timestamp) for uri in candidates
    ]
    if not any(hmac.compare_digest(e.encode(), signature.encode()) for e in expected):
        raise SignatureError("signature does not match")


@dataclass(frozen=True)
class Receipt:
    """What identifies a signed request among copies of it: its signature and timestamp (they cover
    method, URL, body and time), and until when a copy could still verify."""

    fingerprint: str
    expires_at: dt.datetime


def receipt(headers: Mapping[str, str]) -> Receipt:
    """The receipt of a request whose signature verified (:func:`verify_v3`)."""
    lowered = {k.lower(): v for k, v in headers.items()}
    signature, timestamp = lowered[SIGNATURE_HEADER], lowered[TIMESTAMP_HEADER]
    digest = hashlib.sha256(f"{signature}:{timestamp}".encode()).hexdigest()[:40]
    # a copy verifies while its timestamp is at most MAX_AGE_MS old; a minute more for clock skew
    return Receipt(digest, from_epoch_ms(int(timestamp) + MAX_AGE_MS + 60_000))

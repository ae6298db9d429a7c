"""HubSpot request signatures (webhook deliveries), versions v1, v2 and v3.

- v1: hex SHA-256 of ``client_secret + body`` (header ``X-HubSpot-Signature``).
- v2: hex SHA-256 of ``client_secret + method + uri + body``.
- v3: base64 HMAC-SHA256, keyed with the client secret, of ``method + uri + body + timestamp``
  (header ``X-HubSpot-Signature-v3``, timestamp in ``X-HubSpot-Request-Timestamp``, epoch ms).

For v3, HubSpot hashes the request URI with a few URL-encoded characters decoded
(:func:`canonical_uri`); receivers reject timestamps older than five minutes.
"""

from __future__ import annotations

import base64
import hashlib
import hmac

MAX_TIMESTAMP_AGE_MS = 5 * 60 * 1000

# the percent-encodings HubSpot decodes in the URI before computing a v3 signature
_V3_DECODED = {
    "%3A": ":",
    "%2F": "/",
    "%3F": "?",
    "%40": "@",
    "%21": "!",
    "%24": "$",
    "%27": "'",
    "%28": "(",
    "%29": ")",
    "%2A": "*",
    "%2C": ",",
    "%3B": ";",
}


def _bytes(value: str | bytes) -> bytes:
    return value if isinstance(value, bytes) else value.encode("utf-8")


def sign_v1(secret: str, body: str | bytes) -> str:
    return hashlib.sha256(_bytes(secret) + _bytes(body)).hexdigest()


def sign_v2(secret: str, method: str, uri: str, body: str | bytes) -> str:
    return hashlib.sha256(_bytes(secret) + _bytes(method) + _bytes(uri) + _bytes(body)).hexdigest()


def sign_v3(secret: str, method: str, uri: str, body: str | bytes, timestamp_ms: int | str) -> str:
    message = _bytes(method) + _bytes(uri) + _bytes(body) + _bytes(str(timestamp_ms))
    digest = hmac.new(_bytes(secret), message, hashlib.sha256).digest()
    return base64.b64encode(digest).decode("ascii")


def canonical_uri(uri: str) -> str:
    """The URI as HubSpot hashes it for v3: the listed percent-encodings decoded (case-insensitive)."""
    out: list[str] = []
    i = 0
    while i < len(uri):
        chunk = uri[i : i + 3].upper()
        if chunk in _V3_DECODED:
            out.append(_V3_DECODED[chunk])
            i += 3
        else:
            out.append(uri[i])
            i += 1
    return "".join(out)


def verify_v3(
    secret: str,
    method: str,
    uri: str,
    body: str | bytes,
    timestamp_ms: int | str,
    signature: str,
    *,
    now_ms: int,
    max_age_ms: int = MAX_TIMESTAMP_AGE_MS,
) -> bool:
    """Whether a v3 signature is valid and recent; compares in constant time."""
    try:
        age = now_ms - int(timestamp_ms)
    except ValueError:
        return False
    if age > max_age_ms:
        return False
    expected = sign_v3(secret, method, canonical_uri(uri), body, timestamp_ms)
    return hmac.compare_digest(expected.encode("ascii"), signature.encode("utf-8"))

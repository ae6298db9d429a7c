"""The token endpoint's three grants, their refusals, and sessions on the data API."""

from __future__ import annotations

import base64
import hashlib
import hmac
import time
from pathlib import Path
from typing import Any

import jwt
import pytest
from simple_salesforce.api import Salesforce
from simple_salesforce.exceptions import SalesforceExpiredSession


def _body(excinfo):
    """The decoded error body simple-salesforce attached to its exception."""
    return excinfo.value.content


def _token(sf_session, info, **form):
    return sf_session.post(info["token_url"], data=form, timeout=5)


def test_client_credentials_answer_the_documented_shape(fresh_sandbox, sf_session):
    info = fresh_sandbox.info.salesforce
    resp = _token(
        sf_session,
        info,
        grant_type="client_credentials",
        client_id="sandbox-client",
        client_secret="sandbox-secret",
    )
    assert resp.status_code == 200
    body = resp.json()
    assert body["token_type"] == "Bearer"
    assert body["instance_url"] == fresh_sandbox.salesforce_url
    assert body["id"].startswith(f"{fresh_sandbox.salesforce_url}/id/{info['org_id']}/005")
    expected = base64.b64encode(
        hmac.new(b"sandbox-secret", (body["id"] + body["issued_at"]).encode(), hashlib.sha256).digest()
    ).decode()
    assert body["signature"] == expected
    assert body["access_token"].startswith(info["org_id"][:15] + "!")


def test_client_credentials_with_basic_auth_and_bad_clients(fresh_sandbox, sf_session):
    info = fresh_sandbox.info.salesforce
    basic = base64.b64encode(b"sandbox-client:sandbox-secret").decode()
    ok = sf_session.post(
        info["token_url"],
        data={"grant_type": "client_credentials"},
        headers={"Authorization": f"Basic {basic}"},
        timeout=5,
    )
    assert ok.status_code == 200
    bad_secret = _token(
        sf_session, info, grant_type="client_credentials", client_id="sandbox-client", client_secret="nope"
    )
    assert bad_secret.status_code == 400
    assert bad_secret.json() == {"error": "invalid_client", "error_description": "invalid client credentials"}
    bad_client = _token(sf_session, info, grant_type="client_credentials", client_id="who", client_secret="x")
    assert bad_client.json()["error"] == "invalid_client_id"


def test_password_grant_and_invalid_grant(fresh_sandbox, sf_session):
    info = fresh_sandbox.info.salesforce
    common = {
        "grant_type": "password",
        "client_id": "sandbox-client",
        "client_secret": "sandbox-secret",
        "username": "admin@sandbox.example",
    }
    assert _token(sf_session, info, **common, password="sandbox").status_code == 200
    wrong = _token(sf_session, info, **common | {"password": "wrong"})
    assert wrong.status_code == 400
    assert wrong.json() == {"error": "invalid_grant", "error_description": "authentication failure"}
    unsupported = _token(sf_session, info, grant_type="authorization_code")
    assert unsupported.json()["error"] == "unsupported_grant_type"


def test_jwt_bearer_grant_gives_a_session_the_client_uses(fresh_sandbox, sf_session):
    info = fresh_sandbox.info.salesforce
    host = fresh_sandbox.salesforce_url.removeprefix("https://")
    # simple-salesforce builds https://{domain}.salesforce.com; the sandbox accepts that audience
    key = Path(info["jwt_private_key_file"]).read_text()
    claims = {
        "iss": "sandbox-client",
        "sub": "admin@sandbox.example",
        "aud": "https://login.salesforce.com",
        "exp": int(time.time()) + 180,
    }
    assertion = jwt.encode(claims, key, algorithm="RS256")
    resp = _token(
        sf_session, info, grant_type="urn:ietf:params:oauth:grant-type:jwt-bearer", assertion=assertion
    )
    assert resp.status_code == 200, resp.text
    sf: Any = Salesforce(
        instance_url=resp.json()["instance_url"], session_id=resp.json()["access_token"], session=sf_session
    )
    assert sf.sf_instance == host
    assert sf.Lead.create({"LastName": "Jwt", "Company": "C"})["success"] is True

    own_audience = jwt.encode(claims | {"aud": fresh_sandbox.salesforce_url}, key, algorithm="RS256")
    assert (
        _token(
            sf_session, info, grant_type="urn:ietf:params:oauth:grant-type:jwt-bearer", assertion=own_audience
        ).status_code
        == 200
    )


@pytest.mark.parametrize(
    ("change", "description"),
    [
        ({"aud": "https://evil.example"}, "audience is invalid"),
        ({"exp": int(time.time()) - 600}, "expired authorization code"),
        ({"sub": "nobody@sandbox.example"}, "user hasn't approved this consumer"),
    ],
)
def test_jwt_bearer_refusals(fresh_sandbox, sf_session, change, description):
    info = fresh_sandbox.info.salesforce
    key = Path(info["jwt_private_key_file"]).read_text()
    claims = {
        "iss": "sandbox-client",
        "sub": "admin@sandbox.example",
        "aud": "https://login.salesforce.com",
        "exp": int(time.time()) + 180,
    } | change
    resp = _token(
        sf_session,
        info,
        grant_type="urn:ietf:params:oauth:grant-type:jwt-bearer",
        assertion=jwt.encode(claims, key, algorithm="RS256"),
    )
    assert resp.status_code == 400
    assert resp.json() == {"error": "invalid_grant", "error_description": description}


def test_jwt_signed_by_another_key_is_refused(fresh_sandbox, sf_session):
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    other = rsa.generate_private_key(public_exponent=65537, key_size=2048).private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    claims = {
        "iss": "sandbox-client",
        "sub": "admin@sandbox.example",
        "aud": "https://login.salesforce.com",
        "exp": int(time.time()) + 180,
    }
    resp = _token(
        sf_session,
        fresh_sandbox.info.salesforce,
        grant_type="urn:ietf:params:oauth:grant-type:jwt-bearer",
        assertion=jwt.encode(claims, other, algorithm="RS256"),
    )
    assert resp.json() == {"error": "invalid_grant", "error_description": "invalid assertion"}


def test_bad_or_missing_session_is_invalid_session_id(fresh_sandbox, sf_session):
    sf: Any = Salesforce(
        instance_url=fresh_sandbox.salesforce_url, session_id="00Dxx!bogus", session=sf_session
    )
    with pytest.raises(SalesforceExpiredSession) as err:
        sf.Lead.describe()
    assert err.value.status == 401
    assert _body(err) == [{"message": "Session expired or invalid", "errorCode": "INVALID_SESSION_ID"}]
    missing = sf_session.get(f"{fresh_sandbox.salesforce_url}/services/data/v59.0/sobjects", timeout=5)
    assert missing.status_code == 401
    assert missing.json()[0]["errorCode"] == "INVALID_SESSION_ID"

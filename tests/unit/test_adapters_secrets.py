"""Credentials from Secrets Manager: shapes, env var pattern, caching, and the JWT assertion."""

from __future__ import annotations

import json
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from pydantic import ValidationError

from shared.adapters.auth import audience_of, identity_ids, jwt_assertion
from shared.adapters.secrets import HubSpotSecret, SalesforceSecret, SecretStore, secret_id_from_env


class FakeSecretsManager:
    def __init__(self, secrets: dict[str, Any]) -> None:
        self.secrets = secrets
        self.reads: list[str] = []

    def get_secret_value(self, SecretId: str) -> dict[str, Any]:
        self.reads.append(SecretId)
        return {"SecretString": json.dumps(self.secrets[SecretId])}


SF = {"login_url": "https://acme.my.salesforce.mil/", "client_id": "3MVG9", "client_secret": "s3cret"}
HS = {"access_token": "pat-na1-x", "client_secret": "app-secret", "app_id": 2000001}


def store(fake: FakeSecretsManager, now: list[float], env: dict[str, str] | None = None) -> SecretStore:
    return SecretStore(lambda: fake, ttl=60, clock=lambda: now[0], env=env or {})  # type: ignore[arg-type,return-value]


def test_secrets_are_cached_for_the_ttl_and_reread_after():
    fake = FakeSecretsManager({"hssync/salesforce": SF})
    now = [0.0]
    secrets = store(fake, now)
    first = secrets.salesforce("hssync/salesforce")
    now[0] = 59.0
    secrets.salesforce("hssync/salesforce")
    assert fake.reads == ["hssync/salesforce"]
    now[0] = 61.0
    secrets.salesforce("hssync/salesforce")
    assert len(fake.reads) == 2
    secrets.invalidate()
    secrets.salesforce("hssync/salesforce")
    assert len(fake.reads) == 3
    assert first.login_url == "https://acme.my.salesforce.mil"
    assert first.grant == "client_credentials"
    assert first.client_secret is not None
    assert "s3cret" not in repr(first)  # secrets never show up in logs


def test_env_var_pattern_prefers_the_arn_and_fills_the_login_url():
    arn = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:hssync/sf-AbCdEf"
    fake = FakeSecretsManager({arn: {"client_id": "3MVG9", "client_secret": "x"}, "hssync/hubspot": HS})
    env = {
        "SALESFORCE_SECRET_ARN": arn,
        "SALESFORCE_SECRET_NAME": "other",
        "HUBSPOT_SECRET_NAME": "hssync/hubspot",
        "SALESFORCE_LOGIN_URL": "https://test.salesforce.com",
    }
    secrets = store(fake, [0.0], env)
    assert secrets.salesforce().login_url == "https://test.salesforce.com"
    hubspot = secrets.hubspot()
    assert hubspot.app_id == "2000001"
    assert hubspot.api_url == "https://api.hubapi.com"
    assert hubspot.access_token is not None
    assert hubspot.access_token.get_secret_value() == "pat-na1-x"
    with pytest.raises(LookupError, match="SALESFORCE_SECRET_ARN or SALESFORCE_SECRET_NAME"):
        secret_id_from_env(("SALESFORCE_SECRET_ARN", "SALESFORCE_SECRET_NAME"), {})


@pytest.mark.parametrize(
    ("data", "problem"),
    [
        ({"login_url": "https://login.salesforce.com", "client_id": "x"}, "exactly one"),
        (
            {
                "login_url": "https://login.salesforce.com",
                "client_id": "x",
                "client_secret": "a",
                "jwt_private_key": "k",
                "username": "u",
            },
            "exactly one",
        ),
        ({"login_url": "https://login.salesforce.com", "client_id": "x", "jwt_private_key": "k"}, "username"),
        ({"login_url": "login.salesforce.com", "client_id": "x", "client_secret": "a"}, "http"),
    ],
)
def test_invalid_salesforce_secrets_are_refused(data, problem):
    with pytest.raises(ValidationError, match=problem):
        SalesforceSecret.model_validate(data)


def test_hubspot_secret_needs_token_and_client_secret():
    with pytest.raises(ValidationError, match="client_secret"):
        HubSpotSecret.model_validate({"access_token": "pat"})


def test_jwt_assertion_claims_and_signature():
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    secret = SalesforceSecret.model_validate(
        {
            "login_url": "https://acme.my.salesforce.com/services",
            "client_id": "3MVG9",
            "jwt_private_key": pem,
            "username": "int@acme.com",
        }
    )
    assert secret.grant == "jwt"
    assert audience_of(secret) == "https://acme.my.salesforce.com"  # the login URL's origin by default
    token = jwt_assertion(secret, now=1_800_000_000)
    claims = jwt.decode(
        token,
        key.public_key(),
        algorithms=["RS256"],
        audience="https://acme.my.salesforce.com",
        options={"verify_exp": False},
    )
    assert claims == {
        "iss": "3MVG9",
        "sub": "int@acme.com",
        "aud": "https://acme.my.salesforce.com",
        "exp": 1_800_000_180,
    }
    configured = secret.model_copy(update={"audience": "https://login.salesforce.com"})
    assert jwt.decode(jwt_assertion(configured, now=0), options={"verify_signature": False})["aud"] == (
        "https://login.salesforce.com"
    )


def test_identity_url_gives_org_and_user():
    assert identity_ids("https://x.my.salesforce.com/id/00D5g000000001AEAQ/0055g000000001AAAQ") == (
        "00D5g000000001AEAQ",
        "0055g000000001AAAQ",
    )
    assert identity_ids(None) == (None, None)
    assert identity_ids("https://x/elsewhere") == (None, None)


def test_hubspot_secret_of_one_portal_serves_every_portal_with_its_token():
    secret = HubSpotSecret.model_validate({"access_token": "pat", "client_secret": "s"})
    assert secret.token().get_secret_value() == "pat"
    assert secret.token("1000002").get_secret_value() == "pat"


def test_hubspot_secret_of_several_portals_has_a_token_per_portal():
    secret = HubSpotSecret.model_validate(
        {
            "portals": {1000001: {"access_token": "pat-1"}, "1000002": {"access_token": "pat-2"}},
            "client_secret": "s",
        }
    )
    assert secret.token("1000001").get_secret_value() == "pat-1"
    assert secret.token("1000002").get_secret_value() == "pat-2"
    with pytest.raises(LookupError, match="1000003"):
        secret.token("1000003")
    with pytest.raises(LookupError):
        secret.token()


def test_hubspot_secret_portal_entry_wins_over_the_top_level_token():
    secret = HubSpotSecret.model_validate(
        {"access_token": "pat", "portals": {"7": {"access_token": "pat-7"}}, "client_secret": "s"}
    )
    assert secret.token("7").get_secret_value() == "pat-7"
    assert secret.token("8").get_secret_value() == "pat"


def test_hubspot_secret_needs_a_token():
    with pytest.raises(ValidationError, match="access_token"):
        HubSpotSecret.model_validate({"client_secret": "s"})
    with pytest.raises(ValidationError):
        HubSpotSecret.model_validate({"portals": {"7": {}}, "client_secret": "s"})

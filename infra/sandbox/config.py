"""Sandbox credentials and identities. Defaults are documented in the README; every one is a CLI flag."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class SalesforceCredentials:
    client_id: str = "sandbox-client"
    client_secret: str = "sandbox-secret"
    username: str = "admin@sandbox.example"
    password: str = "sandbox"
    org_id: str = "00D5g00000SbxSyEAJ"


@dataclass(frozen=True)
class HubSpotCredentials:
    access_token: str = "sandbox-token"
    portal_id: int = 1000001
    developer_api_key: str = "sandbox-dev-key"
    app_id: int = 2000001
    client_secret: str = "sandbox-client-secret"
    # another private app installed in the portal (a user's script, another integration): its writes
    # carry its own app id as their source, as real HubSpot attributes them
    other_access_token: str = "sandbox-other-app-token"
    other_app_id: int = 2000002

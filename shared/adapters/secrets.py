"""CRM credentials from AWS Secrets Manager, validated, cached per process for a TTL.

Which secret: ``SALESFORCE_SECRET_ARN`` (or ``SALESFORCE_SECRET_NAME``) and ``HUBSPOT_SECRET_ARN``
(or ``HUBSPOT_SECRET_NAME``); an ARN wins over a name. The boto3 client is built on first use
(``AWS_ENDPOINT_URL`` points it at moto locally).

Salesforce secret (``SecretString`` JSON), one of the two grants::

    {"login_url": "https://login.salesforce.com",        # or test., a My Domain, *.salesforce.mil
     "client_id": "3MVG9...",                              # the connected app's consumer key
     "client_secret": "..."}                               # client credentials flow

    {"login_url": "https://acme.my.salesforce.com",
     "client_id": "3MVG9...",
     "jwt_private_key": "-----BEGIN PRIVATE KEY-----...",  # JWT bearer flow (RS256)
     "username": "integration@acme.com",                   # the user the token acts as
     "audience": "https://login.salesforce.com"}           # optional; default: the login URL's origin

``login_url`` may be left out when the ``SALESFORCE_LOGIN_URL`` environment variable (the stack
parameter) is set.

HubSpot secret, one portal::

    {"access_token": "pat-na1-...",          # private-app token
     "client_secret": "...",                  # the app's client secret (webhook signatures v3)
     "app_id": "2000001",                     # optional
     "developer_api_key": "...",              # optional (webhook subscriptions management)
     "api_url": "https://api.hubapi.com"}     # optional; the sandbox's URL locally

Several portals (one app installed in each; ``portals`` of the sync configuration): a token per
portal id; the app's fields are shared. A top-level ``access_token`` still serves a portal that
has no entry of its own::

    {"portals": {"1000001": {"access_token": "pat-na1-..."},
                 "1000002": {"access_token": "pat-na1-..."}},
     "client_secret": "...", "app_id": "2000001", "developer_api_key": "...",
     "api_url": "https://api.hubapi.com"}
"""

from __future__ import annotations

import json
import os
import threading
import time
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, SecretStr, field_validator, model_validator

if TYPE_CHECKING:
    from mypy_boto3_secretsmanager import SecretsManagerClient

DEFAULT_TTL_SECONDS = 300.0
SALESFORCE_ENV = ("SALESFORCE_SECRET_ARN", "SALESFORCE_SECRET_NAME")
HUBSPOT_ENV = ("HUBSPOT_SECRET_ARN", "HUBSPOT_SECRET_NAME")
LOGIN_URL_ENV = "SALESFORCE_LOGIN_URL"


def _http_url(value: str) -> str:
    parts = urlsplit(value.strip())
    if parts.scheme not in ("https", "http") or not parts.netloc:
        raise ValueError(f"expected an http(s) URL, got {value!r}")
    return value.strip().rstrip("/")


class SalesforceSecret(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore")

    login_url: str
    client_id: str
    client_secret: SecretStr | None = None
    jwt_private_key: SecretStr | None = None
    username: str | None = None
    audience: str | None = None

    @field_validator("login_url", "audience")
    @classmethod
    def _url(cls, value: str | None) -> str | None:
        return None if value is None else _http_url(value)

    @model_validator(mode="after")
    def _one_grant(self) -> SalesforceSecret:
        if (self.client_secret is None) == (self.jwt_private_key is None):
            raise ValueError("give exactly one of client_secret (client credentials) or jwt_private_key")
        if self.jwt_private_key is not None and not self.username:
            raise ValueError("the JWT bearer flow needs username")
        return self

    @property
    def grant(self) -> str:
        return "jwt" if self.jwt_private_key is not None else "client_credentials"


class HubSpotPortalSecret(BaseModel):
    """One portal's entry in the HubSpot secret: the private-app token installed in that portal."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    access_token: SecretStr


class HubSpotSecret(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore")

    access_token: SecretStr | None = None
    portals: dict[str, HubSpotPortalSecret] = {}
    client_secret: SecretStr
    app_id: str | None = None
    developer_api_key: SecretStr | None = None
    api_url: str = "https://api.hubapi.com"

    @field_validator("api_url")
    @classmethod
    def _url(cls, value: str) -> str:
        return _http_url(value)

    @field_validator("app_id", mode="before")
    @classmethod
    def _app_id_text(cls, value: Any) -> Any:
        return str(value) if isinstance(value, int) else value

    @field_validator("portals", mode="before")
    @classmethod
    def _portal_ids_text(cls, value: Any) -> Any:
        return {str(k).strip(): v for k, v in value.items()} if isinstance(value, dict) else value

    @model_validator(mode="after")
    def _a_token(self) -> HubSpotSecret:
        if self.access_token is None and not self.portals:
            raise ValueError("give access_token (one portal) or portals: {<portal id>: {access_token}}")
        return self

    def token(self, portal: str | None = None) -> SecretStr:
        """The private-app token of ``portal``: its own entry, else the top-level ``access_token``."""
        entry = self.portals.get(portal.strip()) if portal is not None else None
        if entry is not None:
            return entry.access_token
        if self.access_token is not None:
            return self.access_token
        if portal is None and len(self.portals) == 1:
            return next(iter(self.portals.values())).access_token
        raise LookupError(f"the HubSpot secret has no access_token for portal {portal}")


def secret_id_from_env(names: tuple[str, ...], env: Mapping[str, str] | None = None) -> str:
    source = os.environ if env is None else env
    for name in names:
        value = source.get(name, "").strip()
        if value:
            return value
    raise LookupError(f"set {' or '.join(names)} to the Secrets Manager secret to read")


class SecretStore:
    """Reads JSON secrets, caching each for ``ttl`` seconds (rotation is picked up after that)."""

    def __init__(
        self,
        client_factory: Callable[[], SecretsManagerClient] | None = None,
        *,
        ttl: float = DEFAULT_TTL_SECONDS,
        clock: Callable[[], float] = time.monotonic,
        env: Mapping[str, str] | None = None,
    ) -> None:
        self._factory = client_factory or _default_client
        self._client: SecretsManagerClient | None = None
        self._ttl = ttl
        self._clock = clock
        self._env = env
        self._lock = threading.Lock()
        self._cache: dict[str, tuple[float, dict[str, Any]]] = {}

    def read(self, secret_id: str) -> dict[str, Any]:
        with self._lock:
            cached = self._cache.get(secret_id)
            if cached is not None and self._clock() - cached[0] < self._ttl:
                return dict(cached[1])
            if self._client is None:
                self._client = self._factory()
            answer = self._client.get_secret_value(SecretId=secret_id)
            text = answer.get("SecretString")
            if text is None:
                raise ValueError(f"secret {secret_id} has no SecretString (binary secrets are not supported)")
            value = json.loads(text)
            if not isinstance(value, dict):
                raise ValueError(f"secret {secret_id} must hold a JSON object")
            self._cache[secret_id] = (self._clock(), value)
            return dict(value)

    def invalidate(self, secret_id: str | None = None) -> None:
        with self._lock:
            if secret_id is None:
                self._cache.clear()
            else:
                self._cache.pop(secret_id, None)

    def salesforce(self, secret_id: str | None = None) -> SalesforceSecret:
        data = self.read(secret_id or secret_id_from_env(SALESFORCE_ENV, self._env))
        env = os.environ if self._env is None else self._env
        if not data.get("login_url") and env.get(LOGIN_URL_ENV):
            data["login_url"] = env[LOGIN_URL_ENV]
        return SalesforceSecret.model_validate(data)

    def hubspot(self, secret_id: str | None = None) -> HubSpotSecret:
        return HubSpotSecret.model_validate(
            self.read(secret_id or secret_id_from_env(HUBSPOT_ENV, self._env))
        )


def _default_client() -> SecretsManagerClient:
    import boto3

    return boto3.client("secretsmanager")


_default_store: SecretStore | None = None
_default_lock = threading.Lock()


def default_store() -> SecretStore:
    """The process-wide store (one cache per Lambda execution environment)."""
    global _default_store
    with _default_lock:
        if _default_store is None:
            _default_store = SecretStore()
        return _default_store

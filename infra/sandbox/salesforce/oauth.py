"""``POST /services/oauth2/token``: the client-credentials, username-password and JWT bearer flows.

Sessions map an access token to the org user it acts as (``commitUser`` of change events,
``CreatedById``/``LastModifiedById`` of records).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import secrets
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import jwt

from infra.sandbox.config import SalesforceCredentials
from infra.sandbox.http import ApiError

JWT_GRANT = "urn:ietf:params:oauth:grant-type:jwt-bearer"
STANDARD_AUDIENCES = ("https://login.salesforce.com", "https://test.salesforce.com")


@dataclass(frozen=True)
class Session:
    token: str
    user_id: str
    issued_at: int


def oauth_error(error: str, description: str) -> ApiError:
    return ApiError(400, {"error": error, "error_description": description})


class OAuth:
    """Issues and checks sessions. ``find_user(username) -> (user_id, active) | None``."""

    def __init__(
        self,
        credentials: SalesforceCredentials,
        jwt_public_key_pem: bytes,
        find_user: Callable[[str], tuple[str, bool] | None],
    ) -> None:
        self.credentials = credentials
        self.jwt_public_key_pem = jwt_public_key_pem
        self.find_user = find_user
        self.base_url = ""
        self._lock = threading.Lock()
        self._sessions: dict[str, Session] = {}
        self.revoked = False  # the connected app's access was revoked (POST /_sandbox/credentials)

    def revoke(self, revoked: bool) -> None:
        """Revoking drops every session (they answer INVALID_SESSION_ID) and refuses new tokens
        (``invalid_grant``) until access is given back."""
        with self._lock:
            self.revoked = revoked
            if revoked:
                self._sessions.clear()

    def session(self, token: str) -> Session | None:
        with self._lock:
            return self._sessions.get(token)

    def forget_users(self, keep: set[str]) -> None:
        """Drop the sessions of users that no longer exist."""
        with self._lock:
            self._sessions = {t: s for t, s in self._sessions.items() if s.user_id in keep}

    def token(self, form: Mapping[str, str], authorization: str | None) -> dict[str, Any]:
        grant = form.get("grant_type", "")
        client_id, client_secret = self._client(form, authorization)
        if self.revoked:
            raise oauth_error("invalid_grant", "expired access/refresh token")
        if grant == "client_credentials":
            self._check_client(client_id, client_secret, secret_required=True)
            user_id = self._user(self.credentials.username)
        elif grant == "password":
            self._check_client(client_id, client_secret, secret_required=True)
            username, password = form.get("username", ""), form.get("password", "")
            user = self.find_user(username)
            if user is None or not user[1] or password != self.credentials.password:
                raise oauth_error("invalid_grant", "authentication failure")
            user_id = user[0]
        elif grant == JWT_GRANT:
            user_id = self._jwt_user(form.get("assertion", ""))
        else:
            raise oauth_error("unsupported_grant_type", "grant type not supported")
        return self._issue(user_id)

    def _client(self, form: Mapping[str, str], authorization: str | None) -> tuple[str, str | None]:
        if authorization and authorization.lower().startswith("basic "):
            try:
                decoded = base64.b64decode(authorization[6:].strip()).decode()
            except (binascii.Error, UnicodeDecodeError) as exc:
                raise oauth_error("invalid_client", "invalid client credentials") from exc
            client_id, _, secret = decoded.partition(":")
            return client_id, secret
        return form.get("client_id", ""), form.get("client_secret")

    def _check_client(self, client_id: str, secret: str | None, *, secret_required: bool) -> None:
        if client_id != self.credentials.client_id:
            raise oauth_error("invalid_client_id", "client identifier invalid")
        if secret_required and not hmac.compare_digest(secret or "", self.credentials.client_secret):
            raise oauth_error("invalid_client", "invalid client credentials")

    def _user(self, username: str) -> str:
        user = self.find_user(username)
        if user is None or not user[1]:
            raise oauth_error("invalid_grant", "authentication failure")
        return user[0]

    def _jwt_user(self, assertion: str) -> str:
        try:
            claims = jwt.decode(assertion, options={"verify_signature": False})
        except jwt.PyJWTError as exc:
            raise oauth_error("invalid_grant", "invalid assertion") from exc
        self._check_client(str(claims.get("iss", "")), None, secret_required=False)
        audiences = [*STANDARD_AUDIENCES, self.base_url.rstrip("/")]
        try:
            jwt.decode(
                assertion,
                self.jwt_public_key_pem,
                algorithms=["RS256"],
                audience=audiences,
                options={"require": ["exp", "sub", "aud", "iss"]},
            )
        except jwt.InvalidAudienceError as exc:
            raise oauth_error("invalid_grant", "audience is invalid") from exc
        except jwt.ExpiredSignatureError as exc:
            raise oauth_error("invalid_grant", "expired authorization code") from exc
        except jwt.PyJWTError as exc:
            raise oauth_error("invalid_grant", "invalid assertion") from exc
        user = self.find_user(str(claims.get("sub", "")))
        if user is None or not user[1]:
            raise oauth_error("invalid_grant", "user hasn't approved this consumer")
        return user[0]

    def _issue(self, user_id: str) -> dict[str, Any]:
        org15 = self.credentials.org_id[:15]
        token = f"{org15}!{secrets.token_urlsafe(72)}"
        issued_at = int(time.time() * 1000)
        with self._lock:
            self._sessions[token] = Session(token, user_id, issued_at)
        identity = f"{self.base_url}/id/{self.credentials.org_id}/{user_id}"
        signature = base64.b64encode(
            hmac.new(
                self.credentials.client_secret.encode(), f"{identity}{issued_at}".encode(), hashlib.sha256
            ).digest()
        ).decode()
        return {
            "access_token": token,
            "instance_url": self.base_url,
            "id": identity,
            "token_type": "Bearer",
            "issued_at": str(issued_at),
            "signature": signature,
            "scope": "api",
        }

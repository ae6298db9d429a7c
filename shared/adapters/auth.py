"""Salesforce access tokens, requested from the configured login URL (DESIGN S1).

``POST <login_url>/services/oauth2/token`` with either grant of the connected app:

- client credentials: ``client_id`` + ``client_secret`` (the token acts as the app's run-as user);
- JWT bearer: an RS256 assertion signed with the app's certificate key, ``iss`` = client id,
  ``sub`` = username, ``aud`` = the configured audience or else the login URL's origin. Salesforce
  accepts ``https://login.salesforce.com``, ``https://test.salesforce.com`` or the My Domain URL
  (Government Cloud: the ``*.salesforce.mil`` login host), so the audience is configurable.

The answer's ``instance_url`` and ``access_token`` are what the client uses; nothing here assumes a
``*.salesforce.com`` host. Network failures and 5xx are retried under the shared policy; a refused
grant is an :class:`~shared.errors.AuthenticationError` (configuration must be fixed).
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import requests

from shared.adapters.retry import CallCounter, Retrier, Retryable, Transient, parse_retry_after
from shared.adapters.secrets import SalesforceSecret
from shared.errors import AuthenticationError
from shared.state.cache import SharedCache, cache_name

TOKEN_PATH = "/services/oauth2/token"  # noqa: S105 (a path, not a secret)
JWT_GRANT = "urn:ietf:params:oauth:grant-type:jwt-bearer"
JWT_LIFETIME_SECONDS = 180  # Salesforce refuses assertions valid for more than 3 minutes
# a shared token is reused for this long; an earlier expiry (the org's session timeout) only costs
# one refused call and a refresh
TOKEN_CACHE_SECONDS = 30 * 60


@dataclass(frozen=True)
class SalesforceToken:
    access_token: str
    instance_url: str
    user_id: str | None = None  # the integration user, from the identity URL
    org_id: str | None = None


def origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def audience_of(secret: SalesforceSecret) -> str:
    return secret.audience or origin(secret.login_url)


def jwt_assertion(secret: SalesforceSecret, *, now: float) -> str:
    """The signed JWT bearer assertion for ``secret`` (which must carry a private key)."""
    import jwt  # PyJWT[crypto]; only the JWT flow needs it

    if secret.jwt_private_key is None or not secret.username:
        raise ValueError("the JWT bearer flow needs jwt_private_key and username")
    claims = {
        "iss": secret.client_id,
        "sub": secret.username,
        "aud": audience_of(secret),
        "exp": int(now) + JWT_LIFETIME_SECONDS,
    }
    return jwt.encode(claims, secret.jwt_private_key.get_secret_value(), algorithm="RS256")


def identity_ids(identity_url: str | None) -> tuple[str | None, str | None]:
    """(org id, user id) from ``https://host/id/<org id>/<user id>``."""
    if not identity_url:
        return None, None
    parts = urlsplit(identity_url).path.rstrip("/").split("/")
    if len(parts) >= 3 and parts[-3] == "id":
        return parts[-2], parts[-1]
    return None, None


class SalesforceTokenProvider:
    """Holds the current token; :meth:`refresh` asks for a new one (after ``INVALID_SESSION_ID``)."""

    def __init__(
        self,
        secret: SalesforceSecret,
        *,
        session: requests.Session | None = None,
        retrier: Retrier | None = None,
        timeout: float = 30.0,
        calls: CallCounter | None = None,
        clock: Callable[[], float] = time.time,
        token: SalesforceToken | None = None,
        cache: SharedCache | None = None,
    ) -> None:
        """``token``: one obtained earlier (it is used until Salesforce refuses it). ``cache``: where
        the token is shared with the stack's other containers (one token request serves them all)."""
        self.secret = secret
        self.session = session or requests.Session()
        self.retrier = retrier or Retrier()
        self.timeout = timeout
        self.calls = calls or CallCounter("salesforce")
        self._clock = clock
        self._token = token
        self.cache = cache
        self.cache_key = cache_name("salesforce-token", secret.login_url, secret.client_id)

    @property
    def token_url(self) -> str:
        return self.secret.login_url.rstrip("/") + TOKEN_PATH

    def token(self) -> SalesforceToken:
        if self._token is None and self.cache is not None:
            cached = self.cache.get(self.cache_key)
            if cached is not None:
                self._token = SalesforceToken(**cached)
        return self._token if self._token is not None else self.refresh()

    def refresh(self) -> SalesforceToken:
        self._token = self.retrier.run(self._request, what="salesforce token request")
        if self.cache is not None:
            self.cache.put(self.cache_key, dataclasses.asdict(self._token), TOKEN_CACHE_SECONDS)
        return self._token

    def _form(self) -> dict[str, str]:
        if self.secret.grant == "jwt":
            return {"grant_type": JWT_GRANT, "assertion": jwt_assertion(self.secret, now=self._clock())}
        assert self.secret.client_secret is not None
        return {
            "grant_type": "client_credentials",
            "client_id": self.secret.client_id,
            "client_secret": self.secret.client_secret.get_secret_value(),
        }

    def _request(self) -> SalesforceToken:
        self.calls.record("token")
        try:
            response = self.session.post(self.token_url, data=self._form(), timeout=self.timeout)
        except requests.exceptions.SSLError:
            raise  # a certificate problem is configuration, not a transient failure
        except requests.ConnectTimeout as exc:
            raise Retryable(Transient("token request: connect timeout")) from exc
        except requests.Timeout as exc:
            raise Retryable(Transient("token request: timeout")) from exc
        except requests.ConnectionError as exc:
            raise Retryable(Transient(f"token request: connection error ({exc.__class__.__name__})")) from exc
        status = response.status_code
        if status == 429 or status >= 500:
            retry_after = parse_retry_after(response.headers.get("Retry-After"))
            raise Retryable(Transient(f"token request: HTTP {status}", retry_after=retry_after))
        if _row_lock(response):  # the sandbox's injected lock fault also hits the token endpoint
            raise Retryable(Transient("token request: UNABLE_TO_LOCK_ROW"))
        body = _json(response)
        if not response.ok:
            error = body.get("error", f"HTTP {status}")
            description = body.get("error_description", response.text[:200])
            raise AuthenticationError(
                f"Salesforce refused the {self.secret.grant} token request at {self.token_url}: "
                f"{error}: {description}",
                system="salesforce",
                code=str(error),
            )
        access_token, instance_url = body.get("access_token"), body.get("instance_url")
        if not isinstance(access_token, str) or not isinstance(instance_url, str):
            raise AuthenticationError(
                f"the token answer of {self.token_url} lacks access_token/instance_url", system="salesforce"
            )
        org_id, user_id = identity_ids(body.get("id") if isinstance(body.get("id"), str) else None)
        return SalesforceToken(access_token, instance_url.rstrip("/"), user_id=user_id, org_id=org_id)


def _json(response: requests.Response) -> dict[str, Any]:
    try:
        body = response.json()
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}


def _row_lock(response: requests.Response) -> bool:
    """A REST-style ``[{"errorCode": "UNABLE_TO_LOCK_ROW"}]`` answer: transient, whatever the endpoint."""
    if response.status_code != 400:
        return False
    try:
        body = response.json()
    except ValueError:
        return False
    return isinstance(body, list) and any(
        isinstance(e, dict) and e.get("errorCode") == "UNABLE_TO_LOCK_ROW" for e in body
    )

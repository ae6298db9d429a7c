"""The Salesforce emulator's WSGI application: wiring of OAuth, the REST data API, CDC and controls.

Every data-API call (``/services/data/vXX.X/...``, XX >= 52) needs a session from
``/services/oauth2/token``, counts against the org's daily API limit (reported in
``Sforce-Limit-Info``) and is refused with ``API_DISABLED_FOR_ORG`` by an edition without API access.
"""

from __future__ import annotations

import functools
import random
import threading
from collections.abc import Iterable
from typing import Any

from werkzeug.exceptions import HTTPException
from werkzeug.routing import Map, Rule
from werkzeug.wrappers import Request, Response

from infra.sandbox.config import SalesforceCredentials
from infra.sandbox.http import ApiError, Emulator, Handler, json_response
from infra.sandbox.salesforce import ids
from infra.sandbox.salesforce.cdc import ChangeEvents
from infra.sandbox.salesforce.collections_api import CollectionsApi
from infra.sandbox.salesforce.composite import CompositeApi
from infra.sandbox.salesforce.control import Control
from infra.sandbox.salesforce.errors import NOT_FOUND_MESSAGE, RecordFailure, RequestError
from infra.sandbox.salesforce.oauth import OAuth
from infra.sandbox.salesforce.rest import ACTOR_KEY, VERSION_KEY, RestApi, parse_version
from infra.sandbox.salesforce.schema import RecordTypes, Schema
from infra.sandbox.salesforce.settings import OrgSettings
from infra.sandbox.salesforce.store import Actor, Store

INTEGRATION_USER_ID = ids.make_id("005", 1)
RELAY_CHANNEL_ID = ids.make_id("0YL", 1)
RECORD_TYPES = RecordTypes(business_id=ids.make_id("012", 1), person_id=ids.make_id("012", 2))
WRITE_METHODS = ("POST", "PATCH", "PUT", "DELETE")


def _call_options_client(header: str | None) -> str | None:
    """The ``client=`` value of a ``Sforce-Call-Options`` header."""
    for part in (header or "").split(","):
        name, _, value = part.strip().partition("=")
        if name.strip().lower() == "client" and value.strip():
            return value.strip()
    return None


class SalesforceEmulator(Emulator):
    name = "salesforce"
    fault_kinds = ("429", "5xx", "timeout", "lock", "lost")

    def __init__(
        self,
        credentials: SalesforceCredentials,
        *,
        jwt_public_key_pem: bytes,
        daily_api_limit: int | None = None,
    ) -> None:
        """``daily_api_limit``: the org's limit, also after a reset (None: the settings' default)."""
        super().__init__()
        self.credentials = credentials
        self.daily_api_limit = daily_api_limit
        self.jwt_public_key_pem = jwt_public_key_pem
        self.base_url = ""
        self.integration_user_id = INTEGRATION_USER_ID
        self._internal = Map(strict_slashes=False, merge_slashes=False)
        self._internal_handlers: dict[str, Handler] = {}
        self._faulted = threading.local()
        self._lock_rng = random.Random(0)
        self.oauth = OAuth(credentials, jwt_public_key_pem, self._find_user)
        self.cdc = ChangeEvents(credentials.org_id, RELAY_CHANNEL_ID, lambda: self.store.schema)
        self.rest = RestApi(self)
        self._new_org()
        self.route("POST", "/services/oauth2/token", self._token)
        self.rest.register()
        CollectionsApi(self).register()
        CompositeApi(self).register()
        Control(self).register()

    # -- org state ---------------------------------------------------------------------------
    def _new_org(self) -> None:
        self.settings = OrgSettings()
        if self.daily_api_limit is not None:
            self.settings.daily_api_limit = self.daily_api_limit
        self.api_usage = 0
        self.ids = ids.IdGenerator()
        self.store = Store(self._schema(), self.settings, self.ids)
        self.store.on_commit = self.cdc.publish
        with self.store.transaction(Actor(INTEGRATION_USER_ID), emit=False):
            self.store.create(
                "User",
                {"Id": INTEGRATION_USER_ID, "Username": self.credentials.username,
                 "Email": self.credentials.username, "FirstName": "Integration", "LastName": "User",
                 "Alias": "integ", "IsActive": True, "UserType": "Standard"},
                system=True,
            )  # fmt: skip
            for record_type_id, name, developer, person in (
                (RECORD_TYPES.business_id, "Business Account", "Business_Account", False),
                (RECORD_TYPES.person_id, "Person Account", "PersonAccount", True),
            ):
                self.store.create(
                    "RecordType",
                    {"Id": record_type_id, "Name": name, "DeveloperName": developer, "SobjectType": "Account",
                     "IsActive": True, "IsPersonType": person},
                    system=True,
                )  # fmt: skip

    def _schema(self) -> Schema:
        return Schema(
            person_accounts=self.settings.person_accounts,
            custom_fields=self.settings.custom_fields,
            record_types=RECORD_TYPES,
        )

    def reset_state(self) -> None:
        self._new_org()
        self.cdc.reset()
        self.rest.reset()
        self.oauth.forget_users({INTEGRATION_USER_ID})
        self.oauth.revoke(False)

    def settings_view(self) -> dict[str, Any]:
        with self.lock:
            return {**self.settings.as_dict(), "api_usage": self.api_usage}

    def update_settings(self, body: dict[str, Any]) -> None:
        """Apply settings; the schema is rebuilt when person accounts or custom fields change."""
        candidate = OrgSettings(**{k: v for k, v in vars(self.settings).items()})
        candidate.update(body)
        schema = Schema(
            person_accounts=candidate.person_accounts,
            custom_fields=candidate.custom_fields,
            record_types=RECORD_TYPES,
        )
        self.settings.update(body)
        self.store.settings = self.settings
        self.store.set_schema(schema)
        if "api_usage" in body:
            self.api_usage = max(0, int(body["api_usage"]))

    def add_user(self, spec: dict[str, Any]) -> str:
        """Create a User, or a queue (``{"Type": "Queue", "Name"}``), as an admin would in Setup."""
        if str(spec.get("Type", "")).lower() == "queue":
            name = str(spec["Name"])
            values = {"Name": name, "DeveloperName": name.replace(" ", "_"), "Type": "Queue",
                      "Email": spec.get("Email")}  # fmt: skip
            return self.store.create("Group", values, system=True)
        first, last, email = spec.get("FirstName"), str(spec["LastName"]), str(spec["Email"])
        values = {
            "FirstName": first,
            "LastName": last,
            "Email": email,
            "Username": spec.get("Username") or email,
            "Alias": spec.get("Alias") or (str(first or "")[:1] + last)[:8].lower(),
            "IsActive": spec.get("IsActive", True),
            "UserType": spec.get("UserType", "Standard"),
            "Title": spec.get("Title"),
        }
        for key in ("CreatedDate", "LastModifiedDate", "SystemModstamp"):
            if key in spec:
                values[key] = spec[key]
        return self.store.create("User", values, system=True)

    def _find_user(self, username: str) -> tuple[str, bool] | None:
        with self.lock:
            for user in self.store.tables["User"].values():
                if str(user["Username"]).lower() == username.lower() and not user["IsDeleted"]:
                    return str(user["Id"]), bool(user["IsActive"])
        return None

    # -- routing -----------------------------------------------------------------------------
    def api(self, methods: str | Iterable[str], rule: str, handler: Handler) -> None:
        """Register a data-API route: run under the lock, record failures become API errors.

        The route is also reachable from Composite subrequests through :meth:`call_internal`.
        """

        @functools.wraps(handler)
        def guarded(request: Request, **values: Any) -> Response:
            with self.lock:
                try:
                    return handler(request, **values)
                except RecordFailure as failure:
                    raise failure.api_error() from failure
                except RequestError as failure:
                    raise failure.api_error() from failure

        method_list = [methods] if isinstance(methods, str) else list(methods)
        self.route(method_list, rule, guarded)
        endpoint = f"{'|'.join(method_list)} {rule}"
        self._internal.add(Rule(rule, methods=method_list, endpoint=endpoint))
        self._internal_handlers[endpoint] = guarded

    def call_internal(self, request: Request) -> Response:
        """Dispatch a Composite subrequest (already authenticated, not counted)."""
        adapter = self._internal.bind_to_environ(request.environ)
        try:
            endpoint, values = adapter.match()
        except HTTPException:
            return json_response([{"errorCode": "NOT_FOUND", "message": NOT_FOUND_MESSAGE}], 404)
        try:
            return self._internal_handlers[str(endpoint)](request, **values)
        except ApiError as error:
            return self.error_response(error)

    # -- hooks -------------------------------------------------------------------------------
    def before_request(self, request: Request, template: str) -> None:
        if template.startswith("/services/oauth2") or template == "/services/data":
            return
        segments = request.path.split("/")
        version = parse_version(segments[3]) if len(segments) > 3 else None
        if version is None:
            raise ApiError(404, [{"errorCode": "NOT_FOUND", "message": NOT_FOUND_MESSAGE}])
        auth = request.headers.get("Authorization", "")
        scheme, _, token = auth.partition(" ")
        session = self.oauth.session(token.strip()) if scheme.lower() in ("bearer", "oauth") else None
        if session is None:
            raise ApiError(
                401, [{"message": "Session expired or invalid", "errorCode": "INVALID_SESSION_ID"}]
            )
        with self.lock:
            if not self.settings.api_access:
                raise ApiError(
                    403,
                    [{"message": "The REST API is not enabled for this Organization.",
                      "errorCode": "API_DISABLED_FOR_ORG"}],
                )  # fmt: skip
            if self.api_usage >= self.settings.daily_api_limit:
                raise ApiError(
                    403, [{"message": "TotalRequests Limit exceeded.", "errorCode": "REQUEST_LIMIT_EXCEEDED"}]
                )
            self.api_usage += 1
        client = _call_options_client(request.headers.get("Sforce-Call-Options"))
        auto_assign = request.headers.get("Sforce-Auto-Assign", "TRUE").strip().upper() != "FALSE"
        request.environ[ACTOR_KEY] = Actor(session.user_id, version, client, auto_assign=auto_assign)
        request.environ[VERSION_KEY] = version

    def after_request(self, request: Request, response: Response) -> None:
        if request.path.startswith("/services/data/v"):
            with self.lock:
                response.headers["Sforce-Limit-Info"] = (
                    f"api-usage={self.api_usage}/{self.settings.daily_api_limit}"
                )

    def answer_can_be_lost(self, request: Request) -> bool:
        """An OAuth token request hit by a "lost" fault is a plain timeout (no session is issued)."""
        return request.method in WRITE_METHODS and not request.path.startswith("/services/oauth2/")

    def fault_response(self, kind: str, request: Request) -> Response:
        if kind == "429":
            return json_response(
                [{"message": "Too many requests; retry after 1 second.", "errorCode": "TOO_MANY_REQUESTS"}],
                429,
                {"Retry-After": "1"},
            )
        if kind == "lock":
            return self._lock_fault(request)
        if request.method in WRITE_METHODS:
            return json_response(
                [{"message": "An unexpected error occurred. Please include this ErrorId if you contact "
                             "support: 1961854372-12345 (-1297382156)", "errorCode": "UNKNOWN_EXCEPTION"}],
                500,
            )  # fmt: skip
        return json_response(
            [
                {
                    "message": "Server temporarily unavailable, please try again later.",
                    "errorCode": "SERVER_UNAVAILABLE",
                }
            ],
            503,
        )

    def _lock_fault(self, request: Request) -> Response:
        """Collections: some records fail with UNABLE_TO_LOCK_ROW; other writes fail whole."""
        if "/composite/sobjects" in request.path:
            adapter = self._internal.bind_to_environ(request.environ)
            endpoint, values = adapter.match()
            self.before_request(request, request.path)
            self._faulted.active = True
            try:
                return self._internal_handlers[str(endpoint)](request, **values)
            finally:
                self._faulted.active = False
        last = request.path.rstrip("/").split("/")[-1]
        record_id = ids.normalize(last) or ""
        message = f"unable to obtain exclusive access to this record or 1 records: {record_id}".strip()
        return json_response([{"message": message, "errorCode": "UNABLE_TO_LOCK_ROW", "fields": []}], 400)

    def locked_rows(self, count: int) -> set[int]:
        """Which records of a collection call an injected lock fault hits (none outside a fault)."""
        if not getattr(self._faulted, "active", False) or count == 0:
            return set()
        hit = {i for i in range(count) if self._lock_rng.random() < 0.5}
        return hit or {self._lock_rng.randrange(count)}

    def not_found(self, request: Request) -> Response:
        return json_response([{"errorCode": "NOT_FOUND", "message": NOT_FOUND_MESSAGE}], 404)

    def method_not_allowed(self, request: Request) -> Response:
        return json_response(
            [{"errorCode": "METHOD_NOT_ALLOWED", "message": f"HTTP Method '{request.method}' not allowed."}],
            405,
        )

    def internal_error(self, request: Request, exc: Exception) -> Response:
        return json_response(
            [{"errorCode": "UNKNOWN_EXCEPTION", "message": f"{exc.__class__.__name__}: {exc}"}], 500
        )

    # -- OAuth -------------------------------------------------------------------------------
    def _token(self, request: Request) -> Response:
        body = self.oauth.token(request.form, request.headers.get("Authorization"))
        return json_response(body)

    # -- runner ------------------------------------------------------------------------------
    def set_base_url(self, url: str) -> None:
        self.base_url = url
        self.oauth.base_url = url

    def start_background(self) -> None:
        self.cdc.deliverer.start()

    def stop_background(self) -> None:
        self.cdc.deliverer.stop()

    def pending_deliveries(self) -> int:
        return self.cdc.deliverer.pending()

    def seed_demo(self) -> dict[str, int]:
        from infra.sandbox.salesforce.seed import seed_demo

        with self.lock:
            return seed_demo(self)

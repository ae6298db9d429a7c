"""The HubSpot emulator's WSGI application: authentication, rate limits, faults and wiring of the APIs.

Credentials: the private-app token as ``Authorization: Bearer`` everywhere, except the webhooks
management API (``/webhooks/v3/...``), which takes the developer key as the ``hapikey`` query
parameter, and the v1 email events API, which takes either.

Control endpoints (``/_sandbox/...``, no auth): ``settings`` (GET/POST rate-limit settings),
``restore`` (restore an archived record, as from the recycle bin), ``crm-ui-edit`` (change a
record as a HubSpot user would in the CRM, so that webhooks carry ``changeSource: CRM_UI``) and
``token`` (``{"revoked": true|false}``: hssync's private-app token revoked, its calls answer 401;
the other app's token, the users' scripts, still works).
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Callable
from typing import Any

from werkzeug.wrappers import Request, Response

from infra.sandbox.config import HubSpotCredentials
from infra.sandbox.http import ApiError, Emulator, correlation_id, json_response
from infra.sandbox.hubspot import errors
from infra.sandbox.hubspot.associations import Associations
from infra.sandbox.hubspot.comm_prefs import CommunicationPreferences
from infra.sandbox.hubspot.email_events import EmailEvents
from infra.sandbox.hubspot.limits import RateLimiter
from infra.sandbox.hubspot.lists import Lists
from infra.sandbox.hubspot.objects_api import ObjectsApi, object_type_of
from infra.sandbox.hubspot.owners import Owners
from infra.sandbox.hubspot.pipelines import Pipelines
from infra.sandbox.hubspot.properties_api import PropertiesApi
from infra.sandbox.hubspot.seed import seed_demo as seed_portal
from infra.sandbox.hubspot.store import CrmStore, WriteSource, to_public
from infra.sandbox.hubspot.webhooks import Webhooks

_LIMIT_HEADERS = "hssync.hubspot.ratelimit_headers"
_FAULT_MESSAGES = {500: "internal error", 502: "Bad Gateway", 503: "Service Unavailable"}


def bearer_token(request: Request) -> str | None:
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    return token.strip() if scheme.lower() == "bearer" and token.strip() else None


class HubSpotEmulator(Emulator):
    name = "hubspot"
    fault_kinds = ("429", "5xx", "timeout", "lost")

    def __init__(self, credentials: HubSpotCredentials) -> None:
        super().__init__()
        self.credentials = credentials
        self.base_url = ""
        self.token_revoked = False  # POST /_sandbox/token
        self.store = CrmStore(self)
        self.limits = RateLimiter(portal_id=credentials.portal_id, app_id=credentials.app_id)
        self.webhooks = Webhooks(self, credentials)
        self.associations = Associations(self)
        self.owners = Owners(self)
        self.lists = Lists(self)
        self.comm_prefs = CommunicationPreferences(self)
        self.email_events = EmailEvents(self)
        self.pipelines = Pipelines(self)
        self._fault_statuses = itertools.cycle((502, 503, 500))
        ObjectsApi(self).register_routes()
        PropertiesApi(self).register_routes()
        self.webhooks.register_routes()
        for feature in self.features:
            feature.register_routes()
        self.control("GET", "settings", lambda _r: json_response(self.limits.settings.to_json()))
        self.control("POST", "settings", self._set_settings)
        self.control("POST", "restore", self._guarded(self._restore))
        self.control("POST", "crm-ui-edit", self._guarded(self._crm_ui_edit))
        self.control("POST", "token", self._revoke)

    @property
    def features(
        self,
    ) -> list[Associations | Owners | Lists | CommunicationPreferences | EmailEvents | Pipelines]:
        return [
            self.associations,
            self.owners,
            self.lists,
            self.comm_prefs,
            self.email_events,
            self.pipelines,
        ]

    # -- runner-facing ---------------------------------------------------------------------------
    def set_base_url(self, url: str) -> None:
        self.base_url = url

    def start_background(self) -> None:
        self.webhooks.start()

    def stop_background(self) -> None:
        self.webhooks.stop()

    def pending_deliveries(self) -> int:
        return self.webhooks.pending()

    def reset_state(self) -> None:
        self.token_revoked = False
        self.store.reset()
        self.limits.reset()
        self.webhooks.reset()
        for feature in self.features:
            feature.reset()

    def seed_demo(self) -> dict[str, int]:
        return seed_portal(self)

    # -- hooks -----------------------------------------------------------------------------------
    def before_request(self, request: Request, template: str) -> None:
        creds = self.credentials
        token = bearer_token(request)
        hapikey = request.args.get("hapikey")
        if template.startswith("/webhooks/v3/"):
            if hapikey != creds.developer_api_key:
                raise errors.unauthorized(api_key_accepted=True)
            key = f"hapikey:{hapikey}"
        elif template.startswith("/email/public/v1/"):
            if token == creds.access_token:
                key = token
            elif hapikey == creds.developer_api_key:
                key = f"hapikey:{hapikey}"
            else:
                raise errors.unauthorized(api_key_accepted=True)
        else:
            revoked = self.token_revoked and token == creds.access_token
            if token not in (creds.access_token, creds.other_access_token) or revoked:
                raise errors.unauthorized()
            key = token
        # whose app writes: the source of this request's changes (property history, webhooks)
        self.store.writing_app.app_id = (
            creds.other_app_id if token == creds.other_access_token else creds.app_id
        )
        is_search = template.startswith("/crm/v3/objects/") and template.endswith("/search")
        request.environ[_LIMIT_HEADERS] = self.limits.acquire(key, search=is_search)

    def after_request(self, request: Request, response: Response) -> None:
        for name, value in request.environ.get(_LIMIT_HEADERS, {}).items():
            response.headers.setdefault(name, value)
        if "X-HubSpot-Correlation-Id" not in response.headers:
            response.headers["X-HubSpot-Correlation-Id"] = correlation_id()

    def fault_response(self, kind: str, request: Request) -> Response:
        if kind == "429":
            key = bearer_token(request) or f"hapikey:{request.args.get('hapikey', '')}"
            return self.error_response(self.limits.rate_limited(key))
        status = next(self._fault_statuses)
        return self.error_response(errors.hs_error(status, _FAULT_MESSAGES[status], "INTERNAL_ERROR"))

    def not_found(self, request: Request) -> Response:
        return self.error_response(
            errors.hs_error(404, f"No API operation at {request.method} {request.path}", "OBJECT_NOT_FOUND")
        )

    def method_not_allowed(self, request: Request) -> Response:
        return self.error_response(
            errors.hs_error(
                405, f"HTTP method {request.method} is not supported by {request.path}", "VALIDATION_ERROR"
            )
        )

    def internal_error(self, request: Request, exc: Exception) -> Response:
        return self.error_response(
            errors.hs_error(500, f"internal error: {exc.__class__.__name__}: {exc}", "INTERNAL_ERROR")
        )

    # -- control endpoints -----------------------------------------------------------------------
    def _guarded(self, handler: Callable[[Request], Response]) -> Callable[[Request], Response]:
        def run(request: Request) -> Response:
            try:
                return handler(request)
            except ApiError as err:
                return self.error_response(err)

        return run

    def _revoke(self, request: Request) -> Response:
        body = json.loads(request.get_data() or b"{}")
        revoked = body.get("revoked") if isinstance(body, dict) else None
        if not isinstance(revoked, bool):
            return json_response({"error": "revoked must be true or false"}, status=400)
        self.token_revoked = revoked
        return json_response({"revoked": revoked})

    def _set_settings(self, request: Request) -> Response:
        try:
            body = json.loads(request.get_data() or b"{}")
            if not isinstance(body, dict):
                raise ValueError("settings must be a JSON object")
            settings = self.limits.configure(body)
        except (ValueError, TypeError) as exc:
            return json_response({"error": str(exc)}, status=400)
        return json_response(settings.to_json())

    def _control_body(self, request: Request) -> dict[str, Any]:
        try:
            body = json.loads(request.get_data() or b"{}")
        except ValueError as exc:
            raise errors.validation_error(f"Invalid JSON: {exc}") from exc
        if not isinstance(body, dict) or not body.get("objectType") or not body.get("id"):
            raise errors.validation_error("objectType and id are required")
        return body

    def _restore(self, request: Request) -> Response:
        body = self._control_body(request)
        object_type = object_type_of(str(body["objectType"]))
        with self.lock:
            record = self.store.restore(object_type, str(body["id"]))
            result = to_public(record, self.store.definitions(object_type), all_values=True)
        return json_response(result)

    def _crm_ui_edit(self, request: Request) -> Response:
        """``{"objectType", "id", "properties", "userId"}``: a user's edit in the HubSpot UI."""
        body = self._control_body(request)
        object_type = object_type_of(str(body["objectType"]))
        user_id = body.get("userId")
        source = WriteSource("CRM_UI", None, int(user_id) if user_id is not None else None)
        with self.lock:
            record = self.store.resolve(object_type, str(body["id"]))
            if record is None:
                raise errors.not_found()
            self.store.update(object_type, record, body.get("properties") or {}, source=source)
            result = to_public(record, self.store.definitions(object_type), all_values=True)
        return json_response(result)

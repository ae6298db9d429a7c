"""The Salesforce emulator's ``/_sandbox/`` control endpoints (no auth, never counted, never faulted).

- ``GET|POST /_sandbox/settings``: org settings (see :mod:`settings`), plus ``api_usage`` to preset
  (or reset) today's API call counter; ``edition`` or ``api_enabled: false`` takes the API away
  (``API_DISABLED_FOR_ORG``), ``daily_api_limit`` sets the limit (``REQUEST_LIMIT_EXCEEDED``).
- ``POST /_sandbox/credentials`` ``{"revoked": true|false}``: the connected app's access revoked
  (sessions answer ``INVALID_SESSION_ID``, token requests ``invalid_grant``), or given back.
- ``POST /_sandbox/change-events/target`` ``{"url": "http://..."|null}``;
  ``GET /_sandbox/change-events?after=<replayId>&entity=Lead`` (the recent event log, newest last);
  ``POST /_sandbox/change-events/gap`` ``{"entity", "recordIds", "changeType": "UPDATE",
  "overflow": false}``; ``POST /_sandbox/change-events/hold`` and ``.../release`` (delivery latency:
  while held, new events queue up, counted as pending; release delivers them in order), both
  answering ``{"held": <bool>, "pending": <events queued or in flight>}``.
- ``POST /_sandbox/convert-lead`` ``{"leadId", "accountId"?, "contactId"?, "createOpportunity"?,
  "opportunityName"?, "convertedStatus"?, "ownerId"?}``;
  ``POST /_sandbox/merge`` ``{"sobject", "masterId", "mergeIds", "fields"?}``;
  ``POST /_sandbox/undelete`` ``{"ids": [...]}``;
  ``POST /_sandbox/users`` ``{"users": [{"FirstName", "LastName", "Email", "UserType"?, "IsActive"?,
  "Username"?}, {"Type": "Queue", "Name", "Email"?}]}``.

These actions act as the integration user (or ``"userId"``) through the UI: change events carry an
empty ``changeOrigin``. Errors answer 400 ``{"error", "errors"}``.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from werkzeug.wrappers import Request, Response

from infra.sandbox.http import json_response
from infra.sandbox.salesforce import actions, ids
from infra.sandbox.salesforce.errors import RecordFailure, RequestError
from infra.sandbox.salesforce.store import Actor

if TYPE_CHECKING:
    from infra.sandbox.salesforce.app import SalesforceEmulator

GAP_TYPES = ("CREATE", "UPDATE", "DELETE", "UNDELETE")


def _error(message: str, errors: list[dict[str, Any]] | None = None) -> Response:
    return json_response({"error": message, "errors": errors or []}, 400)


def _body(request: Request) -> dict[str, Any]:
    raw = request.get_data() or b"{}"
    body = json.loads(raw)
    if not isinstance(body, dict):
        raise ValueError("the body must be a JSON object")
    return body


class Control:
    def __init__(self, emulator: SalesforceEmulator) -> None:
        self.emu = emulator

    def register(self) -> None:
        e = self.emu
        e.control("GET", "settings", lambda _r: json_response(e.settings_view()))
        e.control("POST", "settings", self._guard(self.settings))
        e.control("POST", "credentials", self._guard(self.credentials))
        e.control("GET", "change-events", self.change_events)
        e.control("POST", "change-events/target", self._guard(self.target))
        e.control("POST", "change-events/gap", self._guard(self.gap))
        e.control("POST", "change-events/hold", lambda _r: self.hold(True))
        e.control("POST", "change-events/release", lambda _r: self.hold(False))
        e.control("POST", "convert-lead", self._guard(self.convert_lead))
        e.control("POST", "merge", self._guard(self.merge))
        e.control("POST", "undelete", self._guard(self.undelete))
        e.control("POST", "users", self._guard(self.users))

    def _guard(self, handler: Callable[[dict[str, Any]], Response]) -> Callable[[Request], Response]:
        def run(request: Request) -> Response:
            try:
                body = _body(request)
                with self.emu.lock:
                    return handler(body)
            except RecordFailure as failure:
                return _error(str(failure), [e.as_rest() for e in failure.errors])
            except RequestError as failure:
                return _error(failure.message, [{"message": failure.message, "errorCode": failure.code}])
            except (ValueError, TypeError, KeyError) as exc:
                return _error(str(exc))

        return run

    def _actor(self, body: dict[str, Any]) -> Actor:
        user = ids.normalize(body.get("userId")) or self.emu.integration_user_id
        return Actor(user)

    # -- settings ----------------------------------------------------------------------------
    def settings(self, body: dict[str, Any]) -> Response:
        self.emu.update_settings(body)
        return json_response(self.emu.settings_view())

    def credentials(self, body: dict[str, Any]) -> Response:
        revoked = body.get("revoked")
        if not isinstance(revoked, bool):
            raise ValueError("revoked must be true or false")
        self.emu.oauth.revoke(revoked)
        return json_response({"revoked": revoked})

    # -- change events -----------------------------------------------------------------------
    def change_events(self, request: Request) -> Response:
        after = int(request.args.get("after", "0") or 0)
        entity = request.args.get("entity") or None
        cdc = self.emu.cdc
        return json_response({**cdc.describe(), "events": cdc.events(after, entity)})

    def target(self, body: dict[str, Any]) -> Response:
        url = body.get("url")
        if url is not None and not (isinstance(url, str) and url.startswith(("http://", "https://"))):
            raise ValueError("url must be an http(s) URL or null")
        self.emu.cdc.set_target(url)
        return json_response(self.emu.cdc.describe())

    def hold(self, hold: bool) -> Response:
        deliverer = self.emu.cdc.deliverer
        if hold:
            deliverer.hold()
        else:
            deliverer.release()
        return json_response({"held": deliverer.held, "pending": deliverer.pending()})

    def gap(self, body: dict[str, Any]) -> Response:
        entity = str(body.get("entity", ""))
        obj = self.emu.store.schema.get(entity)
        if obj is None or not obj.cdc:
            raise ValueError(f"no change events for {entity!r}")
        change_type = str(body.get("changeType", "UPDATE")).upper()
        if change_type not in GAP_TYPES:
            raise ValueError(f"changeType must be one of {GAP_TYPES}")
        record_ids = [ids.normalize(i) or str(i) for i in body.get("recordIds", [])]
        replay_id = self.emu.cdc.gap(
            obj.name, record_ids, change_type, bool(body.get("overflow", False)), self.emu.integration_user_id
        )
        return json_response({"replayId": replay_id})

    # -- UI actions --------------------------------------------------------------------------
    def convert_lead(self, body: dict[str, Any]) -> Response:
        store = self.emu.store
        with store.transaction(self._actor(body)):
            result = actions.convert_lead(store, body, self._actor(body).user_id)
        return json_response(result)

    def merge(self, body: dict[str, Any]) -> Response:
        store = self.emu.store
        with store.transaction(self._actor(body)):
            result = actions.merge(store, body)
        return json_response(result)

    def undelete(self, body: dict[str, Any]) -> Response:
        store = self.emu.store
        wanted = body.get("ids")
        if not isinstance(wanted, list) or not wanted:
            raise ValueError("ids must be a non-empty list")
        with store.transaction(self._actor(body)):
            restored = [store.undelete(str(i)) for i in wanted]
        return json_response({"ids": restored})

    def users(self, body: dict[str, Any]) -> Response:
        specs = body.get("users")
        if not isinstance(specs, list) or not specs:
            raise ValueError("users must be a non-empty list")
        store = self.emu.store
        created = []
        with store.transaction(self._actor(body)):
            for spec in specs:
                created.append(self.emu.add_user(dict(spec)))
        return json_response({"ids": created})

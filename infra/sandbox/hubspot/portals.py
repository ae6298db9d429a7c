"""Several HubSpot portals behind one host, as ``api.hubapi.com`` serves every portal.

Each portal is a whole :class:`HubSpotEmulator` (its own token, records, limits and webhooks).
A request goes to the portal its credentials name, as in HubSpot, where a private-app token
belongs to one portal:

- ``Authorization: Bearer <token>``: the portal of that token (hssync's or the other app's);
- the developer key alone (``hapikey``): the app's webhook settings and subscriptions are the
  app's, not a portal's, so a ``/webhooks/v3/...`` request applies to every portal (each delivers
  its own notifications, with its own ``portalId``, to the app's target URL); other
  ``hapikey`` requests go to the first portal;
- control endpoints (``/_sandbox/...``): ``?portal=<id>`` picks the portal (default: the first);
  ``reset`` without it resets every portal.

An unknown token goes to the first portal, which answers 401 as HubSpot does.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterable, Sequence
from typing import Any
from urllib.parse import parse_qs

from infra.sandbox.config import HubSpotCredentials
from infra.sandbox.hubspot.app import HubSpotEmulator

PORTAL_PARAMETER = "portal"
_BROADCAST_CONTROLS = ("/_sandbox/reset",)


def portal_credentials(first: HubSpotCredentials, count: int) -> tuple[HubSpotCredentials, ...]:
    """``count`` portals of one app: the first as given, the others with the next portal ids and
    tokens of their own (``<token>-2``, ``<token>-3``...); the app (id, key, secret) is shared."""
    if count < 1:
        raise ValueError("a sandbox serves at least one HubSpot portal")
    return (
        first,
        *(
            dataclasses.replace(
                first,
                portal_id=first.portal_id + index,
                access_token=f"{first.access_token}-{index + 1}",
                other_access_token=f"{first.other_access_token}-{index + 1}",
            )
            for index in range(1, count)
        ),
    )


def _bearer(environ: dict[str, Any]) -> str | None:
    scheme, _, token = str(environ.get("HTTP_AUTHORIZATION", "")).partition(" ")
    return token.strip() if scheme.lower() == "bearer" and token.strip() else None


class HubSpotPortals:
    """The WSGI front of several portals (see the module's docstring)."""

    def __init__(self, portals: Sequence[HubSpotEmulator]) -> None:
        if not portals:
            raise ValueError("no portal to serve")
        self.portals = tuple(portals)
        self._by_token: dict[str, HubSpotEmulator] = {}
        for portal in self.portals:
            creds = portal.credentials
            self._by_token[creds.access_token] = portal
            self._by_token[creds.other_access_token] = portal

    def portal(self, portal_id: int) -> HubSpotEmulator:
        for portal in self.portals:
            if portal.credentials.portal_id == portal_id:
                return portal
        raise KeyError(f"no portal {portal_id} in this sandbox")

    def targets(self, environ: dict[str, Any]) -> list[HubSpotEmulator]:
        """The portals a request goes to: the first answers."""
        path = str(environ.get("PATH_INFO", ""))
        query = parse_qs(str(environ.get("QUERY_STRING", "")))
        if path.startswith("/_sandbox/"):
            chosen = query.get(PORTAL_PARAMETER)
            if chosen:
                return [self.portal(int(chosen[0]))]
            return list(self.portals) if path in _BROADCAST_CONTROLS else [self.portals[0]]
        token = _bearer(environ)
        if token is not None:
            return [self._by_token.get(token, self.portals[0])]
        if path.startswith("/webhooks/v3/"):
            return list(self.portals)
        return [self.portals[0]]

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        try:
            targets = self.targets(environ)
        except (KeyError, ValueError) as exc:
            start_response("404 Not Found", [("Content-Type", "text/plain")])
            return [str(exc).encode()]
        if len(targets) > 1:
            body = environ["wsgi.input"].read(int(environ.get("CONTENT_LENGTH") or 0))
            for other in targets[1:]:
                _call_quietly(other, _with_body(environ, body))
            environ = _with_body(environ, body)
        return targets[0](environ, start_response)

    # -- what the runner needs (the same as one emulator's) -------------------------------------
    def set_base_url(self, url: str) -> None:
        for portal in self.portals:
            portal.set_base_url(url)

    def start_background(self) -> None:
        for portal in self.portals:
            portal.start_background()

    def stop_background(self) -> None:
        for portal in self.portals:
            portal.stop_background()

    def pending_deliveries(self) -> int:
        return sum(portal.pending_deliveries() for portal in self.portals)

    def seed_demo(self) -> dict[str, int]:
        """The demo's data lives in the first portal; the others start empty."""
        return self.portals[0].seed_demo()


def _with_body(environ: dict[str, Any], body: bytes) -> dict[str, Any]:
    import io

    copy = dict(environ)
    copy["wsgi.input"] = io.BytesIO(body)
    copy["CONTENT_LENGTH"] = str(len(body))
    return copy


def _call_quietly(app: HubSpotEmulator, environ: dict[str, Any]) -> None:
    """A broadcast request to a portal that does not answer the client (its answer is dropped)."""

    def start_response(_status: str, _headers: list[tuple[str, str]], _exc: Any = None) -> Callable[..., Any]:
        return lambda _data: None

    for _chunk in app(environ, start_response):
        pass

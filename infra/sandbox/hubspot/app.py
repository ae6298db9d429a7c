"""The HubSpot emulator's WSGI application."""

from __future__ import annotations

from infra.sandbox.config import HubSpotCredentials
from infra.sandbox.http import Emulator
from infra.sandbox.hubspot.webhooks import Webhooks


class HubSpotEmulator(Emulator):
    name = "hubspot"
    fault_kinds = ("429", "5xx", "timeout")

    def __init__(self, credentials: HubSpotCredentials) -> None:
        super().__init__()
        self.credentials = credentials
        self.base_url = ""
        self.webhooks = Webhooks(self, credentials)
        self.webhooks.register_routes()

    def set_base_url(self, url: str) -> None:
        self.base_url = url

    def start_background(self) -> None:
        self.webhooks.start()

    def stop_background(self) -> None:
        self.webhooks.stop()

    def pending_deliveries(self) -> int:
        return self.webhooks.pending()

    def reset_state(self) -> None:
        self.webhooks.reset()

    def seed_demo(self) -> dict[str, int]:
        return {}

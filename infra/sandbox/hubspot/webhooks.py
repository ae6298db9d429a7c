"""HubSpot webhooks: the management API (settings, subscriptions) and signed delivery."""

from __future__ import annotations

from typing import Any

from infra.sandbox.config import HubSpotCredentials
from infra.sandbox.http import Emulator


class Webhooks:
    def __init__(self, emulator: Emulator, credentials: HubSpotCredentials) -> None:
        self.emulator = emulator
        self.credentials = credentials

    def register_routes(self) -> None:
        pass

    def publish(self, subscription_type: str, object_id: int, **fields: Any) -> None:
        pass

    def start(self) -> None:
        pass

    def stop(self) -> None:
        pass

    def pending(self) -> int:
        return 0

    def reset(self) -> None:
        pass

"""The Salesforce emulator's WSGI application."""

from __future__ import annotations

from infra.sandbox.config import SalesforceCredentials
from infra.sandbox.http import Emulator


class SalesforceEmulator(Emulator):
    name = "salesforce"
    fault_kinds = ("429", "5xx", "timeout", "lock")

    def __init__(self, credentials: SalesforceCredentials, *, jwt_public_key_pem: bytes) -> None:
        super().__init__()
        self.credentials = credentials
        self.jwt_public_key_pem = jwt_public_key_pem
        self.base_url = ""

    def set_base_url(self, url: str) -> None:
        self.base_url = url

    def start_background(self) -> None:
        pass

    def stop_background(self) -> None:
        pass

    def pending_deliveries(self) -> int:
        return 0

    def seed_demo(self) -> dict[str, int]:
        return {}

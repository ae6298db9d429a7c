"""Start, describe and stop the sandbox: both emulators on their own threaded HTTP(S) servers."""

from __future__ import annotations

import json
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Literal, Protocol

import requests
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from infra.sandbox import tls
from infra.sandbox.config import HubSpotCredentials, SalesforceCredentials
from infra.sandbox.serving import EmulatorServer

Seed = Literal["demo", "none"]


class SandboxEmulator(Protocol):
    """What the runner needs of each emulator besides being a WSGI app."""

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any: ...
    def set_base_url(self, url: str) -> None: ...
    def start_background(self) -> None: ...
    def stop_background(self) -> None: ...
    def pending_deliveries(self) -> int: ...
    def seed_demo(self) -> dict[str, int]: ...


@dataclass
class SandboxInfo:
    """What a client needs to reach the sandbox; written to ``<state-dir>/sandbox.json``."""

    salesforce: dict[str, Any] = field(default_factory=dict)
    hubspot: dict[str, Any] = field(default_factory=dict)
    runtime: dict[str, Any] = field(default_factory=dict)  # the local stack, when it runs

    def to_json(self) -> str:
        return json.dumps(asdict(self), indent=2)

    @classmethod
    def load(cls, path: Path) -> SandboxInfo:
        data = json.loads(path.read_text())
        return cls(salesforce=data["salesforce"], hubspot=data["hubspot"], runtime=data.get("runtime") or {})


def _jwt_keypair(state_dir: Path, public_key_file: Path | None) -> tuple[Path | None, bytes]:
    """The connected app's certificate key: generated unless a public key file is given."""
    if public_key_file is not None:
        return None, public_key_file.read_bytes()
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    private = state_dir / "sandbox-jwt-key.pem"
    private.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    private.chmod(0o600)
    public = key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    (state_dir / "sandbox-jwt-public.pem").write_bytes(public)
    return private, public


class Sandbox:
    """Both emulators, served until :meth:`stop`. Ports 0 pick free ports (tests)."""

    def __init__(
        self,
        *,
        host: str = "127.0.0.1",
        salesforce_port: int = 8443,
        hubspot_port: int = 8081,
        state_dir: Path = Path(".hssync"),
        seed: Seed = "none",
        salesforce_credentials: SalesforceCredentials | None = None,
        hubspot_credentials: HubSpotCredentials | None = None,
        jwt_public_key_file: Path | None = None,
        hubspot_portals: int = 1,
        salesforce_daily_api_limit: int | None = None,
    ) -> None:
        from infra.sandbox.hubspot.app import HubSpotEmulator
        from infra.sandbox.hubspot.portals import HubSpotPortals, portal_credentials
        from infra.sandbox.salesforce.app import SalesforceEmulator

        self.host = host
        state_dir = state_dir.resolve()  # files handed to other processes need absolute paths
        self.state_dir = state_dir
        self.seed = seed
        self.sf_creds = salesforce_credentials or SalesforceCredentials()
        self.hs_creds = hubspot_credentials or HubSpotCredentials()
        state_dir.mkdir(parents=True, exist_ok=True)
        self.tls = tls.generate(state_dir, [host])
        self.jwt_private_key_file, jwt_public = _jwt_keypair(state_dir, jwt_public_key_file)
        self.salesforce = SalesforceEmulator(
            self.sf_creds, jwt_public_key_pem=jwt_public, daily_api_limit=salesforce_daily_api_limit
        )
        # several portals behind one host (``--hubspot-portals``): ``hubspot`` is the first
        self.hubspot_portals = tuple(
            HubSpotEmulator(creds) for creds in portal_credentials(self.hs_creds, hubspot_portals)
        )
        self.hubspot = self.hubspot_portals[0]
        hubspot_app: SandboxEmulator = (
            self.hubspot if hubspot_portals == 1 else HubSpotPortals(self.hubspot_portals)
        )
        self._hubspot_app = hubspot_app
        self._sf_server = EmulatorServer(
            self.salesforce,
            host,
            salesforce_port,
            certificate=self.tls.server_cert,
            private_key=self.tls.server_key,
        )
        self._hs_server = EmulatorServer(hubspot_app, host, hubspot_port)
        url_host = f"[{host}]" if ":" in host else host
        self.salesforce_url = f"https://{url_host}:{self._sf_server.port}"
        self.hubspot_url = f"http://{url_host}:{self._hs_server.port}"
        self.salesforce.set_base_url(self.salesforce_url)
        hubspot_app.set_base_url(self.hubspot_url)
        self.seeded: dict[str, dict[str, int]] = {}

    @property
    def info(self) -> SandboxInfo:
        sf, hs = self.sf_creds, self.hs_creds
        return SandboxInfo(
            salesforce={
                "url": self.salesforce_url,
                "login_url": self.salesforce_url,
                "token_url": f"{self.salesforce_url}/services/oauth2/token",
                "ca_bundle": str(self.tls.ca_cert.resolve()),
                "client_id": sf.client_id,
                "client_secret": sf.client_secret,
                "username": sf.username,
                "password": sf.password,
                "jwt_private_key_file": str(self.jwt_private_key_file.resolve())
                if self.jwt_private_key_file
                else None,
                "org_id": sf.org_id,
            },
            hubspot={
                "url": self.hubspot_url,
                "access_token": hs.access_token,
                "other_access_token": hs.other_access_token,
                "other_app_id": hs.other_app_id,
                "portal_id": hs.portal_id,
                "developer_api_key": hs.developer_api_key,
                "app_id": hs.app_id,
                "client_secret": hs.client_secret,
                "portals": [
                    {
                        "portal_id": portal.credentials.portal_id,
                        "access_token": portal.credentials.access_token,
                        "other_access_token": portal.credentials.other_access_token,
                    }
                    for portal in self.hubspot_portals
                ],
            },
        )

    def start(self, ready_timeout: float = 10.0) -> SandboxInfo:
        if self.seed == "demo":
            self.seeded = {
                "salesforce": self.salesforce.seed_demo(),
                "hubspot": self._hubspot_app.seed_demo(),
            }
        self._sf_server.start()
        self._hs_server.start()
        self.salesforce.start_background()
        self._hubspot_app.start_background()
        self._wait_ready(ready_timeout)
        info = self.info
        (self.state_dir / "sandbox.json").write_text(info.to_json())
        return info

    def _wait_ready(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        urls: list[tuple[str, str | bool]] = [
            (f"{self.salesforce_url}/_sandbox/health", str(self.tls.ca_cert)),
            (f"{self.hubspot_url}/_sandbox/health", True),
        ]
        for url, verify in urls:
            while True:
                try:
                    if requests.get(url, timeout=1, verify=verify).ok:
                        break
                except requests.RequestException:
                    pass
                if time.monotonic() > deadline:
                    raise RuntimeError(f"sandbox did not answer on {url} within {timeout}s")
                time.sleep(0.05)

    def pending_deliveries(self) -> int:
        return self.salesforce.pending_deliveries() + self._hubspot_app.pending_deliveries()

    def stop(self) -> None:
        self.salesforce.stop_background()
        self._hubspot_app.stop_background()
        self._sf_server.stop()
        self._hs_server.stop()

    def __enter__(self) -> Sandbox:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

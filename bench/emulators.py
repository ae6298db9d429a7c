"""The sandbox itself: how fast each emulator answers a simple API request through the real clients'
transport (a keep-alive ``requests`` session), sequentially and from 8 threads."""

from __future__ import annotations

import statistics
import tempfile
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import requests

from bench.report import percentile, table
from infra.sandbox.runner import Sandbox, SandboxInfo

SAMPLES = 500
WARM_UP = 20


@dataclass
class RequestLatency:
    request: str
    n: int
    p50_ms: float
    p95_ms: float
    mean_ms: float


@dataclass
class EmulatorResults:
    requests: list[RequestLatency]
    hubspot_threaded_requests_per_s: float

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    def render(self) -> str:
        rows = [(r.request, r.n, r.p50_ms, r.p95_ms, r.mean_ms) for r in self.requests]
        return "\n".join(
            [
                table(["request", "n", "p50 ms", "p95 ms", "mean ms"], rows),
                "",
                f"  hubspot, 8 threads, new connection per call: "
                f"{self.hubspot_threaded_requests_per_s:.0f} requests/s",
            ]
        )


def _measure(call: Callable[[], requests.Response], n: int) -> list[float]:
    samples = []
    for _ in range(n):
        start = time.perf_counter()
        response = call()
        samples.append((time.perf_counter() - start) * 1000)
        response.raise_for_status()
    return samples


def _concurrent(call: Callable[[], requests.Response], threads: int, per_thread: int) -> float:
    def worker(_: int) -> None:
        for _ in range(per_thread):
            call().raise_for_status()

    start = time.perf_counter()
    with ThreadPoolExecutor(threads) as pool:
        list(pool.map(worker, range(threads)))
    return threads * per_thread / (time.perf_counter() - start)


def measure_emulators() -> EmulatorResults:
    with (
        tempfile.TemporaryDirectory() as tmp,
        Sandbox(salesforce_port=0, hubspot_port=0, state_dir=Path(tmp), seed="demo") as box,
    ):
        info = box.info
        sf, base, lead_id = _salesforce_session(info)
        hs, contact_id = _hubspot_session(info)
        cases: list[tuple[str, Callable[[], requests.Response]]] = [
            ("salesforce GET sobjects/Lead/{id} (HTTPS)", lambda: sf.get(f"{base}/sobjects/Lead/{lead_id}")),
            (
                "salesforce SOQL by email (300 leads)",
                lambda: sf.get(
                    f"{base}/query", params={"q": "SELECT Id FROM Lead WHERE Email = 'x@y.example'"}
                ),
            ),
            (
                "hubspot GET contacts/{id}",
                lambda: hs.get(f"{info.hubspot['url']}/crm/v3/objects/contacts/{contact_id}"),
            ),
        ]
        latencies = [_latency(name, call) for name, call in cases]
        hs_url = f"{info.hubspot['url']}/crm/v3/objects/contacts/{contact_id}"

        def threaded_hs() -> requests.Response:
            auth = {"Authorization": f"Bearer {info.hubspot['access_token']}"}
            return requests.get(hs_url, headers=auth, timeout=10)

        return EmulatorResults(latencies, _concurrent(threaded_hs, 8, 50))


def _salesforce_session(info: SandboxInfo) -> tuple[requests.Session, str, str]:
    """A keep-alive session with a token, the data API's base URL and a seeded lead's id."""
    sf = requests.Session()
    sf.verify = info.salesforce["ca_bundle"]
    sf.trust_env = False
    token = sf.post(
        info.salesforce["token_url"],
        data={
            "grant_type": "client_credentials",
            "client_id": info.salesforce["client_id"],
            "client_secret": info.salesforce["client_secret"],
        },
        timeout=10,
    ).json()
    sf.headers["Authorization"] = f"Bearer {token['access_token']}"
    base = f"{token['instance_url']}/services/data/v59.0"
    lead_id = sf.get(f"{base}/query", params={"q": "SELECT Id FROM Lead LIMIT 1"}).json()["records"][0]["Id"]
    return sf, base, str(lead_id)


def _hubspot_session(info: SandboxInfo) -> tuple[requests.Session, str]:
    """A keep-alive session with the token (rate limits off) and a seeded contact's id."""
    # a real portal answers 429 past 190 requests / 10 s; here we measure the emulator itself
    requests.post(f"{info.hubspot['url']}/_sandbox/settings", json={"rate_limits_enabled": False}, timeout=5)
    hs = requests.Session()
    hs.headers["Authorization"] = f"Bearer {info.hubspot['access_token']}"
    contacts = hs.get(f"{info.hubspot['url']}/crm/v3/objects/contacts", params={"limit": 1}).json()
    return hs, str(contacts["results"][0]["id"])


def _latency(name: str, call: Callable[[], requests.Response]) -> RequestLatency:
    for _ in range(WARM_UP):
        call()
    samples = _measure(call, SAMPLES)
    return RequestLatency(
        name,
        len(samples),
        percentile(samples, 50),
        percentile(samples, 95),
        statistics.fmean(samples),
    )

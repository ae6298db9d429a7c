"""``make bench``: measured, never asserted. Prints a table; the README carries the latest numbers.

Today it measures the sandbox itself: how fast each emulator answers a simple API request through
the real clients' transport (a keep-alive ``requests`` session), sequentially and from 8 threads.
"""

from __future__ import annotations

import logging
import statistics
import tempfile
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import requests

from infra.sandbox.runner import Sandbox


def _percentile(samples: list[float], pct: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, round(pct / 100 * (len(ordered) - 1)))]


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


def main() -> None:
    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    with (
        tempfile.TemporaryDirectory() as tmp,
        Sandbox(salesforce_port=0, hubspot_port=0, state_dir=Path(tmp), seed="demo") as box,
    ):
        info = box.info
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
        lead_id = sf.get(f"{base}/query", params={"q": "SELECT Id FROM Lead LIMIT 1"}).json()["records"][0][
            "Id"
        ]
        # a real portal answers 429 past 190 requests / 10 s; here we measure the emulator itself
        no_limits = {"rate_limits_enabled": False}
        requests.post(f"{info.hubspot['url']}/_sandbox/settings", json=no_limits, timeout=5)
        hs = requests.Session()
        hs.headers["Authorization"] = f"Bearer {info.hubspot['access_token']}"
        contact_id = hs.get(f"{info.hubspot['url']}/crm/v3/objects/contacts", params={"limit": 1}).json()[
            "results"
        ][0]["id"]
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
        print()
        print(f"{'request':<45} {'n':>5} {'p50 ms':>8} {'p95 ms':>8} {'mean ms':>8}")
        for name, call in cases:
            for _ in range(20):
                call()  # warm up
            samples = _measure(call, 500)
            print(
                f"{name:<45} {len(samples):>5} {_percentile(samples, 50):>8.2f} "
                f"{_percentile(samples, 95):>8.2f} {statistics.fmean(samples):>8.2f}"
            )
        hs_url = f"{info.hubspot['url']}/crm/v3/objects/contacts/{contact_id}"

        def threaded_hs() -> requests.Response:
            auth = {"Authorization": f"Bearer {info.hubspot['access_token']}"}
            return requests.get(hs_url, headers=auth, timeout=10)

        # a real portal would answer 429 past 190 requests / 10 s; here we measure the emulator itself
        requests.post(
            f"{info.hubspot['url']}/_sandbox/settings", json={"rate_limits_enabled": False}, timeout=5
        )
        print()
        print(
            f"hubspot, 8 threads, new connection per call: {_concurrent(threaded_hs, 8, 50):.0f} requests/s"
        )


if __name__ == "__main__":
    main()

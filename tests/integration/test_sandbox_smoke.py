from __future__ import annotations

import pytest
import requests


def test_both_emulators_answer_health_and_count_no_control_calls(fresh_sandbox):
    sf_health = requests.get(
        f"{fresh_sandbox.salesforce_url}/_sandbox/health", verify=str(fresh_sandbox.tls.ca_cert), timeout=5
    )
    hs_health = requests.get(f"{fresh_sandbox.hubspot_url}/_sandbox/health", timeout=5)
    assert sf_health.json()["emulator"] == "salesforce"
    assert hs_health.json()["emulator"] == "hubspot"
    stats = requests.get(f"{fresh_sandbox.hubspot_url}/_sandbox/stats", timeout=5).json()
    assert stats["api_calls_total"] == 0


def test_salesforce_tls_is_real_untrusted_without_the_sandbox_ca(fresh_sandbox):
    with pytest.raises(requests.exceptions.SSLError):
        requests.get(f"{fresh_sandbox.salesforce_url}/_sandbox/health", verify=True, timeout=5)

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


@pytest.mark.parametrize("emulator", ["salesforce", "hubspot"])
def test_timeout_fault_hangs_then_drops_the_connection_without_an_answer(fresh_sandbox, emulator):
    url = fresh_sandbox.salesforce_url if emulator == "salesforce" else fresh_sandbox.hubspot_url
    verify = str(fresh_sandbox.tls.ca_cert)
    faults = {"rate": 1.0, "kinds": ["timeout"], "seed": 1, "timeout_seconds": 0.2}
    assert requests.post(f"{url}/_sandbox/faults", json=faults, verify=verify, timeout=5).ok
    api = f"{url}/services/data/v59.0/limits" if emulator == "salesforce" else f"{url}/crm/v3/owners"
    with pytest.raises(requests.exceptions.ConnectionError):
        requests.get(api, verify=verify, timeout=5)
    described = requests.get(f"{url}/_sandbox/faults", verify=verify, timeout=5).json()
    assert described["injected"] == {"timeout": 1}

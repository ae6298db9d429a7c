"""Fixtures shared by the test layers.

Unit tests must not open sockets: ``no_sockets`` blocks them (every test of ``tests/unit``, and the
pure modules of ``tests/sandbox``). Tests of the adapters and the emulators get one sandbox per test
process (each pytest-xdist worker has its own, on free ports) and a reset of both emulators before
each test that asks for ``sf``/``hs``/``fresh_sandbox``.
"""

from __future__ import annotations

import socket
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

# the public specs and fixtures, vendored byte-identical (tests/specs/README.md, api-specs/SOURCES.md)
API_SPECS = Path(__file__).resolve().parent / "specs" / "api-specs"


class SocketBlockedError(RuntimeError):
    pass


@pytest.fixture
def no_sockets(monkeypatch: pytest.MonkeyPatch) -> None:
    """Any attempt to open a network connection fails the test."""

    def guard(*_args: object, **_kwargs: object) -> None:
        raise SocketBlockedError("unit tests must not use the network")

    monkeypatch.setattr(socket.socket, "connect", guard)
    monkeypatch.setattr(socket.socket, "connect_ex", guard)
    monkeypatch.setattr(socket, "create_connection", guard)


@pytest.fixture(scope="session")
def api_specs() -> Path:
    if not API_SPECS.exists():
        pytest.fail(f"API specs not found at {API_SPECS}")
    return API_SPECS


@pytest.fixture(scope="session")
def sandbox(tmp_path_factory: pytest.TempPathFactory) -> Iterator[object]:
    from infra.sandbox.runner import Sandbox

    box = Sandbox(salesforce_port=0, hubspot_port=0, state_dir=tmp_path_factory.mktemp("hssync"))
    box.start()
    try:
        yield box
    finally:
        box.stop()


@pytest.fixture
def fresh_sandbox(sandbox):
    """The session sandbox, emptied (data, settings, faults, counters) before the test."""
    requests.post(f"{sandbox.salesforce_url}/_sandbox/reset", verify=str(sandbox.tls.ca_cert), timeout=5)
    requests.post(f"{sandbox.hubspot_url}/_sandbox/reset", timeout=5)
    return sandbox


@pytest.fixture
def sf_session(fresh_sandbox) -> requests.Session:
    """A requests session that trusts the sandbox CA.

    ``trust_env`` is off because requests lets a REQUESTS_CA_BUNDLE/CURL_CA_BUNDLE in the
    environment override a session's own ``verify``; machines and CI often set one.
    """
    session = requests.Session()
    session.verify = str(fresh_sandbox.tls.ca_cert)
    session.trust_env = False
    return session


@pytest.fixture
def sf(fresh_sandbox, sf_session):
    """A real simple-salesforce client logged in through the sandbox's OAuth client-credentials flow."""
    from simple_salesforce.api import Salesforce

    info = fresh_sandbox.info.salesforce
    token = sf_session.post(
        info["token_url"],
        data={
            "grant_type": "client_credentials",
            "client_id": info["client_id"],
            "client_secret": info["client_secret"],
        },
        timeout=5,
    )
    token.raise_for_status()
    body = token.json()
    return Salesforce(instance_url=body["instance_url"], session_id=body["access_token"], session=sf_session)


@pytest.fixture
def hs(fresh_sandbox):
    """A real hubspot-api-client pointed at the sandbox with the private-app token."""
    from hubspot import HubSpot

    info = fresh_sandbox.info.hubspot
    return HubSpot(access_token=info["access_token"], host=info["url"])

"""The sandbox's certificate authority and server certificate are well-formed for strict TLS clients."""

from __future__ import annotations

import ipaddress

import pytest
from cryptography import x509
from cryptography.x509.oid import ExtendedKeyUsageOID

from infra.sandbox import tls

pytestmark = pytest.mark.usefixtures("no_sockets")  # pure: no network, as unit tests


def test_server_certificate_is_issued_by_the_written_ca_for_the_requested_hosts(tmp_path):
    files = tls.generate(tmp_path, ["sandbox.local"])
    ca = x509.load_pem_x509_certificate(files.ca_cert.read_bytes())
    server = x509.load_pem_x509_certificate(files.server_cert.read_bytes())

    assert ca.extensions.get_extension_for_class(x509.BasicConstraints).value.ca is True
    assert server.extensions.get_extension_for_class(x509.BasicConstraints).value.ca is False
    server.verify_directly_issued_by(ca)

    san = server.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert "sandbox.local" in san.get_values_for_type(x509.DNSName)
    assert "localhost" in san.get_values_for_type(x509.DNSName)
    assert ipaddress.ip_address("127.0.0.1") in san.get_values_for_type(x509.IPAddress)
    eku = server.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    assert ExtendedKeyUsageOID.SERVER_AUTH in eku
    # strict verifiers (Python 3.13's VERIFY_X509_STRICT) need the key identifiers
    aki = server.extensions.get_extension_for_class(x509.AuthorityKeyIdentifier).value
    ski = ca.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value
    assert aki.key_identifier == ski.digest
    assert files.server_key.stat().st_mode & 0o077 == 0


def test_each_start_makes_a_new_authority(tmp_path):
    first = tls.generate(tmp_path / "a", ["127.0.0.1"]).ca_cert.read_bytes()
    second = tls.generate(tmp_path / "b", ["127.0.0.1"]).ca_cert.read_bytes()
    assert first != second

"""The CRMs of a stack, reached as its functions reach them: the credentials from the stack's
Secrets Manager secrets (read with the operator's AWS credentials, or the local stack's moto)."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from typing import Any

from infra.cli.target import Target, Unavailable


@contextlib.contextmanager
def trusting(ca_bundle: str | None) -> Iterator[None]:
    """HTTPS to the local sandbox verifies against its certificate authority (for the block only)."""
    if ca_bundle is None:
        yield
        return
    before = os.environ.get("REQUESTS_CA_BUNDLE")
    os.environ["REQUESTS_CA_BUNDLE"] = ca_bundle
    try:
        yield
    finally:
        if before is None:
            os.environ.pop("REQUESTS_CA_BUNDLE", None)
        else:
            os.environ["REQUESTS_CA_BUNDLE"] = before


def adapters(target: Target) -> tuple[Any, Any]:
    """(Salesforce adapter, HubSpot adapter) of the stack."""
    from shared.adapters.hubspot import HubSpotAdapter
    from shared.adapters.salesforce import SalesforceAdapter
    from shared.adapters.secrets import SecretStore

    if not target.salesforce_secret or not target.hubspot_secret:
        raise Unavailable(f"{target.where}: the CRM secrets are not known (use --stack NAME or --state-dir)")
    store = SecretStore(
        lambda: target.client("secretsmanager"), env={"SALESFORCE_LOGIN_URL": target.login_url or ""}
    )
    salesforce = SalesforceAdapter.from_secret(store.salesforce(target.salesforce_secret))
    hubspot = HubSpotAdapter.from_secret(store.hubspot(target.hubspot_secret))
    return salesforce, hubspot

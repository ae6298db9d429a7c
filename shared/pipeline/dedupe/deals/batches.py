"""How a bulk load of Opportunities and contact roles fills dedupe's batches (the rule:
``shared.pipeline.dedupe.batching``), with deal sync on.

- Opportunities, 200 a batch: one Salesforce collection retrieve (200 a call) and one contact role
  query per batch, two whole HubSpot batch creates (100 a call) of their new deals.
- Contact roles, 400 a batch (about 200 Opportunities' worth, within the changes queue's batch of
  500): one query of the roles with their Opportunity's state, one read of the deals' contacts and
  one association write per batch; the contacts' lifecycle stages are read and written 100 a call,
  so fewer, fuller batches leave only those per-batch calls to fall.
"""

from __future__ import annotations

from typing import Final

from shared.models import OPPORTUNITY, OPPORTUNITY_CONTACT_ROLE

OPPORTUNITY_CHUNK = 200
ROLE_CHUNK = 400
DEAL_CHUNKS: Final[dict[str, int]] = {OPPORTUNITY: OPPORTUNITY_CHUNK, OPPORTUNITY_CONTACT_ROLE: ROLE_CHUNK}

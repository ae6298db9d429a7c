"""The HubSpot port over hubspot-api-client. Each API module (``hubspot.crm.contacts``, and for the
methods that need them ``hubspot.crm.companies``, ``hubspot.crm.associations.v4``,
``hubspot.crm.lists``, ``hubspot.crm.properties``, ``hubspot.crm.owners`` and
``hubspot.communication_preferences``) is imported only when its first call is made.

HubSpot refuses a whole batch for one bad input (400 ``VALIDATION_ERROR``, or 409 for an existing
email); the adapter sets the culprits aside and sends the rest again. Retries: 429 waits for
``Retry-After`` (the daily limit suspends instead); 5xx, timeouts and dropped connections back off
(:mod:`shared.adapters.retry`).

The package, one concern a module:

- :mod:`.parse` (pure): contacts, error bodies, the ids and properties an error names;
- :mod:`.errors`: HubSpot's failures as the domain's (suspension, retry, rejection, failure);
- :mod:`.transport`: the API packages' clients, retries around every call, raw calls, pacing;
- :mod:`.batch` (pure): batches without duplicate keys, settling an answer, isolating culprits;
- :mod:`.objects`: the contacts batch API (read, read by email, create, update, archive);
- :mod:`.companies`: the companies batch API (read, create, update, archive);
- :mod:`.associations`: associations v4 between contacts and companies (batch read, create, archive);
- :mod:`.search`: ``contacts_modified_since`` and ``companies_modified_since`` past the 10,000-result cap;
- :mod:`.lists`: lists v3 memberships;
- :mod:`.owners`: the owners API;
- :mod:`.properties`: contact property definitions (cached);
- :mod:`.preferences`: communication preferences (opt-out of all email);
- :mod:`.adapter`: :class:`HubSpotAdapter`, the port, built from a secret.
"""

from shared.adapters.hubspot.adapter import HubSpotAdapter
from shared.adapters.hubspot.batch import Item, culprits, hubspot_value
from shared.adapters.hubspot.errors import DAILY_LIMIT_REASON, SYSTEM, call_failure
from shared.adapters.hubspot.lists import CONTACT_TYPE_ID, MAX_MEMBERSHIP_BATCH, MEMBERSHIP_PAGE
from shared.adapters.hubspot.objects import MAX_BATCH, MAX_HISTORY_BATCH
from shared.adapters.hubspot.owners import OWNERS_PAGE
from shared.adapters.hubspot.parse import (
    MODIFIED,
    PropertyIssue,
    parse_existing_id,
    parse_property_issues,
    to_contact,
)
from shared.adapters.hubspot.preferences import OPTOUT
from shared.adapters.hubspot.properties import PROPERTIES_CACHE_SECONDS
from shared.adapters.hubspot.search import SEARCH_MAX_RESULTS, SEARCH_PAGE, SEARCH_PER_SECOND
from shared.adapters.hubspot.transport import DEFAULT_HOST, USER_AGENT, Pacer

__all__ = [
    "CONTACT_TYPE_ID",
    "DAILY_LIMIT_REASON",
    "DEFAULT_HOST",
    "MAX_BATCH",
    "MAX_HISTORY_BATCH",
    "MAX_MEMBERSHIP_BATCH",
    "MEMBERSHIP_PAGE",
    "MODIFIED",
    "OPTOUT",
    "OWNERS_PAGE",
    "PROPERTIES_CACHE_SECONDS",
    "SEARCH_MAX_RESULTS",
    "SEARCH_PAGE",
    "SEARCH_PER_SECOND",
    "SYSTEM",
    "USER_AGENT",
    "HubSpotAdapter",
    "Item",
    "Pacer",
    "PropertyIssue",
    "call_failure",
    "culprits",
    "hubspot_value",
    "parse_existing_id",
    "parse_property_issues",
    "to_contact",
]

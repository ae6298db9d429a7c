"""The Salesforce port over simple-salesforce: batched reads and writes, retries, classification.

Calls per batch (the API-frugal part):

- ``retrieve``: sObject Collections retrieve, up to 2,000 ids per call (SOQL ``Id IN`` would need
  several calls for as many ids, because of the URL length);
- ``find_by_email`` / ``modified_since``: SOQL. ``Email IN (...)`` lists are cut to keep each query
  URL under ~14,000 characters; several such queries travel in one Composite call (at most 5 query
  subrequests each), so 1,000 emails cost one call;
- ``create`` / ``update``: sObject Collections, 200 records per call, ``allOrNone`` false, each
  record's result mapped to a :class:`~shared.ports.WriteOutcome`.

Failures are retried under the shared policy (:mod:`shared.adapters.retry`); reads then raise
:class:`~shared.errors.TransientApiError`, writes return what is still failing as retryable
failures. Creates after an ambiguous failure (timeout, dropped connection, 500) are first looked for
by email among the records the integration user created since the first attempt.

The package, one concern a module, each layer using the ones before it:

- :mod:`.soql` (pure): literals, names, ``IN`` lists cut to the URL limit, the queries sent;
- :mod:`.parse` (pure): records, describe entries, the limit header, error bodies;
- :mod:`.errors`: Salesforce's failures as the domain's (suspension, retry, rejection, failure);
- :mod:`.transport`: the client, headers, token refresh, retries around reads, Composite calls;
- :mod:`.describe`: which fields the org's objects have (cached);
- :mod:`.query`: the SOQL reads (find by email, owners, merged records, ``modified_since``);
- :mod:`.settle` (pure): what a collection write sends and how its answer settles each record;
- :mod:`.sobjects`: sObject Collections retrieve, create and update;
- :mod:`.adapter`: :class:`SalesforceAdapter`, the port, built from a secret.

simple-salesforce itself is imported on the first call.
"""

from shared.adapters.salesforce.adapter import SalesforceAdapter
from shared.adapters.salesforce.describe import DESCRIBE_CACHE_SECONDS
from shared.adapters.salesforce.errors import SUSPEND_REASONS, SYSTEM, call_failure, gave_up, to_failure
from shared.adapters.salesforce.parse import (
    SfError,
    compact_field,
    duplicate_of,
    parse_errors,
    parse_limit_info,
    to_record,
)
from shared.adapters.salesforce.query import MAX_COMPOSITE_QUERIES
from shared.adapters.salesforce.settle import MAX_WRITE
from shared.adapters.salesforce.sobjects import AMBIGUITY_MARGIN, MAX_RETRIEVE
from shared.adapters.salesforce.soql import (
    BASE_FIELDS,
    MAX_QUERY_URL_CHARS,
    in_lists,
    select_list,
    soql_datetime,
    soql_literal,
)
from shared.adapters.salesforce.transport import (
    API_VERSION,
    CALL_OPTIONS,
    CLIENT_NAME,
    MAX_COMPOSITE_SUBREQUESTS,
)
from shared.ids import salesforce_id18 as to_18
from shared.times import parse_timestamp as parse_datetime

__all__ = [
    "AMBIGUITY_MARGIN",
    "API_VERSION",
    "BASE_FIELDS",
    "CALL_OPTIONS",
    "CLIENT_NAME",
    "DESCRIBE_CACHE_SECONDS",
    "MAX_COMPOSITE_QUERIES",
    "MAX_COMPOSITE_SUBREQUESTS",
    "MAX_QUERY_URL_CHARS",
    "MAX_RETRIEVE",
    "MAX_WRITE",
    "SUSPEND_REASONS",
    "SYSTEM",
    "SalesforceAdapter",
    "SfError",
    "call_failure",
    "compact_field",
    "duplicate_of",
    "gave_up",
    "in_lists",
    "parse_datetime",
    "parse_errors",
    "parse_limit_info",
    "select_list",
    "soql_datetime",
    "soql_literal",
    "to_18",
    "to_failure",
    "to_record",
]

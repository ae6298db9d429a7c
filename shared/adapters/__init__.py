"""The real CRM adapters behind the ports of :mod:`shared.ports`.

- :mod:`shared.adapters.salesforce`: ``SalesforceAdapter`` (simple-salesforce), a package: SOQL
  building and response parsing (pure), error mapping, transport, describe, queries, sObject
  Collections and their batch settling; with the token acquisition of :mod:`shared.adapters.auth`;
- :mod:`shared.adapters.hubspot`: ``HubSpotAdapter`` (hubspot-api-client), a package: parsing
  (pure), error mapping, transport, batch settling and isolation (pure), and one module per API
  (objects, search, lists, owners, properties, communication preferences);
- :mod:`shared.adapters.retry`: the one retry policy both use, and the API call counter;
- :mod:`shared.adapters.secrets`: credentials from Secrets Manager.

Nothing is imported here, so that a handler pays only for the adapter it uses; the CRM client
libraries themselves are imported on the first call.
"""

"""Emulator of the Salesforce REST API (OAuth token endpoint, sObjects, SOQL, composite, CDC)."""

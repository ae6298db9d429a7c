"""Emulator of the HubSpot APIs (CRM v3 objects, associations v4, owners, lists, webhooks, ...)."""

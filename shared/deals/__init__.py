"""Deal sync: HubSpot deals <-> Salesforce Opportunities (DESIGN S8, S15, S17)."""

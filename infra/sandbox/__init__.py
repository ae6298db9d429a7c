"""The local sandbox: emulators of Salesforce and HubSpot that real clients talk to unmodified."""

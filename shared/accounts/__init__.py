"""Account sync's pure rules (DESIGN S7, S9, S13): ``matching`` (which Account a HubSpot company is
linked to, through its contacts), ``associations`` (a Contact's AccountId <-> its HubSpot contact's
primary company), ``person`` (person accounts as a HubSpot contact plus a company)."""

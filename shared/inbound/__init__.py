"""Turning what the CRMs send (webhooks, change events, poll results) into ChangeEvents."""

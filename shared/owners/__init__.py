"""Owners between the two CRMs (S16, S17): who they are, how they match, what to write."""

"""The guardrails (DESIGN C3, S2): hssync keeps to its API allocation of each CRM, stops calling a
CRM that refuses, and loses nothing meanwhile.

- :mod:`.allocation` (pure): may a stage call a CRM now, and how long does waiting work wait;
- :mod:`.guard`: the CRM states (``shared.crm_state``) a function reads before it calls a CRM and
  writes after (usage, pause, suspension, resumption), and the notification of each transition;
- :mod:`.waiting`: work that must wait goes back to its queue as a new, delayed message;
- :mod:`.probe`: the one cheap call per schedule that finds out whether a CRM answers again.
"""

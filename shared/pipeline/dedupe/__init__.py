"""Dedupe: from change events to sync plans.

For a batch of change events it reads the *current* state of every changed record (so duplicated,
reordered or stale events are harmless), finds the counterpart (the link, else the email match),
decides per field what to write where (sync rules + echo suppression, ``shared.rules``), and claims
creations so that two concurrent events can never create two records. It writes nothing to either
CRM: that is apply's job.

API cost per batch, whatever its size up to the batch limits: one HubSpot batch read per 50
contacts (with property history), one Salesforce retrieve per object, and one Composite call for
the Lead and Contact email lookups. Notifications that only report values hssync already synced
(its own writes coming back) are answered from the link, without a read.

Where each rule lives:

- ``coordinator``: :class:`Deduper`, which hands each event to the part of its object kind and
  gathers their decisions (``outcome``: a plan, a skip or a retry per record) into a
  :class:`DedupeResult`; ``parts``: the interface an object kind implements.
- ``contacts``: the part for HubSpot contacts <-> Salesforce Leads and Contacts: batched reads,
  then one decision per record, from either side, and for deletions.
- ``batching``: bulk-load batching (holding part of a bulk load for the next batch).
- ``echo``: how hssync recognises its own changes (the marks its writes carry, the notifications
  answered from the link, the pairs with a write in flight).
- ``inclusion``: the inclusion list (S4, S5).
- ``linking``: links by email and same-email duplicates (S6).
- ``reconcile``: field reconciliation of a pair (writes, opt-out S14, owners S17, direction).
- ``creation``: creation claims, waiting for hssync's own new record, creation plans (S5, S10).
- ``moves``: links that move: lead conversion, merges, deletions.
- ``records``: the synced objects and the keys and ids of records.
"""

from shared.pipeline.dedupe.batching import BULK_CHANGES, HUBSPOT_CHUNK, fill_batches
from shared.pipeline.dedupe.coordinator import Deduper
from shared.pipeline.dedupe.creation import LINK_WAIT_DEFERRALS
from shared.pipeline.dedupe.echo import (
    ALREADY_SYNCED,
    INTEGRATION_SOURCE,
    OWN_CLIENT_MARKER,
    OWN_CREATION_DEFERRALS,
)
from shared.pipeline.dedupe.inclusion import included, inclusion_properties, watched_properties
from shared.pipeline.dedupe.outcome import Decision, DedupeResult, Planned, Retry, Skip
from shared.pipeline.dedupe.parts import Batch, ObjectPart

__all__ = [
    "ALREADY_SYNCED",
    "BULK_CHANGES",
    "HUBSPOT_CHUNK",
    "INTEGRATION_SOURCE",
    "LINK_WAIT_DEFERRALS",
    "OWN_CLIENT_MARKER",
    "OWN_CREATION_DEFERRALS",
    "Batch",
    "Decision",
    "DedupeResult",
    "Deduper",
    "ObjectPart",
    "Planned",
    "Retry",
    "Skip",
    "fill_batches",
    "included",
    "inclusion_properties",
    "watched_properties",
]

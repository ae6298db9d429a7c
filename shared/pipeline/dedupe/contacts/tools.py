"""What every decision of one batch of contact changes works with."""

from __future__ import annotations

from dataclasses import dataclass

from shared.pipeline.dedupe.contacts.reads import Reader
from shared.pipeline.dedupe.contacts.schema import ContactSchema
from shared.pipeline.dedupe.creation import Creator
from shared.pipeline.dedupe.inclusion import included_contact
from shared.pipeline.dedupe.parts import Batch
from shared.pipeline.dedupe.reconcile import Reconciler
from shared.ports import HubSpotContact


@dataclass(frozen=True)
class Tools:
    batch: Batch
    schema: ContactSchema
    read: Reader
    reconciler: Reconciler
    creator: Creator

    @classmethod
    def of(cls, batch: Batch, schema: ContactSchema) -> Tools:
        return cls(
            batch,
            schema,
            Reader(batch, schema),
            Reconciler(schema, batch.portal),
            Creator(schema, batch.config, batch.portal, batch.state),
        )

    def included(self, contact: HubSpotContact, members: set[str] | None) -> bool:
        """Whether ``contact`` meets the inclusion list (``members``: the list's, None: no list)."""
        return included_contact(self.batch.config, contact, members)

"""The deals objects' batch API and the deal pipelines (deal sync, DESIGN S8).

- ``read_deals``: batch read with ``properties`` and ``propertiesWithHistory``, 50 ids per call
  (100 without properties, or without history: deals not linked yet);
- ``create_deals`` / ``update_deals``: batch create / update, 100 inputs per call, refused batches
  settled as for companies; a deal has no unique property, so a create whose answer was lost is
  not sent again (it fails, and is decided again: apply looks for it first, ``deals_created_since``);
- ``archive_deals``: batch archive, 100 ids per call; an id already gone is archived;
- ``lifecycle_stages``: contacts' ``lifecyclestage`` by batch read without property history, 100
  ids per call (lifecycle stages from opportunities compare current stages only); counted as the
  contacts' ``read``;
- ``deal_property_types``: the deal property definitions, one call per adapter;
- ``deal_pipelines``: ``GET /crm/v3/pipelines/deals``, one call per adapter;
- ``deals_modified_since``: the poller's search on ``hs_lastmodifieddate``;
- ``deals_created_since``: one search (``createdate GTE``, ``dealname IN``) where a deal create
  whose answer was lost is looked for (``shared.accounts.creation_intents``), counted as
  ``deals_search``;
- ``associate_deal_companies``: a deal's primary company (associations v4 batch create);
- ``associate_deal_contacts``: a deal's contacts (associations v4 batch create), with the label of
  the portal's deal -> contact association labels (read once per adapter) named as the role;
- ``dissociate_deal_contacts``: contacts removed from their deals (associations v4 batch archive,
  2,000 pairs a call).

Calls are counted as ``deals_<operation>``.
"""

from __future__ import annotations

import copy
import datetime as dt
from collections.abc import Sequence
from functools import partial
from typing import Any

from shared.accounts.creation_intents import Created
from shared.adapters.hubspot.associations import ASSOCIATION_TYPES, HUBSPOT_DEFINED, HubSpotAssociations
from shared.adapters.hubspot.objects import MAX_BATCH, MAX_HISTORY_BATCH, HubSpotObjects, operation_name
from shared.adapters.hubspot.parse import to_contact
from shared.adapters.hubspot.search import HubSpotSearch
from shared.adapters.hubspot.transport import ASSOCIATIONS, DEALS, PIPELINES, PROPERTIES
from shared.chunking import chunks
from shared.deals.lifecycle import LIFECYCLE_PROPERTY
from shared.deals.ports import DealPipeline, HubSpotDeal, PipelineStage
from shared.models import COMPANIES, CONTACTS
from shared.models import DEALS as DEALS_TYPE
from shared.ports import AssociationPair, RecordWrite, WriteOutcome


def to_pipeline(raw: Any) -> DealPipeline:
    """A pipeline of hubspot-api-client's model; a stage is won when closed with probability 1."""
    stages = []
    for s in sorted(raw.stages or (), key=lambda s: s.display_order or 0):
        if s.archived:
            continue
        meta = s.metadata or {}
        closed = str(meta.get("isClosed", "false")).lower() == "true"
        won = closed and float(meta.get("probability") or 0) >= 1.0
        stages.append(PipelineStage(id=str(s.id), label=str(s.label), closed=closed, won=won))
    return DealPipeline(id=str(raw.id), label=str(raw.label), stages=tuple(stages))


class HubSpotDeals(HubSpotObjects, HubSpotAssociations, HubSpotSearch):
    _deal_types: dict[str, dict[str, Any]] | None = None
    _pipelines: list[DealPipeline] | None = None
    _contact_labels: dict[str, tuple[str, int]] | None = None

    def deal_property_types(self, names: Sequence[str]) -> dict[str, dict[str, Any]]:
        if self._deal_types is None:
            api = self._properties()
            call = partial(api.get_all, "deals", archived=False, **self._opts())
            answer = self._read("deals_properties", call, package=PROPERTIES)
            serialize = api.api_client.sanitize_for_serialization
            self._deal_types = {str(p.name): serialize(p) for p in answer.results or ()}
        return {name: copy.deepcopy(self._deal_types[name]) for name in names if name in self._deal_types}

    def deal_pipelines(self) -> list[DealPipeline]:
        if self._pipelines is None:
            from hubspot.crm.pipelines import PipelinesApi

            api = PipelinesApi(self._client(PIPELINES))
            call = partial(api.get_all, "deals", **self._opts())
            answer = self._read("deals_pipelines", call, package=PIPELINES)
            self._pipelines = [to_pipeline(p) for p in answer.results or () if not p.archived]
        return list(self._pipelines)

    def read_deals(
        self, ids: Sequence[str], properties: Sequence[str], *, history: bool = True
    ) -> dict[str, HubSpotDeal]:
        from hubspot.crm.deals import BatchReadInputSimplePublicObjectId, SimplePublicObjectId

        wanted = list(dict.fromkeys(str(i).strip() for i in ids if str(i).strip()))
        props = list(dict.fromkeys(properties))
        out: dict[str, HubSpotDeal] = {}
        with_history = props if history else []
        for chunk in chunks(wanted, MAX_HISTORY_BATCH if with_history else MAX_BATCH):
            body = BatchReadInputSimplePublicObjectId(
                inputs=[SimplePublicObjectId(id=i) for i in chunk],
                properties=props,
                properties_with_history=with_history or None,
            )
            call = partial(self._batch_read, body, DEALS)
            answer = self._read(operation_name("read", DEALS), call, DEALS)
            for obj in answer.results or ():
                deal = to_contact(obj, props)  # the same object shape
                if not deal.archived:
                    out[deal.id] = deal
        return out

    def lifecycle_stages(self, contact_ids: Sequence[str]) -> dict[str, str | None]:
        from hubspot.crm.contacts import BatchReadInputSimplePublicObjectId, SimplePublicObjectId

        wanted = list(dict.fromkeys(str(i).strip() for i in contact_ids if str(i).strip()))
        props = [LIFECYCLE_PROPERTY]
        out: dict[str, str | None] = {}
        for chunk in chunks(wanted, MAX_BATCH):
            body = BatchReadInputSimplePublicObjectId(
                inputs=[SimplePublicObjectId(id=i) for i in chunk], properties=props
            )
            answer = self._read("read", partial(self._batch_read, body))
            for obj in answer.results or ():
                contact = to_contact(obj, props)
                if not contact.archived:
                    out[contact.id] = contact.properties.get(LIFECYCLE_PROPERTY)
        return out

    def deals_modified_since(
        self, since: dt.datetime, properties: Sequence[str], limit: int
    ) -> list[HubSpotDeal]:
        """Deals with ``hs_lastmodifieddate > since``, oldest first (the poller's read; see
        :meth:`~shared.adapters.hubspot.search.HubSpotSearch.contacts_modified_since`)."""
        return self._modified_since(since, properties, limit, DEALS)

    def deals_created_since(self, names: Sequence[str], since: dt.datetime) -> list[Created]:
        """Deals created at or after ``since`` whose dealname is one of ``names`` (``createdate GTE``
        and ``dealname IN``, 100 names a search, 200 results a page), with their dealname, amount and
        closedate: where a deal create whose answer was lost is looked for. Counted as
        ``deals_search``."""
        return self._created_since(DEALS_TYPE, names, since)

    def associate_deal_companies(self, pairs: Sequence[AssociationPair]) -> list[WriteOutcome]:
        """Makes each company (``to_id``) its deal's (``from_id``) primary company (associations v4,
        2,000 pairs a call)."""
        types = [
            {"associationCategory": HUBSPOT_DEFINED, "associationTypeId": t}
            for t in ASSOCIATION_TYPES[(DEALS_TYPE, COMPANIES)]
        ]

        def body(chunk: Sequence[AssociationPair]) -> list[dict[str, Any]]:
            return [{"from": {"id": p.from_id}, "to": {"id": p.to_id}, "types": types} for p in chunk]

        return self._write_pairs("create", DEALS_TYPE, COMPANIES, pairs, body)

    def associate_deal_contacts(
        self, labelled: Sequence[tuple[AssociationPair, str | None]]
    ) -> list[WriteOutcome]:
        """Associates each contact (``to_id``) with its deal (``from_id``), labelled with the portal's
        deal -> contact label of the given name when there is one (associations v4, 2,000 a call)."""
        unlabelled = ASSOCIATION_TYPES[(DEALS_TYPE, CONTACTS)][0]
        labels = self._deal_contact_labels() if any(label for _, label in labelled) else {}
        label_of = {pair.key: label for pair, label in labelled}

        def types(label: str | None) -> list[dict[str, Any]]:
            out: list[dict[str, Any]] = [
                {"associationCategory": HUBSPOT_DEFINED, "associationTypeId": unlabelled}
            ]
            found = labels.get(label.casefold()) if label else None
            if found is not None:
                out.append({"associationCategory": found[0], "associationTypeId": found[1]})
            return out

        def body(chunk: Sequence[AssociationPair]) -> list[dict[str, Any]]:
            return [
                {"from": {"id": p.from_id}, "to": {"id": p.to_id}, "types": types(label_of[p.key])}
                for p in chunk
            ]

        return self._write_pairs("create", DEALS_TYPE, CONTACTS, [p for p, _ in labelled], body)

    def dissociate_deal_contacts(self, pairs: Sequence[AssociationPair]) -> list[WriteOutcome]:
        """Removes each contact (``to_id``) from its deal (``from_id``), every label of it."""
        return self.dissociate(DEALS_TYPE, CONTACTS, pairs)

    def _deal_contact_labels(self) -> dict[str, tuple[str, int]]:
        """The portal's labelled deal -> contact association types by label (case-insensitive)."""
        if self._contact_labels is None:
            path = f"/crm/v4/associations/{DEALS_TYPE}/{CONTACTS}/labels"
            answer = self._read(
                "associations_labels", partial(self._raw, ASSOCIATIONS, "GET", path), ASSOCIATIONS
            )
            self._contact_labels = {
                str(r["label"]).casefold(): (str(r.get("category") or HUBSPOT_DEFINED), int(r["typeId"]))
                for r in (answer or {}).get("results") or ()
                if r.get("label") and r.get("typeId") is not None
            }
        return self._contact_labels

    def create_deals(self, writes: Sequence[RecordWrite]) -> list[WriteOutcome]:
        return self._write(writes, create=True, package=DEALS)

    def update_deals(self, writes: Sequence[RecordWrite]) -> list[WriteOutcome]:
        return self._write(writes, create=False, package=DEALS)

    def archive_deals(self, ids: Sequence[str]) -> list[WriteOutcome]:
        """Archives (100 per call); an id that is already archived or unknown is a success."""
        return self._archive(ids, DEALS)

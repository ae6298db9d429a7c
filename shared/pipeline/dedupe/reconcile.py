"""Field reconciliation of one linked pair: what to write where, field by field (sync rules,
``shared.rules``; echo suppression against what hssync last synced, DESIGN §5), the email opt-out
(S14), the owners for the owners stage (S17) and the plan's direction.

What hssync last synced is the link's ``synced`` pair, or, while a write of hssync's is unsettled,
what that write intended where it landed (``shared.intents.remembered``): a value hssync wrote is
never taken for a person's change.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol

from shared.config import OPT_OUT_HUBSPOT, OPT_OUT_SALESFORCE, FieldMapping
from shared.intents import WriteIntent, WrittenSide, remembered
from shared.matching import normalize_email
from shared.models import ChangeEvent, SfObject, System
from shared.owners.decide import OWNER_FIELD, OWNER_PROPERTY, OwnerState
from shared.pipeline.convert import ConversionError
from shared.pipeline.dedupe.records import hs_key, id_or_none, sf_key, sf_object
from shared.pipeline.fields import NOT_PROVIDED, ContactFields, FieldTypes, Refused, opted_out
from shared.pipeline.plans import HealthNote, SyncedPair, SyncPlan, plan_id
from shared.ports import HubSpotContact, Link, SalesforceRecord
from shared.rules import FieldState, Remembered, Side, decide, decide_opt_out

Direction = Literal["hubspot_to_salesforce", "salesforce_to_hubspot", "both", "none"]


class Schema(Protocol):
    """The mapped fields and their types (``contacts.schema.ContactSchema``)."""

    @property
    def fields(self) -> ContactFields: ...

    @property
    def types(self) -> FieldTypes: ...

    @property
    def company_placeholder(self) -> str | None: ...

    def comparable(self, prop: str, sf_object_name: str, value: Any) -> str | None: ...


@dataclass(frozen=True)
class Pair:
    """One pair to reconcile. ``record`` is the Salesforce record whose values count and that
    receives the writes: the linked one, or the most recently updated of same-email duplicates.
    ``link`` is what the pair's link will say after the writes; ``synced`` what hssync last synced
    (None: a first sync). ``link_only``: record the link and nothing else (a contact outside the
    inclusion list that a Salesforce record de-duplicated, S5); its first sync happens when it
    enters the list."""

    contact: HubSpotContact
    record: SalesforceRecord
    synced: Mapping[str, SyncedPair] | None
    event: ChangeEvent
    link: Link
    new_link: bool = False
    notes: tuple[HealthNote, ...] = ()
    link_only: bool = False

    @property
    def intent(self) -> WriteIntent | None:
        """The link's unsettled write; it counts only for a pair synced before."""
        return self.link.intent if self.synced is not None else None


@dataclass
class _Writes:
    """What reconciling one pair has decided so far."""

    after: dict[str, SyncedPair]  # what hssync will have synced once the writes landed
    hubspot: dict[str, str | None] = field(default_factory=dict)
    salesforce: dict[str, Any] = field(default_factory=dict)
    reasons: list[str] = field(default_factory=list)
    notes: list[HealthNote] = field(default_factory=list)
    written: dict[str, WrittenSide] = field(default_factory=dict)
    unsubscribe: bool = False


def whole_seconds(moment: dt.datetime | None) -> dt.datetime | None:
    """A change time at Salesforce's precision: ``LastModifiedDate`` keeps whole seconds, so a
    HubSpot change (milliseconds) in the same second as a Salesforce one is a tie (to Salesforce),
    never "newer" than a Salesforce edit made after it within that second."""
    return moment.replace(microsecond=0) if moment is not None else None


def direction(*, writes_hubspot: bool, writes_salesforce: bool) -> Direction:
    """Which way a plan writes."""
    if writes_hubspot and writes_salesforce:
        return "both"
    if writes_salesforce:
        return "hubspot_to_salesforce"
    return "salesforce_to_hubspot" if writes_hubspot else "none"


def refused_note(refused: Refused, to: str, record: str) -> HealthNote:
    """Sync health for a value the other side would refuse: a known difference, not retried."""
    return HealthNote(
        system=to,
        record=record,
        category="property_values",
        code=refused.code,
        message=f"{refused.prop} <-> {refused.field}: {refused.message}",
        fields=(refused.field,) if to == "salesforce" else (refused.prop,),
    )


class Reconciler:
    """Field-by-field decisions for pairs of one portal."""

    def __init__(self, schema: Schema, portal: str) -> None:
        self.schema = schema
        self.portal = portal

    def plan(self, pair: Pair) -> SyncPlan:
        """The plan that brings ``pair`` in line (it may write nothing and only record the link)."""
        writes = _Writes(after=dict(pair.synced or {}))
        writes.notes.extend(pair.notes)
        owner = None
        if not pair.link_only:
            self._mapped_fields(pair, writes)
            self._opt_out(pair, writes)
        self._placeholders(sf_object(pair.record.sobject), writes.salesforce)
        if not pair.link_only:
            owner = self._owner(pair, writes)
        return self._assemble(pair, writes, owner)

    def _mapped_fields(self, pair: Pair, writes: _Writes) -> None:
        record_object = sf_object(pair.record.sobject)
        for mapping, sf_field in self.schema.fields.for_object(record_object):
            if not self.schema.types.has_field(record_object, sf_field):
                continue  # not deployed in this org
            self._field(pair, writes, mapping, sf_field)

    def _field(self, pair: Pair, writes: _Writes, mapping: FieldMapping, sf_field: str) -> None:
        record_object = sf_object(pair.record.sobject)
        prop = mapping.hubspot
        hs_raw = pair.contact.properties.get(prop)
        sf_raw = pair.record.fields.get(sf_field)
        hs_value = self.schema.comparable(prop, record_object, hs_raw)
        sf_value = self.schema.comparable(prop, record_object, sf_raw)
        remembered_pair = remembered(prop, pair.synced, pair.intent, hubspot=hs_value, salesforce=sf_value)
        last_synced = Remembered(*remembered_pair) if remembered_pair is not None else None
        state = FieldState(
            hs_value,
            sf_value,
            whole_seconds(pair.contact.property_changed_at.get(prop)),
            whole_seconds(pair.record.last_modified),
        )
        write = decide(mapping.rule, state, last_synced)
        if write is None:
            writes.after[prop] = (hs_value, sf_value)
            return
        types = self.schema.types
        try:
            if write.to is Side.SALESFORCE:
                writes.salesforce[sf_field] = types.to_salesforce(prop, record_object, sf_field, hs_raw)
                writes.after[prop] = (hs_value, hs_value)
            else:
                writes.hubspot[prop] = types.to_hubspot(prop, record_object, sf_field, sf_raw)
                writes.after[prop] = (sf_value, sf_value)
            writes.written[prop] = write.to.value
        except ConversionError as exc:
            # the other side would refuse the value: a known difference, reported, not retried
            refused = Refused(prop, sf_field, exc.code, exc.message)
            writes.notes.append(_refused_write(refused, write.to, pair))
            writes.after[prop] = (hs_value, sf_value)
            return
        writes.reasons.append(f"{prop}: {write.reason}")

    @staticmethod
    def _opt_out(pair: Pair, writes: _Writes) -> None:
        """S14: an opt-out on either side opts out on the other; clearing one never re-subscribes."""
        hs_opt = opted_out(pair.contact.properties.get(OPT_OUT_HUBSPOT))
        sf_opt = opted_out(pair.record.fields.get(OPT_OUT_SALESFORCE))
        opt_write = decide_opt_out(hubspot_opted_out=hs_opt, salesforce_opted_out=sf_opt)
        if opt_write is not None and opt_write.to is Side.SALESFORCE:
            writes.salesforce[OPT_OUT_SALESFORCE] = True
        elif opt_write is not None:
            writes.unsubscribe = True
        if opt_write is not None:
            writes.written[OPT_OUT_HUBSPOT] = opt_write.to.value
            writes.reasons.append(f"{OPT_OUT_HUBSPOT}: {opt_write.reason}")
        both = hs_opt or sf_opt
        writes.after[OPT_OUT_HUBSPOT] = ("true" if both else "false", "true" if both else "false")

    def _placeholders(self, record_object: SfObject, salesforce: dict[str, Any]) -> None:
        """Required Salesforce fields are never cleared: LastName, and a Lead's Company (S10)."""
        if "LastName" in salesforce and salesforce["LastName"] is None:
            salesforce["LastName"] = NOT_PROVIDED
        placeholder = self.schema.company_placeholder
        if (
            record_object == "Lead"
            and "Company" in salesforce
            and salesforce["Company"] is None
            and placeholder
        ):
            salesforce["Company"] = placeholder

    @staticmethod
    def _owner(pair: Pair, writes: _Writes) -> OwnerState:
        """The pair's owners as read, for the owners stage to decide (S17)."""
        hs_owner = pair.contact.properties.get(OWNER_PROPERTY) or None
        sf_owner = id_or_none(pair.record.fields.get(OWNER_FIELD))
        remembered_owner = (
            remembered(OWNER_PROPERTY, pair.synced, pair.intent, hubspot=hs_owner, salesforce=sf_owner)
            if pair.synced is not None
            else None
        )
        if remembered_owner is not None:
            writes.after[OWNER_PROPERTY] = remembered_owner
        return OwnerState(
            hubspot=hs_owner,
            salesforce=sf_owner,
            remembered=remembered_owner,
            hubspot_changed_at=pair.contact.property_changed_at.get(OWNER_PROPERTY),
            salesforce_changed_at=pair.record.last_modified,
        )

    def _assemble(self, pair: Pair, writes: _Writes, owner: OwnerState | None) -> SyncPlan:
        contact, record, link, event = pair.contact, pair.record, pair.link, pair.event
        email = normalize_email(contact.properties.get("email")) or normalize_email(
            record.fields.get("Email")
        )
        unchanged = ("linked; outside the inclusion list",) if pair.link_only else ("already in sync",)
        return SyncPlan(
            plan_id=plan_id(self.portal, contact.id, record.id, event.change_id),
            portal=self.portal,
            hubspot_id=contact.id,
            sf_object=sf_object(record.sobject),
            sf_id=record.id,
            link_sf_object=sf_object(link.sf_object),
            link_sf_id=link.sf_id,
            duplicates=link.duplicates,
            hubspot_writes=writes.hubspot,
            salesforce_writes=writes.salesforce,
            unsubscribe_email=email if writes.unsubscribe else None,
            owner=owner,
            synced_before=dict(pair.synced or {}),
            synced_after={} if pair.link_only else writes.after,
            written=writes.written,
            link_rev=None if pair.new_link else link.rev,
            redecided=event.redecided,
            reasons=tuple(writes.reasons) or unchanged,
            notes=tuple(writes.notes),
            direction=direction(
                writes_hubspot=bool(writes.hubspot) or writes.unsubscribe,
                writes_salesforce=bool(writes.salesforce),
            ),
            source="hubspot" if event.system is System.HUBSPOT else "salesforce",
            linked_by_email=pair.new_link,
            link_only=pair.link_only,
        )


def _refused_write(refused: Refused, to: Side, pair: Pair) -> HealthNote:
    if to is Side.SALESFORCE:
        return refused_note(refused, "salesforce", hs_key(pair.contact.id))
    return refused_note(refused, "hubspot", sf_key(pair.record.sobject, pair.record.id))

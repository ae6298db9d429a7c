"""The inclusion list (S4, S5): which HubSpot contacts sync.

By default every contact syncs. A configured HubSpot list (its members, read per batch) or property
filters, or the legacy preset "everyone except lifecycle stage = subscriber", narrow it. A contact
outside the list is still de-duplicated by a Salesforce record (S5), but nothing syncs while it
stays outside.
"""

from __future__ import annotations

from collections.abc import Mapping

from shared.config import PropertyFilter, SyncConfig
from shared.pipeline.fields import ContactFields
from shared.ports import HubSpotContact

SUBSCRIBERS_PRESET = "everyone_except_subscribers"
OUTSIDE = "outside the inclusion list"  # a change of a contact outside it: nothing syncs
LINKED_OUTSIDE = "linked; the HubSpot contact is outside the inclusion list"  # S5


def included(config: SyncConfig, properties: Mapping[str, str | None]) -> bool:
    """Whether a HubSpot contact meets the inclusion list (S4). No list: everyone."""
    inclusion = config.inclusion
    if inclusion.preset == SUBSCRIBERS_PRESET:
        return (properties.get("lifecyclestage") or "").lower() != "subscriber"
    return all(_filter_holds(f, properties) for f in inclusion.property_filters)


def included_contact(config: SyncConfig, contact: HubSpotContact, members: set[str] | None) -> bool:
    """Whether ``contact`` syncs: a member of the configured list (``members``: the list's members
    among the batch's contacts; None when no list is configured), else by :func:`included`."""
    if members is not None:
        return contact.id in members
    return included(config, contact.properties)


def _filter_holds(f: PropertyFilter, properties: Mapping[str, str | None]) -> bool:
    value = properties.get(f.property)
    has = value is not None and value != ""
    if f.operator == "HAS_PROPERTY":
        return has
    if f.operator == "NOT_HAS_PROPERTY":
        return not has
    folded = (value or "").lower()
    if f.operator == "EQ":
        return has and folded == (f.value or "").lower()
    if f.operator == "NEQ":
        return folded != (f.value or "").lower()
    options = {v.lower() for v in f.values}
    return (folded in options) if f.operator == "IN" else (folded not in options)


def inclusion_properties(config: SyncConfig) -> set[str]:
    """The contact properties the inclusion list looks at."""
    props = {f.property for f in config.inclusion.property_filters}
    if config.inclusion.preset == SUBSCRIBERS_PRESET:
        props.add("lifecyclestage")
    return props


def watched_properties(config: SyncConfig) -> list[str]:
    """The contact properties whose changes hssync needs as webhooks: the mapped ones, the opt-out
    and the inclusion list's."""
    return sorted(set(ContactFields.from_config(config).hubspot_properties()) | inclusion_properties(config))

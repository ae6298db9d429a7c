"""Contact roles <-> a deal's contacts (DESIGN S8): what one decision of a deal pair adds and removes,
judged against what hssync last left agreed on both sides (the pair's remembered contacts).

A contact is one pair: a Salesforce Contact and the HubSpot contact linked to it. On each side it is
*present* (a contact role of the Opportunity; an association of the deal) or not, and it *was agreed*
when hssync's last sync of the pair left it present on both sides. A decision carries the changes
of one side (``to_hubspot``: the Opportunity's roles are the source; else the deal's contacts):

- present on both sides: agreed;
- present on the source only: added there (not agreed before): added to the target; removed from the
  target (agreed before): left for the target's own change to carry (never added back);
- present on the target only: removed from the source (agreed before): removed from the target;
  added to the target (not agreed before): left for the target's own change;
- present on neither: no longer agreed.

Nothing hssync never synced is removed, and hssync's own writes coming back find the pair agreed.
A pair with no remembered contacts (synced before this rule, or new) adds only what is missing.
``complete=False``: the source's contacts are only those named (changed contact roles), so only
those are judged. A target record several source records stand for (two Contacts linked to one
HubSpot contact) stays while any of them does. The remembered contacts are kept in the link's
``synced`` under :data:`CONTACTS_KEY`, the same list on both sides (``h=s`` pairs, sorted).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from shared.deals.ports import ContactRole

CONTACTS_KEY = "@contacts"  # the link's synced entry of the remembered contacts (no property's name)

Pair = tuple[str, str]  # (HubSpot contact, Salesforce Contact)


def remembered(synced: Mapping[str, tuple[str | None, str | None]] | None) -> frozenset[Pair] | None:
    """The pairs a link remembers as agreed (None: none remembered)."""
    entry = (synced or {}).get(CONTACTS_KEY)
    if entry is None:
        return None
    text = entry[0] if entry[0] is not None else entry[1]
    pairs = (item.partition("=") for item in (text or "").split(",") if item)
    return frozenset((h, s) for h, _, s in pairs if h and s)


def entry_of(pairs: Iterable[Pair]) -> tuple[str | None, str | None]:
    """The link's synced entry for these agreed pairs (both sides hold the same list; none agreed:
    null, never an empty string)."""
    text = ",".join(f"{h}={s}" for h, s in sorted(set(pairs))) or None
    return (text, text)


@dataclass(frozen=True)
class PairContacts:
    """Both sides' contacts of one deal pair, and the contact links between them."""

    roles: Sequence[ContactRole]  # the Opportunity's contact roles, primary first
    associated: Sequence[str]  # the deal's HubSpot contacts
    contact_of: Mapping[str, str]  # Salesforce Contact -> its HubSpot contact
    sf_contact_of: Mapping[str, str]  # HubSpot contact -> its Salesforce Contact (Contacts only)


@dataclass
class ContactChanges:
    """What one decision writes, and the pairs agreed after it."""

    associate: list[tuple[str, str | None]] = field(default_factory=list)  # (HubSpot contact, label)
    dissociate: list[str] = field(default_factory=list)  # HubSpot contacts
    add_roles: list[tuple[str, bool]] = field(default_factory=list)  # (Salesforce Contact, primary)
    delete_roles: list[str] = field(default_factory=list)  # contact role ids
    unsynced: list[str] = field(default_factory=list)  # source contacts without a counterpart
    agreed: set[Pair] = field(default_factory=set)


def decide_contacts(
    contacts: PairContacts,
    known: frozenset[Pair] | None,
    *,
    to_hubspot: bool,
    complete: bool = True,
) -> ContactChanges:
    """The changes carrying the source side's contacts to the target (see the module's rule)."""
    out = ContactChanges(agreed=set(known or ()))
    sourced, out.unsynced = _pairs(contacts, to_hubspot=to_hubspot)
    pairs = sourced + [p for p in sorted(known or ()) if complete and p not in sourced]
    roles = {r.contact_id for r in contacts.roles}
    associated = set(contacts.associated)
    # a target record several source records stand for (two Contacts linked to one contact) stays
    # while any of them does
    kept = {p[1] if not to_hubspot else p[0] for p in sourced}
    for pair in pairs:
        h, s = pair
        source, target = (s in roles, h in associated) if to_hubspot else (h in associated, s in roles)
        if not source and (h if to_hubspot else s) in kept:
            out.agreed.discard(pair)  # its target stays for another source record
            continue
        _judge(out, contacts, pair, (source, target, pair in (known or ())), to_hubspot=to_hubspot)
    return out


def _pairs(contacts: PairContacts, *, to_hubspot: bool) -> tuple[list[Pair], list[str]]:
    """The source side's contacts as pairs (in the source's order), and those without a
    counterpart."""
    pairs: dict[Pair, None] = {}
    unsynced: list[str] = []
    if to_hubspot:
        for role in contacts.roles:
            h = contacts.contact_of.get(role.contact_id)
            if h is None:
                unsynced.append(role.contact_id)
            else:
                pairs[(h, role.contact_id)] = None
    else:
        for h in contacts.associated:
            s = contacts.sf_contact_of.get(h)
            if s is None:
                unsynced.append(h)
            else:
                pairs[(h, s)] = None
    return list(pairs), unsynced


def _judge(
    out: ContactChanges,
    contacts: PairContacts,
    pair: Pair,
    present: tuple[bool, bool, bool],
    *,
    to_hubspot: bool,
) -> None:
    """``present``: on the source, on the target, agreed before."""
    source, target, was = present
    if source and target:
        out.agreed.add(pair)
    elif not source and not target:
        out.agreed.discard(pair)
    elif source and not was:  # added on the source
        _add(out, contacts, pair, to_hubspot=to_hubspot)
        out.agreed.add(pair)
    elif target and was:  # removed from the source
        _remove(out, contacts, pair, to_hubspot=to_hubspot)
        out.agreed.discard(pair)
    # else: removed from / added to the target, carried by the target's own change


def _add(out: ContactChanges, contacts: PairContacts, pair: Pair, *, to_hubspot: bool) -> None:
    h, s = pair
    if to_hubspot:
        if all(h != added for added, _ in out.associate):
            label = next((r.role for r in contacts.roles if r.contact_id == s), None)
            out.associate.append((h, label))
    elif all(s != added for added, _ in out.add_roles):
        primary = not any(r.primary for r in contacts.roles) and not out.add_roles
        out.add_roles.append((s, primary))


def _remove(out: ContactChanges, contacts: PairContacts, pair: Pair, *, to_hubspot: bool) -> None:
    h, s = pair
    if to_hubspot:
        out.dissociate.append(h)
    else:
        out.delete_roles += [r.role_id for r in contacts.roles if r.contact_id == s and r.role_id]

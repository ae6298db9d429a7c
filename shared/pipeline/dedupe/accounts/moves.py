"""Decisions for contacts whose company or Account changed (S13): a HubSpot association change of a
contact, or a Salesforce Contact whose AccountId changed. Each contact pair's Account and primary
company are brought in line (``shared.accounts.associations``); the moves are gathered per company
pair, so each pair's contacts move in one plan and every write is batched by apply. A company
without an Account (or an Account without a company) is left to its own sync, which creates it when
creation allows; its contacts follow once it is linked."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field

from shared.accounts.associations import Changed, Move, decide_association
from shared.accounts.carried import carried_by_company
from shared.ids import salesforce_id18
from shared.models import ChangeEvent, ChangeType
from shared.pipeline.dedupe.accounts.fields import CompanyWrites
from shared.pipeline.dedupe.accounts.people import Person, people_of_links, primary_companies
from shared.pipeline.dedupe.accounts.tools import AccountTools, PairPlan
from shared.pipeline.dedupe.outcome import Decision, Planned, Retry, Skip
from shared.ports import Link
from shared.state.keys import hubspot_record_key

IN_LINE = "contact's company and Account in line"
CARRIED = "contact's company and Account brought in line by its company's plan"
LINK_WAITS = 6  # deferrals (about 12 s) a contact's association waits for its first sync's link
NOT_SYNCED = "contact not synced (no link): its company follows its first sync"


@dataclass
class _Moves:
    event: ChangeEvent
    link: Link
    to_company: list[str] = field(default_factory=list)
    to_account: list[str] = field(default_factory=list)


def awaiting_link(event: ChangeEvent) -> ChangeEvent:
    """A change of a Contact's Account whose contact is not linked yet, as an association change of
    its own (only this part takes it): looked at again once the contact's first sync linked it."""
    if event.change_type is ChangeType.ASSOCIATION:
        return event
    return event.model_copy(
        update={
            "change_type": ChangeType.ASSOCIATION,
            "source_event_id": f"association:{event.source_event_id}",
        }
    )


class Moves:
    def __init__(self, tools: AccountTools) -> None:
        self.tools = tools
        # companies without an Account and Accounts without a company that contacts moved to: the
        # part decides them in the same batch (created when creation allows; the contacts follow)
        self.needs_account: dict[str, ChangeEvent] = {}
        self.needs_company: dict[str, ChangeEvent] = {}

    def decide(
        self, from_hubspot: Mapping[str, ChangeEvent], from_salesforce: Mapping[str, ChangeEvent]
    ) -> Iterator[Decision]:
        state, portal = self.tools.batch.state, self.tools.batch.portal
        by_contact = state.links_by_hubspot(portal, list(dict.fromkeys(from_hubspot)))
        by_record = {
            salesforce_id18(link.sf_id): link
            for link in state.links_by_salesforce(portal, list(dict.fromkeys(from_salesforce))).values()
        }
        linked: dict[str, tuple[Link, ChangeEvent, Changed]] = {}  # by contact: a Contact's change wins
        for contact, event in from_hubspot.items():
            if contact in by_contact:
                linked[contact] = (by_contact[contact], event, "hubspot")
            elif event.attempt < LINK_WAITS:
                yield Retry(event)  # its first sync may be under way: its company follows once linked
            else:
                yield Skip(NOT_SYNCED, hubspot_record_key(contact))
        for sf_id, event in from_salesforce.items():
            link = by_record.get(salesforce_id18(sf_id))
            if link is not None:
                linked[link.hubspot_id] = (link, event, "salesforce")
            elif event.attempt < LINK_WAITS:
                yield Retry(awaiting_link(event))
        yield from self._linked(list(linked.values()))

    def _linked(self, linked: Sequence[tuple[Link, ChangeEvent, Changed]]) -> Iterator[Decision]:
        """The linked contacts' changes: those their company's plan carried answered from its link
        (``shared.accounts.carried``), the others decided with their Contacts' AccountIds."""
        primary = primary_companies(self.tools, list(dict.fromkeys(link.hubspot_id for link, _, _ in linked)))
        by_company = self.tools.links_of_companies(sorted(set(primary.values())))
        undecided: list[tuple[Link, ChangeEvent, Changed]] = []
        for link, event, side in linked:
            if carried_by_company(by_company.get(primary.get(link.hubspot_id, "")), link, event.occurred_at):
                yield Skip(CARRIED, hubspot_record_key(link.hubspot_id))
            else:
                undecided.append((link, event, side))
        people = people_of_links(self.tools, [link for link, _, _ in undecided])
        changed = {link.hubspot_id: (people[link.hubspot_id], event, side) for link, event, side in undecided}
        yield from self._moves(changed, primary, by_company)

    def _moves(
        self,
        changed: Mapping[str, tuple[Person, ChangeEvent, Changed]],
        primary: Mapping[str, str],
        by_company: Mapping[str, Link],
    ) -> Iterator[Decision]:
        accounts = sorted({p.account_id for p, _, _ in changed.values() if p.account_id})
        by_account = self.tools.links_of_accounts(accounts)
        company_of = {salesforce_id18(a): link.hubspot_id for a, link in by_account.items()}
        account_of = {c: salesforce_id18(link.sf_id) for c, link in by_company.items()}
        pairs: dict[str, _Moves] = {}
        for contact, (person, event, side) in changed.items():
            move = decide_association(
                person.sf_object, person.account_id, primary.get(contact), company_of, account_of, side
            )
            link = by_company.get(move.company_id or "") or by_account.get(move.account_id or "")
            if move.move is Move.SET_ACCOUNT and link is not None:
                pairs.setdefault(link.hubspot_id, _Moves(event, link)).to_account.append(person.sf_id)
            elif move.move is Move.SET_COMPANY and link is not None:
                pairs.setdefault(link.hubspot_id, _Moves(event, link)).to_company.append(contact)
            elif move.move is Move.NEEDS_ACCOUNT and move.company_id:
                self.needs_account.setdefault(move.company_id, event)
            elif move.move is Move.NEEDS_COMPANY and move.account_id:
                self.needs_company.setdefault(move.account_id, event)
            else:
                yield Skip(
                    f"{IN_LINE}" if move.move is Move.NONE else move.reason, hubspot_record_key(contact)
                )
        for company, moves in pairs.items():
            decided = PairPlan(
                moves.event,
                company,
                salesforce_id18(moves.link.sf_id),
                CompanyWrites(after=dict(moves.link.synced)),
                moves.link,
                contacts_to_company=tuple(sorted(moves.to_company)),
                contacts_to_account=tuple(sorted(moves.to_account)),
            )
            yield Planned(self.tools.plan(decided))
